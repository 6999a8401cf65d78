"""``Stream.from_lines``: any toolkit source as a ``streamz.Source``, on an event loop."""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from typing import Any

import streamz

from toolkit.lines import DEFAULT_MAX_LINE_BYTES
from toolkit.stream.registration import register_node
from toolkit.stream.sources import parse_source
from toolkit.stream.sources.base import Source

__all__ = ["from_lines"]


class from_lines(streamz.Source):
    """A streamz source of :class:`~toolkit.stream.windows.Chunk` from any toolkit source.

    For pipelines that run on an event loop: it emits chunks of lines as they
    arrive, a :class:`~toolkit.stream.windows.Tick` every ``tick`` seconds (so
    processing-time windows close on time), and :class:`~toolkit.stream.windows.End`
    when a finite source ends, after which the source stops.

    Examples
    --------
    >>> from streamz import Stream
    >>> s = Stream.from_lines("demo:?rate=1000&lines=10")
    >>> type(s).__name__, s.source.kind
    ('from_lines', 'demo')
    """

    def __init__(
        self,
        spec: str | Source,
        *,
        follow: bool = False,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
        tick: float = 0.2,
        queue_size: int = 8,
        **kwargs: Any,
    ) -> None:
        self.source = (
            spec
            if isinstance(spec, Source)
            else parse_source(spec, follow=follow, max_line_bytes=max_line_bytes)
        )
        self.tick = tick
        self._queue: queue.Queue[tuple[str, list[str], int]] = queue.Queue(maxsize=queue_size)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_tick = 0.0
        super().__init__(**kwargs)

    def _put(self, lines: list[str], bad: int, position: Any = None) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(("chunk", lines, bad), timeout=0.1)
                return
            except queue.Full:
                continue

    def _read(self) -> None:
        try:
            self.source.run(self._put, self._stop, lambda address: None)
        finally:
            self._queue.put(("end", [], 0))

    def stop(self) -> None:
        """Stop polling and the reading thread."""
        self._stop.set()
        super().stop()

    async def _run(self) -> None:
        from toolkit.stream.windows import Chunk, End, Tick

        if self._thread is None:
            self._thread = threading.Thread(
                target=self._read, name="toolkit-from-lines", daemon=True
            )
            self._thread.start()
        now = time.time()
        if now >= self._next_tick:
            self._next_tick = now + self.tick
            await asyncio.gather(*self._emit(Tick(now)))
        try:
            kind, lines, bad = self._queue.get_nowait()
        except queue.Empty:
            await asyncio.sleep(min(0.02, self.tick))
            return
        if kind == "end":
            await asyncio.gather(*self._emit(End()))
            super().stop()
            return
        await asyncio.gather(*self._emit(Chunk(lines, time.time(), bad)))


register_node(from_lines, staticmethod)
