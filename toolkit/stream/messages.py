"""What flows through a stream: lines, ticks, the end; panes to count, counted; window results.

Every stage of a pipeline speaks these types, and only these: a source's
:class:`Chunk`, :class:`Tick` and :class:`End`; a windowing's
:class:`PaneBatch` (or, for sessions, :class:`SessionBatch`); what a worker
sends back: :class:`PaneCounts` (words), :class:`PaneStates` (a user job's
keyed states) or :class:`SessionParts`; and the results: a word count's
:class:`WindowResult`, a user job's :class:`KeyedWindowResult` and
:class:`SessionResult`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import pandas as pd

    from toolkit.jobs.keyed import KeyedState
    from toolkit.jobs.records import BadRecords
    from toolkit.lines import LineBlock
    from toolkit.wordtable import WordTable

__all__ = [
    "MAIN",
    "Chunk",
    "End",
    "KeyedWindowResult",
    "Late",
    "PaneBatch",
    "PaneCounts",
    "PaneStates",
    "Panes",
    "Part",
    "SessionBatch",
    "SessionParts",
    "SessionResult",
    "Tick",
    "WindowResult",
    "bound",
    "number",
    "to_frame",
]


#: The name of a stream's input when it has only one.
MAIN = "main"


@dataclass
class Chunk:
    """Lines that arrived together (without newlines), when, and from which input (side).

    ``ended``: the side's input ended after these lines while other inputs go on
    (its watermark no longer holds theirs back).
    """

    lines: Sequence[str]  # a list, or a block of them (toolkit.lines.LineBlock)
    time: float = 0.0
    bad: int = 0  # lines the source dropped (invalid UTF-8, over-long, cut off)
    side: str = MAIN
    ended: bool = False


@dataclass(frozen=True)
class Tick:
    """The clock moved on to ``time`` (drives processing-time windows)."""

    time: float


@dataclass(frozen=True)
class End:
    """The input ended: close every open window."""


@dataclass
class Late:
    """Events that came after their windows had closed: never counted, always reported.

    ``lines`` go to the late output; ``due`` counts them by the watermark pane they
    came at, so each is reported with the first window to close after it, however
    the lines were chunked.

    Examples
    --------
    >>> late = Late()
    >>> late.add('{"t": 1}', closed=5); late.add('{"t": 2}', closed=5)
    >>> len(late), late.due
    (2, {5: 2})
    """

    lines: list[str] = field(default_factory=list)
    due: dict[float, int] = field(default_factory=dict)

    def add(self, line: str, closed: float) -> None:
        """``line`` came late, when windows ending at or before ``closed`` had closed.

        ``closed`` is a pane for windows, a watermark for sessions.
        """
        self.lines.append(line)
        self.due[closed] = self.due.get(closed, 0) + 1

    def __len__(self) -> int:
        return len(self.lines)


@dataclass(kw_only=True)
class Panes:
    """What a batch of panes carries besides their contents, from the windowing to the windows."""

    lines: dict[int, int] = field(default_factory=dict)  # lines per pane
    late_events: Late = field(default_factory=Late)
    bad: int = 0  # lines the source or the windowing could not use
    bad_lines: list[str] = field(default_factory=list)  # those the windowing found bad
    boundary: int | None = None  # close windows ending at or before this pane
    end: bool = False  # end of input: close up to `boundary`, or every window if None

    @property
    def late(self) -> int:
        """How many late events came with these panes."""
        return len(self.late_events)

    def _carried(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(Panes)}

    def run(self, job: Callable[[Any], Any]) -> Any:
        """Run a worker job on this batch (where it is counted or folded)."""
        return job(self)

    def settle(self, result: Any, redo: Callable[[Any], Any]) -> Any:
        """The worker's ``result`` as the windows take it, on the driver, in arrival order
        (``redo(batch)`` runs the job again here).  Most batches need nothing more."""
        return result


@dataclass
class PaneBatch(Panes):
    """A chunk's text per pane, ready to be counted; plus what the windows must do after."""

    text: dict[int, str | LineBlock] = field(default_factory=dict)  # a pane's lines
    header: tuple[str, ...] | None = None  # csv records: the stream's header

    def counted(self, counts: dict[int, WordTable]) -> PaneCounts:
        """The same panes with their words counted (what a worker sends back)."""
        return PaneCounts(counts, **self._carried())

    def folded(self, states: dict[int, KeyedState]) -> PaneStates:
        """The same panes with a user job's records folded (what a worker sends back)."""
        return PaneStates(states, **self._carried())


@dataclass
class PaneCounts(Panes):
    """A counted :class:`PaneBatch`: a word table per pane."""

    counts: dict[int, WordTable] = field(default_factory=dict)


@dataclass
class PaneStates(Panes):
    """A folded :class:`PaneBatch` of a user job: a key -> accumulator state per pane."""

    states: dict[int, KeyedState] = field(default_factory=dict)


@dataclass
class SessionBatch(Panes):
    """A chunk's on-time events for sessions: their lines, and the time of each.

    ``times`` None: every line came at ``time`` (processing time).  ``watermark``:
    close the sessions that end at or before it (None: none).
    """

    text: list[str] = field(default_factory=list)
    times: list[float] | None = None
    time: float = 0.0
    header: tuple[str, ...] | None = None
    watermark: float | None = None

    def cut(self, parts: dict[Any, list[Part]], bad: BadRecords | None = None) -> SessionParts:
        """The same events cut into parts of sessions (what a worker sends back)."""
        out = SessionParts(parts, watermark=self.watermark, **self._carried())
        if bad is not None:
            out.bad += len(bad)
            out.bad_lines = out.bad_lines + bad.lines
        return out


#: A piece of a session that one micro-batch saw: first and last event time, records, value.
Part = tuple[float, float, int, Any]


@dataclass
class SessionParts(Panes):
    """A :class:`SessionBatch` cut into parts of sessions by key (``None`` for a word count)."""

    parts: dict[Any, list[Part]] = field(default_factory=dict)
    watermark: float | None = None


@dataclass(frozen=True)
class WindowResult:
    """One window's result: bounds ``[start, end)``, lines, words and the top words.

    Every result says how it is a JSON object (:meth:`to_dict`), rows of a table
    (:meth:`rows`) and (key, value) pairs to show (:meth:`pairs`).
    """

    one_key: ClassVar[bool] = False
    #: The columns of a frame of these results (kept when a frame has none).
    columns: ClassVar[tuple[str, ...] | None] = ("start", "end", "lines", "words", "top", "late")

    start: float
    end: float
    lines: int
    words: int
    top: list[tuple[str, int]]
    late: int | None = None  # event time: late events since the previous window
    final: bool | None = None  # with early results: whether the window has closed

    def to_dict(self) -> dict[str, Any]:
        """The JSON object written for this window."""
        out: dict[str, Any] = {
            "start": number(self.start),
            "end": number(self.end),
            "lines": self.lines,
            "words": self.words,
            "top": [[w, c] for w, c in self.top],
        }
        return _tail(out, self.late, self.final)

    def rows(self, *, times: bool) -> list[dict[str, Any]]:
        """A table's rows for this window: one per word (``times``: bounds as UTC times)."""
        start, end = bound(self.start, times), bound(self.end, times)
        totals = {"lines": self.lines, "words": self.words, **_late(self.late)}
        return [{"start": start, "end": end, "word": w, "count": c, **totals} for w, c in self.top]

    def pairs(self) -> list[tuple[Any, Any]]:
        """What it shows, as (key, value) pairs: its top words."""
        return list(self.top)


def number(x: float) -> float | int:
    """A window bound as JSON shows it: an int when whole, else rounded to microseconds."""
    return int(x) if float(x).is_integer() else round(float(x), 6)


@dataclass(frozen=True)
class KeyedWindowResult:
    """A user job's window: bounds ``[start, end)``, records, keys, the ordered results."""

    one_key: ClassVar[bool] = False

    start: float
    end: float
    records: int
    keys: int
    results: list[tuple[Any, Any]]
    late: int | None = None
    final: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON object written for this window (tuples become lists)."""
        out: dict[str, Any] = {
            "start": number(self.start),
            "end": number(self.end),
            "records": self.records,
            "keys": self.keys,
            "results": [[k, v] for k, v in self.results],
        }
        return _tail(out, self.late, self.final)

    def rows(self, *, times: bool) -> list[dict[str, Any]]:
        """A table's rows for this window: one per key."""
        start, end = bound(self.start, times), bound(self.end, times)
        totals = {"records": self.records, "keys": self.keys, **_late(self.late)}
        return [
            {"start": start, "end": end, "key": k, "value": v, **totals} for k, v in self.results
        ]

    def pairs(self) -> list[tuple[Any, Any]]:
        """What it shows, as (key, value) pairs: its results."""
        return list(self.results)


@dataclass(frozen=True)
class SessionResult:
    """One closed session of a key: ``[first event, last event + gap)``, records, value."""

    #: A result of one key among many: a view of the latest results gathers several.
    one_key: ClassVar[bool] = True

    key: Any
    start: float
    end: float
    records: int
    value: Any
    late: int | None = None
    final: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON object written for this session."""
        out: dict[str, Any] = {
            "key": self.key,
            "start": number(self.start),
            "end": number(self.end),
            "records": self.records,
            "value": self.value,
        }
        return _tail(out, self.late, self.final)

    def rows(self, *, times: bool) -> list[dict[str, Any]]:
        """A table's rows for this session: one."""
        start, end = bound(self.start, times), bound(self.end, times)
        return [
            {
                "key": self.key,
                "start": start,
                "end": end,
                "records": self.records,
                "value": self.value,
                **_late(self.late),
            }
        ]

    def pairs(self) -> list[tuple[Any, Any]]:
        """What it shows, as (key, value) pairs: its key and value."""
        return [(self.key, self.value)]


def bound(x: float, times: bool) -> Any:
    """A window bound as a table holds it: a UTC time (``times``), else an int offset."""
    if not times:
        return int(x)
    import datetime as dt

    return dt.datetime.fromtimestamp(x, tz=dt.UTC)


def _late(late: int | None) -> dict[str, int]:
    return {} if late is None else {"late": late}


def _tail(out: dict[str, Any], late: int | None, final: bool | None) -> dict[str, Any]:
    """A result's JSON object with ``late`` (event time) and ``final`` (early results) if set."""
    if late is not None:
        out["late"] = late
    if final is not None:
        out["final"] = final
    return out


def to_frame(results: list[Any]) -> pd.DataFrame:
    """Results as a DataFrame: one row per window or session, columns as in the JSON lines.

    Works for word counts (``top`` as a list of pairs) and user jobs (``results``
    as a list of pairs, or a session's ``key`` and ``value``).

    Examples
    --------
    >>> to_frame([WindowResult(0, 10, 3, 5, [("a", 3), ("b", 2)])])[["start", "end", "words"]]
       start  end  words
    0      0   10      5
    """
    import pandas as pd

    rows = [r.to_dict() for r in results]
    columns = getattr(results[0], "columns", None) if results else WindowResult.columns
    if columns is not None:
        return pd.DataFrame(rows, columns=list(columns)).dropna(axis=1, how="all")
    return pd.DataFrame(rows)
