"""The streamz nodes of a windowed job (``toolkit/stream/nodes.py``): a window node's state
survives a snapshot mid-stream, sessions come out in order, options are checked."""

from __future__ import annotations

import pytest
from streamz import Stream

from toolkit.errors import ConfigError
from toolkit.jobs import KeyedJob, combining
from toolkit.stream.counting import CountJob
from toolkit.stream.folding import KeyedPaneJob, KeyedSessionJob
from toolkit.stream.kinds import CountWindowing, ProcessingTimeWindowing, make_windowing
from toolkit.stream.messages import Chunk, End, Tick
from toolkit.stream.open_windows import pickled, unpickled

WORDS = [f"w{i % 7} w{i % 3}" for i in range(100)]


def word_windows(chunks: list[list[str]], cut: int | None = None) -> list[tuple[object, ...]]:
    """Sliding count windows over ``chunks``; with ``cut``, the window node snapshotted after
    that many chunks and restored into a new pipeline, as a checkpoint does."""
    w = CountWindowing(10, 5)
    head = Stream()
    node = head.assign_panes(w).count_panes(CountJob()).pane_window(w, top=0)
    out = node.sink_to_list()
    for i, chunk in enumerate(chunks):
        if i == cut:
            state, seen = node.snapshot(), w.snapshot()
            w = CountWindowing(10, 5)
            w.restore(seen)
            head = Stream()
            node = head.assign_panes(w).count_panes(CountJob()).pane_window(w, top=0)
            node.restore(pickled_round_trip(state))
            node.sink(out.append)
        head.emit(Chunk(chunk))
    head.emit(End())
    return [(r.start, r.end, r.lines, sorted(r.top)) for r in out]


def pickled_round_trip(state: object) -> object:
    import json

    return json.loads(json.dumps(state))  # a checkpoint is JSON


@pytest.mark.parametrize("cut", [1, 3, 7])
def test_a_window_node_restored_mid_stream_goes_on_as_if_never_stopped(cut: int) -> None:
    chunks = [WORDS[i : i + 9] for i in range(0, 100, 9)]
    assert word_windows(chunks, cut) == word_windows(chunks)


def test_sessions_closing_together_come_by_end_then_key() -> None:
    job = KeyedJob(lambda r: [(r["k"], 1)], combining(lambda a, b: a + b), "jsonl")
    w = make_windowing(session="5s", event_time="t", text_field=None, records="jsonl")
    head = Stream()
    out = head.assign_panes(w).count_panes(KeyedSessionJob(job, 5.0)).session_window(w, job=job)
    got = out.sink_to_list()
    head.emit(Chunk(['{"t": 1, "k": "b"}', '{"t": 1, "k": "a"}', '{"t": 3, "k": "c"}']))
    head.emit(End())
    assert [(r.key, r.start, r.end) for r in got] == [("a", 1, 6), ("b", 1, 6), ("c", 3, 8)]


def test_a_keyed_window_of_processing_time_closes_on_ticks() -> None:
    job = KeyedJob(lambda line: [(line, 1)], combining(lambda a, b: a + b))
    w = ProcessingTimeWindowing(10)
    head = Stream()
    out = head.assign_panes(w).count_panes(KeyedPaneJob(job)).keyed_window(w, job)
    got = out.sink_to_list()
    head.emit(Chunk(["a", "b", "a"], time=5.0))
    assert got == []
    head.emit(Tick(10.0))
    assert [(r.start, r.end, r.results) for r in got] == [(0, 10, [("a", 2), ("b", 1)])]


def test_options_are_checked_when_the_node_is_built() -> None:
    with pytest.raises(ConfigError, match="top must be a non-negative int"):
        Stream().pane_window(CountWindowing(3), top=-1)
    with pytest.raises(ConfigError, match="emit every must be positive"):
        Stream().pane_window(CountWindowing(3), emit_every=0)


def test_a_user_s_values_travel_in_a_checkpoint() -> None:
    class Mine:
        def __init__(self, n: int) -> None:
            self.n = n

    back = unpickled(pickled([("k", Mine(3))]))
    assert back[0][0] == "k" and back[0][1].n == 3


def test_a_negative_top_is_refused() -> None:
    with pytest.raises(ConfigError, match="top must be a non-negative int"):
        Stream().pane_window(CountWindowing(3), top=-1)
