"""Cutting a byte stream into lines: the one definition of a line for every stream source.

A line ends at ``\\n`` (a ``\\r`` before it is dropped).  A line that is not
valid UTF-8, or longer than ``max_line_bytes``, is *bad*: dropped and counted,
without touching the lines around it.  An over-long line is never held whole:
its bytes are counted and dropped as they arrive, until its newline.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator, Sequence
from typing import Any

__all__ = ["DEFAULT_MAX_LINE_BYTES", "LineBlock", "LineSplitter", "cut_lines", "lines_of"]

#: Lines longer than this (in bytes) are bad unless the user sets another limit.
DEFAULT_MAX_LINE_BYTES = 2**20

#: Blocks at least this large are checked and counted with compiled array code, and pickled
#: out of band.
_BULK = 64 * 1024


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


class LineBlock(Sequence[str]):
    """Whole lines handed over together, kept as the UTF-8 text they came in.

    ``data`` holds ``n_lines`` lines joined by ``\\n`` (no newline after the last;
    ``\\r`` before a newline already dropped), valid UTF-8: a stream's chunk
    travels from its source to the worker that reads its records as this one
    object, with no Python object per line on the way.  Blocks taken together
    (:meth:`joined`) keep their pieces (:attr:`parts`) and join them only when
    ``data`` is asked for, so a batch can travel as the pieces it was read in.
    It is also a sequence of the lines as ``str``, made when first asked for.

    Examples
    --------
    >>> block = LineBlock.of(["a b", "", "ç"])
    >>> len(block), block.data, block[2], list(block + LineBlock.of(["d"]))
    (3, b'a b\\n\\n\\xc3\\xa7', 'ç', ['a b', '', 'ç', 'd'])
    """

    __slots__ = ("_data", "_lines", "n_lines", "parts")

    def __init__(self, data: bytes, n_lines: int, *, parts: tuple[bytes, ...] = ()) -> None:
        self._data: bytes | None = data if not parts else None
        self.parts: tuple[bytes, ...] = parts or ((data,) if n_lines else ())
        self.n_lines = n_lines
        self._lines: list[str] | None = None

    @property
    def data(self) -> bytes:
        """The lines joined by ``\\n``, as UTF-8."""
        if self._data is None:
            self._data = b"\n".join(self.parts)
        return self._data

    @property
    def size(self) -> int:
        """Bytes of :attr:`data` (without joining the parts)."""
        return sum(map(len, self.parts)) + max(len(self.parts) - 1, 0)

    @classmethod
    def of(cls, lines: Sequence[str]) -> LineBlock:
        """``lines`` as a block (a block is itself)."""
        if isinstance(lines, LineBlock):
            return lines
        return cls("\n".join(lines).encode("utf-8"), len(lines))

    @classmethod
    def joined(cls, blocks: Sequence[Sequence[str]]) -> LineBlock:
        """The lines of ``blocks`` (blocks or lists of lines), one after another, as one block."""
        parts = [b for b in map(cls.of, blocks) if b.n_lines]
        if len(parts) == 1:
            return parts[0]
        pieces = tuple(piece for b in parts for piece in b.parts)
        return cls(b"", sum(b.n_lines for b in parts), parts=pieces)

    @property
    def text(self) -> str:
        """The lines joined by ``\\n``."""
        return self.data.decode("utf-8")

    def lines(self) -> list[str]:
        """The lines, as a list of ``str``."""
        if self._lines is None:
            self._lines = self.text.split("\n") if self.n_lines else []
        return self._lines

    def __len__(self) -> int:
        return self.n_lines

    def __iter__(self) -> Iterator[str]:
        return iter(self.lines())

    def __getitem__(self, i: Any) -> Any:
        return self.lines()[i]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LineBlock):
            return self.n_lines == other.n_lines and self.data == other.data
        return isinstance(other, list) and self.lines() == other

    __hash__ = None  # type: ignore[assignment]

    def __add__(self, other: Sequence[str]) -> LineBlock:
        other = LineBlock.of(other)
        if not other.n_lines:
            return self
        if not self.n_lines:
            return other
        return LineBlock(self.data + b"\n" + other.data, self.n_lines + other.n_lines)

    def __radd__(self, other: Sequence[str]) -> LineBlock:
        return LineBlock.of(other) + self

    def __repr__(self) -> str:
        return f"LineBlock({self.n_lines} lines, {len(self.data)} bytes)"

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:
        """A large block pickles its pieces as buffers of their own (protocol 5): out of
        band, dask sends each as a frame, neither joined nor copied into the pickle."""
        if isinstance(protocol, int) and protocol >= 5 and self.size >= _BULK:
            return (_of_parts, (tuple(map(pickle.PickleBuffer, self.parts)), self.n_lines))
        return (LineBlock, (self.data, self.n_lines))


def _of_parts(parts: tuple[Any, ...], n_lines: int) -> LineBlock:
    """A block of pieces that came as buffers (bytes when pickled in band)."""
    return LineBlock(b"", n_lines, parts=parts) if parts else LineBlock(b"", 0)


#: No lines.
EMPTY = LineBlock(b"", 0)


def _within(data: bytes, limit: int) -> bool:
    """Whether no line of ``data`` is longer than ``limit`` bytes (a few searches a block)."""
    pos, end = 0, len(data)
    while end - pos > limit:
        newline = data.rfind(b"\n", pos, pos + limit + 1)
        if newline < 0:
            return False
        pos = newline + 1
    return True


def _utf8(data: bytes) -> bool:
    """Whether ``data`` is valid UTF-8 (without making a ``str`` of a large block)."""
    if data.isascii():
        return True
    if len(data) >= _BULK:
        import numpy as np
        import pyarrow as pa

        offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int32))
        try:
            pa.StringArray.from_buffers(1, offsets, pa.py_buffer(data)).validate(full=True)
        except pa.ArrowInvalid:
            return False
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _count_lines(data: bytes) -> int:
    """How many lines ``data`` holds (newlines plus one)."""
    if len(data) < _BULK:
        return data.count(b"\n") + 1
    import numpy as np

    return int(np.count_nonzero(np.frombuffer(data, dtype=np.uint8) == 10)) + 1


class LineSplitter:
    """Cut a byte stream into blocks of whole lines, dropping (and counting) bad ones.

    A block of good lines is handed on as the bytes it came in (a
    :class:`LineBlock`): checked for UTF-8 and for line lengths in bulk, with
    no object made per line.

    Examples
    --------
    >>> s = LineSplitter(max_line_bytes=8)
    >>> lines, bad = s.feed(b"ok\\nbad \\xff\\nfar too long line\\npart")
    >>> list(lines), bad
    (['ok'], 2)
    >>> list(s.feed(b"ial\\n")[0]), s.finish() == ([], 0)
    (['partial'], True)
    """

    def __init__(self, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> None:
        self.max_line_bytes = max_line_bytes
        self.carry = b""
        self.discarding = False  # inside an over-long line: drop until its newline
        self.discarded = 0  # bytes of that line dropped so far

    def held(self) -> int:
        """Bytes fed but not yet handed out as lines (the start of an unfinished line)."""
        return self.discarded if self.discarding else len(self.carry)

    def feed(self, data: bytes) -> tuple[LineBlock, int]:
        bad = 0
        cut = data.rfind(b"\n")
        if cut < 0:
            self._grow(data)
            return EMPTY, 0
        # one copy of the lines: the carry and this read's whole lines, joined
        head = b"".join((self.carry, memoryview(data)[:cut])) if self.carry else data[:cut]
        self.carry, tail = b"", data[cut + 1 :]
        if self.discarding:
            nl = head.find(b"\n")
            head = head[nl + 1 :] if nl >= 0 else b""
            self.discarding = False
            self.discarded = 0
            bad += 1
            if nl < 0:
                self._grow(tail)
                return EMPTY, bad
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

    def _decode(self, data: bytes) -> tuple[LineBlock, int]:
        limit = self.max_line_bytes
        if _utf8(data) and _within(data, limit):  # the common case: every line good
            if b"\r" in data:
                data = data.replace(b"\r\n", b"\n")
                data = data[:-1] if data.endswith(b"\r") else data
            return LineBlock(data, _count_lines(data)), 0
        good, bad = [], 0
        for raw in data.split(b"\n"):
            if len(raw) > limit:
                bad += 1
                continue
            try:
                good.append(raw.decode("utf-8").removesuffix("\r"))
            except UnicodeDecodeError:
                bad += 1
        return LineBlock.of(good), bad

    def finish(self, *, partial_is_bad: bool = False) -> tuple[LineBlock, int]:
        """The last line if it had no newline (bad instead when ``partial_is_bad``)."""
        carry, self.carry = self.carry, b""
        if self.discarding:
            self.discarding = False
            self.discarded = 0
            return EMPTY, 1
        if not carry:
            return EMPTY, 0
        if partial_is_bad:
            return EMPTY, 1
        return self._decode(carry)
