"""The open windows of a user job: a keyed state per pane, merged when a window closes.

A user's reducer cannot be undone, so a sliding window is not a running total
as a word count's is (:mod:`toolkit.stream.windows`): when it closes, the
states of its panes are merged into a fresh one (each pane's state is left as
it was, for the windows after).  A tumbling window takes its single pane's
state as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from toolkit.jobs.keyed import KeyedJob, KeyedState
from toolkit.stream.windows import PaneSchedule

__all__ = ["ClosedKeyedWindow", "KeyedPaneWindows"]


@dataclass(frozen=True)
class ClosedKeyedWindow:
    """A window that closed: panes ``[start, end)`` and the merged state of their records."""

    start: int
    end: int
    state: KeyedState


class KeyedPaneWindows(PaneSchedule):
    """Windows of ``window_panes`` panes of keyed states, one ending every ``every_panes``.

    Examples
    --------
    >>> from toolkit.jobs import KeyedJob, combining
    >>> job = KeyedJob(lambda line: [(line, 1)], combining(lambda a, b: a + b))
    >>> w = KeyedPaneWindows(2, 1, job)
    >>> w.add(0, job.fold(job.empty(), ["a"])); w.add(1, job.fold(job.empty(), ["a", "b"]))
    >>> [(c.start, c.end, dict(c.state)) for c in w.close_until(3)]
    [(-1, 1, {'a': 1}), (0, 2, {'a': 2, 'b': 1}), (1, 3, {'a': 1, 'b': 1})]
    """

    def __init__(self, window_panes: int, every_panes: int, job: KeyedJob) -> None:
        super().__init__(window_panes, every_panes)
        self.job = job
        self.panes: dict[int, KeyedState] = {}

    def add(self, pane: int, state: KeyedState) -> None:
        """Merge ``state`` (taken over) into ``pane``, which must not be closed."""
        if self.is_closed(pane):
            raise ValueError(f"pane {pane} is closed (windows up to {self.closed} closed)")
        held = self.panes.get(pane)
        self.panes[pane] = state if held is None else self.job.merge(held, state)

    def peek(self, end: int) -> ClosedKeyedWindow:
        """The window ending at ``end`` as it stands, left open (an early result)."""
        merged = KeyedState()
        for p in range(end - self.window_panes, end):
            if p in self.panes:
                self.job.merge(merged, self.panes[p])
        return ClosedKeyedWindow(end - self.window_panes, end, merged)

    def _close(self, end: int) -> ClosedKeyedWindow | None:
        inside = [self.panes[p] for p in range(end - self.window_panes, end) if p in self.panes]
        if not any(s.records or s for s in inside):
            return None
        if self.window_panes == 1:
            return ClosedKeyedWindow(end - 1, end, inside[0])  # the pane goes with its window
        merged = KeyedState()
        for state in inside:
            self.job.merge(merged, state)
        return ClosedKeyedWindow(end - self.window_panes, end, merged)
