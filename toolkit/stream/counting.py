"""Counting the words of each pane: in-process, or on the Dask cluster in micro-batches.

A :class:`CountJob` turns a :class:`~toolkit.stream.windows.PaneBatch` (text per
pane) into :class:`~toolkit.stream.windows.PaneCounts` (a
:class:`~toolkit.wordtable.WordTable` per pane, counted by the same kernel as
batch jobs and sent back as a few arrays); it runs where the ``count_panes``
node sends it.  On a cluster, at most
``max_in_flight`` batches are out at once: a slow cluster blocks the reader
instead of growing memory, and results come back in arrival order.
"""

from __future__ import annotations

import collections
import uuid
from dataclasses import dataclass
from typing import Any

from streamz import Stream

from toolkit.errors import ConfigError
from toolkit.stream.registration import register_node
from toolkit.stream.windows import PaneBatch, PaneCounts

__all__ = ["CountJob", "count_panes"]


@dataclass(frozen=True)
class CountJob:
    """Count each pane's words with the shared tokenizers (pure; runs on a worker).

    Examples
    --------
    >>> from toolkit.stream.windows import PaneBatch
    >>> job = CountJob("words", min_length=2)
    >>> job(PaneBatch({0: "The cat, the hat.\\nA cat"}, {0: 2})).counts[0].top()
    [('cat', 2), ('the', 2), ('hat', 1)]
    """

    tokenizer: str = "words"
    lowercase: bool = True
    min_length: int = 1
    stopwords: frozenset[str] | None = None

    def __call__(self, batch: PaneBatch) -> PaneCounts:
        from toolkit.wordtable import WordTable  # numba: loaded where counting happens

        counts = {}
        for pane, text in batch.text.items():
            table = WordTable(self.tokenizer, self.lowercase, capacity=max(64, len(text) // 32))
            table.add_text(text)
            table = table.normalize().filter(self.min_length, self.stopwords)
            counts[pane] = table.compact()
        return PaneCounts(
            counts,
            batch.lines,
            batch.late,
            batch.bad,
            batch.boundary,
            batch.end,
            batch.late_lines,
            batch.late_at,
        )


def stream_batch(job: CountJob, batch: PaneBatch) -> PaneCounts:
    """The task run on a worker for one micro-batch (named ``stream-batch`` on the dashboard)."""
    return job(batch)


@register_node
class count_panes(Stream):
    """Count each PaneBatch's words, here or on a Dask client's cluster; emit PaneCounts in order.

    Parameters
    ----------
    upstream
        A stream of PaneBatch.
    job
        The counting job.
    client
        A ``distributed.Client``; None counts in this process.
    max_in_flight
        Batches out on the cluster at once; the node blocks its caller beyond that.
    """

    def __init__(
        self,
        upstream: Stream,
        job: CountJob,
        client: Any = None,
        max_in_flight: int = 4,
        **kwargs: Any,
    ) -> None:
        if (
            isinstance(max_in_flight, bool)
            or not isinstance(max_in_flight, int)
            or max_in_flight < 1
        ):
            raise ConfigError(f"max_in_flight must be a positive int; got {max_in_flight!r}")
        self.job = job
        self.client = client
        self.max_in_flight = max_in_flight
        self.pending: collections.deque[Any] = collections.deque()
        self.in_flight = 0
        self.peak_in_flight = 0
        Stream.__init__(self, upstream, **kwargs)

    def update(self, x: PaneBatch, who: Any = None, metadata: Any = None) -> Any:
        if self.client is None:
            return self._emit(self.job(x), metadata=metadata)
        if x.text:
            key = f"stream-batch-{uuid.uuid4().hex}"
            future = self.client.submit(stream_batch, self.job, x, key=key)
            self.pending.append(future)
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        else:
            self.pending.append(self.job(x))  # nothing to count: keep its place in the order
        return self._release(wait_all=x.end, metadata=metadata)

    def drain(self) -> list[Any]:
        """Wait for every batch out on the cluster and emit its counts (before a checkpoint)."""
        return self._release(wait_all=True)

    def _release(self, *, wait_all: bool, metadata: Any = None) -> list[Any]:
        """Emit what is ready, in order; block while too many batches are out."""
        results = []
        while self.pending:
            head = self.pending[0]
            is_future = hasattr(head, "result")
            waiting = is_future and not head.done()
            if waiting and self.in_flight <= self.max_in_flight and not wait_all:
                break
            self.pending.popleft()
            if is_future:
                self.in_flight -= 1
                head = head.result()
            results.extend(self._emit(head, metadata=metadata))
        return results
