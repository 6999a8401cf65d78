"""The toolkit's own local cluster: workers forked safely, signals left to its owner."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_cluster import free_port

# A program that starts the toolkit's cluster on a given port, its workers forked
# (as the embedded cluster's are), then waits for a line on stdin.
FORKED_CLUSTER = """
import sys
import dask
import psutil
from toolkit.embedded import local_cluster

lc = local_cluster(
    n_workers=2, threads_per_worker=1, host="127.0.0.1", scheduler_port=int(sys.argv[1]),
    dashboard_address="127.0.0.1:0", scheduler_kwargs={"dashboard": False},
)
me = psutil.Process()
forked = [p for p in me.children(recursive=True) if p.cmdline() == me.cmdline()]
assert len(forked) == 2, [p.cmdline() for p in me.children(recursive=True)]  # both forked
assert dask.config.get("distributed.worker.multiprocessing-method") == "spawn"  # restarts spawn
sys.stdin.readline()
lc.close()
"""

CONNECT_AT_ONCE = """
import socket, sys, time
from distributed import Client
print("ready", flush=True)
port = int(sys.argv[1].rsplit(":", 1)[1])
while True:  # until the scheduler listens: then at once, while its workers start
    try:
        socket.create_connection(("127.0.0.1", port)).close()
        break
    except OSError:
        time.sleep(0.002)
with Client(sys.argv[1], timeout=30) as c:
    c.wait_for_workers(2, timeout=30)
"""


def connecting_client(port: int) -> subprocess.Popen[str]:
    """A client process, ready (imports done), that connects to ``port`` the moment it listens."""
    client = subprocess.Popen(
        [sys.executable, "-c", CONNECT_AT_ONCE, f"tcp://127.0.0.1:{port}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert client.stdout is not None and client.stdout.readline() == "ready\n"
    return client


def test_a_client_that_connects_while_forked_workers_start_is_served() -> None:
    """A client connecting while the workers are forked made the scheduler import modules
    and run ``uname -p`` during a fork: the forked worker held that import's lock or that
    subprocess's pipe, and the scheduler or the worker waited for ever (1 start in 5).
    Repeated, since a hang is intermittent."""
    for attempt in range(6):
        port = free_port()
        client = connecting_client(port)
        cluster = subprocess.Popen(  # the client is trying to connect by now
            [sys.executable, "-c", FORKED_CLUSTER, str(port)], start_new_session=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            _, client_err = client.communicate(timeout=90)
            assert client.returncode == 0, f"attempt {attempt}: {client_err[-2000:]}"
        finally:
            client.kill()
            try:
                _, err = cluster.communicate("\n", timeout=60)
            finally:  # a hung cluster's forked workers too
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(cluster.pid, signal.SIGKILL)
        assert cluster.returncode == 0, err


def test_what_a_registration_asks_is_answered_before_any_fork() -> None:
    """After the cluster's preparation for forking, what the scheduler asks when a client
    or worker registers runs no subprocess and imports no module (either, during a fork,
    leaves the forked worker holding a pipe or a lock)."""
    code = """
import subprocess, sys
from toolkit.embedded import _before_forking
_before_forking()
def refuse(*args, **kwargs):
    raise AssertionError(f"a subprocess: {args}")
subprocess.Popen.__init__ = refuse
before = set(sys.modules)
from distributed.versions import get_versions, error_message
error_message(get_versions(), {"w": get_versions()}, get_versions())
print(sorted(set(sys.modules) - before))
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


# Every worker of a toolkit cluster (forked or spawned), and one the nanny restarted after a
# kill, holds SIGINT and SIGTERM: ignored, or blocked in every thread (per /proc).
WORKER_SIGNALS = """
import json, os, signal, sys, time
from distributed import Client
from toolkit.embedded import local_cluster

def held(pid):
    def mask(text, name):
        return int(next(l.split()[1] for l in text.splitlines() if l.startswith(name)), 16)
    ignored = mask(open(f"/proc/{pid}/status").read(), "SigIgn:")
    blocked = [mask(open(f"/proc/{pid}/task/{t}/status").read(), "SigBlk:")
               for t in os.listdir(f"/proc/{pid}/task")]
    bit = lambda s: 1 << (s - 1)
    return {sig.name: bool(ignored & bit(sig)) or all(b & bit(sig) for b in blocked)
            for sig in (signal.SIGINT, signal.SIGTERM)}

if __name__ == "__main__":
    lc = local_cluster(n_workers=2, threads_per_worker=1, dashboard_address="127.0.0.1:0",
                       scheduler_kwargs={"dashboard": False}, fork=sys.argv[1] == "fork")
    with Client(lc) as client:
        first = sorted(client.run(os.getpid).values())
        os.kill(first[0], signal.SIGKILL)  # the nanny starts another (always spawned)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            pids = sorted(client.run(os.getpid, on_error="ignore").values())
            if len(pids) == 2 and first[0] not in pids:
                break
            time.sleep(0.2)
        restarted = [p for p in pids if p not in first]
        print(json.dumps({"first": [held(p) for p in first[1:]] + [held(p) for p in restarted],
                          "restarted": len(restarted)}))
    lc.close()
"""


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_every_worker_even_a_restarted_one_leaves_the_terminals_signals_to_its_owner(
    method: str, tmp_path: Path
) -> None:
    """A spawned worker starts with a fresh signal mask: a terminal's Ctrl-C reached it and
    printed its traceback (``toolkit cluster``'s workers, and any worker restarted after a
    death, are spawned).  Each ignores SIGINT and SIGTERM, by its preload."""
    script = tmp_path / "workers.py"
    script.write_text(WORKER_SIGNALS)
    proc = subprocess.run(
        [sys.executable, str(script), method], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = json.loads(proc.stdout.strip().splitlines()[-1])
    assert found["restarted"] == 1, found
    assert found["first"] == [{"SIGINT": True, "SIGTERM": True}] * 2, found
