"""Streaming word counts over windows, with streamz, on the same Dask cluster as batch jobs.

How a line travels, module by module::

    sources/      a Source reads lines on its thread -> Chunk (messages.py)
    reader.py     the source's thread and a bounded queue (backpressure)
    pipeline.py   the driver: one thread takes Chunks from the reader, pushes them and Ticks
    nodes.py      assign_panes: the windowing (windowing.py) -> PaneBatch, text per pane
    counting.py   count_panes: each pane's words counted, here or on the cluster -> PaneCounts
    nodes.py      pane_window: counts merged into the open windows (windows.py) -> WindowResult
    outputs.py    window results as JSON lines in files that a checkpoint can roll back

:func:`stream_word_count` (wordcount.py) builds the whole pipeline from user
options; checkpoint.py stores and loads its state, stats.py and metrics.py
report what it does; registration.py puts the nodes on ``streamz.Stream``.
"""

from toolkit.stream.counting import CountJob, count_panes
from toolkit.stream.messages import Chunk, End, Tick, WindowResult
from toolkit.stream.nodes import assign_panes, pane_window
from toolkit.stream.pipeline import WindowedWordCount
from toolkit.stream.sources import Source, parse_source
from toolkit.stream.sources.event_loop import from_lines
from toolkit.stream.windowing import (
    CountWindowing,
    EventTimeWindowing,
    ProcessingTimeWindowing,
    make_windowing,
)
from toolkit.stream.wordcount import stream_word_count, to_frame

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
