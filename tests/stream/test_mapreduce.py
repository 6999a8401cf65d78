"""A user's job over a stream (``toolkit/stream/mapreduce.py``), against brute-force references.

The references follow the rules as the README states them, event by event:
the watermark before an event is the largest event time seen before it minus
the lateness; a window's event is late when the first window holding it has
closed (its end <= the watermark); a session's event is late when it is
below the watermark; sessions are each key's on-time events, sorted, cut at
gaps >= GAP.  Each late event is reported with the first result after it
that ends beyond the watermark it came at.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import user_functions as jobs
from tests.stream.listsource import ListSource
from toolkit.batch import map_reduce
from toolkit.corpus import access_log
from toolkit.jobs import Mean, combining
from toolkit.jobs.results import json_text, ordered_results
from toolkit.stream import stream_map_reduce
from toolkit.stream.outputs import window_line


def log_lines(n: int, *, seed: int = 0, disorder: float = 0.0, late: float = 0.0) -> list[str]:
    """JSON access-log lines, out of order by ``disorder`` s; a share ``late`` of them later."""
    rng = random.Random(seed)
    out = []
    for r in access_log(n, seed=seed, rate=200, disorder=disorder):
        if late and rng.random() < late:
            r["ts"] = float(r["ts"]) - rng.uniform(2, 6)  # type: ignore[arg-type]
        out.append(json.dumps(r, ensure_ascii=False))
    return out


def run_lines(job: Any) -> list[str]:
    out: list[str] = []
    job.results.sink(lambda r: out.append(window_line(r)))
    job.run()
    return out


# -- brute-force references ---------------------------------------------------------------


def _events(lines: list[str]) -> Iterator[tuple[float, dict[str, Any]]]:
    for line in lines:
        record = json.loads(line)
        yield float(record["ts"]), record


def reference_windows(
    lines: list[str],
    mapper: Callable[[Any], Any],
    reducer: Callable[[Any, Any], Any],
    *,
    length: float,
    slide: float,
    lateness: float,
) -> list[str]:
    windows: dict[int, dict[Any, Any]] = {}  # window end (in slides) -> key -> value
    records: dict[int, int] = {}
    late_at: list[float] = []  # the closed window end (in slides) when each late event came
    max_seen = -math.inf
    k = round(length / slide)
    for t, record in _events(lines):
        # windows ending at or before `closed` (in slides) are closed
        closed = math.floor((max_seen - lateness) / slide) if max_seen > -math.inf else -(10**18)
        first_end = math.floor(t / slide) + 1
        if first_end <= closed:
            late_at.append(closed)
            continue
        max_seen = max(max_seen, t)
        for end in range(first_end, first_end + k):
            acc = windows.setdefault(end, {})
            for key, value in mapper(record):
                acc[key] = reducer(acc[key], value) if key in acc else value
            records[end] = records.get(end, 0) + 1
    out = []
    for end in sorted(windows):
        late = sum(1 for c in late_at if c < end)
        late_at = [c for c in late_at if c >= end]
        results = [[key, v] for key, v in ordered_results(windows[end])]
        doc = {
            "start": _num((end - k) * slide),
            "end": _num(end * slide),
            "records": records[end],
            "keys": len(windows[end]),
            "results": results,
            "late": late,
        }
        out.append(json.dumps(doc, ensure_ascii=False) + "\n")
    return out


def reference_sessions(
    lines: list[str],
    mapper: Callable[[Any], Any],
    reducer: Callable[[Any, Any], Any],
    *,
    gap: float,
    lateness: float,
) -> list[str]:
    by_key: dict[Any, list[tuple[float, int, Any]]] = {}
    late_at: list[float] = []
    max_seen = -math.inf
    for i, (t, record) in enumerate(_events(lines)):
        if t < max_seen - lateness:
            late_at.append(max_seen - lateness)
            continue
        max_seen = max(max_seen, t)
        for key, value in mapper(record):
            by_key.setdefault(key, []).append((t, i, value))
    sessions = []
    for key, events in by_key.items():
        events.sort(key=lambda e: (e[0], e[1]))
        current: list[tuple[float, int, Any]] = []
        for e in events:
            if current and e[0] - current[-1][0] >= gap:
                sessions.append((key, current))
                current = []
            current.append(e)
        sessions.append((key, current))
    sessions.sort(key=lambda s: (s[1][-1][0] + gap, json_text(s[0])))
    out = []
    for key, events in sessions:
        end = events[-1][0] + gap
        late = sum(1 for w in late_at if w < end)
        late_at = [w for w in late_at if w >= end]
        value = events[0][2]
        for e in events[1:]:
            value = reducer(value, e[2])
        doc = {
            "key": key,
            "start": _num(events[0][0]),
            "end": _num(end),
            "records": len({e[1] for e in events}),
            "value": value,
            "late": late,
        }
        out.append(json.dumps(doc, ensure_ascii=False) + "\n")
    return out


def _num(x: float) -> float | int:
    return int(x) if float(x).is_integer() else round(float(x), 6)


# -- the invariants -------------------------------------------------------------------------


@pytest.mark.parametrize("records", ["jsonl", "csv"])
@pytest.mark.parametrize("kind", ["count", "time", "event-time"])
def test_tumbling_windows_merge_to_the_batch_job(
    stream_client: object, tmp_path: Path, records: str, kind: str
) -> None:
    import csv

    rows = list(access_log(3000, seed=5, rate=500, disorder=0.3))
    path = tmp_path / f"log.{records}"
    with path.open("w", newline="", encoding="utf-8") as f:
        if records == "csv":
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        else:
            f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    windows: dict[str, Any] = {
        "count": {"count": 97},
        "time": {"window": "20ms"},
        "event-time": {"window": "1s", "event_time": "ts", "lateness": "0.3s"},
    }[kind]
    job = stream_map_reduce(
        str(path), jobs.status_bytes, jobs.add, records=records, scheduler=stream_client, **windows
    )
    merged: dict[str, int] = {}
    results = []
    job.results.sink(results.append)
    job.run()
    for r in results:
        for key, value in r.results:
            merged[key] = merged[key] + value if key in merged else value
    batch = map_reduce(path, jobs.status_bytes, jobs.add, records=records, scheduler="sync")
    assert merged == batch.to_dict()
    assert sum(r.records for r in results) == len(rows)
    assert job.stats.late == 0 and job.stats.bad == 0


@pytest.mark.parametrize("slide", [1.0, 0.5])
def test_event_time_windows_equal_the_brute_force_reference(
    stream_client: object, slide: float
) -> None:
    lines = log_lines(4000, seed=7, disorder=1.5, late=0.02)
    expected = reference_windows(
        lines, jobs.status_bytes, jobs.add, length=1.0, slide=slide, lateness=1.0
    )
    outputs = []
    for chunk in (1, 37, 1000, 4000) if stream_client is None else (7, 400, 4000):
        job = stream_map_reduce(
            ListSource(lines, chunk),
            jobs.status_bytes,
            jobs.add,
            records="jsonl",
            window="1s",
            every=f"{slide}s",
            event_time="ts",
            lateness="1s",
            scheduler=stream_client,
        )
        outputs.append(run_lines(job))
        late = sum(json.loads(x)["late"] for x in outputs[-1])
        assert job.stats.late > 0 and late <= job.stats.late
    assert outputs[0] == expected
    assert all(o == outputs[0] for o in outputs)  # byte-identical for every chunking


def test_per_key_sessions_equal_a_brute_force_sessionisation(stream_client: object) -> None:
    lines = log_lines(3000, seed=11, disorder=0.5, late=0.02)
    expected = reference_sessions(lines, jobs.client_requests, jobs.add, gap=0.05, lateness=0.5)
    assert len(expected) > 100  # many sessions, of many keys
    outputs = []
    for chunk in (1, 50, 3000) if stream_client is None else (9, 3000):
        job = stream_map_reduce(
            ListSource(lines, chunk),
            jobs.client_requests,
            jobs.add,
            records="jsonl",
            session="50ms",
            event_time="ts",
            lateness="0.5s",
            scheduler=stream_client,
        )
        outputs.append(run_lines(job))
        assert job.stats.late > 0
    assert outputs[0] == expected
    assert all(o == outputs[0] for o in outputs)


def test_sessions_merge_when_an_event_bridges_them() -> None:
    lines = [json.dumps({"ts": t, "client": "u"}) for t in (0, 10, 5, 30)]
    job = stream_map_reduce(
        ListSource(lines, 1),
        jobs.client_requests,
        jobs.add,
        records="jsonl",
        session="6s",
        event_time="ts",
        lateness="20s",
    )
    out = [json.loads(x) for x in run_lines(job)]
    assert [(s["start"], s["end"], s["records"], s["value"]) for s in out] == [
        (0, 16, 3, 3),
        (30, 36, 1, 1),
    ]


def test_a_combiner_over_sliding_windows_leaves_each_pane_as_it_was() -> None:
    lines = [json.dumps({"ts": t, "path": "/a", "bytes": 1000 * t}) for t in range(6)]
    job = stream_map_reduce(
        ListSource(lines, 2),
        jobs.path_latency,
        Mean,
        records="jsonl",
        window="2s",
        every="1s",
        event_time="ts",
    )
    out = [json.loads(x) for x in run_lines(job)]
    means = [(w["start"], w["results"][0][1]) for w in out]
    assert means == [(-1, 0.0), (0, 0.5), (1, 1.5), (2, 2.5), (3, 3.5), (4, 4.5), (5, 5.0)]
    assert combining(Mean).finish([3.0, 2]) == 1.5


def test_bad_records_are_counted_and_written(tmp_path: Path) -> None:
    lines = [
        '{"status": 200, "bytes": 1}',
        "{not json",
        '{"status": 404, "bytes": "x"}',  # the mapper raises on it
        '{"status": 200, "bytes": 2}',
    ]
    job = stream_map_reduce(
        ListSource(lines, 3), jobs.status_bytes, jobs.add, records="jsonl", count=10
    )
    job.write_to(None, bad_path=str(tmp_path / "bad.txt"))
    out = [json.loads(x) for x in run_lines(job)]
    for sink in job.outputs.values():
        sink.close()
    assert out == [{"start": 0, "end": 4, "records": 2, "keys": 1, "results": [["200", 3]]}]
    assert job.stats.bad == 2 and job.stats.lines == 4
    assert (tmp_path / "bad.txt").read_text() == "{not json\n" + lines[2] + "\n"


def test_word_count_sessions_are_bursts_of_the_whole_stream(stream_client: object) -> None:
    from tests.conftest import MESSY_LINES
    from toolkit.stream import stream_word_count
    from toolkit.text import get_tokenizer

    rng = random.Random(3)
    t, lines = 1000.0, []
    for i in range(600):
        t += rng.choice([0.01, 0.02, 0.03, 2.5])  # bursts, and pauses of 2.5 s
        ts = t - rng.random() * 0.5 if i % 5 else t
        lines.append(json.dumps({"ts": ts, "text": MESSY_LINES[i % len(MESSY_LINES)]}))
    tok = get_tokenizer("words")
    events, max_seen = [], -math.inf
    for line in lines:  # the reference: on-time events, sorted, cut at gaps >= 1 s
        record = json.loads(line)
        if record["ts"] >= max_seen - 0.5:
            events.append((record["ts"], record["text"]))
            max_seen = max(max_seen, record["ts"])
    events.sort()
    sessions: list[list[tuple[float, str]]] = []
    for e in events:
        if sessions and e[0] - sessions[-1][-1][0] < 1.0:
            sessions[-1].append(e)
        else:
            sessions.append([e])
    expected = []
    for s in sessions:
        counts: dict[str, int] = {}
        for _, text in s:
            for w in tok.reference(text.lower()):
                counts[w] = counts.get(w, 0) + 1
        expected.append((_num(s[0][0]), _num(s[-1][0] + 1.0), len(s), counts))
    for chunk in (1, 100) if stream_client is None else (100,):
        wc = stream_word_count(
            ListSource(lines, chunk),
            session="1s",
            event_time="ts",
            lateness="0.5s",
            top=0,
            scheduler=stream_client,
        )
        out = [json.loads(x) for x in run_lines(wc)]
        got = [(w["start"], w["end"], w["lines"], dict(w["top"])) for w in out]
        assert got == expected
        assert len(got) > 20


class HandClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("kind", ["windows", "sessions", "word-count"])
def test_emit_every_writes_open_results_then_the_final_one(kind: str) -> None:
    from streamz import Stream

    from toolkit.jobs import KeyedJob
    from toolkit.stream import Chunk, CountJob, End, KeyedPaneJob, KeyedSessionJob
    from toolkit.stream.kinds import make_windowing

    clock = HandClock()
    job = KeyedJob(jobs.client_requests, combining(jobs.add), "jsonl")
    head = Stream()
    if kind == "windows":
        w = make_windowing(window="10s", event_time="ts", text_field=None, records="jsonl")
        node = head.assign_panes(w).count_panes(KeyedPaneJob(job))
        out = node.keyed_window(w, job, emit_every=1.0, clock=clock).sink_to_list()
    elif kind == "sessions":
        w = make_windowing(session="5s", event_time="ts", text_field=None, records="jsonl")
        node = head.assign_panes(w).count_panes(KeyedSessionJob(job, 5.0))
        out = node.session_window(w, job=job, emit_every=1.0, clock=clock).sink_to_list()
    else:
        w = make_windowing(window="10s", event_time="ts")
        counted = head.assign_panes(w).count_panes(CountJob())
        out = counted.pane_window(w, emit_every=1.0, clock=clock)
        out = out.sink_to_list()

    def send(*times: float) -> None:
        lines = [json.dumps({"ts": t, "client": "u", "text": "a b"}) for t in times]
        head.emit(Chunk(lines, clock.now))

    send(1, 2)  # starts the early clock
    clock.now = 1.5
    send(3)  # 1 s passed: the open window (or session) so far
    assert [r.final for r in out] == [False]
    early = out[-1].to_dict()
    assert early["final"] is False and early.get("records", early.get("lines")) == 3
    clock.now = 1.8
    send(4)  # not yet 1 s since the last early result
    assert len(out) == 1
    send(30)  # the first window (or session) closes: final
    finals = [r for r in out if r.final]
    final = finals[0].to_dict()
    assert len(finals) == 1 and final.get("records", final.get("lines")) == 4
    head.emit(End())
    assert [r.final for r in out] == [False, True, True]


def test_options_that_cannot_work_fail_before_anything_runs() -> None:
    from toolkit.errors import ConfigError

    with pytest.raises(ConfigError, match="event_time reads a field of each record: give records"):
        stream_map_reduce("-", jobs.status_bytes, jobs.add, window="1s", event_time="ts")
    with pytest.raises(ConfigError, match="a session has none"):
        stream_map_reduce("-", jobs.status_bytes, jobs.add, session="1s", every="2s")
    with pytest.raises(ConfigError, match="idle_timeout needs event_time"):
        stream_map_reduce("-", jobs.status_bytes, jobs.add, window="1s", idle_timeout="1s")
