"""What flows through a stream: lines, ticks, the end; panes to count, counted; window results.

Every stage of a pipeline speaks these types, and only these: a source's
:class:`Chunk`, :class:`Tick` and :class:`End`; a windowing's
:class:`PaneBatch`; the counting's :class:`PaneCounts`; a closed window's
:class:`WindowResult`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from toolkit.wordtable import WordTable

__all__ = [
    "Chunk",
    "End",
    "Late",
    "PaneBatch",
    "PaneCounts",
    "Panes",
    "Tick",
    "WindowResult",
    "number",
]


@dataclass
class Chunk:
    """Lines that arrived together (without newlines), and when they arrived."""

    lines: list[str]
    time: float = 0.0
    bad: int = 0  # lines the source dropped (invalid UTF-8, over-long, cut off)


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
    due: dict[int, int] = field(default_factory=dict)

    def add(self, line: str, closed: int) -> None:
        """``line`` came late, when windows ending at or before pane ``closed`` had closed."""
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
    boundary: int | None = None  # close windows ending at or before this pane
    end: bool = False  # end of input: close up to `boundary`, or every window if None

    @property
    def late(self) -> int:
        """How many late events came with these panes."""
        return len(self.late_events)

    def _carried(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(Panes)}


@dataclass
class PaneBatch(Panes):
    """A chunk's text per pane, ready to be counted; plus what the windows must do after."""

    text: dict[int, str] = field(default_factory=dict)

    def counted(self, counts: dict[int, WordTable]) -> PaneCounts:
        """The same panes with their words counted (what a worker sends back)."""
        return PaneCounts(counts, **self._carried())


@dataclass
class PaneCounts(Panes):
    """A counted :class:`PaneBatch`: a word table per pane."""

    counts: dict[int, WordTable] = field(default_factory=dict)


@dataclass(frozen=True)
class WindowResult:
    """One window's result: bounds ``[start, end)``, lines, words and the top words."""

    start: float
    end: float
    lines: int
    words: int
    top: list[tuple[str, int]]
    late: int | None = None  # event time: late events since the previous window

    def to_dict(self) -> dict[str, Any]:
        """The JSON object written for this window."""
        out: dict[str, Any] = {
            "start": number(self.start),
            "end": number(self.end),
            "lines": self.lines,
            "words": self.words,
            "top": [[w, c] for w, c in self.top],
        }
        if self.late is not None:
            out["late"] = self.late
        return out


def number(x: float) -> float | int:
    """A window bound as JSON shows it: an int when whole, else rounded to microseconds."""
    return int(x) if float(x).is_integer() else round(float(x), 6)
