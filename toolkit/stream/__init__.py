"""Windowed streams with streamz, on the same Dask cluster as batch jobs: word counts, user jobs.

How a line travels, module by module::

    sources/      a Source reads lines on its thread; reader.py: the threads of a stream's
                  inputs (one or more named sources) and one bounded queue (backpressure)
    driver.py     the driver: takes what the inputs handed over, in arrival order, and
                  pushes it through the pipeline as Chunks of their side (messages.py),
                  with Ticks; pipeline.py runs it on its thread, with checkpoints
    nodes.py      assign_panes: the windowing, a window kind's logic (kinds/: a module per
                  kind, each a frozen config and its logic; panes sized by panes.py,
                  eventtime.py for record times) -> PaneBatch per pane, or SessionBatch;
                  in event time the chunk whole, as a TimedBatch (eventwindows.py), its
                  records to be read where they are folded
    counting.py   count_panes: a worker job on each batch, here or on the cluster: words
                  counted -> PaneCounts; a user job's records folded (folding.py) ->
                  PaneStates, or cut into parts of sessions -> SessionParts; each result
                  settled on the driver in arrival order (event time: lateness, watermark)
    nodes.py      window: one node for every kind, with the open windows of the kind's shape
                  (open_windows.py): a word count's counts merged into windows of panes
                  (windows.py) -> WindowResult; a user job's states (keyed_windows.py) ->
                  KeyedWindowResult; parts merged into open sessions (sessions.py) ->
                  SessionResult; pane_window, keyed_window, session_window name the shapes
    sinks.py      where results go, by format (one protocol: write, sync, restore, close):
                  outputs.py, JSON lines in files that a checkpoint can roll back, or
                  datasets.py, a Parquet dataset of rolled files; a result says itself how
                  it is a JSON object and rows (messages.py)

:func:`stream_word_count` (wordcount.py) and :func:`stream_map_reduce`
(mapreduce.py) build the whole pipeline from user options, which runs with
``run()`` or, in the background, ``start()``/``stop()`` (background.py); checkpoint.py
stores and loads its state, stats.py and metrics.py report what it does
(dashboard.py shows it on a page of the Dask dashboard);
registration.py puts the nodes on ``streamz.Stream``.
"""

from toolkit.stream.counting import CountJob, CountSessionJob, count_panes
from toolkit.stream.eventtime import EventTimeSpec
from toolkit.stream.folding import KeyedPaneJob, KeyedSessionJob
from toolkit.stream.kinds import (
    CountWindowing,
    CountWindows,
    EventTimeWindowing,
    EventTimeWindows,
    ProcessingTimeWindowing,
    ProcessingTimeWindows,
    Sessions,
    SessionWindowing,
    make_windowing,
    window_kind,
)
from toolkit.stream.mapreduce import WindowedJob, stream_map_reduce
from toolkit.stream.messages import (
    Chunk,
    End,
    KeyedWindowResult,
    SessionResult,
    Tick,
    WindowResult,
)
from toolkit.stream.nodes import assign_panes, keyed_window, pane_window, session_window, window
from toolkit.stream.pipeline import WindowedStream
from toolkit.stream.sources import Source, parse_source, parse_sources
from toolkit.stream.sources.event_loop import from_lines
from toolkit.stream.wordcount import WindowedWordCount, stream_word_count, to_frame

__all__ = [
    "Chunk",
    "CountJob",
    "CountSessionJob",
    "CountWindowing",
    "CountWindows",
    "End",
    "EventTimeSpec",
    "EventTimeWindowing",
    "EventTimeWindows",
    "KeyedPaneJob",
    "KeyedSessionJob",
    "KeyedWindowResult",
    "ProcessingTimeWindowing",
    "ProcessingTimeWindows",
    "SessionResult",
    "SessionWindowing",
    "Sessions",
    "Source",
    "Tick",
    "WindowResult",
    "WindowedJob",
    "WindowedStream",
    "WindowedWordCount",
    "assign_panes",
    "count_panes",
    "from_lines",
    "keyed_window",
    "make_windowing",
    "pane_window",
    "parse_source",
    "parse_sources",
    "session_window",
    "stream_map_reduce",
    "stream_word_count",
    "to_frame",
    "window",
    "window_kind",
]
