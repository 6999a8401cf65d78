"""One step of a windowing as a pipeline takes it: assigned on the driver, run by the worker
job (here), settled on the driver in order."""

from __future__ import annotations

from typing import Any

from toolkit.stream.counting import CountJob
from toolkit.stream.messages import Chunk, End, Tick


def settled(windowing: Any, item: Chunk | Tick | End, job: Any = None) -> Any:
    """What the windows get for ``item``: for event time, the records' panes, lateness and
    the boundary once a worker parsed them (``job``: a word count's by default)."""
    job = job or CountJob()
    batch = windowing.assign(item)
    return batch.settle(batch.run(job), lambda again: again.run(job))
