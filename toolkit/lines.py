"""Cutting a byte stream into lines: the one definition of a line for every stream source.

A line ends at ``\\n`` (a ``\\r`` before it is dropped).  A line that is not
valid UTF-8, or longer than ``max_line_bytes``, is *bad*: dropped and counted,
without touching the lines around it.  An over-long line is never held whole:
its bytes are counted and dropped as they arrive, until its newline.
"""

from __future__ import annotations

__all__ = ["DEFAULT_MAX_LINE_BYTES", "LineSplitter", "cut_lines", "lines_of"]

#: Lines longer than this (in bytes) are bad unless the user sets another limit.
DEFAULT_MAX_LINE_BYTES = 2**20


def cut_lines(text: str) -> list[str]:
    """The lines of ``text``, lines joined by ``\\n`` with no newline after the last.

    Examples
    --------
    >>> cut_lines("a\\r\\nb\\n"), cut_lines("one")
    (['a', 'b', ''], ['one'])
    """
    lines = text.split("\n")
    if "\r" not in text:  # the common case: no line to trim
        return lines
    return [x.removesuffix("\r") for x in lines]


def lines_of(text: str) -> list[str]:
    """The lines of ``text``, each ended by a newline (the last one may lack it).

    Examples
    --------
    >>> lines_of("a\\r\\nb\\n"), lines_of("a\\n\\nb"), lines_of("")
    (['a', 'b'], ['a', '', 'b'], [])
    """
    if not text:
        return []
    return cut_lines(text[:-1] if text.endswith("\n") else text)


class LineSplitter:
    """Cut a byte stream into decoded lines, dropping (and counting) bad ones.

    Examples
    --------
    >>> s = LineSplitter(max_line_bytes=8)
    >>> s.feed(b"ok\\nbad \\xff\\nfar too long line\\npart")
    (['ok'], 2)
    >>> s.feed(b"ial\\n"), s.finish()
    ((['partial'], 0), ([], 0))
    """

    def __init__(self, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> None:
        self.max_line_bytes = max_line_bytes
        self.carry = b""
        self.discarding = False  # inside an over-long line: drop until its newline
        self.discarded = 0  # bytes of that line dropped so far

    def held(self) -> int:
        """Bytes fed but not yet handed out as lines (the start of an unfinished line)."""
        return self.discarded if self.discarding else len(self.carry)

    def feed(self, data: bytes) -> tuple[list[str], int]:
        bad = 0
        cut = data.rfind(b"\n")
        if cut < 0:
            self._grow(data)
            return [], 0
        head, self.carry, tail = self.carry + data[:cut], b"", data[cut + 1 :]
        if self.discarding:
            nl = head.find(b"\n")
            head = head[nl + 1 :] if nl >= 0 else b""
            self.discarding = False
            self.discarded = 0
            bad += 1
            if nl < 0:
                self._grow(tail)
                return [], bad
        lines, more_bad = self._decode(head)
        self._grow(tail)
        return lines, bad + more_bad

    def _grow(self, data: bytes) -> None:
        if self.discarding:
            self.discarded += len(data)
            return
        self.carry += data
        if len(self.carry) > self.max_line_bytes:
            self.discarded = len(self.carry)
            self.carry = b""
            self.discarding = True

    def _decode(self, data: bytes) -> tuple[list[str], int]:
        limit = self.max_line_bytes
        try:
            lines = cut_lines(data.decode("utf-8"))
            if limit >= len(data) or all(len(x) * 4 <= limit for x in lines):
                return lines, 0
        except UnicodeDecodeError:
            pass
        good, bad = [], 0
        for raw in data.split(b"\n"):
            if len(raw) > limit:
                bad += 1
                continue
            try:
                good.append(raw.decode("utf-8").removesuffix("\r"))
            except UnicodeDecodeError:
                bad += 1
        return good, bad

    def finish(self, *, partial_is_bad: bool = False) -> tuple[list[str], int]:
        """The last line if it had no newline (bad instead when ``partial_is_bad``)."""
        carry, self.carry = self.carry, b""
        if self.discarding:
            self.discarding = False
            self.discarded = 0
            return [], 1
        if not carry:
            return [], 0
        if partial_is_bad:
            return [], 1
        return self._decode(carry)
