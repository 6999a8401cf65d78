"""Writing results to files, atomically: a temporary name in the same directory, then a rename.

The format follows the extension: ``.csv``, ``.tsv``, ``.json``, ``.jsonl``, ``.parquet``.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from toolkit.atomic import atomic_output, is_special
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
        if is_special(os.fspath(path)):
            return "csv"
        known = ", ".join(OUTPUT_FORMATS)
        raise ConfigError(
            f"output file must end in one of {known}; got {os.fspath(path)!r}"
        ) from None


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
