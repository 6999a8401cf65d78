"""The keyed fold of a user job: lines -> records -> (key, value) pairs -> an accumulator per key.

The same code folds a batch block on a worker and a stream's pane: a
:class:`KeyedJob` (the mapper, how values combine, the record format and the
bad-record policy) folds lines into a :class:`KeyedState` (a dict of key ->
accumulator, which also counts records and keeps bad ones), merges two states,
and finishes one into results.  When user code fails the message names the
function, the record and what it raised.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from toolkit.errors import ConfigError, JobError
from toolkit.jobs.combining import Combining, function_name
from toolkit.jobs.frames import check_frames, frame_of_table, jsonl_table, plain, records_frame
from toolkit.jobs.records import (
    BadRecord,
    BadRecords,
    check_policy,
    check_records,
    fast_loads,
    fast_parser,
    record_parser,
)
from toolkit.jobs.shipping import ByValue

__all__ = ["KeyedJob", "KeyedState"]


class KeyedState(dict):
    """Accumulators by key, plus the records folded in and the bad ones.

    A dict subclass: it is pickled in one piece between processes (a plain
    dict would be sent item by item).
    """

    def __init__(self) -> None:
        super().__init__()
        self.records = 0
        self.bad = BadRecords()

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (dict(self), self.records, self.bad))


def _rebuild(items: dict[Any, Any], records: int, bad: BadRecords) -> KeyedState:
    state = KeyedState()
    state.update(items)
    state.records, state.bad = records, bad
    return state


@dataclass(frozen=True)
class KeyedJob(ByValue):
    """A user's job as the keyed folds run it (pure; pickled to workers).

    Examples
    --------
    >>> from toolkit.jobs.combining import combining
    >>> job = KeyedJob(lambda r: [(r["status"], 1)], combining(lambda a, b: a + b), "jsonl")
    >>> lines = ['{"status": 200}', '{"status": 404}', '{"status": 200}', "{"]
    >>> state = job.fold(job.empty(), lines)
    >>> job.finish(state), state.records, len(state.bad)
    ({200: 2, 404: 1}, 3, 1)
    """

    mapper: Callable[[Any], Iterable[tuple[Hashable, Any]]]
    combine: Combining
    records: str = "lines"
    bad_records: str = "report"
    frames: str | None = None  # the mapper takes a chunk's records as a DataFrame of this kind

    def __post_init__(self) -> None:
        check_records(self.records)
        check_policy(self.bad_records)
        check_frames(self.frames)

    def empty(self) -> KeyedState:
        """A fresh state."""
        return KeyedState()

    def fold(
        self, state: KeyedState, lines: Iterable[str], header: tuple[str, ...] | None = None
    ) -> KeyedState:
        """Fold ``lines`` (records of :attr:`records`; ``header``: a CSV header) into ``state``."""
        parsers = fast_parser(self.records, header), record_parser(self.records, header)
        if self.frames is None:
            self._fold(state, lines, *parsers)
        else:
            records, _ = self._parsed(state, lines, *parsers)
            self._fold_frame(state, records)
        return state

    def fold_bytes(self, state: KeyedState, data: bytes | memoryview) -> int:
        """Fold whole JSON lines of UTF-8 bytes into ``state``; return how many bytes it took.

        It stops before the first line that is not UTF-8 (the rest is for the
        reader's decoding policy, as text); JSON is parsed from the bytes as they
        are, which saves decoding every line.
        """
        data = bytes(data)
        if self.frames is not None:
            table = jsonl_table(data)
            if table is not None:
                self._fold_frame(state, table)
                return len(data)
        lines = data.split(b"\n")
        if lines and not lines[-1]:
            lines.pop()  # after the last newline
        if self.frames is None:
            stop = self._fold(state, lines, fast_loads, record_parser("jsonl"), utf8=True)
        else:
            records, stop = self._parsed(
                state, lines, fast_loads, record_parser("jsonl"), utf8=True
            )
            self._fold_frame(state, records)
        if stop is None:
            return len(data)
        return sum(len(line) + 1 for line in lines[:stop])

    def _fold(
        self,
        state: KeyedState,
        lines: Iterable[Any],
        fast: Callable[[Any], Any],
        careful: Callable[[str], Any],
        *,
        utf8: bool = False,
        each: Callable[[int, Any, list[Any]], None] | None = None,
    ) -> int | None:
        """The hot loop of every user job, batch and stream.

        A quick parse (any failure is asked again of the careful parser, which
        tells a bad record from a blank line), the mapper's pairs taken whole,
        each folded (or, with ``each``, handed to it with the line's index and
        the record).  ``utf8``: the lines are bytes; at the first that is not
        UTF-8, stop and return its index (None: every line was folded).
        """
        mapper, combine = self.mapper, self.combine
        mapper_code = [getattr(mapper, "__code__", None)]
        start, fold = combine.start, combine.folder()
        blank_first = self.records == "csv"  # a JSON parse refuses a blank line by itself
        skips_blank = self.records != "lines"
        bad = state.bad
        get = state.get
        records = 0
        for i, line in enumerate(lines):
            if blank_first and not line.strip():
                continue
            try:
                record = fast(line)
            except ValueError:
                if skips_blank and not line.strip():
                    continue
                if utf8:
                    try:
                        line = line.decode("utf-8").removesuffix("\r")
                    except UnicodeDecodeError:
                        state.records += records
                        return i
                try:
                    record = careful(line)
                except BadRecord as exc:
                    self._bad(bad, line, str(exc))
                    continue
            try:
                pairs = list(mapper(record))
            except Exception as exc:
                if not self._raised_by(exc, mapper_code):
                    raise JobError(self._contract(exc, record)) from None
                shown = line.decode("utf-8", "replace").removesuffix("\r") if utf8 else line
                self._bad(bad, shown, f"mapper {function_name(mapper)} raised {_what(exc)}")
                continue
            if each is not None:
                each(i, record, pairs)
                records += 1
                continue
            try:
                for key, value in pairs:
                    acc = get(key, _MISSING)
                    state[key] = start(value) if acc is _MISSING else fold(acc, value)
            except Exception as exc:
                raise JobError(self.explain(exc, record)) from None
            records += 1
        state.records += records
        return None

    def fold_parsed(
        self, state: KeyedState, lines: list[str] | list[bytes], records: list[Any]
    ) -> KeyedState:
        """Fold ``records``, parsed already from ``lines`` (text or UTF-8 bytes: shown when
        a record is bad)."""
        parsed = iter(records)
        utf8 = bool(lines) and isinstance(lines[0], bytes)
        self._fold(state, lines, lambda line: next(parsed), _no_careful, utf8=utf8)
        return state

    def fold_records(
        self, state: KeyedState, rows: Iterable[Any], parse: Callable[[Any], Any]
    ) -> KeyedState:
        """Fold records that need no line parsing (Parquet rows), made records by ``parse``."""
        self._fold(state, rows, parse, parse)
        return state

    def fold_table(self, state: KeyedState, table: Any) -> KeyedState:
        """Fold the rows of an Arrow table (Parquet): by frames, or as dicts, one at a time."""
        if self.frames is None:
            return self.fold_records(state, table.to_pylist(), _same)
        self._fold_frame(state, table)
        return state

    def _parsed(
        self,
        state: KeyedState,
        lines: Iterable[Any],
        fast: Callable[[Any], Any],
        careful: Callable[[str], Any],
        *,
        utf8: bool = False,
    ) -> tuple[list[Any], int | None]:
        """The good records among ``lines`` for a frame (the bad ones go to ``state.bad``),
        and the index of the line that is not UTF-8 where it stopped (None: it did not).

        The same loop as :meth:`fold` takes them (the same parsing, blank lines and
        bad records); a JSON record must be an object, to be a frame's row.
        """
        lines = lines if isinstance(lines, list) else list(lines)
        out: list[Any] = []
        scratch = KeyedState()
        scratch.bad = state.bad
        lines_only = self.records == "lines"

        def keep(i: int, record: Any, pairs: list[Any]) -> None:
            if lines_only:
                out.append({"line": record})
            elif isinstance(record, dict):
                out.append(record)
            else:
                line = lines[i]
                shown = line.decode("utf-8", "replace").removesuffix("\r") if utf8 else line
                self._bad(state.bad, shown, "not a JSON object: a frame's rows are objects")

        records_only = replace(self, mapper=_no_pairs, frames=None)
        stop = records_only._fold(scratch, lines, fast, careful, utf8=utf8, each=keep)
        return out, stop

    def _fold_frame(self, state: KeyedState, rows: Any) -> None:
        """Fold the pairs the mapper gives for a chunk's ``rows`` (an Arrow table or records)."""
        table = hasattr(rows, "num_rows")
        count = rows.num_rows if table else len(rows)
        if not count:
            return
        frames = self.frames
        assert frames is not None
        frame = frame_of_table(rows, frames) if table else records_frame(rows, frames)
        mapper = self.mapper
        what = f"a frame of {count} records (columns {', '.join(map(str, frame.columns))})"
        try:
            pairs = list(mapper(frame))
        except Exception as exc:
            if self._raised_by(exc, [getattr(mapper, "__code__", None)]):
                raise JobError(
                    f"mapper {function_name(mapper)} raised {_what(exc)} on {what}"
                ) from None
            raise JobError(self._contract(exc, None, on=what)) from None
        start, fold = self.combine.start, self.combine.folder()
        get = state.get
        try:
            for key, value in pairs:
                key, value = plain(key), plain(value)
                acc = get(key, _MISSING)
                state[key] = start(value) if acc is _MISSING else fold(acc, value)
        except Exception as exc:
            if self._raised_by(exc, self.combine.codes()):
                raise JobError(f"{self.combine.name} failed on {what}: {_what(exc)}") from None
            raise JobError(self._contract(exc, None, on=what)) from None
        state.records += count

    def mapped(
        self, lines: Iterable[str], header: tuple[str, ...] | None = None
    ) -> tuple[list[tuple[int, Any, list[tuple[Hashable, Any]]]], BadRecords]:
        """``(index, record, pairs)`` of each good record among ``lines``, and the bad ones.

        ``index`` is the line's place in ``lines``.  The same loop as :meth:`fold`
        (the same parsing, blank lines, bad records), with the pairs kept, not folded.
        """
        if self.frames is not None:
            raise ConfigError(
                "a frame mapper gives the pairs of a whole chunk, and sessions need each "
                "record's: use a mapper of one record"
            )
        out: list[tuple[int, Any, list[tuple[Hashable, Any]]]] = []
        state = KeyedState()
        records = self.records
        parsers = fast_parser(records, header), record_parser(records, header)
        self._fold(state, lines, *parsers, each=lambda i, r, pairs: out.append((i, r, pairs)))
        return out, state.bad

    def mapped_parsed(
        self, lines: list[str] | list[bytes], records: list[Any]
    ) -> tuple[list[tuple[int, Any, list[tuple[Hashable, Any]]]], BadRecords]:
        """:meth:`mapped` of ``records`` parsed already from ``lines`` (text or UTF-8 bytes:
        shown when a record is bad)."""
        out: list[tuple[int, Any, list[tuple[Hashable, Any]]]] = []
        state = KeyedState()
        parsed = iter(records)
        utf8 = bool(lines) and isinstance(lines[0], bytes)
        self._fold(
            state,
            lines,
            lambda line: next(parsed),
            _no_careful,
            utf8=utf8,
            each=lambda i, r, pairs: out.append((i, r, pairs)),
        )
        return out, state.bad

    def explain(self, exc: Exception, record: Any) -> str:
        """Why folding ``record``'s pairs failed: the reducer (or combiner), or the pairs."""
        if self._raised_by(exc, self.combine.codes()):
            return f"{self.combine.name} failed on record {_shown(record)}: {_what(exc)}"
        return self._contract(exc, record)

    def _bad(self, bad: BadRecords, line: Any, reason: str) -> None:
        if self.bad_records == "strict":
            raise JobError(
                f"bad record {_shown(line)}: {reason} "
                "(--bad-records report counts them and goes on)"
            )
        bad.add(line if isinstance(line, str) else repr(line), reason)

    def _contract(self, exc: Exception, record: Any, *, on: str | None = None) -> str:
        on = on or f"record {_shown(record)}"
        return (
            f"mapper {function_name(self.mapper)} must return an iterable of (key, value) "
            f"pairs with hashable keys; on {on} it gave: {_what(exc)}"
        )

    @staticmethod
    def _raised_by(exc: Exception, codes: list[Any]) -> bool:
        tb = exc.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code in codes:
                return True
            tb = tb.tb_next
        return False

    def merge(self, state: KeyedState, other: KeyedState) -> KeyedState:
        """Fold ``other`` into ``state`` (``other`` is left as it was) and return it."""
        merge, copy = self.combine.merge, self.combine.copy
        key: Any = None
        try:
            for key, acc in other.items():
                state[key] = merge(state[key], acc) if key in state else copy(acc)
        except Exception as exc:
            raise JobError(
                f"{self.combine.name} failed while merging key {key!r}: {_what(exc)}"
            ) from None
        state.records += other.records
        state.bad.extend(other.bad)
        return state

    def finish(self, state: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        """The result of every key."""
        finish = self.combine.finish
        if self.combine.combiner is None:
            return dict(state)
        out: dict[Hashable, Any] = {}
        key: Any = None
        try:
            for key, acc in state.items():
                out[key] = finish(acc)
        except Exception as exc:
            raise JobError(
                f"{self.combine.name} failed to finish key {key!r}: {_what(exc)}"
            ) from None
        return out


_MISSING = object()  # no accumulator for the key yet (None may be one)


def _no_careful(line: str) -> Any:  # pragma: no cover - a parsed record never fails again
    raise AssertionError("a record parsed already was parsed again")


def _no_pairs(record: Any) -> tuple[()]:
    return ()


def _same(row: Any) -> Any:
    return row


def _what(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _shown(record: Any) -> str:
    text = repr(record)
    return text if len(text) <= 80 else text[:77] + "..."
