"""Inside a word table: UTF-8 decoding, a word's hash and keys, and the open-addressing insert.

Small compiled functions (numba, inlined into the loops of :mod:`.kernels`):
a word's hash and keys come from its bytes, read 8 at a time (:func:`span_keys`;
:func:`absorb` is the same hash a byte at a time), and a word of up to 15 bytes
is its own two-integer key, so a lookup (:func:`find`) touches the byte arena
only for longer words; new and long words go to :func:`settle`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

__all__ = [
    "MAX_ARENA",
    "MAX_LOAD",
    "absorb",
    "decode",
    "decode_checked",
    "find",
    "finish_hash",
    "keys_of",
    "load8",
    "lower8",
    "probe_hash",
    "settle",
    "span_keys",
]


@njit(cache=True, nogil=True, inline="always")
def decode(buf: np.ndarray, i: int) -> tuple[Any, int]:  # pragma: no cover - compiled
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
def decode_checked(buf: np.ndarray, i: int, n: int) -> tuple[Any, int]:  # pragma: no cover
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
        return decode(buf, i)
    return 0, 0


# A word's hash: its (folded) bytes packed 8 at a time into a uint64, each full one mixed
# into the state by a multiply; the last, partial one and the length by a final mix.  (The
# same bytes always give the same hash, in every process: tables merge by it.)
_P1 = np.uint64(0x9E3779B97F4A7C15)
_P2 = np.uint64(0xBF58476D1CE4E5B9)
_LOW56 = np.int64((1 << 56) - 1)  # a hash keeps 56 bits: the top byte of a key is its kind


@njit(cache=True, nogil=True, inline="always")
def absorb(
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
def finish_hash(h: np.uint64, acc: np.uint64, length: Any) -> np.int64:  # pragma: no cover
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
LONG = np.int64(-(1 << 56))  # 0xFF in the top byte
MAX_LOAD = 0.7
MAX_ARENA = 2**31 - 1  # offsets and lengths are int32


@njit(cache=True, nogil=True, inline="always")
def keys_of(
    h: np.uint64, first: np.uint64, acc: np.uint64, length: int
) -> tuple[np.int64, np.int64, np.int64]:  # pragma: no cover - compiled
    """A word's two key words and its probe hash, from its hash state.

    ``acc`` holds the bytes after the last full 8, ``first`` the last full 8.
    """
    probe = finish_hash(h, acc, length)
    if length < 8:
        return np.int64(acc), np.int64(length) << 56, probe
    if length < 16:
        return np.int64(first), np.int64(acc) | (np.int64(length) << 56), probe
    return probe, LONG | np.int64(length), probe


@njit(cache=True, nogil=True, inline="always")
def probe_hash(k1: np.int64, k2: np.int64) -> np.int64:  # pragma: no cover - compiled
    """The probe hash of a stored key (what :func:`keys_of` gave with it)."""
    if k2 < 0:
        return k1
    length = k2 >> 56
    if length < 8:
        return finish_hash(np.uint64(0), np.uint64(k1), length)
    return finish_hash(np.uint64(k1) * _P1, np.uint64(k2 & _LOW56), length)


@njit(cache=True, nogil=True, inline="always")
def load8(buf: np.ndarray, o: int) -> np.uint64:  # pragma: no cover - compiled
    """The bytes ``buf[o:o + 8]`` as a little-endian uint64 (one load, once compiled)."""
    x = np.uint64(0)
    for j in range(8):
        x |= np.uint64(buf[o + j]) << np.uint64(8 * j)
    return x


_LOW7 = np.uint64(0x7F7F7F7F7F7F7F7F)
_HIGH = np.uint64(0x8080808080808080)
_TO_A = np.uint64(0x3F3F3F3F3F3F3F3F)  # 0x80 - ord("A") in every byte
_PAST_Z = np.uint64(0x2525252525252525)  # 0x80 - (ord("Z") + 1) in every byte


@njit(cache=True, nogil=True, inline="always")
def lower8(x: np.uint64) -> np.uint64:  # pragma: no cover - compiled
    """ASCII_LOWER of each of the 8 bytes of ``x`` at once: "A"-"Z" gain 0x20, the rest stay."""
    t = x & _LOW7  # no byte's sum below carries into the next
    upper = (t + _TO_A) & ~(t + _PAST_Z) & ~x & _HIGH
    return x | (upper >> np.uint64(2))


@njit(cache=True, nogil=True)
def span_keys(
    buf: np.ndarray, spans: np.ndarray, count: int, lower: bool, keys: np.ndarray
) -> None:  # pragma: no cover - compiled
    """The keys and probe hash (``keys[k]``, as :func:`keys_of` gives them) of each word
    ``buf[o:o + m]``, ``(o, m) = spans[k]`` for ``k < count``, ASCII letters lowercased if
    ``lower``.

    The bytes are read 8 at a time where the buffer goes on 8 bytes past the
    word (the bytes past it are masked off), else one at a time with
    :func:`absorb`: the same hash.  (One loop, written out: a compiled helper
    that takes an array, inlined in a loop, made numba count references to it
    on every turn, which cost a third of the speed.)
    """
    n = buf.size
    for k in range(count):
        o, m = spans[k, 0], spans[k, 1]
        h, first, acc = np.uint64(0), np.uint64(0), np.uint64(0)
        if o + m + 8 <= n:
            full = m >> 3
            for c in range(full):
                first = load8(buf, o + 8 * c)
                if lower:
                    first = lower8(first)
                h = (h ^ first) * _P1
            rest = m & 7
            if rest:
                acc = load8(buf, o + 8 * full)
                if lower:
                    acc = lower8(acc)
                acc &= (np.uint64(1) << np.uint64(8 * rest)) - np.uint64(1)
        else:
            shift = np.uint64(0)
            for j in range(o, o + m):
                b = buf[j]
                if lower and 0x41 <= b <= 0x5A:
                    b += 0x20
                h, first, acc, shift = absorb(h, first, acc, shift, b)
        keys[k, 0], keys[k, 1], keys[k, 2] = keys_of(h, first, acc, m)


@njit(cache=True, nogil=True, inline="always")
def find(slots: np.ndarray, k1: np.int64, k2: np.int64, h: np.int64) -> int:  # pragma: no cover
    """The first slot holding the key ``(k1, k2)`` from ``h`` on, or ``-1 - s`` for the empty
    slot ``s`` that ends the probe.

    For a word of at most 15 bytes a slot found is the word's; a long word's
    key is its hash, so :func:`settle` compares the bytes.  Only ``slots``
    comes in (see :func:`span_keys`).
    """
    mask = slots.shape[0] - 1
    s = h & mask
    while True:
        stored = slots[s, 1]
        if stored == 0:
            return -1 - s
        if stored == k2 and slots[s, 0] == k1:
            return s
        s = (s + 1) & mask


@njit(cache=True, nogil=True)
def settle(
    buf: np.ndarray,
    start: int,
    k1: np.int64,
    k2: np.int64,
    length: int,
    fold: np.ndarray,
    add: int,
    slots: np.ndarray,
    where: np.ndarray,
    arena: np.ndarray,
    meta: np.ndarray,
    s: int,
) -> bool:  # pragma: no cover - compiled
    """Add ``add`` to the word ``fold[buf[start:start + length]]`` where :func:`find` left off.

    The rare cases, out of the loops: ``s`` is a slot of a long word's key
    (compare the bytes; on a mismatch probe on) or ``-1 -`` an empty slot (a
    new word goes there).  False (nothing changed) if the table or the arena
    is full.
    """
    mask = slots.shape[0] - 1
    while s >= 0:
        o = where[s, 0]
        same = True
        for j in range(length):
            if arena[o + j] != fold[buf[start + j]]:
                same = False
                break
        if same:
            slots[s, 2] += add
            return True
        s = find(slots, k1, k2, (s + 1) & mask)
    s = -1 - s
    n, used = meta[0], meta[1]
    if used + length > arena.size or (n + 1) > MAX_LOAD * slots.shape[0]:
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
