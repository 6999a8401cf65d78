"""The benchmark command runs (on a tiny corpus) so that it cannot rot; no timing is asserted."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # it runs every contender

ROOT = Path(__file__).resolve().parents[1]


def test_benchmark_command_runs_and_every_contender_agrees(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "--size",
            "200kB",
            "--files",
            "2",
            "--repeat",
            "1",
            "--textbook-lines",
            "20",
            "--latency-seconds",
            "4",
            "--scaling-pairs",
            "2",
            "--job-records",
            "20000",
            "--sharing-size",
            "8MB",
            "--sharing-seconds",
            "8",  # more than 5 windows of the stream alone, on a busy machine too
            "--one-line-runs",
            "1",
            "--cache",
            str(tmp_path / "cache"),
            "--out",
            str(tmp_path / "out"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "| toolkit wordcount |" in proc.stdout and "| dask.bag foldby |" in proc.stdout
    results = json.loads((tmp_path / "out" / "latest.json").read_text())
    assert all(r["correct"] in (True, None) for r in results["batch"])
    checked = {r["name"] for r in results["batch"] if r["correct"]}
    assert {
        "toolkit wordcount --workers 1",
        "toolkit wordcount --workers 2 (embedded cluster)",
        "toolkit.word_count() from Python",
    } <= checked
    assert "checkpoint every 1s" in proc.stdout
    jobs = results["jobs"]
    assert all(r["same_answer"] for rows in jobs["jobs"].values() for r in rows)
    assert jobs["running_cluster"]["same_answer"]
    assert {r["name"] for r in jobs["jobs"]["windows"]} >= {
        "toolkit stream --local",
        "toolkit stream, 2 workers",
        "plain loop (json)",
    }
    assert "| dask.bag read_text.map(json.loads).foldby |" in proc.stdout
    assert results["latency"]["windows"] >= 1 and results["latency"]["p99_ms"] > 0
    assert {r["name"] for r in results["batch"]} >= {
        "toolkit wordcount",
        "toolkit wordcount --workers 1",
        "toolkit wordcount --workers 2 (embedded cluster)",
        "toolkit.word_count() from Python",
        "plain Python Counter",
        "dask.bag frequencies",
        "dask.bag foldby",
    }
    with_bytewax = importlib.util.find_spec("bytewax") is not None
    assert len(results["streams"]) == 8 + with_bytewax
    assert set(results["sliding_cost"]) == {"time", "count"}
    assert (tmp_path / "out" / "latest.md").read_text().startswith("Machine: ")
    assert results["one_line"]["same_answer"]
    assert {r["name"] for r in results["one_line"]["rows"]} >= {
        "toolkit wordcount, embedded default",
        "toolkit wordcount --scheduler (a running cluster)",
    }
    duckdb = importlib.util.find_spec("duckdb") is not None
    fast = {r["name"]: r["correct"] for r in results["batch"] if "string_split" in r["name"]}
    assert fast == ({"DuckDB SQL, string_split(line, ' ')": True} if duckdb else {})
    scaling = results["scaling"]
    assert scaling["same_counts"] and len(scaling["ratios"]) == 2
    assert len(scaling["whole_process_ratios"]) == 1
    assert "the job alone on running clusters, 2 alternating pairs" in proc.stdout
    sharing = results["sharing"]  # a stream solo, then beside the batch job, on one cluster
    assert sharing["stream_solo"]["windows"] > 5 and sharing["batch_solo_s"] > 0
    assert "Stream lines/s shared / solo" in proc.stdout


@pytest.mark.parametrize("how", [[], ["--cluster"]])
def test_the_time_budget_command_prints_every_phase(tmp_path: Path, how: list[str]) -> None:
    from toolkit.corpus import generate_corpus

    paths = generate_corpus(tmp_path / "corpus", size="300kB", files=2)
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.budget", *how, *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = dict(
        line.strip("|").split("|") for line in proc.stdout.splitlines()[2:] if line.startswith("| ")
    )
    phases = {name.strip(): float(value) for name, value in rows.items()}
    assert phases["interpreter start"] > 0 and phases["imports"] > 0
    if how:
        assert "cluster start" in phases and phases["warm job: map tasks"] > 0
    else:
        assert phases["warm job: map tasks, thread-seconds busy"] > 0
        assert phases["the whole command, apart"] > phases["interpreter start"]


@pytest.mark.parametrize("how", [[], ["--separate"]])
def test_the_driver_cost_command_reads_every_record(tmp_path: Path, how: list[str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.driver", "--records", "20000", "--words", "1MB",
         "--cache", str(tmp_path), *how],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows = [line.split("|") for line in proc.stdout.splitlines()[2:]]
    assert len(rows) == 3  # windows and sessions of a user job, a word count
    assert rows[0][2].strip() == rows[1][2].strip() == "20,000"  # every record read
    assert all(float(row[4]) > 0 for row in rows)  # the driver's CPU, counted
