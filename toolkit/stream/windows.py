"""The open windows of a stream: counts per pane, and the windows that close as panes complete.

:class:`PaneWindows` keeps one :class:`~toolkit.wordtable.WordTable` per pane
and the running total of the next window to close: a pane is added when it
enters and subtracted when it leaves (a merge of arrays, not a loop over
words), so a sliding window costs what a tumbling one does; a window's top
words are ranked from its count array, turning only those into strings, and
a window with the same content as the one before (the panes that left were
empty, as when an input ends) reuses its ranking.

Nothing here reads a clock: callers pass times in, so tests drive it by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from toolkit.errors import ConfigError
from toolkit.wordtable import WordTable

__all__ = ["ClosedWindow", "PaneSchedule", "PaneWindows"]


@dataclass
class Pane:
    counts: WordTable = field(default_factory=WordTable)
    lines: int = 0
    words: int = 0


@dataclass(frozen=True)
class ClosedWindow:
    """A window that closed: panes ``[start, end)``, its top words, lines and words."""

    start: int
    end: int
    top: list[tuple[str, int]]  # by count descending, then word
    lines: int
    words: int


class PaneSchedule:
    """Which windows close when: ``window_panes`` panes, one ending at every ``every_panes``.

    The panes themselves (``self.panes``, by number) and what a closing window
    makes of them are a subclass's: :meth:`_close` and :meth:`_prune`.
    """

    panes: dict[int, Any]

    def __init__(self, window_panes: int, every_panes: int) -> None:
        if window_panes < 1 or every_panes < 1:
            raise ConfigError("a window spans at least one pane and ends every pane or more")
        self.window_panes = window_panes
        self.every_panes = every_panes
        self.closed = -(10**18)  # every window with end <= closed has closed

    def is_closed(self, pane: int) -> bool:
        """Whether every window holding ``pane`` has already closed (a late pane)."""
        return pane < self.closed

    def _first_end_after(self, pane: int) -> int:
        """The end of the earliest window that holds ``pane``."""
        k = self.every_panes
        return (pane // k + 1) * k

    def close_until(self, boundary: int) -> list[Any]:
        """Close, in order, every window with ``end <= boundary`` that holds any line."""
        out: list[Any] = []
        while self.panes:
            # the earliest window not closed yet that holds the lowest pane
            end = max(self._first_end_after(min(self.panes)), self._first_end_after(self.closed))
            if end > boundary:
                break
            closed = self._close(end)
            if closed is not None:
                out.append(closed)
            self.closed = end
            self._prune()
        self.closed = max(self.closed, boundary)
        return out

    def flush(self) -> list[Any]:
        """Close every window that holds a line (at the end of a finite input)."""
        if not self.panes:
            return []
        last = max(self.panes)
        return self.close_until(last + self.window_panes + self.every_panes)

    def open_ends(self) -> list[int]:
        """The ends of the windows not closed yet that hold a pane, in order."""
        if not self.panes:
            return []
        first = max(self._first_end_after(min(self.panes)), self._first_end_after(self.closed))
        k = self.every_panes
        last = (max(self.panes) + self.window_panes) // k * k  # the last window holding it
        ends = range(first, last + 1, k)
        held = self.panes
        return [e for e in ends if any(p in held for p in range(e - self.window_panes, e))]

    def _close(self, end: int) -> Any:
        """The window of panes ``[end - window_panes, end)``, or None if it holds nothing."""
        raise NotImplementedError

    def _prune(self) -> None:
        """Drop panes that no window after ``closed`` holds."""
        nxt = self._first_end_after(self.closed)
        for pane in [p for p in self.panes if p < nxt - self.window_panes]:
            del self.panes[pane]


class PaneWindows(PaneSchedule):
    """Windows of word counts: a word table per pane, and the running total of the next window.

    Examples
    --------
    Tumbling windows of two panes:

    >>> w = PaneWindows(window_panes=2, every_panes=2)
    >>> w.add(0, {"a": 1}, lines=1); w.add(1, {"a": 1, "b": 1}, lines=1)
    >>> [(c.start, c.end, c.top) for c in w.close_until(2)]
    [(0, 2, [('a', 2), ('b', 1)])]
    """

    def __init__(self, window_panes: int, every_panes: int, *, top: int = 0) -> None:
        super().__init__(window_panes, every_panes)
        self.top = top  # words kept per closed window; 0 for all
        self.panes: dict[int, Pane] = {}
        self._end: int | None = None  # end of the window that `running` holds
        self._running = Pane()
        self._top: list[tuple[str, int]] | None = None  # the ranking of `_running`, if known

    # -- input ------------------------------------------------------------------------
    def add(self, pane: int, counts: WordTable | Mapping[str, int], lines: int) -> None:
        """Add the counts of ``lines`` lines to ``pane``, which must not be closed.

        ``counts`` is a word table (taken over: not to be changed after) or a
        mapping of final words (for a table of the default kind).
        """
        if self.is_closed(pane):
            raise ValueError(f"pane {pane} is closed (windows up to {self.closed} closed)")
        table = counts if isinstance(counts, WordTable) else WordTable.from_counts(counts)
        words = table.total
        p = self.panes.get(pane)
        if p is None:
            p = self.panes[pane] = Pane(table)  # its first counts: kept as they are
        else:
            p.counts.merge(table)
        p.lines += lines
        p.words += words
        end = self._end
        if end is not None and end - self.window_panes <= pane < end:
            self._running.counts.merge(table)
            self._running.lines += lines
            self._running.words += words
            self._top = None

    # -- checkpoints ------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """The open panes as compact counts (JSON-able); see :meth:`restore`.

        Examples
        --------
        >>> w = PaneWindows(2, 1); w.add(3, {"a": 2}, lines=1)
        >>> v = PaneWindows(2, 1); v.restore(w.snapshot())
        >>> [(c.start, c.end, c.top) for c in v.close_until(5)]
        [(2, 4, [('a', 2)]), (3, 5, [('a', 2)])]
        """
        panes = [
            [k, p.lines, p.words, dict(p.counts.to_counter())]
            for k, p in sorted(self.panes.items())
        ]
        kind = next((p.counts for p in self.panes.values()), WordTable())
        return {
            "closed": self.closed,
            "panes": panes,
            "tokenizer": kind.tokenizer,
            "lowercase": kind.lowercase,
        }

    def restore(self, state: Mapping[str, Any]) -> None:
        """Replace the open panes with a :meth:`snapshot`'s."""
        self.closed = int(state["closed"])
        kind = (state.get("tokenizer", "words"), bool(state.get("lowercase", True)))
        self.panes = {
            int(k): Pane(WordTable.from_counts(counts, *kind), int(lines), int(words))
            for k, lines, words, counts in state["panes"]
        }
        self._end = None  # the running total is rebuilt from the panes when next needed
        self._new_running()

    # -- closing ----------------------------------------------------------------------
    def _close(self, end: int) -> ClosedWindow | None:
        self._move_to(end)
        if not self._running.lines:
            return None
        r = self._running
        # summarised now: the running total moves on to the next window
        if self._top is None:
            self._top = r.counts.top(self.top)
        return ClosedWindow(end - self.window_panes, end, list(self._top), r.lines, r.words)

    def peek(self, end: int) -> ClosedWindow:
        """The window ending at ``end`` as it stands, left open (an early result)."""
        inside = [self.panes[p] for p in range(end - self.window_panes, end) if p in self.panes]
        table = WordTable(inside[0].counts.tokenizer, inside[0].counts.lowercase)
        for pane in inside:
            table.merge(pane.counts)
        lines, words = sum(p.lines for p in inside), sum(p.words for p in inside)
        return ClosedWindow(end - self.window_panes, end, table.top(self.top), lines, words)

    def _move_to(self, end: int) -> None:
        """Make ``_running`` hold the window ending at ``end``, incrementally if it is near."""
        if self._end == end:
            return
        if self._end is None or end - self._end >= self.window_panes:
            self._new_running()
            for pane in range(end - self.window_panes, end):
                self._add_running(pane, +1)
        else:
            for pane in range(self._end, end):  # panes entering
                self._add_running(pane, +1)
            for pane in range(self._end - self.window_panes, end - self.window_panes):
                self._add_running(pane, -1)  # panes leaving
        self._end = end

    def _prune(self) -> None:
        """Drop panes that no window after ``closed`` holds; then move to the next window."""
        if self._end is not None:
            self._move_to(self._first_end_after(self.closed))  # subtract leaving panes first
        super()._prune()
        if not self.panes:
            self._end = None
            self._new_running()

    def _add_running(self, pane: int, sign: int) -> None:
        p = self.panes.get(pane)
        if p is None:
            return
        r = self._running
        self._top = None
        if sign > 0:
            r.counts.merge(p.counts)
        elif p.lines == r.lines and p.words == r.words:
            # the window held this pane's lines only (each pane's counts are part of
            # the running counts, so equal totals mean equal counts): empty it at once
            self._new_running()
            return
        else:
            r.counts.subtract(p.counts)
        r.lines += sign * p.lines
        r.words += sign * p.words

    def _new_running(self) -> None:
        self._running = Pane()
        self._top = None
