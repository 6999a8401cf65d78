"""The :class:`WordTable`: word counts in flat arrays, a compact picklable partial."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from toolkit.errors import JobError
from toolkit.ranking import top_arrays
from toolkit.text import get_tokenizer
from toolkit.wordtable import codepoints
from toolkit.wordtable.kernels import (
    ASCII_LOWER,
    IDENTITY,
    MAX_ARENA,
    MAX_LOAD,
    add_keys,
    add_words,
    buckets,
    count_bytes,
    gather,
    has_wide_byte,
    kth_largest,
    place,
)

__all__ = ["WordTable"]


class WordTable:
    """Counts of words, filled from UTF-8 bytes; a compact, picklable partial.

    Parameters
    ----------
    tokenizer
        ``"words"`` or ``"whitespace"`` (see :mod:`toolkit.text`).
    lowercase
        Lowercase each word (ASCII letters in the kernel, the rest with
        ``str.lower`` once per distinct word in :meth:`normalize`).
    capacity
        Distinct words to make room for at first (the table grows).
    """

    def __init__(self, tokenizer: str = "words", lowercase: bool = True, capacity: int = 1024):
        self.tokenizer = get_tokenizer(tokenizer).name
        self.lowercase = bool(lowercase)
        size = _slots_for(capacity)
        self._slots = np.zeros((size, 3), dtype=np.int64)  # key, key, count
        self._where = np.zeros((size, 2), dtype=np.int32)  # offset in the arena, length
        self._arena = np.zeros(8 * max(16, capacity), dtype=np.uint8)
        self._meta = np.zeros(3, dtype=np.int64)  # distinct words, arena bytes used, bad UTF-8
        # an unpickled table keeps its words compact until something is added to it
        self._compact: tuple[np.ndarray, np.ndarray] | None = None
        self._normal = True  # every word is final (see normalize)
        # some counted words may be back at 0 (see subtract); checked for when the
        # slots in use pass `_check_at`
        self._dead = False
        self._check_at = 0

    @classmethod
    def from_counts(
        cls, counts: Mapping[str, int], tokenizer: str = "words", lowercase: bool = True
    ) -> WordTable:
        """A table of the final words and counts of ``counts`` (as :meth:`to_counter` gives).

        Examples
        --------
        >>> WordTable.from_counts({"cat": 2, "hat": 1}).top(1)
        [('cat', 2)]
        """
        table = cls(tokenizer, lowercase, capacity=len(counts))
        words = [w.encode("utf-8") for w, n in counts.items() if n]
        table._add_words(*_packed(words), np.array([n for n in counts.values() if n], np.int64))
        return table

    def __len__(self) -> int:
        """Distinct words counted (before lowercasing of non-ASCII words)."""
        if self._dead:
            return int(np.count_nonzero(self._slots[:, 2]))
        return int(self._meta[0])

    @property
    def total(self) -> int:
        """Words counted."""
        keys = self._compact[0] if self._compact is not None else self._slots
        return int(keys[:, 2].sum())  # an empty slot counts 0

    @property
    def nbytes(self) -> int:
        """Memory held by the table's arrays."""
        arrays = self._compact if self._compact is not None else (self._slots, self._where)
        return int(sum(a.nbytes for a in arrays) + self._arena.nbytes)

    # -- filling

    def add_bytes(self, data: bytes | bytearray | memoryview | np.ndarray) -> int:
        """Count the words of UTF-8 ``data``; return how many of its bytes were counted.

        That is ``len(data)``, unless ``data`` holds a byte that is not UTF-8:
        then the words before the one holding it are counted, and the rest,
        from that word's start, is left to the caller (to decode by some
        policy and pass to :meth:`add_text`).  Validation happens in the same
        pass as counting.
        """
        buf = data if isinstance(data, np.ndarray) else np.frombuffer(data, dtype=np.uint8)
        self._normal = self._normal and not self.lowercase
        classes = codepoints.classes(self.tokenizer)
        fold = ASCII_LOWER if self.lowercase else IDENTITY
        pos = 0
        while True:
            pos = count_bytes(buf, pos, classes, fold, *self._state())
            if pos >= buf.size:
                return int(buf.size)
            if self._meta[2]:
                self._meta[2] = 0
                return pos
            self._grow(need_bytes=buf.size - pos)

    def add_text(self, text: str) -> None:
        """Count the words of ``text``."""
        # a lone surrogate (no UTF-8 for it) becomes "?": both separate words
        data = text.encode("utf-8", "replace")
        if self.add_bytes(data) != len(data):  # pragma: no cover - encoded text is UTF-8
            raise AssertionError("the UTF-8 encoding of a text was refused")

    def merge(self, other: WordTable) -> WordTable:
        """Add ``other``'s counts into this table (in place) and return it.

        An empty table takes the other's tokenizer and case folding.
        """
        if (other.tokenizer, other.lowercase) != (self.tokenizer, self.lowercase):
            if len(self) or self._dead:
                raise ValueError("cannot merge word tables of different tokenizers or case folding")
            self.tokenizer, self.lowercase = other.tokenizer, other.lowercase
        keys, places = other._used()
        self._add_keys(keys, places, other._arena)
        self._normal = self._normal and other._normal
        return self

    def subtract(self, other: WordTable) -> WordTable:
        """Take ``other``'s counts out of this table (in place) and return it.

        ``other``'s counts must be part of this table's (as a pane's are of a
        window's).  A word left at 0 no longer counts; when such words
        outnumber the others, the table is rebuilt without them (checked each
        time the slots in use double, so it costs nothing per call).

        Examples
        --------
        >>> window = WordTable.from_counts({"a": 3, "b": 1})
        >>> window.subtract(WordTable.from_counts({"a": 1, "b": 1})).to_counter()
        Counter({'a': 2})
        """
        self.normalize()._state()  # equal words, equal keys; the slots built
        keys, places = other.normalize()._used()
        taken = keys.copy()
        taken[:, 2] = -taken[:, 2]
        self._add_keys(taken, places, other._arena)
        self._dead = True
        if self._meta[0] > self._check_at:
            live = len(self)
            if self._meta[0] - live >= max(1024, live):
                self._drop_dead()
            self._check_at = 2 * max(1024, live)
        return self

    def _drop_dead(self) -> None:
        self._become(self._with(*self._used()))

    def _with(self, keys: np.ndarray, places: np.ndarray) -> WordTable:
        """A new table of this kind holding the words of these rows of this table."""
        table = WordTable(self.tokenizer, self.lowercase, capacity=keys.shape[0])
        table._add_keys(keys, places, self._arena)
        return table

    def _become(self, other: WordTable) -> None:
        """Take ``other``'s arrays as this table's own."""
        self._slots, self._where, self._arena, self._meta = other._state()
        self._compact, self._dead = None, False

    def _add_keys(self, keys: np.ndarray, places: np.ndarray, source: np.ndarray) -> None:
        k = 0
        while k < keys.shape[0]:
            k = add_keys(k, keys, places, source, IDENTITY, *self._state())
            if k < keys.shape[0]:
                self._grow(need_bytes=int(places[k:, 1].sum()))

    def _add_words(self, source: np.ndarray, places: np.ndarray, counts: np.ndarray) -> None:
        k = 0
        while k < counts.size:
            k = add_words(k, source, places, counts, IDENTITY, *self._state())
            if k < counts.size:
                self._grow(need_bytes=int(places[k:, 1].sum()))

    def compact(self) -> WordTable:
        """Keep only the occupied slots and the arena's used bytes (in place); return the table.

        For a table that will only be read, merged into another or sent: it
        then holds about 32 bytes a word plus the words, against about twice
        that with room to grow.  Adding to it later rebuilds the slots.
        """
        if self._dead:
            self._drop_dead()
        if self._compact is None:
            self._compact = self._used()
            del self._slots, self._where
        self._arena = self._arena[: int(self._meta[1])].copy()
        return self

    def normalize(self) -> WordTable:
        """Lowercase the non-ASCII words with ``str.lower`` (when ``lowercase``); return the table.

        The kernel folds ASCII letters only.  After this, every word is final,
        so equal words have equal bytes (what :meth:`split` buckets by).
        """
        if self._normal or not self.lowercase:
            self._normal = True
            return self
        self._normal = True
        keys, places = self._used()
        wide = np.flatnonzero(has_wide_byte(self._arena, places))
        words = [self._arena[o : o + m].tobytes() for o, m in places[wide].tolist()]
        lowered = [w.decode("utf-8").lower().encode("utf-8") for w in words]
        changed = [i for i, (w, low) in enumerate(zip(words, lowered, strict=True)) if w != low]
        if not changed:
            return self
        keep = np.ones(len(keys), dtype=bool)
        keep[wide[changed]] = False
        fresh = self._with(keys[keep], places[keep])
        fresh._add_words(*_packed([lowered[i] for i in changed]), keys[wide[changed], 2])
        self._become(fresh)
        return self

    def filter(self, min_length: int = 1, stopwords: frozenset[str] | None = None) -> WordTable:
        """Drop words shorter than ``min_length`` code points, and ``stopwords``.

        Returns this table if nothing is dropped, else a new (compact) one.

        Examples
        --------
        >>> table = WordTable.from_counts({"a": 3, "cat": 1, "the": 2})
        >>> table.filter(min_length=2, stopwords=frozenset({"the"})).to_counter()
        Counter({'cat': 1})
        """
        if min_length <= 1 and not stopwords:
            return self
        import pyarrow.compute as pc  # 0.1 s to import: only where a filter needs it

        words, _ = self.to_arrow()
        keep = np.ones(len(words), dtype=bool)
        if min_length > 1:
            keep &= pc.utf8_length(words).to_numpy() >= min_length
        if stopwords:
            keep &= ~pc.is_in(words, pa.array(sorted(stopwords))).to_numpy(zero_copy_only=False)
        if keep.all():
            return self
        keys, places = self._used()  # in the order of to_arrow's words
        return self._with(keys[keep], places[keep]).compact()

    def top(self, k: int = 0) -> list[tuple[str, int]]:
        """The ``k`` most frequent words (all for 0), by count descending then word.

        Only the words at or above the ``k``-th count become Python strings.

        Examples
        --------
        >>> WordTable.from_counts({"b": 2, "a": 2, "c": 5, "d": 1}).top(3)
        [('c', 5), ('a', 2), ('b', 2)]
        """
        self.normalize()
        if self._compact is not None:
            keys, places = self._compact
        else:  # every slot: an empty one counts 0, and no copy is made
            keys, places = self._slots, self._where
        counts = keys[:, 2]
        kth = max(1, kth_largest(counts, k)) if k else 1
        chosen = np.flatnonzero(counts >= kth)  # ties at the k-th count: sorted below
        words, counts = top_arrays(self._words(places[chosen]), counts[chosen], k or None)
        return list(zip(words.to_pylist(), counts.tolist(), strict=True))

    def split(self, n: int) -> list[WordTable]:
        """Cut the table into ``n`` tables by a hash of each (normalized) word."""
        self.normalize()
        keys, places = self._used()
        bucket = buckets(keys, n)
        out = []
        for b in range(n):
            mine = bucket == b
            out.append(self._with(keys[mine], places[mine]).compact())
        return out

    def _state(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The arrays the kernels fill (the hash slots are built now if the table was compact)."""
        if self._compact is not None:
            keys, places = self._compact
            size = _slots_for(keys.shape[0] + 1)
            self._slots = np.zeros((size, 3), dtype=np.int64)
            self._where = np.zeros((size, 2), dtype=np.int32)
            place(self._slots, self._where, keys, places)
            self._compact = None
        return self._slots, self._where, self._arena, self._meta

    def _grow(self, need_bytes: int) -> None:
        n, used = int(self._meta[0]), int(self._meta[1])
        if n + 1 > MAX_LOAD * self._slots.shape[0]:
            keys, places = self._slots, self._where
            self._slots = np.zeros((2 * keys.shape[0], 3), dtype=np.int64)
            self._where = np.zeros((2 * keys.shape[0], 2), dtype=np.int32)
            place(self._slots, self._where, keys, places)
        else:  # the arena is what is full
            size = max(2 * self._arena.size, used + need_bytes)
            if size > MAX_ARENA:
                size = max(used + need_bytes, MAX_ARENA)
            if size > MAX_ARENA:
                raise JobError(
                    "a word table would hold more than 2 GiB of distinct words (or one word "
                    "that long); use more --split-out (or cut the input with whitespace)"
                )
            arena = np.zeros(size, dtype=np.uint8)
            arena[:used] = self._arena[:used]
            self._arena = arena

    # -- reading out

    def _used(self) -> tuple[np.ndarray, np.ndarray]:
        """The counted words' slots (key, key, count) and places (offset, length)."""
        if self._compact is not None:
            return self._compact
        occupied = self._slots[:, 1] != 0
        if self._dead:
            occupied &= self._slots[:, 2] != 0
        return self._slots[occupied], self._where[occupied]

    def items(self) -> list[tuple[str, int]]:
        """``(word, count)`` per distinct key (non-ASCII letters lowered by :meth:`normalize`)."""
        keys, places = self._used()
        text = self._arena[: int(self._meta[1])].tobytes()
        return [
            (text[o : o + m].decode("utf-8"), c)
            for (o, m), c in zip(places.tolist(), keys[:, 2].tolist(), strict=True)
        ]

    def to_arrow(self) -> tuple[pa.Array, np.ndarray]:
        """The words (a pyarrow ``large_string`` array) and their counts, normalized.

        No Python object is made per word: this is how large results leave a worker.
        """
        self.normalize()
        keys, places = self._used()
        return self._words(places), keys[:, 2].copy()

    def _words(self, places: np.ndarray) -> pa.Array:
        """The words at ``places`` in the arena, as a pyarrow ``large_string`` array."""
        data, offsets = gather(self._arena, places)
        return pa.LargeStringArray.from_buffers(
            len(offsets) - 1, pa.py_buffer(offsets), pa.py_buffer(data)
        )

    def to_counter(self) -> Counter[str]:
        """The counts as a ``Counter`` of words, normalized (see :meth:`normalize`)."""
        counts: Counter[str] = Counter()
        dict.update(counts, self.normalize().items())  # normalized: the words are distinct
        return counts

    # -- pickling: only the occupied slots and the arena's used bytes

    def __getstate__(self) -> dict[str, Any]:
        keys, places = self._used()  # copies unless compact
        return {
            "tokenizer": self.tokenizer,
            "lowercase": self.lowercase,
            "keys": keys,
            "places": places,
            "arena": self._arena[: int(self._meta[1])].copy(),
            "normal": self._normal,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.tokenizer = state["tokenizer"]
        self.lowercase = state["lowercase"]
        keys, places, self._arena = state["keys"], state["places"], state["arena"]
        self._compact = (keys, places)  # no hash slots until something is added
        self._meta = np.array([keys.shape[0], self._arena.size, 0], dtype=np.int64)
        self._normal = state.get("normal", False)
        self._dead = False
        self._check_at = 0

    def __repr__(self) -> str:
        return (
            f"WordTable({self.tokenizer!r}, lowercase={self.lowercase}, "
            f"distinct={len(self)}, total={self.total})"
        )


def _packed(words: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """``words`` as one byte array and the ``(offset, length)`` of each."""
    lengths = np.array([len(w) for w in words], dtype=np.int32)
    offsets = np.cumsum(lengths) - lengths
    places = np.stack([offsets, lengths], axis=1).astype(np.int32)
    return np.frombuffer(b"".join(words), dtype=np.uint8), places


def _slots_for(capacity: int) -> int:
    """Slots for ``capacity`` words at most 60% full: a power of two, at least 16."""
    return 1 << max(4, (int(capacity / 0.6)).bit_length())
