"""Event-time windows: ``length`` seconds every ``slide`` seconds of a time inside each record.

Windows close by the watermark (see :mod:`toolkit.stream.eventtime`); each
chunk is shipped whole and parsed where it is folded
(:class:`~toolkit.stream.eventwindows.TimedBatch`), then settled here, in
arrival order.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from toolkit.stream.eventtime import EventTimeSpec
from toolkit.stream.eventwindows import FAR_PAST, Timed, TimedBatch, shipped
from toolkit.stream.kinds.base import TimeShaped, length_and_slide, restored
from toolkit.stream.messages import Chunk, End, PaneBatch, Panes, Tick
from toolkit.stream.panes import time_pane_sizes
from toolkit.stream.windows import ClosedWindow

__all__ = ["EventTimeWindowing", "EventTimeWindows"]


@dataclass(frozen=True)
class EventTimeWindows(TimeShaped):
    """Windows of ``length`` seconds sliding by ``slide`` (tumbling when None), by event time.

    Examples
    --------
    >>> spec = EventTimeSpec("ts", text_field="text")
    >>> EventTimeWindows(60, 10, spec).to_dict()["kind"]
    'event-time'
    """

    length: float
    slide: float | None
    events: EventTimeSpec

    name: ClassVar[str] = "event-time"
    event_time: ClassVar[bool | None] = True

    @classmethod
    def from_options(
        cls, value: Any, *, every: Any, events: EventTimeSpec | None, records: str
    ) -> EventTimeWindows:
        assert events is not None
        return cls(*length_and_slide(value, every), events)

    def logic(self, state: dict[str, Any] | None = None) -> EventTimeWindowing:
        e = self.events
        w = EventTimeWindowing(
            self.length,
            self.slide,
            field=e.field,
            text_field=e.text_field,
            lateness=e.lateness,
            records=e.records,
            idle_timeout=e.idle_timeout,
        )
        return restored(w, state)

    def to_dict(self) -> dict[str, Any]:
        slide, panes = time_pane_sizes(self.length, self.slide)
        config = {"kind": self.name, "length": slide * panes, "slide": slide}
        return {**config, **self.events.to_dict()}


class EventTimeWindowing:
    """Windows over a timestamp inside each record, closed by a watermark.

    The watermark is the largest event time seen minus ``lateness`` (with
    several inputs, the slowest input's); a window closes once the watermark
    reaches its end.  An event older than the end of the last closed window is
    late: it is counted in no window, but reported.  Records without a valid
    timestamp (or, for a word count, text) are bad.  A chunk becomes a
    :class:`TimedBatch` here, is parsed where it is folded (:meth:`TimedBatch.run`),
    and is settled here, in order (:meth:`settle`).

    Examples
    --------
    >>> from toolkit.stream.counting import CountJob
    >>> w = EventTimeWindowing(10, field="ts")
    >>> def step(item):
    ...     batch = w.assign(item)
    ...     return batch.settle(batch.run(CountJob()), None)
    >>> b = step(Chunk(['{"ts": 5, "text": "a"}', '{"ts": 25, "text": "b"}', '{"ts": 3}']))
    >>> {p: t.top() for p, t in b.counts.items()}, b.boundary, b.late, b.bad
    ({0: [('a', 1)], 2: [('b', 1)]}, 2, 0, 1)
    >>> step(Chunk(['{"ts": 7, "text": "too late"}'])).late
    1
    """

    reports_late = True

    def __init__(
        self,
        length: float,
        slide: float | None = None,
        *,
        field: str = "time",
        text_field: str | None = "text",
        lateness: float = 0.0,
        records: str = "jsonl",
        idle_timeout: float | None = None,
    ) -> None:
        spec = EventTimeSpec(field, records, text_field, lateness, idle_timeout)
        self.kind = EventTimeWindows(length, slide, spec)
        self.slide, self.window_panes = time_pane_sizes(length, slide)
        self.every_panes = 1
        self.events = spec.clock()
        self.closed = FAR_PAST  # windows ending at or before this pane are closed

    def assign(self, item: Chunk | Tick | End) -> Panes:
        """The batch to ship for ``item`` (no record is read here)."""
        if isinstance(item, End):
            return PaneBatch(end=True)
        events = self.events
        spec = (events.field, events.text_field, events.records.records, self.slide)
        batch = TimedBatch(spec=(*spec, events.lateness), windowing=self)
        return shipped(batch, item, events, self.closed)

    def settle(self, batch: TimedBatch, timed: Timed, redo: Callable[[TimedBatch], Timed]) -> Panes:
        """``timed`` with the exact lateness, and the watermark moved on (in arrival order)."""
        events = self.events
        result = timed.result
        if batch.tick:
            result.boundary = None
            if events.idle(batch.time):
                self._close_to(events.watermark())
                result.boundary = self.closed
            return result
        if batch.ended:
            events.end(batch.side)
            self._close_to(events.watermark())
            result.boundary = self.closed
            return result
        if batch.arrived:
            events.arrived(batch.time, batch.side)
        times = timed.times
        where = np.flatnonzero(~np.isnan(times))
        if where.size:
            exact = self._exact(batch.side, times[where])
            if not np.array_equal(where[exact[0]], timed.late):
                batch.start = (self.closed, events.largest(batch.side), events.others(batch.side))
                timed = redo(batch)  # the worker's watermark was too early for these records
                result = timed.result
            late, due, on_time_max = exact
            if on_time_max > events.largest(batch.side):
                self._advance(batch.side, on_time_max)
            if late.any():
                lines = batch.text.data.split(b"\n")
                for i, c in zip(where[late], due, strict=True):
                    result.late_events.add(lines[i].decode("utf-8"), int(c))
        result.boundary = self.closed
        return result

    def _exact(self, side: str, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        """The late records among times ``t`` of one input (in order), the closed pane each
        came at, and the largest on-time time: today's rule, as arrays."""
        events = self.events
        largest, others, slide = events.largest(side), events.others(side), self.slide
        before = np.maximum.accumulate(np.concatenate(([largest], t)))[:-1]
        closed = np.full(t.size, float(self.closed))
        if others > -math.inf:
            moved = before > largest  # the closed pane moves only with a new largest time
            held = np.floor((np.minimum(before, others) - events.lateness) / slide)
            closed = np.where(moved, np.maximum(closed, held), closed)
        late = np.floor(t / slide) < closed
        on_time = t[~late]
        return late, closed[late], float(on_time.max()) if on_time.size else -math.inf

    def _advance(self, side: str, t: float) -> None:
        """``t`` is input ``side``'s new largest on-time time: the windows it lets close."""
        others = self.events.others(side)
        self.events.see(t, side)
        if others > -math.inf:
            held = min(t, others) - self.events.lateness
            self.closed = max(self.closed, math.floor(held / self.slide))

    def _close_to(self, watermark: float) -> None:
        """Windows ending at or before ``watermark`` may close (-inf: none yet)."""
        if watermark > -math.inf:
            self.closed = max(self.closed, math.floor(watermark / self.slide))

    def bounds(self, window: ClosedWindow, *, final: bool) -> tuple[float, float]:
        return window.start * self.slide, window.end * self.slide

    def tick_interval(self) -> float | None:
        return None

    def use_inputs(self, names: list[str]) -> None:
        self.events.use_inputs(names)

    def watermark(self) -> float | None:
        wm = self.events.watermark()
        return wm if math.isfinite(wm) else None

    def config(self) -> dict[str, Any]:
        return self.kind.to_dict()

    def snapshot(self) -> dict[str, Any]:
        return {"events": self.events.snapshot(), "closed": self.closed}

    def restore(self, state: dict[str, Any]) -> None:
        self.events.restore(state["events"])
        self.closed = int(state["closed"])
