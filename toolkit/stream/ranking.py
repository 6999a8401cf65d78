"""The top words of a window's counts, kept up to date as a few words change at a time.

A sliding window's counts change by two panes each time it moves (one enters,
one leaves), but ranking all its words again costs as much as the window's whole
vocabulary.  :class:`RunningTop` keeps a *fence*, the ``(count, word)`` of the
first word left out of a ranking: the words ranking before it (the *leaders*, a
few more than the top ``k``) are known, and every other word ranks at or after
it.  A word whose count did not change keeps its side of the fence, so after a
change only the changed words are compared with it; the top ``k`` is then
ranked among the leaders.  When too few leaders are left, all the words are
ranked again.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from itertools import repeat

from toolkit.text import top_k

__all__ = ["RunningTop"]

_EVERY_WORD = (0, "")  # the fence when every word leads: any count above 0 is before it


class RunningTop:
    """The ``k`` most frequent words of a changing mapping (all words for ``k == 0``).

    Call :meth:`touched` with the words whose counts changed, :meth:`top` to rank,
    and :meth:`reset` when the mapping is replaced.

    Parameters
    ----------
    k
        Words to rank (0: all, which is always a full sort).
    slack
        Leaders kept beyond ``2 * k``: more leaders mean fewer full re-rankings.

    Examples
    --------
    >>> counts = {"a": 3, "b": 2, "c": 1}
    >>> top = RunningTop(1)
    >>> top.top(counts)
    [('a', 3)]
    >>> counts["c"] = 5
    >>> top.touched(["c"])
    >>> top.top(counts)
    [('c', 5)]
    """

    def __init__(self, k: int, slack: int = 32) -> None:
        self.k = k
        self.keep = 2 * k + slack  # leaders kept after a ranking
        self.rankings = 0  # full rankings of every word (for tests and tuning)
        self.reset()

    def reset(self) -> None:
        """Forget everything: the mapping was replaced."""
        self._fence: tuple[int, str] | None = None  # (count, word) of the first word left out
        self._leaders: set[str] = set()
        self._touched: list[Collection[str]] = []
        self._pending = 0
        self._top: list[tuple[str, int]] | None = None

    def touched(self, words: Collection[str]) -> None:
        """Note that the counts of ``words`` changed (read at the next :meth:`top`)."""
        self._touched.append(words)
        self._pending += len(words)
        self._top = None

    def top(self, counts: Mapping[str, int]) -> list[tuple[str, int]]:
        """The top words of ``counts``, by count descending then word."""
        if self._top is None:
            self._top = self._rank(counts)
        return list(self._top)

    def _rank(self, counts: Mapping[str, int]) -> list[tuple[str, int]]:
        if not self.k:
            self._touched.clear()
            self.rankings += 1
            return top_k(counts, 0)
        if self._fence is None or self._pending > len(counts):
            self._rank_all(counts)
        else:
            self._move_fence_sides(counts)
            if len(self._leaders) < self.k and self._fence != _EVERY_WORD:
                self._rank_all(counts)  # leaders fell behind the fence
            elif len(self._leaders) > 4 * self.keep:
                self._tighten(counts)
        self._touched.clear()
        self._pending = 0
        return top_k({w: counts[w] for w in self._leaders}, self.k)

    def _move_fence_sides(self, counts: Mapping[str, int]) -> None:
        """Put each touched word on its side of the fence (by count, then word)."""
        assert self._fence is not None
        fc, fw = self._fence
        leaders = self._leaders
        for words in self._touched:
            leaders.difference_update(words)
            now = map(counts.get, words, repeat(0))  # a C loop: most words are far behind
            ahead = [w for w, c in zip(words, now, strict=True) if c > fc or (c == fc and w < fw)]
            leaders.update(ahead)

    def _rank_all(self, counts: Mapping[str, int]) -> None:
        self.rankings += 1
        self._set_fence(top_k(counts, self.keep + 1))

    def _tighten(self, counts: Mapping[str, int]) -> None:
        """Keep fewer leaders: the fence moves up to the first word left out."""
        leaders = {w: counts[w] for w in self._leaders}
        self._set_fence(top_k(leaders, self.keep + 1))  # more than `keep`: see _rank

    def _set_fence(self, ranked: list[tuple[str, int]]) -> None:
        """Leaders and fence from the first ``keep + 1`` words (or all, if fewer) by key."""
        if len(ranked) <= self.keep:  # that was every word: all lead
            self._fence = _EVERY_WORD
            self._leaders = {w for w, _ in ranked}
            return
        word, count = ranked[self.keep]
        self._fence = (count, word)
        self._leaders = {w for w, _ in ranked[: self.keep]}
