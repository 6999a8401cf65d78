"""What a word is: the tokenizers, counting and top-k, pure functions shared by batch and stream.

Nothing here knows about dask or streamz.  Each tokenizer has a fast
implementation and a plain, obviously-correct reference implementation that
the tests hold it to.
"""

from __future__ import annotations

import functools
import heapq
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from toolkit.errors import ConfigError

__all__ = [
    "TOKENIZERS",
    "Tokenizer",
    "count_words",
    "get_tokenizer",
    "top_k",
    "whitespace",
    "whitespace_reference",
    "word_classes",
    "words",
    "words_reference",
]

APOSTROPHES = "'\u2019"

# Scripts with no spaces between words: each character is a word of its own.
# Han (with its extensions and compatibility blocks), Hiragana and Katakana.
_IDEOGRAPHIC_RANGES: tuple[tuple[int, int], ...] = (
    (0x2E80, 0x2FDF),  # CJK radicals, Kangxi radicals
    (0x3005, 0x3007),  # 々 〆 〇
    (0x3021, 0x3029),  # Hangzhou numerals
    (0x3038, 0x303B),
    (0x3040, 0x309F),  # Hiragana
    (0x30A0, 0x30FF),  # Katakana
    (0x31F0, 0x31FF),  # Katakana phonetic extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF66, 0xFF9F),  # halfwidth Katakana
    (0x1AFF0, 0x1B16F),  # Kana extensions and supplements
    (0x20000, 0x323AF),  # CJK extensions B to H, compatibility supplement
)


def is_word_char(ch: str) -> bool:
    """Whether ``ch`` is a letter, a combining mark or a decimal digit.

    Examples
    --------
    >>> is_word_char("é"), is_word_char("\\u0301"), is_word_char("7"), is_word_char("_")
    (True, True, True, False)
    >>> is_word_char("²")  # a superscript is a digit but not a decimal digit
    False
    """
    category = unicodedata.category(ch)
    return category[0] in "LM" or category == "Nd"


def is_ideograph(ch: str) -> bool:
    """Whether ``ch`` is a word character of Han, Hiragana or Katakana (a word of its own).

    Examples
    --------
    >>> is_ideograph("大"), is_ideograph("デ"), is_ideograph("a"), is_ideograph("・")
    (True, True, False, False)
    """
    return is_word_char(ch) and _in_ideographic_block(ord(ch))


def words_reference(text: str) -> list[str]:
    """The ``words`` tokenizer, written as a plain loop: the definition the fast one must meet.

    A word is a maximal run of letters, combining marks and decimal digits; an
    apostrophe (``'`` or ``’``) between two such characters stays inside the word.
    Every Han, Hiragana and Katakana character is a word of its own.  All other
    characters (underscore, hyphen, punctuation, symbols, spaces) separate words.
    No case folding happens here.

    Examples
    --------
    >>> words_reference("Don't stop-believing!")
    ["Don't", 'stop', 'believing']
    """
    out: list[str] = []
    current: list[str] = []

    def flush() -> None:
        if current:
            out.append("".join(current))
            current.clear()

    for i, ch in enumerate(text):
        if is_ideograph(ch):
            flush()
            out.append(ch)
        elif is_word_char(ch) or (
            ch in APOSTROPHES
            and current
            and i + 1 < len(text)
            and is_word_char(text[i + 1])
            and not is_ideograph(text[i + 1])
        ):
            current.append(ch)
        else:
            flush()
    flush()
    return out


def _in_ideographic_block(cp: int) -> bool:
    return any(lo <= cp <= hi for lo, hi in _IDEOGRAPHIC_RANGES)


def _char_class(codes: bytes, code: int, first: int = 0) -> str:
    """A regex character class of every code point ``cp`` with ``codes[cp - first] == code``."""
    parts = []
    for run in re.finditer(re.escape(bytes([code])) + b"+", codes):
        lo, hi = run.start() + first, run.end() - 1 + first
        parts.append(f"\\U{lo:08x}" if lo == hi else f"\\U{lo:08x}-\\U{hi:08x}")
    return "[" + "".join(parts) + "]"


SEPARATOR, WORD_CHAR, IDEOGRAPH, APOSTROPHE = 0, 1, 2, 3


@functools.cache
def word_classes(tokenizer: str) -> bytes:
    """The class of every code point under ``tokenizer``, one byte each, from this Python's tables.

    ``SEPARATOR`` (0) ends a word; ``WORD_CHAR`` (1) belongs to one;
    ``IDEOGRAPH`` (2) is a word of its own; ``APOSTROPHE`` (3) stays inside a
    word when a word character follows it.  ``whitespace`` has only the first
    two: ``str.isspace`` separates.  Compiled tokenizers read this table.

    Examples
    --------
    >>> [word_classes("words")[ord(c)] for c in "a ’大"]
    [1, 0, 3, 2]
    >>> [word_classes("whitespace")[ord(c)] for c in "a \u3000,"]
    [1, 0, 0, 1]
    """
    chars = map(chr, range(sys.maxunicode + 1))
    if get_tokenizer(tokenizer).name == "whitespace":
        return bytes(0 if ch.isspace() else 1 for ch in chars)
    codes = bytearray(
        WORD_CHAR if cat[0] in "LM" or cat == "Nd" else SEPARATOR
        for cat in map(unicodedata.category, chars)
    )
    for lo, hi in _IDEOGRAPHIC_RANGES:
        codes[lo : hi + 1] = bytes(IDEOGRAPH if c else SEPARATOR for c in codes[lo : hi + 1])
    for ch in APOSTROPHES:
        codes[ord(ch)] = APOSTROPHE
    return bytes(codes)


@functools.cache
def _words_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The ``words`` regex for text within the BMP, and for any text.

    Built from the same definitions as the reference (:func:`word_classes`).
    sre matches a class of BMP code points with a lookup table, but one that
    also holds code points past U+FFFF by scanning hundreds of ranges (six
    times slower), so text with no such code point gets the BMP pattern.
    """
    codes = word_classes("words")
    bmp, astral = codes[:0x10000], codes[0x10000:]
    word_bmp, ideo_bmp = _char_class(bmp, 1), _char_class(bmp, 2)
    word_all = f"(?:{word_bmp}|{_char_class(astral, 1, 0x10000)})"
    ideo_all = f"{ideo_bmp}|{_char_class(astral, 2, 0x10000)}"
    return (
        re.compile(f"{word_bmp}+(?:[{APOSTROPHES}]{word_bmp}+)*|{ideo_bmp}"),
        re.compile(f"{word_all}+(?:[{APOSTROPHES}]{word_all}+)*|{ideo_all}"),
    )


_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def words(text: str) -> list[str]:
    """Split ``text`` into words (the default tokenizer); see :func:`words_reference`.

    Examples
    --------
    >>> words("Don't stop-believing!")
    ["Don't", 'stop', 'believing']
    >>> words("Straße café 2024")
    ['Straße', 'café', '2024']
    >>> words("大规模数据")
    ['大', '规', '模', '数', '据']
    """
    bmp, full = _words_patterns()
    return (full if _ASTRAL.search(text) else bmp).findall(text)


def whitespace(text: str) -> list[str]:
    """Split ``text`` on runs of whitespace, exactly as ``str.split()``.

    Examples
    --------
    >>> whitespace("  the quick\\tbrown  fox ")
    ['the', 'quick', 'brown', 'fox']
    """
    return text.split()


def whitespace_reference(text: str) -> list[str]:
    """The ``whitespace`` tokenizer as a plain loop over ``str.isspace``.

    Examples
    --------
    >>> whitespace_reference("a  b\\n")
    ['a', 'b']
    """
    out: list[str] = []
    current: list[str] = []
    for ch in text:
        if ch.isspace():
            if current:
                out.append("".join(current))
                current.clear()
        else:
            current.append(ch)
    if current:
        out.append("".join(current))
    return out


@dataclass(frozen=True)
class Tokenizer:
    """A named tokenizer: a fast function, its reference, and whether it lowercases by default."""

    name: str
    tokenize: Callable[[str], list[str]]
    reference: Callable[[str], list[str]]
    lowercase: bool


TOKENIZERS: dict[str, Tokenizer] = {
    "words": Tokenizer("words", words, words_reference, lowercase=True),
    "whitespace": Tokenizer("whitespace", whitespace, whitespace_reference, lowercase=False),
}


def get_tokenizer(name: str | Tokenizer) -> Tokenizer:
    """Look up a tokenizer by name (``words`` or ``whitespace``).

    Raises
    ------
    ConfigError
        If no tokenizer has that name.

    Examples
    --------
    >>> get_tokenizer("whitespace").name
    'whitespace'
    """
    if isinstance(name, Tokenizer):
        return name
    try:
        return TOKENIZERS[name]
    except (KeyError, TypeError):
        choices = ", ".join(sorted(TOKENIZERS))
        raise ConfigError(f"tokenizer must be one of {choices}; got {name!r}") from None


def count_words(
    text: str,
    tokenizer: str | Tokenizer = "words",
    *,
    lowercase: bool | None = None,
    counts: Counter[str] | None = None,
) -> Counter[str]:
    """Count the words of ``text``, adding to ``counts`` if given.

    Parameters
    ----------
    text
        Any text; lines are not treated specially.
    tokenizer
        ``"words"`` (default) or ``"whitespace"``, or a :class:`Tokenizer`.
    lowercase
        Lowercase each word with ``str.lower`` (so a word-final ``Σ`` becomes
        ``ς`` whatever follows the word); ``None`` means the tokenizer's
        default (``words``: yes, ``whitespace``: no).
    counts
        A Counter to add to (it is updated in place and returned).

    Examples
    --------
    >>> count_words("The cat and the hat.")
    Counter({'the': 2, 'cat': 1, 'and': 1, 'hat': 1})
    """
    tok = get_tokenizer(tokenizer)
    if lowercase is None:
        lowercase = tok.lowercase
    if counts is None:
        counts = Counter()
    if not lowercase:
        counts.update(tok.tokenize(text))
    elif _CAPITAL_SIGMA in text:
        counts.update(map(str.lower, tok.tokenize(text)))
    else:
        # the same words: lowering never changes a character's class (tested over every
        # code point) and only a capital sigma lowers differently in and out of context
        counts.update(tok.tokenize(text.lower()))
    return counts


_CAPITAL_SIGMA = "\u03a3"


def top_k(counts: Mapping[str, int], k: int | None) -> list[tuple[str, int]]:
    """The ``k`` most frequent words, by count descending then word ascending.

    ``k`` of ``None`` or ``0`` means all words.

    Examples
    --------
    >>> top_k({"b": 2, "a": 2, "c": 5, "d": 1}, 3)
    [('c', 5), ('a', 2), ('b', 2)]
    """

    def order(item: tuple[str, int]) -> tuple[int, str]:
        return (-item[1], item[0])

    if not k or k >= len(counts):
        return sorted(counts.items(), key=order)
    # the k-th largest count, by a heap over plain ints (fast), then sort only the candidates
    kth = heapq.nlargest(k, counts.values())[-1]
    candidates = [(w, n) for w, n in counts.items() if n >= kth]
    candidates.sort(key=order)
    return candidates[:k]
