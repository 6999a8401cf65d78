"""Where a stream's results go: a class per format, one small protocol, a registry by name.

Every sink takes the stream's results one by one (``write``), makes what it wrote
durable and says how far for a checkpoint (``sync``), goes back to such a point
when a stream resumes (``restore``), and ``close``\\ s.  JSON lines
(:class:`JsonLines`) and CSV rows (:class:`CsvRows`), both over
:class:`~toolkit.stream.outputs.OutputFile`, and Parquet datasets
(:class:`~toolkit.stream.datasets.ParquetDataset`) are the formats; a
new one is a class with these four methods and an entry in :data:`SINKS`.  A
result says itself how it is a JSON object and how it is rows
(``to_dict``, ``rows``), so no sink asks what kind of result it got.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol

from toolkit.errors import ConfigError
from toolkit.stream.outputs import OutputFile, window_line

__all__ = ["SINKS", "CsvRows", "JsonLines", "Sink", "open_sink"]


class Sink(Protocol):
    """What every sink of results does."""

    def write(self, result: Any) -> None: ...

    def sync(self) -> Any:
        """Make what was written durable; how far it got (JSON-able), for a checkpoint."""
        ...

    def restore(self, state: Any) -> None:
        """Go back to a :meth:`sync`'s point (None: to nothing written)."""
        ...

    def close(self) -> None: ...


class _InFile:
    """A sink writing to one :class:`~toolkit.stream.outputs.OutputFile`: synced, rolled back
    and closed with it."""

    def __init__(self, path: str) -> None:
        self.file = OutputFile(path)

    def sync(self) -> Any:
        return self.file.sync()

    def restore(self, state: Any) -> None:
        self.file.restore(state)

    def close(self) -> None:
        self.file.close()


class JsonLines(_InFile):
    """Results as JSON lines in a file, exactly once across checkpoints.

    Examples
    --------
    >>> import os, tempfile
    >>> from toolkit.stream.messages import WindowResult
    >>> path = os.path.join(tempfile.mkdtemp(), "windows.jsonl")
    >>> sink = open_sink("jsonl", path)
    >>> sink.write(WindowResult(0, 10, 1, 1, [("a", 1)])); sink.close()
    >>> open(path).read()
    '{"start": 0, "end": 10, "lines": 1, "words": 1, "top": [["a", 1]]}\\n'
    """

    def __init__(self, path: str, **options: Any) -> None:
        super().__init__(path)

    def write(self, result: Any) -> None:
        self.file.write(window_line(result))


class CsvRows(_InFile):
    """Results as CSV: a row per window and word (or key, or session), the header first;
    exactly once across checkpoints, as :class:`JsonLines`.

    The columns are a result's rows' (``start, end, word, count, lines, words[, late]`` for a
    word count); with ``times``, bounds are ISO 8601 UTC times; a value that is not a
    string or a number is written as its JSON text.

    Examples
    --------
    >>> import os, tempfile
    >>> from toolkit.stream.messages import WindowResult
    >>> path = os.path.join(tempfile.mkdtemp(), "windows.csv")
    >>> sink = open_sink("csv", path)
    >>> sink.write(WindowResult(0, 10, 2, 3, [("a", 2), ("b", 1)])); sink.close()
    >>> print(open(path).read(), end="")
    start,end,word,count,lines,words
    0,10,a,2,2,3
    0,10,b,1,2,3
    """

    def __init__(self, path: str, *, times: bool = False, **options: Any) -> None:
        super().__init__(path)
        self.times = times
        self.columns: list[str] | None = None

    def write(self, result: Any) -> None:
        import csv
        import io

        rows = result.rows(times=self.times)
        if not rows:
            return
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        if self.columns is None:
            self.columns = list(rows[0])
            if self.file.size() == 0:  # a new file (a resumed one has its header)
                writer.writerow(self.columns)
        writer.writerows([_cell(row.get(c)) for c in self.columns] for row in rows)
        self.file.write(out.getvalue())

    def restore(self, state: Any) -> None:
        super().restore(state)
        self.columns = None  # a file cut back to nothing gets its header again


def _cell(value: Any) -> Any:
    """A CSV cell: strings and numbers as they are, times in ISO 8601, the rest as JSON."""
    if value is None or isinstance(value, str | int | float):
        return "" if value is None else value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return json.dumps(value, ensure_ascii=False)


def _parquet_dataset(path: str, **options: Any) -> Sink:
    from toolkit.stream.datasets import ParquetDataset  # pyarrow: only for a dataset

    return ParquetDataset(path, **options)


#: Output format -> how to open its sink: ``make(path, **options)`` (see :func:`open_sink`).
SINKS: dict[str, Callable[..., Sink]] = {
    "csv": CsvRows,
    "jsonl": JsonLines,
    "parquet": _parquet_dataset,
}


def open_sink(output_format: str, path: str, **options: Any) -> Sink:
    """The sink of ``output_format`` writing to ``path``.

    ``options``: ``times`` (bounds are times, not offsets), ``roll_bytes`` and
    ``roll_seconds`` (a dataset's files); a format takes what it needs.
    """
    try:
        make = SINKS[output_format]
    except KeyError:
        *most, last = sorted(SINKS)
        known = f"{', '.join(most)} or {last}" if most else last
        raise ConfigError(f"output format must be {known}; got {output_format!r}") from None
    return make(path, **options)
