"""A user's MapReduce job over a live stream: keyed windows or per-key sessions.

:class:`WindowedJob` runs the same job definition as ``toolkit mapreduce`` (a
mapper and a reducer or combiner, records of lines, JSON or CSV) over count,
processing-time or event-time windows (``assign_panes -> count_panes ->
keyed_window``) or sessions (``-> session_window``); :func:`stream_map_reduce`
builds one from user options.  Merging every tumbling window's results with
the reducer gives the batch job's result on the same input.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import Any

from toolkit.jobs.combining import combining, function_name
from toolkit.jobs.keyed import KeyedJob
from toolkit.stream.checkpoint import CheckpointStore
from toolkit.stream.counting import DEFAULT_WORKER_TIMEOUT
from toolkit.stream.nodes import keyed_window, session_window  # noqa: F401  (registers them)
from toolkit.stream.pipeline import WindowedStream, stream_client
from toolkit.stream.sources import Sources, SourceSpecs
from toolkit.units import parse_duration

__all__ = ["WindowedJob", "stream_map_reduce"]


class WindowedJob(WindowedStream):
    """A user's job over keyed windows (or per-key sessions) of a live source.

    Parameters
    ----------
    source, windowing
        As for :class:`~toolkit.stream.pipeline.WindowedStream`; the
        windowing's records are the job's.
    job
        The mapper, how values combine, the records and the bad-record policy.
    top
        Keys per window result, by value (0: all; numeric values only).
    **options
        As for :class:`~toolkit.stream.pipeline.WindowedStream`.

    Attributes
    ----------
    results : streamz.Stream
        :class:`~toolkit.stream.messages.KeyedWindowResult` per window, or
        :class:`~toolkit.stream.messages.SessionResult` per closed session.
    """

    def __init__(
        self, source: Sources, windowing: Any, *, job: KeyedJob, top: int = 0, **options: Any
    ) -> None:
        self.job = job
        describe = {
            "mapper": function_name(job.mapper),
            "combine": job.combine.name,
            "records": job.records,
            "bad_records": job.bad_records,
            "top": top,
        }
        plan = windowing.kind.for_job(windowing, job, top)
        super().__init__(
            source,
            windowing,
            worker_job=plan.worker,
            describe_job=describe,
            window_node=plan.node,
            **options,
        )


def stream_map_reduce(
    source: SourceSpecs,
    mapper: Callable[[Any], Iterable[tuple[Hashable, Any]]],
    reducer: Any,
    *,
    records: str = "lines",
    count: int | None = None,
    window: float | str | None = None,
    every: int | float | str | None = None,
    session: float | str | None = None,
    event_time: str | None = None,
    lateness: float | str | None = None,
    idle_timeout: float | str | None = None,
    bad_records: str = "report",
    top: int = 0,
    scheduler: Any = None,
    follow: bool = False,
    max_in_flight: int = 4,
    worker_timeout: float = DEFAULT_WORKER_TIMEOUT,
    checkpoint: str | CheckpointStore | None = None,
    checkpoint_interval: float = 5.0,
    drain: bool | None = None,
    emit_every: float | str | None = None,
) -> WindowedJob:
    """Build a user's MapReduce job over windows of a live source; call ``.run()`` to start it.

    Parameters
    ----------
    source
        As for :func:`~toolkit.stream.wordcount.stream_word_count`.
    mapper, reducer
        As for :func:`toolkit.map_reduce`: ``mapper(record)`` gives ``(key,
        value)`` pairs, ``reducer(a, b)`` folds two values of a key (or a
        combiner object: ``zero/fold/merge/finish``).
    records
        ``"lines"``, ``"jsonl"`` or ``"csv"`` (the stream's first line is the header).
    count, window, every
        Count windows of ``count`` records, or time windows of ``window``,
        sliding by ``every``; keyed by the mapper's key.
    session
        Instead: per-key sessions, closed after this gap without an event of the key.
    event_time, lateness, idle_timeout
        Window (or sessionise) by this field of each record, waiting ``lateness``
        for late events; without, by arrival time.  After ``idle_timeout``
        without records, the watermark moves on with the wall clock.
    bad_records
        ``"report"`` (count bad records, write their lines to a bad output) or ``"strict"``.
    top
        Keys per window result, by value descending (0: all).
    scheduler, follow, max_in_flight, worker_timeout, checkpoint, checkpoint_interval, drain
        As for :func:`~toolkit.stream.wordcount.stream_word_count`.
    emit_every
        Also emit each open window's (or session's) result so far this often, marked
        ``"final": false`` (closing results are then ``"final": true``).

    Returns
    -------
    WindowedJob

    Examples
    --------
    Requests per status code, in tumbling windows of 3 records:

    >>> import json, pathlib, tempfile
    >>> log = pathlib.Path(tempfile.mkdtemp()) / "access.jsonl"
    >>> codes = [200, 404, 200, 200, 500, 200]
    >>> _ = log.write_text("".join(json.dumps({"status": c}) + "\\n" for c in codes))
    >>> def status(record):
    ...     yield record["status"], 1
    >>> job = stream_map_reduce(str(log), status, lambda a, b: a + b, records="jsonl", count=3)
    >>> results = job.results.sink_to_list()
    >>> _ = job.run()
    >>> [r.to_dict()["results"] for r in results]
    [[[200, 2], [404, 1]], [[200, 2], [500, 1]]]
    """
    from toolkit.batch.engine import check_callable
    from toolkit.stream.kinds import make_windowing
    from toolkit.stream.sources import parse_sources

    check_callable(mapper, "mapper")
    job = KeyedJob(mapper, combining(reducer), records, bad_records)
    windowing = make_windowing(
        count=count,
        window=window,
        every=every,
        session=session,
        event_time=event_time,
        text_field=None,
        lateness=lateness,
        idle_timeout=idle_timeout,
        records=records,
    )
    src = parse_sources(source, follow=follow)
    client, connection = stream_client(scheduler)
    return WindowedJob(
        src,
        windowing,
        job=job,
        top=top,
        client=client,
        connection=connection,
        max_in_flight=max_in_flight,
        worker_timeout=worker_timeout,
        checkpoint=checkpoint,
        checkpoint_interval=checkpoint_interval,
        drain=drain,
        emit_every=None if emit_every is None else parse_duration(emit_every),
    )
