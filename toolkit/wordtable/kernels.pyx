# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""The compiled loops over whole buffers: count a block's words, add and merge tables, rank, split.

Each walks numpy arrays in one pass, in C (Cython, compiled when the package is
installed), without Python's lock; the word table's state (slots, positions,
the byte arena, its counters) goes in and out as arrays.  A block's words are
found a batch at a time, then counted.  The module loads in about a millisecond.
"""

import numpy as np

from libc.stdint cimport int32_t, int64_t, uint8_t

from toolkit.wordtable.hashing cimport (
    MAX_ARENA as _MAX_ARENA,
    MAX_LOAD as _MAX_LOAD,
    decode_checked,
    find,
    probe_hash,
    settle,
    word_keys,
)

from toolkit.text import APOSTROPHE as _APOS, IDEOGRAPH as _IDEO, WORD_CHAR as _WORD

__all__ = [
    "ASCII_LOWER",
    "BATCH",
    "IDENTITY",
    "MAX_ARENA",
    "MAX_LOAD",
    "add_keys",
    "add_words",
    "buckets",
    "count_bytes",
    "gather",
    "has_wide_byte",
    "kth_largest",
    "place",
]

cdef enum:
    _BATCH = 512  # words found before they are counted: their lookups overlap in the CPU

BATCH = _BATCH
MAX_ARENA = _MAX_ARENA
MAX_LOAD = _MAX_LOAD

cdef uint8_t WORD = _WORD
cdef uint8_t APOS = _APOS
cdef uint8_t IDEO = _IDEO

IDENTITY = np.arange(256, dtype=np.uint8)
ASCII_LOWER = IDENTITY.copy()
ASCII_LOWER[ord("A") : ord("Z") + 1] += 32


cdef struct Table:
    # a word table's arrays, as the loops write them
    int64_t *slots
    int64_t nslots
    int32_t *where
    uint8_t *arena
    int64_t arena_size
    int64_t *meta


cdef inline Table table_of(int64_t[:, ::1] slots, int32_t[:, ::1] where, uint8_t[::1] arena,
                           int64_t[::1] meta) noexcept:
    cdef Table t
    t.slots, t.nslots = &slots[0, 0], slots.shape[0]
    t.where, t.arena, t.arena_size = &where[0, 0], &arena[0], arena.shape[0]
    t.meta = &meta[0]
    return t


def count_bytes(const uint8_t[::1] buf, int64_t pos, const uint8_t[::1] classes,
                const uint8_t[::1] fold, int64_t[:, ::1] slots, int32_t[:, ::1] where,
                uint8_t[::1] arena, int64_t[::1] meta) -> int:
    """Count the words of the UTF-8 ``buf[pos:]`` into the table (``fold``: IDENTITY or
    ASCII_LOWER).

    Returns ``buf.size`` when done, or a place to stop at with every word before
    it counted: the start of the word that did not fit (grow the table and call
    again from there: a word start needs no context), or, with ``meta[2]`` set
    to 1, the start of the word holding the first byte that is not UTF-8 (or
    that byte, outside a word).

    Words are found a batch at a time (``find_words``), then counted
    (``count_spans``): a lookup that misses the cache no longer waits behind the
    branches of the scan, and the batch's lookups overlap.
    """
    cdef int64_t n = buf.shape[0]
    if n == 0 or pos >= n:
        return n
    cdef Table t = table_of(slots, where, arena, meta)
    cdef const uint8_t *b = &buf[0]
    cdef const uint8_t *cls = &classes[0]
    cdef const uint8_t *fd = &fold[0]
    cdef int64_t spans[2 * _BATCH]
    cdef int64_t keys[3 * _BATCH]
    cdef int64_t i = pos, found, counted
    cdef bint bad
    cdef bint lower = fold[65] != 65
    with nogil:
        while True:
            i = find_words(b, n, i, cls, spans, &found, &bad)
            counted = count_spans(b, n, spans, found, keys, fd, lower, &t)
            if counted < found:
                i = spans[2 * counted]
                break
            if bad:
                meta[2] = 1
                break
            if i >= n:
                i = n
                break
    return i


cdef int64_t find_words(const uint8_t *buf, int64_t n, int64_t pos, const uint8_t *classes,
                        int64_t *spans, int64_t *count, bint *bad) noexcept nogil:
    """The next words of ``buf[pos:]`` (``pos`` outside a word), as ``(start, length)`` pairs
    in ``spans``, up to BATCH of them (how many in ``count``).

    Returns where to go on from (outside a word: the start of the next word when
    ``spans`` is full, else ``n``); ``bad`` says whether it stopped at a byte that
    is not UTF-8 (then where to go on from is the start of the word holding it,
    or that byte outside a word).
    """
    cdef int64_t found = 0, i = pos, start = -1, size, nsize, cp, ncp
    cdef uint8_t b, c, nb
    cdef bint joins
    bad[0] = False
    while i < n:
        b = buf[i]
        if start < 0 and b < 0x80:
            # the common case, outside a word at an ASCII byte: separators are skipped, and
            # an ASCII word that ends at an ASCII separator is found here in a tight loop
            if classes[b] != WORD:
                i += 1
                continue
            if found == _BATCH:
                count[0] = found
                return i
            start = i
            i += 1
            while i < n:
                b = buf[i]
                if b >= 0x80 or classes[b] != WORD:
                    break
                i += 1
            if i < n and (b >= 0x80 or classes[b] == APOS):
                continue  # the word may go on: the general path below decides
            spans[2 * found], spans[2 * found + 1] = start, i - start
            found += 1
            start = -1
            i += 1  # the ASCII separator after the word (or past the end)
            continue
        if b < 0x80:
            cp, size = b, 1
        else:
            cp = decode_checked(buf, i, n, &size)
            if size == 0:  # not UTF-8: stop before the word that holds it
                count[0], bad[0] = found, True
                return start if start >= 0 else i
        c = classes[cp]
        joins = c == WORD
        if c == APOS and start >= 0 and i + size < n:
            nb = buf[i + size]
            if nb < 0x80:
                joins = classes[nb] == WORD
            else:
                ncp = decode_checked(buf, i + size, n, &nsize)
                if nsize == 0:
                    count[0], bad[0] = found, True
                    return start
                joins = classes[ncp] == WORD
        if joins:
            if start < 0:
                if found == _BATCH:
                    count[0] = found
                    return i
                start = i
            i += size
            while i < n:  # the rest of a run of ASCII word characters, in a tight loop
                b = buf[i]
                if b >= 0x80 or classes[b] != WORD:
                    break
                i += 1
            continue
        if start >= 0:  # the current word ends here
            spans[2 * found], spans[2 * found + 1] = start, i - start
            found += 1
            start = -1
        if c == IDEO:  # a word of its own
            if found == _BATCH:
                count[0] = found
                return i
            spans[2 * found], spans[2 * found + 1] = i, size
            found += 1
        i += size
    if start >= 0:
        spans[2 * found], spans[2 * found + 1] = start, n - start
        found += 1
    count[0] = found
    return n


cdef int64_t count_spans(const uint8_t *buf, int64_t n, const int64_t *spans, int64_t found,
                         int64_t *keys, const uint8_t *fold, bint lower,
                         Table *t) noexcept nogil:
    """Count once each word ``fold[buf[o:o + m]]`` of the first ``found`` pairs ``(o, m)`` of
    ``spans``; return how many were counted (``found`` unless the table filled up).

    Their keys first (into ``keys``), then the lookups, which do not wait on each other.
    """
    cdef int64_t k, s, k1, k2
    for k in range(found):
        word_keys(buf, n, spans[2 * k], spans[2 * k + 1], lower, keys + 3 * k)
    for k in range(found):
        k1, k2 = keys[3 * k], keys[3 * k + 1]
        s = find(t.slots, t.nslots, k1, k2, keys[3 * k + 2])
        if s >= 0 and k2 >= 0:
            t.slots[3 * s + 2] += 1
            continue
        if not settle(buf, spans[2 * k], k1, k2, spans[2 * k + 1], fold, 1, t.slots,
                      t.nslots, t.where, t.arena, t.arena_size, t.meta, s):
            return k
    return found


def add_words(int64_t first, const uint8_t[::1] source, const int32_t[:, ::1] places,
              const int64_t[::1] counts, const uint8_t[::1] identity, int64_t[:, ::1] slots,
              int32_t[:, ::1] where, uint8_t[::1] arena, int64_t[::1] meta) -> int:
    """Add ``counts[k]`` to each word ``source[o:o + m]`` with ``(o, m) = places[k]``.

    From ``k = first`` on; returns how far it got (``counts.size`` when done).
    The words are taken as they are (already tokenized and folded).
    """
    cdef int64_t total = counts.shape[0]
    if first >= total:
        return total
    cdef Table t = table_of(slots, where, arena, meta)
    cdef const uint8_t *src = &source[0] if source.shape[0] else NULL
    cdef int64_t n = source.shape[0]
    cdef int64_t k, s, o, m, done = total
    cdef int64_t key[3]
    with nogil:
        for k in range(first, total):
            o, m = places[k, 0], places[k, 1]
            word_keys(src, n, o, m, False, key)
            s = find(t.slots, t.nslots, key[0], key[1], key[2])
            if s >= 0 and key[1] >= 0:
                t.slots[3 * s + 2] += counts[k]
            elif not settle(src, o, key[0], key[1], m, &identity[0], counts[k], t.slots,
                            t.nslots, t.where, t.arena, t.arena_size, t.meta, s):
                done = k
                break
    return done


def add_keys(int64_t first, const int64_t[:, ::1] keys, const int32_t[:, ::1] places,
             const uint8_t[::1] source, const uint8_t[::1] identity, int64_t[:, ::1] slots,
             int32_t[:, ::1] where, uint8_t[::1] arena, int64_t[::1] meta) -> int:
    """Add the rows of another table's slots (``keys``; words at ``places`` in ``source``).

    From row ``first`` on; returns how far it got (``keys.shape[0]`` when done).
    The stored keys are reused: no word is hashed again.
    """
    cdef int64_t total = keys.shape[0]
    if first >= total:
        return total
    cdef Table t = table_of(slots, where, arena, meta)
    cdef const uint8_t *src = &source[0] if source.shape[0] else NULL
    cdef int64_t k, s, k1, k2, done = total
    with nogil:
        for k in range(first, total):
            k1, k2 = keys[k, 0], keys[k, 1]
            if k2 == 0:
                continue
            s = find(t.slots, t.nslots, k1, k2, probe_hash(k1, k2))
            if s >= 0 and k2 >= 0:
                t.slots[3 * s + 2] += keys[k, 2]
            elif not settle(src, places[k, 0], k1, k2, places[k, 1], &identity[0], keys[k, 2],
                            t.slots, t.nslots, t.where, t.arena, t.arena_size, t.meta, s):
                done = k
                break
    return done


def has_wide_byte(const uint8_t[::1] arena, const int32_t[:, ::1] places):
    """For each word ``arena[o:o + m]``, whether it has a byte past ASCII."""
    out = np.zeros(places.shape[0], dtype=np.bool_)
    cdef uint8_t[::1] o = out.view(np.uint8)
    cdef int64_t k, j
    with nogil:
        for k in range(places.shape[0]):
            for j in range(places[k, 0], places[k, 0] + places[k, 1]):
                if arena[j] >= 0x80:
                    o[k] = 1
                    break
    return out


def gather(const uint8_t[::1] arena, const int32_t[:, ::1] places):
    """The words ``arena[o:o + m]`` for ``(o, m)`` in ``places``, end to end, and their offsets."""
    cdef int64_t count = places.shape[0], k, j, d, o
    offsets = np.empty(count + 1, dtype=np.int64)
    cdef int64_t[::1] off = offsets
    off[0] = 0
    for k in range(count):
        off[k + 1] = off[k] + places[k, 1]
    data = np.empty(off[count], dtype=np.uint8)
    if off[count] == 0:
        return data, offsets
    cdef uint8_t[::1] out = data
    with nogil:
        for k in range(count):
            o, d = places[k, 0], off[k]
            for j in range(places[k, 1]):
                out[d + j] = arena[o + j]
    return data, offsets


def kth_largest(const int64_t[:] counts, int64_t k) -> int:
    """The ``k``-th largest of ``counts`` (0 if fewer than ``k`` are above 0), in one pass.

    A min-heap of the ``k`` largest so far: most counts are below its root.
    """
    heap_array = np.zeros(k, dtype=np.int64)
    cdef int64_t[::1] heap = heap_array
    cdef int64_t i, child, c, m
    with nogil:
        for m in range(counts.shape[0]):
            c = counts[m]
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


def buckets(const int64_t[:, ::1] keys, int64_t n):
    """The bucket (of ``n``) of each occupied slot: the same word, the same bucket."""
    out = np.empty(keys.shape[0], dtype=np.int64)
    cdef int64_t[::1] o = out
    cdef int64_t k
    with nogil:
        for k in range(keys.shape[0]):
            o[k] = probe_hash(keys[k, 0], keys[k, 1]) % n
    return out


def place(int64_t[:, ::1] slots, int32_t[:, ::1] where, const int64_t[:, ::1] keys,
          const int32_t[:, ::1] places) -> None:
    """Put the occupied ``keys`` (distinct words) and their ``places`` into empty slots."""
    cdef int64_t mask = slots.shape[0] - 1, k, s
    with nogil:
        for k in range(keys.shape[0]):
            if keys[k, 1] == 0:
                continue
            s = probe_hash(keys[k, 0], keys[k, 1]) & mask
            while slots[s, 1] != 0:
                s = (s + 1) & mask
            slots[s, 0], slots[s, 1], slots[s, 2] = keys[k, 0], keys[k, 1], keys[k, 2]
            where[s, 0], where[s, 1] = places[k, 0], places[k, 1]
