"""Window kinds (count, processing time, event time) and the streamz nodes that run them.

A *windowing* turns each chunk of lines into text per pane (see
:mod:`toolkit.stream.panes`), says which lines were late or bad, and up to which
pane windows may close.  Three streamz nodes, registered on ``streamz.Stream``,
wire it up: ``assign_panes`` (windowing), ``count_panes`` (see
:mod:`toolkit.stream.counting`), and ``pane_window`` (merge counts, close
windows, emit :class:`WindowResult`).
"""

from __future__ import annotations

import datetime
import json
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from streamz import Stream

from toolkit.errors import ConfigError
from toolkit.stream.panes import ClosedWindow, PaneWindows, count_panes_for, time_panes_for
from toolkit.stream.registration import register_node

if TYPE_CHECKING:
    from toolkit.wordtable import WordTable

__all__ = [
    "Chunk",
    "CountWindowing",
    "End",
    "EventTimeWindowing",
    "PaneBatch",
    "PaneCounts",
    "ProcessingTimeWindowing",
    "Tick",
    "WindowResult",
    "Windowing",
    "make_windowing",
]


# -- what flows through a pipeline ---------------------------------------------------------


@dataclass
class Chunk:
    """Lines that arrived together (without newlines), and when they arrived."""

    lines: list[str]
    time: float = 0.0
    bad: int = 0  # lines the source dropped (invalid UTF-8, over-long, cut off)


@dataclass(frozen=True)
class Tick:
    """The clock moved on to ``time`` (drives processing-time windows)."""

    time: float


@dataclass(frozen=True)
class End:
    """The input ended: close every open window."""


@dataclass
class PaneBatch:
    """A chunk's text per pane, ready to be counted; plus what the windows must do after."""

    text: dict[int, str] = field(default_factory=dict)
    lines: dict[int, int] = field(default_factory=dict)
    late: int = 0
    bad: int = 0
    boundary: int | None = None  # close windows ending at or before this pane
    end: bool = False  # end of input: close up to `boundary`, or every window if None
    late_lines: list[str] = field(default_factory=list)
    late_at: dict[int, int] = field(default_factory=dict)  # watermark pane -> late events


@dataclass
class PaneCounts:
    """A counted :class:`PaneBatch` (what a worker sends back)."""

    counts: dict[int, WordTable]
    lines: dict[int, int]
    late: int = 0
    bad: int = 0
    boundary: int | None = None
    end: bool = False
    late_lines: list[str] = field(default_factory=list)
    late_at: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class WindowResult:
    """One window's result: bounds ``[start, end)``, lines, words and the top words."""

    start: float
    end: float
    lines: int
    words: int
    top: list[tuple[str, int]]
    late: int | None = None  # event time: late events since the previous window

    def to_dict(self) -> dict[str, Any]:
        """The JSON object written for this window."""
        out: dict[str, Any] = {
            "start": number(self.start),
            "end": number(self.end),
            "lines": self.lines,
            "words": self.words,
            "top": [[w, c] for w, c in self.top],
        }
        if self.late is not None:
            out["late"] = self.late
        return out


def number(x: float) -> float | int:
    """A window bound as JSON shows it: an int when whole, else rounded to microseconds."""
    return int(x) if float(x).is_integer() else round(float(x), 6)


# -- windowings ----------------------------------------------------------------------------


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

    def watermark(self) -> float | None:
        """Event time up to which windows may close (None: not event time, or no event yet)."""
        ...

    def config(self) -> dict[str, Any]: ...

    def snapshot(self) -> dict[str, Any]: ...

    def restore(self, state: dict[str, Any]) -> None: ...


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _text(lines: list[str]) -> str:
    return "\n".join(lines)


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

    def __init__(self, size: int, every: int | None = None) -> None:
        self.pane_lines, self.window_panes, self.every_panes = count_panes_for(size, every)
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
        batch = PaneBatch()
        g = self.pane_lines
        pos, lines = 0, item.lines
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

    def watermark(self) -> float | None:
        return None

    def config(self) -> dict[str, Any]:
        g = self.pane_lines
        return {"kind": "count", "size": g * self.window_panes, "every": g * self.every_panes}

    def snapshot(self) -> dict[str, Any]:
        return {"seen": self.seen}

    def restore(self, state: dict[str, Any]) -> None:
        self.seen = int(state["seen"])


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

    def __init__(self, length: float, slide: float | None = None) -> None:
        self.slide, self.window_panes = time_panes_for(length, slide)
        self.every_panes = 1
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
        text = {pane: _text(item.lines)} if item.lines else {}
        lines = {pane: len(item.lines)} if item.lines else {}
        return PaneBatch(text, lines, bad=item.bad, boundary=pane)

    def bounds(self, window: ClosedWindow, *, final: bool) -> tuple[float, float]:
        return window.start * self.slide, window.end * self.slide

    def tick_interval(self) -> float | None:
        return self.slide  # a window may end at every slide

    def watermark(self) -> float | None:
        return None

    def config(self) -> dict[str, Any]:
        return {
            "kind": "processing-time",
            "length": self.slide * self.window_panes,
            "slide": self.slide,
        }

    def snapshot(self) -> dict[str, Any]:
        return {"latest": self.latest}

    def restore(self, state: dict[str, Any]) -> None:
        self.latest = float(state["latest"])


def parse_timestamp(value: Any) -> float:
    """Epoch seconds from a number or an ISO-8601 string (naive means UTC).

    Examples
    --------
    >>> parse_timestamp(12.5), parse_timestamp("1970-01-01T00:01:00Z")
    (12.5, 60.0)
    """
    if isinstance(value, bool):
        raise ValueError("a boolean is not a timestamp")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValueError("timestamp must be finite")
        return float(value)
    if isinstance(value, str):
        dt = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=datetime.UTC)
        return dt.timestamp()
    raise ValueError(f"not a timestamp: {value!r}")


class EventTimeWindowing:
    """Windows over a timestamp inside each line (a JSON object), closed by a watermark.

    The watermark is the largest event time seen minus ``lateness``; a window
    closes once the watermark reaches its end.  An event older than the end of
    the last closed window is late: it is counted in no window, but reported.
    Lines that are not JSON objects with a valid timestamp and text are bad.

    Examples
    --------
    >>> w = EventTimeWindowing(10, field="ts")
    >>> b = w.assign(Chunk(['{"ts": 5, "text": "a"}', '{"ts": 25, "text": "b"}', '{"ts": 3}']))
    >>> b.text, b.boundary, b.late, b.bad
    ({0: 'a', 2: 'b'}, 2, 0, 1)
    >>> w.assign(Chunk(['{"ts": 7, "text": "too late"}'])).late
    1
    """

    reports_late = True

    def __init__(
        self,
        length: float,
        slide: float | None = None,
        *,
        field: str = "time",
        text_field: str = "text",
        lateness: float = 0.0,
    ) -> None:
        self.slide, self.window_panes = time_panes_for(length, slide)
        self.every_panes = 1
        if lateness < 0:
            raise ConfigError(f"lateness must not be negative; got {lateness!r}")
        self.field, self.text_field, self.lateness = field, text_field, lateness
        self.max_time = -math.inf
        self.closed = -(10**18)  # windows ending at or before this pane are closed

    def assign(self, item: Chunk | Tick | End) -> PaneBatch:
        if isinstance(item, End):
            return PaneBatch(end=True)
        if isinstance(item, Tick):
            return PaneBatch()
        panes: dict[int, list[str]] = {}
        batch = PaneBatch(bad=item.bad)
        for line in item.lines:
            try:
                record = json.loads(line)
                t = parse_timestamp(record[self.field])
                text = record[self.text_field]
                if not isinstance(text, str):
                    raise ValueError("text is not a string")
            except (ValueError, KeyError, TypeError, IndexError, OverflowError):
                batch.bad += 1
                continue
            pane = math.floor(t / self.slide)
            if pane < self.closed:
                batch.late += 1
                batch.late_lines.append(line)
                # reported with the first window to close after it, however lines are chunked
                batch.late_at[self.closed] = batch.late_at.get(self.closed, 0) + 1
                continue
            panes.setdefault(pane, []).append(text)
            if t > self.max_time:
                self.max_time = t
                self.closed = max(self.closed, math.floor((t - self.lateness) / self.slide))
        batch.text = {p: _text(ls) for p, ls in panes.items()}
        batch.lines = {p: len(ls) for p, ls in panes.items()}
        batch.boundary = self.closed
        return batch

    def bounds(self, window: ClosedWindow, *, final: bool) -> tuple[float, float]:
        return window.start * self.slide, window.end * self.slide

    def tick_interval(self) -> float | None:
        return None

    def watermark(self) -> float | None:
        return self.max_time - self.lateness if math.isfinite(self.max_time) else None

    def config(self) -> dict[str, Any]:
        return {
            "kind": "event-time",
            "length": self.slide * self.window_panes,
            "slide": self.slide,
            "field": self.field,
            "text_field": self.text_field,
            "lateness": self.lateness,
        }

    def snapshot(self) -> dict[str, Any]:
        return {"max_time": self.max_time, "closed": self.closed}

    def restore(self, state: dict[str, Any]) -> None:
        self.max_time = float(state["max_time"])
        self.closed = int(state["closed"])


def make_windowing(
    *,
    count: int | None = None,
    window: float | str | None = None,
    every: int | float | str | None = None,
    event_time: str | None = None,
    text_field: str = "text",
    lateness: float | str | None = None,
) -> Windowing:
    """The windowing for user options: ``count`` lines, or a ``window`` duration.

    ``every`` is the slide (lines for count windows, a duration for time
    windows); ``event_time`` names the timestamp field of JSON lines.

    Examples
    --------
    >>> type(make_windowing(count=100)).__name__
    'CountWindowing'
    >>> make_windowing(window="1m", every="10s").window_panes
    6
    """
    from toolkit.units import parse_duration

    if (count is None) == (window is None):
        raise ConfigError("give exactly one of --count N or --window DURATION")
    if count is not None:
        if event_time or lateness:
            raise ConfigError("--event-time and --lateness go with --window, not --count")
        try:
            step = int(every) if every is not None else None
        except ValueError:
            raise ConfigError(
                f"with --count, --every is a number of lines; got {every!r}"
            ) from None
        return CountWindowing(count, step)
    assert window is not None
    length = parse_duration(window)
    slide = parse_duration(every) if every is not None else None
    if event_time:
        late = parse_duration(lateness) if lateness not in (None, 0, "0") else 0.0
        return EventTimeWindowing(
            length, slide, field=event_time, text_field=text_field, lateness=late
        )
    if lateness:
        raise ConfigError("--lateness needs --event-time")
    return ProcessingTimeWindowing(length, slide)


# -- streamz nodes -------------------------------------------------------------------------


@register_node
class assign_panes(Stream):
    """Map chunks, ticks and the end marker to :class:`PaneBatch` with a windowing."""

    def __init__(self, upstream: Stream, windowing: Windowing, **kwargs: Any) -> None:
        self.windowing = windowing
        Stream.__init__(self, upstream, **kwargs)

    def update(self, x: Any, who: Any = None, metadata: Any = None) -> Any:
        return self._emit(self.windowing.assign(x), metadata=metadata)


@register_node
class pane_window(Stream):
    """Merge :class:`PaneCounts` into pane windows and emit each closed window's result.

    Parameters
    ----------
    upstream
        A stream of PaneCounts, in arrival order.
    windowing
        The windowing that assigned the panes.
    top
        Words per result (0: all).
    """

    def __init__(self, upstream: Stream, windowing: Windowing, top: int = 10, **kwargs: Any):
        if isinstance(top, bool) or not isinstance(top, int) or top < 0:
            raise ConfigError(f"top must be a non-negative int (0 for all); got {top!r}")
        self.windowing = windowing
        self.top = top
        self.windows = PaneWindows(windowing.window_panes, windowing.every_panes, top=top)
        # late events not reported yet, by the watermark pane when they came: each is
        # reported with the first window that closes after it
        self.late_pending: Counter[int] = Counter()
        self.last: tuple[float, float] | None = None  # bounds of the last window emitted
        Stream.__init__(self, upstream, **kwargs)

    def snapshot(self) -> dict[str, Any]:
        """The open windows, unreported late events and the last window emitted (JSON-able)."""
        return {
            "panes": self.windows.snapshot(),
            "late_pending": sorted(self.late_pending.items()),
            "last": self.last,
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Continue from a :meth:`snapshot`."""
        self.windows.restore(state["panes"])
        self.late_pending = Counter({int(k): int(n) for k, n in state["late_pending"]})
        self.last = tuple(state["last"]) if state["last"] is not None else None

    def _take_late(self, end: int) -> int:
        due = [k for k in self.late_pending if k < end]
        return sum(self.late_pending.pop(k) for k in due)

    def update(self, x: PaneCounts, who: Any = None, metadata: Any = None) -> Any:
        w = self.windows
        for pane, counts in x.counts.items():
            w.add(pane, counts, x.lines[pane])
        self.late_pending.update(x.late_at)
        if x.end and x.boundary is None:
            closed = w.flush()
        elif x.boundary is not None:
            closed = w.close_until(x.boundary)
        else:
            closed = []
        results = []
        for window in closed:
            start, end = self.windowing.bounds(window, final=x.end)
            late = self._take_late(window.end) if self.windowing.reports_late else None
            result = WindowResult(start, end, window.lines, window.words, window.top, late)
            self.last = (start, end)
            results.extend(self._emit(result, metadata=metadata))
        return results
