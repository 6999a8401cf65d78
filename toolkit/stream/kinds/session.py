"""Session windows: a session ends after ``gap`` without an event (of the stream, or per key).

The driver's :class:`SessionWindowing` times each chunk's events and sets the
late ones aside; how sessions are cut on a worker and merged on the driver is
:mod:`toolkit.stream.sessions`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from toolkit.errors import OptionError
from toolkit.jobs.records import RecordLines
from toolkit.stream.eventtime import EventTime, EventTimeSpec
from toolkit.stream.kinds.base import Plan, duration, restored, with_records
from toolkit.stream.messages import Chunk, End, SessionBatch, Tick

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
    >>> w = SessionWindowing(10, events=EventTime("ts", text_field="text"))
    >>> b = w.assign(Chunk(['{"ts": 50, "text": "a"}', '{"ts": 20, "text": "late"}']))
    >>> b.text, b.times, b.watermark, b.late
    (['a'], [50.0], 50.0, 1)
    """

    window_panes = every_panes = 1

    def __init__(self, gap: float, *, events: EventTime | None = None, records: str = "lines"):
        self.gap = gap
        self.events = events
        self.reports_late = events is not None
        self.records = events.records if events is not None else RecordLines(records)
        self.latest = -math.inf  # processing time: the latest clock seen
        spec = None
        if events is not None:
            spec = EventTimeSpec(
                events.field,
                events.records.records,
                events.text_field,
                events.lateness,
                events.idle_timeout,
            )
        self.kind = Sessions(gap, spec, records if events is None else events.records.records)

    def assign(self, item: Chunk | Tick | End) -> SessionBatch:
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
        events = self.events
        if isinstance(item, Tick):
            return SessionBatch(watermark=events.watermark() if events.idle(item.time) else None)
        side = item.side
        if item.ended:
            events.end(side)
            wm = events.watermark()
            return SessionBatch(watermark=wm if math.isfinite(wm) else None)
        if item.lines:
            events.arrived(item.time, side)
        timed, bad = events.times(item.lines)
        batch = SessionBatch(bad=item.bad + len(bad), bad_lines=bad, header=self.records.header)
        text, times = [], []
        for t, payload, line in timed:
            before = events.watermark()
            if t < before:
                batch.late_events.add(line, before)
                continue
            text.append(payload)
            times.append(t)
            events.see(t, side)
        batch.text, batch.times, batch.lines = text, times, {0: len(text)}
        wm = events.watermark()
        batch.watermark = wm if math.isfinite(wm) else None
        return batch

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
