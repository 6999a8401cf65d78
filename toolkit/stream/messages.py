"""What flows through a stream: lines, ticks, the end; panes to count, counted; window results.

Every stage of a pipeline speaks these types, and only these: a source's
:class:`Chunk`, :class:`Tick` and :class:`End`; a windowing's
:class:`PaneBatch`; the counting's :class:`PaneCounts`; a closed window's
:class:`WindowResult`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from toolkit.wordtable import WordTable

__all__ = ["Chunk", "End", "PaneBatch", "PaneCounts", "Tick", "WindowResult", "number"]


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
class PaneBatch:
    """A chunk's text per pane, ready to be counted; plus what the windows must do after."""

    text: dict[int, str] = field(default_factory=dict)
    lines: dict[int, int] = field(default_factory=dict)
    late: int = 0
    bad: int = 0
    boundary: int | None = None  # close windows ending at or before this pane
    end: bool = False  # end of input: close up to `boundary`, or every window if None
    late_lines: list[str] = field(default_factory=list)
    late_at: dict[int, int] = field(default_factory=dict)  # watermark pane -> late events


@dataclass
class PaneCounts:
    """A counted :class:`PaneBatch` (what a worker sends back)."""

    counts: dict[int, WordTable]
    lines: dict[int, int]
    late: int = 0
    bad: int = 0
    boundary: int | None = None
    end: bool = False
    late_lines: list[str] = field(default_factory=list)
    late_at: dict[int, int] = field(default_factory=dict)


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
