"""Count windows: the last ``size`` records, every ``every`` records, in arrival order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from toolkit.errors import OptionError
from toolkit.jobs.records import RecordLines
from toolkit.stream.eventtime import EventTimeSpec
from toolkit.stream.kinds.base import PaneShaped, lines_block, restored, with_records
from toolkit.stream.messages import Chunk, End, PaneBatch, Tick
from toolkit.stream.panes import count_pane_sizes
from toolkit.stream.windows import ClosedWindow

__all__ = ["CountWindowing", "CountWindows"]


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


@dataclass(frozen=True)
class CountWindows(PaneShaped):
    """Windows of ``size`` records every ``every`` records (tumbling when None).

    Examples
    --------
    >>> CountWindows(10, 5)
    CountWindows(size=10, every=5, records='lines')
    >>> CountWindows(10, 5).logic().window_panes
    2
    """

    size: int
    every: int | None = None
    records: str = "lines"

    name: ClassVar[str] = "count"
    option: ClassVar[str] = "count"
    form: ClassVar[str] = "N"
    event_time: ClassVar[bool | None] = False
    timed: ClassVar[bool] = False

    def __post_init__(self) -> None:
        count_pane_sizes(self.size, self.every)  # bad sizes fail where the config is made

    @classmethod
    def from_options(
        cls, value: Any, *, every: Any, events: EventTimeSpec | None, records: str
    ) -> CountWindows:
        try:
            step = int(every) if every is not None else None
        except ValueError:
            raise OptionError(
                "with {count}, {every} is a number of records; got {v!r}", v=every
            ) from None
        return cls(value, step, records)

    def logic(self, state: dict[str, Any] | None = None) -> CountWindowing:
        return restored(CountWindowing(self.size, self.every, records=self.records), state)

    def to_dict(self) -> dict[str, Any]:
        g, window_panes, every_panes = count_pane_sizes(self.size, self.every)
        config = {"kind": self.name, "size": g * window_panes, "every": g * every_panes}
        return with_records(config, self.records)


class CountWindowing:
    """The logic of :class:`CountWindows`: how many records came, so which pane is next.

    Bounds are 0-based record offsets in arrival order, ``[start, end)``.  At
    the end of the input, the window that would have come next is emitted, cut
    at the last record, so tumbling windows count every record exactly once.

    Examples
    --------
    >>> w = CountWindowing(4, every=2)
    >>> batch = w.assign(Chunk(["a", "b", "c"]))
    >>> {pane: list(lines) for pane, lines in batch.text.items()}, batch.boundary
    ({0: ['a', 'b'], 1: ['c']}, 1)
    """

    reports_late = False

    def __init__(self, size: int, every: int | None = None, *, records: str = "lines") -> None:
        self.kind = CountWindows(size, every, records)
        self.pane_lines, self.window_panes, self.every_panes = count_pane_sizes(size, every)
        self.records = RecordLines(records)
        self.seen = 0

    def assign(self, item: Chunk | Tick | End) -> PaneBatch:
        if isinstance(item, End):
            # only the window that would have come next, cut at the last line
            panes_seen = _ceil_div(self.seen, self.pane_lines)
            return PaneBatch(
                end=True, boundary=self.every_panes * _ceil_div(panes_seen, self.every_panes)
            )
        if isinstance(item, Tick):
            return PaneBatch()
        lines = self.records.take(item.lines)
        batch = PaneBatch(header=self.records.header)
        g = self.pane_lines
        pos = 0
        while pos < len(lines):
            pane = (self.seen + pos) // g
            take = min(len(lines) - pos, (pane + 1) * g - (self.seen + pos))
            whole = pos == 0 and take == len(lines)  # the chunk in one pane: as it came
            batch.text[pane] = lines_block(lines if whole else lines[pos : pos + take])
            batch.lines[pane] = take
            pos += take
        self.seen += len(lines)
        batch.boundary = self.seen // g
        batch.bad = item.bad
        return batch

    def bounds(self, window: ClosedWindow, *, final: bool) -> tuple[float, float]:
        g = self.pane_lines
        return max(0, window.start * g), min(window.end * g, self.seen)

    def tick_interval(self) -> float | None:
        return None

    def use_inputs(self, names: list[str]) -> None:
        pass  # lines are counted in arrival order, whichever input they come from

    def watermark(self) -> float | None:
        return None

    def config(self) -> dict[str, Any]:
        return self.kind.to_dict()

    def snapshot(self) -> dict[str, Any]:
        return {"seen": self.seen, "records": self.records.snapshot()}

    def restore(self, state: dict[str, Any]) -> None:
        self.seen = int(state["seen"])
        self.records.restore(state.get("records", {}))
