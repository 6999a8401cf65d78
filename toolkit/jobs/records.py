"""Records of a user job: what a line becomes before the mapper sees it (batch and stream alike).

``lines``: the line itself.  ``jsonl``: the JSON value of the line.  ``csv``:
a dict of strings, by the header (the first line of each file, or of the
stream), the line split as Python's :mod:`csv` module reads it.  Blank lines
are no records in ``jsonl`` and ``csv``.  A line that does not parse is a
*bad record*: :class:`BadRecords` counts it and keeps the raw line; with the
``strict`` policy it is an error instead.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from toolkit.errors import ConfigError, JobError

__all__ = [
    "BAD_RECORD_POLICIES",
    "KEPT_BAD_LINES",
    "RECORD_FORMATS",
    "BadRecord",
    "BadRecords",
    "check_policy",
    "check_records",
    "fast_loads",
    "fast_parser",
    "parse_header",
    "record_parser",
]

#: What a line can be read as; batch inputs may also be ``parquet`` (rows as dicts).
RECORD_FORMATS = ("lines", "jsonl", "csv")
#: ``report``: count bad records, keep their lines, go on; ``strict``: the first one is an error.
BAD_RECORD_POLICIES = ("report", "strict")


class BadRecord(ValueError):
    """A line that is no record of its format; the message says why."""


def check_records(records: str, allowed: Sequence[str] = RECORD_FORMATS) -> str:
    """``records`` if it is one of ``allowed``, else a :class:`ConfigError`.

    Examples
    --------
    >>> check_records("csv")
    'csv'
    """
    if records not in allowed:
        raise ConfigError(f"records must be one of {', '.join(allowed)}; got {records!r}")
    return records


def check_policy(policy: str) -> str:
    """``policy`` if it is a bad-record policy, else a :class:`ConfigError`."""
    if policy not in BAD_RECORD_POLICIES:
        raise ConfigError(
            f"bad records policy must be one of {', '.join(BAD_RECORD_POLICIES)}; got {policy!r}"
        )
    return policy


def _split_csv(line: str) -> list[str]:
    try:
        return next(csv.reader([line], strict=True))
    except csv.Error as exc:
        raise BadRecord(f"invalid CSV: {exc}") from None
    except StopIteration:
        return []


def parse_header(line: str) -> tuple[str, ...]:
    """The field names of a CSV header line.

    Examples
    --------
    >>> parse_header('ts,"the path",status')
    ('ts', 'the path', 'status')
    """
    names = tuple(_split_csv(line))
    if not names or len(set(names)) != len(names):
        raise JobError(f"bad CSV header {line[:80]!r}: field names must be distinct and non-empty")
    return names


def record_parser(records: str, header: tuple[str, ...] | None = None) -> Callable[[str], Any]:
    """A function from a line to its record; it raises :class:`BadRecord` for a bad line.

    Examples
    --------
    >>> record_parser("jsonl")('{"a": 1}')
    {'a': 1}
    >>> record_parser("csv", ("a", "b"))('1,"x,y"')
    {'a': '1', 'b': 'x,y'}
    >>> record_parser("csv", ("a", "b"))("1,2,3")
    Traceback (most recent call last):
    ...
    toolkit.jobs.records.BadRecord: 3 fields where the header has 2
    """
    if records == "lines":
        return _same
    if records == "jsonl":
        return _json
    if records == "csv":
        if header is None:
            raise ConfigError("csv records need the header line first")
        names = header

        def parse_csv(line: str) -> dict[str, str]:
            row = _split_csv(line)
            if len(row) != len(names):
                raise BadRecord(f"{len(row)} fields where the header has {len(names)}")
            return dict(zip(names, row, strict=True))

        return parse_csv
    raise ConfigError(f"records must be one of {', '.join(RECORD_FORMATS)}; got {records!r}")


#: orjson parses a record in about a quarter of json's time (from str or UTF-8 bytes); json is
#: the reference it falls back to.
fast_loads = orjson.loads


def fast_parser(records: str, header: tuple[str, ...] | None = None) -> Callable[[str], Any]:
    """A quick parser of a record line: it may raise any ``ValueError`` where
    :func:`record_parser`'s answer (a record, or :class:`BadRecord`) is to be asked.

    Examples
    --------
    >>> fast_parser("jsonl")('{"a": [1, 2]}')
    {'a': [1, 2]}
    """
    if records == "jsonl":
        return fast_loads
    return record_parser(records, header)


def _same(line: str) -> str:
    return line


def _json(line: str) -> Any:
    try:
        return fast_loads(line)
    except ValueError:
        pass
    try:  # what orjson refuses and json reads (NaN, integers beyond 64 bits) is still a record
        return json.loads(line)
    except ValueError as exc:
        raise BadRecord(f"invalid JSON: {exc}") from None


class RecordLines:
    """The lines of a stream that are records: the CSV header taken off, blank lines dropped.

    Stateful (the header, once seen); :meth:`snapshot` and :meth:`restore` keep it
    in a checkpoint.

    Examples
    --------
    >>> rl = RecordLines("csv")
    >>> rl.take(["a,b", "1,2", "", "3,4"]), rl.header
    (['1,2', '3,4'], ('a', 'b'))
    """

    def __init__(self, records: str = "lines") -> None:
        self.records = check_records(records)
        self.header: tuple[str, ...] | None = None

    def take(self, lines: Sequence[str]) -> Sequence[str]:
        """The records among ``lines``, in order."""
        if self.records == "lines":
            return lines
        out = [line for line in lines if line.strip()]
        if self.records == "csv" and self.header is None and out:
            self.header = parse_header(out[0])
            del out[0]
        return out

    def parser(self) -> Callable[[str], Any]:
        """The parser of a record line (see :func:`record_parser`)."""
        return record_parser(self.records, self.header)

    def snapshot(self) -> dict[str, Any]:
        return {"header": None if self.header is None else list(self.header)}

    def restore(self, state: dict[str, Any]) -> None:
        header = state.get("header")
        self.header = None if header is None else tuple(header)


#: Raw bad lines kept per job (or per stream batch); beyond it they are counted, not kept.
KEPT_BAD_LINES = 100_000


@dataclass
class BadRecords:
    """Bad records seen: how many, their raw lines (up to :data:`KEPT_BAD_LINES`), the first reason.

    Examples
    --------
    >>> bad = BadRecords()
    >>> bad.add("{oops", "invalid JSON"); bad.add("x", "no field")
    >>> len(bad), bad.first
    (2, "invalid JSON on '{oops'")
    """

    count: int = 0
    lines: list[str] = field(default_factory=list)
    first: str | None = None

    def add(self, line: str, reason: str) -> None:
        """Record a bad ``line`` and why it is bad."""
        if self.first is None:
            self.first = f"{reason} on {line[:80]!r}"
        self.count += 1
        if len(self.lines) < KEPT_BAD_LINES:
            self.lines.append(line)

    def extend(self, other: BadRecords) -> None:
        """Add ``other``'s bad records after these."""
        if self.first is None:
            self.first = other.first
        self.count += other.count
        self.lines.extend(other.lines[: max(0, KEPT_BAD_LINES - len(self.lines))])

    @property
    def unkept(self) -> int:
        """Bad records counted whose lines were not kept (over the limit)."""
        return self.count - len(self.lines)

    def __len__(self) -> int:
        return self.count
