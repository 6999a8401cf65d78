"""Processing-time windows: ``length`` seconds every ``slide`` seconds of arrival time."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

from toolkit.jobs.records import RecordLines
from toolkit.lines import LineBlock
from toolkit.stream.eventtime import EventTimeSpec
from toolkit.stream.kinds.base import (
    TimeShaped,
    length_and_slide,
    lines_block,
    restored,
    with_records,
)
from toolkit.stream.messages import Chunk, End, PaneBatch, Tick
from toolkit.stream.panes import time_pane_sizes
from toolkit.stream.windows import ClosedWindow

__all__ = ["ProcessingTimeWindowing", "ProcessingTimeWindows"]


@dataclass(frozen=True)
class ProcessingTimeWindows(TimeShaped):
    """Windows of ``length`` seconds sliding by ``slide`` (tumbling when None), by arrival.

    Examples
    --------
    >>> ProcessingTimeWindows.from_options("1m", every="10s", events=None, records="lines")
    ProcessingTimeWindows(length=60.0, slide=10.0, records='lines')
    """

    length: float
    slide: float | None = None
    records: str = "lines"

    name: ClassVar[str] = "processing-time"
    event_time: ClassVar[bool | None] = False

    @classmethod
    def from_options(
        cls, value: Any, *, every: Any, events: EventTimeSpec | None, records: str
    ) -> ProcessingTimeWindows:
        return cls(*length_and_slide(value, every), records)

    def logic(self, state: dict[str, Any] | None = None) -> ProcessingTimeWindowing:
        w = ProcessingTimeWindowing(self.length, self.slide, records=self.records)
        return restored(w, state)

    def to_dict(self) -> dict[str, Any]:
        slide, panes = time_pane_sizes(self.length, self.slide)
        return with_records(
            {"kind": self.name, "length": slide * panes, "slide": slide}, self.records
        )


class ProcessingTimeWindowing:
    """The logic of :class:`ProcessingTimeWindows`: windows aligned to the epoch.

    Examples
    --------
    >>> w = ProcessingTimeWindowing(10)
    >>> batch = w.assign(Chunk(["a", "b"], time=1234.5))
    >>> {pane: list(lines) for pane, lines in batch.text.items()}, batch.boundary
    ({123: ['a', 'b']}, 123)
    >>> w.assign(Tick(1240.0)).boundary
    124
    """

    reports_late = False

    def __init__(
        self, length: float, slide: float | None = None, *, records: str = "lines"
    ) -> None:
        self.kind = ProcessingTimeWindows(length, slide, records)
        self.slide, self.window_panes = time_pane_sizes(length, slide)
        self.every_panes = 1
        self.records = RecordLines(records)
        self.latest = -math.inf

    def _pane(self, t: float) -> int:
        self.latest = max(self.latest, t)  # a clock that steps back does not reopen windows
        return math.floor(self.latest / self.slide)

    def assign(self, item: Chunk | Tick | End) -> PaneBatch:
        if isinstance(item, End):
            return PaneBatch(end=True)
        pane = self._pane(item.time)
        if isinstance(item, Tick):
            return PaneBatch(boundary=pane)
        records = self.records.take(item.lines)
        text: dict[int, str | LineBlock] = {pane: lines_block(records)} if records else {}
        lines = {pane: len(records)} if records else {}
        return PaneBatch(
            text=text, lines=lines, bad=item.bad, boundary=pane, header=self.records.header
        )

    def bounds(self, window: ClosedWindow, *, final: bool) -> tuple[float, float]:
        return window.start * self.slide, window.end * self.slide

    def tick_interval(self) -> float | None:
        return self.slide  # a window may end at every slide

    def use_inputs(self, names: list[str]) -> None:
        pass  # arrival time is the same clock for every input

    def watermark(self) -> float | None:
        return None

    def config(self) -> dict[str, Any]:
        return self.kind.to_dict()

    def snapshot(self) -> dict[str, Any]:
        return {"latest": self.latest, "records": self.records.snapshot()}

    def restore(self, state: dict[str, Any]) -> None:
        self.latest = float(state["latest"])
        self.records.restore(state.get("records", {}))
