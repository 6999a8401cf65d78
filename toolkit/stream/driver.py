"""The driver: the one loop that feeds a stream's pipeline from its inputs, in arrival order.

A stream has one or more *inputs*, each a named source (a *side*) with its own
reader thread, position and watermark.  Each :meth:`Driver.step` takes what the
inputs handed over (waiting up to the next clock tick), emits it into the
pipeline as a :class:`~toolkit.stream.messages.Chunk` of its side, and only then
marks the source's position (the checkpoint's "this is in the state").  It emits
a :class:`~toolkit.stream.messages.Tick` when windows may close by the clock or
while nothing comes, tells the pipeline when one input ends while others go on,
and says when no more will come.  The pipeline's thread
(:class:`~toolkit.stream.pipeline.WindowedStream`) and ``Stream.from_lines`` on
an event loop (:mod:`toolkit.stream.sources.event_loop`) both run it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import Any

from toolkit.stream.messages import Chunk, Tick
from toolkit.stream.reader import Read, SourceReader
from toolkit.stream.sources.base import Ready, Source

__all__ = ["POLL", "Driver"]

POLL = 0.2  # seconds between ticks when nothing arrives


class Driver:
    """Feed ``emit`` from the named ``sources``: chunks by side, clock ticks, inputs' ends.

    Parameters
    ----------
    sources
        Input name -> source (see :func:`toolkit.stream.sources.parse_sources`).
    emit
        Called with each message, in order (a pipeline's head ``emit``).
    clock
        Seconds since the epoch (processing time); tests pass their own.
    tick_every
        Seconds between aligned ticks (a window may close at each); None: none.
    idle_ticks
        Also emit a Tick whenever a wait ends with nothing (lets finished cluster
        batches through, and an event-time stream's idle timeout run).
    queue_size
        Chunks buffered between the sources and the pipeline.

    Examples
    --------
    >>> from toolkit.stream.sources import parse_source
    >>> out = []
    >>> d = Driver({"a": parse_source("demo:?rate=100000&lines=3"),
    ...             "b": parse_source("demo:?rate=100000&lines=2")}, out.append)
    >>> d.start()
    >>> while d.step():
    ...     pass
    >>> d.ended, sorted((c.side, len(c.lines)) for c in out if isinstance(c, Chunk) and c.lines)
    (True, [('a', 3), ('b', 2)])
    """

    def __init__(
        self,
        sources: Mapping[str, Source],
        emit: Callable[[Any], Any],
        *,
        clock: Callable[[], float] = time.time,
        tick_every: float | None = None,
        idle_ticks: bool = True,
        queue_size: int = 8,
    ) -> None:
        self.reader = SourceReader(sources, queue_size=queue_size)
        self.sources = self.reader.sources
        self.emit = emit
        self.clock = clock
        self.tick_every = tick_every
        self.idle_ticks = idle_ticks
        self._next_tick = math.inf
        self.took = False  # whether the last step took anything from the inputs

    @property
    def ended(self) -> bool:
        """Whether every input ended by itself (rather than the stream being stopped)."""
        return self.reader.done

    @property
    def error(self) -> BaseException | None:
        """What a source raised, if one failed (the stream then stops)."""
        return self.reader.error

    def start(self, ready: Ready | None = None) -> None:
        """Start every input's reader; ``ready(address)`` once a network source listens."""
        self._next_tick = self._tick_after(self.clock())
        self.reader.start(ready)

    def step(self, timeout: float | None = None) -> bool:
        """Take what arrived and emit it; False once no more will come.

        Waits up to ``timeout`` seconds (by default until the next tick, at most
        :data:`POLL`; 0: not at all).  No more comes once every input has ended,
        or the stream is stopping and nothing arrived.
        """
        if timeout is None:
            timeout = min(POLL, max(0.0, self._next_tick - self.clock()))
        item = self.reader.get(timeout=timeout)
        self.took = item is not None
        now = self.clock()
        if now >= self._next_tick:
            self.emit(Tick(now))
            self._next_tick = self._tick_after(now)
        if item is None:
            if self.idle_ticks:
                self.emit(Tick(now))
        elif item.end:
            if not self.reader.done:  # the others go on; the last one's end is the stream's
                self.emit(Chunk([], now, side=item.side, ended=True))
        else:
            self._take(item, now)
        return not (self.reader.done or (item is None and self.stopping))

    def _take(self, item: Read, now: float) -> None:
        self.emit(Chunk(item.lines, now, item.bad, side=item.side))
        source = self.sources[item.side]
        for position in (*item.earlier, item.position):  # only now is it in the pipeline's state
            source.mark(position)

    @property
    def stopping(self) -> bool:
        """Whether the stream was asked to stop (or an input failed)."""
        return self.reader.stop_event.is_set()

    def stop(self) -> None:
        """Ask every input to stop reading (thread-safe)."""
        self.reader.stop()

    def wake(self) -> None:
        """Make a waiting :meth:`step` return now (thread-safe): a cluster batch is back."""
        self.reader.wake()

    def finish(self) -> None:
        """Stop the inputs and emit what they handed over meanwhile (it is still counted)."""
        self.reader.stop()
        self.reader.join(timeout=5)
        for rest in self.reader.rest():
            self._take(rest, self.clock())

    # -- checkpoints: every input's position, by name ---------------------------------------
    def describe(self) -> dict[str, str]:
        """Each input's source, as a checkpoint's identity names it."""
        return {side: source.describe() for side, source in self.sources.items()}

    def snapshot(self) -> dict[str, Any]:
        """Each input's position (JSON-able)."""
        return {side: source.snapshot() for side, source in self.sources.items()}

    def restore(self, positions: Mapping[str, Any]) -> None:
        """Start each input from its checkpointed position (before :meth:`start`)."""
        for side, source in self.sources.items():
            source.restore(positions.get(side))

    def commit(self) -> None:
        """The last snapshot is durable: brokers may forget what it holds."""
        for source in self.sources.values():
            source.commit()

    def _tick_after(self, now: float) -> float:
        if self.tick_every is None:
            return math.inf
        return (math.floor(now / self.tick_every) + 1) * self.tick_every
