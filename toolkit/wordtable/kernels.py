"""The compiled loops over whole buffers: count a block's words, add and merge tables, rank, split.

Each walks numpy arrays in one pass (numba, ``nogil``); the word table's state
(slots, positions, the byte arena, its counters) goes in and out as arrays.
A block's words are found a batch at a time, then counted.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from toolkit.text import APOSTROPHE as APOS
from toolkit.text import IDEOGRAPH as IDEO
from toolkit.text import WORD_CHAR as WORD
from toolkit.wordtable.hashing import (
    decode_checked,
    find,
    probe_hash,
    settle,
    span_keys,
)

__all__ = [
    "ASCII_LOWER",
    "BATCH",
    "IDENTITY",
    "add_keys",
    "add_words",
    "buckets",
    "count_bytes",
    "count_spans",
    "find_words",
    "gather",
    "has_wide_byte",
    "kth_largest",
    "place",
]


BATCH = 512  # words found before they are counted: their lookups overlap in the CPU


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
    """Count the words of the UTF-8 ``buf[pos:]`` into the table (``fold``: IDENTITY or
    ASCII_LOWER).

    Returns ``buf.size`` when done, or a place to stop at with every word before
    it counted: the start of the word that did not fit (grow the table and call
    again from there: a word start needs no context), or, with ``meta[2]`` set
    to 1, the start of the word holding the first byte that is not UTF-8 (or
    that byte, outside a word).

    Words are found a batch at a time (:func:`find_words`), then counted
    (:func:`count_spans`): a lookup that misses the cache no longer waits behind
    the branches of the scan, and the batch's lookups overlap (2-3x faster than
    counting each word as the scan ends it).
    """
    spans = np.empty((BATCH, 2), dtype=np.int64)
    keys = np.empty((BATCH, 3), dtype=np.int64)
    i = pos
    while True:
        i, found, bad = find_words(buf, i, classes, spans)
        counted = count_spans(buf, spans, found, keys, fold, slots, where, arena, meta)
        if counted < found:
            return spans[counted, 0]
        if bad:
            meta[2] = 1
            return i
        if i >= buf.size:
            return buf.size


@njit(cache=True, nogil=True)
def find_words(
    buf: np.ndarray, pos: int, classes: np.ndarray, spans: np.ndarray
) -> tuple[int, int, bool]:  # pragma: no cover - compiled
    """The next words of ``buf[pos:]`` (``pos`` outside a word), as ``(start, length)`` rows
    of ``spans``, up to its size.

    Returns where to go on from (outside a word: the start of the next word
    when ``spans`` is full, else ``buf.size``), how many words it found, and
    whether it stopped at a byte that is not UTF-8 (then where to go on from is
    the start of the word holding it, or that byte outside a word).
    """
    n = buf.size
    room = spans.shape[0]
    found = 0
    i = pos
    start = -1  # start of the current word, -1 when outside one
    while i < n:
        b = buf[i]
        if start < 0 and b < 0x80:
            # the common case, outside a word at an ASCII byte: separators are skipped, and
            # an ASCII word that ends at an ASCII separator is found here in a tight loop
            if classes[b] != WORD:  # ASCII: a separator, or an apostrophe outside a word
                i += 1
                continue
            if found == room:
                return i, found, False
            start = i
            i += 1
            while i < n:
                b = buf[i]
                if b >= 0x80 or classes[b] != WORD:
                    break
                i += 1
            if i < n and (b >= 0x80 or classes[b] == APOS):
                continue  # the word may go on: the general path below decides
            spans[found, 0], spans[found, 1] = start, i - start
            found += 1
            start = -1
            i += 1  # the ASCII separator after the word (or past the end)
            continue
        cp: Any
        if b < 0x80:
            cp, size = b, 1
        else:
            cp, size = decode_checked(buf, i, n)
            if size == 0:  # not UTF-8: stop before the word that holds it
                return (start if start >= 0 else i), found, True
        c = classes[cp]
        joins = c == WORD
        if c == APOS and start >= 0 and i + size < n:
            nb = buf[i + size]
            if nb < 0x80:
                joins = classes[nb] == WORD
            else:
                ncp, nsize = decode_checked(buf, i + size, n)
                if nsize == 0:
                    return start, found, True
                joins = classes[ncp] == WORD
        if joins:
            if start < 0:
                if found == room:
                    return i, found, False
                start = i
            i += size
            while i < n:  # the rest of a run of ASCII word characters, in a tight loop
                b = buf[i]
                if b >= 0x80 or classes[b] != WORD:
                    break
                i += 1
            continue
        if start >= 0:  # the current word ends here
            spans[found, 0], spans[found, 1] = start, i - start
            found += 1
            start = -1
        if c == IDEO:  # a word of its own
            if found == room:
                return i, found, False
            spans[found, 0], spans[found, 1] = i, size
            found += 1
        i += size
    if start >= 0:
        spans[found, 0], spans[found, 1] = start, n - start
        found += 1
    return n, found, False


@njit(cache=True, nogil=True)
def count_spans(
    buf: np.ndarray,
    spans: np.ndarray,
    found: int,
    keys: np.ndarray,
    fold: np.ndarray,
    slots: np.ndarray,
    where: np.ndarray,
    arena: np.ndarray,
    meta: np.ndarray,
) -> int:  # pragma: no cover - compiled
    """Count once each word ``fold[buf[o:o + m]]`` of the first ``found`` rows ``(o, m)`` of
    ``spans``; return how many were counted (``found`` unless the table filled up).

    Their keys first (into ``keys``), then the lookups, which do not wait on each other.
    """
    span_keys(buf, spans, found, fold[ord("A")] != ord("A"), keys)
    for k in range(found):
        k1, k2 = keys[k, 0], keys[k, 1]
        s = find(slots, k1, k2, keys[k, 2])
        if s >= 0 and k2 >= 0:
            slots[s, 2] += 1
            continue
        o, m = spans[k, 0], spans[k, 1]
        if not settle(buf, o, k1, k2, m, fold, 1, slots, where, arena, meta, s):
            return k
    return found


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
    keys = np.empty((counts.size, 3), dtype=np.int64)
    span_keys(source, places, counts.size, False, keys)
    for k in range(first, counts.size):
        o, m = places[k, 0], places[k, 1]
        k1, k2 = keys[k, 0], keys[k, 1]
        s = find(slots, k1, k2, keys[k, 2])
        if s >= 0 and k2 >= 0:
            slots[s, 2] += counts[k]
        elif not settle(source, o, k1, k2, m, identity, counts[k], slots, where, arena, meta, s):
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
        s = find(slots, k1, k2, probe_hash(k1, k2))
        if s >= 0 and k2 >= 0:
            slots[s, 2] += keys[k, 2]
        elif not settle(source, o, k1, k2, m, identity, keys[k, 2], slots, where, arena, meta, s):
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
