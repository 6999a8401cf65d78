from __future__ import annotations

import itertools
import json
import threading
from collections import Counter
from pathlib import Path

import pytest

from tests import jobs
from tests.conftest import read_reference_text
from toolkit.batch import map_reduce
from toolkit.errors import ConfigError, JobError


def reference_lines(paths: list[Path]) -> list[str]:
    lines = []
    for p in paths:
        parts = read_reference_text(p).split("\n")
        if parts and parts[-1] == "":
            parts.pop()
        lines.extend(line.removesuffix("\r") for line in parts)
    return lines


def test_line_length_histogram_on_every_backend(
    scheduler: object, messy_corpus: list[Path]
) -> None:
    result = map_reduce(
        messy_corpus, jobs.line_length, jobs.add, blocksize=4096, scheduler=scheduler
    )
    expected = Counter(len(line) for line in reference_lines(messy_corpus))
    assert result.to_dict() == dict(expected)
    assert list(result.index) == sorted(expected)
    assert result.index.name == "key" and result.name == "value"


def test_tuple_keys_and_set_values(inprocess_client: object, messy_corpus: list[Path]) -> None:
    lines = reference_lines(messy_corpus)
    bigrams = map_reduce(
        messy_corpus, jobs.bigrams, jobs.add, blocksize=2048, scheduler=inprocess_client
    )
    expected: Counter[tuple[str, str]] = Counter()
    for line in lines:
        w = line.lower().split()
        expected.update(itertools.pairwise(w))
    assert bigrams.to_dict() == dict(expected)

    index = map_reduce(
        messy_corpus, jobs.first_letters, jobs.union, scheduler=inprocess_client, split_out=3
    )
    expected_index: dict[str, set[str]] = {}
    for line in lines:
        for word in line.split():
            expected_index.setdefault(word[0].lower(), set()).add(word.lower())
    assert {k: set(v) for k, v in index.items()} == expected_index


def test_jsonl_records(real_client: object, tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    rows = [{"user": f"u{i % 7}", "amount": i * 0.5} for i in range(1000)]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    result = map_reduce(
        path, jobs.user_amounts, jobs.add, records="jsonl", blocksize=1000, scheduler=real_client
    )
    expected: dict[str, float] = {}
    for r in rows:
        expected[r["user"]] = expected.get(r["user"], 0) + r["amount"]
    assert result.to_dict() == pytest.approx(expected)


def test_lambdas_and_closures_travel_to_real_workers(
    real_client: object, messy_corpus: list[Path]
) -> None:
    suffix = "!"
    result = map_reduce(
        messy_corpus,
        lambda line: [(line[:1] + suffix, 1)],
        lambda a, b: a + b,
        blocksize=4096,
        scheduler=real_client,
    )
    expected = Counter(line[:1] + suffix for line in reference_lines(messy_corpus))
    assert result.to_dict() == dict(expected)


def test_mapper_failure_names_file_and_record(tmp_path: Path) -> None:
    path = tmp_path / "input.txt"
    path.write_text("fine\nfine\nthis is BAD\nfine\n")
    with pytest.raises(
        JobError, match=r"input\.txt.*jobs\.fails_on_bad.*'this is BAD'.*cannot handle BAD"
    ):
        map_reduce(path, jobs.fails_on_bad, jobs.add, scheduler="sync")
    with pytest.raises(
        JobError,
        match=r"input\.txt.*must return an iterable of \(key, value\) pairs.*"
        r"'int' object is not iterable",
    ):
        map_reduce(path, jobs.not_pairs, jobs.add, scheduler="sync")
    with pytest.raises(JobError, match=r"reducer tests\.jobs\.bad_reducer failed on record 'fine'"):
        map_reduce(path, jobs.distinct_keys, jobs.bad_reducer, scheduler="sync")
    bad_json = tmp_path / "bad.jsonl"
    bad_json.write_text('{"user": "a", "amount": 1}\n{oops\n')
    with pytest.raises(JobError, match=r"bad\.jsonl.*invalid JSON record '\{oops'"):
        map_reduce(bad_json, jobs.user_amounts, jobs.add, records="jsonl", scheduler="sync")


def test_arguments_checked_on_the_client(tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_text("x\n")
    with pytest.raises(ConfigError, match="mapper must be callable; got 'not a function'"):
        map_reduce(path, "not a function", jobs.add)  # type: ignore[arg-type]
    lock = threading.Lock()
    with pytest.raises(ConfigError, match="cannot be pickled to send to workers"):
        map_reduce(path, lambda line: [(lock, 1)], jobs.add)
    with pytest.raises(ConfigError, match="records must be one of lines, jsonl; got 'xml'"):
        map_reduce(path, jobs.line_length, jobs.add, records="xml")
