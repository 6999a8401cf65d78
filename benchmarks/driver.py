"""The stream driver's cost per record: ``python -m benchmarks.driver [--records N]``.

A stream's throughput is bounded by its driver, the one process that reads the
inputs and feeds the pipeline, however many workers the cluster has.  This runs
two streams over files on an embedded cluster of worker processes (``--separate``:
a cluster in processes of its own) and reports the CPU seconds of the driver's
process (every thread: the sources' readers, the pipeline, the client; on the
embedded cluster also its scheduler and nannies) during ``run()``, start-up left out:

- a user job over N JSON access-log records (bytes per status, 1 s event-time
  tumbling windows, lateness 1 s), as ``toolkit stream --records jsonl
  --mapper ... --window 1s --event-time ts --lateness 1s --workers W``;
- the same records in per-client event-time sessions (gap 30 s, lateness 1 s);
- a word count over SIZE of text in 1 s processing-time windows.

From the CPU per million records follows the records/s at which the driver would
be the ceiling.  Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks.access_jobs import add, client_one, status_bytes
from benchmarks.jobs import access_file


def measure(job: Any) -> dict[str, float]:
    """Wall and driver CPU seconds of ``job.run()``, and the records it read."""
    cpu, wall = time.process_time(), time.perf_counter()
    stats = job.run()
    return {
        "records": stats.lines,
        "wall_s": time.perf_counter() - wall,
        "driver_cpu_s": time.process_time() - cpu,
    }


@contextlib.contextmanager
def cluster(workers: int, separate: bool) -> Iterator[Any]:
    """The embedded cluster (its scheduler and nannies in this process, as ``toolkit stream
    --workers N`` runs), or with ``separate`` a ``toolkit cluster`` in its own processes."""
    import toolkit

    if not separate:
        with toolkit.connect(n_workers=workers, threads_per_worker=1, quiet=True) as conn:
            yield conn
        return
    argv = [sys.executable, "-m", "toolkit", "cluster", "--port", "0", "--workers", str(workers)]
    proc = subprocess.Popen([*argv, "--dashboard-address", ""], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        address = proc.stdout.readline().split()[1]
        with toolkit.connect(address, quiet=True) as conn:
            conn.client.wait_for_workers(workers, timeout=60)
            yield conn
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)


def driver_costs(
    records: int, words: str, workers: int, cache: Path, separate: bool = False
) -> list[dict[str, Any]]:
    from toolkit.corpus import generate_corpus
    from toolkit.stream import stream_map_reduce, stream_word_count

    rows: list[dict[str, Any]] = []
    with cluster(workers, separate) as conn:
        kinds: list[tuple[str, Any, dict[str, Any]]] = [
            (f"user job, {records:,} JSON records", status_bytes, {"window": "1s"}),
            (f"user job, sessions, {records:,} records", client_one, {"session": "30s"}),
        ]
        for name, mapper, windows in kinds:
            job = stream_map_reduce(
                str(access_file(cache, records)),
                mapper,
                add,
                records="jsonl",
                event_time="ts",
                lateness="1s",
                scheduler=conn,
                **windows,
            )
            job.results.sink(lambda r: None)
            rows.append({"stream": name, **measure(job)})
        text = cache / f"text-{words}"
        if not text.exists():
            generate_corpus(text, size=words, files=1)
        wc = stream_word_count(str(next(text.iterdir())), window="1s", scheduler=conn)
        wc.results.sink(lambda r: None)
        rows.append({"stream": f"word count, {words} of text", **measure(wc)})
    for row in rows:
        per_million = row["driver_cpu_s"] / row["records"] * 1e6
        row["cpu_s_per_million"] = per_million
        row["ceiling_records_per_s"] = 1e6 / per_million
    return rows


def markdown(rows: list[dict[str, Any]], workers: int, separate: bool) -> str:
    where = "a separate cluster" if separate else "the embedded cluster"
    out = [
        f"| stream ({where}, {workers} worker processes) | records | wall s | driver CPU s "
        "| CPU s per million | driver ceiling, records/s |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        out.append(
            f"| {r['stream']} | {r['records']:,} | {r['wall_s']:.2f} | {r['driver_cpu_s']:.2f} "
            f"| {r['cpu_s_per_million']:.2f} | {r['ceiling_records_per_s']:,.0f} |"
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.driver", description=__doc__)
    parser.add_argument("--records", type=int, default=3_000_000)
    parser.add_argument("--words", default="64MB")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "tk-bench")
    parser.add_argument(
        "--separate",
        action="store_true",
        help="run the cluster in processes of its own (toolkit cluster), so that the CPU "
        "counted is the driver's alone, without the embedded scheduler's and nannies'",
    )
    args = parser.parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    rows = driver_costs(args.records, args.words, args.workers, args.cache, args.separate)
    print(markdown(rows, args.workers, args.separate))


if __name__ == "__main__":
    main()
