from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.errors import ConfigError
from toolkit.stream.panes import count_pane_sizes, time_pane_sizes
from toolkit.stream.windows import PaneWindows
from toolkit.text import top_k

ops = st.lists(
    st.one_of(
        st.tuples(
            st.just("add"), st.integers(0, 30), st.lists(st.sampled_from("abcde"), max_size=4)
        ),
        st.tuples(st.just("close"), st.integers(0, 40), st.just([])),
        st.tuples(st.just("restore"), st.just(0), st.just([])),
    ),
    max_size=60,
)


@settings(max_examples=400, deadline=None)
@given(
    window=st.integers(1, 5),
    every=st.integers(1, 5),
    script=ops,
    flush=st.booleans(),
    top=st.integers(0, 3),
)
def test_windows_equal_a_brute_force_recount(
    window: int, every: int, script: list[tuple[str, int, list[str]]], flush: bool, top: int
) -> None:
    """Closed windows, their lines, words and top words (ties by word), as a recount
    of every window gives them; also across a snapshot and restore."""
    w = PaneWindows(window, every, top=top)
    accepted: list[tuple[int, list[str]]] = []  # events counted, with their pane
    emitted = []
    boundary = -1
    for op, value, words in script:
        if op == "add":
            if w.is_closed(value):
                continue  # late: counted in no window
            w.add(value, Counter(words), lines=1)
            accepted.append((value, words))
        elif op == "restore":
            w2 = PaneWindows(window, every, top=top)
            w2.restore(w.snapshot())
            w = w2
        else:
            boundary = max(boundary, value)
            emitted += [(c.start, c.end, c.top, c.lines, c.words) for c in w.close_until(boundary)]
    if flush:
        emitted += [(c.start, c.end, c.top, c.lines, c.words) for c in w.flush()]
        boundary = 10**9
    # brute force: every window end up to the boundary that holds an accepted event
    expected = []
    for end in range(every, boundary + 1, every):
        inside = [ws for pane, ws in accepted if end - window <= pane < end]
        if inside:
            counts = Counter(x for ws in inside for x in ws)
            expected.append(
                (end - window, end, top_k(counts, top), len(inside), sum(counts.values()))
            )
        if end > 100:
            break
    assert emitted == expected


def test_sliding_is_incremental_not_a_recount() -> None:
    w = PaneWindows(window_panes=60, every_panes=1)
    for pane in range(200):
        w.add(pane, Counter({f"w{pane}": 1, "common": 1}), lines=1)
        w.close_until(pane)
    assert len(w.panes) <= 61  # only the panes a future window needs
    [last] = w.close_until(200)
    assert (last.start, last.end, last.lines, dict(last.top)["common"]) == (140, 200, 60, 60)
    assert "w139" not in dict(last.top) and dict(last.top)["w199"] == 1  # leaving panes subtracted


def test_late_panes_are_refused() -> None:
    w = PaneWindows(2, 2)
    w.add(5, Counter(a=1), lines=1)
    assert [c.end for c in w.close_until(6)] == [6]
    assert w.is_closed(5) and not w.is_closed(6)
    with pytest.raises(ValueError, match="pane 5 is closed"):
        w.add(5, Counter(a=1), lines=1)


def test_windows_with_no_lines_are_not_emitted() -> None:
    w = PaneWindows(1, 1)
    w.add(3, Counter(), lines=0)
    w.add(10**6, Counter(x=1), lines=1)  # a long gap costs nothing
    assert [(c.start, c.lines) for c in w.close_until(10**6 + 1)] == [(10**6, 1)]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: count_pane_sizes(0), "count window size must be a positive int; got 0"),
        (lambda: count_pane_sizes(10, -1), "count window every must be a positive int; got -1"),
        (lambda: time_pane_sizes(10, 3), "must be a whole multiple of the slide; got 10s and 3s"),
        (lambda: time_pane_sizes(0), "must be positive"),
    ],
)
def test_bad_window_shapes(call: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        call()  # type: ignore[operator]
