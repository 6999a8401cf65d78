"""User jobs in the benchmarks: a user's mapper and reducer over JSON access-log records.

Two stream jobs over the same generated records (``{"ts", "status", "path", "bytes",
"client"}``, 10,000 a second of event time, out of order by up to 0.5 s): bytes per status in
1 s event-time tumbling windows (lateness 1 s), and requests per client session (gap 30 s), and
one batch job, bytes per status over the whole file.  Each contender is a whole process, reads
the same file and prints one answer line (a digest of its results, as in
:mod:`benchmarks.contenders`); every contender must give the same answer.  How each is
written, as a competent user of it would:

- toolkit: the CLI with ``job.py``-style functions (:mod:`benchmarks.access_jobs`), ``--local``
  (in-process) and on the embedded cluster of 2 workers; results to a file.  The batch job
  also with a frame mapper (``--frames pandas``: a chunk's ``groupby("status")["bytes"].sum()``).
- plain loop: one process, ``json.loads`` (and ``orjson.loads``, the fastest JSON parser a
  user would reach for) and dict updates, windows closed by the same watermark rule.
- Bytewax 0.21: ``FileSource`` -> ``map(json.loads)`` -> ``key_on`` -> ``fold_window`` with an
  ``EventClock`` and a ``TumblingWindower`` / ``SessionWindower``, run by ``run_main``.
- textbook dask.bag (batch): ``read_text(blocksize="32MiB").map(json.loads).foldby(...)`` on
  a LocalCluster of 2 single-threaded workers (a block size, so both workers get work).
"""

from __future__ import annotations

import importlib.util
import json
import statistics
import sys
from pathlib import Path
from typing import Any

ANSWER = """
import hashlib, json, time
def answer(rows):
    items = sorted("\\t".join(str(x) for x in row) for row in rows)
    return {"rows": len(items), "digest": hashlib.sha256("\\n".join(items).encode()).hexdigest()}
def report(rows, start=None):
    t = time.perf_counter()
    print(json.dumps({**answer(rows), "check_s": time.perf_counter() - t}))
"""

PLAIN_WINDOWS = (
    ANSWER
    + """
import math, sys
from collections import defaultdict
if sys.argv[1] == "orjson":
    from orjson import loads
else:
    from json import loads
rows, windows = [], defaultdict(lambda: defaultdict(int))
max_ts, closed, late = -math.inf, -math.inf, 0
with open(sys.argv[2], "rb") as f:
    for line in f:
        r = loads(line)
        t = r["ts"]
        w = math.floor(t)
        if w + 1 <= closed:
            late += 1
            continue
        windows[w][r["status"]] += r["bytes"]
        if t > max_ts:
            max_ts = t
            c = math.floor(t - 1.0)
            if c > closed:
                closed = c
                for start in sorted(k for k in windows if k + 1 <= closed):
                    rows.extend((start, k, v) for k, v in windows.pop(start).items())
for start in sorted(windows):
    rows.extend((start, k, v) for k, v in windows[start].items())
report(rows)
"""
)

PLAIN_SESSIONS = (
    ANSWER
    + """
import math, sys
if sys.argv[1] == "orjson":
    from orjson import loads
else:
    from json import loads
GAP, LATENESS = 30.0, 1.0
rows, open_ = [], {}  # client -> list of [first, last, count]
max_ts, late, next_close = -math.inf, 0, -math.inf
with open(sys.argv[2], "rb") as f:
    for line in f:
        r = loads(line)
        t = r["ts"]
        if t < max_ts - LATENESS:
            late += 1
            continue
        sessions = open_.setdefault(r["client"], [])
        touching = [s for s in sessions if t - s[1] < GAP and s[0] - t < GAP]
        if touching:
            s = touching[0]
            for other in touching[1:]:
                sessions.remove(other)
                s[0], s[1], s[2] = min(s[0], other[0]), max(s[1], other[1]), s[2] + other[2]
            s[0], s[1], s[2] = min(s[0], t), max(s[1], t), s[2] + 1
        else:
            sessions.append([t, t, 1])
        if t > max_ts:
            max_ts = t
            if max_ts - LATENESS >= next_close:  # look for closed sessions once a second
                next_close = max_ts - LATENESS + 1.0
                wm = max_ts - LATENESS
                for client, ss in open_.items():
                    for s in [s for s in ss if s[1] + GAP <= wm]:
                        ss.remove(s)
                        rows.append((client, round(s[0], 3), s[2]))
for client, ss in open_.items():
    rows.extend((client, round(s[0], 3), s[2]) for s in ss)
report(rows)
"""
)

BYTEWAX = (
    ANSWER
    + """
import json, sys
from datetime import datetime, timedelta, timezone
import bytewax.operators as op
import bytewax.operators.windowing as win
from bytewax.connectors.files import FileSource
from bytewax.dataflow import Dataflow
from bytewax.testing import TestingSink, run_main

job, path = sys.argv[1], sys.argv[2]
flow = Dataflow("access")
records = op.map("parse", op.input("in", flow, FileSource(path, batch_size=1000)), json.loads)
clock = win.EventClock(
    lambda r: datetime.fromtimestamp(r["ts"], tz=timezone.utc),
    wait_for_system_duration=timedelta(seconds=1),
)
if job == "windows":
    keyed = op.key_on("status", records, lambda r: str(r["status"]))
    windower = win.TumblingWindower(
        length=timedelta(seconds=1), align_to=datetime(2023, 1, 1, tzinfo=timezone.utc)
    )
    folder = lambda acc, r: acc + r["bytes"]
else:
    keyed = op.key_on("client", records, lambda r: r["client"])
    windower = win.SessionWindower(gap=timedelta(seconds=30))
    folder = lambda acc, r: acc + 1
out = win.fold_window("fold", keyed, clock, windower, lambda: 0, folder, lambda a, b: a + b)
values, metas = [], []
op.output("values", out.down, TestingSink(values))
op.output("metas", out.meta, TestingSink(metas))
run_main(flow)
opened = {(k, wid): m.open_time.timestamp() for k, (wid, m) in metas}
if job == "windows":
    rows = [(int(opened[(k, wid)]), k, v) for k, (wid, v) in values]
else:
    rows = [(k, round(opened[(k, wid)], 3), v) for k, (wid, v) in values]
report(rows)
"""
)

DASK_BAG = (
    ANSWER
    + """
import json, operator, sys
import dask.bag as db
from distributed import Client, LocalCluster
if __name__ == "__main__":
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster:
        with Client(cluster):
            bag = db.read_text(sys.argv[1], blocksize="32MiB").map(json.loads)
            result = bag.foldby(
                lambda r: r["status"], lambda acc, r: acc + r["bytes"], 0, operator.add, 0
            ).compute()
    report(result)
"""
)

PLAIN_BATCH = (
    ANSWER
    + """
import sys
from collections import defaultdict
if sys.argv[1] == "orjson":
    from orjson import loads
else:
    from json import loads
totals = defaultdict(int)
with open(sys.argv[2], "rb") as f:
    for line in f:
        r = loads(line)
        totals[r["status"]] += r["bytes"]
report(totals.items())
"""
)


def access_file(cache: Path, records: int) -> Path:
    """The benchmark's JSON access log, generated once into the cache."""
    from toolkit.corpus import access_log

    path = cache / f"access-{records}.jsonl"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)  # a fresh machine has no cache folder yet
        part = path.with_suffix(".partial")
        with part.open("w", encoding="utf-8") as f:
            for r in access_log(records, seed=0, rate=10_000, disorder=0.5):
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        part.rename(path)
    return path


def _toolkit_answer(out: Path, job: str) -> str:
    rows: list[tuple[Any, ...]] = []
    for line in out.read_text(encoding="utf-8").splitlines():
        doc = json.loads(line)
        if job == "windows":
            rows.extend((doc["start"], str(k), v) for k, v in doc["results"])
        elif job == "sessions":
            rows.append((doc["key"], round(doc["start"], 3), doc["value"]))
    ns: dict[str, Any] = {}
    exec(ANSWER, ns)
    return json.dumps({**ns["answer"](rows), "check_s": 0.0})


def _batch_answer(stdout: str) -> str:
    ns: dict[str, Any] = {}
    exec(ANSWER, ns)
    rows = [(r["key"], r["value"]) for r in json.loads(stdout)["results"]]
    return json.dumps({**ns["answer"](rows), "check_s": 0.0})


def contenders(python: str, out: Path) -> list[tuple[str, str, list[str], str]]:
    """(job, name, argv, how its answer is read) for every contender available here."""
    jobs_file = str(Path(__file__).with_name("access_jobs.py"))
    tk = [python, "-m", "toolkit"]
    stream_common = ["--records", "jsonl", "--event-time", "ts", "--lateness", "1s"]
    windows = [*stream_common, "--window", "1s", "--stats-interval", "0"]
    sessions = [*stream_common, "--session", "30s", "--stats-interval", "0"]
    status = ["--mapper", f"{jobs_file}:status_bytes", "--reducer", f"{jobs_file}:add"]
    clients = ["--mapper", f"{jobs_file}:client_one", "--reducer", f"{jobs_file}:add"]
    frames = ["--mapper", f"{jobs_file}:status_bytes_frame", "--reducer", f"{jobs_file}:add"]
    o = ["-o", str(out)]
    stream, batch = [*tk, "stream"], [*tk, "mapreduce", "--records", "jsonl", "--json"]
    local, cluster = ["--local", *o], ["--workers", "2", *o]
    found = [
        ("windows", "toolkit stream --local", [*stream, *status, *windows, *local], "file"),
        ("windows", "toolkit stream, 2 workers", [*stream, *status, *windows, *cluster], "file"),
        ("windows", "plain loop (json)", [python, "-c", PLAIN_WINDOWS, "json"], "stdout"),
        ("sessions", "toolkit stream --local", [*stream, *clients, *sessions, *local], "file"),
        ("sessions", "toolkit stream, 2 workers", [*stream, *clients, *sessions, *cluster], "file"),
        ("sessions", "plain loop (json)", [python, "-c", PLAIN_SESSIONS, "json"], "stdout"),
        ("batch", "toolkit mapreduce, 2 workers", [*batch, *status, "--workers", "2"], "json"),
        (
            "batch",
            "toolkit mapreduce --frames pandas, 2 workers",
            [*batch, *frames, "--frames", "pandas", "--workers", "2"],
            "json",
        ),
        ("batch", "dask.bag read_text.map(json.loads).foldby", [python, "-c", DASK_BAG], "stdout"),
        ("batch", "plain loop (json)", [python, "-c", PLAIN_BATCH, "json"], "stdout"),
    ]
    if importlib.util.find_spec("orjson"):
        found += [
            ("windows", "plain loop (orjson)", [python, "-c", PLAIN_WINDOWS, "orjson"], "stdout"),
            ("sessions", "plain loop (orjson)", [python, "-c", PLAIN_SESSIONS, "orjson"], "stdout"),
            ("batch", "plain loop (orjson)", [python, "-c", PLAIN_BATCH, "orjson"], "stdout"),
        ]
    if importlib.util.find_spec("bytewax"):
        found += [
            ("windows", "Bytewax 0.21 fold_window", [python, "-c", BYTEWAX, "windows"], "stdout"),
            ("sessions", "Bytewax 0.21 SessionWindower", [python, "-c", BYTEWAX, "sess"], "stdout"),
        ]
    return found


def run_jobs(cache: Path, records: int, repeat: int) -> dict[str, Any]:
    """Every user-job contender ``repeat`` times, round-robin; figures per job and contender."""
    from benchmarks.__main__ import measure

    path = access_file(cache, records)
    out = cache / "job-output.jsonl"
    found = contenders(sys.executable, out)
    times: dict[tuple[str, str], list[float]] = {}
    answers: dict[tuple[str, str], str] = {}
    for _ in range(repeat):
        for job, name, argv, how in found:
            out.unlink(missing_ok=True)
            seconds, _, stdout, _ = measure([*argv, str(path)])
            if how == "file":
                line = _toolkit_answer(out, job)
            elif how == "json":
                line = _batch_answer(stdout)
            else:
                line = stdout.strip().splitlines()[-1]
            doc = json.loads(line)
            times.setdefault((job, name), []).append(seconds - doc["check_s"])
            answers[(job, name)] = doc["digest"]
    results: dict[str, Any] = {"records": records, "mb": path.stat().st_size / 1e6, "jobs": {}}
    for job in ("windows", "sessions", "batch"):
        rows = []
        names = [n for j, n, _, _ in found if j == job]
        reference = answers[(job, names[0])]
        for name in names:
            ts = times[(job, name)]
            med = statistics.median(ts)
            rows.append(
                {
                    "name": name,
                    "median_s": med,
                    "min_s": min(ts),
                    "max_s": max(ts),
                    "records_s": records / med,
                    "same_answer": answers[(job, name)] == reference,
                }
            )
        results["jobs"][job] = rows
    return results


RUNNING_CLUSTER = """
import json, operator, statistics, sys, time
import dask.bag as db
from distributed import Client, LocalCluster
import toolkit
sys.path.insert(0, sys.argv[3])
from access_jobs import add, status_bytes, status_bytes_frame

def bag(path):
    records = db.read_text(path, blocksize="32MiB").map(json.loads)
    folded = records.foldby(
        lambda r: r["status"], lambda acc, r: acc + r["bytes"], 0, operator.add, 0
    )
    return dict(folded.compute())

def tk(path, client, frames=None):
    mapper = status_bytes if frames is None else status_bytes_frame
    return toolkit.map_reduce(
        path, mapper, add, records="jsonl", frames=frames, scheduler=client
    ).to_dict()

RUNS = {
    "toolkit": lambda path, client: tk(path, client),
    "frames": lambda path, client: tk(path, client, "pandas"),
    "bag": lambda path, client: bag(path),
}

if __name__ == "__main__":
    path, repeat = sys.argv[1], int(sys.argv[2])
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            times = {name: [] for name in RUNS}
            answers = {}
            for run in RUNS.values():  # warm: imports and the workers' first tasks
                run(path, client)
            for _ in range(repeat):
                for name, run in RUNS.items():
                    start = time.perf_counter()
                    answers[name] = sorted(run(path, client).items())
                    times[name].append(time.perf_counter() - start)
    same = answers["toolkit"] == answers["bag"] == answers["frames"]
    print(json.dumps({"times": times, "same": same}))
"""


def run_on_a_running_cluster(cache: Path, records: int, repeat: int) -> dict[str, Any]:
    """The batch job's time alone (no start-up) on one running 2-worker cluster, alternating
    toolkit.map_reduce with the textbook dask.bag foldby."""
    from benchmarks.__main__ import measure

    path = access_file(cache, records)
    here = str(Path(__file__).parent)
    _, _, stdout, _ = measure([sys.executable, "-c", RUNNING_CLUSTER, str(path), str(repeat), here])
    doc = json.loads(stdout.strip().splitlines()[-1])
    tk, frames, bag = (statistics.median(doc["times"][k]) for k in ("toolkit", "frames", "bag"))
    return {
        "toolkit_s": tk,
        "frames_s": frames,
        "bag_s": bag,
        "ratio": bag / tk,
        "frames_ratio": bag / frames,
        "same_answer": doc["same"],
        "times": doc["times"],
    }


def markdown(results: dict[str, Any]) -> str:
    """The user-job tables, each contender's time also as a ratio to toolkit's first row."""
    out = [
        f"### User jobs: {results['records']:,} JSON access-log records ({results['mb']:.0f} MB)",
        "",
    ]
    titles = {
        "windows": "bytes per status, 1 s event-time tumbling windows",
        "sessions": "requests per client session, gap 30 s, event time",
        "batch": "bytes per status, batch",
    }
    for job, rows in results["jobs"].items():
        out += [
            f"**{titles[job]}** (whole processes)",
            "",
            "| contender | median s | min-max | records/s | x toolkit | same answer |",
            "| --- | ---: | ---: | ---: | ---: | :---: |",
        ]
        base = rows[0]["median_s"]
        for r in rows:
            out.append(
                f"| {r['name']} | {r['median_s']:.2f} | {r['min_s']:.2f}-{r['max_s']:.2f} "
                f"| {r['records_s']:,.0f} | {r['median_s'] / base:.2f} "
                f"| {'yes' if r['same_answer'] else 'NO'} |"
            )
        out.append("")
    running = results.get("running_cluster")
    if running:
        out += [
            "**bytes per status, batch, on one running 2-worker cluster** (the job alone, "
            f"median of {len(running['times']['toolkit'])} alternating runs)",
            "",
            f"toolkit.map_reduce {running['toolkit_s']:.2f} s, with a frame mapper "
            f"(frames='pandas') {running['frames_s']:.2f} s, textbook dask.bag foldby "
            f"{running['bag_s']:.2f} s: toolkit {running['ratio']:.1f}x faster, "
            f"{running['frames_ratio']:.1f}x with frames; same answer: "
            f"{'yes' if running['same_answer'] else 'NO'}",
            "",
        ]
    return "\n".join(out)
