"""``toolkit cluster`` shared by a batch job and a stream at once; the dashboard over HTTP."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests import user_functions as jobs
from tests.test_cli import TOOLKIT, run
from tests.test_cli_stream import wait_for_line
from toolkit import connect
from toolkit.corpus import generate_corpus


def test_one_cluster_for_a_batch_job_and_a_stream(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    generate_corpus(corpus, size="2MB", files=4)
    cluster = subprocess.Popen(
        [
            TOOLKIT,
            "cluster",
            "--port",
            "0",
            "--dashboard-address",
            "127.0.0.1:0",
            "--workers",
            "2",
            "--scheduler-file",
            str(tmp_path / "scheduler.json"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert cluster.stdout is not None
        address = cluster.stdout.readline().split()[1]
        dashboard = cluster.stdout.readline().split()[1]
        assert address.startswith("tcp://127.0.0.1:") and dashboard.startswith("http://127.0.0.1:")
        stream = subprocess.Popen(
            [
                TOOLKIT,
                "stream",
                "demo:?rate=20000",
                "--count",
                "2000",
                "--scheduler",
                address,
                "--stats-interval",
                "100ms",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        wait_for_line(stream, r"stream: [1-9][\d,]* lines")
        # while the stream runs: a batch job on the same cluster, and the dashboard answers
        batch = run(
            "wordcount", str(corpus), "--top", "3", "--blocksize", "64KiB", "--scheduler", address
        )
        assert batch.returncode == 0, batch.stderr
        with urllib.request.urlopen(dashboard, timeout=10) as page:
            assert page.status == 200 and b"<html" in page.read(2000).lower()
        with connect(scheduler_file=str(tmp_path / "scheduler.json"), quiet=True) as conn:
            prefixes = conn.client.run_on_scheduler(jobs.task_prefixes)
        assert {"wordcount-map", "wordcount-combine", "wordcount-reduce", "stream-batch"} <= set(
            prefixes
        )
        stream.send_signal(signal.SIGINT)
        out, _ = stream.communicate(timeout=30)
        assert stream.returncode == 130 and out.count("\n") >= 1
    finally:
        cluster.send_signal(signal.SIGINT)
        _, err = cluster.communicate(timeout=30)
    assert cluster.returncode == 130, err  # stopped by Ctrl-C, as every command
    assert "stopping the cluster" in err


def test_cluster_port_in_use_is_an_error() -> None:
    first = subprocess.Popen(
        [TOOLKIT, "cluster", "--port", "0", "--workers", "1", "--dashboard-address", ""],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert first.stdout is not None
        port = first.stdout.readline().split()[1].rsplit(":", 1)[1]
        start = time.monotonic()
        second = run(
            "cluster", "--port", port, "--workers", "1", "--dashboard-address", "", timeout=60
        )
        assert (
            second.returncode == 1 and "toolkit: error: cannot start the cluster" in second.stderr
        )
        assert time.monotonic() - start < 30
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=30)


@pytest.mark.slow
def test_a_job_waits_for_the_first_worker_and_says_so(tmp_path: Path) -> None:
    import threading

    from tests.conftest import subprocess_cluster

    data = tmp_path / "in.txt"
    data.write_text("a b a\n" * 100)
    with subprocess_cluster(tmp_path / "cluster", n_workers=0) as cluster:
        joiner = threading.Timer(3.0, cluster.add_worker, args=("late",))
        joiner.start()
        proc = run("wordcount", str(data), "--json", "--scheduler", cluster.address, timeout=120)
        joiner.join()
        assert proc.returncode == 0, proc.stderr
        assert f"toolkit: waiting for workers on {cluster.address}" in proc.stderr
        assert '"total_words": 300' in proc.stdout
        # no worker at all: one line after the timeout, exit 1, nothing on stdout
        os.killpg(cluster.procs[-1].pid, signal.SIGKILL)
        with connect(cluster.address, quiet=True) as conn:  # until the scheduler sees it gone
            deadline = time.monotonic() + 30
            while conn.client.nthreads() and time.monotonic() < deadline:
                time.sleep(0.1)
        proc = run("wordcount", str(data), "--scheduler", cluster.address, "--worker-timeout", "1s")
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.splitlines()[-1] == (
        f"toolkit: error: no Dask worker joined {cluster.address} within 1 s (--worker-timeout)"
    )


def test_a_cluster_without_a_dashboard_takes_no_fixed_port_and_serves_a_client_at_once() -> None:
    """``--dashboard-address ''``: no dashboard, and the HTTP server (health, metrics) on a
    free port rather than 8787; a client that connects the moment the scheduler listens
    is served (its workers start by spawn: it serves other programs while they start)."""
    import psutil

    from tests.test_cluster import free_port
    from tests.test_embedded import connecting_client

    for attempt in range(3):
        port = free_port()
        client = connecting_client(port)
        cluster = subprocess.Popen(
            [TOOLKIT, "cluster", "--port", str(port), "--workers", "2", "--dashboard-address", ""],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            _, client_err = client.communicate(timeout=90)
            assert client.returncode == 0, f"attempt {attempt}: {client_err[-2000:]}"
            assert cluster.stdout is not None
            assert cluster.stdout.readline() == f"scheduler: tcp://127.0.0.1:{port}\n"
            assert cluster.stdout.readline() == "dashboard: off\n"
            ports = {
                c.laddr.port
                for c in psutil.Process(cluster.pid).net_connections(kind="inet")
                if c.status == psutil.CONN_LISTEN
            }
            assert port in ports and 8787 not in ports, ports
        finally:
            client.kill()
            cluster.send_signal(signal.SIGINT)
            _, err = cluster.communicate(timeout=30)
        assert cluster.returncode == 130 and "Traceback" not in err and "8787" not in err, err


@pytest.mark.parametrize("checkpointed", [False, True])
def test_a_stream_whose_cluster_stops_under_it_says_so_in_one_line(
    tmp_path: Path, checkpointed: bool
) -> None:
    """The ``toolkit cluster`` in another terminal gets Ctrl-C while a stream runs on it: the
    stream says so in one line and exits 1, with no log record or traceback of distributed's
    reconnect; with a checkpoint, its last checkpoint is kept."""
    cluster = subprocess.Popen(
        [TOOLKIT, "cluster", "--port", "0", "--dashboard-address", "", "--workers", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    checkpoint = tmp_path / "ckpt"
    extra = ["--checkpoint", str(checkpoint), "--checkpoint-interval", "200ms"]
    try:
        assert cluster.stdout is not None
        address = cluster.stdout.readline().split()[1]
        stream = subprocess.Popen(
            [TOOLKIT, "stream", "demo:?rate=20000", "--window", "1s", "--scheduler", address,
             "--stats-interval", "100ms", *(extra if checkpointed else [])],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        wait_for_line(stream, r"stream: [1-9][\d,]* lines")
        if checkpointed:
            deadline = time.monotonic() + 30
            while not list(checkpoint.glob("*")) and time.monotonic() < deadline:
                time.sleep(0.05)
    finally:
        cluster.send_signal(signal.SIGINT)
        cluster.communicate(timeout=30)
    _, err = stream.communicate(timeout=120)
    assert stream.returncode == 1, err
    assert "Traceback" not in err and "distributed.client" not in err and " ERROR " not in err, err
    errors = [line for line in err.splitlines() if line.startswith("toolkit: error:")]
    assert len(errors) == 1 and "scheduler" in errors[0], err
    if checkpointed:
        assert list(checkpoint.glob("*")), "the last checkpoint is kept"
