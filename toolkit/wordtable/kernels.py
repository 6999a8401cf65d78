"""The compiled loops over whole buffers: count a block's words, add and merge tables, rank, split.

Each walks numpy arrays in one pass (numba, ``nogil``); the word table's state
(slots, positions, the byte arena, its counters) goes in and out as arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from toolkit.text import APOSTROPHE as APOS
from toolkit.text import IDEOGRAPH as IDEO
from toolkit.text import WORD_CHAR as WORD
from toolkit.wordtable.hashing import (
    absorb,
    decode_checked,
    insert,
    insert_word,
    keys_of,
    probe_hash,
)

__all__ = [
    "ASCII_LOWER",
    "IDENTITY",
    "add_keys",
    "add_words",
    "buckets",
    "count_bytes",
    "gather",
    "has_wide_byte",
    "kth_largest",
    "place",
]


@njit(cache=True, nogil=True)
def count_bytes(
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
                h, first, acc, shift = absorb(h, first, acc, shift, fold[b])
                i += 1
                if i >= n:
                    break
                b = buf[i]
                if b >= 0x80 or classes[b] != WORD:
                    break
            if i < n and (b >= 0x80 or classes[b] == APOS):
                continue  # the word may go on: the general path below decides
            if not insert_word(buf, start, i, h, first, acc, fold, slots, where, arena, meta):
                return start
            start = -1
            i += 1  # the ASCII separator after the word (or past the end)
            continue
        cp: Any
        if b < 0x80:
            cp, size = b, 1
        else:
            cp, size = decode_checked(buf, i, n)
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
                ncp, nsize = decode_checked(buf, i + size, n)
                if nsize == 0:
                    meta[2] = 1
                    return start
                joins = classes[ncp] == WORD
        if joins:
            if start < 0:
                start = i
                h, first, acc, shift = np.uint64(0), np.uint64(0), np.uint64(0), np.uint64(0)
            for j in range(i, i + size):
                h, first, acc, shift = absorb(h, first, acc, shift, fold[buf[j]])
            i += size
            while i < n:  # the rest of a run of ASCII word characters, in a tight loop
                b = buf[i]
                if b >= 0x80 or classes[b] != WORD:
                    break
                h, first, acc, shift = absorb(h, first, acc, shift, fold[b])
                i += 1
            continue
        if start >= 0:  # the current word ends here
            if not insert_word(buf, start, i, h, first, acc, fold, slots, where, arena, meta):
                return start
            start = -1
        if c == IDEO:  # a word of its own (at most 4 bytes: short)
            acc = np.uint64(0)
            for j in range(size):
                acc |= np.uint64(buf[i + j]) << np.uint64(8 * j)
            zero = np.uint64(0)
            if not insert_word(buf, i, i + size, zero, zero, acc, fold, slots, where, arena, meta):
                return i
        i += size
    if start >= 0 and not insert_word(
        buf, start, n, h, first, acc, fold, slots, where, arena, meta
    ):
        return start
    return n


@njit(cache=True, nogil=True)
def add_words(
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
            h, head, acc, shift = absorb(h, head, acc, shift, source[j])
        k1, k2, probe = keys_of(h, head, acc, m)
        if not insert(source, o, k1, k2, probe, m, identity, counts[k], slots, where, arena, meta):
            return k
    return counts.size


@njit(cache=True, nogil=True)
def add_keys(
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
        probe = probe_hash(k1, k2)
        if not insert(source, o, k1, k2, probe, m, identity, keys[k, 2], slots, where, arena, meta):
            return k
    return keys.shape[0]


@njit(cache=True, nogil=True)
def has_wide_byte(arena: np.ndarray, places: np.ndarray) -> np.ndarray:  # pragma: no cover
    """For each word ``arena[o:o + m]``, whether it has a byte past ASCII."""
    out = np.zeros(places.shape[0], dtype=np.bool_)
    for k in range(places.shape[0]):
        for j in range(places[k, 0], places[k, 0] + places[k, 1]):
            if arena[j] >= 0x80:
                out[k] = True
                break
    return out


@njit(cache=True, nogil=True)
def gather(
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
def kth_largest(counts: np.ndarray, k: int) -> int:  # pragma: no cover - compiled
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
def buckets(keys: np.ndarray, n: int) -> np.ndarray:  # pragma: no cover - compiled
    """The bucket (of ``n``) of each occupied slot: the same word, the same bucket."""
    out = np.empty(keys.shape[0], dtype=np.int64)
    for k in range(keys.shape[0]):
        out[k] = probe_hash(keys[k, 0], keys[k, 1]) % n
    return out


@njit(cache=True, nogil=True)
def place(
    slots: np.ndarray, where: np.ndarray, keys: np.ndarray, places: np.ndarray
) -> None:  # pragma: no cover - compiled
    """Put the occupied ``keys`` (distinct words) and their ``places`` into empty slots."""
    mask = slots.shape[0] - 1
    for k in range(keys.shape[0]):
        if keys[k, 1] == 0:
            continue
        s = probe_hash(keys[k, 0], keys[k, 1]) & mask
        while slots[s, 1] != 0:
            s = (s + 1) & mask
        slots[s, 0], slots[s, 1], slots[s, 2] = keys[k, 0], keys[k, 1], keys[k, 2]
        where[s, 0], where[s, 1] = places[k, 0], places[k, 1]


IDENTITY = np.arange(256, dtype=np.uint8)
ASCII_LOWER = IDENTITY.copy()
ASCII_LOWER[ord("A") : ord("Z") + 1] += 32
