"""How batch jobs and streams share one cluster: a thread per worker kept free of batch tasks.

A batch job fills every worker thread with map tasks that each run for a good
fraction of a second; a stream's micro-batch that arrives meanwhile would wait
for one to end (dask does not preempt a running task), and a stream's windows
then come out seconds late.  Task priorities alone cannot help: they order
what waits, not what runs.  So, like a Spark fair-scheduler pool with a minimum
share, the toolkit keeps capacity for streams:

- Workers the toolkit starts (the embedded cluster, ``toolkit cluster``) get
  one thread more than asked for, and advertise a dask *resource*
  ``toolkit-batch`` equal to the threads asked for.
- A batch job's tasks each claim one unit of ``toolkit-batch`` when every
  worker of the cluster advertises it (:func:`batch_resources`): at most the
  asked-for threads per worker run batch tasks; the extra thread is the
  streams'.  On a cluster of plain ``dask worker`` processes (no resource),
  batch tasks are not restricted; start workers with ``--nthreads N+1
  --resources toolkit-batch=N`` for the same effect.
- A stream's micro-batches go at priority :data:`STREAM_PRIORITY`, ahead of
  any queued batch task, on any thread, each in a task group of its own (dask
  holds back tasks of a large group without dependencies while workers are busy).
- A batch task runs with its thread's nice value raised (:func:`yielding_cpu`),
  so that on cores the batch job fills, a stream's threads run first.

The compiled kernels release the GIL, so a stream task on the extra thread runs
beside a word count's map task in the same process.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator
from typing import Any

__all__ = [
    "BATCH_RESOURCE",
    "STREAM_PRIORITY",
    "batch_resources",
    "worker_options",
    "yielding_cpu",
]

BATCH_RESOURCE = "toolkit-batch"
STREAM_PRIORITY = 10  # dask runs higher first; a batch graph's tasks have priority 0


def worker_options(threads_per_worker: int) -> dict[str, Any]:
    """LocalCluster options for workers with ``threads_per_worker`` batch threads and one more.

    Examples
    --------
    >>> worker_options(2)
    {'threads_per_worker': 3, 'resources': {'toolkit-batch': 2}}
    """
    return {
        "threads_per_worker": threads_per_worker + 1,
        "resources": {BATCH_RESOURCE: threads_per_worker},
    }


def batch_resources(client: Any) -> dict[str, int] | None:
    """What each batch task claims on ``client``'s cluster: a ``toolkit-batch`` unit when every
    worker has some, else None (a cluster of plain workers, or none yet)."""
    workers = client.scheduler_info(n_workers=-1).get("workers", {})
    have = [w.get("resources", {}).get(BATCH_RESOURCE, 0) for w in workers.values()]
    if have and all(n >= 1 for n in have):
        return {BATCH_RESOURCE: 1}
    return None


#: How much nicer than the rest a batch task's thread runs, where it can be undone after.
BATCH_NICENESS = 10


@contextlib.contextmanager
def yielding_cpu() -> Iterator[None]:
    """Run the block (a batch task) with this thread's nice value raised by
    :data:`BATCH_NICENESS`, so that a stream's threads, on the same cores, go first.

    Only on Linux (where a thread has its own nice value), and only where it can
    be restored after: as root, or within ``RLIMIT_NICE``; elsewhere the block
    runs as it is (a thread left nicer would slow a stream task it runs later).
    """
    tid = threading.get_native_id()
    try:
        before = os.getpriority(os.PRIO_PROCESS, tid) if sys.platform == "linux" else None
    except OSError:
        before = None
    if before is None or not _can_renice_to(before):
        yield
        return
    try:
        os.setpriority(os.PRIO_PROCESS, tid, min(19, before + BATCH_NICENESS))
    except OSError:
        yield
        return
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, tid, before)


def _can_renice_to(nice: int) -> bool:
    """Whether this process may lower a thread's nice value back to ``nice``."""
    if os.geteuid() == 0:
        return True
    import resource

    soft, _ = resource.getrlimit(resource.RLIMIT_NICE)  # the ceiling is 20 - soft
    return soft != resource.RLIM_INFINITY and 20 - soft <= nice
