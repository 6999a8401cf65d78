"""What a cluster failure means, in one line: a worker that kept dying, a scheduler gone away.

dask reports these as ``KilledWorker`` and ``CancelledError``, with the
scheduler's internals in them.  Batch jobs, streams and the CLI turn them into a
:class:`~toolkit.errors.JobError` or :class:`~toolkit.errors.ClusterError`
here, the one place that reads them.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from typing import Any

from toolkit.errors import ClusterError, JobError, ToolkitError, ToolkitWarning

__all__ = ["DEFAULT_WORKER_TIMEOUT", "WAIT_STEP", "WorkerWatch", "blamed_keys", "explain"]

#: ``killed(died, keys)``: the message for a task whose worker kept dying, given the
#: words "the worker died on each of N attempts" and the keys the scheduler blames.
Killed = Callable[[str, list[Any]], str]


def blamed_keys(client: Any, exc: BaseException) -> list[Any]:
    """The keys the scheduler blames for a ``KilledWorker``, sorted.

    All tasks of the same name that were on the dead worker every time, not
    only the one the exception names: a single-thread worker also holds a
    queued task, innocent, that dies with it.
    """
    from distributed import KilledWorker

    if not isinstance(exc, KilledWorker):
        return []
    limit = exc.allowed_failures
    name = exc.task[0] if isinstance(exc.task, tuple) else exc.task

    # nested, so cloudpickle sends it by value: the scheduler needs no toolkit installed
    def blamed(dask_scheduler: Any) -> list[Any]:
        return [
            ts.key
            for ts in dask_scheduler.tasks.values()
            if ts.suspicious > limit
            and (ts.key[0] if isinstance(ts.key, tuple) else ts.key) == name
        ]

    try:
        keys = list(client.run_on_scheduler(blamed)) if client is not None else []
    except Exception:
        keys = []
    if exc.task not in keys:
        keys.append(exc.task)
    return sorted(keys, key=str)


def _generic_killed(died: str, keys: list[Any]) -> str:
    key = keys[0]
    name = str(key[0]) if isinstance(key, tuple) else str(key)
    return f"task {name!r}: {died} (out of memory, or a crash in native code); see the worker logs"


def explain(
    exc: BaseException,
    client: Any = None,
    *,
    keys: list[Any] | None = None,
    killed: Killed = _generic_killed,
    unfinished: str = "the job did not finish",
) -> ToolkitError | None:
    """One clear error for the ways a cluster fails a job, or None for any other exception.

    Parameters
    ----------
    exc
        What the client raised.
    client
        The ``distributed.Client`` it came from, if known (for the address, and
        to ask the scheduler which tasks it blames).
    keys
        The blamed keys, if already asked for (see :func:`blamed_keys`).
    killed
        Words for a task whose worker died each time it ran it (the job knows what
        its tasks do).
    unfinished
        What became of the job when its scheduler went away.

    Examples
    --------
    >>> from distributed.client import FutureCancelledError
    >>> print(explain(FutureCancelledError("x", reason="scheduler-connection-lost")))
    lost the connection to the Dask scheduler during the job; the job did not finish
    >>> explain(ValueError("not a cluster failure")) is None
    True
    """
    from distributed import KilledWorker

    if isinstance(exc, KilledWorker):
        died = f"the worker died on each of {exc.allowed_failures + 1} attempts"
        return JobError(killed(died, keys if keys is not None else blamed_keys(client, exc)))
    text = f"{type(exc).__name__}: {exc}"
    cancelled = "CancelledError" in type(exc).__name__ or "scheduler-connection-lost" in text
    gone = client is None or getattr(client, "status", "") != "running" or "connection" in text
    if cancelled and gone:
        address = getattr(getattr(client, "scheduler", None), "address", None)
        at = f" at {address!r}" if address else ""
        return ClusterError(
            f"lost the connection to the Dask scheduler{at} during the job; {unfinished}"
        )
    return None


#: Seconds a job may wait while its cluster has no worker at all, before it stops.
DEFAULT_WORKER_TIMEOUT = 60.0
#: Seconds between looks at the cluster (:meth:`WorkerWatch.check`) while a client waits.
WAIT_STEP = 0.5


class WorkerWatch:
    """While a client waits on its cluster: that the cluster still has a worker.

    Call :meth:`check` between waits.  The first time the cluster has no
    worker it warns that ``who`` waits (a worker may come back, or a new one
    join: dask reruns the tasks there); after ``timeout`` seconds without one it
    raises :class:`~toolkit.errors.ClusterError` naming the address, then ``stops``.
    """

    def __init__(self, client: Any, timeout: float, who: str, stops: str) -> None:
        self.client, self.timeout, self.who, self.stops = client, timeout, who, stops
        self.alone_since: float | None = None  # when the cluster was last seen without workers

    def check(self) -> None:
        address = self.client.scheduler.address
        try:
            threads = self.client.nthreads()
        except OSError as exc:  # distributed's CommClosedError too: the scheduler went away
            raise ClusterError(
                f"lost the connection to the Dask scheduler at {address!r} while {self.who} "
                f"waited; {self.stops}"
            ) from exc
        if threads:
            self.alone_since = None
            return
        now = time.monotonic()
        if self.alone_since is None:
            self.alone_since = now
            warnings.warn(
                f"no Dask workers on {address}: {self.who} waits up to {self.timeout:g} s for one",
                ToolkitWarning,
                stacklevel=3,
            )
        elif now - self.alone_since >= self.timeout:
            raise ClusterError(f"no Dask workers on {address} for {self.timeout:g} s: {self.stops}")
