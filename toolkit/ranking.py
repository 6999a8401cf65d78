"""Ranking words by count: the top ``k`` of arrays of words and counts.

Every ranking in toolkit (a batch result, a bucket's top words, a closed
window) orders by count descending, then word ascending, in Arrow and numpy,
without a Python object per word.

Words compare as Python compares them, by code point, which for UTF-8 is the
order of their bytes.  Sorting strings is the slow part (700,000 words: 0.2 s
for Arrow's two-key sort), so the words are first ranked by their first eight
bytes as one unsigned integer (two stable integer sorts), and only runs of
equal count *and* equal first eight bytes are then sorted by the whole word.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

__all__ = ["arrow_ints", "rank_order", "take_words", "top_arrays"]

PREFIX = 8  # bytes of a word in its integer sort key


def top_arrays(words: pa.Array, counts: np.ndarray, k: int | None) -> tuple[pa.Array, np.ndarray]:
    """The ``k`` most frequent words (all for ``None``), by count descending then word.

    Examples
    --------
    >>> words, counts = top_arrays(pa.array(["b", "a", "c", "d"]), np.array([2, 2, 5, 1]), 3)
    >>> words.to_pylist(), counts.tolist()
    (['c', 'a', 'b'], [5, 2, 2])
    """
    counts = np.asarray(counts, dtype=np.int64)
    if k and k < len(counts):
        kth = np.partition(counts, len(counts) - k)[len(counts) - k]
        candidates = np.flatnonzero(counts >= kth)  # ties at the k-th count: ranked below
        words, counts = take_words(words, candidates), counts[candidates]
    order = rank_order(words, counts)[: k or None]
    return take_words(words, order), counts[order]


#: Up to this many words are taken by :func:`take_words` in numpy: Arrow's ``take`` would
#: first import ``pyarrow.compute`` (0.05-0.1 s, a tenth of a one-line job on a cluster).
SMALL_TAKE = 4096


def take_words(words: pa.Array, indices: np.ndarray) -> pa.Array:
    """``words.take(indices)``: the words at ``indices``, of the same type.

    Examples
    --------
    >>> take_words(pa.array(["a", "bc", "def"]), np.array([2, 0, 2])).to_pylist()
    ['def', 'a', 'def']
    """
    indices = np.asarray(indices, dtype=np.int64)
    if len(indices) > SMALL_TAKE or words.null_count or not _is_text(words):
        return words.take(arrow_ints(indices))
    offsets, data = _offsets_and_data(words)
    starts, lengths = offsets[indices], offsets[indices + 1] - offsets[indices]
    new = np.zeros(len(indices) + 1, dtype=np.int64)
    np.cumsum(lengths, out=new[1:])
    # each output byte's place in `data`: its word's start, plus how far into the word it is
    where = np.repeat(starts - new[:-1], lengths) + np.arange(new[-1], dtype=np.int64)
    offsets_type = np.int64 if pa.types.is_large_string(words.type) else np.int32
    buffers = [None, pa.py_buffer(new.astype(offsets_type)), pa.py_buffer(data[where].copy())]
    return pa.Array.from_buffers(words.type, len(indices), buffers)


def _is_text(words: pa.Array) -> bool:
    return pa.types.is_string(words.type) or pa.types.is_large_string(words.type)


def _offsets_and_data(words: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """A string array's ``len + 1`` offsets (int64, from 0) and the bytes they point into."""
    n = len(words)
    offset_type = np.int64 if pa.types.is_large_string(words.type) else np.int32
    buffers = words.buffers()
    raw = np.frombuffer(buffers[1], dtype=offset_type)[words.offset : words.offset + n + 1]
    offsets = np.asarray(raw, dtype=np.int64)
    first, last = (int(offsets[0]), int(offsets[-1])) if n else (0, 0)
    if last == first:
        return offsets - first, np.zeros(0, dtype=np.uint8)
    return offsets - first, np.frombuffer(buffers[2], dtype=np.uint8)[first:last]


def rank_order(words: pa.Array, counts: np.ndarray) -> np.ndarray:
    """The positions of ``words`` by count descending, then word ascending (by code point).

    Examples
    --------
    >>> rank_order(pa.array(["b", "a", "c", "ab"]), np.array([2, 2, 5, 2])).tolist()
    [2, 1, 3, 0]
    """
    counts = np.asarray(counts, dtype=np.int64)
    if len(words) != len(counts):
        raise ValueError(f"{len(words)} words but {len(counts)} counts")
    if words.null_count or not _is_text(words):
        return _arrow_order(words, counts)
    keys = prefix_keys(words)
    order = np.argsort(keys, kind="stable")
    order = order[np.argsort(-counts[order], kind="stable")]
    ranked_keys, ranked_counts = keys[order], counts[order]
    tie = (ranked_keys[1:] == ranked_keys[:-1]) & (ranked_counts[1:] == ranked_counts[:-1])
    if tie.any():  # same count and same first bytes: those runs are ordered by the whole word
        import pyarrow.compute as pc  # 0.1 s to import: only where a tie needs it

        in_run = np.zeros(len(order), dtype=bool)
        in_run[1:] |= tie
        in_run[:-1] |= tie
        at = np.flatnonzero(in_run)
        run = np.cumsum(np.concatenate(([True], ~tie)))[at]
        members = order[at]
        within = _numpy_indices(
            pc.sort_indices(
                pa.table({"run": arrow_ints(run), "word": words.take(arrow_ints(members))}),
                sort_keys=[("run", "ascending"), ("word", "ascending")],
            )
        )
        order[at] = members[within]
    return order


def prefix_keys(words: pa.Array) -> np.ndarray:
    """The first :data:`PREFIX` bytes of each word as a big-endian integer, zero-padded.

    Two words whose keys differ compare as their keys do (a word shorter than
    the other at the first difference is a prefix of it, so it is smaller);
    words with equal keys must be compared whole.

    Examples
    --------
    >>> prefix_keys(pa.array(["a", "ab", ""])).tolist() == [0x61 << 56, 0x6162 << 48, 0]
    True
    """
    offsets, data = _offsets_and_data(words)
    # the words' bytes and PREFIX zeros after them, seen as overlapping PREFIX-byte windows
    # (a view): each word's key is the window at its start, with the bytes past its end masked
    padded = np.zeros(data.size + PREFIX, dtype=np.uint8)
    padded[: data.size] = data
    windows = np.lib.stride_tricks.sliding_window_view(padded, PREFIX)
    heads = windows[offsets[:-1]].view(">u8").ravel().astype(np.uint64)
    return heads & _HEAD_MASKS[np.minimum(np.diff(offsets), PREFIX)]


#: For a word of ``n`` bytes (up to :data:`PREFIX`): the mask keeping its key's first ``n``.
_HEAD_MASKS = np.array(
    [((1 << 64) - (1 << (64 - 8 * n))) for n in range(PREFIX + 1)], dtype=np.uint64
)


def arrow_ints(values: np.ndarray) -> pa.Array:
    """An int64 Arrow array over ``values``, without a copy when they are int64 already.

    Unlike ``pa.array``, this does not import pandas (0.2 s in a process that had no need of it).

    Examples
    --------
    >>> arrow_ints(np.array([3, 1])).to_pylist()
    [3, 1]
    """
    values = np.ascontiguousarray(values, dtype=np.int64)
    return pa.Array.from_buffers(pa.int64(), len(values), [None, pa.py_buffer(values)])


def _arrow_order(words: pa.Array, counts: np.ndarray) -> np.ndarray:
    """The same order by Arrow's two-key sort (words of another type, or with nulls)."""
    import pyarrow.compute as pc

    return _numpy_indices(
        pc.sort_indices(
            pa.table({"count": arrow_ints(counts), "word": words}),
            sort_keys=[("count", "descending"), ("word", "ascending")],
        )
    )


def _numpy_indices(indices: pa.Array) -> np.ndarray:
    """Arrow's sort indices (uint64, no nulls) as a numpy array (``to_numpy`` imports pandas)."""
    values = np.frombuffer(indices.buffers()[1], dtype=np.uint64)
    return values[indices.offset : indices.offset + len(indices)].astype(np.int64)
