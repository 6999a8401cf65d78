"""Records a chunk at a time: the DataFrame a *frame mapper* takes in place of one record.

A frame mapper is ``mapper(frame) -> iterable of (key, value)``: called once per
chunk of records (a few MiB, tens of thousands of records), with the chunk's
records as the rows of a pandas (or polars) DataFrame, one column per field.
Its pairs fold with the job's reducer exactly as a record mapper's do, so a
frame mapper may yield a pair per row or pre-combine the chunk with the same
reducer (``frame.groupby("status")["bytes"].sum().items()``): the results are
the same.  It pays where the mapper's work is vectorised: no Python call per
record.

What a chunk's frame is, defined by its records (the reference):
:func:`records_frame` makes it from the records the record parser gives, the
columns typed as Arrow types them (a field of ints is ``int64``, of ints and
floats ``float64``, with nulls where a record lacks the field); a field whose
values Arrow cannot type together (numbers and strings) becomes a column of
Python objects as they were.  The fast path, :func:`jsonl_table`, parses the
bytes into the same table (by the compiled scan of :mod:`toolkit.jobs.jsonscan`
where the chunk's lines are of one flat shape, else by pyarrow's JSON reader),
or gives ``None`` where it cannot be sure to (the caller then parses record by
record):  the schema is
fixed from the first record, so a field that changes type, a field the first
record lacks, a line that is two objects or not an object, and a string Arrow
would read as a timestamp all send the chunk the careful way.
"""

from __future__ import annotations

import importlib.util
import io
import re
from collections.abc import Sequence
from typing import Any

import orjson
import pyarrow as pa

from toolkit.errors import ConfigError

__all__ = [
    "FRAME_KINDS",
    "check_frames",
    "frame_of_table",
    "jsonl_table",
    "load_frames",
    "plain",
    "records_frame",
    "records_table",
]

#: The DataFrames a frame mapper can take.
FRAME_KINDS = ("pandas", "polars")

_SCALAR_TYPES: dict[type, pa.DataType] = {
    str: pa.string(),
    int: pa.int64(),
    float: pa.float64(),
    bool: pa.bool_(),
}


def check_frames(frames: str | None) -> str | None:
    """``frames`` if it is None or a frame kind, else a :class:`ConfigError`.

    Examples
    --------
    >>> check_frames("pandas")
    'pandas'
    """
    if frames is not None and frames not in FRAME_KINDS:
        raise ConfigError(f"frames must be one of {', '.join(FRAME_KINDS)}; got {frames!r}")
    if frames == "polars" and importlib.util.find_spec("polars") is None:
        raise ConfigError("polars frames need the polars package: pip install polars")
    return frames


def load_frames(frames: str) -> None:
    """Import what frames of this kind need (pyarrow's JSON reader, pandas or polars).

    Called before an embedded cluster starts, its workers (forked) have them already:
    a whole ``toolkit mapreduce --frames`` process saves the import in every worker.
    (Loading the compiled scan here too saved nothing measurable, and a client of a
    running cluster would load it for nothing.)
    """
    import pyarrow.json  # noqa: F401

    if frames == "polars":
        import polars  # noqa: F401
    else:
        import pandas  # noqa: F401


def records_frame(records: Sequence[Any], frames: str) -> Any:
    """The frame of ``records`` (dicts, or lines as ``{"line": ...}``): the reference.

    Examples
    --------
    >>> frame = records_frame([{"a": 1}, {"a": 2.5, "b": "x"}], "pandas")
    >>> frame.to_dict("list")
    {'a': [1.0, 2.5], 'b': [nan, 'x']}
    >>> records_frame([{"a": 1}, {"a": "x"}], "pandas")["a"].tolist()
    [1, 'x']
    """
    columns = _columns(records)
    table = records_table(records, columns)
    if table is not None:
        return frame_of_table(table, frames)
    if frames == "polars":
        import polars as pl

        return pl.DataFrame(
            {name: pl.Series(name, values, dtype=pl.Object) for name, values in columns.items()}
        )
    import pandas as pd

    series = {name: pd.Series(values, dtype=object) for name, values in columns.items()}
    return pd.DataFrame(series, index=pd.RangeIndex(len(records)))


def _columns(records: Sequence[Any]) -> dict[str, list[Any]]:
    """Each field's values, fields in the order they first appear, None where a record lacks one."""
    names: dict[str, None] = {}
    for record in records:
        names.update(dict.fromkeys(record))
    return {name: [record.get(name) for record in records] for name in names}


def records_table(
    records: Sequence[Any], columns: dict[str, list[Any]] | None = None
) -> pa.Table | None:
    """The Arrow table of ``records`` (dicts), each field typed by Arrow from all its values;
    None if Arrow cannot type a field's values together.

    Examples
    --------
    >>> records_table([{"a": 1}, {"b": "x"}]).to_pylist()
    [{'a': 1, 'b': None}, {'a': None, 'b': 'x'}]
    >>> records_table([{"a": 1}, {"a": "x"}]) is None
    True
    """
    columns = _columns(records) if columns is None else columns
    try:
        arrays = {name: pa.array(values) for name, values in columns.items()}
    except (pa.ArrowException, TypeError, ValueError, OverflowError):
        return None
    return pa.table(arrays) if arrays else None  # no fields: rows of nothing, as objects


def frame_of_table(table: pa.Table, frames: str) -> Any:
    """An Arrow table as a pandas or polars DataFrame."""
    if frames == "polars":
        import polars as pl

        return pl.from_arrow(table)
    return table.to_pandas()


def jsonl_table(data: bytes) -> pa.Table | None:
    """The table of a chunk of JSON lines (UTF-8 bytes), or None where the records must decide.

    Equal to :func:`records_table` of the lines' records whenever it is not None.

    Examples
    --------
    >>> jsonl_table(b'{"a": 1, "b": "x"}\\n{"a": 2, "b": "y"}\\n').to_pylist()
    [{'a': 1, 'b': 'x'}, {'a': 2, 'b': 'y'}]
    >>> jsonl_table(b'{"a": 1}\\n{"a": "x"}\\n') is None  # a field that changes type
    True
    """
    import pyarrow.json as pj

    from toolkit.jobs.jsonscan import scan_table  # numba: loaded where frames are made

    first = data[: data.find(b"\n")] if b"\n" in data else data
    try:
        record = orjson.loads(first)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(record, dict) or not record:
        return None
    fields = []
    for name, value in record.items():
        kind = _SCALAR_TYPES.get(type(value))
        if kind is None:  # null, nested: the careful way
            return None
        fields.append(pa.field(name, kind))
    table = scan_table(data, record)  # the compiled scan of one flat shape: most chunks
    if table is not None:
        return table if _exact(table) else None
    lines = data.count(b"\n") + (not data.endswith(b"\n"))
    try:
        table = pj.read_json(
            io.BytesIO(data),
            read_options=pj.ReadOptions(use_threads=False, block_size=len(data) + 1),
            parse_options=pj.ParseOptions(
                explicit_schema=pa.schema(fields), unexpected_field_behavior="error"
            ),
        )
    except (pa.ArrowException, ValueError):  # a bad line, a new field or type, not UTF-8
        return None
    if table.num_rows != lines or _has_blank_line(data):  # one object a line, and only one
        return None
    if not _exact(table):
        return None
    return table


_BLANK_LINE = re.compile(rb"\n[ \t\r]*\n")


def _has_blank_line(data: bytes) -> bool:
    """Whether a line of ``data`` is empty or JSON whitespace (no record, so no row)."""
    end = data.find(b"\n")
    if _BLANK_LINE.search(data) or not (data if end < 0 else data[:end]).strip(b" \t\r"):
        return True
    return not data.endswith(b"\n") and not data[data.rfind(b"\n") + 1 :].strip(b" \t\r")


def _exact(table: pa.Table) -> bool:
    """Whether the table's floats are the records' (an integer beyond 2**53 may not be)."""
    import pyarrow.compute as pc

    for column in table.columns:
        if pa.types.is_floating(column.type) and len(column):
            largest = pc.max(pc.abs(column)).as_py()
            if largest is not None and largest >= 2.0**53:
                return False
    return True


def plain(value: Any) -> Any:
    """A NumPy scalar as the Python value (what a frame's ``.sum()`` gives), else ``value``.

    Examples
    --------
    >>> import numpy as np
    >>> plain(np.int64(3)), type(plain(np.int64(3))).__name__
    (3, 'int')
    >>> plain((np.int64(1), "a"))
    (1, 'a')
    """
    item = getattr(value, "item", None)
    if item is not None and type(value).__module__ == "numpy":
        return item()
    if type(value) is tuple:
        return tuple(plain(v) for v in value)
    return value
