from __future__ import annotations

import json
import math
import random

import pytest

from tests.stream.kinds.windowed import LINES, chunked, pipeline, recount
from tests.stream.stepping import settled
from toolkit.errors import ConfigError
from toolkit.stream.eventtime import EventTimeSpec
from toolkit.stream.kinds import EventTimeWindowing, EventTimeWindows
from toolkit.stream.messages import Chunk, End
from toolkit.text import top_k


def event_lines(rng: random.Random, n: int, disorder: float) -> list[tuple[float, str]]:
    events = []
    for i in range(n):
        t = 1_700_000_000 + i * 0.5 + rng.uniform(-disorder, 0)
        events.append((t, LINES[i % len(LINES)]))
    return events


def as_json(t: float, text: str, iso: bool = False) -> str:
    stamp: float | str = t
    if iso:
        import datetime

        stamp = datetime.datetime.fromtimestamp(t, datetime.UTC).isoformat()
    return json.dumps({"ts": stamp, "text": text})


def reference_event_windows(
    events: list[tuple[float, str]], length: float, slide: float, lateness: float
) -> tuple[list[tuple[float, float, int, list[tuple[str, int]]]], int]:
    """Per event, in arrival order: late if older than the end of the last closed window."""
    max_t, closed_end, accepted, late = -math.inf, -math.inf, [], 0
    for t, text in events:
        if t < closed_end:
            late += 1
            continue
        accepted.append((t, text))
        max_t = max(max_t, t)
        closed_end = max(closed_end, math.floor((max_t - lateness) / slide) * slide)
    ends = sorted(
        {
            math.floor(t / slide) * slide + slide + k * slide
            for t, _ in accepted
            for k in range(round(length / slide))
        }
    )
    windows = []
    for end in ends:
        inside = [text for t, text in accepted if end - length <= t < end]
        if inside:
            windows.append((end - length, end, len(inside), top_k(recount(inside), None)))
    return windows, late


@pytest.mark.parametrize(("length", "slide"), [(5, None), (10, 2.5)])
@pytest.mark.parametrize("seed", [1, 2])
def test_event_time_out_of_order_within_the_bound(
    length: float, slide: float | None, seed: int
) -> None:
    rng = random.Random(seed)
    events = event_lines(rng, 600, disorder=4.0)
    w = EventTimeWindowing(length, slide, field="ts", lateness=4.0)
    head, out = pipeline(w)
    lines = [as_json(t, text, iso=i % 3 == 0) for i, (t, text) in enumerate(events)]
    for chunk in chunked(lines, rng):
        head.emit(Chunk(chunk))
    head.emit(End())
    expected, late = reference_event_windows(events, length, slide or length, 4.0)
    assert late == 0  # within the lateness bound nothing is late
    assert [(r.start, r.end, r.lines, r.top) for r in out] == expected
    assert all(r.late == 0 for r in out)


def test_late_events_are_reported_not_counted() -> None:
    rng = random.Random(5)
    events = event_lines(rng, 800, disorder=12.0)  # disorder beyond the lateness bound
    w = EventTimeWindowing(5, field="ts", lateness=2.0)
    head, out = pipeline(w)
    for chunk in chunked([as_json(t, x) for t, x in events], rng):
        head.emit(Chunk(chunk))
    head.emit(End())
    expected, late = reference_event_windows(events, 5, 5, 2.0)
    assert late > 20
    assert [(r.start, r.end, r.lines, r.top) for r in out] == expected
    assert sum(r.late or 0 for r in out) == late


def test_bad_event_lines_are_counted_as_bad() -> None:
    w = EventTimeWindowing(10, field="ts")
    batch = settled(
        w,
        Chunk(
            [
                '{"ts": 1, "text": "ok"}',
                "not json",
                '{"ts": "yesterday", "text": "x"}',
                '{"text": "no time"}',
                '{"ts": 2, "text": 5}',
                "[1, 2]",
            ],
            bad=2,
        ),
    )
    assert batch.lines == {0: 1} and batch.bad == 5 + 2


def test_window_options_are_checked() -> None:
    with pytest.raises(ConfigError, match="lateness must not be negative"):
        EventTimeWindowing(10, lateness=-1)


def test_the_config_makes_the_logic_and_names_it() -> None:
    spec = EventTimeSpec("ts", text_field="text", lateness=2.0)
    kind = EventTimeWindows(60, 20, spec)
    w = kind.logic()
    assert isinstance(w, EventTimeWindowing) and w.kind == kind
    assert w.config() == {
        "kind": "event-time",
        "length": 60,
        "slide": 20,
        "field": "ts",
        "text_field": "text",
        "lateness": 2.0,
        "idle_timeout": None,
        "records": "jsonl",
    }
