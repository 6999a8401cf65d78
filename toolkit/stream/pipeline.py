"""Running a windowed word count: a source thread, a bounded queue, and a streamz pipeline.

The pipeline is ``assign_panes -> count_panes -> pane_window``.  One driver
thread pushes chunks (and clock ticks) through it synchronously, so the order of
events is the order of arrival and a full queue stops the source from reading.
"""

from __future__ import annotations

import contextlib
import math
import queue
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from streamz import Stream

from toolkit.cluster import LOCAL_SCHEDULERS, Connection, client_of, connect
from toolkit.errors import ConfigError, SourceError
from toolkit.stream.checkpoint import CheckpointError, CheckpointStore
from toolkit.stream.counting import DEFAULT_WORKER_TIMEOUT, CountJob
from toolkit.stream.metrics import install_collector, publish
from toolkit.stream.sinks import FileSink, window_line
from toolkit.stream.sources import Source
from toolkit.stream.windows import (
    Chunk,
    End,
    PaneCounts,
    Tick,
    Windowing,
    WindowResult,
    number,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["StreamStats", "WindowedWordCount", "stream_word_count", "to_frame"]

POLL = 0.2  # seconds between ticks when nothing arrives
_KEPT_STATS = ("lines", "bad", "late", "windows")  # carried over by a checkpoint


@dataclass
class StreamStats:
    """What a stream has done so far."""

    lines: int = 0
    bad: int = 0
    late: int = 0
    windows: int = 0
    in_flight: int = 0
    checkpoints: int | None = None  # None: not checkpointing
    started: float = field(default_factory=time.monotonic)

    def line(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        saved = "" if self.checkpoints is None else f", {self.checkpoints:,} checkpoints"
        return (
            f"toolkit: stream: {self.lines:,} lines ({self.lines / elapsed:,.0f}/s), "
            f"{self.windows:,} windows, {self.late:,} late, {self.bad:,} bad, "
            f"{self.in_flight} batches in flight{saved}"
        )


class WindowedWordCount:
    """A word count over windows of a live source, as a streamz pipeline.

    Parameters
    ----------
    source
        Where lines come from (see :func:`toolkit.stream.sources.parse_source`).
    windowing
        :class:`~toolkit.stream.windows.CountWindowing`,
        :class:`~toolkit.stream.windows.ProcessingTimeWindowing` or
        :class:`~toolkit.stream.windows.EventTimeWindowing`.
    job
        How words are counted (tokenizer, case, filters).
    client
        A ``distributed.Client`` (or :class:`~toolkit.Connection`) to count on;
        None counts in this process.
    connection
        A connection the stream owns: closed when :meth:`run` returns.
    top
        Words per window result (0: all).
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
    drain
        Whether :meth:`stop` closes and emits the open windows (default: yes
        without a checkpoint; with one, they are kept in the checkpoint and
        emitted by the run that resumes from it).

    Attributes
    ----------
    results : streamz.Stream
        The stream of :class:`~toolkit.stream.windows.WindowResult`; attach sinks to it.
    """

    def __init__(
        self,
        source: Source,
        windowing: Windowing,
        *,
        job: CountJob | None = None,
        client: Any = None,
        connection: Connection | None = None,
        top: int = 10,
        max_in_flight: int = 4,
        worker_timeout: float = DEFAULT_WORKER_TIMEOUT,
        queue_size: int = 8,
        clock: Callable[[], float] = time.time,
        name: str | None = None,
        checkpoint: str | CheckpointStore | None = None,
        checkpoint_interval: float = 5.0,
        drain: bool | None = None,
    ) -> None:
        if queue_size < 1:
            raise ConfigError(f"queue size must be positive; got {queue_size!r}")
        if not checkpoint_interval > 0:
            raise ConfigError(f"checkpoint interval must be positive; got {checkpoint_interval!r}")
        self.store = (
            checkpoint
            if isinstance(checkpoint, CheckpointStore) or checkpoint is None
            else CheckpointStore(checkpoint)
        )
        self.checkpoint_interval = checkpoint_interval
        self.drain = self.store is None if drain is None else drain
        job = job or CountJob()
        self.identity = {
            "source": source.describe(),
            "windowing": windowing.config(),
            "job": {
                "tokenizer": job.tokenizer,
                "lowercase": job.lowercase,
                "min_length": job.min_length,
                "stopwords": sorted(job.stopwords or ()),
            },
            "top": top,
        }
        self.outputs: dict[str, FileSink] = {}
        self.resumed: dict[str, Any] | None = None  # the checkpoint this run resumed from
        self.source = source
        self.windowing = windowing
        self.client = client_of(client)  # a bad value fails now, not at the first batch
        self.connection = connection  # closed when run() ends (the stream's own connection)
        self.name = name or f"stream-{uuid.uuid4().hex[:8]}"
        self.clock = clock
        self.stats = StreamStats(checkpoints=None if self.store is None else 0)
        self.head = Stream()
        counted = self.head.assign_panes(windowing).count_panes(
            job, client=client, max_in_flight=max_in_flight, worker_timeout=worker_timeout
        )
        self._counter = counted
        self.late = counted.filter(lambda pc: bool(pc.late_lines)).map(lambda pc: pc.late_lines)
        counted.sink(self._count_stats)
        self.results = counted.pane_window(windowing, top=top)
        self.results.sink(self._window_stats)
        self._queue: queue.Queue[tuple[str, Any, int, Any]] = queue.Queue(maxsize=queue_size)
        self.stop_event = threading.Event()
        self._leftover: list[tuple[str, Any, int, Any]] = []
        self._leftover_lock = threading.Lock()
        self.error: BaseException | None = None

    def _count_stats(self, pc: PaneCounts) -> None:
        self.stats.lines += sum(pc.lines.values()) + pc.late + pc.bad
        self.stats.late += pc.late
        self.stats.bad += pc.bad

    def _window_stats(self, result: WindowResult) -> None:
        self.stats.windows += 1

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
            "in_flight": self._counter.in_flight,
            "watermark_lag_seconds": lag,
            "checkpoints": s.checkpoints,
        }

    def _publish(self) -> None:
        if self.client is not None:
            publish(self.client, self.name, self.metrics())

    def stop(self) -> None:
        """Ask the stream to stop reading; open windows are flushed and :meth:`run` returns."""
        self.stop_event.set()

    def write_to(self, path: str | None, late_path: str | None = None) -> None:
        """Write window results (JSON lines) to ``path``, and late events to ``late_path``.

        With a checkpoint, these files get every window exactly once across
        crashes and restarts (see :mod:`toolkit.stream.sinks`).  None writes nothing.
        """
        if path is not None:
            sink = FileSink(path)
            self.outputs["output"] = sink
            self.results.sink(lambda r: sink.write(window_line(r)))
        if late_path is not None:
            late = FileSink(late_path)
            self.outputs["late_output"] = late
            self.late.sink(lambda lines: late.write("".join(x + "\n" for x in lines)))

    # -- checkpoints -----------------------------------------------------------------------
    def _resume(self) -> None:
        state = self.store.load() if self.store is not None else None
        if state is not None:
            if state.get("identity") != self.identity:
                theirs = state.get("identity") or {}
                differ = sorted(k for k in self.identity if theirs.get(k) != self.identity[k])
                raise CheckpointError(
                    f"the checkpoint in {self.store.url!r} is of another job "  # type: ignore[union-attr]
                    f"(its {', '.join(differ) or 'format'} differ); use another directory"
                )
            self.source.restore(state["source"])
            self.windowing.restore(state["windowing"])
            self.results.restore(state["windows"])
            for key in _KEPT_STATS:
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
            "source": self.source.snapshot(),
            "windowing": self.windowing.snapshot(),
            "windows": self.results.snapshot(),
            "stats": {key: getattr(self.stats, key) for key in _KEPT_STATS},
            "outputs": {name: sink.sync() for name, sink in self.outputs.items()},
            "written": time.time(),
        }
        self.store.save(state)
        self.stats.checkpoints = (self.stats.checkpoints or 0) + 1
        self.source.commit()  # only now may a broker forget what the checkpoint holds

    def _put(self, lines: list[str], bad: int, position: Any = None) -> None:
        item = ("chunk", lines, bad, position)
        while not self.stop_event.is_set():
            try:
                self._queue.put(item, timeout=POLL)
                return
            except queue.Full:
                continue
        with self._leftover_lock:  # accepted as the stream stopped: still counted
            self._leftover.append(item)

    def _read(self, ready: Callable[[str], None]) -> None:
        try:
            self.source.run(self._put, self.stop_event, ready)
        except BaseException as exc:  # reported by run() in the driver thread
            self.error = exc
        finally:
            self._queue.put(("end", None, 0, None))

    def run(
        self,
        *,
        on_listen: Callable[[str], None] | None = None,
        on_resume: Callable[[str], None] | None = None,
        stats_every: float | None = None,
        stats_out: TextIO | None = None,
    ) -> StreamStats:
        """Read the source to its end (or until :meth:`stop`), emitting window results.

        Parameters
        ----------
        on_listen
            Called with the address once a network source listens.
        on_resume
            Called with a one-line description when the stream resumes from a checkpoint.
        stats_every
            Seconds between stats lines on ``stats_out`` (default stderr); None for none.
        """
        try:
            return self._run(on_listen, on_resume, stats_every, stats_out)
        finally:
            if self.connection is not None:
                self.connection.close()

    def _run(
        self,
        on_listen: Callable[[str], None] | None,
        on_resume: Callable[[str], None] | None,
        stats_every: float | None,
        stats_out: TextIO | None,
    ) -> StreamStats:
        listening = threading.Event()

        def ready(address: str) -> None:
            if on_listen is not None:
                on_listen(address)
            listening.set()

        self._resume()
        if self.resumed is not None and on_resume is not None:
            on_resume(self._resume_line())
        if self.client is not None:
            with contextlib.suppress(Exception):  # no prometheus on a remote scheduler: no page
                self.client.run_on_scheduler(install_collector)
        next_checkpoint = time.monotonic() + self.checkpoint_interval
        next_publish = time.monotonic()
        reader = threading.Thread(
            target=self._read, args=(ready,), name="toolkit-source", daemon=True
        )
        reader.start()
        slide = self.windowing.tick_interval()
        next_tick = self._next_tick(slide)
        next_stats = time.monotonic() + stats_every if stats_every else math.inf
        out = stats_out or sys.stderr
        try:
            while True:
                timeout = min(POLL, max(0.0, next_tick - self.clock()))
                try:
                    kind, lines, bad, position = self._queue.get(timeout=timeout)
                except queue.Empty:
                    kind, lines, bad, position = "idle", None, 0, None
                now = self.clock()
                if slide is not None and now >= next_tick:
                    self.head.emit(Tick(now))
                    next_tick = self._next_tick(slide)
                if kind == "chunk":
                    self.head.emit(Chunk(lines, now, bad))
                    self.source.mark(position)
                elif kind == "idle":
                    self.head.emit(Tick(now))  # lets finished cluster batches through
                if time.monotonic() >= next_publish:
                    self._publish()
                    next_publish = time.monotonic() + 1.0
                if time.monotonic() >= next_stats:
                    self.stats.in_flight = self._counter.in_flight
                    print(self.stats.line(), file=out, flush=True)
                    next_stats = time.monotonic() + (stats_every or math.inf)
                if self.store is not None and time.monotonic() >= next_checkpoint:
                    self.checkpoint()
                    next_checkpoint = time.monotonic() + self.checkpoint_interval
                if kind == "end" or (self.stop_event.is_set() and kind == "idle"):
                    break
        except BaseException:  # a failed batch, or an interrupt: the source stops too
            self.stop_event.set()
            raise
        stopped = kind != "end"
        self.stop_event.set()
        reader.join(timeout=5)
        self._take_the_rest()
        if self.store is None or (self.error is None and (self.drain or not stopped)):
            self.head.emit(End())  # close and emit every open window
        if self.store is not None:
            self.checkpoint()  # open windows (if kept) go on in the run that resumes
        self._publish()
        if self.error is not None:
            if isinstance(self.error, SourceError | ConfigError):
                raise self.error
            raise SourceError(
                f"the source failed: {type(self.error).__name__}: {self.error}"
            ) from self.error
        return self.stats

    def _take_the_rest(self) -> None:
        """Count the chunks the source handed over while the stream was stopping."""
        rest = []
        while True:
            try:
                rest.append(self._queue.get_nowait())
            except queue.Empty:
                break
        with self._leftover_lock:
            rest.extend(self._leftover)
            self._leftover.clear()
        for kind, lines, bad, position in rest:
            if kind == "chunk":
                self.head.emit(Chunk(lines, self.clock(), bad))
                self.source.mark(position)

    def _resume_line(self) -> str:
        state = self.resumed or {}
        last = (state.get("windows") or {}).get("last")
        after = f", the last one [{number(last[0])}, {number(last[1])})" if last else ""
        return (
            f"toolkit: stream: resumed from {self.store.url} "  # type: ignore[union-attr]
            f"({self.stats.lines:,} lines counted, {self.stats.windows:,} windows emitted{after})"
        )

    def _next_tick(self, slide: float | None) -> float:
        if slide is None:
            return math.inf
        return (math.floor(self.clock() / slide) + 1) * slide


def stream_word_count(
    source: str | Source,
    *,
    count: int | None = None,
    window: float | str | None = None,
    every: int | float | str | None = None,
    event_time: str | None = None,
    text_field: str = "text",
    lateness: float | str | None = None,
    tokenizer: str = "words",
    lowercase: bool | None = None,
    min_length: int = 1,
    stopwords: Any = None,
    top: int = 10,
    scheduler: Any = None,
    follow: bool = False,
    max_in_flight: int = 4,
    worker_timeout: float = DEFAULT_WORKER_TIMEOUT,
    checkpoint: str | CheckpointStore | None = None,
    checkpoint_interval: float = 5.0,
    drain: bool | None = None,
) -> WindowedWordCount:
    """Build a windowed word count over a live source; call ``.run()`` to start it.

    Parameters
    ----------
    source
        ``-``, a file, ``tcp://HOST:PORT``, ``http://HOST:PORT/PATH``, ``demo:?rate=N&lines=M``.
    count, window, every, event_time, text_field, lateness
        The windows, as for ``toolkit stream`` (see :func:`~toolkit.stream.windows.make_windowing`).
    tokenizer, lowercase, min_length, stopwords
        As for :func:`toolkit.word_count`.
    top
        Words per window result (0: all).
    scheduler
        Where to count, as for batch jobs: a :class:`~toolkit.Connection`, a
        ``distributed.Client``, or a scheduler address (connected now, and closed
        when :meth:`~WindowedWordCount.run` returns); ``"sync"``, ``"threads"`` or
        None (the default) count in this process.  Unlike a batch job, None starts
        no cluster: a stream object lives as long as its caller keeps it, and a
        cluster started behind it would too (``toolkit stream`` starts the
        embedded cluster itself, as the batch commands do).  A bad value fails here.
    max_in_flight, worker_timeout
        Micro-batches out on the cluster at once; seconds to wait while it has no worker.
    checkpoint, checkpoint_interval, drain
        Checkpoints and resuming, as for :class:`WindowedWordCount`.

    Returns
    -------
    WindowedWordCount
        Its ``results`` is a streamz Stream of :class:`~toolkit.stream.windows.WindowResult`.

    Examples
    --------
    >>> wc = stream_word_count("demo:?rate=100000&lines=300", count=100, top=2)
    >>> results = wc.results.sink_to_list()
    >>> _ = wc.run()
    >>> [(r.start, r.end, r.lines) for r in results]
    [(0, 100, 100), (100, 200, 100), (200, 300, 100)]
    """
    from toolkit.stopwords import load_stopwords
    from toolkit.stream.sources import parse_source
    from toolkit.stream.windows import make_windowing
    from toolkit.text import get_tokenizer

    windowing = make_windowing(
        count=count,
        window=window,
        every=every,
        event_time=event_time,
        text_field=text_field,
        lateness=lateness,
    )
    src = source if isinstance(source, Source) else parse_source(source, follow=follow)
    lower = get_tokenizer(tokenizer).lowercase if lowercase is None else lowercase
    job = CountJob(tokenizer, lower, min_length, load_stopwords(stopwords, lowercase=lower))
    client, connection = client_of(scheduler), None
    if client is None and isinstance(scheduler, str) and scheduler not in LOCAL_SCHEDULERS:
        connection = connect(scheduler)  # an address: connected now, closed when run() ends
        client = connection.client
    return WindowedWordCount(
        src,
        windowing,
        job=job,
        client=client,
        connection=connection,
        top=top,
        max_in_flight=max_in_flight,
        worker_timeout=worker_timeout,
        checkpoint=checkpoint,
        checkpoint_interval=checkpoint_interval,
        drain=drain,
    )


def to_frame(results: list[WindowResult]) -> pd.DataFrame:
    """Window results as a DataFrame: one row per window (``top`` as a list of pairs).

    Examples
    --------
    >>> to_frame([WindowResult(0, 10, 3, 5, [("a", 3), ("b", 2)])])[["start", "end", "words"]]
       start  end  words
    0      0   10      5
    """
    import pandas as pd

    return pd.DataFrame(
        [r.to_dict() for r in results], columns=["start", "end", "lines", "words", "top", "late"]
    ).dropna(axis=1, how="all")
