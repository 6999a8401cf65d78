"""Writing results to files, atomically: a temporary name in the same directory, then a rename.

The format follows the extension: ``.csv``, ``.tsv``, ``.json``, ``.jsonl``, ``.parquet``.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any

from toolkit.errors import ConfigError, OutputError

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

__all__ = [
    "OUTPUT_FORMATS",
    "atomic_output",
    "json_default",
    "output_format",
    "write_series",
    "write_table",
]

OUTPUT_FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".parquet": "parquet",
}


def output_format(path: str | os.PathLike[str]) -> str:
    """The format of an output path, from its extension.

    An existing device or pipe without a known extension (``/dev/stdout``) gets CSV.

    Examples
    --------
    >>> output_format("counts.tsv")
    'tsv'
    """
    ext = os.path.splitext(os.fspath(path))[1].lower()
    try:
        return OUTPUT_FORMATS[ext]
    except KeyError:
        if _is_special(os.fspath(path)):
            return "csv"
        known = ", ".join(OUTPUT_FORMATS)
        raise ConfigError(
            f"output file must end in one of {known}; got {os.fspath(path)!r}"
        ) from None


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str], mode: str = "w") -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; on success rename it to ``path``.

    On any error, or Ctrl-C, the temporary file is removed and ``path`` is left
    as it was.  A path that exists and is not a regular file (a device, a pipe)
    is written in place, since it cannot be replaced.
    """
    target = os.fspath(path)
    binary = "b" in mode
    try:
        if _is_special(target):
            with open(target, mode) as f:
                yield f
            return
        directory = os.path.dirname(os.path.abspath(target))
        fd, tmp = tempfile.mkstemp(
            prefix=f".{os.path.basename(target)}.", suffix=".tmp", dir=directory
        )
    except OSError as exc:
        raise OutputError(f"cannot write {target!r}: {exc.strerror or exc}") from None
    try:
        f = os.fdopen(fd, mode) if binary else os.fdopen(fd, mode, encoding="utf-8", newline="")
        with f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise OutputError(f"cannot write {target!r}: {exc.strerror or exc}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _is_special(path: str) -> bool:
    try:
        return not stat.S_ISREG(os.stat(path).st_mode) and not os.path.isdir(path)
    except OSError:
        return False


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _json_key(key: Any) -> str:
    return key if isinstance(key, str) else json.dumps(key, default=str)


def write_series(
    series: pd.Series, path: str | os.PathLike[str], *, key: str = "word", value: str = "count"
) -> None:
    """Write a key -> value Series to ``path``, in the order given, atomically.

    ``.csv``/``.tsv`` have a header ``key,value``; ``.json`` is one object
    ``{key: value, ...}``; ``.jsonl`` one ``{"key": ..., "value": ...}`` per line;
    ``.parquet`` two columns.
    """
    import pandas as pd

    fmt = output_format(path)
    frame = pd.DataFrame({key: series.index.to_list(), value: series.to_list()})
    if fmt == "parquet":
        import pyarrow as pa

        try:
            table = pa.Table.from_pandas(frame, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise OutputError(f"cannot write {os.fspath(path)!r} as Parquet: {exc}") from None
        _write_parquet(table, path)
        return
    _write_text(frame, path, fmt, key, value)


def write_table(table: pa.Table, path: str | os.PathLike[str]) -> None:
    """Write a two-column Arrow table (key, value) to ``path``, in its order, atomically.

    Parquet is written straight from the Arrow columns (no Python object per
    row); the text formats are exactly those of :func:`write_series`, with the
    table's column names as ``key`` and ``value``.
    """
    fmt = output_format(path)
    if fmt == "parquet":
        _write_parquet(table, path)
        return
    key, value = table.column_names
    _write_text(table.to_pandas(), path, fmt, key, value)


def _write_parquet(table: pa.Table, path: str | os.PathLike[str]) -> None:
    import pyarrow.parquet as pq

    with atomic_output(path, "wb") as f:
        pq.write_table(table, f)


def _write_text(
    frame: pd.DataFrame, path: str | os.PathLike[str], fmt: str, key: str, value: str
) -> None:
    with atomic_output(path) as f:
        if fmt in ("csv", "tsv"):
            frame.to_csv(f, sep="," if fmt == "csv" else "\t", index=False, lineterminator="\n")
        elif fmt == "json":
            obj = {_json_key(k): v for k, v in zip(frame[key], frame[value], strict=True)}
            json.dump(obj, f, ensure_ascii=False, default=json_default)
            f.write("\n")
        else:
            for k, v in zip(frame[key], frame[value], strict=True):
                f.write(
                    json.dumps({key: k, value: v}, ensure_ascii=False, default=json_default) + "\n"
                )


def json_default(value: Any) -> Any:
    """``json.dumps(default=...)`` for result values: numpy scalars, sets, tuples, else str."""
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, set | frozenset | tuple):
        return sorted(value, key=repr) if isinstance(value, set | frozenset) else list(value)
    return str(value)
