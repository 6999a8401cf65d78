"""Batch MapReduce on dask: inputs, the plan, the engine, word count, user jobs, outputs.

How a job runs: ``inputs`` (paths to files, to blocks, to lines) -> ``plan``
(``plan_job``: options checked and inputs cut into map tasks, once, on the
client) -> ``engine`` (the foldby-shaped graph over the tasks, running a
``job`` of :mod:`~toolkit.batch.job`) -> ``wordcount`` (``word_count``'s job and
result) or ``mapreduce`` (a user's mapper and reducer, loaded by ``loading``) ->
``outputs`` (results written atomically).  ``journal`` keeps finished partials
so that a re-run after a crash redoes only the rest; ``upload`` runs the map
tasks on blocks the client read and sent, for workers that cannot see its files;
``progress`` draws the job's progress bar on stderr.
"""

from typing import TYPE_CHECKING

from toolkit.lazy import lazy_names

if TYPE_CHECKING:
    from toolkit.batch.inputs import InputStats, resolve_inputs
    from toolkit.batch.loading import load_function
    from toolkit.batch.mapreduce import map_reduce
    from toolkit.batch.outputs import write_series
    from toolkit.batch.wordcount import WordCounts, word_count

#: Where each public name lives: loaded on first use, so that a word count does not import
#: the user-job machinery (``toolkit.jobs``), nor a user job the word count's.
_HOMES = {
    "InputStats": "toolkit.batch.inputs",
    "resolve_inputs": "toolkit.batch.inputs",
    "load_function": "toolkit.batch.loading",
    "map_reduce": "toolkit.batch.mapreduce",
    "write_series": "toolkit.batch.outputs",
    "WordCounts": "toolkit.batch.wordcount",
    "word_count": "toolkit.batch.wordcount",
}


__getattr__, __dir__ = lazy_names(__name__, _HOMES)


__all__ = [
    "InputStats",
    "WordCounts",
    "load_function",
    "map_reduce",
    "resolve_inputs",
    "word_count",
    "write_series",
]
