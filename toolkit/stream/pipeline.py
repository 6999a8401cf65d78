"""Running a windowed stream: the driver on this thread, its inputs' readers, a streamz pipeline.

The pipeline is ``assign_panes -> count_panes -> <a window node>``
(:class:`WindowedStream`); a word count's window node is ``pane_window`` or,
for sessions, ``session_window`` (:mod:`toolkit.stream.wordcount`); a user
job's are in :mod:`toolkit.stream.mapreduce`.  The
:class:`~toolkit.stream.driver.Driver` takes chunks from the inputs (one or
more named sources) and pushes them (and clock ticks) through it synchronously,
so the order of events is the order of arrival and a full queue stops the
sources from reading.  Around it, this module writes checkpoints (every input's
position in one), resumes from them, and reports stats and metrics.
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TextIO

from streamz import Stream

from toolkit.cluster import LOCAL_SCHEDULERS, Connection, client_of, connect
from toolkit.errors import ConfigError, SourceError
from toolkit.stream.background import Background
from toolkit.stream.checkpoint import CheckpointError, CheckpointStore, in_current_form
from toolkit.stream.counting import DEFAULT_WORKER_TIMEOUT, WorkerJob
from toolkit.stream.dashboard import add_page, latest_top
from toolkit.stream.datasets import DEFAULT_ROLL_BYTES, DEFAULT_ROLL_SECONDS, dataset_format
from toolkit.stream.driver import Driver
from toolkit.stream.messages import End, Panes, number
from toolkit.stream.metrics import install_collector, publish
from toolkit.stream.nodes import assign_panes, pane_window  # noqa: F401  (registers the nodes)
from toolkit.stream.outputs import OutputFile
from toolkit.stream.sinks import Sink, open_sink
from toolkit.stream.sources import Source, as_inputs
from toolkit.stream.stats import KEPT_STATS, StreamStats

__all__ = ["WindowedStream", "stream_client"]


def stream_client(scheduler: Any) -> tuple[Any, Connection | None]:
    """The client a stream runs on for a ``scheduler`` option, and the connection it owns.

    An address is connected now (and the stream closes it when it ends); a
    Client or Connection is used as it is; None, ``"sync"`` or ``"threads"``
    run in this process.  A bad value fails here.
    """
    client = client_of(scheduler)
    if client is None and isinstance(scheduler, str) and scheduler not in LOCAL_SCHEDULERS:
        connection = connect(scheduler)
        return connection.client, connection
    return client, None


class WindowedStream(Background):
    """A job over windows of a live source, as a streamz pipeline (see the subclasses).

    Parameters
    ----------
    source
        Where lines come from (see :func:`toolkit.stream.sources.parse_source`):
        one source, or several as the stream's named inputs (a mapping of names
        to sources; a sequence's are named ``0``, ``1``, ...).  Their lines are
        windowed together, in arrival order; in event time each input has its
        own watermark, and windows close by the slowest input that has not ended.
    windowing
        A window kind's logic (see :mod:`toolkit.stream.kinds`): for example
        :class:`~toolkit.stream.kinds.count.CountWindowing`, or ``window_kind(...).logic()``.
    worker_job
        What ``count_panes`` runs on each batch (here, or on a worker).
    describe_job
        The job as a checkpoint's identity sees it (JSON-able).
    window_node
        Makes the window node from the stream of ``worker_job`` results (and
        ``emit_every``, ``clock``: the node's keywords for early results).
    client
        A ``distributed.Client`` (or :class:`~toolkit.Connection`) to count on;
        None counts in this process.
    connection
        A connection the stream owns: closed when :meth:`run` returns.
    max_in_flight
        Micro-batches out on the cluster at once.
    worker_timeout
        Seconds the stream waits while the cluster has no worker, then stops
        with :class:`~toolkit.errors.ClusterError` (keeping its last checkpoint).
    queue_size
        Chunks buffered between the source and the pipeline.
    clock
        Seconds since the epoch (processing time); tests pass their own.
    checkpoint
        A directory or fsspec URL (or a :class:`~toolkit.stream.checkpoint.CheckpointStore`)
        for checkpoints: the stream resumes from the newest one, and writes one
        every ``checkpoint_interval`` seconds and when it stops.
    checkpoint_interval
        Seconds between checkpoints.
    emit_every
        Also emit every open window's (or session's) result so far every this
        many seconds of wall time, marked ``final: false``; closing results are
        then marked ``final: true``.  None: closing results only.
    drain
        Whether :meth:`stop` closes and emits the open windows (default: yes
        without a checkpoint; with one, they are kept in the checkpoint and
        emitted by the run that resumes from it).

    Attributes
    ----------
    results : streamz.Stream
        The stream of results (for a word count
        :class:`~toolkit.stream.messages.WindowResult`); attach sinks to it.
    received : collections.deque
        The results so far (the latest 100,000), also as :meth:`to_frame`; :meth:`run`
        blocks, :meth:`start` runs in the background (:mod:`toolkit.stream.background`).
    """

    def __init__(
        self,
        source: Source | Sequence[Source] | Mapping[str, Source],
        windowing: Any,
        *,
        worker_job: WorkerJob,
        describe_job: dict[str, Any],
        window_node: Callable[..., Stream],
        client: Any = None,
        connection: Connection | None = None,
        max_in_flight: int = 4,
        worker_timeout: float = DEFAULT_WORKER_TIMEOUT,
        queue_size: int = 8,
        clock: Callable[[], float] = time.time,
        name: str | None = None,
        checkpoint: str | CheckpointStore | None = None,
        checkpoint_interval: float = 5.0,
        drain: bool | None = None,
        emit_every: float | None = None,
    ) -> None:
        if not checkpoint_interval > 0:
            raise ConfigError(f"checkpoint interval must be positive; got {checkpoint_interval!r}")
        self.store = (
            checkpoint
            if isinstance(checkpoint, CheckpointStore) or checkpoint is None
            else CheckpointStore(checkpoint)
        )
        self.checkpoint_interval = checkpoint_interval
        self.drain = self.store is None if drain is None else drain
        self.head = Stream()
        self.driver = Driver(
            as_inputs(source),
            self.head.emit,
            clock=clock,
            tick_every=windowing.tick_interval(),
            queue_size=queue_size,
        )
        windowing.use_inputs(list(self.driver.sources))
        self.identity = {
            "sources": self.driver.describe(),
            "windowing": windowing.config(),
            "job": describe_job,
        }
        self.outputs: dict[str, Sink | OutputFile] = {}
        self.resumed: dict[str, Any] | None = None  # the checkpoint this run resumed from
        self.windowing = windowing
        self.client = client_of(client)  # a bad value fails now, not at the first batch
        self.connection = connection  # closed when run() ends (the stream's own connection)
        self.name = name or f"stream-{uuid.uuid4().hex[:8]}"
        self.clock = clock
        self.stats = StreamStats(checkpoints=None if self.store is None else 0)
        counted = self.head.assign_panes(windowing).count_panes(
            worker_job,
            client=self.client,
            max_in_flight=max_in_flight,
            worker_timeout=worker_timeout,
        )
        self._counter = counted
        self.late = counted.filter(lambda pc: pc.late > 0).map(lambda pc: pc.late_events.lines)
        self.bad = counted.filter(lambda pc: pc.bad_lines).map(lambda pc: pc.bad_lines)
        counted.sink(self._count_stats)
        self.results = window_node(counted, emit_every=emit_every, clock=clock)
        self._latest: list[tuple[str, float]] = []  # the latest window's top, for the page
        self.page: str | None = None  # the stream page's URL, once the dashboard has it
        self.results.sink(self._window_stats)
        self._keep_results()

    @property
    def sources(self) -> dict[str, Source]:
        """The stream's inputs: name -> source."""
        return self.driver.sources

    @property
    def source(self) -> Source:
        """The stream's source (with several inputs, the first)."""
        return next(iter(self.driver.sources.values()))

    def count_on(self, scheduler: Any) -> None:
        """Count on this cluster from now on (before :meth:`run`): a Client or a Connection.

        So a stream can be built, and its options checked, before a cluster starts.
        None, ``"sync"`` or ``"threads"`` count in this process.
        """
        self.client = client_of(scheduler)
        self._counter.use_client(self.client)

    def _count_stats(self, pc: Panes) -> None:
        self.stats.lines += sum(pc.lines.values()) + pc.late + pc.bad
        self.stats.late += pc.late
        self.stats.bad += pc.bad

    def _window_stats(self, result: Any) -> None:
        self.stats.windows += 1
        self._latest = latest_top(result, self._latest)

    def metrics(self) -> dict[str, float | int | None]:
        """Live figures: lines, lines/s, windows, late, bad, batches in flight, watermark lag.

        On a cluster they are also published to the scheduler's ``/metrics`` page
        as ``toolkit_stream_*{stream="<name>"}``.
        """
        s = self.stats
        elapsed = max(time.monotonic() - s.started, 1e-9)
        watermark = self.windowing.watermark()
        lag = None if watermark is None else self.clock() - watermark
        return {
            "lines": s.lines,
            "lines_per_second": s.lines / elapsed,
            "windows": s.windows,
            "late": s.late,
            "bad": s.bad,
            "in_flight": self._counter.batches_in_flight(),
            "watermark_lag_seconds": lag,
            "checkpoints": s.checkpoints,
        }

    def _publish(self, *, ended: bool = False) -> None:
        if self.client is not None:
            page = {"top": self._latest, "updated": time.time(), "ended": int(ended)}
            publish(self.client, self.name, {**self.metrics(), **page})

    @property
    def stopping(self) -> bool:
        """Whether the stream was asked to stop (or stopped itself: an input failed)."""
        return self.driver.stopping

    def write_to(
        self,
        path: str | None,
        late_path: str | None = None,
        bad_path: str | None = None,
        *,
        output_format: str | None = None,
        roll_bytes: int = DEFAULT_ROLL_BYTES,
        roll_seconds: float = DEFAULT_ROLL_SECONDS,
    ) -> None:
        """Write results to ``path``, late events to ``late_path``, bad ones to ``bad_path``
        (their raw lines).

        Results are JSON lines, or with ``output_format="parquet"`` (the default
        for a path ending in ``/`` or a directory) a Parquet dataset whose files
        roll at ``roll_bytes`` or ``roll_seconds`` (see :mod:`toolkit.stream.datasets`),
        or with ``"csv"`` the dataset's rows in one CSV file (see :mod:`toolkit.stream.sinks`).
        With a checkpoint, these outputs get every window exactly once across
        crashes and restarts (see :mod:`toolkit.stream.outputs`).  None writes nothing.
        """
        if path is not None:
            sink = open_sink(
                output_format or dataset_format(path),
                path,
                times=self.windowing.kind.timed,
                roll_bytes=roll_bytes,
                roll_seconds=roll_seconds,
            )
            self.outputs["output"] = sink
            self.results.sink(sink.write)
        if late_path is not None:
            late = OutputFile(late_path)
            self.outputs["late_output"] = late
            self.late.sink(lambda lines: late.write("".join(x + "\n" for x in lines)))
        if bad_path is not None:
            bad = OutputFile(bad_path)
            self.outputs["bad_output"] = bad
            self.bad.sink(lambda lines: bad.write("".join(x + "\n" for x in lines)))

    # -- checkpoints -----------------------------------------------------------------------
    def _resume(self) -> None:
        state = self.store.load() if self.store is not None else None
        if state is not None:
            state = in_current_form(state)
            if state.get("identity") != self.identity:
                theirs = state.get("identity") or {}
                differ = sorted(k for k in self.identity if theirs.get(k) != self.identity[k])
                raise CheckpointError(
                    f"the checkpoint in {self.store.url!r} is of another job "  # type: ignore[union-attr]
                    f"(its {', '.join(differ) or 'format'} differ); use another directory"
                )
            self.driver.restore(state["sources"])
            self.windowing.restore(state["windowing"])
            self.results.restore(state["windows"])
            for key in KEPT_STATS:
                setattr(self.stats, key, int(state["stats"][key]))
            self.resumed = state
        for name, sink in self.outputs.items():
            sink.restore(None if state is None else state["outputs"].get(name))

    def checkpoint(self) -> None:
        """Write a checkpoint now (from the thread that runs the stream)."""
        if self.store is None:
            raise ConfigError("this stream has no checkpoint directory")
        self._counter.drain()  # every chunk handed in so far is now in the windows
        state = {
            "identity": self.identity,
            "sources": self.driver.snapshot(),
            "windowing": self.windowing.snapshot(),
            "windows": self.results.snapshot(),
            "stats": {key: getattr(self.stats, key) for key in KEPT_STATS},
            "outputs": {name: sink.sync() for name, sink in self.outputs.items()},
            "written": time.time(),
        }
        self.store.save(state)
        self.stats.checkpoints = (self.stats.checkpoints or 0) + 1
        self.driver.commit()  # only now may a broker forget what the checkpoint holds

    def run(
        self,
        *,
        on_listen: Callable[[str], None] | None = None,
        on_resume: Callable[[str], None] | None = None,
        stats_every: float | None = None,
        stats_out: TextIO | None = None,
        on_page: Callable[[str], None] | None = None,
    ) -> StreamStats:
        """Read the source to its end (or until :meth:`stop`), emitting window results.

        Parameters
        ----------
        on_listen
            Called with the address once a network source listens.
        on_resume
            Called with a one-line description when the stream resumes from a checkpoint.
        on_page
            Called with the URL of the stream page on the dashboard, once it is there.
        stats_every
            Seconds between stats lines on ``stats_out`` (default stderr); None for none.
        """
        self.phase = "running"
        try:
            self.stats.started = time.monotonic()  # rates count from here, not from when built
            self._resume()
            if self.resumed is not None and on_resume is not None:
                on_resume(self._resume_line())
            if self.client is not None:
                with contextlib.suppress(Exception):  # no prometheus on a remote scheduler: no page
                    self.client.run_on_scheduler(install_collector)
                self.page = add_page(self.client)
                if self.page and on_page is not None:
                    on_page(self.page)
            next_checkpoint = time.monotonic() + self.checkpoint_interval
            next_publish = time.monotonic()
            driver = self.driver
            self._counter.notify(driver.wake)  # a finished batch wakes the loop: no wait for input
            driver.start(on_listen)
            next_stats = time.monotonic() + stats_every if stats_every else math.inf
            out = stats_out or sys.stderr
            try:
                while True:
                    more = driver.step()
                    if time.monotonic() >= next_publish:
                        self._publish()
                        next_publish = time.monotonic() + 1.0
                    if time.monotonic() >= next_stats:
                        self.stats.in_flight = self._counter.batches_in_flight()
                        print(self.stats.line(), file=out, flush=True)
                        next_stats = time.monotonic() + (stats_every or math.inf)
                    if self.store is not None and time.monotonic() >= next_checkpoint:
                        self.checkpoint()
                        next_checkpoint = time.monotonic() + self.checkpoint_interval
                    if not more:
                        break
            except BaseException:  # a failed batch, or an interrupt: the sources stop too
                driver.stop()
                raise
            stopped = not driver.ended
            driver.finish()  # what was handed over while the stream was stopping is still counted
            error = driver.error
            if self.store is None or (error is None and (self.drain or not stopped)):
                self.head.emit(End())  # close and emit every open window
            if self.store is not None:
                self.checkpoint()  # open windows (if kept) go on in the run that resumes
            self._publish(ended=True)
            if error is not None:
                if isinstance(error, SourceError | ConfigError):
                    raise error
                raise SourceError(f"the source failed: {type(error).__name__}: {error}") from error
            self.phase = "ended"
            return self.stats
        except BaseException as exc:
            self.phase, self.error = "failed", exc
            raise
        finally:
            if self.connection is not None:
                self.connection.close()

    def _resume_line(self) -> str:
        state = self.resumed or {}
        last = (state.get("windows") or {}).get("last")
        after = f", the last one [{number(last[0])}, {number(last[1])})" if last else ""
        return (
            f"toolkit: stream: resumed from {self.store.url} "  # type: ignore[union-attr]
            f"({self.stats.lines:,} lines counted, {self.stats.windows:,} results emitted{after})"
        )
