"""What a window node keeps open, as results: one class per shape of window, one protocol.

The window node (:class:`~toolkit.stream.nodes.window`) is the same for every
window kind: it merges each folded batch into its :class:`OpenResults`, emits
the results that closed (each with the late events that came before it), and
every so often the open ones so far.  What is open, and what a result of it
is, is the shape's:

- :class:`WordWindows`: a word count's windows made of panes (word tables,
  :class:`~toolkit.stream.windows.PaneWindows`) -> ``WindowResult``
- :class:`KeyedWindows`: a user job's windows made of panes (keyed states,
  :class:`~toolkit.stream.keyed_windows.KeyedPaneWindows`) -> ``KeyedWindowResult``
- :class:`SessionWindows`: sessions of a word count (of the stream) or of a
  user job (per key) (:class:`~toolkit.stream.sessions.OpenSessions`) ->
  ``WindowResult`` or ``SessionResult``

A window kind picks its shape (:mod:`toolkit.stream.kinds`); a new shape is
one class here.  Results come out without ``late`` and ``final``: the node
adds them.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any, Protocol

from toolkit.errors import ConfigError
from toolkit.jobs.keyed import KeyedJob
from toolkit.jobs.results import json_text, ordered_results
from toolkit.stream.keyed_windows import KeyedPaneWindows
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
from toolkit.stream.sessions import OpenSessions
from toolkit.stream.windows import PaneSchedule, PaneWindows

__all__ = [
    "KeyedWindows",
    "OpenResults",
    "SessionWindows",
    "WordWindows",
    "check_top",
    "pickled",
    "unpickled",
]


class OpenResults(Protocol):
    """The open windows (or sessions) of a window node, and the results they make."""

    def add(self, x: Any) -> None:
        """Merge a folded batch into the open windows."""
        ...

    def close(self, x: Panes) -> list[tuple[Any, float]]:
        """The results that ``x`` closes, in order, each with the point (a pane, or a time)
        below which a late event is reported with it."""
        ...

    def peek(self) -> list[Any]:
        """Every open window's result so far (not final), in order."""
        ...

    def snapshot(self) -> Any: ...

    def restore(self, state: Any) -> None: ...


def check_top(top: int) -> int:
    """``top`` if it is a count of results to keep (0: all)."""
    if isinstance(top, bool) or not isinstance(top, int) or top < 0:
        raise ConfigError(f"top must be a non-negative int (0 for all); got {top!r}")
    return top


def pickled(value: Any) -> str:
    """``value`` as text for a JSON checkpoint (cloudpickle: a user's classes travel too)."""
    import cloudpickle

    return base64.b64encode(cloudpickle.dumps(value)).decode("ascii")


def unpickled(text: str) -> Any:
    """The value of a :func:`pickled` text."""
    import pickle

    return pickle.loads(base64.b64decode(text))


def _closing(windows: PaneSchedule, x: Panes) -> list[Any]:
    """The windows of panes that ``x`` closes: up to its boundary, or all at the end."""
    if x.end and x.boundary is None:
        return list(windows.flush())
    if x.boundary is not None:
        return list(windows.close_until(x.boundary))
    return []


class WordWindows:
    """A word count's open windows of panes, as :class:`WindowResult` s."""

    def __init__(self, windowing: Any, top: int = 10) -> None:
        self.windowing, self.top = windowing, check_top(top)
        self.windows = PaneWindows(windowing.window_panes, windowing.every_panes, top=top)

    def add(self, x: PaneCounts) -> None:
        for pane, counts in x.counts.items():
            self.windows.add(pane, counts, x.lines[pane])

    def _result(self, window: Any, final: bool) -> WindowResult:
        start, end = self.windowing.bounds(window, final=final)
        return WindowResult(start, end, window.lines, window.words, window.top)

    def close(self, x: Panes) -> list[tuple[Any, float]]:
        return [(self._result(w, x.end), w.end) for w in _closing(self.windows, x)]

    def peek(self) -> list[Any]:
        return [self._result(self.windows.peek(end), False) for end in self.windows.open_ends()]

    def snapshot(self) -> Any:
        return self.windows.snapshot()

    def restore(self, state: Any) -> None:
        self.windows.restore(state)


class KeyedWindows:
    """A user job's open windows of panes, as :class:`KeyedWindowResult` s."""

    def __init__(self, windowing: Any, job: KeyedJob, top: int = 0) -> None:
        self.windowing, self.job, self.top = windowing, job, check_top(top)
        self.windows = KeyedPaneWindows(windowing.window_panes, windowing.every_panes, job)

    def add(self, x: PaneStates) -> None:
        for pane, state in x.states.items():
            self.windows.add(pane, state)

    def _result(self, window: Any, final: bool) -> KeyedWindowResult:
        start, end = self.windowing.bounds(window, final=final)
        state = window.state
        pairs = ordered_results(self.job.finish(state), self.top)
        return KeyedWindowResult(start, end, state.records, len(state), pairs)

    def close(self, x: Panes) -> list[tuple[Any, float]]:
        return [(self._result(w, x.end), w.end) for w in _closing(self.windows, x)]

    def peek(self) -> list[Any]:
        return [self._result(self.windows.peek(end), False) for end in self.windows.open_ends()]

    def snapshot(self) -> Any:
        w = self.windows
        return {"closed": w.closed, "panes": pickled(sorted(w.panes.items()))}

    def restore(self, state: Any) -> None:
        self.windows.closed = int(state["closed"])
        self.windows.panes = dict(unpickled(state["panes"]))


def _merge_tables(a: Any, b: Any) -> Any:
    a.merge(b)
    return a


class SessionWindows:
    """Open sessions, as results: of a user job per key (:class:`SessionResult`), or of a
    word count's whole stream (:class:`WindowResult`).  Sessions closing together come by
    end, then key."""

    def __init__(self, gap: float, job: KeyedJob | None = None, top: int = 10) -> None:
        self.gap, self.job, self.top = gap, job, check_top(top)
        merge: Callable[[Any, Any], Any] = job.combine.merge if job is not None else _merge_tables
        self.sessions = OpenSessions(gap, merge)

    def add(self, x: SessionParts) -> None:
        for key, parts in x.parts.items():
            for part in parts:
                self.sessions.add(key, part)

    def close(self, x: Any) -> list[tuple[Any, float]]:  # SessionParts
        if x.end:
            closed = self.sessions.close_all()
        elif x.watermark is not None:
            closed = self.sessions.close(x.watermark)
        else:
            closed = []
        ordered = self._in_order(closed)
        return [(self._result(key, part), part[1] + self.gap) for key, part in ordered]

    def _in_order(self, sessions: list[tuple[Any, Part]]) -> list[tuple[Any, Part]]:
        gap = self.gap
        return sorted(sessions, key=lambda kp: (kp[1][1] + gap, json_text(kp[0], "key")))

    def _result(self, key: Any, part: Part) -> Any:
        first, last, records, value = part
        end = last + self.gap
        if self.job is None:
            return WindowResult(first, end, records, value.total, value.top(self.top))
        result = self.job.finish({key: value})[key]
        json_text(result, f"the value of key {json_text(key, 'key')}:")
        return SessionResult(key, first, end, records, result)

    def peek(self) -> list[Any]:
        return [self._result(key, part) for key, part in self._in_order(self.sessions.items())]

    def snapshot(self) -> Any:
        return pickled(self.sessions.items())

    def restore(self, state: Any) -> None:
        self.sessions.restore(unpickled(state))
