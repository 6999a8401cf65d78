"""A one-line job, whole process: what a user waits for when the input is nothing.

``toolkit wordcount one-line.txt --json`` on the embedded default and with ``--scheduler``
against a running ``toolkit cluster`` of 2 workers (started here, one job run on it first, as
on a cluster in use), beside DuckDB's fast query on the same line (where DuckDB is installed:
``.[bench]``) and a bare ``python -c pass`` (the interpreter's own start).  Each is timed from
``Popen`` to exit, ``repeat`` times round-robin; every contender's answer must be the same.
"""

from __future__ import annotations

import importlib.util
import json
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.contenders import DUCKDB_SPACE

LINE = "The quick brown fox jumps over the lazy dog and the cat\n"


def _timed(argv: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:4])} failed: {proc.stderr.strip()[-500:]}")
    return seconds, proc.stdout


def _words(stdout: str, how: str) -> dict[str, int]:
    """Every word's count from a contender's output."""
    if how == "toolkit":
        return {r["word"]: r["count"] for r in json.loads(stdout)["top"]}
    if how == "none":
        return {}
    doc = json.loads(stdout.strip().splitlines()[-1])
    return {"total": doc["total"], "distinct": doc["distinct"]}


def _start_cluster() -> tuple[subprocess.Popen[str], str]:
    cluster = subprocess.Popen(
        [sys.executable, "-m", "toolkit", "cluster", "--workers", "2", "--port", "0",
         "--dashboard-address", ""],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    assert cluster.stdout is not None
    first = cluster.stdout.readline()
    if not first.startswith("scheduler: "):
        cluster.kill()
        raise RuntimeError(f"toolkit cluster did not start: {first!r}")
    return cluster, first.split(": ", 1)[1].strip()


def run_one_line(cache: Path, repeat: int) -> dict[str, Any]:
    """Every one-line contender ``repeat`` times; median, min and max seconds of each."""
    path = cache / "one-line.txt"
    path.write_text(LINE, encoding="utf-8")
    python = sys.executable
    tk = [python, "-m", "toolkit", "wordcount", str(path), "--json", "--top", "0", "--tokenizer"]
    tk.append("whitespace")  # str.split(), as every contender splits
    cluster, address = _start_cluster()
    try:
        _timed([*tk, "--scheduler", address])  # the workers have run a job before
        found = [
            ("toolkit wordcount, embedded default", tk, "toolkit"),
            ("toolkit wordcount --scheduler (a running cluster)", [*tk, "--scheduler", address],
             "toolkit"),
            ("python -c pass (the interpreter's start)", [python, "-c", "pass"], "none"),
        ]  # fmt: skip
        if importlib.util.find_spec("duckdb") is not None:  # pip install -e '.[bench]'
            duckdb = [python, "-c", DUCKDB_SPACE, str(path)]
            found.insert(2, ("DuckDB SQL, string_split(line, ' ')", duckdb, "digest"))
        times: dict[str, list[float]] = {name: [] for name, _, _ in found}
        answers: dict[str, dict[str, int]] = {}
        for _ in range(repeat):
            for name, argv, how in found:
                seconds, stdout = _timed(argv)
                times[name].append(seconds)
                answers[name] = _words(stdout, how)
    finally:
        cluster.send_signal(signal.SIGINT)
        cluster.wait(timeout=60)
    toolkit_words = answers[found[0][0]]
    same = toolkit_words == answers[found[1][0]] and all(
        answers[name] == {"total": sum(toolkit_words.values()), "distinct": len(toolkit_words)}
        for name, _, how in found
        if how == "digest"
    )
    rows = [
        {"name": name, "median_s": statistics.median(ts), "min_s": min(ts), "max_s": max(ts)}
        for name, ts in times.items()
    ]
    return {"rows": rows, "repeat": repeat, "same_answer": same}


def markdown(results: dict[str, Any]) -> str:
    """The one-line table."""
    out = [
        f"| one line, whole process ({results['repeat']} runs) | median s | min-max s |",
        "|---|---:|---:|",
    ]
    for r in results["rows"]:
        out.append(f"| {r['name']} | {r['median_s']:.2f} | {r['min_s']:.2f}-{r['max_s']:.2f} |")
    out.append(f"\nSame answer: {'yes' if results['same_answer'] else 'NO'}.\n")
    return "\n".join(out)
