"""A word count's partial as a ``Counter`` of the reference tokenizers: the small-input path.

:class:`WordCounter` has the part of :class:`~toolkit.wordtable.WordTable`'s
interface that a word-count job uses (add bytes or text, merge, split, compact,
filter, leave as arrays), built on the plain reference tokenizers of
:mod:`toolkit.text` (``words_reference``, ``whitespace_reference``), the very
definitions the compiled kernel is held to.  It needs no compiled code and no
table of every code point: a job over a few KiB (a line typed at a prompt, a
test file) is counted in a millisecond, with nothing more to load (once a second
of numba's loading; the compiled kernels now load in milliseconds, but a small job
still skips them and the class table).  The reference ``words`` runs at about 1 MB/s,
so only small inputs take this path.  A job uses
one kind of partial throughout (:class:`~toolkit.batch.wordcount.WordCountJob`
chooses by the size of its input), so the two never meet in a merge.
"""

from __future__ import annotations

import zlib
from collections import Counter

import numpy as np
import pyarrow as pa

from toolkit.text import get_tokenizer

__all__ = ["WordCounter"]


class WordCounter:
    """Word counts in a ``Counter``, counted by the reference tokenizers.

    Examples
    --------
    >>> counter = WordCounter("words", lowercase=True)
    >>> counter.add_bytes("The cat, the hat".encode())
    16
    >>> sorted(counter.counts.items())
    [('cat', 1), ('hat', 1), ('the', 2)]
    >>> counter.add_bytes(b"caf\\xe9")  # not UTF-8: left to the caller's decoding policy
    0
    """

    def __init__(self, tokenizer: str = "words", lowercase: bool = True) -> None:
        self.tokenizer, self.lowercase = tokenizer, lowercase
        self.counts: Counter[str] = Counter()

    def __len__(self) -> int:
        return len(self.counts)

    @property
    def total(self) -> int:
        """Words counted."""
        return sum(self.counts.values())

    def add_bytes(self, data: bytes | bytearray | memoryview) -> int:
        """Count the words of UTF-8 ``data``: ``len(data)``; or, if any of it is not UTF-8,
        nothing (0), the whole being the caller's to decode by its policy for :meth:`add_text`."""
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            return 0
        self._count(text)
        return len(data)

    def add_text(self, text: str) -> None:
        """Count the words of ``text`` (a lone surrogate counts as ``?``, as in a WordTable)."""
        self._count(text.encode("utf-8", "replace").decode("utf-8"))

    def _count(self, text: str) -> None:
        found = get_tokenizer(self.tokenizer).reference(text)
        self.counts.update(map(str.lower, found) if self.lowercase else found)

    def merge(self, other: WordCounter) -> WordCounter:
        """Add ``other``'s counts into this one (in place) and return it."""
        if (other.tokenizer, other.lowercase) != (self.tokenizer, self.lowercase):
            if self.counts:
                raise ValueError("cannot merge word counts of different tokenizers or case folding")
            self.tokenizer, self.lowercase = other.tokenizer, other.lowercase
        self.counts.update(other.counts)
        return self

    def split(self, n: int) -> list[WordCounter]:
        """Cut the counts into ``n`` by a hash of each word (the same in every process)."""
        out = [WordCounter(self.tokenizer, self.lowercase) for _ in range(n)]
        for word, count in self.counts.items():
            out[zlib.crc32(word.encode("utf-8", "surrogatepass")) % n].counts[word] = count
        return out

    def compact(self) -> WordCounter:
        """This counter (it has no room to give back)."""
        return self

    def filter(self, min_length: int = 1, stopwords: frozenset[str] | None = None) -> WordCounter:
        """Drop words shorter than ``min_length`` code points, and ``stopwords``.

        Examples
        --------
        >>> counter = WordCounter()
        >>> counter.add_text("a cat and the cat")
        >>> sorted(counter.filter(2, frozenset({"the"})).counts.items())
        [('and', 1), ('cat', 2)]
        """
        if min_length <= 1 and not stopwords:
            return self
        kept = WordCounter(self.tokenizer, self.lowercase)
        stops = stopwords or frozenset()
        kept.counts.update(
            {w: c for w, c in self.counts.items() if len(w) >= min_length and w not in stops}
        )
        return kept

    def to_arrow(self) -> tuple[pa.Array, np.ndarray]:
        """The words (a pyarrow ``large_string`` array) and their counts."""
        encoded = [w.encode("utf-8", "replace") for w in self.counts]
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(w) for w in encoded], out=offsets[1:])
        words = pa.LargeStringArray.from_buffers(  # not pa.array(list): that loads pandas
            len(encoded), pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))
        )
        return words, np.fromiter(self.counts.values(), dtype=np.int64, count=len(self.counts))

    def __repr__(self) -> str:
        return f"WordCounter({self.tokenizer!r}, {len(self):,} words)"
