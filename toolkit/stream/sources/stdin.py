"""The stdin source: lines piped into the command, until the pipe closes."""

from __future__ import annotations

import os
import select
import sys
import threading

from toolkit.lines import LineSplitter
from toolkit.stream.sources.base import READ_SIZE, Put, Ready, Source

__all__ = ["StdinSource", "read_fd"]


class StdinSource(Source):
    """Lines from standard input (``-``); finite: it ends when the writer closes the pipe."""

    kind = "stdin"

    @property
    def finite(self) -> bool:
        return True

    def run(self, put: Put, stop: threading.Event, ready: Ready) -> None:
        read_fd(sys.stdin.fileno(), put, stop, self.max_line_bytes)


def read_fd(fd: int, put: Put, stop: threading.Event, max_line_bytes: int) -> None:
    """Read lines from a file descriptor until it ends, waking up to notice ``stop``."""
    splitter = LineSplitter(max_line_bytes)
    while not stop.is_set():
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            continue
        data = os.read(fd, READ_SIZE)
        if not data:
            break
        lines, bad = splitter.feed(data)
        if lines or bad:
            put(lines, bad, None)
    lines, bad = splitter.finish()
    if lines or bad:
        put(lines, bad, None)
