from __future__ import annotations

import math
import random

import pytest

from tests.stream.kinds.windowed import LINES, pipeline, recount
from toolkit.stream.kinds import ProcessingTimeWindowing, ProcessingTimeWindows
from toolkit.stream.messages import Chunk, End, Tick
from toolkit.text import top_k


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


def test_the_config_makes_the_logic_and_names_it() -> None:
    kind = ProcessingTimeWindows(0.3, 0.1)
    w = kind.logic()
    assert isinstance(w, ProcessingTimeWindowing) and w.kind == kind
    # as checkpoints written before configs were values have it
    assert w.config() == {"kind": "processing-time", "length": 0.1 * 3, "slide": 0.1}
