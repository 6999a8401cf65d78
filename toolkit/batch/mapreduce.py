"""User MapReduce jobs: any ``mapper(record) -> (key, value) pairs`` and ``reducer(a, b)``."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from toolkit.batch.engine import check_callable
from toolkit.batch.inputs import (
    DEFAULT_BLOCKSIZE,
    Inputs,
)
from toolkit.batch.job import Job
from toolkit.batch.plan import plan_job, run_planned
from toolkit.cluster import Scheduler
from toolkit.errors import ConfigError, JobError
from toolkit.lines import lines_of

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["RECORD_FORMATS", "map_reduce"]

RECORD_FORMATS = ("lines", "jsonl")


def _json_records(text: str) -> Iterator[Any]:
    for line in lines_of(text):
        if line.strip():
            try:
                yield json.loads(line)
            except ValueError as exc:
                raise JobError(f"invalid JSON record {line[:80]!r}: {exc}") from None


def _name(func: Callable[..., Any]) -> str:
    return f"{getattr(func, '__module__', '?')}.{getattr(func, '__qualname__', repr(func))}"


@dataclass(frozen=True)
class UserJob(Job):
    """A user's mapper and reducer as an engine job (see :class:`toolkit.batch.job.Job`)."""

    mapper: Callable[[Any], Iterable[tuple[Hashable, Any]]]
    reducer: Callable[[Any, Any], Any]
    records: str = "lines"
    name: str = "mapreduce"

    def empty(self) -> dict[Hashable, Any]:
        return {}

    def consume(self, acc: dict[Hashable, Any], text: str) -> None:
        mapper, reducer = self.mapper, self.reducer
        records = _json_records(text) if self.records == "jsonl" else lines_of(text)
        record: Any = None
        try:
            for record in records:
                for key, value in mapper(record):
                    acc[key] = reducer(acc[key], value) if key in acc else value
        except JobError:
            raise
        except Exception as exc:
            raise JobError(self._explain(exc, record)) from None

    def _explain(self, exc: Exception, record: Any) -> str:
        """Say whose code failed: the mapper, the reducer, or the (key, value) contract."""
        tb = exc.__traceback__
        culprit = None
        while tb is not None:
            code = tb.tb_frame.f_code
            if code is getattr(self.mapper, "__code__", None):
                culprit = f"mapper {_name(self.mapper)}"
            elif code is getattr(self.reducer, "__code__", None):
                culprit = f"reducer {_name(self.reducer)}"
            tb = tb.tb_next
        what = f"{type(exc).__name__}: {exc}"
        shown = repr(record)[:80]
        if culprit is None:
            return (
                f"mapper {_name(self.mapper)} must return an iterable of (key, value) pairs "
                f"with hashable keys; on record {shown} it gave: {what}"
            )
        return f"{culprit} failed on record {shown}: {what}"

    def merge(self, acc: dict[Hashable, Any], other: dict[Hashable, Any]) -> dict[Hashable, Any]:
        reducer = self.reducer
        try:
            for key, value in other.items():
                acc[key] = reducer(acc[key], value) if key in acc else value
        except Exception as exc:
            raise JobError(
                f"reducer {_name(reducer)} failed while merging key {key!r}: "
                f"{type(exc).__name__}: {exc}"
            ) from None
        return acc

    def finish(self, acc: dict[Hashable, Any]) -> dict[Hashable, Any]:
        return acc


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
    reducer: Callable[[Any, Any], Any],
    *,
    records: str = "lines",
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
    - Both are pickled (with cloudpickle) to the workers: module-level functions,
      lambdas and closures over picklable values all work; a function defined in
      a ``.py`` file must be importable on the workers or loaded with
      :func:`toolkit.load_function`, which ships it by value.

    Parameters
    ----------
    inputs, blocksize, encoding, errors, scheduler, split_every, progress, storage_options
        As for :func:`toolkit.word_count`.
    mapper, reducer
        The user's functions.
    records
        ``"lines"`` (default) or ``"jsonl"``.
    split_out
        Merge the final result in this many hash buckets (for millions of keys).
    journal
        Commit each block's partial here and reuse it on a re-run (see
        :func:`toolkit.word_count`).

    Returns
    -------
    pandas.Series
        Value per key (index ``key``), sorted by key (by type and repr when keys
        of different types do not compare); ``.attrs["stats"]`` holds the
        :class:`~toolkit.batch.inputs.InputStats` of what was read.

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
    check_callable(reducer, "reducer")
    if records not in RECORD_FORMATS:
        raise ConfigError(f"records must be one of {', '.join(RECORD_FORMATS)}; got {records!r}")
    plan = plan_job(
        inputs,
        blocksize=blocksize,
        encoding=encoding,
        errors=errors,
        skip_bad_files=skip_bad_files,
        storage_options=storage_options,
    )
    buckets, stats = run_planned(
        UserJob(mapper, reducer, records),
        plan,
        scheduler=scheduler,
        split_out=split_out,
        split_every=split_every,
        progress=progress,
        journal=journal,
    )
    merged: dict[Hashable, Any] = {}
    for bucket in buckets:  # buckets hold disjoint keys
        merged.update(bucket)
    result = _sorted_series(merged)
    result.attrs["stats"] = stats  # files, bytes, lines, bad and skipped inputs
    return result
