"""What a worker runs for a user job (``toolkit/stream/folding.py``): each pane's records
folded, bad ones reported once with the batch; records parsed elsewhere folded the same."""

from __future__ import annotations

import json
from typing import Any

from toolkit.jobs import KeyedJob, combining
from toolkit.stream.folding import KeyedPaneJob, KeyedSessionJob
from toolkit.stream.messages import PaneBatch, SessionBatch


def status(record: dict[str, Any]) -> list[tuple[int, int]]:
    return [(record["status"], 1)]


JOB = KeyedJob(status, combining(lambda a, b: a + b), "jsonl")
LINES = ['{"status": 200}', '{"status": 404}', '{"nope": 1}', "{bad", '{"status": 200}']


def test_each_pane_folded_and_its_bad_records_reported_with_the_batch() -> None:
    batch = PaneBatch(text={0: "\n".join(LINES[:3]), 1: "\n".join(LINES[3:])}, lines={0: 3, 1: 2})
    out = KeyedPaneJob(JOB)(batch)
    assert {p: dict(s) for p, s in out.states.items()} == {0: {200: 1, 404: 1}, 1: {200: 1}}
    assert out.lines == {0: 2, 1: 1}  # the good records
    assert out.bad == 2 and out.bad_lines == ['{"nope": 1}', "{bad"]
    assert all(len(s.bad) == 0 for s in out.states.values())  # not again with every window


def test_records_parsed_already_fold_as_their_lines_do() -> None:
    good = [line for line in LINES if line != "{bad"]
    batch = PaneBatch(lines={0: len(good)})
    raw = [line.encode() for line in good]  # as event time ships them
    out = KeyedPaneJob(JOB).fold_parsed(batch, {0: (raw, [json.loads(x) for x in good])})
    again = KeyedPaneJob(JOB)(PaneBatch(text={0: "\n".join(good)}, lines={0: len(good)}))
    assert dict(out.states[0]) == dict(again.states[0]) == {200: 2, 404: 1}
    assert out.bad_lines == again.bad_lines == ['{"nope": 1}'] and out.lines == again.lines


def test_sessions_are_cut_per_key_and_folded() -> None:
    job = KeyedSessionJob(JOB, gap=10)
    lines = ['{"status": 200}', '{"status": 404}', '{"status": 200}', "{bad"]
    out = job(SessionBatch(text=lines, times=[0.0, 1.0, 30.0, 2.0], lines={0: 4}))
    assert out.parts == {200: [(0.0, 0.0, 1, 1), (30.0, 30.0, 1, 1)], 404: [(1.0, 1.0, 1, 1)]}
    assert out.bad == 1 and out.lines == {0: 3}
