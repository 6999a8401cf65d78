"""Counting the words of each pane: in-process, or on the Dask cluster in micro-batches.

A :class:`CountJob` turns a :class:`~toolkit.stream.messages.PaneBatch` (text per
pane) into :class:`~toolkit.stream.messages.PaneCounts` (a
:class:`~toolkit.wordtable.WordTable` per pane, counted by the same kernel as
batch jobs and sent back as a few arrays); it runs where the ``count_panes``
node sends it.  On a cluster, at most
``max_in_flight`` batches are out at once: a slow cluster blocks the reader
instead of growing memory, and results come back in arrival order.
"""

from __future__ import annotations

import collections
import uuid
from collections.abc import Callable
from concurrent.futures import CancelledError
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from streamz import Stream

from toolkit.errors import ConfigError
from toolkit.failures import DEFAULT_WORKER_TIMEOUT, WAIT_STEP, WorkerWatch, explain
from toolkit.lines import LineBlock
from toolkit.sharing import STREAM_PRIORITY
from toolkit.stream.messages import (
    PaneBatch,
    PaneCounts,
    Panes,
    Part,
    SessionBatch,
    SessionParts,
)
from toolkit.stream.registration import register_node
from toolkit.stream.sessions import cut_sessions

if TYPE_CHECKING:
    from toolkit.wordtable import WordTable

__all__ = ["DEFAULT_WORKER_TIMEOUT", "CountJob", "CountSessionJob", "WorkerJob", "count_panes"]

#: What ``count_panes`` runs on each batch: a word count, a user job's fold, or a session cut.
WorkerJob = Callable[[Any], Panes]


@dataclass(frozen=True)
class CountJob:
    """Count each pane's words with the shared tokenizers (pure; runs on a worker).

    Examples
    --------
    >>> from toolkit.stream.messages import PaneBatch
    >>> job = CountJob("words", min_length=2)
    >>> job(PaneBatch(text={0: "The cat, the hat.\\nA cat"}, lines={0: 2})).counts[0].top()
    [('cat', 2), ('the', 2), ('hat', 1)]
    """

    tokenizer: str = "words"
    lowercase: bool = True
    min_length: int = 1
    stopwords: frozenset[str] | None = None

    def __call__(self, batch: PaneBatch) -> PaneCounts:
        return batch.counted({pane: self.table(text) for pane, text in batch.text.items()})

    def table(self, text: str | LineBlock) -> WordTable:
        """The compact word table of ``text`` (a block of lines: counted as its bytes)."""
        from toolkit.wordtable import WordTable  # the kernels: loaded where counting happens

        data = text.data if isinstance(text, LineBlock) else None
        size = len(data) if data is not None else len(text)
        table = WordTable(self.tokenizer, self.lowercase, capacity=max(64, size // 32))
        if data is None:
            table.add_text(text)  # type: ignore[arg-type]
        elif table.add_bytes(data) != len(data):  # pragma: no cover - checked when cut
            raise ValueError("a block of lines is not UTF-8")
        return table.normalize().filter(self.min_length, self.stopwords).compact()


@dataclass(frozen=True)
class CountSessionJob:
    """Cut a micro-batch's lines into parts of sessions of the whole stream; count each (pure).

    Examples
    --------
    >>> job = CountSessionJob(CountJob(), gap=5)
    >>> parts = job(SessionBatch(text=["a b", "b", "c"], times=[0.0, 1.0, 9.0])).parts[None]
    >>> [(first, last, lines, table.top()) for first, last, lines, table in parts]
    [(0.0, 1.0, 2, [('b', 2), ('a', 1)]), (9.0, 9.0, 1, [('c', 1)])]
    """

    count: CountJob
    gap: float

    def __call__(self, batch: SessionBatch) -> SessionParts:
        text = batch.text
        times = batch.times if batch.times is not None else [batch.time] * len(text)
        parts: list[Part] = []
        for group in cut_sessions(times, self.gap):
            table = self.count.table("\n".join(text[i] for i in group))
            parts.append((times[group[0]], times[group[-1]], len(group), table))
        return batch.cut({None: parts} if parts else {})


def stream_batch(job: WorkerJob, batch: Panes) -> Any:
    """The task run on a worker for one micro-batch (named ``stream-batch`` on the dashboard)."""
    return batch.run(job)


_RESUBMITS = 3  # times one batch is submitted again after the cluster dropped it
_KEPT = "its last checkpoint, if any, is kept"
_STOPPED = f"the stream stopped ({_KEPT})"


@register_node
class count_panes(Stream):
    """Run a worker job on each batch, here or on a Dask client's cluster; emit results in order.

    The job counts a batch's words (:class:`CountJob`), folds a user job's
    records (:class:`~toolkit.stream.folding.KeyedPaneJob`), or cuts sessions.

    Parameters
    ----------
    upstream
        A stream of PaneBatch (or SessionBatch).
    job
        The worker job: a picklable callable from a batch to its result.
    client
        A ``distributed.Client``; None counts in this process.
    max_in_flight
        Batches out on the cluster at once; the node blocks its caller beyond that.
    worker_timeout
        Seconds a batch may wait while the cluster has no worker (a worker that
        dies mid-batch is replaced by the scheduler, which runs the batch
        again); then :class:`~toolkit.errors.ClusterError`.  A batch the
        cluster lost (cancelled) is submitted again.
    """

    def __init__(
        self,
        upstream: Stream,
        job: WorkerJob,
        client: Any = None,
        max_in_flight: int = 4,
        worker_timeout: float = DEFAULT_WORKER_TIMEOUT,
        **kwargs: Any,
    ) -> None:
        if (
            isinstance(max_in_flight, bool)
            or not isinstance(max_in_flight, int)
            or max_in_flight < 1
        ):
            raise ConfigError(f"max_in_flight must be a positive int; got {max_in_flight!r}")
        if not worker_timeout > 0:
            raise ConfigError(f"worker timeout must be positive seconds; got {worker_timeout!r}")
        self.job = job
        self.client = client
        self.max_in_flight = max_in_flight
        self.worker_timeout = worker_timeout
        # in arrival order: (future, batch) while out on the cluster, (None, batch, result)
        # when done; each is settled (batch.settle) as it is released
        self.pending: collections.deque[tuple[Any, Any, Any]] = collections.deque()
        self.in_flight = 0
        self.peak_in_flight = 0
        #: called (on another thread) when a batch finishes: a window it ends can close now
        self.on_done: Callable[[], None] | None = None
        Stream.__init__(self, upstream, **kwargs)

    def use_client(self, client: Any) -> None:
        """Run the batches from now on on this ``distributed.Client`` (None: in this process)."""
        self.client = client

    def notify(self, callback: Callable[[], None] | None) -> None:
        """Call ``callback`` (on another thread) whenever a batch finishes on the cluster."""
        self.on_done = callback

    def batches_in_flight(self) -> int:
        """Batches out on the cluster now."""
        return self.in_flight

    def update(self, x: Any, who: Any = None, metadata: Any = None) -> Any:
        if self.client is None:
            return self._emit(x.settle(x.run(self.job), self._redo), metadata=metadata)
        if x.text:
            self.pending.append((self._submit(x), x, None))
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        else:
            self.pending.append((None, x, x.run(self.job)))  # nothing to count: keep its place
        return self._release(wait_all=x.end, metadata=metadata)

    def _redo(self, batch: Any) -> Any:
        """Run the job on ``batch`` again, here (a batch's settling asks it, rarely)."""
        return batch.run(self.job)

    def _submit(self, batch: Panes) -> Any:
        # a task group of its own: dask queues tasks of a large group without dependencies
        # ("root-ish") on the scheduler while the workers are busy, which behind a batch job
        # held micro-batches for seconds; and a priority ahead of any waiting batch task
        # (see toolkit.sharing).  The dashboard still names it stream-batch.
        key = (f"stream-batch-{uuid.uuid4().hex}", 0)
        future = self.client.submit(
            stream_batch, self.job, batch, key=key, priority=STREAM_PRIORITY
        )
        wake = self.on_done
        if wake is not None:  # the driver takes the result as soon as it is there
            future.add_done_callback(lambda _: wake())
        return future

    def drain(self) -> list[Any]:
        """Wait for every batch out on the cluster and emit its counts (before a checkpoint)."""
        return self._release(wait_all=True)

    def _release(self, *, wait_all: bool, metadata: Any = None) -> list[Any]:
        """Emit what is ready, in order; block while too many batches are out."""
        results = []
        while self.pending:
            future, batch, item = self.pending[0]
            if future is not None:
                if not future.done() and self.in_flight <= self.max_in_flight and not wait_all:
                    break
                item = self._result(future, batch)
                self.in_flight -= 1
            self.pending.popleft()
            results.extend(self._emit(batch.settle(item, self._redo), metadata=metadata))
        return results

    def _result(self, future: Any, batch: Panes) -> Any:
        """Wait for one batch's counts, in steps, watching that the cluster can still run it."""
        watch = WorkerWatch(
            self.client,
            self.worker_timeout,
            "the stream",
            f"the stream's micro-batches cannot run ({_KEPT})",
        )
        resubmits = 0
        while True:
            try:
                return future.result(timeout=WAIT_STEP)
            except TimeoutError:
                pass
            except UnboundLocalError:
                # distributed's sync() when the step's wait was cancelled in the event loop
                # rather than timed out (seen on a loaded machine): the future is as it was
                pass
            except CancelledError as exc:
                # the cluster dropped it (a restart, a lost key): submit it again, a few times;
                # a client that lost its scheduler raises instead
                if self.client.status != "running":
                    error = explain(exc, self.client, unfinished=_STOPPED)
                    if error is not None:
                        raise error from None
                    raise
                if resubmits >= _RESUBMITS:
                    raise
                resubmits += 1
                future = self._submit(batch)
                continue
            watch.check()
