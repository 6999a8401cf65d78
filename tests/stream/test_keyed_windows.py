"""A user job's open windows (``toolkit/stream/keyed_windows.py``): merged pane states equal a
fold of each window's records, whatever the sliding."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from toolkit.jobs import KeyedJob, combining
from toolkit.stream.keyed_windows import KeyedPaneWindows

JOB = KeyedJob(lambda word: [(word, 1)], combining(lambda a, b: a + b))


@given(
    events=st.lists(st.tuples(st.integers(0, 30), st.sampled_from("abc")), max_size=60),
    window=st.integers(1, 5),
    every=st.integers(1, 5),
)
def test_each_closed_window_is_the_fold_of_its_panes_records(
    events: list[tuple[int, str]], window: int, every: int
) -> None:
    windows = KeyedPaneWindows(window, every, JOB)
    for pane, word in sorted(events):
        windows.add(pane, JOB.fold(JOB.empty(), [word]))
    closed = list(windows.close_until(40))
    for c in closed:
        assert c.end - c.start == window and c.end % every == 0
        expected = Counter(w for p, w in events if c.start <= p < c.end)
        assert dict(c.state) == dict(expected) and c.state.records == sum(expected.values())
    ends = {c.end for c in closed}
    for pane, _ in events:  # every event is in each window that covers its pane
        assert {e for e in range(pane + 1, pane + window + 1) if e % every == 0} <= ends


def test_a_closed_pane_takes_no_more_and_peeking_leaves_the_window_open() -> None:
    windows = KeyedPaneWindows(2, 1, JOB)
    windows.add(0, JOB.fold(JOB.empty(), ["a"]))
    windows.add(1, JOB.fold(JOB.empty(), ["a", "b"]))
    assert dict(windows.peek(2).state) == {"a": 2, "b": 1}
    assert [dict(c.state) for c in windows.close_until(2)] == [{"a": 1}, {"a": 2, "b": 1}]
    with pytest.raises(ValueError, match="pane 0 is closed"):
        windows.add(0, JOB.fold(JOB.empty(), ["c"]))
