"""Event-time windows parsed on the worker (``toolkit/stream/eventwindows.py``): whatever the
batches in flight, the driver's settling gives what reading every record in order gives."""

from __future__ import annotations

import json
import math
import random
from collections import deque
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.stream.stepping import settled
from toolkit.jobs import KeyedJob, combining
from toolkit.lines import LineBlock
from toolkit.stream.counting import CountJob, CountSessionJob
from toolkit.stream.eventtime import EventTime, timed_records
from toolkit.stream.folding import KeyedPaneJob, KeyedSessionJob
from toolkit.stream.kinds import EventTimeWindowing, SessionWindowing
from toolkit.stream.messages import Chunk, SessionBatch, Tick

WORDS = ["alpha", "beta", "gamma", "δέλτα", "epsilon"]


def items(seed: int, sides: list[str], n: int = 300) -> list[Chunk | Tick]:
    """Chunks of JSON events, out of order by up to 6 s (some beyond any lateness), a few bad
    lines and blank ones, from one or more inputs, with clock ticks between."""
    rng = random.Random(seed)
    out: list[Chunk | Tick] = []
    clock, i = 1000.0, 0
    while i < n:
        k = rng.choice([0, 1, 3, 10, 40])
        lines = []
        for j in range(i, i + k):
            t = 100 + j * 0.3 - rng.uniform(0, 6)
            lines.append(json.dumps({"ts": round(t, 2), "text": rng.choice(WORDS)}))
        if k and rng.random() < 0.2:
            lines.insert(rng.randrange(len(lines)), rng.choice(["{nope", "", '{"text": "a"}']))
        clock += rng.uniform(0, 3)
        out.append(Chunk(lines, clock, side=rng.choice(sides)))
        if rng.random() < 0.2:
            clock += rng.uniform(0, 5)
            out.append(Tick(clock))
        i += k
    return out


def seen(result: Any) -> tuple[Any, ...]:
    """What the windows take from one settled batch."""
    if hasattr(result, "counts"):
        panes = {p: sorted(t.to_counter().items()) for p, t in result.counts.items()}
    else:
        panes = {p: sorted(s.items()) for p, s in result.states.items()}
    late = result.late_events
    return (result.boundary, panes, result.lines, late.lines, late.due, result.bad)


def windowing(sides: list[str], lateness: float, text_field: str | None) -> EventTimeWindowing:
    w = EventTimeWindowing(5, 2.5, field="ts", lateness=lateness, idle_timeout=4.0,
                           text_field=text_field)  # fmt: skip
    w.use_inputs(sides)
    return w


def in_flight(w: Any, stream: list[Any], job: Any, depth: int, summary: Any = seen) -> list[Any]:
    """As count_panes on a cluster: ``depth`` batches out (run) before the oldest is settled."""
    out, pending = [], deque()
    for item in stream:
        batch = w.assign(item)
        pending.append((batch, batch.run(job)))
        while len(pending) > depth:
            batch, timed = pending.popleft()
            out.append(summary(batch.settle(timed, lambda b: b.run(job))))
    while pending:
        batch, timed = pending.popleft()
        out.append(summary(batch.settle(timed, lambda b: b.run(job))))
    return out


@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    depth=st.integers(1, 6),
    lateness=st.sampled_from([0.0, 1.0, 3.0]),
    sides=st.sampled_from([["main"], ["a", "b"]]),
    words=st.booleans(),
)
def test_batches_settled_behind_others_in_flight_are_exact(
    seed: int, depth: int, lateness: float, sides: list[str], words: bool
) -> None:
    stream = items(seed, sides)
    if words:
        job: Any = CountJob()
        text_field: str | None = "text"
    else:
        job = KeyedPaneJob(KeyedJob(lambda r: [(r["text"], 1)], combining(max), "jsonl"))
        text_field = None
    one_by_one = windowing(sides, lateness, text_field)
    expected = [seen(settled(one_by_one, item, job)) for item in stream]
    assert in_flight(windowing(sides, lateness, text_field), stream, job, depth) == expected


def test_a_batch_whose_worker_knew_an_early_watermark_is_folded_again() -> None:
    lines = [json.dumps({"ts": t, "text": "x"}) for t in (0, 50)]
    w = windowing(["main"], 0.0, "text")
    job = CountJob()
    first = w.assign(Chunk(lines, 1.0))
    second = w.assign(Chunk([json.dumps({"ts": 10, "text": "late"})], 2.0))
    timed = second.run(job)  # on a worker, before the first batch came back
    assert timed.late.size == 0  # it did not know the watermark had passed 10
    first.settle(first.run(job), lambda b: b.run(job))
    redone = []

    def redo(batch: Any) -> Any:
        redone.append(batch.start)
        return batch.run(job)

    result = second.settle(timed, redo)
    assert redone and result.late == 1 and result.counts == {} and result.late_events.due == {20: 1}


def test_records_are_parsed_once_on_the_worker() -> None:
    parsed = []

    def mapper(record: dict[str, Any]) -> list[tuple[str, int]]:
        parsed.append(record)
        return [(record["text"], 1)]

    w = windowing(["main"], 0.0, None)
    job = KeyedPaneJob(KeyedJob(mapper, combining(max), "jsonl"))
    lines = [json.dumps({"ts": t, "text": "x"}) for t in range(5)]
    batch = w.assign(Chunk(lines, 1.0))
    assert batch.text.data == "\n".join(lines).encode() and batch.count == 5  # none read here
    result = batch.settle(batch.run(job), lambda b: b.run(job))
    assert len(parsed) == 5 and sum(result.lines.values()) == 5


def test_a_large_batch_travels_out_of_band_and_folds_the_same() -> None:
    import pickle

    from distributed.protocol import deserialize, serialize

    w = windowing(["main"], 0.0, "text")
    lines = [json.dumps({"ts": t / 100, "text": WORDS[t % 5]}) for t in range(20_000)]
    third = len(lines) // 3
    pieces = [LineBlock.of(lines[i : i + third]) for i in range(0, len(lines), third)]
    batch = w.assign(Chunk(LineBlock.joined(pieces), 1.0))
    buffers: list[pickle.PickleBuffer] = []
    data = pickle.dumps(batch, protocol=5, buffer_callback=buffers.append)
    assert len(data) < 2_000 and len(buffers) == len(pieces)  # the pieces, not joined
    back = pickle.loads(data, buffers=buffers)
    in_band = pickle.loads(pickle.dumps(batch, protocol=4))
    header, frames = serialize(batch, serializers=["pickle"])
    through_dask = deserialize(header, frames)
    assert back.windowing is None and in_band.windowing is None

    def counts(b: Any) -> dict[int, list[tuple[str, int]]]:
        return {p: t.top() for p, t in b.run(CountJob()).result.counts.items()}

    expected = counts(batch)
    assert sum(n for top in expected.values() for _, n in top) == 20_000
    for copy in (back, in_band, through_dask):
        assert counts(copy) == expected and copy.text.data == batch.text.data


def _finite(wm: float) -> float | None:
    return wm if math.isfinite(wm) else None


def reference_sessions(
    stream: list[Any], sides: list[str], lateness: float, text_field: str | None, job: Any
) -> list[tuple[Any, ...]]:
    """Sessions' batches as a driver reading every record in order decides them: a record
    is late when its time is below the watermark as it stands when it comes."""
    events = EventTime("ts", text_field=text_field, lateness=lateness, idle_timeout=4.0)
    events.use_inputs(sides)
    out = []
    for item in stream:
        if isinstance(item, Tick):
            batch = SessionBatch(
                watermark=_finite(events.watermark()) if events.idle(item.time) else None
            )
        elif item.ended:
            events.end(item.side)
            batch = SessionBatch(watermark=_finite(events.watermark()))
        else:
            if item.lines:
                events.arrived(item.time, item.side)
            bad: list[Any] = []
            records = list(timed_records(list(item.lines), "jsonl", None, "ts", text_field, bad))
            batch = SessionBatch(bad=item.bad + len(bad), bad_lines=list(bad))
            text, times = [], []
            for i, t, payload in records:
                before = events.watermark()
                if t < before:
                    batch.late_events.add(item.lines[i], before)
                    continue
                text.append(payload if text_field is not None else item.lines[i])
                times.append(t)
                events.see(t, item.side)
            batch.text, batch.times, batch.lines = text, times, {0: len(text)}
            batch.watermark = _finite(events.watermark())
        out.append(session_seen(job(batch)))
    return out


def session_seen(result: Any) -> tuple[Any, ...]:
    """What the open sessions take from one settled batch."""
    parts = {
        key: [(f, la, n, v.top() if hasattr(v, "top") else v) for f, la, n, v in ps]
        for key, ps in result.parts.items()
    }
    late = result.late_events
    return (parts, result.lines, late.lines, late.due, result.bad, result.watermark)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    depth=st.integers(0, 6),
    lateness=st.sampled_from([0.0, 1.0, 3.0]),
    sides=st.sampled_from([["main"], ["a", "b"]]),
    words=st.booleans(),
)
def test_sessions_settled_behind_others_in_flight_equal_reading_each_record_in_order(
    seed: int, depth: int, lateness: float, sides: list[str], words: bool
) -> None:
    stream = items(seed, sides)
    if random.Random(seed).random() < 0.5:  # an input that ends while the other goes on
        half, last = len(stream) // 2, sides[-1]
        rest = [x for x in stream[half:] if getattr(x, "side", None) != last]  # nothing after
        stream = [*stream[:half], Chunk([], 0.0, side=last, ended=True), *rest]
    keyed = KeyedJob(lambda r: [(r["text"], 1)], combining(lambda a, b: a + b), "jsonl")
    job: Any = CountSessionJob(CountJob(), 2.0) if words else KeyedSessionJob(keyed, 2.0)
    text_field = "text" if words else None
    expected = reference_sessions(stream, sides, lateness, text_field, job)
    w = SessionWindowing(
        2.0, events=EventTime("ts", text_field=text_field, lateness=lateness, idle_timeout=4.0)
    )
    w.use_inputs(sides)
    out = in_flight(w, stream, job, depth, session_seen)
    assert out == expected
