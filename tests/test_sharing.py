"""Batch jobs and streams on one cluster: a stream's micro-batches never wait for a batch job."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

from tests.test_cli import TOOLKIT
from toolkit import connect
from toolkit.sharing import BATCH_NICENESS, BATCH_RESOURCE, batch_resources, yielding_cpu

DEMO = "demo:?rate=20000&lines=100000"
CLUSTER_ARGS = ("--port", "0", "--dashboard-address", "", "--scheduler-file")


def _job_args(job: Path) -> list[str]:
    return ["--mapper", f"{job}:mapper", "--reducer", f"{job}:add", "--blocksize", "4KiB"]


SLOW_JOB = """
import time

def mapper(line):
    time.sleep(0.01)
    yield "lines", 1

def add(a, b):
    return a + b
"""


def test_toolkit_workers_keep_a_thread_from_batch_tasks() -> None:
    with connect(n_workers=1, threads_per_worker=2, quiet=True) as conn:
        (worker,) = conn.client.scheduler_info()["workers"].values()
        assert worker["nthreads"] == 3 and worker["resources"] == {BATCH_RESOURCE: 2}
        assert batch_resources(conn.client) == {BATCH_RESOURCE: 1}


def test_plain_dask_workers_run_batch_tasks_unrestricted(real_client: object) -> None:
    assert batch_resources(real_client) is None  # no worker has the resource: no restriction


def test_a_stream_finishes_while_a_batch_job_fills_the_cluster(tmp_path: Path) -> None:
    """On a one-worker ``toolkit cluster``, a slow batch job's map tasks take the worker's batch
    thread for many seconds; a stream over a small file runs to its end meanwhile."""
    scheduler_file = tmp_path / "scheduler.json"
    cluster = subprocess.Popen(
        [TOOLKIT, "cluster", "--workers", "1", *CLUSTER_ARGS, str(scheduler_file)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() or not scheduler_file.read_text():
            assert time.monotonic() < deadline and cluster.poll() is None
            time.sleep(0.1)
        address = json.loads(scheduler_file.read_text())["address"]
        job = tmp_path / "slow.py"
        job.write_text(SLOW_JOB)
        lines = tmp_path / "lines.txt"
        lines.write_text("a line\n" * 9000)  # 90 s of map work at 10 ms a line
        batch = subprocess.Popen(
            [TOOLKIT, "mapreduce", str(lines), *_job_args(job), "--scheduler", address],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(3)  # its map tasks are running and queued
        assert batch.poll() is None
        stream = subprocess.run(
            [TOOLKIT, "stream", DEMO, "--count", "1000", "--top", "1", "--scheduler", address],
            capture_output=True,
            text=True,
            timeout=60,  # 5 s of demo lines; held behind the batch job, it would take 90 s
        )
        assert stream.returncode == 0, stream.stderr
        windows = [json.loads(x) for x in stream.stdout.splitlines()]
        assert len(windows) == 100 and all(w["lines"] == 1000 for w in windows)
        assert batch.poll() is None, "the batch job ended first: the test proved nothing"
        batch.send_signal(signal.SIGINT)
        batch.wait(30)
    finally:
        os.killpg(cluster.pid, signal.SIGINT)
        cluster.wait(30)


def test_a_batch_task_runs_nicer_and_gives_its_thread_back() -> None:
    """As root (CI) the thread is reniced and restored; without the right to restore it, a
    task runs at its priority (a thread left nicer would slow a stream task later)."""
    seen: list[int] = []

    def task() -> None:
        tid = threading.get_native_id()
        seen.append(os.getpriority(os.PRIO_PROCESS, tid))
        with yielding_cpu():
            seen.append(os.getpriority(os.PRIO_PROCESS, tid))
            seen.append(os.getpriority(os.PRIO_PROCESS, os.getpid()))  # the main thread's
        seen.append(os.getpriority(os.PRIO_PROCESS, tid))

    thread = threading.Thread(target=task)
    thread.start()
    thread.join()
    before = seen[0]
    inside = min(19, before + BATCH_NICENESS) if os.geteuid() == 0 else before
    assert seen == [before, inside, before, before]
