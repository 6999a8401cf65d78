"""Sessions (``toolkit/stream/sessions.py``): parts merged in any grouping equal a plain
sessionisation of all the events; the idle clock of event time."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.stream.stepping import settled
from toolkit.jobs import KeyedJob, combining
from toolkit.stream.eventtime import EventTime
from toolkit.stream.folding import KeyedPaneJob, KeyedSessionJob
from toolkit.stream.kinds import EventTimeWindowing, SessionWindowing
from toolkit.stream.messages import Chunk, Tick
from toolkit.stream.sessions import OpenSessions, cut_sessions


def plain_sessions(times: list[float], gap: float) -> list[tuple[float, float, int]]:
    """Sort, cut where the gap is >= ``gap``: (first, last, events) per session."""
    out: list[list[float]] = []
    for t in sorted(times):
        if out and t - out[-1][-1] < gap:
            out[-1].append(t)
        else:
            out.append([t])
    return [(s[0], s[-1], len(s)) for s in out]


@settings(max_examples=300, deadline=None)
@given(
    times=st.lists(st.integers(0, 200).map(float), min_size=1, max_size=60),
    cuts=st.lists(st.integers(1, 10), min_size=1, max_size=20),
    gap=st.sampled_from([0.5, 1.0, 3.0, 10.0]),
)
def test_parts_in_any_grouping_merge_to_the_plain_sessions(
    times: list[float], cuts: list[int], gap: float
) -> None:
    sessions = OpenSessions(gap, merge=lambda a, b: a + b)
    i, k = 0, 0
    while i < len(times):  # the events in micro-batches of varying sizes, each cut into parts
        batch = times[i : i + cuts[k % len(cuts)]]
        i, k = i + len(batch), k + 1
        for group in cut_sessions(batch, gap):
            part = [batch[g] for g in group]
            sessions.add("key", (part[0], part[-1], len(part), len(part)))
    closed = sessions.close_all()
    got = [(first, last, n) for _, (first, last, n, value) in closed]
    assert sorted(got) == plain_sessions(times, gap)
    assert all(n == value for _, (_, _, n, value) in closed)
    assert [p[1] for _, p in closed] == sorted(p[1] for _, p in closed)  # by end


def test_sessions_close_by_the_watermark_only() -> None:
    s = OpenSessions(5, merge=lambda a, b: a + b)
    s.add("a", (0.0, 1.0, 2, 2))
    s.add("b", (3.0, 3.0, 1, 1))
    assert s.close(5.9) == []
    assert s.close(6.0) == [("a", (0.0, 1.0, 2, 2))]  # ends at 1 + 5
    assert len(s) == 1 and s.close(math.inf) == [("b", (3.0, 3.0, 1, 1))]


def test_an_idle_stream_moves_the_watermark_with_the_wall_clock() -> None:
    w = EventTimeWindowing(5, field="ts", text_field=None, idle_timeout=2.0)
    job = KeyedPaneJob(KeyedJob(lambda r: [(1, 1)], combining(lambda a, b: a + b), "jsonl"))

    def step(item: Chunk | Tick) -> Any:
        return settled(w, item, job)

    batch = step(Chunk(['{"ts": 1}', '{"ts": 7}'], time=100.0))
    assert batch.boundary == 1  # the window [0, 5) closed; [5, 10) is open
    assert step(Tick(101.9)).boundary is None  # quiet, but not for 2 s yet
    assert step(Tick(103.0)).boundary == 1  # watermark 7 + 1: [5, 10) still open
    assert step(Tick(105.0)).boundary == 2  # watermark 7 + 3 = 10: it closes
    assert w.watermark() == 10.0
    late = step(Chunk(['{"ts": 9}'], time=105.1))
    assert late.late == 1  # below the watermark the idle clock set


def test_sessions_of_an_idle_stream_close_too() -> None:
    events = EventTime("ts", lateness=1.0, idle_timeout=1.0)
    w = SessionWindowing(2.0, events=events)
    job = KeyedSessionJob(KeyedJob(lambda r: [(1, 1)], combining(lambda a, b: a + b), "jsonl"), 2.0)
    b = settled(w, Chunk(['{"ts": 10, "text": "a"}'], time=50.0), job)
    assert b.watermark == 9.0 and b.parts == {1: [(10.0, 10.0, 1, 1)]}
    assert settled(w, Tick(50.5), job).watermark is None
    assert settled(w, Tick(53.0), job).watermark == 12.0  # 10 + (53 - 50 - 1): the session [10, 12)
