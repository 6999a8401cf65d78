"""The keyed fold (``toolkit/jobs/keyed.py``) against a plain loop, on messy records."""

from __future__ import annotations

import json
import pickle
import random

import pytest

from tests import user_functions as jobs
from toolkit.errors import JobError
from toolkit.jobs import KeyedJob, KeyedState, Mean, combining
from toolkit.jobs.records import KEPT_BAD_LINES, BadRecords, parse_header, record_parser


def _lines(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        kind = rng.random()
        if kind < 0.05:
            out.append("{not json")
        elif kind < 0.08:
            out.append("   ")  # blank: no record, not a bad one
        else:
            user = rng.choice(["ana", "Bøb", "東京", "e\u0301", ""])
            out.append(json.dumps({"user": user, "amount": i % 13}, ensure_ascii=i % 2 == 0))
    return out


def _reference(lines: list[str]) -> tuple[dict[str, int], int, list[str]]:
    totals: dict[str, int] = {}
    records, bad = 0, []
    for line in lines:
        if not line.strip():
            continue
        try:
            r = json.loads(line)
        except ValueError:
            bad.append(line)
            continue
        totals[r["user"]] = totals.get(r["user"], 0) + r["amount"]
        records += 1
    return totals, records, bad


@pytest.mark.parametrize("cut", [1, 7, 100, 10_000])
def test_folding_in_pieces_and_merging_equals_a_plain_loop(cut: int) -> None:
    lines = _lines(2000)
    job = KeyedJob(jobs.user_amounts, combining(jobs.add), "jsonl")
    parts = [job.fold(job.empty(), lines[i : i + cut]) for i in range(0, len(lines), cut)]
    merged = job.empty()
    for part in parts:
        merged = job.merge(merged, pickle.loads(pickle.dumps(part)))  # as between processes
    totals, records, bad = _reference(lines)
    assert job.finish(merged) == totals
    assert (merged.records, merged.bad.lines) == (records, bad)


def test_merging_leaves_the_other_state_as_it_was() -> None:
    job = KeyedJob(jobs.path_latency, combining(Mean), "jsonl")
    line = json.dumps({"path": "/a", "bytes": 2000})
    a, b = job.fold(job.empty(), [line]), job.fold(job.empty(), [line, line])
    before = pickle.dumps(b)
    job.merge(job.merge(job.empty(), a), b)
    assert pickle.dumps(b) == before
    assert job.finish(job.merge(a, b)) == {"/a": 2.0}


def test_a_pair_of_a_generator_that_fails_half_way_is_not_counted() -> None:
    def two_then_fail(line: str):  # type: ignore[no-untyped-def]
        yield "seen", 1
        if line == "boom":
            raise KeyError("boom")
        yield "seen", 1

    job = KeyedJob(two_then_fail, combining(jobs.add))
    state = job.fold(job.empty(), ["a", "boom", "b"])
    assert dict(state) == {"seen": 4} and state.bad.lines == ["boom"]
    with pytest.raises(JobError, match=r"bad record .boom.: mapper .*two_then_fail raised KeyErr"):
        KeyedJob(two_then_fail, combining(jobs.add), bad_records="strict").fold(
            KeyedState(), ["a", "boom"]
        )


def test_user_code_failures_are_named() -> None:
    job = KeyedJob(jobs.not_pairs, combining(jobs.add))
    with pytest.raises(JobError, match=r"must return an iterable of \(key, value\) pairs"):
        job.fold(job.empty(), ["x"])
    job = KeyedJob(lambda line: [([line], 1)], combining(jobs.add))  # an unhashable key
    with pytest.raises(JobError, match="hashable keys; on record 'x'"):
        job.fold(job.empty(), ["x"])
    job = KeyedJob(jobs.distinct_keys, combining(jobs.bad_reducer))
    with pytest.raises(
        JobError, match=r"reducer tests\.user_functions\.bad_reducer failed on record"
    ):
        job.fold(job.empty(), ["x", "x"])


def test_csv_records_as_the_csv_module_reads_them() -> None:
    header = parse_header('a,"b c",d')
    parse = record_parser("csv", header)
    assert parse('1,"x, ""y""",') == {"a": "1", "b c": 'x, "y"', "d": ""}
    for bad in ["1,2", "1,2,3,4", '1,"open,3']:
        with pytest.raises(ValueError):
            parse(bad)
    with pytest.raises(JobError, match="field names must be distinct"):
        parse_header("a,a")


def test_bad_lines_beyond_the_limit_are_counted_not_kept() -> None:
    bad = BadRecords()
    for i in range(KEPT_BAD_LINES + 5):
        bad.add(str(i), "why")
    other = BadRecords()
    other.add("x", "why")
    bad.extend(other)
    assert (len(bad), len(bad.lines), bad.unkept) == (KEPT_BAD_LINES + 6, KEPT_BAD_LINES, 6)
