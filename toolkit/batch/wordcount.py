"""Word count: the canonical MapReduce job, with counts per block and merges of word tables."""

from __future__ import annotations

import functools
import html
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pyarrow as pa

from toolkit.batch.inputs import (
    DEFAULT_BLOCKSIZE,
    InputFile,
    Inputs,
    InputStats,
)
from toolkit.batch.job import Job
from toolkit.batch.plan import plan_job, run_planned
from toolkit.cluster import Scheduler
from toolkit.errors import ConfigError
from toolkit.failures import DEFAULT_WORKER_TIMEOUT
from toolkit.ranking import arrow_ints, top_arrays
from toolkit.stopwords import load_stopwords
from toolkit.text import get_tokenizer

if TYPE_CHECKING:
    import pandas as pd

    from toolkit.wordtable import WordTable

__all__ = [
    "SHORT_INPUT_PER_CORE",
    "SMALL_INPUT",
    "WordCountJob",
    "WordCounts",
    "counts_frame",
    "in_process",
    "is_small",
    "top_arrays",
    "word_count",
]


#: Inputs up to this many bytes (uncompressed) are counted by the reference tokenizers in
#: Python (:mod:`toolkit.wordcounter`): a millisecond for a line, at most about 0.1 s, where
#: loading the compiled kernel takes about a second in each process that has not loaded it.
SMALL_INPUT = 64 * 2**10


def is_small(files: Iterable[InputFile]) -> bool:
    """Whether a word count of ``files`` is small: uncompressed, :data:`SMALL_INPUT` bytes or less.

    Examples
    --------
    >>> from toolkit.batch.inputs import InputFile
    >>> is_small([InputFile("/a.txt", 10, None)]), is_small([InputFile("/a.gz", 10, "gzip")])
    (True, False)
    """
    unique = {f.path: f for f in files}.values()
    return all(f.compression is None for f in unique) and sum(f.size for f in unique) <= SMALL_INPUT


#: A word count of at most this many input bytes per core (compressed files count
#: :data:`COMPRESSION_RATIO` times their size) is a job of seconds: with nothing asking for a
#: cluster, the command counts it on threads in its own process (dask's threaded scheduler,
#: the same graph), since a cluster's start (0.7-0.8 s) and a dashboard there is no time to
#: open would cost more than they give.
SHORT_INPUT_PER_CORE = 2**30
COMPRESSION_RATIO = 4  # text compresses 3-5x, and decompressing is slower than counting


def in_process(files: Iterable[InputFile], cores: int | None = None) -> str | None:
    """Where a word count of ``files`` runs when nothing asks for a cluster.

    ``"sync"`` for a small input (:func:`is_small`: no compiled code, one thread),
    ``"threads"`` for a short one (at most :data:`SHORT_INPUT_PER_CORE` bytes a core),
    else None: start the embedded cluster.

    Examples
    --------
    >>> from toolkit.batch.inputs import InputFile
    >>> in_process([InputFile("/a.txt", 10, None)])
    'sync'
    >>> in_process([InputFile("/a.txt", 2**30, None)], cores=2)
    'threads'
    >>> in_process([InputFile("/a.gz", 2**30, "gzip")], cores=2) is None
    True
    """
    unique = list({f.path: f for f in files}.values())
    if is_small(unique):
        return "sync"
    if cores is None:
        from dask.system import CPU_COUNT  # the threads of dask's threaded scheduler

        cores = CPU_COUNT
    work = sum(f.size * (1 if f.compression is None else COMPRESSION_RATIO) for f in unique)
    return "threads" if work <= SHORT_INPUT_PER_CORE * cores else None


@dataclass(frozen=True)
class Bucket:
    """One output bucket of a word count: its (top) words and counts, and its totals.

    Arrays, not Python objects per word: a bucket of millions of words moves
    to the client as a few buffers.
    """

    words: pa.Array  # large_string
    counts: np.ndarray  # int64, one per word
    total: int
    distinct: int


@dataclass(frozen=True)
class WordCountJob(Job):
    """The word-count job for the engine (see :class:`toolkit.batch.job.Job`).

    Blocks are counted into :class:`~toolkit.wordtable.WordTable` partials
    straight from their UTF-8 bytes; the tables merge in the tree, and each
    bucket's last task turns its table into arrays (pyarrow words, numpy counts).
    A ``small`` job (an input of at most :data:`SMALL_INPUT` bytes) counts into
    :class:`~toolkit.wordcounter.WordCounter` partials instead, which need no
    compiled code.
    """

    tokenizer: str = "words"
    lowercase: bool = True
    min_length: int = 1
    stopwords: frozenset[str] | None = None
    keep: int | None = None  # words a bucket sends back: None for all
    name: str = "wordcount"
    splits_long_lines: bool = True  # a cut at whitespace changes no count
    small: bool = False  # partials are WordCounters: no compiled code to load
    reads_bytes: ClassVar[bool] = True

    def empty(self) -> WordTable:
        if self.small:
            from toolkit.wordcounter import WordCounter

            return WordCounter(self.tokenizer, self.lowercase)  # type: ignore[return-value]
        from toolkit.wordtable import WordTable  # the kernels: loaded on the workers only

        return WordTable(self.tokenizer, self.lowercase, capacity=1 << 14)

    def consume(self, acc: WordTable, text: str) -> None:
        acc.add_text(text)

    def consume_bytes(self, acc: WordTable, data: bytes | memoryview) -> int:
        return acc.add_bytes(data)

    def merge(self, acc: WordTable, other: WordTable) -> WordTable:
        return acc.merge(other)

    def split(self, acc: WordTable, n: int) -> list[WordTable]:
        return acc.split(n)

    def seal(self, acc: WordTable) -> WordTable:
        return acc.compact()

    def finish(self, acc: WordTable) -> Bucket:
        words, counts = acc.filter(self.min_length, self.stopwords).to_arrow()
        total, distinct = int(counts.sum()), len(counts)
        if self.keep:
            words, counts = top_arrays(words, counts, self.keep)
        return Bucket(words, counts, total=total, distinct=distinct)


def counts_frame(items: Iterable[tuple[str, int]]) -> pd.Series:
    """Counts as a Series (index ``word``, name ``count``), by count descending then word.

    Examples
    --------
    >>> counts_frame([("b", 2), ("c", 5), ("a", 2)]).to_dict()
    {'c': 5, 'a': 2, 'b': 2}
    """
    pairs = list(items)
    words = pa.array([w for w, _ in pairs], type=pa.large_string())
    return _series(*top_arrays(words, np.array([c for _, c in pairs], dtype=np.int64), None))


def _series(words: pa.Array, counts: np.ndarray) -> pd.Series:
    """A counts Series from arrays already in order."""
    import pandas as pd  # loaded when a Series is asked for: workers and the CLI do without

    index = pd.Index(words.to_pandas(), name="word", dtype="str")
    return pd.Series(counts, index=index, name="count", dtype="int64")


class WordCounts:
    """The result of :func:`word_count`.

    Attributes
    ----------
    counts : pandas.Series
        Count per word (index ``word``), by count descending then word
        ascending; only the top ones when ``top`` was given.  Made on first
        use from the Arrow arrays the cluster returned (see :meth:`to_arrow`).
    total_words : int
        Words counted (after ``min_length`` and stopwords), in all the input.
    distinct_words : int
        Distinct words, in all the input.
    stats : InputStats
        Files, bytes and lines read; undecodable sequences replaced or ignored.
    """

    def __init__(
        self,
        words: pa.Array,
        counts: np.ndarray,
        *,
        total_words: int,
        distinct_words: int,
        stats: InputStats,
    ) -> None:
        self._words, self._counts = words, counts  # ranked: count descending, then word
        self.total_words = total_words
        self.distinct_words = distinct_words
        self.stats = stats

    @functools.cached_property
    def counts(self) -> pd.Series:
        return _series(self._words, self._counts)

    def to_arrow(self) -> pa.Table:
        """The counts as an Arrow table (columns ``word``, ``count``), ranked as ``counts``.

        No Python object per word: hand it to Parquet, Polars or DuckDB as it is.
        """
        return pa.table({"word": self._words, "count": arrow_ints(self._counts)})

    def most_common(self, n: int | None = None) -> list[tuple[str, int]]:
        """The ``n`` most frequent words (all if ``n`` is None) and their counts, ranked.

        Examples
        --------
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
        >>> _ = path.write_text("b a b c b a")
        >>> word_count(path, scheduler="sync").most_common(2)
        [('b', 3), ('a', 2)]
        """
        stop = len(self._counts) if n is None else max(0, n)
        return list(zip(self._words[:stop].to_pylist(), self._counts[:stop].tolist(), strict=True))

    def top(self, n: int = 20) -> pd.DataFrame:
        """The ``n`` most frequent words as a DataFrame with columns ``word`` and ``count``."""
        n = max(0, n)
        return _series(self._words[:n], self._counts[:n]).reset_index()

    def to_frame(self) -> pd.DataFrame:
        """All counts as a DataFrame with columns ``word`` and ``count``."""
        return self.counts.reset_index()

    def __getitem__(self, word: str) -> int:
        return int(self.counts.get(word, 0))

    def __len__(self) -> int:
        return len(self._counts)

    def __repr__(self) -> str:
        head = ", ".join(f"{w!r}: {c}" for w, c in self.most_common(5))
        return (
            f"WordCounts(total_words={self.total_words}, distinct_words={self.distinct_words}, "
            f"top={{{head}{', ...' if len(self) > 5 else ''}}})"
        )

    def _repr_html_(self) -> str:
        table = self.top(20).to_html(index=False)
        return (
            f"<p><b>{self.total_words:,}</b> words, <b>{self.distinct_words:,}</b> distinct, "
            f"from {self.stats.files:,} files ({self.stats.bytes:,} bytes, "
            f"{self.stats.lines:,} lines)</p>{table}"
            + ("" if len(self) <= 20 else f"<p>{html.escape('…')} top 20 shown</p>")
        )


def word_count(
    inputs: Inputs,
    *,
    tokenizer: str = "words",
    lowercase: bool | None = None,
    min_length: int = 1,
    stopwords: str | os.PathLike[str] | Iterable[str] | None = None,
    top: int | None = None,
    blocksize: int | str = DEFAULT_BLOCKSIZE,
    encoding: str = "utf-8",
    errors: str = "strict",
    scheduler: Scheduler = None,
    split_out: int = 1,
    split_every: int = 8,
    progress: bool = False,
    storage_options: dict[str, Any] | None = None,
    journal: str | os.PathLike[str] | None = None,
    skip_bad_files: bool = False,
    upload: bool = False,
    worker_timeout: float = DEFAULT_WORKER_TIMEOUT,
) -> WordCounts:
    """Count words in text files as a MapReduce job on Dask.

    Each block of input is tokenized and counted on a worker into one word
    table (:class:`~toolkit.wordtable.WordTable`); the tables merge in a tree.
    The result is exact whatever the cluster.

    Parameters
    ----------
    inputs
        Files, directories, globs or fsspec URLs (``.gz``, ``.bz2``, ``.xz``,
        ``.zst`` are decompressed).
    tokenizer
        ``"words"`` (Unicode words; default) or ``"whitespace"`` (``str.split()``).
    lowercase
        Lowercase before splitting; default: the tokenizer's own (``words`` yes,
        ``whitespace`` no).
    min_length
        Drop words shorter than this many characters.
    stopwords
        ``"english"``, a file of words, or an iterable of words to drop.
    top
        Keep only the ``top`` most frequent words in ``counts`` (totals still
        cover all words); ``None`` or 0 keeps all.
    blocksize
        Bytes per map task for uncompressed files (e.g. ``"64MiB"``).
    encoding, errors
        How bytes become text; ``errors`` is ``strict`` (a decode error names
        the file and byte offset), ``replace`` or ``ignore`` (both counted in
        ``stats``).
    scheduler
        A :class:`~toolkit.Connection`, a ``distributed.Client``, an address,
        ``"sync"`` or ``"threads"``; None uses the default client, dask's
        configured scheduler, or an embedded cluster started for this call.
    split_out
        Output buckets: with many millions of distinct words, split the final
        merge over this many tasks (each bucket holds the words whose stable
        hash falls in it) instead of merging everything in one task.
    split_every
        Fan-in of the merge tree.
    progress
        Show a progress bar on stderr.
    storage_options
        fsspec options for URLs.
    skip_bad_files
        An unreadable or corrupt file (a truncated ``.gz``, say) is skipped and
        listed in ``stats.skipped`` with the reason, instead of failing the job;
        none of its counts are kept.  Decode errors follow ``errors``.
    journal
        A directory in which each block's partial counts are committed as
        they finish; a re-run with the same journal (after a crash, on any
        scheduler) reuses them and only reads the other blocks.  It is
        removed when the job finishes.  See :mod:`toolkit.batch.journal`.
    upload
        The client reads the input and sends it to the workers, a few blocks at
        a time: for a cluster whose workers do not see the client's files (no
        shared filesystem).  Without it, paths the workers lack fail before any
        task runs.  See :mod:`toolkit.batch.upload`.
    worker_timeout
        Seconds the job waits while its cluster has no worker at all (all died
        or left) before it stops with :class:`~toolkit.errors.ClusterError`.

    Returns
    -------
    WordCounts

    Raises
    ------
    ConfigError, InputError, DecodeError, ClusterError

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> _ = path.write_text("The cat and the hat.\\nThe end\\n")
    >>> result = word_count(path, scheduler="sync")
    >>> result.counts.head(2).to_dict(), result.total_words
    ({'the': 3, 'and': 1}, 7)
    """
    tok = get_tokenizer(tokenizer)
    lower = tok.lowercase if lowercase is None else bool(lowercase)
    if isinstance(min_length, bool) or not isinstance(min_length, int) or min_length < 1:
        raise ConfigError(f"min_length must be a positive int; got {min_length!r}")
    if top is not None and (isinstance(top, bool) or not isinstance(top, int) or top < 0):
        raise ConfigError(f"top must be a non-negative int (0 for all); got {top!r}")
    stops = load_stopwords(stopwords, lowercase=lower)
    plan = plan_job(
        inputs,
        blocksize=blocksize,
        encoding=encoding,
        errors=errors,
        skip_bad_files=skip_bad_files,
        storage_options=storage_options,
    )
    small = is_small(block.file for task in plan.tasks for block in task)
    job = WordCountJob(tok.name, lower, min_length, stops, keep=top or None, small=small)
    buckets, stats = run_planned(
        job,
        plan,
        scheduler=scheduler,
        split_out=split_out,
        split_every=split_every,
        progress=progress,
        journal=journal,
        upload=upload,
        worker_timeout=worker_timeout,
    )
    words = pa.concat_arrays([b.words for b in buckets])
    counts = np.concatenate([b.counts for b in buckets])
    words, counts = top_arrays(words, counts, top or None)
    return WordCounts(
        words,
        counts,
        total_words=sum(b.total for b in buckets),
        distinct_words=sum(b.distinct for b in buckets),
        stats=stats,
    )
