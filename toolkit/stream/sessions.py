"""Session windows: maximal runs of events whose successive times are less than a gap apart.

A session is ``[first event time, last event time + gap)``.  The driver's
:class:`SessionWindowing` gives each chunk's events their times (arrival, or
event time) and sets the late ones aside; a worker cuts a micro-batch's
events into *parts* (:func:`cut_sessions`), per key; the driver's
:class:`OpenSessions` merges each part into the open sessions of its key (an
event within the gap of two sessions merges them) and closes a session once
the watermark reaches its end.  In event time an event below the watermark
when it arrives is late: it is in no session.  Nothing here reads a clock.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Callable, Sequence
from typing import Any

from toolkit.errors import ConfigError
from toolkit.jobs.records import RecordLines
from toolkit.stream.eventtime import EventTime
from toolkit.stream.messages import Chunk, End, Part, SessionBatch, Tick

__all__ = ["OpenSessions", "SessionWindowing", "cut_sessions"]


def cut_sessions(times: Sequence[float], gap: float) -> list[list[int]]:
    """Indices of ``times`` grouped into sessions: sorted by time, cut where the gap is >= ``gap``.

    Examples
    --------
    >>> cut_sessions([5.0, 1.0, 2.0, 9.0], gap=3)
    [[1, 2], [0], [3]]
    """
    order = sorted(range(len(times)), key=lambda i: (times[i], i))
    groups: list[list[int]] = []
    last = -math.inf
    for i in order:
        if not groups or times[i] - last >= gap:
            groups.append([])
        groups[-1].append(i)
        last = times[i]
    return groups


class SessionWindowing:
    """Times for sessions: by arrival (processing time), or from each record (event time).

    Examples
    --------
    >>> from toolkit.stream.eventtime import EventTime
    >>> w = SessionWindowing(10, events=EventTime("ts", text_field="text"))
    >>> b = w.assign(Chunk(['{"ts": 50, "text": "a"}', '{"ts": 20, "text": "late"}']))
    >>> b.text, b.times, b.watermark, b.late
    (['a'], [50.0], 50.0, 1)
    """

    window_panes = every_panes = 1

    def __init__(self, gap: float, *, events: EventTime | None = None, records: str = "lines"):
        if not gap > 0:
            raise ConfigError(f"session gap must be positive seconds; got {gap!r}")
        self.gap = gap
        self.events = events
        self.reports_late = events is not None
        self.records = events.records if events is not None else RecordLines(records)
        self.latest = -math.inf  # processing time: the latest clock seen

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
        config: dict[str, Any] = {"kind": "session", "gap": self.gap}
        if self.events is not None:
            config.update(self.events.config(), kind="event-time-session")
        elif self.records.records != "lines":
            config["records"] = self.records.records
        return config

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


class OpenSessions:
    """The open sessions of every key; parts merge in, and sessions close by the watermark.

    ``merge(a, b)`` merges two values of a key (it may change ``a``, never ``b``).

    Examples
    --------
    >>> s = OpenSessions(gap=10, merge=lambda a, b: a + b)
    >>> s.add("k", (0.0, 2.0, 1, 5)); s.add("k", (20.0, 20.0, 1, 1)); s.add("k", (8.0, 11.0, 2, 3))
    >>> s.close(100)  # the third part bridges the first two: one session
    [('k', (0.0, 20.0, 4, 9))]
    """

    def __init__(self, gap: float, merge: Callable[[Any, Any], Any]) -> None:
        self.gap = gap
        self.merge = merge
        self.open: dict[Any, dict[int, Part]] = {}  # key -> session id -> session
        self._heap: list[tuple[float, int, Any]] = []  # (end, id, key); stale once merged
        self._ids = itertools.count()

    def __len__(self) -> int:
        return sum(len(v) for v in self.open.values())

    def add(self, key: Any, part: Part) -> None:
        """Merge ``part`` (first, last, records, value) into ``key``'s sessions."""
        first, last, records, value = part
        gap = self.gap
        sessions = self.open.setdefault(key, {})
        touching = [
            sid for sid, (f, la, _, _) in sessions.items() if first - la < gap and f - last < gap
        ]
        for sid in sorted(touching, key=lambda s: sessions[s][0]):  # earliest first
            f, la, n, v = sessions.pop(sid)
            value = self.merge(v, value)
            first, last, records = min(f, first), max(la, last), records + n
        sid = next(self._ids)
        sessions[sid] = (first, last, records, value)
        heapq.heappush(self._heap, (last + gap, sid, key))

    def close(self, watermark: float) -> list[tuple[Any, Part]]:
        """Remove and return the sessions that end at or before ``watermark``, by end."""
        out: list[tuple[Any, Part]] = []
        heap = self._heap
        while heap and heap[0][0] <= watermark:
            _, sid, key = heapq.heappop(heap)
            sessions = self.open.get(key)
            if sessions is None or sid not in sessions:
                continue  # merged into a later one
            out.append((key, sessions.pop(sid)))
            if not sessions:
                del self.open[key]
        return out

    def close_all(self) -> list[tuple[Any, Part]]:
        """Every open session (at the end of a finite input), by end."""
        return self.close(math.inf)

    def items(self) -> list[tuple[Any, Part]]:
        """Every open session, for a checkpoint."""
        return [(key, part) for key, sessions in self.open.items() for part in sessions.values()]

    def restore(self, items: list[tuple[Any, Part]]) -> None:
        """Replace the open sessions with :meth:`items` of another."""
        self.open, self._heap = {}, []
        for key, (first, last, records, value) in items:
            sid = next(self._ids)
            self.open.setdefault(key, {})[sid] = (first, last, records, value)
            heapq.heappush(self._heap, (last + self.gap, sid, key))
