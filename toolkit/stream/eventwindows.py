"""Event-time windows, each record parsed once: on the worker that folds it.

The driver does no per-record work.  It ships each chunk's lines as one text
(a :class:`TimedBatch`, with the watermark as it knows it then); the worker
parses every record once, reads its time, assigns its pane, sets aside the
late ones and folds the rest, and sends back the partial states with the
records' times as one array (:class:`Timed`).  Back on the driver, in arrival
order, :meth:`EventTimeWindowing.settle` checks the worker's decisions against
the exact watermark with a few array operations and moves the watermark on.
The worker knew a watermark no later than the exact one (batches before it may
still have been out), so its decisions almost always stand; where one would
differ, the batch is folded again here with the exact one.  Late and bad
records are accounted exactly as a driver reading every record in order would.

Lateness: an event is late when its pane is below the last closed pane, which
is where the watermark (the slowest input's largest event time minus the
lateness) was when the event came; late events are counted in no window, but
reported (see :class:`~toolkit.stream.messages.Late`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from toolkit.lines import LineBlock
from toolkit.stream.eventtime import EventTime, timed_records
from toolkit.stream.messages import MAIN, Chunk, End, PaneBatch, Panes, Tick
from toolkit.stream.panes import time_pane_sizes
from toolkit.stream.windows import ClosedWindow

__all__ = ["EventTimeWindowing", "Timed", "TimedBatch"]

_FAR_PAST = -(10**18)  # the closed pane before any window closed


@dataclass(kw_only=True)
class TimedBatch(Panes):
    """A chunk of one input's records for event-time windows, as the driver ships it.

    ``text``: the lines as UTF-8, joined by ``\\n`` (``count`` of them), as the
    source read them (see :class:`~toolkit.lines.LineBlock`); ``start``: the
    closed pane, this input's largest time and the other inputs' watermark as
    the driver knew them (no later than the exact ones).  ``tick`` / ``ended``:
    no records, the clock moved on / the input ended.  The windowing is the
    driver's own (not pickled): :meth:`settle` runs there.
    """

    text: bytes = b""
    count: int = 0
    side: str = MAIN
    time: float = 0.0
    start: tuple[float, float, float] = (_FAR_PAST, -math.inf, math.inf)
    header: tuple[str, ...] | None = None
    tick: bool = False
    ended: bool = False
    arrived: bool = False  # the chunk had lines (the input is not idle)
    spec: tuple[str, str | None, str, float, float] = ("time", None, "jsonl", 1.0, 0.0)
    windowing: Any = field(default=None, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "windowing": None}

    def run(self, job: Any) -> Timed:
        """Parse, assign and fold on a worker: ``job`` is a word count's or a user job's."""
        if not self.text:
            return Timed(job(PaneBatch(bad=self.bad)), np.empty(0), np.empty(0, np.int64))
        return _parse_and_fold(self, job)

    def settle(self, timed: Timed, redo: Callable[[TimedBatch], Timed]) -> Panes:
        """The worker's result with the exact lateness and watermark (on the driver)."""
        return self.windowing.settle(self, timed, redo)


@dataclass
class Timed:
    """A worker's answer to a :class:`TimedBatch`: the folded panes, each line's event
    time (NaN: not a record, or a bad one) and the lines it found late."""

    result: Panes
    times: Any
    late: Any


def _parse_and_fold(batch: TimedBatch, job: Any) -> Timed:
    """The worker's loop: each record parsed once, its pane and lateness by the batch's start."""
    field_name, text_field, records, slide, lateness = batch.spec
    header = batch.header
    csv = records == "csv"
    # JSON is parsed from the bytes as they came; a CSV reader takes text
    text: Any = batch.text.decode("utf-8") if csv else batch.text
    lines: list[Any] = text.split("\n" if csv else b"\n")
    closed, largest, others = batch.start
    times = np.full(len(lines), np.nan)
    panes: dict[int, tuple[list[str], list[Any]]] = {}
    late: list[int] = []
    bad: list[Any] = []
    floor = math.floor
    for i, t, payload in timed_records(lines, records, header, field_name, text_field, bad):
        line = lines[i]
        times[i] = t
        pane = floor(t / slide)
        if pane < closed:
            late.append(i)
            continue
        kept = panes.get(pane)
        if kept is None:
            kept = panes[pane] = ([], [])
        kept[0].append(line)
        kept[1].append(payload)
        if t > largest:
            largest = t
            if others > -math.inf:
                closed = max(closed, floor((min(t, others) - lateness) / slide))
    out = PaneBatch(
        lines={p: len(kept[0]) for p, kept in panes.items()},
        bad=batch.bad + len(bad),
        bad_lines=[_text(line) for line in bad],
        header=header,
    )
    if text_field is not None:  # a word count: the texts of each pane, counted together
        out.text = {p: "\n".join(kept[1]) for p, kept in panes.items()}
        result = job(out)
    else:
        result = job.fold_parsed(out, panes)
    return Timed(result, times, np.array(late, dtype=np.int64))


def _text(line: bytes | str) -> str:
    return line.decode("utf-8") if isinstance(line, bytes) else line


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
        self.slide, self.window_panes = time_pane_sizes(length, slide)
        self.every_panes = 1
        self.events = EventTime(
            field,
            records=records,
            text_field=text_field,
            lateness=lateness,
            idle_timeout=idle_timeout,
        )
        self.closed = _FAR_PAST  # windows ending at or before this pane are closed

    def assign(self, item: Chunk | Tick | End) -> Panes:
        """The batch to ship for ``item`` (no record is read here)."""
        if isinstance(item, End):
            return PaneBatch(end=True)
        events = self.events
        spec = (events.field, events.text_field, events.records.records, self.slide)
        batch = TimedBatch(spec=(*spec, events.lateness), windowing=self)
        if isinstance(item, Tick):
            batch.tick, batch.time = True, item.time
            return batch
        batch.side, batch.time, batch.bad = item.side, item.time, item.bad
        if item.ended:
            batch.ended = True
            return batch
        lines = item.lines
        rl = events.records
        if rl.records == "csv" and rl.header is None:
            lines = rl.take(list(lines))  # the header, from the first record line
        block = LineBlock.of(lines)
        batch.text, batch.count, batch.header = block.data, block.n_lines, rl.header
        batch.start = (self.closed, events.largest(item.side), events.others(item.side))
        batch.arrived = bool(item.lines)
        return batch

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
                lines = batch.text.split(b"\n")
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
        return {
            "kind": "event-time",
            "length": self.slide * self.window_panes,
            "slide": self.slide,
            **self.events.config(),
        }

    def snapshot(self) -> dict[str, Any]:
        return {"events": self.events.snapshot(), "closed": self.closed}

    def restore(self, state: dict[str, Any]) -> None:
        self.events.restore(state["events"])
        self.closed = int(state["closed"])
