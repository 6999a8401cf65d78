"""``python -m benchmarks``: toolkit against its baselines, in one run, on the same corpus.

Prints Markdown tables (and writes them with a JSON file of every figure to ``--out``):
median seconds and min-max over ``--repeat`` runs, MB/s, peak memory of the process tree,
and each contender's time as a ratio to toolkit's.  Every contender must give the same counts.
A contender's time is its whole process (start, imports, cluster, exit) less the time its
answer check took (sorting and hashing every count: the harness's work, the same for all).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from benchmarks.contenders import answer_of_file, batch_contenders
from toolkit.corpus import generate_corpus


def measure(argv: list[str], stdin: Any = None) -> tuple[float, int, str, str]:
    """Run a whole process; return its seconds, peak RSS of the tree (bytes), stdout, stderr."""
    # output goes to files, not pipes: a process that writes more than a pipe holds (`wc -w`
    # over 2,000 files) would otherwise wait forever for this loop to read it
    with tempfile.TemporaryFile("w+") as out_file, tempfile.TemporaryFile("w+") as err_file:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdin=stdin, stdout=out_file, stderr=err_file, text=True)
        peak = 0
        ps = psutil.Process(proc.pid)
        while proc.poll() is None:
            with contextlib.suppress(psutil.Error):
                tree = [ps, *ps.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree))
            time.sleep(0.05)
        seconds = time.perf_counter() - start
        out_file.seek(0)
        err_file.seek(0)
        out, err = out_file.read(), err_file.read()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:3])} failed ({proc.returncode}): {err.strip()[-500:]}")
    return seconds, peak, out, err


def corpus(cache: Path, size: str, files: int) -> list[Path]:
    directory = cache / f"corpus-{size}-{files}"
    done = directory / ".complete"
    if not done.exists():
        paths = generate_corpus(directory, size=size, files=files, seed=0)
        done.write_text("\n".join(p.name for p in paths))
    return sorted(p for p in directory.iterdir() if p.name.startswith("part-"))


def run_batch(
    paths: list[Path], repeat: int, only: str | None = None
) -> tuple[list[dict[str, Any]], list[str]]:
    """Run every contender ``repeat`` times, round-robin, so a drift in the machine's
    speed touches them all alike; ``only`` keeps contenders whose name contains it
    (comma-separated: any of them; toolkit wordcount, the reference for the counts, always
    runs)."""
    contenders, notes = batch_contenders(sys.executable)
    if only:
        wanted = [w.strip().lower() for w in only.split(",") if w.strip()]
        contenders = [
            c
            for c in contenders
            if c.name == "toolkit wordcount" or any(w in c.name.lower() for w in wanted)
        ]
    megabytes = sum(p.stat().st_size for p in paths) / 1e6
    times: dict[str, list[float]] = {c.name: [] for c in contenders}
    peaks: dict[str, list[int]] = {c.name: [] for c in contenders}
    answers: dict[str, str] = {}
    for _ in range(repeat):
        for c in contenders:
            with tempfile.TemporaryDirectory(prefix="toolkit-bench-") as tmp:
                output = os.path.join(tmp, "counts.parquet")
                argv = [a.replace("{output}", output) for a in c.argv]
                seconds, peak, out, _ = measure([*argv, *map(str, paths)])
                if c.output:
                    answer = answer_of_file(output)
                else:
                    answer = out.strip().splitlines()[-1] if out.strip() else ""
            if answer.startswith("{"):  # the answer check is the harness's, not the contender's
                seconds -= json.loads(answer)["check_s"]
            times[c.name].append(seconds)
            peaks[c.name].append(peak)
            answers[c.name] = answer
    rows: list[dict[str, Any]] = [
        {
            "name": c.name,
            "note": c.note,
            "checks": c.checks,
            "times": times[c.name],
            "median": statistics.median(times[c.name]),
            "mb_s": megabytes / statistics.median(times[c.name]),
            "peak_mb": max(peaks[c.name]) / 2**20,
            "answer": answers[c.name],
        }
        for c in contenders
    ]
    reference = next(r for r in rows if r["name"] == "toolkit wordcount")
    expected = _answer(reference["answer"])
    for r in rows:
        if r["name"].startswith("wc -w"):
            r["correct"] = int(r["answer"].split()[0]) == expected["total"]
        elif r["checks"]:
            got = _answer(r["answer"])
            r["correct"] = got == expected
        else:
            r["correct"] = None
        r["ratio"] = r["median"] / reference["median"]
    return rows, notes


def run_scaling(paths: list[Path], pairs: int) -> dict[str, Any]:
    """Two workers against one, the job alone, on running embedded clusters.

    What a user of a cluster that is already up sees (Jupyter, ``toolkit cluster``):
    no interpreter, import or cluster start.  Both clusters are started and warmed
    first, then the job alternates between them ``pairs`` times, so that a drift in
    the machine's speed touches both alike; the ratio is taken per pair.  Both must
    give the same counts.
    """
    import toolkit

    times: dict[int, list[float]] = {1: [], 2: []}
    answers = set()
    with (
        toolkit.connect(n_workers=1, quiet=True, dashboard_address=None) as one,
        toolkit.connect(n_workers=2, quiet=True, dashboard_address=None) as two,
    ):
        for conn in (one, two):  # workers load the counting kernels on their first task
            toolkit.word_count(paths[0], tokenizer="whitespace", scheduler=conn, top=1)
        for _ in range(pairs):
            for n, conn in ((1, one), (2, two)):
                start = time.perf_counter()
                result = toolkit.word_count(paths, tokenizer="whitespace", scheduler=conn, top=20)
                times[n].append(time.perf_counter() - start)
                answers.add(
                    (result.total_words, result.distinct_words, tuple(result.most_common()))
                )
    ratios = [a / b for a, b in zip(times[1], times[2], strict=True)]
    return {
        "one_worker_s": times[1],
        "two_workers_s": times[2],
        "ratios": ratios,
        "median_ratio": statistics.median(ratios),
        "same_counts": len(answers) == 1,
    }


def whole_process_scaling(batch: list[dict[str, Any]]) -> list[float] | None:
    """Per round-robin round, the 1-thread cluster's time over the 2-thread cluster's."""
    rows = {r["name"]: r["times"] for r in batch}
    one = rows.get("toolkit wordcount --workers 1")
    two = rows.get("toolkit wordcount --workers 2 (embedded cluster)")
    return None if one is None or two is None else [a / b for a, b in zip(one, two, strict=True)]


def _answer(line: str) -> dict[str, Any]:
    answer: dict[str, Any] = json.loads(line)
    answer.pop("check_s")
    return answer


BYTEWAX = """
import sys, time
from collections import Counter
from datetime import datetime, timedelta, timezone
import bytewax.operators as op
import bytewax.operators.windowing as win
from bytewax.connectors.files import FileSource
from bytewax.dataflow import Dataflow
from bytewax.testing import TestingSink, run_main

def fold(counts, line):
    counts.update(line.split())
    return counts

flow = Dataflow("wordcount")
lines = op.input("lines", flow, FileSource(sys.argv[1]))
keyed = op.key_on("all", lines, lambda _: "all")
windows = win.fold_window(
    "tumbling_1s", keyed, win.SystemClock(),
    win.TumblingWindower(
        length=timedelta(seconds=1), align_to=datetime(2024, 1, 1, tzinfo=timezone.utc)
    ),
    Counter, fold, lambda a, b: a + b,
)
out = []
op.output("out", windows.down, TestingSink(out))
n = sum(1 for _ in open(sys.argv[1], "rb"))
t = time.perf_counter()
run_main(flow)
print(n / (time.perf_counter() - t))
"""


def run_streams(path: Path, repeat: int, textbook_lines: int = 1000) -> list[dict[str, Any]]:
    lines = sum(1 for _ in path.open("rb"))
    toolkit = str(Path(sys.executable).parent / "toolkit")
    common = ["--tokenizer", "whitespace", "--top", "1", "--stats-interval", "0"]
    cases = [
        ("toolkit stream --local, tumbling count", ["--count", "10000", "--local"]),
        ("toolkit stream on the cluster, tumbling count", ["--count", "10000", "--workers", "2"]),
        ("toolkit stream on the cluster, tumbling 1s", ["--window", "1s", "--workers", "2"]),
        (
            "toolkit stream on the cluster, sliding 60s every 1s",
            ["--window", "60s", "--every", "1s", "--workers", "2"],
        ),
        (
            "toolkit stream on the cluster, sliding count of 60 panes",
            ["--count", "600000", "--every", "10000", "--workers", "2"],
        ),
        (
            "toolkit stream --local, tumbling count, checkpoint every 1s",
            ["--count", "10000", "--local", "--checkpoint", "{checkpoint}"],
        ),
    ]
    rows: list[dict[str, Any]] = []
    for name, args in cases:
        rates, walls = [], []
        for _ in range(repeat):
            with tempfile.TemporaryDirectory() as tmp:  # a fresh checkpoint: no resuming
                run = [a.replace("{checkpoint}", tmp) for a in args]
                if "--checkpoint" in run:
                    run += ["--checkpoint-interval", "1s", "-o", os.path.join(tmp, "out.jsonl")]
                seconds, _, _, err = measure([toolkit, "stream", str(path), *run, *common])
            rate = re.findall(r"\(([\d,]+)/s\)", err)[-1]
            rates.append(float(rate.replace(",", "")))
            walls.append(lines / seconds)
        rows.append(
            {
                "name": name,
                "lines_s": statistics.median(rates),
                "whole_process_lines_s": statistics.median(walls),
            }
        )
    loop = """
import sys, time
from collections import Counter
t = time.perf_counter(); c = Counter(); n = 0
for line in open(sys.argv[1], encoding="utf-8"):
    c.update(line.split()); n += 1
print(n / (time.perf_counter() - t))
"""
    rates = [float(measure([sys.executable, "-c", loop, str(path)])[2]) for _ in range(repeat)]
    rows.append(
        {
            "name": "plain Python loop, a Counter update per line",
            "lines_s": statistics.median(rates),
        }
    )
    textbook = """
import sys, time, itertools
from collections import Counter
from distributed import Client, LocalCluster
from streamz import Stream
if __name__ == "__main__":
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None)
    with cluster, Client(cluster):
        source = Stream(asynchronous=False)
        out = source.scatter().map(lambda line: Counter(line.split())).gather().sink_to_list()
        lines = list(itertools.islice(open(sys.argv[1], encoding="utf-8"), int(sys.argv[2])))
        t = time.perf_counter()
        for line in lines:
            source.emit(line)
        while len(out) < len(lines):
            time.sleep(0.01)
        print(len(lines) / (time.perf_counter() - t))
"""
    if importlib.util.find_spec("bytewax") is not None:
        rates = [
            float(measure([sys.executable, "-c", BYTEWAX, str(path)])[2]) for _ in range(repeat)
        ]
        rows.append(
            {
                "name": "Bytewax, tumbling 1s (SystemClock), a Counter fold per line",
                "lines_s": statistics.median(rates),
            }
        )
    rate = float(measure([sys.executable, "-c", textbook, str(path), str(textbook_lines)])[2])
    rows.append(
        {
            "name": "textbook streamz on dask: scatter().map().gather() per line "
            f"({textbook_lines:,} lines)",
            "lines_s": rate,
        }
    )
    base = rows[1]["lines_s"]
    for r in rows:
        r["ratio"] = r["lines_s"] / base
    return rows


def sliding_costs(streams: list[dict[str, Any]]) -> dict[str, float]:
    """What a sliding window of 60 panes costs against a tumbling one of its panes."""
    rate = {r["name"]: r["lines_s"] for r in streams}
    cluster = "toolkit stream on the cluster, "
    return {
        "time": rate[cluster + "tumbling 1s"] / rate[cluster + "sliding 60s every 1s"],
        "count": rate[cluster + "tumbling count"] / rate[cluster + "sliding count of 60 panes"],
    }


def stream_input(paths: list[Path]) -> Path:
    """The corpus as one file, for the stream runs (long enough to fill 60 panes)."""
    path = paths[0].parent / "stream.txt"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        with tmp.open("wb") as out:
            for p in paths:
                out.write(p.read_bytes())
        tmp.rename(path)
    return path


def run_latency(path: Path, rate: float, seconds: float = 20.0) -> dict[str, Any]:
    """Latency from a 1 s processing-time window's end to its result on stdout.

    ``toolkit stream tcp://...`` on an embedded two-worker cluster, fed ``rate``
    lines/s from ``path`` over a socket (20 sends a second) for ``seconds``.
    """
    toolkit = str(Path(sys.executable).parent / "toolkit")
    proc = subprocess.Popen(
        [
            *[toolkit, "stream", "tcp://127.0.0.1:0", "--window", "1s", "--workers", "2"],
            *["--tokenizer", "whitespace", "--top", "1", "--stats-interval", "0"],
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    port = None
    for line in proc.stderr:
        found = re.search(r"listening on tcp://127\.0\.0\.1:(\d+)", line)
        if found:
            port = int(found.group(1))
            break
    if port is None:
        raise RuntimeError("toolkit stream did not start listening")
    threading.Thread(target=proc.stderr.read, daemon=True).start()
    latencies: list[float] = []
    sending = threading.Event()
    sending.set()

    def read_results() -> None:
        for line in proc.stdout:  # type: ignore[union-attr]
            if sending.is_set():  # windows flushed at the stop are not on time, by design
                latencies.append(time.time() - json.loads(line)["end"])

    reader = threading.Thread(target=read_results, daemon=True)
    reader.start()
    lines = path.read_bytes().splitlines(keepends=True)
    per_send = max(1, int(rate / 20))
    with socket.create_connection(("127.0.0.1", port)) as sock:
        begun = time.monotonic()
        sent = 0
        while time.monotonic() - begun < seconds:
            start = sent % len(lines)
            sock.sendall(b"".join(lines[start : start + per_send]))
            sent += per_send
            delay = begun + sent / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        time.sleep(2.5)  # the last windows close
        sending.clear()
    proc.terminate()
    proc.wait(timeout=60)
    reader.join(timeout=10)
    settled = sorted(latencies[2:])  # the first windows include the cluster's warm-up
    if not settled:
        raise RuntimeError("no window results to time")
    return {
        "name": f"1s tumbling windows at {rate:,.0f} lines/s, on the cluster",
        "rate": rate,
        "windows": len(settled),
        "p50_ms": 1000 * statistics.median(settled),
        "p99_ms": 1000 * settled[min(len(settled) - 1, int(0.99 * len(settled)))],
    }


def markdown(
    batch: list[dict[str, Any]],
    notes: list[str],
    streams: list[dict[str, Any]],
    meta: dict[str, Any],
    latency: dict[str, Any] | None = None,
    scaling: dict[str, Any] | None = None,
) -> str:
    out = [
        f"Machine: {meta['machine']}; corpus: {meta['corpus_mb']:.0f} MB in {meta['files']} files; "
        f"{meta['repeat']} runs each, round-robin; whole processes (start, imports, cluster "
        "and exit included) less the answer check (sorting and hashing every count).",
        "",
        "| contender | median s | min-max s | MB/s | peak MB | time vs toolkit | same counts |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in batch:
        same = {True: "yes", False: "**NO**", None: "n/a"}[r["correct"]]
        out.append(
            f"| {r['name']} | {r['median']:.2f} | {min(r['times']):.2f}-{max(r['times']):.2f} | "
            f"{r['mb_s']:.1f} | {r['peak_mb']:.0f} | {r['ratio']:.2f}x | {same} |"
        )
    out += ["", *[f"- {n}" for n in notes]]
    whole = whole_process_scaling(batch)
    if whole or scaling:
        out += ["", "Two workers against one (time of 1 worker / time of 2, taken per pair):"]
    if whole:
        out.append(
            f"- whole process (the rows above): {statistics.median(whole):.2f}x "
            f"(rounds: {', '.join(f'{r:.2f}' for r in whole)})"
        )
    if scaling:
        one, two = scaling["one_worker_s"], scaling["two_workers_s"]
        out.append(
            f"- the job alone on running clusters, {len(one)} alternating pairs: "
            f"{scaling['median_ratio']:.2f}x ({min(scaling['ratios']):.2f}-"
            f"{max(scaling['ratios']):.2f}); 1 worker {statistics.median(one):.2f} s, "
            f"2 workers {statistics.median(two):.2f} s (medians)"
            + ("" if scaling["same_counts"] else "; **the counts differ**")
        )
    out += [
        "",
        "| stream | lines/s | vs toolkit on the cluster |",
        "|---|---:|---:|",
    ]
    for r in streams:
        out.append(f"| {r['name']} | {r['lines_s']:,.0f} | {r['ratio']:.2f}x |")
    if streams:
        cost = sliding_costs(streams)
        out += [
            "",
            f"A sliding window of 60 panes costs {cost['time']:.2f}x a tumbling window of "
            f"one pane (time: 60s every 1s against 1s), {cost['count']:.2f}x for count "
            "windows (600,000 lines every 10,000 against 10,000).",
        ]
    if latency:
        out += [
            "",
            "| latency: window end to result written | windows | p50 ms | p99 ms |",
            "|---|---:|---:|---:|",
            f"| {latency['name']} | {latency['windows']} | {latency['p50_ms']:.0f} | "
            f"{latency['p99_ms']:.0f} |",
        ]
    return "\n".join(out) + "\n"


def run_user_jobs(args: argparse.Namespace) -> dict[str, Any]:
    """The user-job tables: whole processes, then the batch job on one running cluster."""
    from benchmarks.jobs import run_jobs, run_on_a_running_cluster

    jobs = run_jobs(Path(args.cache), args.job_records, args.repeat)
    jobs["running_cluster"] = run_on_a_running_cluster(
        Path(args.cache), args.job_records, max(3, args.repeat)
    )
    return jobs


def jobs_are_wrong(jobs: dict[str, Any]) -> bool:
    """Whether a user-job contender gave another answer than the first of its table."""
    rows = [r for table in jobs["jobs"].values() for r in table]
    return any(not r["same_answer"] for r in rows) or not jobs["running_cluster"]["same_answer"]


def run_jobs_only(args: argparse.Namespace) -> None:
    from benchmarks.jobs import markdown as jobs_markdown

    jobs = run_user_jobs(args)
    table = jobs_markdown(jobs)
    print(table)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "jobs-latest.md").write_text(table)
    (out / "jobs-latest.json").write_text(json.dumps(jobs, indent=2))
    if jobs_are_wrong(jobs):
        sys.exit("a user-job contender gave a different answer: see the table")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--size", default="64MB", help="corpus size (default 64MB)")
    parser.add_argument("--files", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cache", default=os.path.expanduser("~/.cache/toolkit-benchmarks"))
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--no-streams", action="store_true")
    parser.add_argument(
        "--only",
        help="batch contenders whose name contains one of these comma-separated words "
        "(toolkit's always runs)",
    )
    parser.add_argument(
        "--textbook-lines",
        type=int,
        default=1000,
        help="lines for textbook streamz, which does about 100 lines/s",
    )
    parser.add_argument(
        "--latency-seconds", type=float, default=20.0, help="how long to feed the latency run"
    )
    parser.add_argument(
        "--scaling-pairs",
        type=int,
        default=5,
        help="jobs on a running 1-worker and 2-worker cluster, alternating (0: skip)",
    )
    parser.add_argument("--no-jobs", action="store_true", help="skip the user-job benchmarks")
    parser.add_argument(
        "--jobs-only",
        action="store_true",
        help="only the user-job benchmarks (written to OUT/jobs-latest.md and .json)",
    )
    parser.add_argument(
        "--job-records", type=int, default=1_000_000, help="access-log records of the user jobs"
    )
    parser.add_argument(
        "--sharing-size",
        default="1GiB",
        help="the batch job run beside a stream on one cluster (benchmarks/sharing.py)",
    )
    parser.add_argument(
        "--sharing-seconds", type=float, default=15.0, help="the stream alone before the batch job"
    )
    parser.add_argument("--no-sharing", action="store_true", help="skip the sharing run")
    parser.add_argument(
        "--one-line-runs",
        type=int,
        default=5,
        help="runs of the one-line job (benchmarks/oneline.py; 0: skip)",
    )
    args = parser.parse_args()
    if args.jobs_only:
        return run_jobs_only(args)
    paths = corpus(Path(args.cache), args.size, args.files)
    batch, notes = run_batch(paths, args.repeat, args.only)
    scaling = run_scaling(paths, args.scaling_pairs) if args.scaling_pairs > 0 else None
    streams = []
    if not args.no_streams:
        streams = run_streams(stream_input(paths), args.repeat, args.textbook_lines)
    latency = None
    if streams:  # at half the cluster's tumbling rate measured above
        latency = run_latency(paths[0], streams[2]["lines_s"] / 2, args.latency_seconds)
    meta = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}",
        "corpus_mb": sum(p.stat().st_size for p in paths) / 1e6,
        "files": len(paths),
        "repeat": args.repeat,
    }
    jobs = None if args.no_jobs else run_user_jobs(args)
    one_line = None
    if args.one_line_runs > 0:
        from benchmarks import oneline

        one_line = oneline.run_one_line(Path(args.cache), args.one_line_runs)
    sharing = None
    if not args.no_sharing:
        from benchmarks import sharing as share

        shared_paths = corpus(Path(args.cache), args.sharing_size, 8)
        sharing = share.run_sharing(shared_paths, solo_seconds=args.sharing_seconds)
    table = markdown(batch, notes, streams, meta, latency, scaling)
    if one_line is not None:
        table += "\n" + oneline.markdown(one_line)
    if jobs is not None:
        from benchmarks.jobs import markdown as jobs_markdown

        table += "\n" + jobs_markdown(jobs)
    if sharing is not None:
        table += "\n" + share.markdown(sharing) + "\n"
    print(table)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.md").write_text(table)
    (out / "latest.json").write_text(
        json.dumps(
            {
                "meta": meta,
                "batch": batch,
                "streams": streams,
                "sliding_cost": sliding_costs(streams) if streams else None,
                "latency": latency,
                "scaling": {
                    "whole_process_ratios": whole_process_scaling(batch),
                    **(scaling or {}),
                },
                "jobs": jobs,
                "one_line": one_line,
                "sharing": sharing,
                "notes": notes,
            },
            indent=2,
        )
    )
    wrong_jobs = jobs is not None and jobs_are_wrong(jobs)
    if any(r["correct"] is False for r in batch) or (scaling and not scaling["same_counts"]):
        sys.exit("a contender gave different counts: see the table")
    if wrong_jobs:
        sys.exit("a user-job contender gave a different answer: see the table")
    if one_line is not None and not one_line["same_answer"]:
        sys.exit("a one-line contender gave a different answer: see the table")


if __name__ == "__main__":
    main()
