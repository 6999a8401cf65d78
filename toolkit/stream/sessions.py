"""Session windows: maximal runs of events whose successive times are less than a gap apart.

A session is ``[first event time, last event time + gap)``.  The driver's
:class:`~toolkit.stream.kinds.session.SessionWindowing` gives each chunk's
events their times by arrival; in event time it ships the chunk whole, and the
worker reads each record's time once and sets the late ones aside (the driver
settles that, in order: :mod:`toolkit.stream.eventwindows`).  A worker cuts a
micro-batch's events into *parts* (:func:`cut_sessions`), per key; the driver's
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

from toolkit.stream.messages import Part

__all__ = ["OpenSessions", "cut_sessions"]


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
