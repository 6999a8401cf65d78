"""Event-time windows' batches: each record parsed once, on the worker that folds it.

The driver (:class:`~toolkit.stream.kinds.event.EventTimeWindowing`) does no
per-record work.  It ships each chunk's lines as one text (a
:class:`TimedBatch`, with the watermark as it knows it then); the worker
parses every record once, reads its time, assigns its pane, sets aside the
late ones and folds the rest, and sends back the partial states with the
records' times as one array (:class:`Timed`).  Back on the driver, in arrival
order, the windowing's ``settle`` checks the worker's decisions against the
exact watermark with a few array operations and moves the watermark on.  The
worker knew a watermark no later than the exact one (batches before it may
still have been out), so its decisions almost always stand; where one would
differ, the batch is folded again there with the exact one.  Late and bad
records are accounted exactly as a driver reading every record in order would.

Lateness is the rule of windows made of panes (see
:mod:`toolkit.stream.kinds.base`): an event is late when its pane is below
the last closed pane, which is where the watermark (the slowest input's
largest event time minus the lateness) was when the event came.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from toolkit.lines import EMPTY, LineBlock
from toolkit.stream.eventtime import EventTime, timed_records
from toolkit.stream.messages import MAIN, Chunk, PaneBatch, Panes, SessionBatch, Tick

__all__ = ["FAR_PAST", "Timed", "TimedBatch", "TimedSessionBatch", "shipped"]

FAR_PAST = -(10**18)  # the closed pane before any window closed


@dataclass(kw_only=True)
class TimedBatch(Panes):
    """A chunk of one input's records for event-time windows, as the driver ships it.

    ``text``: the lines (``count`` of them) as the source read them, a
    :class:`~toolkit.lines.LineBlock` (large, it travels as the pieces it was read
    in, out of band: neither joined here nor copied into a pickle); ``start``: the
    closed pane, this input's largest time and the other inputs' watermark as
    the driver knew them (no later than the exact ones).  ``tick`` / ``ended``:
    no records, the clock moved on / the input ended.  The windowing is the
    driver's own (not pickled): :meth:`settle` runs there.
    """

    text: LineBlock = field(default_factory=lambda: EMPTY)
    count: int = 0
    side: str = MAIN
    time: float = 0.0
    start: tuple[float, float, float] = (FAR_PAST, -math.inf, math.inf)
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


@dataclass(kw_only=True)
class TimedSessionBatch(TimedBatch):
    """A chunk of one input's records for event-time sessions, as the driver ships it.

    As :class:`TimedBatch`, but ``start`` is the idle clock's floor, this input's largest
    time and the other inputs' watermark, and a record is late when its time is below the
    watermark (the rule of sessions); the worker cuts the on-time records into parts of
    sessions.
    """

    def run(self, job: Any) -> Timed:
        """Parse, set aside the late and cut into sessions on a worker."""
        if not self.text:
            lines = {} if self.tick or self.ended else {0: 0}  # a chunk of no record
            empty = SessionBatch(bad=self.bad, header=self.header, lines=lines)
            return Timed(job(empty), np.empty(0), np.empty(0, np.int64))
        return _parse_and_cut(self, job)


def shipped(batch: TimedBatch, item: Chunk | Tick, events: EventTime, first: float) -> Any:
    """``batch`` filled for ``item`` on the driver, no record read: a tick, an input's end,
    or the input's lines as they came, with ``start`` = (``first``, this input's largest
    time, the other inputs' watermark) as the driver knows them now."""
    batch.time = item.time
    if isinstance(item, Tick):
        batch.tick = True
        return batch
    batch.side, batch.bad = item.side, item.bad
    if item.ended:
        batch.ended = True
        return batch
    lines = item.lines
    rl = events.records
    if rl.records == "csv" and rl.header is None:
        lines = rl.take(list(lines))  # the header, from the first record line
    block = LineBlock.of(lines)
    batch.text, batch.count, batch.header = block, block.n_lines, rl.header
    batch.start = (first, events.largest(item.side), events.others(item.side))
    batch.arrived = bool(item.lines)
    return batch


def _lines(batch: TimedBatch) -> tuple[list[Any], Any]:
    """The batch's lines as the worker reads them (JSON: the bytes as they came; a CSV
    reader takes text), and an array for their times (NaN until read)."""
    data = batch.text.data
    lines: list[Any] = (
        data.decode("utf-8").split("\n") if batch.spec[2] == "csv" else (data.split(b"\n"))
    )
    return lines, np.full(len(lines), np.nan)


def _parse_and_cut(batch: TimedSessionBatch, job: Any) -> Timed:
    """The worker's loop for sessions: each record parsed once, late by the batch's start."""
    field_name, text_field, records, _, lateness = batch.spec
    header = batch.header
    lines, times = _lines(batch)
    floor, largest, others = batch.start
    late: list[int] = []
    bad: list[Any] = []
    kept: list[Any] = []
    payloads: list[Any] = []
    kept_times: list[float] = []
    for i, t, payload in timed_records(lines, records, header, field_name, text_field, bad):
        times[i] = t
        if t < max(min(largest, others) - lateness, floor):
            late.append(i)
            continue
        kept.append(lines[i])
        payloads.append(payload)
        kept_times.append(t)
        if t > largest:
            largest = t
    out = SessionBatch(
        times=kept_times,
        lines={0: len(kept)},
        bad=batch.bad + len(bad),
        bad_lines=[_text(line) for line in bad],
        header=header,
    )
    if text_field is not None:  # a word count: the texts, cut into sessions of the stream
        out.text = payloads
        result = job(out)
    else:
        result = job.cut_parsed(out, kept, payloads)
    return Timed(result, times, np.array(late, dtype=np.int64))


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
    lines, times = _lines(batch)
    closed, largest, others = batch.start
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
