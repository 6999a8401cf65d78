from __future__ import annotations

import json
import math
import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from streamz import Stream

from tests.conftest import MESSY_LINES
from tests.stream.stepping import settled
from toolkit.corpus import generate_lines
from toolkit.errors import ConfigError
from toolkit.stream.counting import CountJob
from toolkit.stream.messages import Chunk, End, Tick, WindowResult
from toolkit.stream.windowing import (
    CountWindowing,
    EventTimeWindowing,
    ProcessingTimeWindowing,
    Windowing,
)
from toolkit.text import get_tokenizer, top_k

REF = get_tokenizer("words").reference


def recount(texts: list[str]) -> Counter[str]:
    return Counter(w for t in texts for w in REF(t.lower()))


def pipeline(windowing: Windowing) -> tuple[Stream, list[WindowResult]]:
    head = Stream()
    out: list[WindowResult] = []
    head.assign_panes(windowing).count_panes(CountJob()).pane_window(windowing, top=0).sink(
        out.append
    )
    return head, out


def chunked(items: list[str], rng: random.Random) -> list[list[str]]:
    chunks, i = [], 0
    while i < len(items):
        n = rng.choice([0, 1, 2, 3, 7, 50])
        chunks.append(items[i : i + n])
        i += n
    return chunks


LINES = "".join(generate_lines(40_000, seed=11)).splitlines() + MESSY_LINES


@settings(max_examples=60, deadline=None)
@given(
    size=st.integers(1, 40),
    every=st.one_of(st.none(), st.integers(1, 40)),
    seed=st.integers(0, 9),
    n=st.integers(0, 300),
)
def test_count_windows_equal_a_brute_force_recount(
    size: int, every: int | None, seed: int, n: int
) -> None:
    lines = LINES[:n]
    head, out = pipeline(CountWindowing(size, every))
    for chunk in chunked(lines, random.Random(seed)):
        head.emit(Chunk(chunk))
    head.emit(End())
    m = every or size
    ends = list(range(m, n + 1, m))
    if n % m:  # the window that would come next, cut at the last line, if it holds any
        nxt = (n // m + 1) * m
        if max(0, nxt - size) < n:
            ends.append(nxt)
    expected = []
    for end in ends:
        start, stop = max(0, end - size), min(end, n)
        if stop > start:
            counts = recount(lines[start:stop])
            expected.append((start, stop, stop - start, sum(counts.values()), top_k(counts, None)))
    assert [(r.start, r.end, r.lines, r.words, r.top) for r in out] == expected
    if every is None:  # tumbling: every line counted exactly once
        assert sum(r.lines for r in out) == n
        total: Counter[str] = Counter()
        for r in out:
            total.update(dict(r.top))
        assert total == recount(lines)


@pytest.mark.parametrize(("length", "slide"), [(10, None), (10, 2), (6, 3)])
def test_processing_time_windows_with_an_injected_clock(length: float, slide: float | None) -> None:
    rng = random.Random(3)
    events: list[tuple[float, str]] = []
    t = 1_000_000.0
    for line in LINES[:400]:
        t += rng.choice([0.0, 0.1, 0.5, 1.7, 4.0])
        events.append((t, line))
    head, out = pipeline(ProcessingTimeWindowing(length, slide))
    for when, line in events:
        head.emit(Tick(when))
        head.emit(Chunk([line], time=when))
    head.emit(End())
    s = slide or length
    first = math.floor(events[0][0] / s) * s
    expected = []
    end = first + s
    while end - length <= events[-1][0]:
        inside = [line for when, line in events if end - length <= when < end]
        if inside:
            counts = recount(inside)
            expected.append((end - length, end, len(inside), top_k(counts, None)))
        end += s
    assert [(r.start, r.end, r.lines, r.top) for r in out] == expected
    assert all(r.start % s == 0 for r in out)  # aligned to the epoch


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
    with pytest.raises(ConfigError, match="top must be a non-negative int"):
        Stream().pane_window(CountWindowing(3), top=-1)


def test_result_json_shape() -> None:
    assert WindowResult(0, 10.5, 2, 3, [("a", 2), ("b", 1)], late=1).to_dict() == {
        "start": 0,
        "end": 10.5,
        "lines": 2,
        "words": 3,
        "top": [["a", 2], ["b", 1]],
        "late": 1,
    }
