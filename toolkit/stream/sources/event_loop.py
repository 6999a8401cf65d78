"""``Stream.from_lines``: any toolkit source as a ``streamz.Source``, on an event loop."""

from __future__ import annotations

import asyncio
from typing import Any

import streamz

from toolkit.lines import DEFAULT_MAX_LINE_BYTES
from toolkit.stream.driver import Driver
from toolkit.stream.messages import End
from toolkit.stream.registration import register_node
from toolkit.stream.sources import Sources, parse_sources
from toolkit.stream.sources.base import Source

__all__ = ["from_lines"]


class from_lines(streamz.Source):
    """A streamz source of :class:`~toolkit.stream.messages.Chunk` from toolkit sources.

    For pipelines that run on an event loop: the stream's
    :class:`~toolkit.stream.driver.Driver` run a step at a time, so it emits
    chunks of lines as they arrive (from one source, or several as named
    inputs), a :class:`~toolkit.stream.messages.Tick` every ``tick`` seconds
    (so processing-time windows close on time), and
    :class:`~toolkit.stream.messages.End` when every input of a finite source
    has ended, after which the source stops.

    Examples
    --------
    >>> from streamz import Stream
    >>> s = Stream.from_lines("demo:?rate=1000&lines=10")
    >>> type(s).__name__, s.source.kind, list(s.sources)
    ('from_lines', 'demo', ['main'])
    """

    def __init__(
        self,
        spec: str | Source | Sources,
        *,
        follow: bool = False,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
        tick: float = 0.2,
        queue_size: int = 8,
        **kwargs: Any,
    ) -> None:
        self.sources = parse_sources(spec, follow=follow, max_line_bytes=max_line_bytes)
        self.source = next(iter(self.sources.values()))
        self.tick = tick
        self._pending: list[Any] = []  # what emitting a step's messages is waiting on
        self.driver = Driver(
            self.sources,
            self._emit_now,
            tick_every=tick,
            idle_ticks=False,
            queue_size=queue_size,
        )
        self._started_reading = False
        super().__init__(**kwargs)

    def stop(self) -> None:
        """Stop polling and the reading threads (chunks not emitted yet are dropped)."""
        self.driver.stop()
        super().stop()

    async def _run(self) -> None:
        if not self._started_reading:
            self._started_reading = True
            self.driver.start()
        more = self.driver.step(timeout=0)
        await self._flush()
        if not more:
            if self.driver.ended:
                self._emit_now(End())
                await self._flush()
            super().stop()
            return
        await asyncio.sleep(0 if self.driver.took else min(0.02, self.tick))

    def _emit_now(self, message: Any) -> None:
        self._pending.extend(self._emit(message))

    async def _flush(self) -> None:
        pending, self._pending = self._pending, []
        await asyncio.gather(*pending)


register_node(from_lines, staticmethod)
