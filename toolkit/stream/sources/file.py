"""The file source: a file read to its end or, with ``follow``, kept reading like ``tail -F``.

Replayable: each chunk carries the position after it (the file's device and
inode, and the byte offset where the next unread line starts), so a checkpoint
resumes at the same byte, also across a rotation.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import warnings
from typing import Any

from toolkit.errors import ConfigError
from toolkit.lines import DEFAULT_MAX_LINE_BYTES, LineSplitter
from toolkit.stream.sources.base import READ_SIZE, Put, Ready, Source, SourceWarning

__all__ = ["FileSource"]


class FileSource(Source):
    """Lines of the file at ``path``; with ``follow``, lines appended to it as they come.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "app.log")
    >>> _ = open(path, "w").write("one line\\n")
    >>> FileSource(path, follow=True).finite
    False
    """

    kind = "file"
    replayable = True

    def __init__(
        self, path: str, *, follow: bool = False, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
    ) -> None:
        if not os.path.isfile(path):
            raise ConfigError(f"no such file: {path!r}")
        super().__init__(max_line_bytes=max_line_bytes)
        self.path = path
        self.follow = follow

    @property
    def finite(self) -> bool:
        return not self.follow

    def describe(self) -> str:
        return os.path.abspath(self.path)

    def run(self, put: Put, stop: threading.Event, ready: Ready) -> None:
        """Read a file to its end; with ``follow``, keep reading appended lines, like ``tail -F``.

        Each chunk carries the position after it: the file's identity (device,
        inode) and the byte offset where the next unread line starts.
        """
        path, follow = self.path, self.follow
        splitter = LineSplitter(self.max_line_bytes)
        f = open(path, "rb")  # noqa: SIM115  (reopened on rotation)
        try:
            ident = os.fstat(f.fileno())
            offset = 0
            if self.resume_from is not None:
                old, offset = _resume_file(path, ident, self.resume_from)
                if old is not None:  # rotated since the checkpoint: finish the old file first
                    with old:
                        rest_lines, rest_bad = splitter.feed(old.read())
                        last, last_bad = splitter.finish()
                    put(rest_lines + last, rest_bad + last_bad, _file_position(path, ident, 0))
                f.seek(offset)

            def position() -> dict[str, Any]:
                return _file_position(path, ident, offset - splitter.held())

            while not stop.is_set():
                data = f.read(READ_SIZE)
                if data:
                    offset += len(data)
                    lines, bad = splitter.feed(data)
                    if lines or bad:
                        put(lines, bad, position())
                    continue
                if not follow:
                    break
                # at the end: wait for more, and notice truncation or replacement
                time.sleep(0.05)
                try:
                    st = os.stat(path)
                except FileNotFoundError:
                    continue  # being replaced: keep what we have open until it reappears
                if (st.st_dev, st.st_ino) != (ident.st_dev, ident.st_ino):
                    rest = f.read()  # lines written to the old file before the switch
                    lines, bad = splitter.feed(rest)
                    tail_lines, tail_bad = splitter.finish()
                    f.close()
                    f = open(path, "rb")  # noqa: SIM115
                    ident, offset = os.fstat(f.fileno()), 0
                    if lines or bad or tail_lines or tail_bad:
                        put(lines + tail_lines, bad + tail_bad, position())
                elif st.st_size < f.tell():  # truncated in place
                    f.seek(0)
                    offset = 0
            lines, bad = splitter.finish()
            if lines or bad:
                put(lines, bad, _file_position(path, ident, offset))
        finally:
            f.close()


def _file_position(path: str, ident: os.stat_result, offset: int) -> dict[str, Any]:
    return {"path": path, "dev": ident.st_dev, "ino": ident.st_ino, "offset": offset}


def _resume_file(path: str, ident: os.stat_result, start: dict[str, Any]) -> tuple[Any, int]:
    """Where to resume ``path`` from a checkpointed position: (old file to finish first, offset).

    The same file (device and inode) resumes at the saved offset.  A file
    rotated since (renamed in the same directory) is found by its inode and
    finished first; then the new file is read from its start.
    """
    offset = int(start["offset"])
    if (ident.st_dev, ident.st_ino) == (start["dev"], start["ino"]):
        if ident.st_size < offset:
            warnings.warn(
                f"{path} is shorter ({ident.st_size} bytes) than at the checkpoint "
                f"(byte {offset}): it was truncated; reading it from its start",
                SourceWarning,
                stacklevel=2,
            )
            return None, 0
        return None, offset
    directory = os.path.dirname(os.path.abspath(path))
    for entry in os.scandir(directory):
        with contextlib.suppress(OSError):
            st = entry.stat(follow_symlinks=False)
            if (st.st_dev, st.st_ino) == (start["dev"], start["ino"]) and entry.is_file():
                old = open(entry.path, "rb")  # noqa: SIM115  (closed by the caller)
                old.seek(offset)
                return old, 0
    warnings.warn(
        f"{path} was replaced since the checkpoint and the old file is gone: its lines after "
        f"byte {offset} were not read; reading the new file from its start",
        SourceWarning,
        stacklevel=2,
    )
    return None, 0
