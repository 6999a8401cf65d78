"""User jobs, pure and shared by batch and stream: records, how values combine, the keyed fold.

- ``records``: what a line becomes (``lines``, ``jsonl``, ``csv``), and bad records;
- ``combining``: a reducer ``(a, b)``, or a combiner object ``zero/fold/merge/finish``;
- ``keyed``: the fold of lines into an accumulator per key, and merging, as workers run it;
- ``frames``: a chunk's records as one DataFrame, for a mapper that works on many at once;
- ``jsonscan``: the compiled scan of flat JSON lines into Arrow columns, frames' fast path;
- ``results``: results as written: JSON-able, in a defined order;
- ``shipping``: how the objects that hold user code travel to the workers (cloudpickle).
"""

from toolkit.jobs.combining import Combiner, Combining, Mean, combining
from toolkit.jobs.keyed import KeyedJob, KeyedState
from toolkit.jobs.records import BAD_RECORD_POLICIES, RECORD_FORMATS, BadRecords
from toolkit.jobs.results import ordered_results

__all__ = [
    "BAD_RECORD_POLICIES",
    "RECORD_FORMATS",
    "BadRecords",
    "Combiner",
    "Combining",
    "KeyedJob",
    "KeyedState",
    "Mean",
    "combining",
    "ordered_results",
]
