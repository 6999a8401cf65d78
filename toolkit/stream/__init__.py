"""Streaming word counts over windows, with streamz, on the same Dask cluster as batch jobs.

Sources read lines; ``assign_panes`` puts them in panes, ``count_panes`` counts
them (here or on the cluster), ``pane_window`` closes windows.
:func:`stream_word_count` builds the whole pipeline.
"""

from toolkit.stream.counting import CountJob, count_panes
from toolkit.stream.pipeline import WindowedWordCount, stream_word_count, to_frame
from toolkit.stream.sources import Source, parse_source
from toolkit.stream.sources.event_loop import from_lines
from toolkit.stream.windows import (
    Chunk,
    CountWindowing,
    End,
    EventTimeWindowing,
    ProcessingTimeWindowing,
    Tick,
    WindowResult,
    assign_panes,
    make_windowing,
    pane_window,
)

__all__ = [
    "Chunk",
    "CountJob",
    "CountWindowing",
    "End",
    "EventTimeWindowing",
    "ProcessingTimeWindowing",
    "Source",
    "Tick",
    "WindowResult",
    "WindowedWordCount",
    "assign_panes",
    "count_panes",
    "from_lines",
    "make_windowing",
    "pane_window",
    "parse_source",
    "stream_word_count",
    "to_frame",
]
