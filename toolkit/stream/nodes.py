"""The streamz nodes of a windowed job: ``assign_panes`` and the window node.

Registered on ``streamz.Stream``: ``assign_panes`` applies a windowing (a
window kind's logic, :mod:`toolkit.stream.kinds`) to chunks, ticks and the
end; ``count_panes`` (:mod:`toolkit.stream.counting`) runs a worker job on
each batch, here or on the cluster; then ``window``, one node for every kind,
keeps the open windows (their shape: :mod:`toolkit.stream.open_windows`) and
emits each closed one with the late events before it.  ``pane_window`` (word
counts), ``keyed_window`` (a user job) and ``session_window`` (sessions of
either) are that node with its shape chosen.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from streamz import Stream

from toolkit.errors import ConfigError
from toolkit.jobs.keyed import KeyedJob
from toolkit.stream.kinds.base import Windowing
from toolkit.stream.open_windows import KeyedWindows, OpenResults, SessionWindows, WordWindows
from toolkit.stream.registration import register_node

__all__ = [
    "assign_panes",
    "keyed_window",
    "pane_window",
    "session_window",
    "window",
]


@register_node
class assign_panes(Stream):
    """Map chunks, ticks and the end marker to batches of panes (or session events)."""

    def __init__(self, upstream: Stream, windowing: Any, **kwargs: Any) -> None:
        self.windowing = windowing
        Stream.__init__(self, upstream, **kwargs)

    def update(self, x: Any, who: Any = None, metadata: Any = None) -> Any:
        return self._emit(self.windowing.assign(x), metadata=metadata)


@register_node
class window(Stream):
    """Merge folded batches into open windows; emit each closed one, with its late events.

    One node for every window kind: what is open, and what its results are, is
    ``opened``'s (:mod:`toolkit.stream.open_windows`).  Late events are kept by
    the point (pane, or watermark) at which they came; each is reported with the
    first result that closes after that point, so the report does not depend on
    how lines were chunked.

    Parameters
    ----------
    upstream
        A stream of folded batches, in arrival order (``count_panes``' results).
    windowing
        The windowing that assigned them (it says whether late events are reported).
    opened
        The open windows, of the kind's shape.
    emit_every, clock
        Also emit each open window's result so far every ``emit_every`` seconds of
        ``clock``, marked ``final: false`` (closing results are then ``final: true``).
    """

    def __init__(
        self,
        upstream: Stream,
        windowing: Windowing,
        opened: OpenResults,
        *,
        emit_every: float | None = None,
        clock: Callable[[], float] = time.time,
        **kwargs: Any,
    ) -> None:
        if emit_every is not None and not emit_every > 0:
            raise ConfigError(f"emit every must be positive seconds; got {emit_every!r}")
        self.windowing, self.opened = windowing, opened
        self.late_pending: Counter[float] = Counter()
        self.last: tuple[float, float] | None = None  # bounds of the last result emitted
        self.emit_every, self.clock = emit_every, clock
        self.final = True if emit_every is not None else None  # marked only with early results
        self._next_early: float | None = None
        Stream.__init__(self, upstream, **kwargs)

    def update(self, x: Any, who: Any = None, metadata: Any = None) -> Any:
        self.opened.add(x)
        self.late_pending.update(x.late_events.due)
        out = []
        for result, point in self.opened.close(x):
            closed = replace(result, late=self._take_late(point), final=self.final)
            self.last = (closed.start, closed.end)
            out.extend(self._emit(closed, metadata=metadata))
        return out + self._early(metadata)

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
        for result in self.opened.peek():
            out.extend(self._emit(replace(result, final=False), metadata=metadata))
        return out

    def _take_late(self, point: float) -> int | None:
        if not self.windowing.reports_late:
            return None
        due = [k for k in self.late_pending if k < point]
        return sum(self.late_pending.pop(k) for k in due)

    def snapshot(self) -> dict[str, Any]:
        """The open windows, unreported late events and the last result emitted (JSON-able)."""
        return {
            "open": self.opened.snapshot(),
            "late_pending": sorted(self.late_pending.items()),
            "last": self.last,
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Continue from a :meth:`snapshot`."""
        self.opened.restore(state["open"])
        self.late_pending = Counter({float(k): int(n) for k, n in state["late_pending"]})
        self.last = tuple(state["last"]) if state["last"] is not None else None


@register_node
class pane_window(window):
    """The window node over a word count's :class:`~toolkit.stream.messages.PaneCounts`:
    each closed window as a :class:`~toolkit.stream.messages.WindowResult` of its
    ``top`` words (0: all)."""

    def __init__(self, upstream: Stream, windowing: Windowing, top: int = 10, **kwargs: Any):
        window.__init__(self, upstream, windowing, WordWindows(windowing, top), **kwargs)


@register_node
class keyed_window(window):
    """The window node over a user job's :class:`~toolkit.stream.messages.PaneStates`:
    each closed window as a :class:`~toolkit.stream.messages.KeyedWindowResult` of its
    ``top`` keys by value (0: all; numeric values only).

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
        window.__init__(self, upstream, windowing, KeyedWindows(windowing, job, top), **kwargs)


@register_node
class session_window(window):
    """The window node over :class:`~toolkit.stream.messages.SessionParts`: with ``job`` (a
    user job) every key has its sessions, each closing as a
    :class:`~toolkit.stream.messages.SessionResult`; without, sessions are of the whole
    stream's words, as a word count's :class:`~toolkit.stream.messages.WindowResult`."""

    def __init__(
        self,
        upstream: Stream,
        windowing: Any,
        job: KeyedJob | None = None,
        top: int = 10,
        **kwargs: Any,
    ) -> None:
        opened = SessionWindows(windowing.gap, job, top)
        window.__init__(self, upstream, windowing, opened, **kwargs)
