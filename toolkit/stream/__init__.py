"""Streaming word counts over windows, with streamz, on the same Dask cluster as batch jobs."""

from toolkit.stream.counting import CountJob, count_panes
from toolkit.stream.windows import (
    Chunk,
    CountWindowing,
    End,
    EventTimeWindowing,
    ProcessingTimeWindowing,
    Tick,
    WindowResult,
    assign_panes,
    pane_window,
)

__all__ = [
    "Chunk",
    "CountJob",
    "CountWindowing",
    "End",
    "EventTimeWindowing",
    "ProcessingTimeWindowing",
    "Tick",
    "WindowResult",
    "assign_panes",
    "count_panes",
    "pane_window",
]
