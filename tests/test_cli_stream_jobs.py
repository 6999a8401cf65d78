"""``toolkit stream --mapper/--reducer`` over every source: its tumbling windows, merged with the
reducer, give exactly what ``toolkit mapreduce`` gives on the same input and job."""

from __future__ import annotations

import csv
import http.client
import json
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SubprocessCluster
from tests.redis_server import fill_stream, redis_server
from tests.test_cli import TOOLKIT, run
from tests.test_cli_stream import start, wait_for_line
from toolkit.corpus import access_log

JOB = ["--mapper", "job.py:status_bytes", "--reducer", "job.py:add"]
JOB_FILE = (
    "def status_bytes(record):\n"
    "    yield str(record['status']), int(record['bytes'])\n\n"
    "def add(a, b):\n"
    "    return a + b\n"
)


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same access log as JSON lines and as CSV, with the job's file beside them."""
    root = tmp_path_factory.mktemp("jobs")
    rows = list(access_log(6000, seed=21, rate=2000, disorder=0.2))
    with (root / "log.jsonl").open("w", encoding="utf-8") as f:
        f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    with (root / "log.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    (root / "job.py").write_text(JOB_FILE)
    return root


def batch_result(logs: Path, records: str) -> dict[str, int]:
    proc = run(
        "mapreduce",
        str(logs / f"log.{records}"),
        *JOB,
        "--records",
        records,
        "--json",
        "--top",
        "0",
        "--scheduler",
        "sync",
        cwd=logs,
    )
    assert proc.returncode == 0, proc.stderr
    return {r["key"]: r["value"] for r in json.loads(proc.stdout)["results"]}


def merged(stdout: str) -> tuple[dict[str, int], int]:
    """Every window's results merged with the reducer (+), and the records they hold."""
    total: dict[str, int] = {}
    records = 0
    for line in stdout.splitlines():
        window = json.loads(line)
        records += window["records"]
        for key, value in window["results"]:
            total[key] = total.get(key, 0) + value
    return total, records


def finish(proc: Any, sig: int = signal.SIGTERM) -> str:
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == {signal.SIGTERM: 143, signal.SIGINT: 130}[sig], stderr
    assert "Traceback" not in stderr
    return str(stdout)


def read_results(proc: Any) -> tuple[list[dict[str, Any]], threading.Thread]:
    """The JSON lines a running stream writes, collected as they come by a thread."""
    out: list[dict[str, Any]] = []
    assert proc.stdout is not None
    reader = threading.Thread(
        target=lambda: out.extend(json.loads(line) for line in proc.stdout), daemon=True
    )
    reader.start()
    return out, reader


def wait_for(proc: Any, out: list[dict[str, Any]], test: Any) -> None:
    """Poll until a result passes ``test`` (30 s at most), the stream still running."""
    deadline = time.monotonic() + 30
    while not any(test(w) for w in list(out)) and time.monotonic() < deadline:
        assert proc.poll() is None
        time.sleep(0.05)
    assert any(test(w) for w in list(out)), out


def test_stdin_csv_count_windows_local(logs: Path) -> None:
    data = (logs / "log.csv").read_text(encoding="utf-8")
    proc = run_stdin(logs, data, "--records", "csv", "--count", "250", "--local")
    assert merged(proc) == (batch_result(logs, "csv"), 6000)


def run_stdin(logs: Path, data: str, *args: str) -> str:
    proc = subprocess.run(
        [TOOLKIT, "stream", "-", *JOB, *args],
        input=data,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=logs,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_file_event_time_windows_on_a_real_cluster(
    logs: Path, real_cluster: SubprocessCluster
) -> None:
    proc = run(
        "stream",
        str(logs / "log.jsonl"),
        *JOB,
        "--records",
        "jsonl",
        "--window",
        "500ms",
        "--event-time",
        "ts",
        "--lateness",
        "200ms",
        "--scheduler",
        real_cluster.address,
        cwd=logs,
    )
    assert proc.returncode == 0, proc.stderr
    assert merged(proc.stdout) == (batch_result(logs, "jsonl"), 6000)
    assert all(json.loads(x)["late"] == 0 for x in proc.stdout.splitlines())


def test_follow_csv_while_a_writer_appends(logs: Path, tmp_path: Path) -> None:
    path = tmp_path / "growing.csv"
    path.write_text("")
    proc = start(
        str(path), "--follow", *JOB, "--records", "csv", "--window", "50ms", "--local",
        "--stats-interval", "100ms", cwd=logs,
    )  # fmt: skip
    lines = (logs / "log.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    with path.open("a", encoding="utf-8") as f:
        for i in range(0, len(lines), 700):
            f.writelines(lines[i : i + 700])
            f.flush()
            time.sleep(0.03)
    wait_for_line(proc, r"stream: 6,000 lines")
    assert merged(finish(proc)) == (batch_result(logs, "csv"), 6000)


def test_tcp_with_several_clients(logs: Path) -> None:
    proc = start(
        "tcp://127.0.0.1:0", *JOB, "--records", "jsonl", "--count", "100", "--workers", "1",
        "--stats-interval", "100ms", cwd=logs,
    )  # fmt: skip
    port = int(wait_for_line(proc, r"listening on tcp://127\.0\.0\.1:(\d+)").group(1))
    lines = (logs / "log.jsonl").read_bytes().splitlines(keepends=True)
    clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]
    for i, line_chunk in enumerate(range(0, len(lines), 500)):
        clients[i % 3].sendall(b"".join(lines[line_chunk : line_chunk + 500]))
    for c in clients:
        c.close()
    wait_for_line(proc, r"stream: 6,000 lines")
    assert merged(finish(proc, signal.SIGINT)) == (batch_result(logs, "jsonl"), 6000)


def test_http_posts(logs: Path) -> None:
    proc = start(
        "http://127.0.0.1:0/log", *JOB, "--records", "jsonl", "--window", "20ms", "--local",
        "--stats-interval", "100ms", cwd=logs,
    )  # fmt: skip
    port = int(wait_for_line(proc, r"listening on http://127\.0\.0\.1:(\d+)/log").group(1))
    lines = (logs / "log.jsonl").read_bytes().splitlines(keepends=True)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for i in range(0, len(lines), 1000):
        conn.request("POST", "/log", body=b"".join(lines[i : i + 1000]))
        assert json.loads(conn.getresponse().read())["accepted"] == len(lines[i : i + 1000])
    wait_for_line(proc, r"stream: 6,000 lines")
    assert merged(finish(proc)) == (batch_result(logs, "jsonl"), 6000)


def test_redis_stream(logs: Path, tmp_path: Path) -> None:
    with redis_server(tmp_path / "redis") as (address, client):
        fill_stream(client, "log", (logs / "log.jsonl").read_text(encoding="utf-8").splitlines())
        proc = start(
            f"redis://{address}/log?group=g&consumer=c", *JOB, "--records", "jsonl",
            "--count", "333", "--local", "--stats-interval", "100ms", cwd=logs,
        )  # fmt: skip
        wait_for_line(proc, r"stream: 6,000 lines")
        assert merged(finish(proc)) == (batch_result(logs, "jsonl"), 6000)


def test_bad_records_and_strict(logs: Path, tmp_path: Path) -> None:
    data = '{"status": 200, "bytes": 5}\n{oops\n{"status": 200, "bytes": "x"}\n'
    out = run_stdin(logs, data, "--records", "jsonl", "--count", "10", "--local",
                    "--bad-output", str(tmp_path / "bad.txt"))  # fmt: skip
    assert merged(out) == ({"200": 5}, 1)
    assert (tmp_path / "bad.txt").read_text() == '{oops\n{"status": 200, "bytes": "x"}\n'
    proc = subprocess.run(
        [TOOLKIT, "stream", "-", *JOB, "--records", "jsonl", "--count", "10", "--local",
         "--bad-records", "strict"],
        input=data, capture_output=True, text=True, timeout=60, cwd=logs,
    )  # fmt: skip
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1].startswith("toolkit: error: bad record '{oops'")
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    "windows",
    [
        [*JOB, "--records", "jsonl", "--window", "5s"],
        [*JOB, "--records", "jsonl", "--session", "2s"],
        ["--window", "5s", "--text-field", "path"],  # a word count
    ],
    ids=["user-windows", "user-sessions", "word-count"],
)
def test_idle_timeout_closes_a_quiet_streams_windows(logs: Path, windows: list[str]) -> None:
    proc = start(
        "tcp://127.0.0.1:0", *windows, "--event-time", "ts", "--lateness", "1s",
        "--idle-timeout", "1s", "--local", cwd=logs,
    )  # fmt: skip
    port = int(wait_for_line(proc, r"listening on tcp://127\.0\.0\.1:(\d+)").group(1))
    out, reader = read_results(proc)
    events = [{"ts": t / 2, "status": 200, "bytes": 1, "path": "/a b"} for t in range(20)]
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(b"".join(json.dumps(e).encode() + b"\n" for e in events))
        # the connection stays open and quiet: only the idle timeout can close what is open
        wait_for(proc, out, lambda w: w["end"] >= 9.5)
        assert proc.poll() is None  # closed by the idle clock, not by the end of the input
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 143
    reader.join(timeout=10)
    counted = sum(w.get("records", w.get("lines", 0)) for w in out)
    assert counted == 20  # every event in exactly one window or session


def test_emit_every_writes_early_results_of_open_windows(logs: Path) -> None:
    proc = start(
        "tcp://127.0.0.1:0", *JOB, "--records", "jsonl", "--window", "10s", "--event-time", "ts",
        "--emit-every", "200ms", "--local", cwd=logs,
    )  # fmt: skip
    port = int(wait_for_line(proc, r"listening on tcp://127\.0\.0\.1:(\d+)").group(1))
    out, reader = read_results(proc)

    with socket.create_connection(("127.0.0.1", port)) as conn:
        event = {"ts": 1.0, "status": 200, "bytes": 5}
        conn.sendall(json.dumps(event).encode() + b"\n")
        wait_for(proc, out, lambda w: w["final"] is False and w["results"] == [["200", 5]])
        conn.sendall(json.dumps({**event, "ts": 2.0}).encode() + b"\n")
        wait_for(proc, out, lambda w: w["final"] is False and w["results"] == [["200", 10]])
        conn.sendall(json.dumps({**event, "ts": 15.0}).encode() + b"\n")  # closes [0, 10)
        wait_for(proc, out, lambda w: w["final"] is True)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 143
    reader.join(timeout=10)
    finals = [(w["start"], w["records"]) for w in out if w["final"]]
    assert finals == [(0, 2), (10, 1)]  # the closing results, each once
