"""A stream beside a batch job on one cluster: the stream's pace and latency, solo and shared.

On one running ``toolkit cluster`` (2 workers): the batch job alone; then
``toolkit stream 'demo:?rate=R' --window 1s --every 250ms`` alone for a while,
then the same batch job while the stream runs, then the stream alone again.
Each window's lines per second and its latency (from the window's end to its
line on the stream's stdout) are grouped by phase: windows that end before the
batch started (solo) and those that begin and end while it ran (shared).

Run: ``python -m benchmarks.sharing [--size 1GiB] [--rate 50000]``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

TOOLKIT = str(Path(sys.executable).parent / "toolkit")
CLUSTER_ARGS = ("--port", "0", "--dashboard-address", "", "--scheduler-file")
STREAM_ARGS = ("--window", "1s", "--every", "250ms", "--top", "1", "--stats-interval", "0")
BATCH_ARGS = ("--tokenizer", "whitespace", "--top", "1", "--no-progress", "--json")


def _cluster(workers: int, scheduler_file: Path) -> tuple[subprocess.Popen[bytes], str]:
    proc = subprocess.Popen(
        [TOOLKIT, "cluster", "--workers", str(workers), *CLUSTER_ARGS, str(scheduler_file)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not scheduler_file.exists() or not scheduler_file.read_text().strip():
        if time.monotonic() > deadline or proc.poll() is not None:
            raise RuntimeError("toolkit cluster did not start")
        time.sleep(0.1)
    time.sleep(0.5)
    address = json.loads(scheduler_file.read_text())["address"]
    return proc, str(address)


def _batch(paths: list[Path], address: str) -> float:
    begun = time.perf_counter()
    proc = subprocess.run(
        [TOOLKIT, "wordcount", *map(str, paths), "--scheduler", address, *BATCH_ARGS],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"the batch job failed: {proc.stderr.strip()[-500:]}")
    return time.perf_counter() - begun


def _summary(windows: list[tuple[float, float, int]]) -> dict[str, float]:
    """Lines/s (a 1 s window's lines), and latency p50/p99 in ms, of (arrival, end, lines)."""
    if not windows:
        return {"windows": 0, "lines_s": 0.0, "p50_ms": float("nan"), "p99_ms": float("nan")}
    late = sorted(1000 * (arrival - end) for arrival, end, _ in windows)
    return {
        "windows": len(windows),
        "lines_s": statistics.mean(lines for _, _, lines in windows),
        "p50_ms": statistics.median(late),
        "p99_ms": late[min(len(late) - 1, int(0.99 * len(late)))],
    }


def run_sharing(
    paths: list[Path], *, rate: int = 50_000, solo_seconds: float = 15.0, workers: int = 2
) -> dict[str, Any]:
    """The stream's figures solo and beside the batch job, and the batch job's times."""
    with tempfile.TemporaryDirectory() as tmp:
        cluster, address = _cluster(workers, Path(tmp) / "scheduler.json")
        try:
            _batch(paths[:1], address)  # warm the workers (imports, kernels)
            batch_solo = _batch(paths, address)
            stream = subprocess.Popen(
                [TOOLKIT, "stream", f"demo:?rate={rate}", *STREAM_ARGS, "--scheduler", address],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            seen: list[tuple[float, float, int]] = []

            def read() -> None:
                assert stream.stdout is not None
                for line in stream.stdout:
                    doc = json.loads(line)
                    seen.append((time.time(), doc["end"], doc["lines"]))

            reader = threading.Thread(target=read, daemon=True)
            reader.start()
            started = time.time()
            time.sleep(solo_seconds)
            batch_began = time.time()
            batch_shared = _batch(paths, address)
            batch_ended = time.time()
            time.sleep(5)
            stream.send_signal(signal.SIGINT)
            stream.wait(60)
            reader.join(10)
        finally:
            cluster.send_signal(signal.SIGINT)
            cluster.wait(60)
    solo = [w for w in seen if started + 3 <= w[1] <= batch_began]  # after the warm-up
    shared = [w for w in seen if batch_began + 1 <= w[1] <= batch_ended]
    s, b = _summary(solo), _summary(shared)
    return {
        "rate": rate,
        "workers": workers,
        "corpus_mb": sum(p.stat().st_size for p in paths) / 1e6,
        "stream_solo": s,
        "stream_shared": b,
        "lines_ratio": b["lines_s"] / s["lines_s"] if s["lines_s"] else float("nan"),
        "p99_ratio": b["p99_ms"] / s["p99_ms"] if s["windows"] and b["windows"] else float("nan"),
        "batch_solo_s": batch_solo,
        "batch_shared_s": batch_shared,
        "batch_slowdown": batch_shared / batch_solo,
    }


def markdown(r: dict[str, Any]) -> str:
    s, b = r["stream_solo"], r["stream_shared"]
    return "\n".join(
        [
            f"A stream at {r['rate']:,} lines/s (1 s windows every 250 ms) and a "
            f"{r['corpus_mb']:,.0f} MB word count on one {r['workers']}-worker cluster:",
            "",
            "| stream | windows | lines/s | p50 ms | p99 ms |",
            "|---|---|---|---|---|",
            f"| solo | {s['windows']} | {s['lines_s']:,.0f} | {s['p50_ms']:.0f} | "
            f"{s['p99_ms']:.0f} |",
            f"| beside the batch job | {b['windows']} | {b['lines_s']:,.0f} | "
            f"{b['p50_ms']:.0f} | {b['p99_ms']:.0f} |",
            "",
            f"Stream lines/s shared / solo: **{r['lines_ratio']:.2f}** (target >= 0.80); "
            f"p99 shared / solo: **{r['p99_ratio']:.2f}** (target <= 2). Batch job: "
            f"{r['batch_solo_s']:.1f} s alone, {r['batch_shared_s']:.1f} s beside the stream "
            f"({r['batch_slowdown']:.2f}x).",
        ]
    )


def main() -> None:
    from benchmarks.__main__ import corpus

    parser = argparse.ArgumentParser(prog="python -m benchmarks.sharing", description=__doc__)
    parser.add_argument("--size", default="1GiB", help="the batch job's corpus (default 1GiB)")
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--rate", type=int, default=50_000)
    parser.add_argument("--solo-seconds", type=float, default=15.0)
    parser.add_argument("--cache", default=os.path.expanduser("~/.cache/toolkit-benchmarks"))
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()
    paths = corpus(Path(args.cache), args.size, args.files)
    result = run_sharing(paths, rate=args.rate, solo_seconds=args.solo_seconds)
    table = markdown(result)
    print(table)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "sharing-latest.md").write_text(table + "\n")
    (out / "sharing-latest.json").write_text(json.dumps(result, indent=2))
    if not result["stream_shared"]["windows"]:
        sys.exit("no window began and ended while the batch job ran: give it a larger --size")


if __name__ == "__main__":
    main()
