"""The driver of N named inputs: chunks by side, ticks, inputs' ends, positions; and a stream
of two inputs end to end, each with its own watermark."""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.stream.listsource import ListSource
from toolkit.errors import ConfigError
from toolkit.stream import stream_map_reduce, stream_word_count
from toolkit.stream.driver import Driver
from toolkit.stream.messages import Chunk, Tick, WindowResult
from toolkit.stream.sources import as_inputs, parse_source, parse_sources
from toolkit.stream.sources.base import Put, Ready
from toolkit.text import count_words


class GatedSource(ListSource):
    """A list source that waits for a go-ahead before each chunk (to order two inputs)."""

    kind = "gated"

    def __init__(self, lines: list[str], chunk: int) -> None:
        super().__init__(lines, chunk)
        self.go = threading.Semaphore(0)

    def run(self, put: Put, stop: threading.Event, ready: Ready) -> None:
        for i in range(0, len(self.lines), self.chunk):
            while not self.go.acquire(timeout=0.05):
                if stop.is_set():
                    return
            put(self.lines[i : i + self.chunk], 0, {"at": i + self.chunk})


def drive(driver: Driver, limit: int = 10_000) -> None:
    driver.start()
    for _ in range(limit):
        if not driver.step(timeout=5):
            return
    raise AssertionError("the driver did not end")


def test_chunks_carry_their_side_and_positions_are_kept_per_input() -> None:
    a, b = GatedSource(["a1", "a2", "a3"], 2), GatedSource(["b1"], 1)
    out: list[Any] = []
    driver = Driver({"left": a, "right": b}, out.append, idle_ticks=False)
    driver.start()
    a.go.release()
    assert driver.step(timeout=5) and out[-1] == Chunk(["a1", "a2"], out[-1].time, side="left")
    assert driver.snapshot() == {"left": {"at": 2}, "right": None}
    b.go.release()
    assert driver.step(timeout=5) and out[-1].side == "right" and out[-1].lines == ["b1"]
    assert driver.step(timeout=5)  # the right input ends; the left goes on: it is told so
    assert out[-1] == Chunk([], out[-1].time, side="right", ended=True)
    a.go.release()
    while driver.step(timeout=5):
        pass
    assert driver.ended and driver.error is None
    assert [c.lines for c in out if isinstance(c, Chunk) and c.side == "left"] == [
        ["a1", "a2"],
        ["a3"],
    ]
    assert driver.snapshot() == {"left": {"at": 4}, "right": {"at": 1}}
    assert sum(isinstance(c, Chunk) and c.ended for c in out) == 1  # the last end is the stream's


def test_one_input_is_the_main_input_and_is_told_no_end_of_its_own() -> None:
    out: list[Any] = []
    drive(Driver(as_inputs(ListSource(["x", "y"], 1)), out.append, idle_ticks=False))
    assert {c.side for c in out} == {"main"} and not any(c.ended for c in out)
    assert [x for c in out for x in c.lines] == ["x", "y"]


def test_ticks_come_aligned_to_the_slide_and_when_idle() -> None:
    now = [100.05]
    out: list[Any] = []
    source = GatedSource(["a"], 1)
    driver = Driver({"main": source}, out.append, clock=lambda: now[0], tick_every=0.5)
    driver.start()
    assert driver.step(timeout=0) and out == [Tick(100.05)]  # idle
    out.clear()
    now[0] = 100.5
    driver.step(timeout=0)
    assert out == [Tick(100.5), Tick(100.5)]  # the slide's tick, then the idle one
    driver.stop()
    assert not driver.step(timeout=0) and not driver.ended  # stopped, not ended


def test_a_failing_input_stops_the_others_and_is_reported() -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        demo = parse_source("demo:?rate=1000")  # endless: stopped by the other's failure
        driver = Driver({"ok": demo, "bad": parse_source(f"tcp://127.0.0.1:{port}")}, print)
        driver.start()
        while driver.step(timeout=5):
            pass
        driver.finish()
    assert driver.stopping and f"127.0.0.1:{port}" in str(driver.error)


@pytest.mark.parametrize(
    ("given", "names"),
    [("demo:", ["main"]), (["demo:"], ["main"]), (["demo:", "demo:"], ["0", "1"])],
)
def test_inputs_are_named_by_position_or_as_given(given: Any, names: list[str]) -> None:
    assert list(parse_sources(given)) == names
    assert list(parse_sources({"clicks": "demo:", "views": "demo:"})) == ["clicks", "views"]


@pytest.mark.parametrize("bad", [[], {}, 3, ["demo:", 3]])
def test_bad_inputs_are_a_config_error(bad: Any) -> None:
    with pytest.raises(ConfigError):
        parse_sources(bad)


def test_one_source_object_cannot_be_two_inputs() -> None:
    source = parse_source("demo:")
    with pytest.raises(ConfigError, match="given twice"):
        as_inputs([source, source])


def skewed_events(n: int, seed: int) -> tuple[list[str], list[str]]:
    """Two inputs over the same stretch of event time, each in order within a second: one of
    long records (few a chunk) and one of short ones (many a chunk), so the short one runs
    far ahead in event time as the two are read."""
    rng = random.Random(seed)
    words = "alpha beta gamma delta épsilon ζήτα eta theta".split()
    long, short = [], []
    for i in range(n):
        t = 1_700_000_000 + i * 0.01
        text = " ".join(rng.choice(words) for _ in range(40))
        long.append(json.dumps({"ts": round(t - rng.random() * 0.9, 3), "text": text}))
        short.append(json.dumps({"ts": round(t - rng.random() * 0.9, 3), "text": words[i % 8]}))
    return long, short


def _write(path: Path, lines: list[str]) -> str:
    path.write_text("".join(x + "\n" for x in lines), encoding="utf-8")
    return str(path)


def test_two_files_in_event_time_count_as_their_batch_count(tmp_path: Path) -> None:
    """Each input has its own watermark: however far ahead the short records run, the long
    ones are on time, and the windows add up to the word count of both files."""
    long, short = skewed_events(40_000, seed=5)
    files = [_write(tmp_path / "long.jsonl", long), _write(tmp_path / "short.jsonl", short)]
    wc = stream_word_count(files, window="10s", event_time="ts", lateness="1s", top=0)
    results: list[WindowResult] = wc.results.sink_to_list()
    stats = wc.run()
    total: Counter[str] = Counter()
    for r in results:
        total.update(dict(r.top))
    texts = [json.loads(x)["text"] for x in long + short]
    assert total == count_words("\n".join(texts))
    assert stats.late == 0 and sum(r.late or 0 for r in results) == 0
    assert sum(r.lines for r in results) == len(texts) == stats.lines
    starts = [r.start for r in results]
    assert starts == sorted(starts) and len(starts) == len(set(starts))


def test_one_watermark_for_both_would_have_dropped_events(tmp_path: Path) -> None:
    """The same records as one input, the short ones first (as a shared watermark sees them
    when the short input runs ahead): most long records are late.  This is what each
    input's own watermark prevents."""
    long, short = skewed_events(40_000, seed=5)
    path = _write(tmp_path / "both.jsonl", short + long)
    wc = stream_word_count(path, window="10s", event_time="ts", lateness="1s", top=0)
    assert wc.run().late > len(long) // 2


def test_two_inputs_feed_a_user_job(tmp_path: Path) -> None:
    long, short = skewed_events(5_000, seed=7)
    sources = {
        "long": parse_source(_write(tmp_path / "long.jsonl", long)),
        "short": parse_source(_write(tmp_path / "short.jsonl", short)),
    }
    job = stream_map_reduce(
        sources,
        lambda r: [(w, 1) for w in r["text"].split()],
        lambda a, b: a + b,
        records="jsonl",
        window="5s",
        event_time="ts",
        lateness="1s",
    )
    results = job.results.sink_to_list()
    assert job.run().late == 0
    total: Counter[Any] = Counter()
    for r in results:
        total.update(dict(r.results))
    assert total == Counter(w for x in long + short for w in json.loads(x)["text"].split())
    assert sorted(job.identity["sources"]) == ["long", "short"]
