"""Ranking by count then word, held to Python's own sort of the same pairs."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import MESSY_LINES
from toolkit.ranking import SMALL_TAKE, prefix_keys, rank_order, take_words, top_arrays

# words that share long prefixes, differ only after 8 bytes or in a NUL, or are prefixes of
# each other: the cases the integer key alone cannot order
_STEMS = st.sampled_from(
    ["", "a", "ab", "internat", "internationa", "大規模", "é", "\x00", "z" * 9]
)
_TAILS = st.text(alphabet=st.sampled_from("a\x00zé大\U0001f600 lI"), max_size=4)
_WORDS = st.builds(lambda s, t: s + t, _STEMS, _TAILS)


def reference(words: list[str], counts: list[int], k: int | None) -> list[tuple[str, int]]:
    ranked = sorted(zip(words, counts, strict=True), key=lambda p: (-p[1], p[0]))
    return ranked[:k] if k else ranked


@settings(max_examples=300, deadline=None)
@given(
    pairs=st.dictionaries(_WORDS | st.text(max_size=12), st.integers(1, 4), max_size=60),
    k=st.none() | st.integers(0, 70),
    large=st.booleans(),
    sliced=st.booleans(),
)
def test_ranking_equals_sorting_the_pairs(
    pairs: dict[str, int], k: int | None, large: bool, sliced: bool
) -> None:
    words, counts = list(pairs), list(pairs.values())
    array = pa.array(["pad", *words], type=pa.large_string() if large else pa.string())
    array = array[1:] if sliced else pa.array(words, type=array.type)  # an offset into buffers
    got_words, got_counts = top_arrays(array, np.array(counts, dtype=np.int64), k)
    got = list(zip(got_words.to_pylist(), got_counts.tolist(), strict=True))
    assert got == reference(words, counts, k)


def test_ranking_of_messy_text_and_many_ties() -> None:
    words = sorted({w for line in MESSY_LINES for w in line.split()})
    words = list(dict.fromkeys(words + [w + "suffix-past-eight" for w in words]))
    counts = [len(w) % 3 + 1 for w in words]
    order = rank_order(pa.array(words), np.array(counts))
    assert [(words[i], counts[i]) for i in order] == reference(words, counts, None)


def test_prefix_keys_order_as_the_words_do_when_they_differ() -> None:
    words = ["", "\x00", "a", "a\x00", "ab", "abcdefgh", "abcdefghi", "b", "é", "大"]
    keys = prefix_keys(pa.array(words)).tolist()
    for i in range(len(words)):
        for j in range(len(words)):
            if keys[i] != keys[j]:
                assert (keys[i] < keys[j]) == (words[i].encode() < words[j].encode())
    assert keys[0] == keys[1]  # "" and "\x00" need the whole-word comparison


@settings(max_examples=200, deadline=None)
@given(words=st.lists(_WORDS | st.text(max_size=12), max_size=40), large=st.booleans())
def test_prefix_keys_are_the_first_eight_bytes(words: list[str], large: bool) -> None:
    array = pa.array(["pad", *words, "end"], type=pa.large_string() if large else pa.string())
    for view in (array, array[1 : len(words) + 1]):  # whole, and an offset into the buffers
        expected = [int.from_bytes(w.encode()[:8].ljust(8, b"\0"), "big") for w in view.to_pylist()]
        assert prefix_keys(view).tolist() == expected


def test_nulls_and_other_types_take_the_plain_sort() -> None:
    words = pa.array(["b", None, "a"])
    assert rank_order(words, np.array([1, 1, 1])).tolist() == [2, 0, 1]
    assert rank_order(pa.array([3, 1, 2]), np.array([1, 1, 2])).tolist() == [2, 1, 0]


def test_mismatched_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="2 words but 1 counts"):
        rank_order(pa.array(["a", "b"]), np.array([1]))


def test_empty() -> None:
    words, counts = top_arrays(pa.array([], type=pa.large_string()), np.array([], np.int64), None)
    assert len(words) == 0 and len(counts) == 0


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.text(max_size=12), max_size=40),
    st.data(),
    st.booleans(),
    st.integers(min_value=0, max_value=3),
)
def test_take_words_is_arrows_take(
    words: list[str], data: st.DataObject, large: bool, cut: int
) -> None:
    array = pa.array(words, type=pa.large_string() if large else pa.string())[cut:]
    indices = data.draw(st.lists(st.integers(0, max(len(array) - 1, 0)), max_size=60))
    indices = indices if len(array) else []
    taken = take_words(array, np.array(indices, dtype=np.int64))
    assert taken.type == array.type
    assert taken.to_pylist() == array.take(pa.array(indices, type=pa.int64())).to_pylist()


def test_take_words_of_many_is_arrows_take() -> None:
    array = pa.array([f"w{i % 97}é" for i in range(SMALL_TAKE * 2)], type=pa.large_string())
    indices = np.arange(len(array))[::-1].copy()
    assert take_words(array, indices).to_pylist() == array.to_pylist()[::-1]
