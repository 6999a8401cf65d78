"""The streamz nodes of a windowed count: ``assign_panes`` and ``pane_window``.

Registered on ``streamz.Stream``: ``assign_panes`` applies a windowing
(:mod:`toolkit.stream.windowing`) to chunks, ticks and the end; ``count_panes``
(:mod:`toolkit.stream.counting`) counts the panes, here or on the cluster;
``pane_window`` merges the counts into the open windows
(:mod:`toolkit.stream.windows`) and emits each closed window's
:class:`~toolkit.stream.messages.WindowResult`.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from streamz import Stream

from toolkit.errors import ConfigError
from toolkit.stream.messages import PaneCounts, WindowResult
from toolkit.stream.registration import register_node
from toolkit.stream.windowing import Windowing
from toolkit.stream.windows import PaneWindows

__all__ = ["assign_panes", "pane_window"]


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
        self.late_pending.update(x.late_events.due)
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
