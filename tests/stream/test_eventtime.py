"""Event time: record times, and the watermark of one input or of several."""

from __future__ import annotations

import json
import math

import pytest

from tests.stream.stepping import settled
from toolkit.errors import ConfigError
from toolkit.stream.counting import CountJob, CountSessionJob
from toolkit.stream.eventtime import EventTime, parse_timestamp
from toolkit.stream.kinds import EventTimeWindowing, SessionWindowing
from toolkit.stream.messages import Chunk, Tick


def lines(*times: float, text: str = "x") -> list[str]:
    return [json.dumps({"ts": t, "text": text}) for t in times]


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (5, 5.0),
        (2.5, 2.5),
        ("7", 7.0),
        ("1970-01-01T00:00:10", 10.0),
        ("1970-01-01T00:00:10Z", 10.0),
    ],
)
def test_timestamps(value: object, seconds: float) -> None:
    assert parse_timestamp(value) == seconds


@pytest.mark.parametrize("value", [True, math.inf, float("nan"), "soon", None])
def test_not_timestamps(value: object) -> None:
    with pytest.raises(ValueError):
        parse_timestamp(value)


def test_one_input_s_watermark_is_its_largest_time_minus_the_lateness() -> None:
    et = EventTime("ts", lateness=2)
    assert et.watermark() == -math.inf
    for t in (5.0, 3.0, 9.0):
        et.see(t)
    assert et.watermark() == 7.0


def test_several_inputs_wait_for_the_slowest_until_it_ends() -> None:
    et = EventTime("ts", lateness=1)
    et.use_inputs(["a", "b"])
    et.see(50.0, "a")
    assert et.watermark() == -math.inf  # b has seen nothing: nothing may close
    et.see(10.0, "b")
    assert et.watermark() == 9.0 and et.max_time == 50.0
    et.end("b")
    assert et.watermark() == 49.0
    et.end("a")  # every input ended: the largest of all
    assert et.watermark() == 49.0


def test_a_quiet_input_holds_back_no_other_after_the_idle_timeout() -> None:
    et = EventTime("ts", idle_timeout=5)
    et.use_inputs(["data", "quiet"])
    assert not et.idle(1000.0)  # the idle clock starts for every input
    et.arrived(1001.0, "data")
    et.see(40.0, "data")
    assert et.watermark() == -math.inf
    assert not et.idle(1004.0)
    assert et.idle(1005.0) and et.watermark() == 40.0  # quiet for 5 s: left out
    et.arrived(1006.0, "quiet")  # it speaks again: it holds the others back again
    et.see(30.0, "quiet")
    assert et.watermark() == 30.0


def test_a_checkpoint_keeps_each_input_s_largest_time() -> None:
    et = EventTime("ts")
    et.use_inputs(["a", "b"])
    et.see(5.0, "a")
    et.see(7.0, "b")
    again = EventTime("ts")
    again.use_inputs(["a", "b"])
    again.restore(json.loads(json.dumps(et.snapshot())))
    assert again.inputs == {"a": 5.0, "b": 7.0} and again.watermark() == 5.0


def test_a_checkpoint_of_one_input_from_before_named_inputs_resumes() -> None:
    et = EventTime("ts")
    et.restore({"max_time": 12.0, "floor": -math.inf})
    assert et.inputs == {"main": 12.0} and et.watermark() == 12.0


def test_event_time_windows_close_by_the_slowest_input() -> None:
    w = EventTimeWindowing(10, field="ts")
    w.use_inputs(["fast", "slow"])
    fast = settled(w, Chunk(lines(5, 95), side="fast"))
    assert fast.boundary == w.closed < 0 and fast.late == 0  # slow has seen nothing
    slow = settled(w, Chunk(lines(3, 24), side="slow"))
    assert slow.boundary == 2 and slow.late == 0 and slow.lines == {0: 1, 2: 1}
    assert settled(w, Chunk(lines(25, 1), side="slow")).late == 1  # below the closed windows
    ended = settled(w, Chunk([], side="slow", ended=True))
    assert ended.boundary == 9 and ended.lines == {}


def test_sessions_close_by_the_slowest_input() -> None:
    w = SessionWindowing(5, events=EventTime("ts", text_field="text"))
    w.use_inputs(["a", "b"])
    job = CountSessionJob(CountJob(), 5)
    assert settled(w, Chunk(lines(100), side="a"), job).watermark is None
    assert settled(w, Chunk(lines(20), side="b"), job).watermark == 20.0
    assert settled(w, Chunk([], side="b", ended=True), job).watermark == 100.0
    assert settled(w, Tick(0.0), job).watermark is None


def test_event_time_needs_records_with_fields() -> None:
    with pytest.raises(
        ConfigError, match="event_time reads a field of each record: give records jsonl or csv"
    ):
        EventTime("ts", records="lines")
