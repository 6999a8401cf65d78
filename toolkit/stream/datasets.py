"""A stream's results as a Parquet dataset that a checkpoint can roll back: exactly once.

A :class:`ParquetDataset` is a directory of Parquet files, a row per (window,
word or key), or per session, with the window's bounds and totals.  Time
windows' rows go in Hive-style folders by the UTC date of the window's start
(``date=2026-12-01/``), so DuckDB, ``pyarrow.dataset`` and pandas read the
directory as one table with a ``date`` column.

Rows are buffered and written as files that *roll* by size or by wall time,
not at every checkpoint.  Each file is written to a hidden temporary name,
synced and renamed (readers skip names starting with ``.``), so a reader never
sees part of a file.  A checkpoint holds the names of the files written so far
and the rows still buffered; resuming from it removes every file of the
dataset it does not name (written after it, by the run that crashed) and puts
the buffered rows back, and the stream's replay writes the rest again: each
row lands once.  Without a checkpoint a stream starts the dataset afresh.

The first file fixes the columns' types (a value column of ints stays int64);
a later value that does not fit is an :class:`~toolkit.errors.OutputError`.
Only final results are written: an early result (``--emit-every``) would be a
second row for the same window and key.
"""

from __future__ import annotations

import base64
import os
import time
import uuid
from collections.abc import Callable
from typing import Any

import pyarrow as pa

from toolkit.atomic import atomic_output
from toolkit.errors import ConfigError, OutputError

__all__ = [
    "DEFAULT_ROLL_BYTES",
    "DEFAULT_ROLL_SECONDS",
    "ParquetDataset",
    "dataset_format",
]

#: A file rolls when its buffered rows come to about this many bytes ...
DEFAULT_ROLL_BYTES = 16 * 2**20
#: ... or this many seconds after its first row was buffered, whichever comes first.
DEFAULT_ROLL_SECONDS = 60.0

_FILE_PREFIX = "part-"


def dataset_format(path: str) -> str:
    """``parquet`` for a path that names a directory (it ends in ``/``, or is one), else ``jsonl``.

    Examples
    --------
    >>> dataset_format("windows/"), dataset_format("windows.jsonl")
    ('parquet', 'jsonl')
    """
    return "parquet" if path.endswith(("/", os.sep)) or os.path.isdir(path) else "jsonl"


class ParquetDataset:
    """A directory of Parquet files of a stream's results, rolled and checkpointed.

    Parameters
    ----------
    path
        The dataset's directory (made if missing).
    times
        Whether results' bounds are times (partitioned by date) or offsets (count windows).
    roll_bytes, roll_seconds
        A file rolls at about this many bytes of rows, or this long after its first row.
    clock
        Wall time in seconds (for the roll interval; injectable in tests).

    Examples
    --------
    >>> import tempfile, pyarrow.dataset as ds
    >>> from toolkit.stream.messages import WindowResult
    >>> out = ParquetDataset(tempfile.mkdtemp(), times=False)
    >>> out.write(WindowResult(0, 2, 2, 3, [("a", 2), ("b", 1)]))
    >>> state = out.sync(); out.close()
    >>> ds.dataset(out.path).to_table().column("word").to_pylist()
    ['a', 'b']
    """

    def __init__(
        self,
        path: str,
        *,
        times: bool,
        roll_bytes: int = DEFAULT_ROLL_BYTES,
        roll_seconds: float = DEFAULT_ROLL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if roll_bytes <= 0 or roll_seconds <= 0:
            raise ConfigError(
                f"roll size and interval must be positive; got {roll_bytes!r}, {roll_seconds!r}"
            )
        self.path = os.fspath(path)
        self.times = times
        self.roll_bytes, self.roll_seconds, self.clock = roll_bytes, roll_seconds, clock
        try:
            os.makedirs(self.path, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot make the dataset {self.path!r}: {exc.strerror}") from None
        self.run = uuid.uuid4().hex[:12]  # a new name for every run's files
        self.files: list[str] = []  # written, relative to path
        self.rows: list[dict[str, Any]] = []
        self.size = 0  # about the buffered rows' bytes
        self.since: float | None = None  # when the first buffered row came
        self.schema: pa.Schema | None = None

    # -- writing ---------------------------------------------------------------------------
    def write(self, result: Any) -> None:
        """Buffer a final result's rows; roll a file if the buffer is big or old enough."""
        if getattr(result, "final", None) is False:
            return  # an early result: the window's final one follows
        rows = result.rows(times=self.times)
        if rows and self.since is None:
            self.since = self.clock()
        self.rows += rows
        self.size += _row_bytes(rows)
        if self.size >= self.roll_bytes or (
            self.since is not None and self.clock() - self.since >= self.roll_seconds
        ):
            self.roll()

    def roll(self) -> None:
        """Write the buffered rows as files now (one per date folder)."""
        if not self.rows:
            return
        groups: dict[str, list[dict[str, Any]]] = {}
        for row in self.rows:
            folder = f"date={row['start'].date().isoformat()}" if self.times else ""
            groups.setdefault(folder, []).append(row)
        for folder, rows in groups.items():
            self._write_file(folder, self._table(rows))
        self.rows, self.size, self.since = [], 0, None

    def _table(self, rows: list[dict[str, Any]]) -> pa.Table:
        names = list(dict.fromkeys(n for row in rows for n in row))  # in the order they come
        columns = {n: [r.get(n) for r in rows] for n in names}
        if self.schema is None:
            try:
                table = pa.table({n: pa.array(v) for n, v in columns.items()})
            except (pa.ArrowException, TypeError, ValueError, OverflowError) as exc:
                raise OutputError(
                    f"{self.path}: cannot type a column of the results for Parquet ({exc}); "
                    "keys and values of one type each can be, or write JSON lines"
                ) from None
            self.schema = table.schema
            return table
        arrays = {}
        for field in self.schema:
            values = columns.get(field.name, [None] * len(rows))
            try:
                arrays[field.name] = pa.array(values, type=field.type)
            except (pa.ArrowException, TypeError, ValueError, OverflowError):
                bad = next((v for v in values if not _fits(v, field.type)), values[0])
                raise OutputError(
                    f"{self.path}: {field.name} {bad!r} ({type(bad).__name__}) does not fit the "
                    f"dataset's column {field.name} of type {field.type} (set by its first file)"
                ) from None
        return pa.table(arrays, schema=self.schema)

    def _write_file(self, folder: str, table: pa.Table) -> None:
        import pyarrow.parquet as pq

        name = f"{_FILE_PREFIX}{self.run}-{len(self.files):06d}.parquet"
        relative = os.path.join(folder, name) if folder else name
        target = os.path.join(self.path, relative)
        try:
            os.makedirs(os.path.dirname(target), exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot write {target!r}: {exc.strerror}") from None
        with atomic_output(target, "wb", durable=True) as f:
            pq.write_table(table, f)
        self.files.append(relative)

    # -- checkpoints -----------------------------------------------------------------------
    def sync(self) -> dict[str, Any]:
        """What a checkpoint keeps: the files written (durable by now) and the buffered rows."""
        from toolkit.stream.open_windows import pickled

        return {"files": list(self.files), "rows": pickled(self.rows), "schema": self._schema()}

    def _schema(self) -> str | None:
        if self.schema is None:
            return None
        return base64.b64encode(self.schema.serialize().to_pybytes()).decode("ascii")

    def restore(self, state: dict[str, Any] | None) -> None:
        """Go back to a checkpoint's ``state`` (None: an empty dataset).

        Every file of the dataset the checkpoint does not name is removed; a
        named file that is missing is an error (the dataset changed outside the stream).
        """
        from toolkit.stream.open_windows import unpickled

        if state is not None and not isinstance(state, dict):
            raise OutputError(
                f"the checkpoint's output was a JSON-lines file, not the dataset {self.path!r}: "
                "write the same output as the checkpointed run, or start over without it"
            )
        kept = set() if state is None else set(state["files"])
        found = set(self._existing())
        missing = sorted(kept - found)
        if missing:
            raise OutputError(
                f"{self.path} lacks {missing[0]}, written before the checkpoint: the dataset "
                "was changed outside the stream; restore it or start over without the checkpoint"
            )
        for relative in sorted(found - kept):
            try:
                os.unlink(os.path.join(self.path, relative))
            except OSError as exc:
                raise OutputError(f"cannot remove {relative!r}: {exc.strerror}") from None
        self.files = [] if state is None else list(state["files"])
        self.rows = [] if state is None else unpickled(state["rows"])
        self.size = _row_bytes(self.rows)
        self.since = self.clock() if self.rows else None
        self.schema = None
        if state is not None and state.get("schema"):
            self.schema = pa.ipc.read_schema(pa.py_buffer(base64.b64decode(state["schema"])))

    def _existing(self) -> list[str]:
        """The dataset's files (this class's names), relative to its directory."""
        out = []
        for folder, _dirs, names in os.walk(self.path):
            for name in names:
                if name.startswith(_FILE_PREFIX) and name.endswith(".parquet"):
                    out.append(os.path.relpath(os.path.join(folder, name), self.path))
        return out

    def close(self) -> None:
        """Write what is buffered."""
        self.roll()


def _row_bytes(rows: list[dict[str, Any]]) -> int:
    """About how many bytes ``rows`` take in a file (what a roll by size counts)."""
    return sum(64 + len(str(r.get("word", r.get("key")))) for r in rows)


def _fits(value: Any, kind: pa.DataType) -> bool:
    try:
        pa.array([value], type=kind)
    except (pa.ArrowException, TypeError, ValueError, OverflowError):
        return False
    return True
