"""Word counts kept in flat arrays, counted straight from UTF-8 bytes by a compiled kernel.

``Counter(tokenize(text))`` builds one Python string per word; at ~6 bytes a
word that costs as much as the rest of the job.  A :class:`WordTable` is an
open-addressing hash table whose keys live in one byte arena: the kernel
(compiled by numba) walks the bytes of a chunk, validates and decodes code
points, looks each one up in a class table made from the same definitions as
:mod:`toolkit.text`, hashes each word in place and bumps its count.  Tables
pickle as a few arrays, so partials move between workers in one piece; they
merge and split by their stored keys, and leave as a pyarrow array of words
(:meth:`WordTable.to_arrow`) without a Python string per word.

The plain tokenizers of :mod:`toolkit.text` are the reference: the tests
hold :meth:`WordTable.to_counter` to them on the same text.

Examples
--------
>>> table = WordTable("words", lowercase=True)
>>> data = "The cat and the hat. Straße, STRASSE!".encode()
>>> table.add_bytes(data) == len(data)
True
>>> table.add_bytes(b"a caf\\xe9 ok")  # Latin-1, not UTF-8: counted up to "caf"
2
>>> sorted(table.to_counter().items())
[('a', 1), ('and', 1), ('cat', 1), ('hat', 1), ('strasse', 1), ('straße', 1), ('the', 2)]
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import tempfile
import unicodedata
from collections import Counter
from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numba import njit

from toolkit.errors import JobError
from toolkit.ranking import top_arrays
from toolkit.text import APOSTROPHE as APOS
from toolkit.text import IDEOGRAPH as IDEO
from toolkit.text import WORD_CHAR as WORD
from toolkit.text import get_tokenizer, word_classes

__all__ = ["WordTable"]


@functools.cache
def _classes(tokenizer: str) -> np.ndarray:
    """One byte per code point: its class under ``tokenizer`` (see :func:`word_classes`).

    Building the table asks Python about each of 1.1 million code points
    (0.1 s, paid by every worker process on its first block), so it is kept
    in a file named after the Python and Unicode versions it came from, and
    read back from there (1 ms).  A missing, short or unwritable file only
    means building it again.
    """
    name = get_tokenizer(tokenizer).name
    path = _classes_path(name)
    try:
        with open(path, "rb") as f:
            data = f.read()
        if len(data) == sys.maxunicode + 1 and data[32] == 0 and data[ord("a")] == 1:
            return np.frombuffer(data, dtype=np.uint8)
    except OSError:
        pass
    data = word_classes(name)
    with contextlib.suppress(OSError):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)  # readers see the whole table or none
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    return np.frombuffer(data, dtype=np.uint8)


def _classes_path(tokenizer: str) -> str:
    """Where the code-point table of ``tokenizer`` is kept: ``$TOOLKIT_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/toolkit``, else ``~/.cache/toolkit``."""
    root = os.environ.get("TOOLKIT_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "toolkit",
    )
    py = f"{sys.implementation.name}{sys.version_info[0]}{sys.version_info[1]}"
    return os.path.join(
        root, f"word-classes-{tokenizer}-{py}-unicode{unicodedata.unidata_version}.bin"
    )


# -- kernels ------------------------------------------------------------------------------


@njit(cache=True, nogil=True, inline="always")
def _decode(buf: np.ndarray, i: int) -> tuple[Any, int]:  # pragma: no cover - compiled
    """The code point at ``buf[i]`` (valid UTF-8) and its length in bytes."""
    b = np.int64(buf[i])
    if b < 0x80:
        return b, 1
    if b < 0xE0:
        return ((b & 0x1F) << 6) | (np.int64(buf[i + 1]) & 0x3F), 2
    if b < 0xF0:
        return (
            ((b & 0x0F) << 12)
            | ((np.int64(buf[i + 1]) & 0x3F) << 6)
            | (np.int64(buf[i + 2]) & 0x3F)
        ), 3
    return (
        ((b & 0x07) << 18)
        | ((np.int64(buf[i + 1]) & 0x3F) << 12)
        | ((np.int64(buf[i + 2]) & 0x3F) << 6)
        | (np.int64(buf[i + 3]) & 0x3F)
    ), 4


@njit(cache=True, nogil=True, inline="always")
def _decode_checked(buf: np.ndarray, i: int, n: int) -> tuple[Any, int]:  # pragma: no cover
    """The code point of the multi-byte sequence at ``buf[i]`` and its length; length 0 if
    it is not valid UTF-8 as Python's strict codec has it (no overlong forms, surrogates,
    code points past U+10FFFF or sequences cut short by ``n``)."""
    b = buf[i]
    ok = False
    if 0xC2 <= b <= 0xDF:
        ok = i + 1 < n and (buf[i + 1] & 0xC0) == 0x80
    elif 0xE0 <= b <= 0xEF:
        ok = (
            i + 2 < n
            and (buf[i + 1] & 0xC0) == 0x80
            and (buf[i + 2] & 0xC0) == 0x80
            and not (b == 0xE0 and buf[i + 1] < 0xA0)  # overlong
            and not (b == 0xED and buf[i + 1] >= 0xA0)  # a surrogate
        )
    elif 0xF0 <= b <= 0xF4:
        ok = (
            i + 3 < n
            and (buf[i + 1] & 0xC0) == 0x80
            and (buf[i + 2] & 0xC0) == 0x80
            and (buf[i + 3] & 0xC0) == 0x80
            and not (b == 0xF0 and buf[i + 1] < 0x90)  # overlong
            and not (b == 0xF4 and buf[i + 1] >= 0x90)  # past U+10FFFF
        )
    if ok:
        return _decode(buf, i)
    return 0, 0


# A word's hash: its (folded) bytes packed 8 at a time into a uint64, each full one mixed
# into the state by a multiply; the last, partial one and the length by a final mix.  (The
# same bytes always give the same hash, in every process: tables merge by it.)
_P1 = np.uint64(0x9E3779B97F4A7C15)
_P2 = np.uint64(0xBF58476D1CE4E5B9)
_LOW56 = np.int64((1 << 56) - 1)  # a hash keeps 56 bits: the top byte of a key is its kind


@njit(cache=True, nogil=True, inline="always")
def _absorb(
    h: np.uint64, first: np.uint64, acc: np.uint64, shift: np.uint64, byte: Any
) -> tuple[np.uint64, np.uint64, np.uint64, np.uint64]:  # pragma: no cover - compiled
    """Take one more byte of a word into its hash state ``(h, first, acc, shift)``.

    ``acc`` collects bytes 8 at a time; each full 8 is mixed into ``h`` and kept in
    ``first`` (for a word of 8 to 15 bytes, its first 8: part of its key).
    """
    acc |= np.uint64(byte) << shift
    shift += np.uint64(8)
    if shift == np.uint64(64):
        return (h ^ acc) * _P1, acc, np.uint64(0), np.uint64(0)
    return h, first, acc, shift


@njit(cache=True, nogil=True, inline="always")
def _finish(h: np.uint64, acc: np.uint64, length: Any) -> np.int64:  # pragma: no cover
    """A word's 56-bit hash from its hash state and its length."""
    h = (h ^ acc ^ np.uint64(length)) * _P1
    h ^= h >> np.uint64(32)
    h *= _P2
    h ^= h >> np.uint64(29)
    return np.int64(h) & _LOW56


# A slot is three int64: two key words and the count.  A word of at most 15 bytes is its
# own key: bytes 0-7 in the first word, bytes 8-14 and its length (top byte) in the second,
# so a lookup compares two integers and never reads the arena.  A longer word's key is 56
# bits of its hash and 0xFF with its length: equal keys, then the bytes are compared.  The
# second word is never 0 for a word: 0 marks an empty slot.  Beside the slots, where each
# word sits in the arena and its length, as int32 (read for long words and to read the table
# out; an arena holds at most 2 GiB).
_LONG = np.int64(-(1 << 56))  # 0xFF in the top byte
_MAX_LOAD = 0.7
_MAX_ARENA = 2**31 - 1  # offsets and lengths are int32


@njit(cache=True, nogil=True, inline="always")
def _keys_of(
    h: np.uint64, first: np.uint64, acc: np.uint64, length: int
) -> tuple[np.int64, np.int64, np.int64]:  # pragma: no cover - compiled
    """A word's two key words and its probe hash, from its hash state.

    ``acc`` holds the bytes after the last full 8, ``first`` the last full 8.
    """
    probe = _finish(h, acc, length)
    if length < 8:
        return np.int64(acc), np.int64(length) << 56, probe
    if length < 16:
        return np.int64(first), np.int64(acc) | (np.int64(length) << 56), probe
    return probe, _LONG | np.int64(length), probe


@njit(cache=True, nogil=True, inline="always")
def _probe_hash(k1: np.int64, k2: np.int64) -> np.int64:  # pragma: no cover - compiled
    """The probe hash of a stored key (what :func:`_keys_of` gave with it)."""
    if k2 < 0:
        return k1
    length = k2 >> 56
    if length < 8:
        return _finish(np.uint64(0), np.uint64(k1), length)
    return _finish(np.uint64(k1) * _P1, np.uint64(k2 & _LOW56), length)


@njit(cache=True, nogil=True, inline="always")
def _insert(
    buf: np.ndarray,
    start: int,
    k1: np.int64,
    k2: np.int64,
    h: np.int64,
    length: int,
    fold: np.ndarray,
    add: int,
    slots: np.ndarray,
    where: np.ndarray,
    arena: np.ndarray,
    meta: np.ndarray,
) -> bool:  # pragma: no cover - compiled
    """Add ``add`` to the count of the word ``fold[buf[start:start + length]]``.

    False (nothing changed) if the table or the arena is full.
    """
    mask = slots.shape[0] - 1
    s = h & mask
    while True:
        stored = slots[s, 1]
        if stored == 0:
            break
        if stored == k2 and slots[s, 0] == k1:
            same = True
            if k2 < 0:  # a long word: equal hashes, compare the bytes
                o = where[s, 0]
                for j in range(length):
                    if arena[o + j] != fold[buf[start + j]]:
                        same = False
                        break
            if same:
                slots[s, 2] += add
                return True
        s = (s + 1) & mask
    n, used = meta[0], meta[1]
    if used + length > arena.size or (n + 1) > _MAX_LOAD * slots.shape[0]:
        return False
    for j in range(length):
        arena[used + j] = fold[buf[start + j]]
    slots[s, 0] = k1
    slots[s, 1] = k2
    slots[s, 2] = add
    where[s, 0] = used
    where[s, 1] = length
    meta[0] = n + 1
    meta[1] = used + length
    return True


@njit(cache=True, nogil=True, inline="always")
def _insert_word(
    buf: np.ndarray,
    start: int,
    end: int,
    h: np.uint64,
    first: np.uint64,
    acc: np.uint64,
    fold: np.ndarray,
    slots: np.ndarray,
    where: np.ndarray,
    arena: np.ndarray,
    meta: np.ndarray,
) -> bool:  # pragma: no cover - compiled
    """Count one occurrence of the word ``buf[start:end]`` from its hash state."""
    k1, k2, probe = _keys_of(h, first, acc, end - start)
    return _insert(buf, start, k1, k2, probe, end - start, fold, 1, slots, where, arena, meta)


@njit(cache=True, nogil=True)
def _count(
    buf: np.ndarray,
    pos: int,
    classes: np.ndarray,
    fold: np.ndarray,
    slots: np.ndarray,
    where: np.ndarray,
    arena: np.ndarray,
    meta: np.ndarray,
) -> int:  # pragma: no cover - compiled
    """Count the words of the UTF-8 ``buf[pos:]`` into the table.

    Returns ``buf.size`` when done, or a place to stop at with every word before
    it counted: the start of the word that did not fit (grow the table and call
    again from there: a word start needs no context), or, with ``meta[2]`` set
    to 1, the start of the word holding the first byte that is not UTF-8 (or
    that byte, outside a word).
    """
    n = buf.size
    i = pos
    start = -1  # start of the current word, -1 when outside one
    h, first, acc, shift = np.uint64(0), np.uint64(0), np.uint64(0), np.uint64(0)
    while i < n:
        b = buf[i]
        if start < 0 and b < 0x80:
            # the common case, outside a word at an ASCII byte: separators are skipped, and
            # an ASCII word that ends at an ASCII separator is counted here in a tight loop
            if classes[b] != WORD:  # ASCII: a separator, or an apostrophe outside a word
                i += 1
                continue
            start = i
            h, first, acc, shift = np.uint64(0), np.uint64(0), np.uint64(0), np.uint64(0)
            while True:
                h, first, acc, shift = _absorb(h, first, acc, shift, fold[b])
                i += 1
                if i >= n:
                    break
                b = buf[i]
                if b >= 0x80 or classes[b] != WORD:
                    break
            if i < n and (b >= 0x80 or classes[b] == APOS):
                continue  # the word may go on: the general path below decides
            if not _insert_word(buf, start, i, h, first, acc, fold, slots, where, arena, meta):
                return start
            start = -1
            i += 1  # the ASCII separator after the word (or past the end)
            continue
        cp: Any
        if b < 0x80:
            cp, size = b, 1
        else:
            cp, size = _decode_checked(buf, i, n)
            if size == 0:  # not UTF-8: stop before the word that holds it
                meta[2] = 1
                return start if start >= 0 else i
        c = classes[cp]
        joins = c == WORD
        if c == APOS and start >= 0 and i + size < n:
            nb = buf[i + size]
            if nb < 0x80:
                joins = classes[nb] == WORD
            else:
                ncp, nsize = _decode_checked(buf, i + size, n)
                if nsize == 0:
                    meta[2] = 1
                    return start
                joins = classes[ncp] == WORD
        if joins:
            if start < 0:
                start = i
                h, first, acc, shift = np.uint64(0), np.uint64(0), np.uint64(0), np.uint64(0)
            for j in range(i, i + size):
                h, first, acc, shift = _absorb(h, first, acc, shift, fold[buf[j]])
            i += size
            while i < n:  # the rest of a run of ASCII word characters, in a tight loop
                b = buf[i]
                if b >= 0x80 or classes[b] != WORD:
                    break
                h, first, acc, shift = _absorb(h, first, acc, shift, fold[b])
                i += 1
            continue
        if start >= 0:  # the current word ends here
            if not _insert_word(buf, start, i, h, first, acc, fold, slots, where, arena, meta):
                return start
            start = -1
        if c == IDEO:  # a word of its own (at most 4 bytes: short)
            acc = np.uint64(0)
            for j in range(size):
                acc |= np.uint64(buf[i + j]) << np.uint64(8 * j)
            zero = np.uint64(0)
            if not _insert_word(buf, i, i + size, zero, zero, acc, fold, slots, where, arena, meta):
                return i
        i += size
    if start >= 0 and not _insert_word(
        buf, start, n, h, first, acc, fold, slots, where, arena, meta
    ):
        return start
    return n


@njit(cache=True, nogil=True)
def _add_words(
    first: int,
    source: np.ndarray,
    places: np.ndarray,
    counts: np.ndarray,
    identity: np.ndarray,
    slots: np.ndarray,
    where: np.ndarray,
    arena: np.ndarray,
    meta: np.ndarray,
) -> int:  # pragma: no cover - compiled
    """Add ``counts[k]`` to each word ``source[o:o + m]`` with ``(o, m) = places[k]``.

    From ``k = first`` on; returns how far it got (``counts.size`` when done).
    The words are taken as they are (already tokenized and folded).
    """
    for k in range(first, counts.size):
        o, m = places[k, 0], places[k, 1]
        h, head, acc, shift = np.uint64(0), np.uint64(0), np.uint64(0), np.uint64(0)
        for j in range(o, o + m):
            h, head, acc, shift = _absorb(h, head, acc, shift, source[j])
        k1, k2, probe = _keys_of(h, head, acc, m)
        if not _insert(source, o, k1, k2, probe, m, identity, counts[k], slots, where, arena, meta):
            return k
    return counts.size


@njit(cache=True, nogil=True)
def _add_keys(
    first: int,
    keys: np.ndarray,
    places: np.ndarray,
    source: np.ndarray,
    identity: np.ndarray,
    slots: np.ndarray,
    where: np.ndarray,
    arena: np.ndarray,
    meta: np.ndarray,
) -> int:  # pragma: no cover - compiled
    """Add the rows of another table's slots (``keys``; words at ``places`` in ``source``).

    From row ``first`` on; returns how far it got (``keys.shape[0]`` when done).
    The stored keys are reused: no word is hashed again.
    """
    for k in range(first, keys.shape[0]):
        k1, k2 = keys[k, 0], keys[k, 1]
        if k2 == 0:
            continue
        o, m = places[k, 0], places[k, 1]
        probe = _probe_hash(k1, k2)
        if not _insert(
            source, o, k1, k2, probe, m, identity, keys[k, 2], slots, where, arena, meta
        ):
            return k
    return keys.shape[0]


@njit(cache=True, nogil=True)
def _has_wide_byte(arena: np.ndarray, places: np.ndarray) -> np.ndarray:  # pragma: no cover
    """For each word ``arena[o:o + m]``, whether it has a byte past ASCII."""
    out = np.zeros(places.shape[0], dtype=np.bool_)
    for k in range(places.shape[0]):
        for j in range(places[k, 0], places[k, 0] + places[k, 1]):
            if arena[j] >= 0x80:
                out[k] = True
                break
    return out


@njit(cache=True, nogil=True)
def _gather(
    arena: np.ndarray, places: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
    """The words ``arena[o:o + m]`` for ``(o, m)`` in ``places``, end to end, and their offsets."""
    offsets = np.empty(places.shape[0] + 1, dtype=np.int64)
    offsets[0] = 0
    for k in range(places.shape[0]):
        offsets[k + 1] = offsets[k] + places[k, 1]
    data = np.empty(offsets[-1], dtype=np.uint8)
    for k in range(places.shape[0]):
        o, d = places[k, 0], offsets[k]
        for j in range(places[k, 1]):
            data[d + j] = arena[o + j]
    return data, offsets


@njit(cache=True, nogil=True)
def _kth_largest(counts: np.ndarray, k: int) -> int:  # pragma: no cover - compiled
    """The ``k``-th largest of ``counts`` (0 if fewer than ``k`` are above 0), in one pass.

    A min-heap of the ``k`` largest so far: most counts are below its root.
    """
    heap = np.zeros(k, dtype=np.int64)
    for c in counts:
        if c > heap[0]:
            i = 0  # the root leaves; sift `c` down from it
            while True:
                child = 2 * i + 1
                if child >= k:
                    break
                if child + 1 < k and heap[child + 1] < heap[child]:
                    child += 1
                if heap[child] >= c:
                    break
                heap[i] = heap[child]
                i = child
            heap[i] = c
    return heap[0]


@njit(cache=True, nogil=True)
def _buckets(keys: np.ndarray, n: int) -> np.ndarray:  # pragma: no cover - compiled
    """The bucket (of ``n``) of each occupied slot: the same word, the same bucket."""
    out = np.empty(keys.shape[0], dtype=np.int64)
    for k in range(keys.shape[0]):
        out[k] = _probe_hash(keys[k, 0], keys[k, 1]) % n
    return out


@njit(cache=True, nogil=True)
def _place(
    slots: np.ndarray, where: np.ndarray, keys: np.ndarray, places: np.ndarray
) -> None:  # pragma: no cover - compiled
    """Put the occupied ``keys`` (distinct words) and their ``places`` into empty slots."""
    mask = slots.shape[0] - 1
    for k in range(keys.shape[0]):
        if keys[k, 1] == 0:
            continue
        s = _probe_hash(keys[k, 0], keys[k, 1]) & mask
        while slots[s, 1] != 0:
            s = (s + 1) & mask
        slots[s, 0], slots[s, 1], slots[s, 2] = keys[k, 0], keys[k, 1], keys[k, 2]
        where[s, 0], where[s, 1] = places[k, 0], places[k, 1]


_IDENTITY = np.arange(256, dtype=np.uint8)
_ASCII_LOWER = _IDENTITY.copy()
_ASCII_LOWER[ord("A") : ord("Z") + 1] += 32


# -- the table ------------------------------------------------------------------------------


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
        classes = _classes(self.tokenizer)
        fold = _ASCII_LOWER if self.lowercase else _IDENTITY
        pos = 0
        while True:
            pos = _count(buf, pos, classes, fold, *self._state())
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
            k = _add_keys(k, keys, places, source, _IDENTITY, *self._state())
            if k < keys.shape[0]:
                self._grow(need_bytes=int(places[k:, 1].sum()))

    def _add_words(self, source: np.ndarray, places: np.ndarray, counts: np.ndarray) -> None:
        k = 0
        while k < counts.size:
            k = _add_words(k, source, places, counts, _IDENTITY, *self._state())
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
        wide = np.flatnonzero(_has_wide_byte(self._arena, places))
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
        kth = max(1, _kth_largest(counts, k)) if k else 1
        chosen = np.flatnonzero(counts >= kth)  # ties at the k-th count: sorted below
        words, counts = top_arrays(self._words(places[chosen]), counts[chosen], k or None)
        return list(zip(words.to_pylist(), counts.tolist(), strict=True))

    def split(self, n: int) -> list[WordTable]:
        """Cut the table into ``n`` tables by a hash of each (normalized) word."""
        self.normalize()
        keys, places = self._used()
        bucket = _buckets(keys, n)
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
            _place(self._slots, self._where, keys, places)
            self._compact = None
        return self._slots, self._where, self._arena, self._meta

    def _grow(self, need_bytes: int) -> None:
        n, used = int(self._meta[0]), int(self._meta[1])
        if n + 1 > _MAX_LOAD * self._slots.shape[0]:
            keys, places = self._slots, self._where
            self._slots = np.zeros((2 * keys.shape[0], 3), dtype=np.int64)
            self._where = np.zeros((2 * keys.shape[0], 2), dtype=np.int32)
            _place(self._slots, self._where, keys, places)
        else:  # the arena is what is full
            size = max(2 * self._arena.size, used + need_bytes)
            if size > _MAX_ARENA:
                size = max(used + need_bytes, _MAX_ARENA)
            if size > _MAX_ARENA:
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
        data, offsets = _gather(self._arena, places)
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
