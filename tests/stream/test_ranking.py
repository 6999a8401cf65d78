from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.stream.ranking import RunningTop
from toolkit.text import top_k

WORDS = [f"w{i:02}" for i in range(16)]
changes = st.lists(
    st.one_of(
        # a batch of count changes (a pane entering or leaving), then maybe a ranking
        st.tuples(
            st.dictionaries(st.sampled_from(WORDS), st.integers(-6, 6), max_size=2),
            st.booleans(),
        ),
        st.just("reset"),
    ),
    max_size=120,
)


@settings(max_examples=600, deadline=None)
@given(k=st.integers(0, 4), slack=st.integers(0, 3), script=changes)
def test_running_top_equals_ranking_every_word(k: int, slack: int, script: list) -> None:
    """After any changes, the top words are those of a full ranking (ties by word)."""
    counts = Counter({w: i % 4 + 1 for i, w in enumerate(WORDS)})
    top = RunningTop(k, slack=slack)
    for step in script:
        if step == "reset":
            counts = Counter({w: n for w, n in counts.items() if n % 2})  # a new mapping
            top.reset()
            continue
        delta, rank = step
        for w, n in delta.items():
            counts[w] = max(0, counts[w] + n)
            if not counts[w]:
                del counts[w]
        top.touched(delta)
        if rank:
            assert top.top(counts) == top_k(counts, k)
    assert top.top(counts) == top_k(counts, k)


def test_a_small_change_ranks_only_the_changed_words() -> None:
    counts = Counter({f"w{i}": i % 97 + 1 for i in range(10_000)})
    top = RunningTop(3)
    assert top.top(counts) == top_k(counts, 3)
    for i in range(50):  # one word climbs to the top, then the previous leader falls
        counts[f"w{i}"] += 200
        counts["w96"] -= 1
        top.touched([f"w{i}", "w96"])
        assert top.top(counts) == top_k(counts, 3)
    assert top.rankings == 1  # no full ranking after the first


def test_the_result_is_a_copy() -> None:
    top = RunningTop(2)
    first = top.top({"a": 1})
    first.append(("z", 9))
    assert top.top({"a": 1}) == [("a", 1)]


@pytest.mark.parametrize("k", [1, 2, 4, 10])
def test_long_random_walks_equal_ranking_every_word(k: int) -> None:
    """Long walks reach what short examples rarely do: leaders falling behind the
    fence (a full ranking), and leaders piling up (the fence moves up)."""
    rng = random.Random(k)
    for slack in (0, 1, 3):
        top = RunningTop(k, slack=slack)
        counts = Counter({w: i % 4 + 1 for i, w in enumerate(WORDS)})
        for _ in range(2_000):
            delta = {rng.choice(WORDS): rng.randint(-6, 6) for _ in range(rng.randint(0, 2))}
            for w, n in delta.items():
                counts[w] = max(0, counts[w] + n)
                if not counts[w]:
                    del counts[w]
            top.touched(delta)
            if rng.random() < 0.5:
                assert top.top(counts) == top_k(counts, k)
