"""Crash recovery, tested as Flink tests it: SIGKILL ``toolkit stream`` at random points,
restart it from its checkpoint, and compare the output with an uninterrupted run."""

from __future__ import annotations

import itertools
import json
import random
import re
import shutil
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import SubprocessCluster
from tests.redis_server import consumed, fill_stream, redis_server
from tests.test_cli import TOOLKIT
from toolkit.corpus import generate_lines

pytestmark = pytest.mark.slow  # they kill streams and restart them, many times

EVENT_TIME = ["--event-time", "ts", "--lateness", "2s"]


def event_lines(n: int, seed: int) -> list[str]:
    """JSON events a few ms apart, some out of order, a few far too late for their window."""
    rng = random.Random(seed)
    texts = itertools.islice(generate_lines(n * 200, seed=seed), n)
    t = 1_700_000_000.0
    out = []
    for text in texts:
        t += rng.random() * 0.004
        ts = t - (rng.random() * 3 if rng.random() < 0.2 else 0.0)
        if rng.random() < 0.002:
            ts -= 30  # late even with the lateness allowed
        out.append(json.dumps({"ts": round(ts, 3), "text": text.rstrip("\n")}))
    return out


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(x + "\n" for x in lines), encoding="utf-8")
    return path


def start(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as err:
        return subprocess.Popen(
            [TOOLKIT, "stream", *args],
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
        )


def reference(args: list[str], tmp: Path) -> list[str]:
    """The output of one uninterrupted run."""
    out = tmp / "reference.jsonl"
    proc = subprocess.run(
        [TOOLKIT, "stream", *args, "-o", str(out)], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) > 20
    return lines


def lines_of(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def kill_at_random_points(
    args: list[str], tmp: Path, *, seed: int, expected: list[str], kills: int = 4
) -> int:
    """Run with a checkpoint, and SIGKILL it each time its output reaches a random point
    (then restart it).  Returns how many kills landed with the output partly written."""
    rng = random.Random(seed)
    sizes = list(itertools.accumulate(len(x.encode()) + 1 for x in expected))
    points = sorted(rng.sample(range(len(expected) // 10, len(expected) * 9 // 10), kills))
    out, log = tmp / "out.jsonl", tmp / "stderr.log"
    mid = 0
    for point in points:
        proc = start([*args, "-o", str(out)], log)
        while proc.poll() is None and (not out.exists() or out.stat().st_size < sizes[point]):
            time.sleep(0.002)
        assert proc.poll() is None, log.read_text()
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        mid += 0 < len(lines_of(out)) < len(expected)
    return mid


def kill_until_done(args: list[str], tmp: Path, *, seed: int, expected: list[str]) -> int:
    """:func:`kill_at_random_points`, then a last run to the end of the input."""
    mid = kill_at_random_points(args, tmp, seed=seed, expected=expected)
    proc = start([*args, "-o", str(tmp / "out.jsonl")], tmp / "stderr.log")
    assert proc.wait(timeout=300) == 0, (tmp / "stderr.log").read_text()
    return mid


def _identity(line: str) -> tuple[object, ...]:
    """What names a result: a window's bounds, a session's key and bounds."""
    doc = json.loads(line)
    return (json.dumps(doc.get("key")), doc["start"], doc["end"])


def assert_same(output: list[str], expected: list[str]) -> None:
    windows = [_identity(x) for x in output]
    assert len(windows) == len(set(windows)), "a window was emitted twice"
    missing = {_identity(x) for x in expected} - set(windows)
    assert not missing, f"windows missing: {sorted(missing)[:5]}"
    assert output == expected  # every count identical, in the same order


@pytest.fixture(scope="module")
def events_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_lines(tmp_path_factory.mktemp("events") / "events.jsonl", event_lines(250_000, 3))


@pytest.fixture(scope="module")
def text_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("text") / "lines.txt"
    path.write_text("".join(generate_lines(8_000_000, seed=11)), encoding="utf-8")
    return path


def checkpointed(args: list[str], tmp: Path) -> list[str]:
    return [*args, "--checkpoint", str(tmp / "checkpoints"), "--checkpoint-interval", "0.2s"]


def test_event_time_tumbling_over_a_file_survives_kills(events_file: Path, tmp_path: Path) -> None:
    args = [str(events_file), "--window", "10s", *EVENT_TIME, "--top", "0", "--local"]
    expected = reference(args, tmp_path)
    run = checkpointed(args, tmp_path)
    assert kill_until_done(run, tmp_path, seed=1, expected=expected) == 4
    assert_same(lines_of(tmp_path / "out.jsonl"), expected)


def test_event_time_sliding_over_a_file_on_a_cluster_survives_kills(
    events_file: Path, tmp_path: Path, real_cluster: SubprocessCluster
) -> None:
    args = [str(events_file), "--window", "10s", "--every", "2s", *EVENT_TIME, "--top", "20"]
    expected = reference([*args, "--local"], tmp_path)
    on_cluster = [*checkpointed(args, tmp_path), "--scheduler", real_cluster.address]
    assert kill_until_done(on_cluster, tmp_path, seed=2, expected=expected) == 4
    assert_same(lines_of(tmp_path / "out.jsonl"), expected)


def test_count_windows_over_a_file_survive_kills(text_file: Path, tmp_path: Path) -> None:
    args = [str(text_file), "--count", "2000", "--every", "500", "--top", "0", "--local"]
    expected = reference(args, tmp_path)
    run = checkpointed(args, tmp_path)
    assert kill_until_done(run, tmp_path, seed=3, expected=expected) == 4
    assert_same(lines_of(tmp_path / "out.jsonl"), expected)


def _kill_once_mid_stream(args: list[str], tmp: Path, expected: int, checkpoints: int = 1) -> None:
    """SIGKILL a checkpointed run once it has written part of its output, and at least
    ``checkpoints`` checkpoints."""
    out = tmp / "out.jsonl"
    proc = start([*args, "-o", str(out)], tmp / "stderr.log")
    deadline = time.monotonic() + 60

    def written() -> int:
        return len(list((tmp / "checkpoints").glob("checkpoint-*.tkc")))

    while (
        not (expected // 4 < len(lines_of(out)) < expected and written() >= checkpoints)
        and time.monotonic() < deadline
    ):
        assert proc.poll() is None, (tmp / "stderr.log").read_text()
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 0 < len(lines_of(out)) < expected


def _resume(args: list[str], tmp: Path) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [TOOLKIT, "stream", *args, "-o", str(tmp / "out.jsonl")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "resumed from" in proc.stderr
    # the last stats line says how many checkpoints this run wrote (one at least, at the end)
    assert re.search(r"batches in flight, [1-9][\d,]* checkpoints$", proc.stderr.strip())
    return proc


def test_replaying_a_checkpoint_twice_changes_nothing(events_file: Path, tmp_path: Path) -> None:
    args = [str(events_file), "--window", "5s", "--every", "1s", *EVENT_TIME, "--local"]
    expected = reference(args, tmp_path)
    run = checkpointed(args, tmp_path)
    _kill_once_mid_stream(run, tmp_path, len(expected))
    saved = tmp_path / "saved"
    shutil.copytree(tmp_path / "checkpoints", saved / "checkpoints")
    shutil.copy(tmp_path / "out.jsonl", saved / "out.jsonl")
    _resume(run, tmp_path)
    assert_same(lines_of(tmp_path / "out.jsonl"), expected)
    # deliver everything after that checkpoint once more, as an at-least-once source would
    shutil.rmtree(tmp_path / "checkpoints")
    shutil.copytree(saved / "checkpoints", tmp_path / "checkpoints")
    _resume(run, tmp_path)
    assert_same(lines_of(tmp_path / "out.jsonl"), expected)


def test_a_damaged_checkpoint_falls_back_to_the_previous_one(
    events_file: Path, tmp_path: Path
) -> None:
    args = [str(events_file), "--window", "10s", *EVENT_TIME, "--local"]
    expected = reference(args, tmp_path)
    run = checkpointed(args, tmp_path)
    _kill_once_mid_stream(run, tmp_path, len(expected), checkpoints=2)  # one to fall back to
    newest = sorted((tmp_path / "checkpoints").glob("checkpoint-*.tkc"))[-1]
    newest.write_bytes(newest.read_bytes()[: newest.stat().st_size // 2])  # half-written
    proc = _resume(run, tmp_path)
    assert f"warning: skipped a damaged checkpoint ({newest}: truncated" in proc.stderr
    assert_same(lines_of(tmp_path / "out.jsonl"), expected)


def test_only_damaged_checkpoints_stop_the_stream(events_file: Path, tmp_path: Path) -> None:
    args = checkpointed([str(events_file), "--window", "10s", *EVENT_TIME, "--local"], tmp_path)
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "checkpoint-000000000001.tkc").write_bytes(b"garbage")
    proc = subprocess.run([TOOLKIT, "stream", *args], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert (
        proc.stderr.strip().splitlines()[-1].startswith("toolkit: error: no intact checkpoint in")
    ), proc.stderr
    assert "move the directory away to start over" in proc.stderr


def test_a_crash_while_writing_the_output_leaves_no_partial_line(
    events_file: Path, tmp_path: Path
) -> None:
    args = [str(events_file), "--window", "10s", "--every", "5s", *EVENT_TIME, "--local"]
    expected = reference(args, tmp_path)
    run = checkpointed(args, tmp_path)
    _kill_once_mid_stream(run, tmp_path, len(expected))
    with open(tmp_path / "out.jsonl", "ab") as f:  # the write the kill interrupted
        f.write(b'{"start": 1700000100, "end": 17000')
    _resume(run, tmp_path)
    assert_same(lines_of(tmp_path / "out.jsonl"), expected)


def test_a_checkpoint_of_another_job_is_refused(events_file: Path, tmp_path: Path) -> None:
    args = [str(events_file), *EVENT_TIME, "--local", "--checkpoint", str(tmp_path / "cp")]
    first = subprocess.run(
        [TOOLKIT, "stream", *args, "--window", "10s", "-o", str(tmp_path / "a")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert first.returncode == 0, first.stderr
    second = subprocess.run(
        [TOOLKIT, "stream", *args, "--window", "20s", "-o", str(tmp_path / "b")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert second.returncode == 1
    assert "is of another job (its windowing differ)" in second.stderr


def test_a_file_rotated_while_down_is_finished_then_the_new_one_read(tmp_path: Path) -> None:
    lines = list(itertools.islice(generate_lines(120_000 * 200, seed=4), 120_000))
    assert len(lines) == 120_000
    whole = tmp_path / "whole.txt"
    whole.write_text("".join(lines), encoding="utf-8")
    args = ["--count", "1000", "--top", "0", "--local"]
    expected = reference([str(whole), *args], tmp_path)
    log = tmp_path / "app.log"
    log.write_text("".join(lines[:80_000]), encoding="utf-8")
    run = checkpointed([str(log), "--follow", *args], tmp_path)
    proc = start([*run, "-o", str(tmp_path / "out.jsonl")], tmp_path / "stderr.log")
    deadline = time.monotonic() + 60
    while len(lines_of(tmp_path / "out.jsonl")) < 80 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # a checkpoint at the end of what is there
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with open(log, "a", encoding="utf-8") as f:  # written before the rotation
        f.write("".join(lines[80_000:100_000]))
    log.rename(tmp_path / "app.log.1")
    log.write_text("".join(lines[100_000:]), encoding="utf-8")
    _resume(checkpointed([str(log), *args], tmp_path), tmp_path)
    assert_same(lines_of(tmp_path / "out.jsonl"), expected)


# -- Redis Streams ---------------------------------------------------------------------------


@pytest.mark.parametrize("every", [None, "2s"], ids=["tumbling", "sliding"])
def test_event_time_over_a_redis_stream_survives_kills(
    events_file: Path, tmp_path: Path, every: str | None
) -> None:
    slide = ["--every", every, "--top", "50"] if every else ["--top", "0"]
    windows = ["--window", "10s", *slide, *EVENT_TIME, "--local"]
    expected = reference([str(events_file), *windows], tmp_path)
    with redis_server(tmp_path / "redis") as (address, client):
        fill_stream(client, "events", events_file.read_text(encoding="utf-8").splitlines())
        url = f"redis://{address}/events?group=wc"
        out, log = tmp_path / "out.jsonl", tmp_path / "stderr.log"
        common = [*checkpointed(windows, tmp_path), "--drain"]
        run = [f"{url}&consumer=first", *common]
        assert kill_at_random_points(run, tmp_path, seed=5, expected=expected) == 4
        # a consumer with another name takes over what the first left pending (XAUTOCLAIM)
        proc = start([f"{url}&consumer=second&claim-idle=0s", *common, "-o", str(out)], log)
        deadline = time.monotonic() + 120
        while not consumed(client, "events", "wc") and time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()
            time.sleep(0.1)
        assert consumed(client, "events", "wc"), log.read_text()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 143, log.read_text()
    assert_same(lines_of(out), expected)


# -- a user's job: per-key sessions in event time -------------------------------------------

SESSIONS = [
    "--mapper",
    "tests.user_functions:client_requests",
    "--reducer",
    "tests.user_functions:add",
    "--records",
    "jsonl",
    "--session",
    "0.5s",
    "--event-time",
    "ts",
    "--lateness",
    "1s",
]


@pytest.fixture(scope="module")
def access_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from toolkit.corpus import access_log

    rng = random.Random(8)
    lines = []
    for r in access_log(150_000, seed=8, rate=1000, disorder=0.8):
        if rng.random() < 0.002:
            r["ts"] = float(r["ts"]) - 5  # type: ignore[arg-type]  # late even with the lateness
        lines.append(json.dumps(r))
    return write_lines(tmp_path_factory.mktemp("access") / "access.jsonl", lines)


def test_keyed_event_time_sessions_over_a_file_survive_kills(
    access_file: Path, tmp_path: Path
) -> None:
    args = [str(access_file), *SESSIONS, "--local"]
    expected = reference(args, tmp_path)
    assert '"late": 1' in "".join(expected)  # late events are reported with the sessions
    kill_until_done(checkpointed(args, tmp_path), tmp_path, seed=13, expected=expected)
    assert_same(lines_of(tmp_path / "out.jsonl"), expected)


def test_keyed_event_time_sessions_over_a_redis_stream_survive_kills(
    access_file: Path, tmp_path: Path
) -> None:
    expected = reference([str(access_file), *SESSIONS, "--local"], tmp_path)
    with redis_server(tmp_path / "redis") as (address, client):
        fill_stream(client, "access", access_file.read_text(encoding="utf-8").splitlines())
        url = f"redis://{address}/access?group=jobs&consumer=one"
        args = [*checkpointed([url, *SESSIONS, "--local"], tmp_path), "--drain"]
        out, log = tmp_path / "out.jsonl", tmp_path / "stderr.log"
        kill_at_random_points(args, tmp_path, seed=17, expected=expected)
        proc = start([*args, "-o", str(out)], log)
        deadline = time.monotonic() + 120
        while not consumed(client, "access", "jobs") and time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()
            time.sleep(0.1)
        assert consumed(client, "access", "jobs"), log.read_text()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 143, log.read_text()
    assert_same(lines_of(out), expected)


@pytest.fixture(scope="module")
def two_event_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    from tests.stream.test_driver import skewed_events

    folder = tmp_path_factory.mktemp("two")
    long, short = skewed_events(100_000, seed=9)  # a kill lands between batches of 4 MiB
    return [write_lines(folder / "long.jsonl", long), write_lines(folder / "short.jsonl", short)]


def test_two_inputs_in_event_time_survive_kills(
    two_event_files: list[Path], tmp_path: Path
) -> None:
    """Two files, each with its own watermark and position in one checkpoint: the windows
    after four kills are those of an uninterrupted run, which are the count of both files."""
    from toolkit.text import count_words

    args = [*map(str, two_event_files), "--window", "10s", *EVENT_TIME, "--top", "0", "--local"]
    expected = reference(args, tmp_path)
    total: Counter[str] = Counter()
    for line in expected:
        window = json.loads(line)
        assert window["late"] == 0
        total.update(dict(window["top"]))
    texts = [json.loads(x)["text"] for f in two_event_files for x in lines_of(f)]
    assert total == count_words("\n".join(texts))
    run = checkpointed(args, tmp_path)
    assert kill_until_done(run, tmp_path, seed=4, expected=expected) == 4
    assert_same(lines_of(tmp_path / "out.jsonl"), expected)
