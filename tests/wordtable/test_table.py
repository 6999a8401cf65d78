"""The compiled word table, held to the plain reference tokenizers on the same text."""

from __future__ import annotations

import pickle
import random
import sys
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import MESSY_LINES
from toolkit.corpus import generate_lines
from toolkit.text import get_tokenizer, top_k, words
from toolkit.wordtable import WordTable

MODES = [("words", True), ("words", False), ("whitespace", False), ("whitespace", True)]


def reference(text: str, tokenizer: str, lowercase: bool) -> Counter[str]:
    found = get_tokenizer(tokenizer).reference(text)
    return Counter(w.lower() for w in found) if lowercase else Counter(found)


def filter_reference(
    counts: Counter[str], *, min_length: int = 1, stopwords: frozenset[str] = frozenset()
) -> Counter[str]:
    """The plain filter: words of fewer than ``min_length`` code points and stopwords go."""
    return Counter({w: n for w, n in counts.items() if len(w) >= min_length and w not in stopwords})


def table_of(text: str, tokenizer: str, lowercase: bool, **kw: int) -> WordTable:
    table = WordTable(tokenizer, lowercase, **kw)
    data = text.encode()
    assert table.add_bytes(data) == len(data)
    return table


# characters that make tokenizers go wrong: apostrophes, marks, ideographs, astral letters,
# every kind of Unicode space, NUL, capitals whose lowercase differs in length or context
_PIECES = st.sampled_from(
    [
        *"aZé'’-_ .,!2٣²\n\t\r\x00\x0b\x0c\x1c\x1f",
        *"\x85\xa0\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000\u200b",
        *"\u0301大デー・ΣσςßİĲǅ",
        "𝔘",
        "𠀀",
        "🎉",
        "ABCDEFGHIJ",  # a word longer than 7 bytes (keys compared byte by byte)
    ]
)
_MESSY_TEXT = st.lists(_PIECES, max_size=60).map("".join)


@pytest.mark.parametrize(("tokenizer", "lowercase"), MODES)
@settings(max_examples=300, deadline=None)
@given(text=_MESSY_TEXT)
def test_counts_equal_the_reference_on_messy_text(
    text: str, tokenizer: str, lowercase: bool
) -> None:
    table = table_of(text, tokenizer, lowercase, capacity=1)
    assert table.to_counter() == reference(text, tokenizer, lowercase)
    assert table.total == sum(reference(text, tokenizer, lowercase).values())


@pytest.mark.parametrize(("tokenizer", "lowercase"), MODES)
@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=120))
def test_counts_equal_the_reference_on_any_unicode(
    text: str, tokenizer: str, lowercase: bool
) -> None:
    text = text.encode("utf-8", "replace").decode("utf-8")  # no lone surrogates
    expected = reference(text, tokenizer, lowercase)
    assert table_of(text, tokenizer, lowercase).to_counter() == expected


@pytest.mark.slow
@pytest.mark.parametrize(("tokenizer", "lowercase"), MODES)
def test_every_code_point_between_two_letters(tokenizer: str, lowercase: bool) -> None:
    chars = (chr(cp) for cp in range(sys.maxunicode + 1) if not 0xD800 <= cp <= 0xDFFF)
    text = "".join(f"x{c}Y{c}{c}z " for c in chars)
    table = table_of(text, tokenizer, lowercase)
    found = words(text) if tokenizer == "words" else text.split()  # both tested on the reference
    assert table.to_counter() == Counter(w.lower() if lowercase else w for w in found)


@pytest.mark.parametrize(("tokenizer", "lowercase"), MODES)
def test_messy_lines_and_a_generated_corpus(tokenizer: str, lowercase: bool) -> None:
    text = "\n".join(MESSY_LINES) + "".join(generate_lines(200_000, seed=5))
    table = table_of(text, tokenizer, lowercase)
    assert table.to_counter() == reference(text, tokenizer, lowercase)
    words_, counts = table.to_arrow()
    assert dict(zip(words_.to_pylist(), counts.tolist(), strict=True)) == table.to_counter()


def test_long_words_and_a_table_that_grows_from_nothing() -> None:
    rng = random.Random(4)
    vocabulary = ["x" * n for n in (1, 7, 8, 9, 15, 16, 17, 300)] + ["ü" * 5, "y" * 1_000_000]
    vocabulary += [f"w{rng.getrandbits(40):x}" for _ in range(20_000)]
    text = " ".join(rng.choice(vocabulary) for _ in range(100_000)) + " " + " ".join(vocabulary)
    table = table_of(text, "whitespace", False, capacity=1)
    assert table.to_counter() == Counter(text.split())


def test_chunks_cut_at_whitespace_count_like_the_whole() -> None:
    text = "".join(generate_lines(50_000, seed=8)) + "\n".join(MESSY_LINES)
    data = text.encode()
    whole = table_of(text, "words", True)
    pieces = WordTable("words", True)
    start = 0
    for cut in sorted(random.Random(2).sample(range(len(data)), 40)):
        cut = data.index(b" ", cut) + 1 if b" " in data[cut:] else len(data)
        if cut > start:
            assert pieces.add_bytes(data[start:cut]) == cut - start
            start = cut
    assert pieces.add_bytes(data[start:]) == len(data) - start
    assert pieces.to_counter() == whole.to_counter()


@pytest.mark.parametrize(
    ("bad", "kept"),
    [
        (b"\xff", "some words"),
        (b"\x80abc", "some words"),  # a lone continuation byte
        (b"caf\xe9 ok", "some words"),  # Latin-1: the word holding it is not counted
        (b"\xc0\xaf", "some words"),  # overlong
        (b"\xe0\x80\xaf", "some words"),  # overlong
        (b"\xed\xa0\x80", "some words"),  # a surrogate
        (b"\xf4\x90\x80\x80", "some words"),  # past U+10FFFF
        (b"it's\xe2\x82", "some words"),  # cut short at the end
        (b"'\xf0\x9f\x8e", "some words"),
        (b"don'\xff", "some words"),  # found looking past an apostrophe
        (b"\xe5\xa4\xa7\xff", "some words 大"),  # an ideograph is a word of its own
    ],
)
def test_counting_stops_before_the_word_that_holds_a_bad_byte(bad: bytes, kept: str) -> None:
    table = table_of("before", "words", True)
    data = b"some words " + bad + b" more"
    taken = table.add_bytes(data)
    data[:taken].decode()  # what was taken is UTF-8
    assert table.to_counter() == Counter(["before", *kept.split()])


@pytest.mark.parametrize(("tokenizer", "lowercase"), MODES)
@settings(max_examples=300, deadline=None)
@given(
    data=st.lists(
        st.sampled_from(
            [
                b"ab",
                b" ",
                b"'",
                b"\xc3\xa9",
                b"\xff",
                b"\xe2\x80",
                b"\xe2\x80\x99",
                b"\xe5\xa4\xa7",
                b"\xed\xa0\x80",
                b"\xf0\x9f\x8e\x89",
                b"\n",
            ]
        ),
        max_size=30,
    ).map(b"".join)
)
def test_bad_bytes_then_a_decoded_rest_count_like_the_reference(
    data: bytes, tokenizer: str, lowercase: bool
) -> None:
    # what the batch reader does: the kernel takes what it can, the rest is decoded by policy
    for errors in ("replace", "ignore"):
        table = WordTable(tokenizer, lowercase)
        taken = table.add_bytes(data)
        try:
            data.decode()
            assert taken == len(data)
        except UnicodeDecodeError as exc:
            assert taken <= exc.start
        table.add_text(data[taken:].decode("utf-8", errors))
        expected = reference(data.decode("utf-8", errors), tokenizer, lowercase)
        assert table.to_counter() == expected, errors


@pytest.mark.parametrize(("tokenizer", "lowercase"), MODES)
def test_merge_split_and_pickle_keep_every_count(tokenizer: str, lowercase: bool) -> None:
    lines = list(generate_lines(60_000, seed=11)) + MESSY_LINES * 3
    half = len(lines) // 2
    a = table_of("".join(lines[:half]), tokenizer, lowercase, capacity=1)
    b = pickle.loads(pickle.dumps(table_of("".join(lines[half:]), tokenizer, lowercase)))
    expected = reference("".join(lines), tokenizer, lowercase)
    merged = pickle.loads(pickle.dumps(a)).merge(b)
    assert merged.to_counter() == expected
    buckets = [pickle.loads(pickle.dumps(t)) for t in merged.split(5)]
    seen: Counter[str] = Counter()
    for bucket in buckets:
        part = bucket.to_counter()
        assert not set(part) & set(seen)  # a word lands in one bucket only
        seen.update(part)
    assert seen == expected
    # the same word goes to the same bucket from any table
    other = table_of("".join(lines[:1000]), tokenizer, lowercase).split(5)
    for mine, theirs in zip(buckets, other, strict=True):
        assert set(theirs.to_counter()) <= set(mine.to_counter())


def test_tables_of_different_kinds_do_not_merge() -> None:
    with pytest.raises(ValueError, match="different tokenizers"):
        table_of("a", "words", True).merge(WordTable("whitespace"))
    empty = WordTable("words")  # an empty table takes the other's kind
    assert empty.merge(table_of("A b", "whitespace", False)).to_counter() == Counter(A=1, b=1)
    assert (empty.tokenizer, empty.lowercase) == ("whitespace", False)


_PANES = st.lists(st.tuples(_MESSY_TEXT, st.booleans(), st.booleans()), max_size=12)


@pytest.mark.parametrize(("tokenizer", "lowercase"), MODES)
@settings(max_examples=150, deadline=None)
@given(panes=_PANES, k=st.integers(0, 4), width=st.integers(1, 4))
def test_a_sliding_window_of_tables_equals_counter_arithmetic(
    tokenizer: str, lowercase: bool, panes: list[tuple[str, bool, bool]], k: int, width: int
) -> None:
    """Panes enter a window (merge) and leave it (subtract); the window's words,
    totals and top words are those of a Counter doing the same, at every step."""
    window, expected = WordTable(), Counter()
    inside: list[tuple[WordTable, Counter[str]]] = []
    for text, pickled, compacted in panes:
        pane = table_of(text, tokenizer, lowercase)
        if pickled:
            pane = pickle.loads(pickle.dumps(pane))
        inside.append((pane, reference(text, tokenizer, lowercase)))
        window.merge(pane)
        expected.update(inside[-1][1])
        if len(inside) > width:
            gone, gone_counts = inside.pop(0)
            window.subtract(gone)
            expected.subtract(gone_counts)
            expected = +expected
        if compacted:
            window = pickle.loads(pickle.dumps(window.compact()))
        assert window.to_counter() == expected
        assert (len(window), window.total) == (len(expected), expected.total())
        assert window.top(k) == top_k(expected, k)


def test_words_that_left_the_window_do_not_pile_up() -> None:
    window = WordTable("whitespace", False)
    panes = [
        table_of(" ".join(f"w{i}x{j}" for j in range(500)), "whitespace", False) for i in range(60)
    ]
    for i, pane in enumerate(panes):
        window.merge(pane)
        if i >= 3:
            window.subtract(panes[i - 3])
        assert len(window) == 500 * min(i + 1, 3)
    assert (
        window.nbytes
        < 4 * table_of(" ".join(f"w0x{j}" for j in range(1500)), "whitespace", False).nbytes
    )
    assert window.to_counter() == sum((p.to_counter() for p in panes[-3:]), Counter())


@pytest.mark.parametrize(("tokenizer", "lowercase"), MODES)
@settings(max_examples=100, deadline=None)
@given(text=_MESSY_TEXT, min_length=st.integers(1, 3), stop=st.lists(_MESSY_TEXT, max_size=3))
def test_filter_equals_the_reference(
    tokenizer: str, lowercase: bool, text: str, min_length: int, stop: list[str]
) -> None:
    table = table_of(text, tokenizer, lowercase)
    stopwords = frozenset(stop) | frozenset(
        reference(text, tokenizer, lowercase).keys() if len(text) % 3 == 0 else ()
    )
    expected = filter_reference(
        reference(text, tokenizer, lowercase), min_length=min_length, stopwords=stopwords
    )
    assert table.filter(min_length, stopwords).to_counter() == expected


def test_from_counts_round_trips() -> None:
    counts = reference("".join(MESSY_LINES), "words", True)
    table = WordTable.from_counts(counts)
    assert table.to_counter() == counts and table.top(0) == top_k(counts, 0)
    assert WordTable.from_counts({}).top(3) == []


def test_empty_table() -> None:
    table = pickle.loads(pickle.dumps(WordTable()))
    assert table.add_bytes(b"") == 0 and len(table) == 0 and table.total == 0
    assert table.to_counter() == Counter() and len(table.to_arrow()[1]) == 0
    assert [len(t) for t in table.split(3)] == [0, 0, 0]
    assert table_of("a b a", "words", True).merge(table).to_counter() == Counter(a=2, b=1)


def test_a_compact_table_reads_merges_and_grows_like_the_others() -> None:
    text = "".join(generate_lines(20_000, seed=12)) + "\n".join(MESSY_LINES)
    expected = reference(text + text, "words", True)
    table = table_of(text, "words", True).compact()
    assert table.to_counter() == reference(text, "words", True)
    assert pickle.loads(pickle.dumps(table)).to_counter() == table.to_counter()
    other = table_of(text, "words", True).compact()
    assert table.merge(other).to_counter() == expected  # rebuilds its slots to take more
    again = table_of(text, "words", True).compact()
    data = text.encode()
    assert again.add_bytes(data) == len(data)
    assert again.to_counter() == expected


# -- the kernel's fast paths: words found a batch at a time (BATCH), keys read 8 bytes at a time


@pytest.mark.parametrize(("tokenizer", "lowercase"), MODES)
def test_many_batches_of_messy_words_into_a_table_that_keeps_filling(
    tokenizer: str, lowercase: bool
) -> None:
    rng = random.Random(11)
    alphabet = [*"aZé'’-_ .,!2٣²\n\t\x00\x1c\x85\xa0\u2000\u3000\u0301大デーΣßİ", "𝔘", "🎉"]
    text = "".join(rng.choice(alphabet) for _ in range(60_000))
    text += " " + " ".join(f"W{rng.getrandbits(30):x}Q" for _ in range(5_000))
    table = table_of(text, tokenizer, lowercase, capacity=1)  # grows many times mid-batch
    assert table.to_counter() == reference(text, tokenizer, lowercase)


@settings(max_examples=200, deadline=None)
@given(
    words_=st.lists(st.text(alphabet="AZaz@[`{09'é\x7f\x01", min_size=1, max_size=40), max_size=30),
    pad=st.integers(0, 9),
)
def test_keys_read_8_bytes_at_a_time_equal_the_reference(words_: list[str], pad: int) -> None:
    """ASCII letters and their neighbours ("@[`{") at every place of an 8-byte read, words
    of every length up to 40, near the end of the buffer (read a byte at a time) or not."""
    text = " ".join(words_) + " " * pad
    for tokenizer, lowercase in MODES:
        assert table_of(text, tokenizer, lowercase).to_counter() == reference(
            text, tokenizer, lowercase
        )


def test_a_bad_byte_many_batches_in_stops_counting_just_before_it() -> None:
    data = b"Word other " * 3_000 + b"caf\xe9 tail"
    table = WordTable("words", True)
    assert table.add_bytes(data) == data.index(b"caf")
    assert table.to_counter() == Counter({"word": 3_000, "other": 3_000})


#: Keys (two key words and the count) as every version of the kernel made them (numba's,
#: then the C one): pickled tables, journals and checkpoints keep them, and tables merge
#: and split by them.
KNOWN_KEYS = {
    "a": [97, 72057594037927936, 1],
    "Hello": [478560413000, 360287970189639680, 1],
    "straße": [28604634150106227, 504403158265495552, 1],
    "abcdefghijk": [7523094288207667809, 792633534424246889, 1],
    "a-much-longer-word-than-15": [46589563682058682, -72057594037927910, 1],
}


def test_keys_and_buckets_are_those_of_every_earlier_version() -> None:
    for word, keys in KNOWN_KEYS.items():
        table = WordTable("whitespace", lowercase=False)
        table.add_bytes(word.encode())
        assert table._used()[0].tolist() == [keys], word
    table = WordTable("whitespace", lowercase=False)
    table.add_bytes(" ".join(KNOWN_KEYS).encode())
    assert [sorted(b.to_counter()) for b in table.split(3)] == [
        ["straße"],
        ["a-much-longer-word-than-15"],
        ["Hello", "a", "abcdefghijk"],
    ]
