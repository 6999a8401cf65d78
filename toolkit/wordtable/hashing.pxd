# cython: language_level=3
"""Inside a word table: UTF-8 decoding, a word's hash and keys, and the open-addressing insert.

Small C functions, inlined into the loops of :mod:`.kernels`: a word's hash and
keys come from its bytes, read 8 at a time (``span_keys`` in the kernels;
:func:`absorb` is the same hash a byte at a time), and a word of up to 15 bytes
is its own two-integer key, so a lookup (:func:`find`) touches the byte arena
only for longer words; new and long words go to :func:`settle`.

The table's arrays come in as raw pointers (no reference counting, no bounds
checks: the kernels pass places they made themselves).  A slot is three int64:
two key words and the count.  A word of at most 15 bytes is its own key: bytes
0-7 in the first word, bytes 8-14 and its length (top byte) in the second, so a
lookup compares two integers and never reads the arena.  A longer word's key is
56 bits of its hash and 0xFF with its length: equal keys, then the bytes are
compared.  The second word is never 0 for a word: 0 marks an empty slot.
Beside the slots, where each word sits in the arena and its length, as int32.
"""

from libc.stdint cimport int32_t, int64_t, uint8_t, uint64_t


# A word's hash: its (folded) bytes packed 8 at a time into a uint64, each full one mixed
# into the state by a multiply; the last, partial one and the length by a final mix.  (The
# same bytes always give the same hash, in every process: tables merge by it, and pickled
# tables and checkpoints keep their keys.)
cdef extern from *:
    """
    #include <stdint.h>
    #include <string.h>
    /* the bytes p[0:8] as a little-endian uint64: one load, wherever p points */
    static inline uint64_t tk_load8(const uint8_t *p) {
        uint64_t x;
        memcpy(&x, p, 8);
    #if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        x = __builtin_bswap64(x);
    #endif
        return x;
    }
    static const uint64_t TK_P1 = 0x9E3779B97F4A7C15ULL;
    static const uint64_t TK_P2 = 0xBF58476D1CE4E5B9ULL;
    /* a hash keeps 56 bits: the top byte of a key is its kind */
    static const int64_t TK_LOW56 = (INT64_C(1) << 56) - 1;
    /* 0xFF in the top byte: a long word's key */
    static const int64_t TK_LONG = -(INT64_C(1) << 56);
    static const double TK_MAX_LOAD = 0.7;
    /* offsets and lengths are int32 */
    static const int64_t TK_MAX_ARENA = 2147483647;
    static const uint64_t TK_LOW7 = 0x7F7F7F7F7F7F7F7FULL;
    static const uint64_t TK_HIGH = 0x8080808080808080ULL;
    /* 0x80 - ord("A"), and 0x80 - (ord("Z") + 1), in every byte */
    static const uint64_t TK_TO_A = 0x3F3F3F3F3F3F3F3FULL;
    static const uint64_t TK_PAST_Z = 0x2525252525252525ULL;
    """
    uint64_t load8 "tk_load8"(const uint8_t *p) noexcept nogil
    const uint64_t P1 "TK_P1"
    const uint64_t P2 "TK_P2"
    const int64_t LOW56 "TK_LOW56"
    const int64_t LONG "TK_LONG"
    const double MAX_LOAD "TK_MAX_LOAD"
    const int64_t MAX_ARENA "TK_MAX_ARENA"
    const uint64_t LOW7 "TK_LOW7"
    const uint64_t HIGH "TK_HIGH"
    const uint64_t TO_A "TK_TO_A"
    const uint64_t PAST_Z "TK_PAST_Z"


cdef inline int64_t decode_checked(const uint8_t *buf, int64_t i, int64_t n,
                                   int64_t *size) noexcept nogil:
    """The code point of the multi-byte sequence at ``buf[i]``, its length in ``size``;
    ``size`` 0 if it is not valid UTF-8 as Python's strict codec has it (no overlong forms,
    surrogates, code points past U+10FFFF or sequences cut short by ``n``)."""
    cdef uint8_t b = buf[i]
    if 0xC2 <= b <= 0xDF:
        if i + 1 < n and (buf[i + 1] & 0xC0) == 0x80:
            size[0] = 2
            return ((b & 0x1F) << 6) | (buf[i + 1] & 0x3F)
    elif 0xE0 <= b <= 0xEF:
        if (i + 2 < n and (buf[i + 1] & 0xC0) == 0x80 and (buf[i + 2] & 0xC0) == 0x80
                and not (b == 0xE0 and buf[i + 1] < 0xA0)  # overlong
                and not (b == 0xED and buf[i + 1] >= 0xA0)):  # a surrogate
            size[0] = 3
            return ((b & 0x0F) << 12) | ((buf[i + 1] & 0x3F) << 6) | (buf[i + 2] & 0x3F)
    elif 0xF0 <= b <= 0xF4:
        if (i + 3 < n and (buf[i + 1] & 0xC0) == 0x80 and (buf[i + 2] & 0xC0) == 0x80
                and (buf[i + 3] & 0xC0) == 0x80
                and not (b == 0xF0 and buf[i + 1] < 0x90)  # overlong
                and not (b == 0xF4 and buf[i + 1] >= 0x90)):  # past U+10FFFF
            size[0] = 4
            return (((b & 0x07) << 18) | ((buf[i + 1] & 0x3F) << 12)
                    | ((buf[i + 2] & 0x3F) << 6) | (buf[i + 3] & 0x3F))
    size[0] = 0
    return 0


cdef inline int64_t finish_hash(uint64_t h, uint64_t acc, int64_t length) noexcept nogil:
    """A word's 56-bit hash from its hash state and its length."""
    h = (h ^ acc ^ <uint64_t>length) * P1
    h ^= h >> 32
    h *= P2
    h ^= h >> 29
    return <int64_t>h & LOW56


cdef inline void keys_of(uint64_t h, uint64_t first, uint64_t acc, int64_t length,
                         int64_t *out) noexcept nogil:
    """A word's two key words and its probe hash (``out[0:3]``), from its hash state.

    ``acc`` holds the bytes after the last full 8, ``first`` the last full 8.
    """
    cdef int64_t probe = finish_hash(h, acc, length)
    if length < 8:
        out[0], out[1] = <int64_t>acc, length << 56
    elif length < 16:
        out[0], out[1] = <int64_t>first, <int64_t>acc | (length << 56)
    else:
        out[0], out[1] = probe, LONG | length
    out[2] = probe


cdef inline int64_t probe_hash(int64_t k1, int64_t k2) noexcept nogil:
    """The probe hash of a stored key (what :func:`keys_of` gave with it)."""
    if k2 < 0:
        return k1
    cdef int64_t length = k2 >> 56
    if length < 8:
        return finish_hash(0, <uint64_t>k1, length)
    return finish_hash(<uint64_t>k1 * P1, <uint64_t>(k2 & LOW56), length)


cdef inline uint64_t lower8(uint64_t x) noexcept nogil:
    """ASCII_LOWER of each of the 8 bytes of ``x`` at once: "A"-"Z" gain 0x20, the rest stay."""
    cdef uint64_t t = x & LOW7  # no byte's sum below carries into the next
    cdef uint64_t upper = (t + TO_A) & ~(t + PAST_Z) & ~x & HIGH
    return x | (upper >> 2)


cdef inline void word_keys(const uint8_t *buf, int64_t n, int64_t o, int64_t m, bint lower,
                           int64_t *out) noexcept nogil:
    """The keys and probe hash (``out[0:3]``, as :func:`keys_of` gives them) of the word
    ``buf[o:o + m]``, ASCII letters lowercased if ``lower``.

    The bytes are read 8 at a time where the buffer goes on 8 bytes past the word
    (the bytes past it are masked off), else one at a time: the same hash.
    """
    cdef uint64_t h = 0, first = 0, acc = 0, shift = 0, b
    cdef int64_t c, j, full, rest
    if o + m + 8 <= n:
        full = m >> 3
        for c in range(full):
            first = load8(buf + o + 8 * c)
            if lower:
                first = lower8(first)
            h = (h ^ first) * P1
        rest = m & 7
        if rest:
            acc = load8(buf + o + 8 * full)
            if lower:
                acc = lower8(acc)
            acc &= (<uint64_t>1 << (8 * rest)) - 1
    else:  # a byte at a time (absorb's steps, written out)
        for j in range(o, o + m):
            b = buf[j]
            if lower and 0x41 <= b <= 0x5A:
                b += 0x20
            acc |= b << shift
            shift += 8
            if shift == 64:
                h = (h ^ acc) * P1
                first, acc, shift = acc, 0, 0
    keys_of(h, first, acc, m, out)


cdef inline int64_t find(const int64_t *slots, int64_t nslots, int64_t k1, int64_t k2,
                         int64_t h) noexcept nogil:
    """The first slot holding the key ``(k1, k2)`` from ``h`` on, or ``-1 - s`` for the empty
    slot ``s`` that ends the probe.

    For a word of at most 15 bytes a slot found is the word's; a long word's key is
    its hash, so :func:`settle` compares the bytes.
    """
    cdef int64_t mask = nslots - 1
    cdef int64_t s = h & mask
    cdef int64_t stored
    while True:
        stored = slots[3 * s + 1]
        if stored == 0:
            return -1 - s
        if stored == k2 and slots[3 * s] == k1:
            return s
        s = (s + 1) & mask


cdef inline bint settle(const uint8_t *buf, int64_t start, int64_t k1, int64_t k2,
                        int64_t length, const uint8_t *fold, int64_t add, int64_t *slots,
                        int64_t nslots, int32_t *where, uint8_t *arena, int64_t arena_size,
                        int64_t *meta, int64_t s) noexcept nogil:
    """Add ``add`` to the word ``fold[buf[start:start + length]]`` where :func:`find` left off.

    The rare cases, out of the loops: ``s`` is a slot of a long word's key (compare
    the bytes; on a mismatch probe on) or ``-1 -`` an empty slot (a new word goes
    there).  False (nothing changed) if the table or the arena is full.
    """
    cdef int64_t mask = nslots - 1
    cdef int64_t o, j, n, used
    cdef bint same
    while s >= 0:
        o = where[2 * s]
        same = True
        for j in range(length):
            if arena[o + j] != fold[buf[start + j]]:
                same = False
                break
        if same:
            slots[3 * s + 2] += add
            return True
        s = find(slots, nslots, k1, k2, (s + 1) & mask)
    s = -1 - s
    n, used = meta[0], meta[1]
    if used + length > arena_size or (n + 1) > MAX_LOAD * nslots:
        return False
    for j in range(length):
        arena[used + j] = fold[buf[start + j]]
    slots[3 * s] = k1
    slots[3 * s + 1] = k2
    slots[3 * s + 2] = add
    where[2 * s] = <int32_t>used
    where[2 * s + 1] = <int32_t>length
    meta[0] = n + 1
    meta[1] = used + length
    return True
