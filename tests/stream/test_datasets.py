"""Parquet datasets of stream results (``toolkit/stream/datasets.py``): rows, rolling files,
exactly once across checkpoints, and kill -9 during a real stream."""

from __future__ import annotations

import datetime as dt
import random
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pyarrow.dataset as ds
import pytest

from tests.stream.test_recovery import event_lines, start, write_lines
from tests.test_cli import TOOLKIT
from toolkit.errors import OutputError
from toolkit.stream.datasets import ParquetDataset
from toolkit.stream.messages import KeyedWindowResult, SessionResult, WindowResult

DAY = 86_400.0


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def windows(n: int, start: float = 1_700_000_000.0, size: float = 3600.0) -> list[WindowResult]:
    rng = random.Random(n)
    out = []
    for i in range(n):
        top = [(w, rng.randint(1, 9)) for w in rng.sample(["a", "é", "東京", "b", "c"], 3)]
        out.append(WindowResult(start + i * size, start + (i + 1) * size, 5, 20, top, late=i % 2))
    return out


def expected_rows(results: list[Any], *, times: bool = True) -> list[tuple[Any, ...]]:
    return sorted(tuple(r.values()) for x in results for r in x.rows(times=times))


def read_rows(path: Path | str) -> list[tuple[Any, ...]]:
    table = ds.dataset(str(path), partitioning="hive").to_table()
    names = [n for n in table.column_names if n != "date"]
    return sorted(tuple(row[n] for n in names) for row in table.to_pylist())


def part_files(path: Path) -> list[Path]:
    return sorted(path.rglob("part-*.parquet"))


def test_rows_are_a_row_per_word_key_or_session() -> None:
    utc = dt.UTC
    window = WindowResult(DAY, 2 * DAY, 3, 5, [("a", 4)], late=1)
    assert window.rows(times=True) == [
        {
            "start": dt.datetime(1970, 1, 2, tzinfo=utc),
            "end": dt.datetime(1970, 1, 3, tzinfo=utc),
            "word": "a",
            "count": 4,
            "lines": 3,
            "words": 5,
            "late": 1,
        }
    ]
    keyed = KeyedWindowResult(0, 10, 7, 2, [(200, 30), (404, 1)])
    assert [r["key"] for r in keyed.rows(times=False)] == [200, 404]
    session = SessionResult("10.0.0.1", 5.5, 40.0, 3, 3)
    assert session.rows(times=False) == [
        {"key": "10.0.0.1", "start": 5, "end": 40, "records": 3, "value": 3}
    ]


def test_files_roll_by_size_and_by_time_and_are_partitioned_by_date(tmp_path: Path) -> None:
    clock = Clock()
    out = ParquetDataset(str(tmp_path), times=True, roll_bytes=1000, roll_seconds=10, clock=clock)
    results = windows(30)  # 30 hours: three dates
    for result in results[:20]:
        out.write(result)
    by_size = len(part_files(tmp_path))
    assert by_size >= 3  # about 200 bytes of rows a window: a file every few windows
    out.write(results[20])
    clock.now = 11  # the interval passes: the next write rolls, whatever its size
    out.write(results[21])
    assert len(part_files(tmp_path)) > by_size and not out.rows
    for result in results[22:]:
        out.write(result)
    out.close()
    assert read_rows(tmp_path) == expected_rows(results)
    dates = sorted(p.name for p in tmp_path.iterdir())
    assert dates == ["date=2023-11-14", "date=2023-11-15", "date=2023-11-16"]
    table = ds.dataset(str(tmp_path), partitioning="hive").to_table()
    assert str(table.schema.field("start").type) == "timestamp[us, tz=UTC]"
    assert not list(tmp_path.rglob(".*"))  # no temporary file left


def test_restoring_a_checkpoint_writes_each_row_once(tmp_path: Path) -> None:
    results = windows(40)
    out = ParquetDataset(str(tmp_path), times=True, roll_bytes=700)
    for result in results[:15]:
        out.write(result)
    state = out.sync()
    assert state["files"] and out.rows  # some rows in files, some still buffered
    for result in results[15:25]:  # written after the checkpoint: then the process dies
        out.write(result)
    assert len(part_files(tmp_path)) > len(state["files"])
    resumed = ParquetDataset(str(tmp_path), times=True, roll_bytes=700)
    resumed.restore(state)  # removes the files after the checkpoint, puts back its rows
    assert len(part_files(tmp_path)) == len(state["files"])
    for result in results[15:]:  # the replay from the checkpoint
        resumed.write(result)
    resumed.close()
    assert read_rows(tmp_path) == expected_rows(results)


def test_a_fresh_start_replaces_the_dataset_and_a_lost_file_is_an_error(tmp_path: Path) -> None:
    out = ParquetDataset(str(tmp_path), times=True, roll_bytes=500)
    for result in windows(10):
        out.write(result)
    state = out.sync()
    (tmp_path / "notes.txt").write_text("mine")
    again = ParquetDataset(str(tmp_path), times=True)
    again.restore(None)
    assert part_files(tmp_path) == [] and (tmp_path / "notes.txt").exists()
    with pytest.raises(OutputError, match=r"lacks .*part-.*changed outside the stream"):
        ParquetDataset(str(tmp_path), times=True).restore(state)


def test_the_first_file_fixes_the_types(tmp_path: Path) -> None:
    out = ParquetDataset(str(tmp_path), times=False, roll_bytes=1)
    out.write(KeyedWindowResult(0, 10, 1, 1, [(200, 5)]))
    out.write(KeyedWindowResult(10, 20, 1, 1, [(404, None)]))  # a null fits any column
    state = out.sync()
    resumed = ParquetDataset(str(tmp_path), times=False, roll_bytes=1)
    resumed.restore(state)  # the types come back with the checkpoint
    with pytest.raises(OutputError, match=r"key 'GET' \(str\) does not fit .* int64"):
        resumed.write(KeyedWindowResult(20, 30, 1, 1, [("GET", 1)]))
    fresh = ParquetDataset(str(tmp_path / "early"), times=False)
    fresh.write(KeyedWindowResult(30, 40, 1, 1, [(200, 1)], final=False))
    assert not fresh.rows  # an early result is no row: the window's final one follows


def test_count_windows_have_offsets_and_no_date_folders(tmp_path: Path) -> None:
    text = tmp_path / "lines.txt"
    text.write_text("".join(f"w{i % 7} x\n" for i in range(1000)))
    out = tmp_path / "windows"
    args = [TOOLKIT, "stream", str(text), "--count", "100", "--local", "-o", f"{out}/"]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert [p.parent for p in part_files(out)] == [out]
    table = ds.dataset(str(out)).to_table()
    assert str(table.schema.field("start").type) == "int64"
    assert sorted(set(table.column("start").to_pylist())) == list(range(0, 1000, 100))
    assert sum(table.column("count").to_pylist()) == 2000


@pytest.mark.slow
def test_a_dataset_survives_kills_of_a_checkpointed_stream(tmp_path: Path) -> None:
    """SIGKILL a checkpointed event-time stream 4 times as its dataset grows; resumed, the
    dataset read with pyarrow equals an uninterrupted run's, each (window, word) once."""
    events = write_lines(tmp_path / "events.jsonl", event_lines(200_000, 9))
    args = [str(events), "--window", "10s", "--event-time", "ts", "--lateness", "2s"]
    args += ["--top", "0", "--local", "--roll-size", "8KiB", "--roll-interval", "0.2s"]
    reference = tmp_path / "reference"
    proc = subprocess.run(
        [TOOLKIT, "stream", *args, "-o", f"{reference}/"], capture_output=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    expected = read_rows(reference)
    total = len(part_files(reference))
    assert total > 20 and len(expected) > 1000
    out, log = tmp_path / "out", tmp_path / "stderr.log"
    checkpointed = [*args, "--checkpoint", str(tmp_path / "cp"), "--checkpoint-interval", "0.3s"]
    points = sorted(random.Random(4).sample(range(total // 10, total * 8 // 10), 4))
    for point in points:
        proc = start([*checkpointed, "-o", f"{out}/"], log)
        while proc.poll() is None and len(part_files(out) if out.exists() else []) < point:
            time.sleep(0.002)
        assert proc.poll() is None, log.read_text()
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    proc = start([*checkpointed, "-o", f"{out}/"], log)
    assert proc.wait(timeout=300) == 0, log.read_text()
    got = read_rows(out)
    keys = [(r[0], r[1], r[2]) for r in got]  # start, end, word
    assert len(keys) == len(set(keys)), "a row was written twice"
    assert got == expected
    assert log.read_text().count("resumed") >= 4


def test_a_checkpoint_of_the_other_output_format_is_refused(tmp_path: Path) -> None:
    from toolkit.stream.outputs import OutputFile

    with pytest.raises(OutputError, match="was a JSON-lines file, not the dataset"):
        ParquetDataset(str(tmp_path / "ds"), times=True).restore(120)  # type: ignore[arg-type]
    with pytest.raises(OutputError, match="was a Parquet dataset, not the file"):
        OutputFile(str(tmp_path / "out.jsonl")).restore({"files": []})  # type: ignore[arg-type]
