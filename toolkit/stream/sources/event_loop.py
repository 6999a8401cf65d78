"""``Stream.from_lines``: any toolkit source as a ``streamz.Source``, on an event loop."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import streamz

from toolkit.lines import DEFAULT_MAX_LINE_BYTES
from toolkit.stream.messages import Chunk, End, Tick
from toolkit.stream.reader import END, SourceReader
from toolkit.stream.registration import register_node
from toolkit.stream.sources import parse_source
from toolkit.stream.sources.base import Source

__all__ = ["from_lines"]


class from_lines(streamz.Source):
    """A streamz source of :class:`~toolkit.stream.messages.Chunk` from any toolkit source.

    For pipelines that run on an event loop: it emits chunks of lines as they
    arrive, a :class:`~toolkit.stream.messages.Tick` every ``tick`` seconds (so
    processing-time windows close on time), and :class:`~toolkit.stream.messages.End`
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
        self.reader = SourceReader(self.source, queue_size=queue_size)  # as the pipeline's
        self._started_reading = False
        self._next_tick = 0.0
        super().__init__(**kwargs)

    def stop(self) -> None:
        """Stop polling and the reading thread (chunks not emitted yet are dropped)."""
        self.reader.stop()
        super().stop()

    async def _run(self) -> None:
        if not self._started_reading:
            self._started_reading = True
            self.reader.start()
        now = time.time()
        if now >= self._next_tick:
            self._next_tick = now + self.tick
            await asyncio.gather(*self._emit(Tick(now)))
        item = self.reader.get(timeout=0)
        if item is None:
            await asyncio.sleep(min(0.02, self.tick))
            return
        if item is END:
            await asyncio.gather(*self._emit(End()))
            super().stop()
            return
        await asyncio.gather(*self._emit(Chunk(item.lines, time.time(), item.bad)))
        self.source.mark(item.position)


register_node(from_lines, staticmethod)
