"""Secure by default: loopback only, and TLS to the scheduler from the command line."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import psutil
import pytest

from tests.conftest import subprocess_cluster
from tests.test_cli import TOOLKIT, run
from tests.test_cli_stream import wait_for_line
from tests.tls import tls_setup


def listening(pid: int) -> set[str]:
    procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    return {
        c.laddr.ip
        for p in procs
        for c in p.net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN
    }


@pytest.mark.parametrize(
    ("args", "ready"),
    [
        (["cluster", "--port", "0", "--workers", "2"], r"workers: 2"),
        (["stream", "tcp://:0", "--count", "5", "--local"], r"listening on tcp://127\.0\.0\.1:"),
        (
            ["stream", "http://:0/in", "--count", "5", "--local"],
            r"listening on http://127\.0\.0\.1:",
        ),
        (
            ["stream", "tcp://:0", "--count", "5", "--workers", "2"],
            r"listening on tcp://127\.0\.0\.1:",
        ),
    ],
    ids=["cluster", "tcp-source", "http-source", "stream-on-embedded-cluster"],
)
def test_everything_started_by_default_listens_on_loopback_only(
    args: list[str], ready: str
) -> None:
    proc = subprocess.Popen(
        [TOOLKIT, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_for_line(proc, ready)
        addresses = listening(proc.pid)
        assert addresses == {"127.0.0.1"}, addresses
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)


@pytest.mark.slow
def test_tls_options_on_the_command_line(tmp_path: Path) -> None:
    tls, security = tls_setup(tmp_path)
    corpus = tmp_path / "c.txt"
    corpus.write_text("over tls, over tls\n")
    with subprocess_cluster(
        tmp_path / "tls",
        n_workers=1,
        scheduler_args=("--protocol", "tls", *tls),
        worker_args=tls,
        security=security,
    ) as cluster:
        ok = run("wordcount", str(corpus), "--json", "--scheduler", cluster.address, *tls)
        assert ok.returncode == 0, ok.stderr
        assert '"total_words": 4' in ok.stdout
        refused = run(
            "wordcount", str(corpus), "--scheduler", cluster.address, "--connect-timeout", "3"
        )
        assert refused.returncode == 1
        assert "cannot connect to the Dask scheduler" in refused.stderr
