"""Word counts over windows of a stream: the pipeline, built from options; results as a frame."""

from __future__ import annotations

from typing import Any

from toolkit.stream.checkpoint import CheckpointStore
from toolkit.stream.counting import DEFAULT_WORKER_TIMEOUT, CountJob
from toolkit.stream.messages import to_frame
from toolkit.stream.pipeline import WindowedStream, stream_client
from toolkit.stream.sources import Sources, SourceSpecs
from toolkit.units import parse_duration

__all__ = ["WindowedWordCount", "stream_word_count", "to_frame"]


class WindowedWordCount(WindowedStream):
    """A word count over windows (or sessions) of a live source, as a streamz pipeline.

    Parameters
    ----------
    source, windowing
        As for :class:`WindowedStream`.
    job
        How words are counted (tokenizer, case, filters).
    top
        Words per window result (0: all).
    **options
        As for :class:`WindowedStream`: ``client``, ``checkpoint``, ...

    Attributes
    ----------
    results : streamz.Stream
        The stream of :class:`~toolkit.stream.messages.WindowResult`; attach sinks to it.
    """

    def __init__(
        self,
        source: Sources,
        windowing: Any,
        *,
        job: CountJob | None = None,
        top: int = 10,
        **options: Any,
    ) -> None:
        job = job or CountJob()
        describe = {
            "tokenizer": job.tokenizer,
            "lowercase": job.lowercase,
            "min_length": job.min_length,
            "stopwords": sorted(job.stopwords or ()),
            "top": top,
        }
        plan = windowing.kind.for_words(windowing, job, top)
        super().__init__(
            source,
            windowing,
            worker_job=plan.worker,
            describe_job=describe,
            window_node=plan.node,
            **options,
        )


def stream_word_count(
    source: SourceSpecs,
    *,
    count: int | None = None,
    window: float | str | None = None,
    every: int | float | str | None = None,
    session: float | str | None = None,
    event_time: str | None = None,
    text_field: str = "text",
    lateness: float | str | None = None,
    idle_timeout: float | str | None = None,
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
    emit_every: float | str | None = None,
) -> WindowedWordCount:
    """Build a windowed word count over a live source; call ``.run()`` to start it.

    Parameters
    ----------
    source
        ``-``, a file, ``tcp://HOST:PORT``, ``http://HOST:PORT/PATH``, ``demo:?rate=N&lines=M``
        (or a :class:`~toolkit.stream.sources.Source`); or several, as the stream's inputs:
        a list (named ``0``, ``1``, ...) or a dict of names.  Their lines are counted
        together; in event time each input has its own watermark (see
        :class:`~toolkit.stream.pipeline.WindowedStream`).
    count, window, every, session, event_time, text_field, lateness, idle_timeout
        The windows, as for ``toolkit stream``
        (see :func:`~toolkit.stream.kinds.window_kind`); ``session``:
        sessions of the whole stream (bursts), closed after this gap.
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
    emit_every
        Also emit each open window's result so far this often (``"final": false``).

    Returns
    -------
    WindowedWordCount
        Its ``results`` is a streamz Stream of :class:`~toolkit.stream.messages.WindowResult`.

    Examples
    --------
    >>> wc = stream_word_count("demo:?rate=100000&lines=300", count=100, top=2)
    >>> results = wc.results.sink_to_list()
    >>> _ = wc.run()
    >>> [(r.start, r.end, r.lines) for r in results]
    [(0, 100, 100), (100, 200, 100), (200, 300, 100)]
    """
    from toolkit.stopwords import load_stopwords
    from toolkit.stream.kinds import make_windowing
    from toolkit.stream.sources import parse_sources
    from toolkit.text import get_tokenizer

    windowing = make_windowing(
        count=count,
        window=window,
        every=every,
        session=session,
        event_time=event_time,
        text_field=text_field,
        lateness=lateness,
        idle_timeout=idle_timeout,
    )
    src = parse_sources(source, follow=follow)
    lower = get_tokenizer(tokenizer).lowercase if lowercase is None else lowercase
    job = CountJob(tokenizer, lower, min_length, load_stopwords(stopwords, lowercase=lower))
    client, connection = stream_client(scheduler)
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
        emit_every=None if emit_every is None else parse_duration(emit_every),
    )
