from __future__ import annotations

import itertools
import json
import threading
from collections import Counter
from pathlib import Path

import pytest

from tests import user_functions as jobs
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
        JobError,
        match=r"input\.txt.*'this is BAD'.*user_functions\.fails_on_bad.*cannot handle BAD",
    ):
        map_reduce(path, jobs.fails_on_bad, jobs.add, scheduler="sync", bad_records="strict")
    with pytest.raises(
        JobError,
        match=r"input\.txt.*must return an iterable of \(key, value\) pairs.*"
        r"'int' object is not iterable",
    ):
        map_reduce(path, jobs.not_pairs, jobs.add, scheduler="sync")
    with pytest.raises(
        JobError, match=r"reducer tests\.user_functions\.bad_reducer failed on record 'fine'"
    ):
        map_reduce(path, jobs.distinct_keys, jobs.bad_reducer, scheduler="sync")
    bad_json = tmp_path / "bad.jsonl"
    bad_json.write_text('{"user": "a", "amount": 1}\n{oops\n')
    with pytest.raises(JobError, match=r"bad\.jsonl.*bad record '\{oops': invalid JSON"):
        map_reduce(
            bad_json,
            jobs.user_amounts,
            jobs.add,
            records="jsonl",
            scheduler="sync",
            bad_records="strict",
        )


def test_bad_records_are_counted_and_kept_by_default(tmp_path: Path) -> None:
    path = tmp_path / "input.txt"
    path.write_text("fine\nfine\nthis is BAD\nfine\n")
    result = map_reduce(path, jobs.fails_on_bad, jobs.add, scheduler="sync")
    assert result.to_dict() == {"fine": 3}
    bad = result.attrs["bad_records"]
    assert (len(bad), bad.lines, result.attrs["records"]) == (1, ["this is BAD"], 3)
    assert "mapper tests.user_functions.fails_on_bad raised ValueError" in bad.first
    bad_json = tmp_path / "bad.jsonl"
    bad_json.write_text('{"user": "a", "amount": 1}\n{oops\n\n{"user": "a", "amount": 2}\n')
    result = map_reduce(bad_json, jobs.user_amounts, jobs.add, records="jsonl", scheduler="sync")
    assert result.to_dict() == {"a": 3}  # the blank line is no record, and not a bad one
    assert result.attrs["bad_records"].lines == ["{oops"]


def test_arguments_checked_on_the_client(tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_text("x\n")
    with pytest.raises(ConfigError, match="mapper must be callable; got 'not a function'"):
        map_reduce(path, "not a function", jobs.add)  # type: ignore[arg-type]
    lock = threading.Lock()
    with pytest.raises(ConfigError, match="cannot be pickled to send to workers"):
        map_reduce(path, lambda line: [(lock, 1)], jobs.add)
    with pytest.raises(
        ConfigError, match="records must be one of lines, jsonl, csv, parquet; got 'xml'"
    ):
        map_reduce(path, jobs.line_length, jobs.add, records="xml")


def _access_log_files(tmp_path: Path, n: int = 3000) -> tuple[list[dict[str, object]], Path, Path]:
    """The same access log as CSV (quoted fields, Unicode paths) and as JSON lines."""
    import csv

    from toolkit.corpus import access_log

    rows = list(access_log(n, seed=3))
    for i, row in enumerate(rows):
        if i % 7 == 0:
            row["path"] = f'/q?x="a, b"&n={i}'  # quotes and commas, quoted by the csv writer
    csv_path, jsonl_path = tmp_path / "log.csv", tmp_path / "log.jsonl"
    with csv_path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    jsonl_path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return rows, csv_path, jsonl_path


def test_csv_and_jsonl_records_agree_with_a_plain_loop(scheduler: object, tmp_path: Path) -> None:
    rows, csv_path, jsonl_path = _access_log_files(tmp_path)
    expected: Counter[str] = Counter()
    for row in rows:
        expected[str(row["status"])] += int(row["bytes"])  # type: ignore[call-overload]
    for path, records in ((csv_path, "csv"), (jsonl_path, "jsonl")):
        result = map_reduce(
            path, jobs.status_bytes, jobs.add, records=records, blocksize=4096, scheduler=scheduler
        )
        assert result.to_dict() == dict(expected), records
        assert result.attrs["records"] == len(rows) and len(result.attrs["bad_records"]) == 0


def test_csv_header_comes_from_each_file(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("status,bytes\n200,1\n404,2\n")
    (tmp_path / "b.csv").write_text("bytes,status\n10,200\n")  # another column order
    result = map_reduce(tmp_path, jobs.status_bytes, jobs.add, records="csv", scheduler="sync")
    assert result.to_dict() == {"200": 11, "404": 2}


def test_parquet_records(real_client: object, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from toolkit.corpus import access_log

    rows = list(access_log(5000, seed=4))
    for i in range(3):
        part = rows[i::3]
        pq.write_table(
            pa.Table.from_pylist(part), tmp_path / f"part-{i}.parquet", row_group_size=500
        )
    result = map_reduce(
        sorted(tmp_path.glob("*.parquet")),
        jobs.status_bytes,
        jobs.add,
        records="parquet",
        scheduler=real_client,
    )
    expected: Counter[str] = Counter()
    for row in rows:
        expected[str(row["status"])] += int(row["bytes"])  # type: ignore[call-overload]
    assert result.to_dict() == dict(expected)
    assert result.attrs["records"] == len(rows) and result.attrs["stats"].files == 3


def test_a_combiner_computes_a_mean(real_client: object, tmp_path: Path) -> None:
    from toolkit.jobs import Mean

    rows, _, jsonl_path = _access_log_files(tmp_path)
    result = map_reduce(
        jsonl_path, jobs.path_latency, Mean, records="jsonl", blocksize=4096, scheduler=real_client
    )
    sums: dict[str, list[float]] = {}
    for row in rows:
        s = sums.setdefault(str(row["path"]), [0.0, 0])
        s[0] += float(row["bytes"]) / 1000  # type: ignore[arg-type]
        s[1] += 1
    assert result.to_dict() == pytest.approx({k: a / n for k, (a, n) in sums.items()})


def test_jsonl_read_as_bytes_keeps_the_reading_rules(tmp_path: Path) -> None:
    from toolkit.errors import DecodeError

    path = tmp_path / "mixed.jsonl"
    path.write_bytes(
        b'{"user": "a", "amount": 1}\r\n'  # CRLF
        b"\r\n"  # a blank line: no record
        b'{"user": "\xc3\xa9", "amount": 2}\n'  # UTF-8
        b'{"user": "b\xff", "amount": 4}\n'  # not UTF-8
        b"{oops\n"
        b'{"user": "a", "amount": 8}'  # no newline at the end
    )
    with pytest.raises(DecodeError, match=r"mixed\.jsonl: invalid utf-8 at byte offset 69"):
        map_reduce(path, jobs.user_amounts, jobs.add, records="jsonl", scheduler="sync")
    result = map_reduce(
        path, jobs.user_amounts, jobs.add, records="jsonl", errors="replace", scheduler="sync"
    )
    assert result.to_dict() == {"a": 9, "é": 2, "b\ufffd": 4}
    assert result.attrs["bad_records"].lines == ["{oops"] and result.attrs["records"] == 4
    assert result.attrs["stats"].bad_sequences == 1


def test_frame_mappers_equal_record_mappers_on_every_backend(
    scheduler: object, tmp_path: Path
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows, csv_path, jsonl_path = _access_log_files(tmp_path)
    parquet_path = tmp_path / "log.parquet"
    pq.write_table(pa.Table.from_pylist(rows), parquet_path, row_group_size=300)
    expected: Counter[str] = Counter()
    for row in rows:
        expected[str(row["status"])] += int(row["bytes"])  # type: ignore[call-overload]
    for path, records in ((csv_path, "csv"), (jsonl_path, "jsonl"), (parquet_path, "parquet")):
        for frames, mapper in (
            ("pandas", jobs.status_bytes_frame),
            ("polars", jobs.status_bytes_polars),
        ):
            result = map_reduce(
                path,
                mapper,
                jobs.add,
                records=records,
                frames=frames,
                blocksize=4096,
                scheduler=scheduler,
            )
            assert result.to_dict() == dict(expected), (records, frames)
            assert result.attrs["records"] == len(rows), (records, frames)


def test_a_frame_mapper_over_lines_and_messy_bytes(
    tmp_path: Path, messy_corpus: list[Path]
) -> None:
    result = map_reduce(
        messy_corpus, jobs.line_length_frame, jobs.add, frames="pandas", blocksize=4096
    )
    assert result.to_dict() == dict(Counter(len(x) for x in reference_lines(messy_corpus)))
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(
        b'{"user": "a", "amount": 1}\r\n\r\n{"user": "\xc3\xa9", "amount": 2}\n'
        b'{"user": "b\xff", "amount": 4}\n{oops\n[1]\n{"user": "a", "amount": 8}'
    )
    result = map_reduce(
        path, jobs.user_amounts_frame, jobs.add, records="jsonl", frames="polars", errors="replace"
    )
    assert result.to_dict() == {"a": 9, "é": 2, "b\ufffd": 4}
    assert result.attrs["bad_records"].lines == ["{oops", "[1]"] and result.attrs["records"] == 4
    with pytest.raises(JobError, match=r"mixed\.jsonl \(block at byte 0\): mapper .*frame_fails"):
        map_reduce(
            path, jobs.frame_fails, jobs.add, records="jsonl", frames="pandas", errors="replace"
        )
