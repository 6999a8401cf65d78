"""Window kinds: which pane each line goes to, and up to which pane windows may close.

Every window kind is made of *panes*.  Count windows of ``size`` lines emitted
every ``every`` lines use panes of ``gcd(size, every)`` lines; time windows of
``length`` seconds sliding by ``slide`` use panes of one slide.  A window is
``window_panes`` consecutive panes, and one ends every ``every_panes`` panes.
A *windowing* (:class:`CountWindowing`, :class:`ProcessingTimeWindowing`,
:class:`EventTimeWindowing`) turns each chunk of lines into text per pane
(:class:`~toolkit.stream.messages.PaneBatch`), says which lines were late or
bad, and how far windows may close.  Nothing here reads a clock: callers pass
times in, so tests drive it by hand.
"""

from __future__ import annotations

import datetime
import json
import math
from typing import Any, Protocol

from toolkit.errors import ConfigError
from toolkit.stream.messages import Chunk, End, PaneBatch, Tick
from toolkit.stream.windows import ClosedWindow

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
        self.pane_lines, self.window_panes, self.every_panes = count_pane_sizes(size, every)
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
        self.slide, self.window_panes = time_pane_sizes(length, slide)
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
        return PaneBatch(text=text, lines=lines, bad=item.bad, boundary=pane)

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
        self.slide, self.window_panes = time_pane_sizes(length, slide)
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
                batch.late_events.add(line, self.closed)
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


def count_pane_sizes(size: int, every: int | None = None) -> tuple[int, int, int]:
    """Pane size in lines, window panes and every-panes for count windows.

    Examples
    --------
    >>> count_pane_sizes(10, 4)
    (2, 5, 2)
    >>> count_pane_sizes(100)
    (100, 1, 1)
    """
    every = size if every is None else every
    for name, value in (("count window size", size), ("count window every", every)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{name} must be a positive int; got {value!r}")
    g = math.gcd(size, every)
    return g, size // g, every // g


def time_pane_sizes(length: float, slide: float | None = None) -> tuple[float, int]:
    """Pane length in seconds and panes per window; ``length`` must be a multiple of ``slide``.

    Examples
    --------
    >>> time_pane_sizes(60, 10)
    (10, 6)
    >>> time_pane_sizes(0.5)
    (0.5, 1)
    """
    slide = length if slide is None else slide
    if not length > 0 or not slide > 0:
        raise ConfigError(f"window length and slide must be positive; got {length!r}, {slide!r}")
    ratio = length / slide
    if abs(ratio - round(ratio)) > 1e-9 or round(ratio) < 1:
        raise ConfigError(
            f"window length must be a whole multiple of the slide; got {length:g}s and {slide:g}s"
        )
    return slide, round(ratio)
