"""User MapReduce jobs: any ``mapper(record) -> (key, value) pairs`` and ``reducer(a, b)``."""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import fsspec

from toolkit.batch.engine import check_callable
from toolkit.batch.inputs import Block, Inputs, first_line
from toolkit.batch.job import Job, stable_hash
from toolkit.batch.plan import plan_job, run_planned
from toolkit.cluster import Scheduler
from toolkit.errors import InputError
from toolkit.failures import DEFAULT_WORKER_TIMEOUT
from toolkit.jobs.combining import combining
from toolkit.jobs.frames import check_frames
from toolkit.jobs.keyed import KeyedJob, KeyedState
from toolkit.jobs.records import RECORD_FORMATS as LINE_FORMATS
from toolkit.jobs.records import check_policy, check_records, parse_header
from toolkit.lines import lines_of

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["RECORD_FORMATS", "map_reduce"]

#: Bytes per map task of a user job: a record costs a Python call or two, so smaller tasks than a
#: word count's (32 MiB) keep every worker busy; 16 MiB was fastest on 100 MB over 2 workers
#: (0.58 s against 0.72 s at 32 MiB and 0.65 s at 8 MiB; see benchmarks/README.md).
USER_JOB_BLOCKSIZE = 16 * 2**20

#: What a mapper of a batch job can receive: a line, a JSON value, a CSV row, a Parquet row.
RECORD_FORMATS = (*LINE_FORMATS, "parquet")


@dataclass(frozen=True)
class UserJob(Job):
    """A user's mapper and reducer (or combiner) as an engine job (see :class:`~.job.Job`).

    The accumulator is a :class:`~toolkit.jobs.KeyedState`: an accumulator per
    key, the records folded and the bad records, as a stream's panes keep them.
    """

    mapper: Callable[[Any], Iterable[tuple[Hashable, Any]]]
    reducer: Any  # a reducer function, or a combiner object
    records: str = "lines"
    bad_records: str = "report"
    header: tuple[str, ...] | None = None  # csv: the header of the file being read
    skip_header: bool = False  # csv: this block starts with the header line
    frames: str | None = None  # the mapper takes a chunk's records as a DataFrame of this kind
    name: str = "mapreduce"

    @property
    def reads_files(self) -> bool:  # type: ignore[override]
        return self.records == "parquet"

    @property
    def reads_bytes(self) -> bool:  # type: ignore[override]
        return self.records == "jsonl"  # JSON parses from UTF-8 bytes: no decoding first

    def consume_bytes(self, acc: KeyedState, data: bytes | memoryview) -> int:
        return self.keyed().fold_bytes(acc, data)

    def keyed(self) -> KeyedJob:
        """The keyed fold of this job (shared with streams)."""
        records = "jsonl" if self.records == "parquet" else self.records  # rows are parsed
        return KeyedJob(
            self.mapper, combining(self.reducer), records, self.bad_records, self.frames
        )

    def consume_file(self, acc: KeyedState, block: Block) -> tuple[int, int]:
        """Fold a Parquet file's rows (as dicts, or as frames) in batches of 64k rows."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        keyed, rows = self.keyed(), 0
        file = block.file
        try:
            opened = (
                fsspec.open(file.path, "rb", **dict(file.storage_options))
                if block.data is None
                else contextlib.nullcontext(pa.BufferReader(block.data))  # uploaded
            )
            with opened as f:
                for batch in pq.ParquetFile(f).iter_batches(batch_size=65536):
                    keyed.fold_table(acc, pa.Table.from_batches([batch]))
                    rows += batch.num_rows
        except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
            raise InputError(f"{file.path}: cannot read as Parquet: {exc}") from None
        return file.size, rows

    def empty(self) -> KeyedState:
        return KeyedState()

    def for_block(self, block: Block, encoding: str) -> Job:
        if self.records != "csv":
            return self
        header = parse_header(first_line(block.file, encoding=encoding))
        return replace(self, header=header, skip_header=block.offset == 0)

    def consume(self, acc: KeyedState, text: str) -> None:
        lines: Iterable[str] = lines_of(text)
        if self.skip_header:  # only the first chunk of the file's first block holds it
            object.__setattr__(self, "skip_header", False)
            lines = itertools.islice(lines, 1, None)
        self.keyed().fold(acc, lines, self.header)

    def merge(self, acc: KeyedState, other: KeyedState) -> KeyedState:
        return self.keyed().merge(acc, other)

    def split(self, acc: Any, n: int) -> list[Any]:
        buckets = [KeyedState() for _ in range(n)]
        for key, value in acc.items():
            buckets[stable_hash(key) % n][key] = value
        buckets[0].records = getattr(acc, "records", 0)  # the figures go with bucket 0
        buckets[0].bad = getattr(acc, "bad", buckets[0].bad)
        return buckets

    def finish(self, acc: KeyedState) -> KeyedState:
        done = KeyedState()
        done.update(self.keyed().finish(acc))
        done.records, done.bad = acc.records, acc.bad
        return done


def _sorted_series(items: dict[Hashable, Any]) -> pd.Series:
    import pandas as pd  # only where a Series is made: workers of other jobs never load it

    keys: list[Any] = list(items)
    try:
        keys.sort()
    except TypeError:  # keys of mixed types: a stable order all the same
        keys.sort(key=lambda k: (type(k).__name__, repr(k)))
    index = pd.Index(keys, tupleize_cols=False, name="key")
    return pd.Series([items[k] for k in keys], index=index, name="value")


def map_reduce(
    inputs: Inputs,
    mapper: Callable[[Any], Iterable[tuple[Hashable, Any]]],
    reducer: Any,
    *,
    records: str = "lines",
    bad_records: str = "report",
    frames: str | None = None,
    blocksize: int | str = USER_JOB_BLOCKSIZE,
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
) -> pd.Series:
    """Run a MapReduce job: map every record to (key, value) pairs, fold each key's values.

    The contract, as in Hadoop and ``dask.bag.Bag.foldby``:

    - ``mapper(record)`` returns an iterable of ``(key, value)`` pairs (it may be
      a generator); keys are hashable; records are lines (without the newline)
      or, with ``records="jsonl"``, parsed JSON values.
    - ``reducer(a, b)`` returns a value of the same kind; it must be associative
      and commutative, because values fold per block first, then across blocks
      in an order that depends on the cluster.  A key's value is its single
      value when it occurs once (the reducer is never called with an initial value).
    - Or ``reducer`` is a combiner: an object (or a class, made with no
      arguments) with ``zero()``, ``fold(acc, value)``, ``merge(a, b)`` and
      ``finish(acc)``, for results a reducer cannot fold, such as a mean
      (see :mod:`toolkit.jobs.combining`).
    - Both are pickled (with cloudpickle) to the workers: module-level functions,
      lambdas and closures over picklable values all work; a function defined in
      a ``.py`` file must be importable on the workers or loaded with
      :func:`toolkit.load_function`, which ships it by value.

    Parameters
    ----------
    inputs, blocksize, encoding, errors, scheduler, split_every, progress, storage_options
        As for :func:`toolkit.word_count` (``blocksize``: 16 MiB by default).
    mapper, reducer
        The user's functions (``reducer``: or a combiner).
    records
        What the mapper receives: ``"lines"`` (default); ``"jsonl"``, a JSON value
        per line; ``"csv"``, a dict of strings per row, by each file's header line;
        ``"parquet"``, a dict per row of Parquet files (a task per file).
    bad_records
        A record that does not parse, or on which the mapper raises:
        ``"report"`` (default) counts it and keeps its line in
        ``.attrs["bad_records"]``; ``"strict"`` raises :class:`JobError`.
    frames
        ``"pandas"`` or ``"polars"``: the mapper is a *frame mapper*, called once
        per chunk (a few MiB) with the chunk's records as the rows of a DataFrame
        of that kind, a column per field (``records="lines"``: one column,
        ``line``); its pairs fold with the reducer as a record mapper's do, so it
        may pre-combine them (``frame.groupby("status")["bytes"].sum().items()``).
        A record that is not an object is a bad record; a frame mapper that
        raises is a :class:`JobError` (which record is unknown).  Column types
        are Arrow's (see :mod:`toolkit.jobs.frames`).
    split_out
        Merge the final result in this many hash buckets (for millions of keys).
    journal
        Commit each block's partial here and reuse it on a re-run (see
        :func:`toolkit.word_count`).
    upload, worker_timeout
        Send the client's input to the workers; how long to wait while the
        cluster has no worker at all (see :func:`toolkit.word_count`).

    Returns
    -------
    pandas.Series
        Value per key (index ``key``), sorted by key (by type and repr when keys
        of different types do not compare); ``.attrs["stats"]`` holds the
        :class:`~toolkit.batch.inputs.InputStats` of what was read,
        ``.attrs["records"]`` the records mapped and ``.attrs["bad_records"]``
        the :class:`~toolkit.jobs.BadRecords`.

    Raises
    ------
    ConfigError
        Arguments that cannot work, found before any task runs.
    JobError
        The mapper or reducer raised; the message names the file and record.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "log.txt"
    >>> _ = path.write_text("GET /a\\nPOST /b\\nGET /c\\n")
    >>> def method(line):
    ...     yield line.split()[0], 1
    >>> map_reduce(path, method, lambda a, b: a + b, scheduler="sync").to_dict()
    {'GET': 2, 'POST': 1}
    """
    check_callable(mapper, "mapper")
    combining(reducer)  # a function, or a combiner object: anything else fails now
    check_records(records, RECORD_FORMATS)
    check_policy(bad_records)
    check_frames(frames)
    plan = plan_job(
        inputs,
        blocksize=blocksize,
        encoding=encoding,
        errors=errors,
        skip_bad_files=skip_bad_files,
        storage_options=storage_options,
        whole_files=records == "parquet",
    )
    buckets, stats = run_planned(
        UserJob(mapper, reducer, records, bad_records, frames=frames),
        plan,
        scheduler=scheduler,
        split_out=split_out,
        split_every=split_every,
        progress=progress,
        journal=journal,
        upload=upload,
        worker_timeout=worker_timeout,
    )
    merged: dict[Hashable, Any] = {}
    summary = KeyedState()
    for bucket in buckets:  # buckets hold disjoint keys
        merged.update(bucket)
        summary.records += bucket.records
        summary.bad.extend(bucket.bad)
    result = _sorted_series(merged)
    result.attrs["stats"] = stats  # files, bytes, lines, bad and skipped inputs
    result.attrs["records"] = summary.records
    result.attrs["bad_records"] = summary.bad
    return result
