"""Output files that a checkpoint can roll back: exactly-once lines after a crash.

An :class:`OutputFile` appends whole lines.  At a checkpoint it is flushed and
synced and its length goes into the checkpoint; on resume it is cut back to
that length before the stream replays from the checkpoint's position.  The
windows written after the checkpoint (and any half-written last line) are
removed, then written again by the replay: every window appears once, whole.
"""

from __future__ import annotations

import json
import os
from typing import IO

from toolkit.errors import OutputError
from toolkit.stream.messages import WindowResult

__all__ = ["OutputFile", "window_line"]


def window_line(result: WindowResult) -> str:
    """One window result as the JSON line every sink writes.

    Examples
    --------
    >>> window_line(WindowResult(0, 10, 1, 2, [("a", 2)]))
    '{"start": 0, "end": 10, "lines": 1, "words": 2, "top": [["a", 2]]}\\n'
    """
    return json.dumps(result.to_dict(), ensure_ascii=False) + "\n"


class OutputFile:
    """A file of lines that can be synced and truncated back to a checkpointed length.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "out.jsonl")
    >>> sink = OutputFile(path)
    >>> sink.write("one\\n"); size = sink.sync(); sink.write("two\\n")
    >>> sink.restore(size); sink.write("three\\n"); sink.close()
    >>> open(path).read()
    'one\\nthree\\n'
    """

    def __init__(self, path: str) -> None:
        self.path = path
        try:
            # appending keeps what an earlier run wrote until restore() decides
            self.file: IO[bytes] = open(path, "ab")  # noqa: SIM115
        except OSError as exc:
            raise OutputError(f"cannot write {path!r}: {exc.strerror}") from None

    def write(self, text: str) -> None:
        """Append ``text`` (whole lines) and flush, so readers see whole lines."""
        try:
            self.file.write(text.encode("utf-8"))
            self.file.flush()
        except OSError as exc:
            raise OutputError(f"cannot write {self.path!r}: {exc.strerror}") from None

    def size(self) -> int:
        """Bytes in the file now (what earlier runs left, until :meth:`restore`, counts)."""
        try:
            self.file.flush()
            return os.fstat(self.file.fileno()).st_size
        except OSError as exc:
            raise OutputError(f"cannot write {self.path!r}: {exc.strerror}") from None

    def sync(self) -> int:
        """Make what was written durable; its length, for a checkpoint."""
        try:
            self.file.flush()
            os.fsync(self.file.fileno())
            # the file's size, not tell(): after a truncate that is the old end until a write
            return os.fstat(self.file.fileno()).st_size
        except OSError as exc:
            raise OutputError(f"cannot sync {self.path!r}: {exc.strerror}") from None

    def restore(self, size: int | None) -> None:
        """Cut the file back to ``size`` bytes (its length at a checkpoint; None: empty)."""
        if size is not None and not isinstance(size, int):
            raise OutputError(
                f"the checkpoint's output was a Parquet dataset, not the file {self.path!r}: "
                "write the same output as the checkpointed run, or start over without it"
            )
        self.file.flush()
        current = os.fstat(self.file.fileno()).st_size
        if size is not None and current < size:
            raise OutputError(
                f"{self.path} has {current} bytes but had {size} at the checkpoint: it was "
                "changed outside the stream; restore it or start over without the checkpoint"
            )
        self.file.truncate(size or 0)
        self.file.seek(0, os.SEEK_END)

    def close(self) -> None:
        self.file.close()
