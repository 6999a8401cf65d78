"""Where a word count's time goes: ``python -m benchmarks.budget [--cluster|--processes] FILE...``.

By default, as ``toolkit wordcount --output counts.parquet`` runs a job of seconds: in one
process on dask's threaded scheduler (:func:`budget_in_process`: imports, the first job with
the kernel's and class table's load, the same job again split into its count, merge and
finish tasks, writing Parquet, and the whole command timed apart).  With ``--cluster``, as
``toolkit wordcount --workers 2 --output counts.parquet`` runs (the same calls, timed one
by one): the interpreter's start (a separate ``python -c pass``), imports, the embedded
cluster's start (one worker of 2 threads in this process, as the command starts it;
``--processes``: 2 worker processes), the first job (the kernel's load), the same job again
(warm: its map, merge and finish tasks from the dashboard's task stream, the rest: graph,
transfers, the client's ranking), writing the Parquet file, closing the cluster.
Prints a Markdown table.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def _spans(events: list[dict[str, Any]], prefix: str) -> float:
    """Wall seconds from the first start to the last stop of the tasks named ``prefix``."""
    starts, stops = [], []
    for event in events:
        if str(event["key"]).split("-")[1:2] != [prefix]:
            continue
        for part in event["startstops"]:
            if part["action"] == "compute":
                starts.append(part["start"])
                stops.append(part["stop"])
    return max(stops) - min(starts) if starts else 0.0


def _interpreter_start() -> float:
    """Seconds of a ``python -c pass`` (the part of every command that is not ours)."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - start


def budget(paths: list[str], processes: bool = False) -> dict[str, float]:
    """The seconds of each phase of a word count of ``paths`` (see the module's docstring)."""
    out: dict[str, float] = {"interpreter start": _interpreter_start()}

    start = time.perf_counter()
    import toolkit
    from toolkit.batch.outputs import write_table

    out["imports"] = time.perf_counter() - start
    start = time.perf_counter()
    workers, threads = (2, 1) if processes else (1, 2)
    conn = toolkit.connect(
        n_workers=workers, threads_per_worker=threads, processes=processes, quiet=True
    )
    out["cluster start"] = time.perf_counter() - start
    try:
        start = time.perf_counter()
        toolkit.word_count(paths, tokenizer="whitespace", top=None, scheduler=conn)
        first = time.perf_counter() - start
        from distributed import get_task_stream

        with get_task_stream(conn.client) as stream:
            start = time.perf_counter()
            result = toolkit.word_count(paths, tokenizer="whitespace", top=None, scheduler=conn)
            warm = time.perf_counter() - start
        out["first job less the warm one (kernel loads)"] = max(first - warm, 0.0)
        events = stream.data
        out["warm job: map tasks"] = _spans(events, "map")
        out["warm job: merge tasks"] = _spans(events, "combine")
        out["warm job: finish tasks"] = _spans(events, "reduce")
        out["warm job: the rest (graph, transfer, ranking)"] = warm - sum(
            out[k]
            for k in ("warm job: map tasks", "warm job: merge tasks", "warm job: finish tasks")
        )
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            write_table(result.to_arrow(), str(Path(tmp) / "counts.parquet"))
            out["write Parquet"] = time.perf_counter() - start
    finally:
        start = time.perf_counter()
        conn.close()
        out["close"] = time.perf_counter() - start
    return out


def budget_in_process(paths: list[str]) -> dict[str, float]:
    """The seconds of each phase of a word count of ``paths`` on dask's threaded scheduler."""
    out: dict[str, float] = {"interpreter start": _interpreter_start()}
    start = time.perf_counter()
    from dask.callbacks import Callback

    import toolkit.cli  # noqa: F401  (what the command imports first)
    from toolkit.batch import word_count
    from toolkit.batch.outputs import write_table

    out["imports"] = time.perf_counter() - start
    start = time.perf_counter()
    word_count(paths, tokenizer="whitespace", scheduler="threads")
    first = time.perf_counter() - start
    spans: dict[str, list[float]] = {}

    class Spans(Callback):
        def _pretask(self, key: Any, dask: Any, state: Any) -> None:
            spans.setdefault(repr(key), []).append(time.perf_counter())

        def _posttask(self, key: Any, *args: Any) -> None:
            spans[repr(key)].append(time.perf_counter())

    with Spans():
        start = time.perf_counter()
        result = word_count(paths, tokenizer="whitespace", scheduler="threads")
        warm = time.perf_counter() - start
    out["first job less the warm one (class table, kernel)"] = max(first - warm, 0.0)
    every: list[float] = []
    for kind in ("map", "combine", "reduce"):
        mine = [ts for key, ts in spans.items() if key.split("-")[1:2] == [kind]]
        times = [t for ts in mine for t in ts]
        every += times
        busy = sum(ts[-1] - ts[0] for ts in mine)
        span = max(times) - min(times) if times else 0.0
        out[f"warm job: {kind} tasks, first start to last stop"] = span
        out[f"warm job: {kind} tasks, thread-seconds busy"] = busy
    tasks = max(every) - min(every) if every else 0.0
    out["warm job: the rest (plan, graph, ranking)"] = max(warm - tasks, 0.0)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        write_table(result.to_arrow(), str(Path(tmp) / "counts.parquet"))
        out["write Parquet"] = time.perf_counter() - start
        start = time.perf_counter()
        command = [sys.executable, "-m", "toolkit", "wordcount", "--tokenizer", "whitespace"]
        subprocess.run(
            [*command, "-o", str(Path(tmp) / "c.parquet"), *paths],
            check=True,
            capture_output=True,
        )
        out["the whole command, apart"] = time.perf_counter() - start
    return out


def main() -> None:
    processes = "--processes" in sys.argv[1:]
    cluster = processes or "--cluster" in sys.argv[1:]
    paths = [a for a in sys.argv[1:] if a not in ("--processes", "--cluster")]
    if not paths:
        sys.exit("usage: python -m benchmarks.budget [--cluster|--processes] FILE...")
    phases = budget(paths, processes) if cluster else budget_in_process(paths)
    print("| phase | seconds |\n|---|---:|")
    for name, seconds in phases.items():
        print(f"| {name} | {seconds:.3f} |")


if __name__ == "__main__":
    main()
