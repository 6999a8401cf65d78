"""``stream_word_count``: a windowed word count built from user options; results as a DataFrame."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from toolkit.cluster import LOCAL_SCHEDULERS, client_of, connect
from toolkit.stream.checkpoint import CheckpointStore
from toolkit.stream.counting import DEFAULT_WORKER_TIMEOUT, CountJob
from toolkit.stream.messages import WindowResult
from toolkit.stream.pipeline import WindowedWordCount
from toolkit.stream.sources import Source

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["stream_word_count", "to_frame"]


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
        The windows, as for ``toolkit stream``
        (see :func:`~toolkit.stream.windowing.make_windowing`).
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
    from toolkit.stream.sources import parse_source
    from toolkit.stream.windowing import make_windowing
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
