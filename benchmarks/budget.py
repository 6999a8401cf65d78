"""Where a word count's time goes: ``python -m benchmarks.budget [--processes] FILE...``.

One process, as ``toolkit wordcount --workers 2 --output counts.parquet`` runs (the same
calls, timed one by one): the interpreter's start (a separate ``python -c pass``), imports,
the embedded cluster's start (one worker of 2 threads in this process, as the command starts
it; ``--processes``: 2 worker processes), the first job (numba and the kernel load), the same
job again (warm: its map, merge and finish tasks from the dashboard's task stream, the rest:
graph, transfers, the client's ranking), writing the Parquet file, closing the cluster.
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


def budget(paths: list[str], processes: bool = False) -> dict[str, float]:
    """The seconds of each phase of a word count of ``paths`` (see the module's docstring)."""
    out: dict[str, float] = {}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    out["interpreter start"] = time.perf_counter() - start

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


def main() -> None:
    processes = "--processes" in sys.argv[1:]
    paths = [a for a in sys.argv[1:] if a != "--processes"]
    if not paths:
        sys.exit("usage: python -m benchmarks.budget [--processes] FILE...")
    phases = budget(paths, processes)
    print("| phase | seconds |\n|---|---:|")
    for name, seconds in phases.items():
        print(f"| {name} | {seconds:.3f} |")


if __name__ == "__main__":
    main()
