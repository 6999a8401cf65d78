"""Ranking words by count: the top ``k`` of arrays of words and counts.

Every ranking in toolkit (a batch result, a bucket's top words, a closed
window) orders by count descending, then word ascending, in Arrow, without a
Python object per word.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["top_arrays"]


def top_arrays(words: pa.Array, counts: np.ndarray, k: int | None) -> tuple[pa.Array, np.ndarray]:
    """The ``k`` most frequent words (all for ``None``), by count descending then word.

    Examples
    --------
    >>> words, counts = top_arrays(pa.array(["b", "a", "c", "d"]), np.array([2, 2, 5, 1]), 3)
    >>> words.to_pylist(), counts.tolist()
    (['c', 'a', 'b'], [5, 2, 2])
    """
    if k and k < len(counts):
        kth = np.partition(counts, len(counts) - k)[len(counts) - k]
        candidates = np.flatnonzero(counts >= kth)  # ties at the k-th count: sorted below
        words, counts = words.take(pa.array(candidates)), counts[candidates]
    order = pc.sort_indices(
        pa.table({"count": counts, "word": words}),
        sort_keys=[("count", "descending"), ("word", "ascending")],
    ).to_numpy()[: k or None]
    return words.take(pa.array(order)), counts[order]
