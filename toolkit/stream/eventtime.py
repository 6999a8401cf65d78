"""Event time: the timestamp in each record, and the watermark that closes windows and sessions.

The watermark before an event is the largest event time seen before it,
minus the lateness; an event below it is late.  A stream of several inputs
keeps the largest time of each, and its watermark is the smallest of theirs
(an input that ended, or has been quiet for the idle timeout, holds back no
other).  :class:`EventTime` reads the times of a chunk's records (JSON lines
or CSV rows) and keeps the largest; the windowings and sessions decide what
is late.  Nothing here reads a clock.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from toolkit.errors import OptionError
from toolkit.jobs.records import BadRecord, RecordLines, fast_parser, record_parser
from toolkit.stream.messages import MAIN

__all__ = ["EventTime", "EventTimeSpec", "parse_timestamp", "timed_records"]


def parse_timestamp(value: Any) -> float:
    """Epoch seconds from a number or an ISO-8601 string (naive means UTC).

    Examples
    --------
    >>> parse_timestamp(12.5), parse_timestamp("1970-01-01T00:01:00Z"), parse_timestamp("7")
    (12.5, 60.0, 7.0)
    """
    kind = type(value)
    if kind is float or kind is int:  # the common case, first
        if not math.isfinite(value):
            raise ValueError("timestamp must be finite")
        return float(value)
    if isinstance(value, bool):
        raise ValueError("a boolean is not a timestamp")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValueError("timestamp must be finite")
        return float(value)
    if isinstance(value, str):
        try:
            seconds = float(value)  # a number as text, as CSV holds it
        except ValueError:
            pass
        else:
            return parse_timestamp(seconds)
        dt = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=datetime.UTC)
        return dt.timestamp()
    raise ValueError(f"not a timestamp: {value!r}")


def timed_records(
    lines: Sequence[Any],
    records: str,
    header: tuple[str, ...] | None,
    field: str,
    text_field: str | None,
    bad: list[Any],
) -> Iterator[tuple[int, float, Any]]:
    """Each record's index among ``lines``, event time and payload: the record itself, or
    its ``text_field`` (a word count's text); bad lines go to ``bad``, blank ones nowhere.

    ``lines`` are text, or UTF-8 bytes for JSON (parsed as they are).  A quick parse
    first (a failure is asked again of the careful parser, which also tells a blank
    line from a bad one), a float timestamp taken as it is.

    Examples
    --------
    >>> bad = []
    >>> list(timed_records(['{"t": 5, "x": "a"}', "", '{"t": "no"}'], "jsonl", None, "t", "x", bad))
    [(0, 5.0, 'a')]
    >>> bad
    ['{"t": "no"}']
    """
    fast, careful = fast_parser(records, header), record_parser(records, header)
    csv = records == "csv"
    isfinite = math.isfinite
    for i, line in enumerate(lines):
        if csv and not line.strip():
            continue
        try:
            record = fast(line)
        except ValueError:
            if not line.strip():
                continue
            try:
                record = careful(line)
            except BadRecord:
                bad.append(line)
                continue
        try:
            v = record[field]
            t = v if type(v) is float and isfinite(v) else parse_timestamp(v)
            payload = record if text_field is None else record[text_field]
            if text_field is not None and type(payload) is not str:
                raise ValueError("text is not a string")
        except (ValueError, KeyError, TypeError, IndexError, OverflowError):
            bad.append(line)
            continue
        yield i, t, payload


@dataclass(frozen=True)
class EventTimeSpec:
    """Event time as options: where each record's time is, and how the watermark moves.

    A value (picklable, printable, compared in checkpoints); :meth:`clock`
    makes the :class:`EventTime` that keeps the watermark.

    Examples
    --------
    >>> spec = EventTimeSpec("ts", lateness=5.0)
    >>> spec.clock().watermark()
    -inf
    >>> spec.to_dict()["lateness"]
    5.0
    """

    field: str
    records: str = "jsonl"
    text_field: str | None = None
    lateness: float = 0.0
    idle_timeout: float | None = None

    def __post_init__(self) -> None:
        self.clock()  # bad values fail where the spec is made

    def clock(self) -> EventTime:
        """A new watermark over records of this spec (before any record)."""
        return EventTime(
            self.field,
            records=self.records,
            text_field=self.text_field,
            lateness=self.lateness,
            idle_timeout=self.idle_timeout,
        )

    def to_dict(self) -> dict[str, Any]:
        """The spec as a checkpoint records it."""
        return asdict(self)


class EventTime:
    """Event times of records, and the watermark: the largest time seen minus ``lateness``.

    Shared by the event-time windows and sessions, on the driver: the records
    themselves are read on the workers (:func:`timed_records`), whose times come
    back to :meth:`see`.  ``text_field`` set: each record's payload is that
    field's text (a word count); None: the record itself (a user job).  A record
    whose time (or text) is missing or invalid is bad.

    Examples
    --------
    >>> et = EventTime("ts", lateness=2.0)
    >>> et.see(10.0); et.see(7.0)
    >>> et.watermark()
    8.0
    """

    def __init__(
        self,
        field: str,
        *,
        records: str = "jsonl",
        text_field: str | None = None,
        lateness: float = 0.0,
        idle_timeout: float | None = None,
    ) -> None:
        if idle_timeout is not None and not idle_timeout > 0:
            raise OptionError("{idle_timeout} must be positive seconds; got {v!r}", v=idle_timeout)
        if records == "lines":
            raise OptionError(
                "{event_time} reads a field of each record: give {records} jsonl or csv"
            )
        if lateness < 0:
            raise OptionError("{lateness} must not be negative; got {v!r}", v=lateness)
        self.field, self.text_field, self.lateness = field, text_field, lateness
        self.records = RecordLines(records)
        self.max_time = -math.inf  # the largest of every input
        self.inputs: dict[str, float] = {MAIN: -math.inf}  # the largest of each input
        self.ended: set[str] = set()  # inputs that ended while others go on
        self.quiet: set[str] = set()  # inputs quiet for the idle timeout
        self.idle_timeout = idle_timeout
        self.floor = -math.inf  # where an idle stream's clock pushed the watermark
        self.last_arrival: float | None = None  # wall time of the last records
        self.arrivals: dict[str, float] = {}  # wall time of each input's last records

    def use_inputs(self, names: list[str]) -> None:
        """The stream's inputs: each keeps its own largest time (before any record)."""
        self.inputs = dict.fromkeys(names, -math.inf)

    def see(self, t: float, side: str = MAIN) -> None:
        """An on-time event at ``t`` on input ``side``: the watermark may move on."""
        if t > self.max_time:
            self.max_time = t
        if t > self.inputs.get(side, -math.inf):
            self.inputs[side] = t

    def largest(self, side: str = MAIN) -> float:
        """The largest event time seen on input ``side``."""
        return self.inputs.get(side, -math.inf)

    def others(self, side: str) -> float:
        """The smallest largest time of the inputs other than ``side`` that hold back the
        watermark (inf: none does)."""
        held = self._holding(side)
        return min(held) if held else math.inf

    def _holding(self, but: str | None = None) -> list[float]:
        """The largest times of the inputs that hold the watermark back (not ended, not
        quiet), but the input ``but``."""
        left_out = self.ended | self.quiet
        return [t for side, t in self.inputs.items() if side != but and side not in left_out]

    def end(self, side: str) -> None:
        """Input ``side`` ended while others go on: it holds back no watermark any more."""
        self.ended.add(side)

    def watermark(self) -> float:
        """The largest event time seen minus the lateness (-inf before any event), or
        further on where an idle stream's clock pushed it.

        With several inputs, the smallest of their largest times counts, leaving
        out inputs that ended or are quiet (all of them left out: the largest).
        """
        inputs = self.inputs
        if len(inputs) == 1:
            held = self.max_time
        else:
            live = self._holding()
            held = min(live) if live else self.max_time
        return max(held - self.lateness, self.floor)

    def arrived(self, now: float, side: str = MAIN) -> None:
        """Records of input ``side`` arrived at wall time ``now``: it is not idle."""
        self.last_arrival = now
        self.arrivals[side] = now
        self.quiet.discard(side)

    def idle(self, now: float) -> bool:
        """Whether the watermark moved on because nothing arrived for ``idle_timeout``.

        Once the stream has been quiet that long, the watermark advances with
        the wall clock from the largest event time seen, so the windows and
        sessions of a quiet stream close.
        """
        if self.idle_timeout is None:
            return False
        if self.last_arrival is None:  # nothing yet in this run: the idle clock starts now
            self.last_arrival = now
            self.arrivals = dict.fromkeys(self.inputs, now)
            return False
        before = self.watermark()
        for side, last in self.arrivals.items():  # a quiet input holds back no other
            if now - last >= self.idle_timeout:
                self.quiet.add(side)
        if len(self.inputs) > 1 and self.watermark() > before:
            return True
        quiet = now - self.last_arrival - self.idle_timeout
        if quiet < 0 or not math.isfinite(self.max_time):
            return False
        moved = self.max_time + quiet
        if moved <= self.watermark():
            return False
        self.floor = moved
        return True

    @property
    def spec(self) -> EventTimeSpec:
        """The options this watermark was made of."""
        return EventTimeSpec(
            self.field, self.records.records, self.text_field, self.lateness, self.idle_timeout
        )

    def snapshot(self) -> dict[str, Any]:
        return {
            "max_time": self.max_time,
            "inputs": self.inputs,
            "floor": self.floor,
            "records": self.records.snapshot(),
        }

    def restore(self, state: dict[str, Any]) -> None:
        self.max_time = float(state["max_time"])
        saved = state.get("inputs", {})  # before named inputs: one, whose largest is max_time
        for side in self.inputs:
            self.inputs[side] = float(saved.get(side, self.max_time if not saved else -math.inf))
        self.floor = float(state.get("floor", -math.inf))
        self.records.restore(state.get("records", {}))
