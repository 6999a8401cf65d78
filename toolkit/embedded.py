"""The local cluster the toolkit starts itself: embedded in a job, or ``toolkit cluster``.

:func:`local_cluster` starts a ``distributed.LocalCluster`` whose workers leave
the terminal's signals to the process that started them, start by ``fork``
where that is safe (and so begin with toolkit imported), and keep a thread for
streams beside the batch threads (see :mod:`toolkit.sharing`).  Every worker,
forked or spawned (a restarted worker is always spawned), runs this module as
its dask preload: :func:`dask_setup` makes it ignore SIGINT and SIGTERM.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from typing import Any

import dask

from toolkit.interrupts import HELD, signals_held

__all__ = ["ALLOWED_FAILURES", "dask_setup", "local_cluster"]

#: dask's ``allowed-failures`` for clusters the toolkit starts (dask's default is 3, and every task
#: on a dead worker is charged): a job survives several worker deaths; a poison input still fails.
ALLOWED_FAILURES = 6


def local_cluster(*, processes: bool = True, fork: bool = True, **kwargs: Any) -> Any:
    """A ``distributed.LocalCluster`` as the toolkit starts one (embedded, or ``toolkit cluster``).

    Its worker processes leave Ctrl-C and SIGTERM to this process (see
    :mod:`toolkit.interrupts`): they are started with both signals blocked and
    ignore them (:func:`dask_setup`, their preload), so a terminal's Ctrl-C to
    the process group neither kills them mid-task nor prints their tracebacks;
    closing the cluster (or this process exiting) ends them.  A job survives
    several worker deaths (``ALLOWED_FAILURES``), and workers start by ``fork``
    where that is safe (``fork=False`` asks for dask's ``spawn``, as a long-lived
    cluster that serves other programs' clients does).  Each worker has one
    thread more than ``threads_per_worker``, kept from batch tasks for streams
    (see :mod:`toolkit.sharing`).  ``kwargs`` go to LocalCluster.
    """
    from distributed import LocalCluster

    from toolkit.sharing import worker_options

    kwargs.update(worker_options(kwargs.pop("threads_per_worker", 1)))  # a thread for streams
    settings: dict[str, Any] = {"distributed.scheduler.allowed-failures": ALLOWED_FAILURES}
    if processes and fork and _fork_is_safe():
        settings["distributed.worker.multiprocessing-method"] = "fork"
        _before_forking()
    kwargs.setdefault("silence_logs", logging.ERROR)
    if processes:  # each worker process ignores the terminal's signals (not this process)
        preload = kwargs.get("preload") or dask.config.get("distributed.worker.preload")
        kwargs["preload"] = [*preload, __name__]
    with dask.config.set(settings), signals_held():
        return LocalCluster(processes=processes, **kwargs)


def _fork_is_safe() -> bool:
    """Whether the embedded cluster's workers start by ``fork`` rather than dask's ``spawn``.

    A forked worker starts with this process's imports (toolkit, pandas,
    distributed) instead of importing them again: on a 2-core machine a
    2-worker cluster started in 0.54 s instead of 1.17 s, and closed in 0.02 s
    instead of 0.27 s.  Only on Linux (where fork is the system default), below
    Python 3.12 (which warns about forking a process that has threads), when
    the user has not chosen a method in dask's config, and when this process
    runs no thread of its own: a thread that holds a lock when the worker is
    forked (a file's, writing a log line) leaves the worker stuck on it for ever.
    A Jupyter kernel, a test session with a cluster in it, a program with its
    own threads: their workers are spawned.  The cluster's own threads are
    there when it forks (a nanny forks from a thread while the scheduler's
    event loop runs): see :func:`_before_forking` for what that asks.
    """
    default = dask.config.get("distributed.worker.multiprocessing-method", "spawn") == "spawn"
    alone = threading.active_count() == 1
    return sys.platform == "linux" and sys.version_info < (3, 12) and default and alone


def _before_forking() -> None:
    """Do now, before any worker is forked, what the scheduler's thread would do while one is.

    A nanny forks its worker from a thread of its own while the event loop's
    thread goes on: what that thread holds at the moment of the fork, the
    worker inherits, held for ever.  When a client or a worker registers, the
    scheduler asks ``distributed.versions.get_versions()``, which the first time
    imports modules (a worker forked meanwhile waits for ever on that import's
    lock) and runs ``uname -p`` for ``platform.processor()`` (a worker forked
    meanwhile holds that subprocess's error pipe open, and the scheduler waits
    on it for ever): a cluster with a client connecting while it started hung
    1 start in 5, each way.  Both answers are cached, so asking once here, with
    no worker yet, leaves neither to happen during a fork.
    """
    from distributed.versions import get_versions

    get_versions()


def dask_setup(worker: Any) -> None:
    """The workers' preload: leave SIGINT and SIGTERM to the process that started the cluster.

    A forked worker has them blocked from its start (:func:`local_cluster`
    starts the cluster inside :func:`~toolkit.interrupts.signals_held`), but a
    spawned one starts with a fresh signal mask: a terminal's Ctrl-C, sent to
    the whole foreground process group, interrupted it mid-task and printed its
    traceback.  Ignored here, in every worker; the cluster's owner stops the
    workers when it closes (and the nanny kills what does not stop).
    """
    if threading.current_thread() is not threading.main_thread():
        return  # a worker in the owner's process (processes=False): the owner's signals
    for sig in HELD:
        signal.signal(sig, signal.SIG_IGN)
