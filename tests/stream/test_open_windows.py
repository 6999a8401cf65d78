"""What a window node keeps open (``toolkit/stream/open_windows.py``): each shape's results
as windows close, its open results so far, its state through a JSON checkpoint; and a shape
of one's own through the same window node."""

from __future__ import annotations

import json
from typing import Any

from streamz import Stream

from tests.stream.stepping import settled
from toolkit.jobs import KeyedJob, combining
from toolkit.stream.counting import CountJob, CountSessionJob
from toolkit.stream.folding import KeyedPaneJob, KeyedSessionJob
from toolkit.stream.kinds import CountWindowing, make_windowing
from toolkit.stream.messages import Chunk, End, KeyedWindowResult, SessionResult, WindowResult
from toolkit.stream.open_windows import KeyedWindows, SessionWindows, WordWindows

JOB = KeyedJob(lambda line: [(line, 1)], combining(lambda a, b: a + b))


def _round_trip(state: Any) -> Any:
    return json.loads(json.dumps(state))


def test_word_windows_close_peek_and_survive_a_checkpoint() -> None:
    w = CountWindowing(4, every=2)
    opened = WordWindows(w, top=0)
    opened.add(CountJob()(w.assign(Chunk(["a b", "b", "c"]))))
    assert [(r.start, r.end, sorted(r.top)) for r in opened.peek()] == [
        (0, 2, [("a", 1), ("b", 2)]),
        (0, 3, [("a", 1), ("b", 2), ("c", 1)]),
        (2, 3, [("c", 1)]),
    ]
    again = WordWindows(w, top=0)
    again.restore(_round_trip(opened.snapshot()))
    closed = again.close(CountJob()(w.assign(End())))
    assert [(type(r), r.start, r.end, r.lines, point) for r, point in closed] == [
        (WindowResult, 0, 2, 2, 1),
        (WindowResult, 0, 3, 3, 2),
    ]
    assert all(r.late is None and r.final is None for r, _ in closed)


def test_keyed_windows_merge_states_per_window() -> None:
    w = CountWindowing(2)
    opened = KeyedWindows(w, JOB)
    opened.add(KeyedPaneJob(JOB)(w.assign(Chunk(["x", "y", "x"]))))
    again = KeyedWindows(w, JOB)
    again.restore(_round_trip(opened.snapshot()))
    closed = again.close(KeyedPaneJob(JOB)(w.assign(End())))
    assert [(type(r), r.results) for r, _ in closed] == [
        (KeyedWindowResult, [("x", 1), ("y", 1)]),
        (KeyedWindowResult, [("x", 1)]),
    ]


def test_sessions_of_a_user_job_and_of_a_word_count() -> None:
    w = make_windowing(session="5s", event_time="t", text_field=None, records="jsonl")
    job = KeyedJob(lambda r: [(r["k"], 1)], combining(lambda a, b: a + b), "jsonl")
    opened = SessionWindows(5.0, job)
    lines = ['{"t": 1, "k": "a"}', '{"t": 2, "k": "b"}']
    opened.add(settled(w, Chunk(lines), KeyedSessionJob(job, 5.0)))
    assert [(r.key, r.start, r.end) for r in opened.peek()] == [("a", 1, 6), ("b", 2, 7)]
    closed = opened.close(settled(w, End(), KeyedSessionJob(job, 5.0)))
    assert [(type(r), r.key, r.value, point) for r, point in closed] == [
        (SessionResult, "a", 1, 6),
        (SessionResult, "b", 1, 7),
    ]
    words = make_windowing(session="5s")
    stream = SessionWindows(5.0, None, top=1)
    stream.add(CountSessionJob(CountJob(), 5.0)(words.assign(Chunk(["a b b"], time=10.0))))
    [(result, point)] = stream.close(CountSessionJob(CountJob(), 5.0)(words.assign(End())))
    assert type(result) is WindowResult and result.top == [("b", 2)] and point == 15.0


class Totals:
    """A shape of one's own: one running total of records, a result at the end only."""

    def __init__(self) -> None:
        self.records = 0

    def add(self, x: Any) -> None:
        self.records += sum(x.lines.values())

    def close(self, x: Any) -> list[tuple[Any, float]]:
        return [(KeyedWindowResult(0, self.records, self.records, 0, []), 0)] if x.end else []

    def peek(self) -> list[Any]:
        return []

    def snapshot(self) -> Any:
        return self.records

    def restore(self, state: Any) -> None:
        self.records = state


def test_a_new_shape_is_one_class_through_the_same_window_node() -> None:
    w = CountWindowing(3)
    head = Stream()
    out = head.assign_panes(w).count_panes(CountJob()).window(w, Totals()).sink_to_list()
    for item in (Chunk(["a", "b"]), Chunk(["c", "d"]), End()):
        head.emit(item)
    assert [(r.end, r.records) for r in out] == [(4, 4)]
