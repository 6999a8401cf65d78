"""Batch MapReduce on dask: inputs, the engine, word count, user jobs, outputs."""

from toolkit.batch.inputs import InputStats, resolve_inputs
from toolkit.batch.loading import load_function
from toolkit.batch.mapreduce import map_reduce
from toolkit.batch.outputs import write_series
from toolkit.batch.wordcount import WordCounts, word_count

__all__ = [
    "InputStats",
    "WordCounts",
    "load_function",
    "map_reduce",
    "resolve_inputs",
    "word_count",
    "write_series",
]
