"""The streamz nodes of a windowed job: ``assign_panes`` and the window nodes.

Registered on ``streamz.Stream``: ``assign_panes`` applies a windowing
(:mod:`toolkit.stream.windowing`, :mod:`toolkit.stream.sessions`) to chunks,
ticks and the end; ``count_panes`` (:mod:`toolkit.stream.counting`) runs a
worker job on each batch, here or on the cluster; then a window node keeps
the open windows and emits each closed one: ``pane_window`` for word counts
(:class:`~toolkit.stream.messages.WindowResult`), ``keyed_window`` for a user
job (:class:`~toolkit.stream.messages.KeyedWindowResult`), ``session_window``
for sessions of either.
"""

from __future__ import annotations

import base64
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from streamz import Stream

from toolkit.errors import ConfigError
from toolkit.jobs.keyed import KeyedJob
from toolkit.jobs.results import json_text, ordered_results
from toolkit.stream.keyed_windows import KeyedPaneWindows
from toolkit.stream.kinds.base import Windowing
from toolkit.stream.messages import (
    KeyedWindowResult,
    PaneCounts,
    Panes,
    PaneStates,
    Part,
    SessionParts,
    SessionResult,
    WindowResult,
)
from toolkit.stream.registration import register_node
from toolkit.stream.sessions import OpenSessions
from toolkit.stream.windows import PaneWindows

__all__ = ["assign_panes", "keyed_window", "pane_window", "session_window"]


def _check_top(top: int) -> int:
    if isinstance(top, bool) or not isinstance(top, int) or top < 0:
        raise ConfigError(f"top must be a non-negative int (0 for all); got {top!r}")
    return top


def pickled(value: Any) -> str:
    """``value`` as text for a JSON checkpoint (cloudpickle: a user's classes travel too)."""
    import cloudpickle

    return base64.b64encode(cloudpickle.dumps(value)).decode("ascii")


def unpickled(text: str) -> Any:
    """The value of :func:`pickled` text."""
    import pickle

    return pickle.loads(base64.b64decode(text))


@register_node
class assign_panes(Stream):
    """Map chunks, ticks and the end marker to batches of panes (or session events)."""

    def __init__(self, upstream: Stream, windowing: Any, **kwargs: Any) -> None:
        self.windowing = windowing
        Stream.__init__(self, upstream, **kwargs)

    def update(self, x: Any, who: Any = None, metadata: Any = None) -> Any:
        return self._emit(self.windowing.assign(x), metadata=metadata)


class _ResultNode(Stream):
    """A node that emits results, each with the late events that came before it.

    Late events are kept by the point (pane, or watermark) at which they came;
    each is reported with the first result that closes after that point, so
    the report does not depend on how lines were chunked.
    """

    def __init__(
        self,
        upstream: Stream,
        windowing: Any,
        *,
        emit_every: float | None = None,
        clock: Callable[[], float] = time.time,
        **kwargs: Any,
    ) -> None:
        if emit_every is not None and not emit_every > 0:
            raise ConfigError(f"emit every must be positive seconds; got {emit_every!r}")
        self.windowing = windowing
        self.late_pending: Counter[float] = Counter()
        self.last: tuple[float, float] | None = None  # bounds of the last result emitted
        self.emit_every, self.clock = emit_every, clock
        self.final = True if emit_every is not None else None  # marked only with early results
        self._next_early: float | None = None
        Stream.__init__(self, upstream, **kwargs)

    def _early(self, metadata: Any) -> list[Any]:
        """Every ``emit_every`` seconds of wall time, each open result so far (not final)."""
        if self.emit_every is None:
            return []
        now = self.clock()
        if self._next_early is None:
            self._next_early = now + self.emit_every
        if now < self._next_early:
            return []
        self._next_early = now + self.emit_every
        out = []
        for result in self._open_results():
            out.extend(self._emit(result, metadata=metadata))
        return out

    def _open_results(self) -> list[Any]:
        raise NotImplementedError

    def _take_late(self, end: float) -> int | None:
        if not self.windowing.reports_late:
            return None
        due = [k for k in self.late_pending if k < end]
        return sum(self.late_pending.pop(k) for k in due)

    def _note(self, x: Panes) -> None:
        self.late_pending.update(x.late_events.due)

    def snapshot(self) -> dict[str, Any]:
        """The open windows, unreported late events and the last result emitted (JSON-able)."""
        return {
            "open": self._snapshot_open(),
            "late_pending": sorted(self.late_pending.items()),
            "last": self.last,
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Continue from a :meth:`snapshot`."""
        self._restore_open(state["open"])
        self.late_pending = Counter({float(k): int(n) for k, n in state["late_pending"]})
        self.last = tuple(state["last"]) if state["last"] is not None else None

    def _snapshot_open(self) -> Any:
        raise NotImplementedError

    def _restore_open(self, state: Any) -> None:
        raise NotImplementedError


@register_node
class pane_window(_ResultNode):
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
        """``emit_every`` (seconds) and ``clock``: also emit each open window so far."""
        self.top = _check_top(top)
        self.windows = PaneWindows(windowing.window_panes, windowing.every_panes, top=top)
        _ResultNode.__init__(self, upstream, windowing, **kwargs)

    def _snapshot_open(self) -> Any:
        return self.windows.snapshot()

    def _restore_open(self, state: Any) -> None:
        self.windows.restore(state)

    def update(self, x: PaneCounts, who: Any = None, metadata: Any = None) -> Any:
        w = self.windows
        for pane, counts in x.counts.items():
            w.add(pane, counts, x.lines[pane])
        self._note(x)
        closed = _closing(w, x)
        results = []
        for window in closed:
            start, end = self.windowing.bounds(window, final=x.end)
            late = self._take_late(window.end)
            result = WindowResult(
                start, end, window.lines, window.words, window.top, late, self.final
            )
            self.last = (start, end)
            results.extend(self._emit(result, metadata=metadata))
        return results + self._early(metadata)

    def _open_results(self) -> list[Any]:
        out = []
        for end in self.windows.open_ends():
            window = self.windows.peek(end)
            start, stop = self.windowing.bounds(window, final=False)
            top = window.top
            out.append(WindowResult(start, stop, window.lines, window.words, top, None, False))
        return out


def _closing(windows: Any, x: Panes) -> list[Any]:
    if x.end and x.boundary is None:
        return list(windows.flush())
    if x.boundary is not None:
        return list(windows.close_until(x.boundary))
    return []


@register_node
class keyed_window(_ResultNode):
    """Merge a user job's :class:`PaneStates` into windows; emit each closed window's results.

    Parameters
    ----------
    upstream
        A stream of PaneStates, in arrival order.
    windowing
        The windowing that assigned the panes.
    job
        The user job (to merge and finish its states).
    top
        Keys per result, ranked by value (0: all; numeric values only).

    Examples
    --------
    >>> from streamz import Stream
    >>> from toolkit.jobs import KeyedJob, combining
    >>> from toolkit.stream import Chunk, CountWindowing, End, KeyedPaneJob
    >>> job = KeyedJob(lambda line: [(line, 1)], combining(lambda a, b: a + b))
    >>> w = CountWindowing(2)
    >>> source = Stream()
    >>> folded = source.assign_panes(w).count_panes(KeyedPaneJob(job))
    >>> out = folded.keyed_window(w, job).sink_to_list()
    >>> for chunk in (Chunk(["a", "b", "a"]), End()):
    ...     source.emit(chunk)
    >>> [r.to_dict()["results"] for r in out]
    [[['a', 1], ['b', 1]], [['a', 1]]]
    """

    def __init__(
        self, upstream: Stream, windowing: Windowing, job: KeyedJob, top: int = 0, **kwargs: Any
    ) -> None:
        self.job = job
        self.top = _check_top(top)
        self.windows = KeyedPaneWindows(windowing.window_panes, windowing.every_panes, job)
        _ResultNode.__init__(self, upstream, windowing, **kwargs)

    def _snapshot_open(self) -> Any:
        w = self.windows
        return {"closed": w.closed, "panes": pickled(sorted(w.panes.items()))}

    def _restore_open(self, state: Any) -> None:
        self.windows.closed = int(state["closed"])
        self.windows.panes = dict(unpickled(state["panes"]))

    def update(self, x: PaneStates, who: Any = None, metadata: Any = None) -> Any:
        w = self.windows
        for pane, state in x.states.items():
            w.add(pane, state)
        self._note(x)
        results = []
        for window in _closing(w, x):
            start, end = self.windowing.bounds(window, final=x.end)
            pairs = ordered_results(self.job.finish(window.state), self.top)
            late = self._take_late(window.end)
            state = window.state
            result = KeyedWindowResult(
                start, end, state.records, len(state), pairs, late, self.final
            )
            self.last = (start, end)
            results.extend(self._emit(result, metadata=metadata))
        return results + self._early(metadata)

    def _open_results(self) -> list[Any]:
        out = []
        for end in self.windows.open_ends():
            window = self.windows.peek(end)
            start, stop = self.windowing.bounds(window, final=False)
            pairs = ordered_results(self.job.finish(window.state), self.top)
            state = window.state
            out.append(
                KeyedWindowResult(start, stop, state.records, len(state), pairs, None, False)
            )
        return out


@register_node
class session_window(_ResultNode):
    """Merge :class:`SessionParts` into open sessions; emit each session as it closes.

    With ``job`` (a user job) every key has its sessions and each closes as a
    :class:`~toolkit.stream.messages.SessionResult`; without, sessions are of
    the whole stream's words, as a word count's
    :class:`~toolkit.stream.messages.WindowResult`.  Sessions closing together
    come by end, then key.
    """

    def __init__(
        self,
        upstream: Stream,
        windowing: Any,
        job: KeyedJob | None = None,
        top: int = 10,
        **kwargs: Any,
    ) -> None:
        self.job = job
        self.top = _check_top(top)
        merge = job.combine.merge if job is not None else _merge_tables
        self.sessions = OpenSessions(windowing.gap, merge)
        _ResultNode.__init__(self, upstream, windowing, **kwargs)

    def _snapshot_open(self) -> Any:
        return pickled(self.sessions.items())

    def _restore_open(self, state: Any) -> None:
        self.sessions.restore(unpickled(state))

    def update(self, x: SessionParts, who: Any = None, metadata: Any = None) -> Any:
        sessions = self.sessions
        for key, parts in x.parts.items():
            for part in parts:
                sessions.add(key, part)
        self._note(x)
        if x.end:
            closed = sessions.close_all()
        elif x.watermark is not None:
            closed = sessions.close(x.watermark)
        else:
            closed = []
        results = []
        for key, part in self._in_order(closed):
            result = self._result(key, part, self._take_late(part[1] + self.windowing.gap))
            self.last = (result.start, result.end)
            results.extend(self._emit(result, metadata=metadata))
        return results + self._early(metadata)

    def _in_order(self, sessions: list[tuple[Any, Part]]) -> list[tuple[Any, Part]]:
        gap = self.windowing.gap
        return sorted(sessions, key=lambda kp: (kp[1][1] + gap, json_text(kp[0], "key")))

    def _result(self, key: Any, part: Part, late: int | None, final: bool | None = None) -> Any:
        first, last, records, value = part
        end = last + self.windowing.gap
        final = self.final if final is None else final
        if self.job is None:
            top = value.top(self.top)
            return WindowResult(first, end, records, value.total, top, late, final)
        result = self.job.finish({key: value})[key]
        json_text(result, f"the value of key {json_text(key, 'key')}:")
        return SessionResult(key, first, end, records, result, late, final)

    def _open_results(self) -> list[Any]:
        sessions = self._in_order(self.sessions.items())
        return [self._result(key, part, None, final=False) for key, part in sessions]


def _merge_tables(a: Any, b: Any) -> Any:
    a.merge(b)
    return a
