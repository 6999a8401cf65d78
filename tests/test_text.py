from __future__ import annotations

import sys
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import MESSY_LINES
from toolkit.corpus import generate_lines
from toolkit.errors import ConfigError
from toolkit.text import (
    count_words,
    get_tokenizer,
    top_k,
    whitespace,
    whitespace_reference,
    word_classes,
    words,
    words_reference,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Don't stop-believing!", ["don't", "stop", "believing"]),
        ("Straße café 2024", ["straße", "café", "2024"]),
        ("大规模数据", ["大", "规", "模", "数", "据"]),
        ("rock’n’roll", ["rock’n’roll"]),
        ("'quoted' a''b it's'", ["quoted", "a", "b", "it's"]),
        ("user_name co-op x²", ["user", "name", "co", "op", "x"]),
        ("e\u0301te\u0301", ["e\u0301te\u0301"]),  # combining marks stay in the word
        ("データ処理", ["デ", "ー", "タ", "処", "理"]),
        ("abc大def", ["abc", "大", "def"]),
        ("a'大", ["a", "大"]),  # an apostrophe joins only non-ideographic word characters
        ("٣٤٥ १२३", ["٣٤٥", "१२३"]),  # decimal digits of any script
        ("", []),
    ],
)
def test_words_examples(text: str, expected: list[str]) -> None:
    assert count_words(text) == Counter(expected)
    assert words(text.lower()) == expected
    assert words_reference(text.lower()) == expected


@pytest.mark.parametrize("line", MESSY_LINES)
def test_fast_tokenizers_equal_reference_on_messy_lines(line: str) -> None:
    assert words(line) == words_reference(line)
    assert whitespace(line) == whitespace_reference(line)


def test_fast_tokenizers_equal_reference_on_generated_corpus() -> None:
    text = "".join(generate_lines(300_000, seed=3))
    assert words(text) == words_reference(text)
    assert words(text.lower()) == words_reference(text.lower())
    assert whitespace(text) == whitespace_reference(text)


_messy_alphabet = st.sampled_from(
    [*"aZé'’-_ \n\t.,!2٣²", "\u0301", "大", "デ", "ー", "・", "Σ", "ß", "İ", "𠀀", "\u200b", "\x85"]
)


@settings(max_examples=400, deadline=None)
@given(st.text(_messy_alphabet, max_size=60))
def test_words_equals_reference_on_messy_text(text: str) -> None:
    assert words(text) == words_reference(text)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_tokenizers_equal_reference_on_any_unicode(text: str) -> None:
    assert words(text) == words_reference(text)
    assert whitespace(text) == whitespace_reference(text)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(_messy_alphabet.filter(lambda c: c != "\n"), max_size=20), max_size=8))
def test_counting_a_block_equals_counting_its_lines(lines: list[str]) -> None:
    # batch counts blocks of lines, streams count lines: lowercasing must agree (Greek final sigma)
    block = "\n".join(lines)
    by_line: Counter[str] = Counter()
    for line in lines:
        count_words(line, counts=by_line)
    assert count_words(block) == by_line


def test_lowercase_defaults_follow_the_tokenizer() -> None:
    assert count_words("The the") == Counter(the=2)
    assert count_words("The the", "whitespace") == Counter(The=1, the=1)
    assert count_words("The the", "whitespace", lowercase=True) == Counter(the=2)
    assert count_words("The the", lowercase=False) == Counter(The=1, the=1)


def test_unknown_tokenizer_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="tokenizer must be one of whitespace, words; got 'nope'"):
        get_tokenizer("nope")


def test_top_k_orders_by_count_then_word() -> None:
    counts = {"b": 2, "a": 2, "c": 5, "é": 2, "d": 1}
    assert top_k(counts, 3) == [("c", 5), ("a", 2), ("b", 2)]
    assert top_k(counts, None) == [("c", 5), ("a", 2), ("b", 2), ("é", 2), ("d", 1)]
    assert top_k(counts, 0) == top_k(counts, 100)


def test_filter_drops_short_words_and_stopwords() -> None:
    from toolkit.wordtable import WordTable

    table = WordTable.from_counts(Counter({"a": 3, "cat": 1, "the": 2}))
    assert table.filter(2, frozenset({"the"})).to_counter() == Counter(cat=1)


def test_lowering_never_changes_what_a_character_is() -> None:
    # why count_words may lowercase a whole text before splitting it (when it has no Σ)
    for tokenizer in ("words", "whitespace"):
        classes = word_classes(tokenizer)
        for cp in range(sys.maxunicode + 1):
            ch = chr(cp)
            lowered = ch.lower()
            if lowered != ch:
                assert {classes[ord(c)] for c in lowered} == {classes[cp]}, (tokenizer, hex(cp))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ΟΔΟΣ.ΑΒ", ["οδος", "αβ"]),  # word-final sigma, whatever follows the word
        ("ΑΣⅠ", ["ας"]),
        ("ΑΣ'Α ΣΑ", ["ασ'α", "σα"]),
    ],
)
def test_each_word_is_lowercased_on_its_own(text: str, expected: list[str]) -> None:
    assert count_words(text) == Counter(expected)


@settings(max_examples=300, deadline=None)
@given(st.text(_messy_alphabet, max_size=60), st.sampled_from(["words", "whitespace"]))
def test_lowercase_counts_equal_the_lowered_reference_words(text: str, tokenizer: str) -> None:
    reference = get_tokenizer(tokenizer).reference
    expected = Counter(w.lower() for w in reference(text))
    assert count_words(text, tokenizer, lowercase=True) == expected
