"""Session windows: a session ends after ``gap`` without an event (of the stream, or per key).

The driver's :class:`SessionWindowing` times each chunk's events and sets the
late ones aside; how sessions are cut on a worker and merged on the driver is
:mod:`toolkit.stream.sessions`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from toolkit.errors import OptionError
from toolkit.jobs.records import RecordLines
from toolkit.stream.eventtime import EventTime, EventTimeSpec
from toolkit.stream.eventwindows import Timed, TimedSessionBatch, shipped
from toolkit.stream.kinds.base import Plan, duration, restored, with_records
from toolkit.stream.messages import Chunk, End, SessionBatch, SessionParts, Tick

if TYPE_CHECKING:
    from streamz import Stream

    from toolkit.jobs.keyed import KeyedJob
    from toolkit.stream.counting import CountJob

__all__ = ["SessionWindowing", "Sessions"]


@dataclass(frozen=True)
class Sessions:
    """Sessions closed after ``gap`` seconds without an event, by arrival or by event time.

    A word count's sessions are of the whole stream (bursts); a user job's are per key.

    Examples
    --------
    >>> Sessions.from_options("30s", every=None, events=None, records="lines")
    Sessions(gap=30.0, events=None, records='lines')
    """

    gap: float
    events: EventTimeSpec | None = None
    records: str = "lines"

    name: ClassVar[str] = "session"
    option: ClassVar[str] = "session"
    form: ClassVar[str] = "GAP"
    event_time: ClassVar[bool | None] = None
    timed: ClassVar[bool] = True

    def __post_init__(self) -> None:
        if self.events is not None:  # the records are the event time's
            object.__setattr__(self, "records", self.events.records)
        if not self.gap > 0:
            raise OptionError("{session} gap must be positive seconds; got {v!r}", v=self.gap)

    @classmethod
    def from_options(
        cls, value: Any, *, every: Any, events: EventTimeSpec | None, records: str
    ) -> Sessions:
        if every is not None:
            raise OptionError("{every} slides windows; a session has none")
        return cls(duration("session", value), events, records)

    def logic(self, state: dict[str, Any] | None = None) -> SessionWindowing:
        clock = self.events.clock() if self.events is not None else None
        return restored(SessionWindowing(self.gap, events=clock, records=self.records), state)

    def to_dict(self) -> dict[str, Any]:
        if self.events is not None:
            return {"gap": self.gap, **self.events.to_dict(), "kind": "event-time-session"}
        return with_records({"kind": self.name, "gap": self.gap}, self.records)

    def for_words(self, windowing: Any, job: CountJob, top: int) -> Plan:
        from toolkit.stream.counting import CountSessionJob

        def node(counted: Stream, **early: Any) -> Stream:
            return counted.session_window(windowing, top=top, **early)

        return Plan(CountSessionJob(job, self.gap), node)

    def for_job(self, windowing: Any, job: KeyedJob, top: int) -> Plan:
        from toolkit.stream.folding import KeyedSessionJob

        def node(folded: Stream, **early: Any) -> Stream:
            return folded.session_window(windowing, job=job, **early)

        return Plan(KeyedSessionJob(job, self.gap), node)


class SessionWindowing:
    """Times for sessions: by arrival (processing time), or from each record (event time).

    Examples
    --------
    In event time a chunk is shipped whole, parsed where it is cut into sessions, and
    settled here in order:

    >>> from toolkit.stream.counting import CountJob, CountSessionJob
    >>> w = SessionWindowing(10, events=EventTime("ts", text_field="text"))
    >>> job = CountSessionJob(CountJob(), 10)
    >>> b = w.assign(Chunk(['{"ts": 50, "text": "a"}', '{"ts": 20, "text": "late"}']))
    >>> parts = b.settle(b.run(job), lambda again: again.run(job))
    >>> [(first, last, n) for first, last, n, _ in parts.parts[None]], parts.watermark, parts.late
    ([(50.0, 50.0, 1)], 50.0, 1)
    """

    window_panes = every_panes = 1

    def __init__(self, gap: float, *, events: EventTime | None = None, records: str = "lines"):
        self.gap = gap
        self.events = events
        self.reports_late = events is not None
        self.records = events.records if events is not None else RecordLines(records)
        self.latest = -math.inf  # processing time: the latest clock seen
        self.kind = Sessions(gap, events.spec if events is not None else None, records)

    def assign(self, item: Chunk | Tick | End) -> SessionBatch | TimedSessionBatch:
        if isinstance(item, End):
            return SessionBatch(end=True)
        if self.events is None:
            self.latest = max(self.latest, item.time)
            if isinstance(item, Tick):
                return SessionBatch(watermark=self.latest)
            lines = list(self.records.take(item.lines))
            return SessionBatch(
                text=lines,
                time=self.latest,
                watermark=self.latest,
                lines={0: len(lines)},
                bad=item.bad,
                header=self.records.header,
            )
        return self._timed(item)

    def _timed(self, item: Chunk | Tick) -> TimedSessionBatch:
        """In event time: the batch to ship for ``item`` (no record is read here); the
        watermark moves when it is settled (:meth:`settle`), in arrival order."""
        events = self.events
        assert events is not None
        rl = events.records
        spec = (events.field, events.text_field, rl.records, self.gap, events.lateness)
        return shipped(TimedSessionBatch(spec=spec, windowing=self), item, events, events.floor)

    def settle(
        self, batch: TimedSessionBatch, timed: Timed, redo: Callable[[TimedSessionBatch], Timed]
    ) -> SessionParts:
        """``timed`` with the exact lateness, and the watermark moved on (in arrival order).

        A record is late when its time is below the watermark as it stood when the record
        came: the larger of the idle clock's floor and, less the lateness, the smaller of
        this input's largest time so far and the other inputs' watermark.
        """
        events = self.events
        assert events is not None
        result: Any = timed.result
        side = batch.side
        if batch.tick:
            result.watermark = self.watermark() if events.idle(batch.time) else None
            return result
        if batch.ended:
            events.end(side)
            result.watermark = self.watermark()
            return result
        if batch.arrived:
            events.arrived(batch.time, side)
        times = timed.times
        where = np.flatnonzero(~np.isnan(times))
        if where.size:
            t = times[where]
            start = (events.floor, events.largest(side), events.others(side))
            floor, largest, others = start
            before = np.maximum.accumulate(np.concatenate(([largest], t)))[:-1]
            watermarks = np.maximum(np.minimum(before, others) - events.lateness, floor)
            late = t < watermarks
            if not np.array_equal(where[late], timed.late):
                batch.start = start
                result = redo(batch).result  # the worker's watermark was too early
            on_time = t[~late]
            if on_time.size:
                events.see(float(on_time.max()), side)
            if late.any():
                lines = batch.text.data.split(b"\n")
                for i, w in zip(where[late], watermarks[late], strict=True):
                    result.late_events.add(lines[i].decode("utf-8"), float(w))
        result.watermark = self.watermark()
        return result

    def tick_interval(self) -> float | None:
        return None  # idle ticks and chunks carry the clock

    def use_inputs(self, names: list[str]) -> None:
        if self.events is not None:
            self.events.use_inputs(names)

    def watermark(self) -> float | None:
        if self.events is None:
            return None
        wm = self.events.watermark()
        return wm if math.isfinite(wm) else None

    def config(self) -> dict[str, Any]:
        return self.kind.to_dict()

    def snapshot(self) -> dict[str, Any]:
        if self.events is not None:
            return {"events": self.events.snapshot()}
        return {"latest": self.latest, "records": self.records.snapshot()}

    def restore(self, state: dict[str, Any]) -> None:
        if self.events is not None:
            self.events.restore(state["events"])
        else:
            self.latest = float(state["latest"])
            self.records.restore(state.get("records", {}))
