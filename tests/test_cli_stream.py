"""``toolkit stream`` run as a subprocess, fed through stdin, files, TCP and HTTP."""

from __future__ import annotations

import csv
import http.client
import json
import re
import signal
import socket
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import SubprocessCluster, subprocess_cluster
from tests.test_cli import TOOLKIT, run
from toolkit.corpus import generate_lines


def windows(stdout: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stdout.splitlines()]


def summed(results: list[dict[str, object]]) -> Counter[str]:
    total: Counter[str] = Counter()
    for r in results:
        total.update({w: c for w, c in r["top"]})  # type: ignore[attr-defined]
    return total


def batch_counts(path: Path) -> Counter[str]:
    proc = run("wordcount", str(path), "--json", "--top", "0", "--scheduler", "sync")
    assert proc.returncode == 0, proc.stderr
    return Counter({r["word"]: r["count"] for r in json.loads(proc.stdout)["top"]})


@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli-stream") / "lines.txt"
    path.write_text("".join(generate_lines(300_000, seed=5)), encoding="utf-8")
    return path


def start(*args: str, **kwargs: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [TOOLKIT, "stream", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )  # type: ignore[call-overload]


def wait_for_line(proc: subprocess.Popen[str], pattern: str, timeout: float = 60) -> re.Match[str]:
    assert proc.stderr is not None
    deadline = time.monotonic() + timeout
    seen = ""
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        seen += line
        m = re.search(pattern, line)
        if m:
            return m
    raise AssertionError(f"{pattern!r} not seen in: {seen}")


def test_stdin_count_windows_local(corpus_file: Path) -> None:
    with corpus_file.open("rb") as f:
        proc = subprocess.run(
            [TOOLKIT, "stream", "--count", "1000", "--local", "--top", "0"],
            stdin=f,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert proc.returncode == 0, proc.stderr
    out = windows(proc.stdout)
    assert summed(out) == batch_counts(corpus_file)
    assert [(w["start"], w["end"]) for w in out[:2]] == [(0, 1000), (1000, 2000)]
    assert re.search(r"toolkit: stream: [\d,]+ lines .* windows, 0 late, 0 bad", proc.stderr)


def test_csv_output_has_a_row_per_window_and_word(corpus_file: Path, tmp_path: Path) -> None:
    out_file = tmp_path / "windows.csv"
    args = ["--count", "1000", "--local", "--top", "0", "-o", str(out_file)]
    proc = run("stream", str(corpus_file), *args, "--output-format", "csv")
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(out_file.read_text(encoding="utf-8").splitlines()))
    assert list(rows[0]) == ["start", "end", "word", "count", "lines", "words"]
    total: Counter[str] = Counter()
    for row in rows:
        total[row["word"]] += int(row["count"])
    assert total == batch_counts(corpus_file)
    assert {(row["start"], row["end"]) for row in rows if row["start"] == "0"} == {("0", "1000")}


def test_file_time_windows_on_a_real_cluster(
    real_cluster: SubprocessCluster, corpus_file: Path, tmp_path: Path
) -> None:
    out_file = tmp_path / "windows.jsonl"
    proc = run(
        "stream",
        str(corpus_file),
        "--window",
        "100ms",
        "--top",
        "0",
        "--output",
        str(out_file),
        "--scheduler",
        real_cluster.address,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    out = windows(out_file.read_text(encoding="utf-8"))
    assert summed(out) == batch_counts(corpus_file)
    assert all(float(w["start"]) * 10 == round(float(w["start"]) * 10) for w in out)  # aligned
    assert f"connected to the Dask cluster at {real_cluster.address}" in proc.stderr


def test_follow_while_a_writer_appends(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("")
    proc = start(
        str(log), "--follow", "--count", "10", "--local", "--top", "0", "--stats-interval", "100ms"
    )
    lines = [f"event {i} user{i % 7}\n" for i in range(200)]
    with log.open("a") as f:
        for i in range(0, 200, 20):
            f.writelines(lines[i : i + 20])
            f.flush()
            time.sleep(0.05)
    wait_for_line(proc, r"stream: 200 lines")
    proc.send_signal(signal.SIGTERM)
    stdout, _ = proc.communicate(timeout=30)
    assert proc.returncode == 143
    out = windows(stdout)
    assert sum(w["lines"] for w in out) == 200  # type: ignore[misc]
    assert summed(out) == Counter(w for line in lines for w in line.split())


def test_tcp_clients_then_sigint_flushes_and_exits_130(tmp_path: Path) -> None:
    proc = start(
        "tcp://127.0.0.1:0",
        "--count",
        "100",
        "--top",
        "0",
        "--workers",
        "1",
        "--stats-interval",
        "100ms",
    )
    port = int(wait_for_line(proc, r"listening on tcp://127\.0\.0\.1:(\d+)").group(1))
    sent: Counter[str] = Counter()
    for i in range(4):
        with socket.create_connection(("127.0.0.1", port)) as s:
            payload = "".join(f"tcp{i} word{j % 3}\n" for j in range(130))
            s.sendall(payload.encode() + b"broken \xff line\n")
            sent.update(payload.split())
    wait_for_line(proc, r"stream: 524 lines")  # 520 good lines and 4 bad ones arrived
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    out = windows(stdout)
    assert summed(out) == sent
    assert "4 bad" in stderr and "Traceback" not in stderr


def test_http_posts(tmp_path: Path) -> None:
    proc = start("http://127.0.0.1:0/lines", "--count", "5", "--local", "--top", "0")
    port = int(wait_for_line(proc, r"listening on http://127\.0\.0\.1:(\d+)/lines").group(1))
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("POST", "/lines", body=b"alpha beta\ngamma\n\xff\ndelta")
    resp = conn.getresponse()
    assert resp.status == 200 and json.loads(resp.read()) == {"accepted": 3, "bad": 1}
    proc.send_signal(signal.SIGTERM)
    stdout, _ = proc.communicate(timeout=30)
    assert proc.returncode == 143
    assert summed(windows(stdout)) == Counter("alpha beta gamma delta".split())


def test_event_time_with_late_output(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    rows = [{"ts": 100 + i, "msg": f"hello {i % 2}"} for i in range(50)]
    rows.append({"ts": 10, "msg": "too late"})
    events.write_text("".join(json.dumps(r) + "\n" for r in rows))
    late = tmp_path / "late.jsonl"
    proc = run(
        "stream",
        str(events),
        "--window",
        "10s",
        "--event-time",
        "ts",
        "--text-field",
        "msg",
        "--late-output",
        str(late),
        "--local",
        "--top",
        "0",
    )
    assert proc.returncode == 0, proc.stderr
    out = windows(proc.stdout)
    assert [(w["start"], w["end"], w["lines"]) for w in out] == [
        (100 + 10 * k, 110 + 10 * k, 10) for k in range(5)
    ]
    assert sum(w["late"] for w in out) == 1  # type: ignore[misc]
    assert [json.loads(x)["msg"] for x in late.read_text().splitlines()] == ["too late"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--local"], "give exactly one of --count N, --window DURATION or --session GAP"),
        (["--count", "5", "--window", "1s"], "give exactly one of"),
        (["--window", "10s", "--every", "3s"], "whole multiple of the slide"),
        (["--window", "soon"], "duration must look like"),
        (["tcp://127.0.0.1", "--count", "5"], "needs a port"),
        (["--count", "5", "--lateness", "1s"], "go with --window"),
        (["--window", "1s", "--idle-timeout", "2s"], "--idle-timeout needs --event-time"),
        (["--window", "soon"], "--window: duration must look like"),
        (["--count", "5", "--follow", "tcp://127.0.0.1:9"], "--follow works with a file source"),
    ],
)
def test_stream_option_errors(args: list[str], message: str) -> None:
    proc = subprocess.run(
        [TOOLKIT, "stream", *args],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode in (1, 2)
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_ctrl_c_with_stdin_still_open_flushes_quickly() -> None:
    proc = subprocess.Popen(
        [TOOLKIT, "stream", "--count", "5", "--local", "--stats-interval", "50ms"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None
    proc.stdin.write("a b c\n" * 7)
    proc.stdin.flush()
    wait_for_line(proc, r"stream: 7 lines")
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    stdout, _ = proc.communicate(timeout=20)
    assert time.monotonic() - sent < 3
    assert proc.returncode == 130
    assert [(w["start"], w["end"]) for w in windows(stdout)] == [(0, 5), (5, 7)]


def test_a_cluster_without_workers_is_a_one_line_error(tmp_path: Path, corpus_file: Path) -> None:
    with subprocess_cluster(tmp_path / "cluster", n_workers=0) as cluster:
        started = time.monotonic()
        proc = run(
            "stream",
            str(corpus_file),
            "--count",
            "1000",
            "--scheduler",
            cluster.address,
            "--worker-timeout",
            "2s",
            timeout=60,
        )
    assert proc.returncode == 1, proc.stderr
    assert f"toolkit: waiting for workers on {cluster.address} (up to 2 s" in proc.stderr
    errors = [x for x in proc.stderr.splitlines() if x.startswith("toolkit: error:")]
    assert errors == [
        f"toolkit: error: no Dask worker joined {cluster.address} within 2 s (--worker-timeout)"
    ]
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert time.monotonic() - started < 30


@pytest.mark.parametrize("where", ["--local", "embedded"])
def test_two_sources_are_windowed_together_each_with_its_watermark(
    tmp_path: Path, where: str
) -> None:
    from tests.stream.test_driver import skewed_events
    from toolkit.text import count_words

    long, short = skewed_events(20_000, seed=3)
    paths = []
    for name, lines in (("long", long), ("short", short)):
        path = tmp_path / f"{name}.jsonl"
        path.write_text("".join(x + "\n" for x in lines), encoding="utf-8")
        paths.append(str(path))
    extra = ["--local"] if where == "--local" else ["--workers", "1"]
    time_args = ["--event-time", "ts", "--lateness", "1s"]
    proc = run("stream", *paths, "--window", "10s", *time_args, "--top", "0", *extra)
    assert proc.returncode == 0, proc.stderr
    windows = [json.loads(line) for line in proc.stdout.splitlines()]
    total: Counter[str] = Counter()
    for window in windows:
        assert window["late"] == 0
        total.update(dict(window["top"]))
    assert total == count_words("\n".join(json.loads(x)["text"] for x in long + short))
    assert sum(w["lines"] for w in windows) == len(long) + len(short)
