"""A source of given lines in chunks of a given size, to run a real pipeline on any chunking."""

from __future__ import annotations

import threading

from toolkit.stream.sources.base import Put, Ready, Source


class ListSource(Source):
    """Lines handed over in chunks of a given size (the pipeline behind it is real)."""

    kind = "list"

    def __init__(self, lines: list[str], chunk: int) -> None:
        super().__init__()
        self.lines, self.chunk = lines, chunk

    @property
    def finite(self) -> bool:
        return True

    def run(self, put: Put, stop: threading.Event, ready: Ready) -> None:
        for i in range(0, len(self.lines), self.chunk):
            if stop.is_set():
                return
            put(self.lines[i : i + self.chunk], 0, None)
