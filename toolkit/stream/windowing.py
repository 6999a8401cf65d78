"""Window kinds: which pane each line goes to, and up to which pane windows may close.

Every window kind is made of *panes*.  Count windows of ``size`` lines emitted
every ``every`` lines use panes of ``gcd(size, every)`` lines; time windows of
``length`` seconds sliding by ``slide`` use panes of one slide.  A window is
``window_panes`` consecutive panes, and one ends every ``every_panes`` panes.
A *windowing* (:class:`CountWindowing`, :class:`ProcessingTimeWindowing`,
:class:`EventTimeWindowing`, in :mod:`toolkit.stream.eventwindows`) turns each
chunk of lines into text per pane (:class:`~toolkit.stream.messages.PaneBatch`)
and says how far windows may close; event time ships the chunk whole, to be
parsed where it is folded.  Nothing here reads a clock: callers pass times in,
so tests drive it by hand.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Protocol

from toolkit.errors import ConfigError
from toolkit.jobs.records import RecordLines
from toolkit.lines import LineBlock
from toolkit.stream.eventtime import EventTime, parse_timestamp
from toolkit.stream.eventwindows import EventTimeWindowing
from toolkit.stream.messages import Chunk, End, PaneBatch, Tick
from toolkit.stream.panes import count_pane_sizes, time_pane_sizes
from toolkit.stream.sessions import SessionWindowing
from toolkit.stream.windows import ClosedWindow
from toolkit.units import parse_duration

__all__ = [
    "CountWindowing",
    "EventTimeWindowing",
    "ProcessingTimeWindowing",
    "Windowing",
    "count_pane_sizes",
    "make_windowing",
    "parse_timestamp",
    "time_pane_sizes",
]


class Windowing(Protocol):
    """How lines map to panes, and panes to windows."""

    window_panes: int
    every_panes: int
    reports_late: bool

    def assign(self, item: Chunk | Tick | End) -> PaneBatch: ...

    def bounds(self, window: ClosedWindow, *, final: bool) -> tuple[float, float]: ...

    def tick_interval(self) -> float | None:
        """Seconds between the clock ticks that close windows (None: the data closes them)."""
        ...

    def use_inputs(self, names: list[str]) -> None:
        """The stream's inputs, by name (event time keeps a watermark for each)."""
        ...

    def watermark(self) -> float | None:
        """Event time up to which windows may close (None: not event time, or no event yet)."""
        ...

    def config(self) -> dict[str, Any]: ...

    def snapshot(self) -> dict[str, Any]: ...

    def restore(self, state: dict[str, Any]) -> None: ...


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _text(lines: Sequence[str]) -> str:
    """The lines joined by newlines (a block of them is that text already)."""
    return lines.text if isinstance(lines, LineBlock) else "\n".join(lines)


def _with_records(config: dict[str, Any], records: RecordLines) -> dict[str, Any]:
    """A windowing's config, naming the record format unless it is plain lines."""
    return config if records.records == "lines" else {**config, "records": records.records}


class CountWindowing:
    """Windows of the last ``size`` lines, every ``every`` lines (tumbling by default).

    Bounds are 0-based line offsets in arrival order, ``[start, end)``.  At the
    end of the input, the window that would have come next is emitted, cut at
    the last line, so tumbling windows count every line exactly once.

    Examples
    --------
    >>> w = CountWindowing(4, every=2)
    >>> batch = w.assign(Chunk(["a", "b", "c"]))
    >>> batch.text, batch.boundary
    ({0: 'a\\nb', 1: 'c'}, 1)
    """

    reports_late = False

    def __init__(self, size: int, every: int | None = None, *, records: str = "lines") -> None:
        self.pane_lines, self.window_panes, self.every_panes = count_pane_sizes(size, every)
        self.records = RecordLines(records)
        self.seen = 0

    def assign(self, item: Chunk | Tick | End) -> PaneBatch:
        if isinstance(item, End):
            # only the window that would have come next, cut at the last line
            panes_seen = _ceil_div(self.seen, self.pane_lines)
            return PaneBatch(
                end=True, boundary=self.every_panes * _ceil_div(panes_seen, self.every_panes)
            )
        if isinstance(item, Tick):
            return PaneBatch()
        lines = self.records.take(item.lines)
        batch = PaneBatch(header=self.records.header)
        g = self.pane_lines
        pos = 0
        while pos < len(lines):
            pane = (self.seen + pos) // g
            take = min(len(lines) - pos, (pane + 1) * g - (self.seen + pos))
            batch.text[pane] = _text(lines[pos : pos + take])
            batch.lines[pane] = take
            pos += take
        self.seen += len(lines)
        batch.boundary = self.seen // g
        batch.bad = item.bad
        return batch

    def bounds(self, window: ClosedWindow, *, final: bool) -> tuple[float, float]:
        g = self.pane_lines
        return max(0, window.start * g), min(window.end * g, self.seen)

    def tick_interval(self) -> float | None:
        return None

    def use_inputs(self, names: list[str]) -> None:
        pass  # lines are counted in arrival order, whichever input they come from

    def watermark(self) -> float | None:
        return None

    def config(self) -> dict[str, Any]:
        g = self.pane_lines
        config = {"kind": "count", "size": g * self.window_panes, "every": g * self.every_panes}
        return _with_records(config, self.records)

    def snapshot(self) -> dict[str, Any]:
        return {"seen": self.seen, "records": self.records.snapshot()}

    def restore(self, state: dict[str, Any]) -> None:
        self.seen = int(state["seen"])
        self.records.restore(state.get("records", {}))


class ProcessingTimeWindowing:
    """Windows of ``length`` seconds every ``slide`` seconds of arrival time, aligned to the epoch.

    Examples
    --------
    >>> w = ProcessingTimeWindowing(10)
    >>> batch = w.assign(Chunk(["a", "b"], time=1234.5))
    >>> batch.text, batch.boundary
    ({123: 'a\\nb'}, 123)
    >>> w.assign(Tick(1240.0)).boundary
    124
    """

    reports_late = False

    def __init__(
        self, length: float, slide: float | None = None, *, records: str = "lines"
    ) -> None:
        self.slide, self.window_panes = time_pane_sizes(length, slide)
        self.every_panes = 1
        self.records = RecordLines(records)
        self.latest = -math.inf

    def _pane(self, t: float) -> int:
        self.latest = max(self.latest, t)  # a clock that steps back does not reopen windows
        return math.floor(self.latest / self.slide)

    def assign(self, item: Chunk | Tick | End) -> PaneBatch:
        if isinstance(item, End):
            return PaneBatch(end=True)
        pane = self._pane(item.time)
        if isinstance(item, Tick):
            return PaneBatch(boundary=pane)
        records = self.records.take(item.lines)
        text = {pane: _text(records)} if records else {}
        lines = {pane: len(records)} if records else {}
        return PaneBatch(
            text=text, lines=lines, bad=item.bad, boundary=pane, header=self.records.header
        )

    def bounds(self, window: ClosedWindow, *, final: bool) -> tuple[float, float]:
        return window.start * self.slide, window.end * self.slide

    def tick_interval(self) -> float | None:
        return self.slide  # a window may end at every slide

    def use_inputs(self, names: list[str]) -> None:
        pass  # arrival time is the same clock for every input

    def watermark(self) -> float | None:
        return None

    def config(self) -> dict[str, Any]:
        config = {
            "kind": "processing-time",
            "length": self.slide * self.window_panes,
            "slide": self.slide,
        }
        return _with_records(config, self.records)

    def snapshot(self) -> dict[str, Any]:
        return {"latest": self.latest, "records": self.records.snapshot()}

    def restore(self, state: dict[str, Any]) -> None:
        self.latest = float(state["latest"])
        self.records.restore(state.get("records", {}))


def make_windowing(
    *,
    count: int | None = None,
    window: float | str | None = None,
    every: int | float | str | None = None,
    session: float | str | None = None,
    event_time: str | None = None,
    text_field: str | None = "text",
    lateness: float | str | None = None,
    idle_timeout: float | str | None = None,
    records: str = "lines",
) -> Any:
    """The windowing for user options: ``count`` records, a ``window`` length, or a ``session`` gap.

    ``every`` is the slide (records for count windows, a duration for time
    windows); ``event_time`` names the timestamp field of each record (JSON
    lines, or CSV rows); ``text_field`` the text a word count counts in event
    time (None for a user job, whose records go to the mapper whole);
    ``idle_timeout``, in event time: after this long without records, the
    watermark moves on with the wall clock.

    Examples
    --------
    >>> type(make_windowing(count=100)).__name__
    'CountWindowing'
    >>> make_windowing(window="1m", every="10s").window_panes
    6
    >>> make_windowing(session="30s", event_time="ts", records="csv").config()["kind"]
    'event-time-session'
    """
    if sum(x is not None for x in (count, window, session)) != 1:
        raise ConfigError("give exactly one of --count N, --window DURATION or --session GAP")
    late = parse_duration(lateness) if lateness not in (None, 0, "0") else 0.0
    if count is not None and (event_time or lateness):
        raise ConfigError("--event-time and --lateness go with --window or --session")
    if lateness and not event_time:
        raise ConfigError("--lateness needs --event-time")
    if idle_timeout is not None and not event_time:
        raise ConfigError("--idle-timeout needs --event-time (processing time never waits)")
    idle = parse_duration(idle_timeout) if idle_timeout is not None else None
    if event_time and records == "lines":
        records = "jsonl"  # a word count's event-time lines are JSON objects
    if count is not None:
        try:
            step = int(every) if every is not None else None
        except ValueError:
            raise ConfigError(
                f"with --count, --every is a number of records; got {every!r}"
            ) from None
        return CountWindowing(count, step, records=records)
    if session is not None:
        if every is not None:
            raise ConfigError("--every slides windows; a session has none")
        gap = parse_duration(session)
        events = (
            EventTime(
                event_time,
                records=records,
                text_field=text_field,
                lateness=late,
                idle_timeout=idle,
            )
            if event_time
            else None
        )
        return SessionWindowing(gap, events=events, records=records)
    assert window is not None
    length = parse_duration(window)
    slide = parse_duration(every) if every is not None else None
    if event_time:
        return EventTimeWindowing(
            length,
            slide,
            field=event_time,
            text_field=text_field,
            lateness=late,
            records=records,
            idle_timeout=idle,
        )
    return ProcessingTimeWindowing(length, slide, records=records)
