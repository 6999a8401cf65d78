from __future__ import annotations

import random
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.stream.kinds.windowed import LINES, chunked, pipeline, recount
from toolkit.stream.kinds import CountWindowing, CountWindows
from toolkit.stream.messages import Chunk, End
from toolkit.text import top_k


@settings(max_examples=60, deadline=None)
@given(
    size=st.integers(1, 40),
    every=st.one_of(st.none(), st.integers(1, 40)),
    seed=st.integers(0, 9),
    n=st.integers(0, 300),
)
def test_count_windows_equal_a_brute_force_recount(
    size: int, every: int | None, seed: int, n: int
) -> None:
    lines = LINES[:n]
    head, out = pipeline(CountWindowing(size, every))
    for chunk in chunked(lines, random.Random(seed)):
        head.emit(Chunk(chunk))
    head.emit(End())
    m = every or size
    ends = list(range(m, n + 1, m))
    if n % m:  # the window that would come next, cut at the last line, if it holds any
        nxt = (n // m + 1) * m
        if max(0, nxt - size) < n:
            ends.append(nxt)
    expected = []
    for end in ends:
        start, stop = max(0, end - size), min(end, n)
        if stop > start:
            counts = recount(lines[start:stop])
            expected.append((start, stop, stop - start, sum(counts.values()), top_k(counts, None)))
    assert [(r.start, r.end, r.lines, r.words, r.top) for r in out] == expected
    if every is None:  # tumbling: every line counted exactly once
        assert sum(r.lines for r in out) == n
        total: Counter[str] = Counter()
        for r in out:
            total.update(dict(r.top))
        assert total == recount(lines)


def test_the_config_makes_the_logic_and_names_it() -> None:
    kind = CountWindows(10, 4, "jsonl")
    w = kind.logic()
    assert isinstance(w, CountWindowing) and w.kind == kind
    assert w.config() == {"kind": "count", "size": 10, "every": 4, "records": "jsonl"}
    assert CountWindowing(7).config() == {"kind": "count", "size": 7, "every": 7}
