"""Ctrl-C and SIGTERM as a terminal delivers them, to every command, many times over.

Each command runs on a pseudo-terminal in its own foreground process group (see
``tests/terminal.py``) and is stopped by Ctrl-C typed on the terminal, by
SIGTERM to its process group (``kill -- -PGID``), or by either signal to its main
process alone; the delay before the signal varies, since a hang is intermittent.
Every time: the command ends within 5 s with 130 (SIGINT) or 143 (SIGTERM), no
process prints a traceback, no process of its group outlives it, stdout holds
whole lines only, and no partial output file is left.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.terminal import Terminal
from toolkit.corpus import generate_corpus

pytestmark = pytest.mark.slow  # 32 tries, each a command started and stopped

TOOLKIT = str(Path(sys.executable).parent / "toolkit")

#: How the signal reaches the command, in turn: (name, signal, to the whole group?)
DELIVERIES = [
    ("ctrl-c", signal.SIGINT, True),
    ("kill-group", signal.SIGTERM, True),
    ("sigint-main", signal.SIGINT, False),
    ("sigterm-main", signal.SIGTERM, False),
]
DELAYS = [0.1, 0.9, 2.0, 0.4]  # seconds between the command being busy and the signal


def _tries(n: int) -> list[object]:
    """``n`` tries, each a (delivery, signal, to the group?, delay), cycling through both lists."""
    tries = []
    for i in range(n):
        name, sig, group = DELIVERIES[i % len(DELIVERIES)]
        delay = DELAYS[i % len(DELAYS)]
        tries.append(pytest.param((name, sig, group, delay), id=f"{i}-{name}-{delay}s"))
    return tries


def _group_alive(pgid: int) -> list[int]:
    """Processes still in process group ``pgid``."""
    alive = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            alive.append(int(entry))
    return alive


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("corpus")
    generate_corpus(directory, size="24MB", files=4)  # the job outlasts the longest delay (2 s)
    return directory


@pytest.fixture(scope="module")
def slow_job(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("job")
    (directory / "slow.py").write_text(
        "import time\n\ndef mapper(line):\n    time.sleep(0.02)\n    yield line[:1], 1\n\n"
        "def reducer(a, b):\n    return a + b\n"
    )
    (directory / "lines.txt").write_text("".join(f"line {i}\n" for i in range(5000)))
    return directory


class _Drain(threading.Thread):
    """Reads a pipe slowly, so that big writes to it block (where a signal could cut them)."""

    def __init__(self, fd: int) -> None:
        super().__init__(daemon=True)
        self.fd, self.data = fd, b""

    def run(self) -> None:
        while chunk := os.read(self.fd, 4096):
            self.data += chunk
            time.sleep(0.001)


def _interrupt(
    argv: list[str],
    busy: str | Callable[[], bool],
    delivery: tuple[str, int, bool, float],
    tmp_path: Path,
    *,
    cwd: Path | None = None,
) -> tuple[Terminal, bytes]:
    """Run ``argv`` on a terminal until it is busy, deliver the signal, check how it ends.

    ``busy`` is a pattern the terminal shows, or a test of the command's files.
    """
    name, sig, group, delay = delivery
    read_fd, write_fd = os.pipe()
    drain = _Drain(read_fd)
    drain.start()
    out = f"/proc/self/fd/{write_fd}"
    with Terminal(argv, stdout=Path(out), cwd=cwd or tmp_path) as term:
        os.close(write_fd)
        if isinstance(busy, str):
            term.wait_for(busy, timeout=90)
        else:
            deadline = time.monotonic() + 90
            while not busy() and time.monotonic() < deadline:
                term.read(0.02)
        term.read(delay)
        assert term.proc.poll() is None, f"{argv[1]} ended before the signal:\n{term.text}"
        sent = time.monotonic()
        if name == "ctrl-c":
            term.ctrl_c()
        elif group:
            term.signal_group(sig)
        else:
            term.signal_main(sig)
        code = term.wait(5.0)
        took = time.monotonic() - sent
        assert code is not None, f"{name}: no exit 5 s after the signal:\n{term.text}"
        assert code == (130 if sig == signal.SIGINT else 143), (name, code, term.text)
        assert "Traceback" not in term.text, f"{name}:\n{term.text}"
        deadline = time.monotonic() + 5
        while _group_alive(term.proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _group_alive(term.proc.pid), f"{name}: processes outlived the command"
    drain.join(timeout=5)
    stdout = drain.data
    assert not stdout or stdout.endswith(b"\n"), f"{name}: half a line on stdout after {took:.1f}s"
    return term, stdout


def _no_partial_outputs(directory: Path, allowed: set[str]) -> None:
    assert {p.name for p in directory.iterdir()} <= allowed


def _windows(stdout: bytes) -> Iterator[dict]:
    for line in stdout.decode("utf-8").splitlines():
        yield json.loads(line)  # every line whole: each parses


@pytest.mark.parametrize("delivery", _tries(8))
def test_stream_on_the_embedded_cluster(tmp_path: Path, delivery: tuple) -> None:
    argv = [TOOLKIT, "stream", "demo:?rate=20000", "--window", "300ms", "--top", "0"]
    argv += ["--workers", "2", "--stats-interval", "200ms"]
    _, stdout = _interrupt(argv, r"stream: [1-9][\d,]* lines", delivery, tmp_path)
    assert all(w["lines"] >= 0 for w in _windows(stdout))


@pytest.mark.parametrize("delivery", _tries(4))
def test_stream_local(tmp_path: Path, delivery: tuple) -> None:
    argv = [TOOLKIT, "stream", "demo:?rate=20000", "--count", "3000", "--top", "0", "--local"]
    argv += ["--stats-interval", "200ms"]
    _, stdout = _interrupt(argv, r"stream: [1-9][\d,]* lines", delivery, tmp_path)
    assert all(w["end"] - w["start"] <= 3000 for w in _windows(stdout))


@pytest.mark.parametrize("delivery", _tries(4))
def test_stream_of_a_user_job_in_sessions(tmp_path: Path, delivery: tuple) -> None:
    (tmp_path / "job.py").write_text(
        "def first_word(line):\n    yield (line.split() or [''])[0], 1\n\n"
        "def add(a, b):\n    return a + b\n"
    )
    argv = [TOOLKIT, "stream", "demo:?rate=20000", "--mapper", "job.py:first_word"]
    argv += ["--reducer", "job.py:add", "--session", "50ms", "--workers", "2"]
    argv += ["--stats-interval", "200ms"]
    _, stdout = _interrupt(argv, r"stream: [1-9][\d,]* lines", delivery, tmp_path)
    assert all(s["records"] >= 1 for s in _windows(stdout))


@pytest.mark.parametrize("delivery", _tries(4))
def test_wordcount(tmp_path: Path, corpus: Path, delivery: tuple) -> None:
    argv = [TOOLKIT, "wordcount", str(corpus), "--blocksize", "16KiB", "-o", "out.parquet"]
    _interrupt([*argv, "--workers", "2"], r"dashboard", delivery, tmp_path)
    _no_partial_outputs(tmp_path, set())


@pytest.mark.parametrize("delivery", _tries(4))
def test_wordcount_in_process(tmp_path: Path, corpus: Path, delivery: tuple) -> None:
    """No cluster: a job of seconds counted on dask's threads in the command's process (small
    blocks, many tasks: the job outlasts the longest delay)."""
    argv = [TOOLKIT, "wordcount", str(corpus), "--blocksize", "4KiB", "-o", "out.parquet"]
    _interrupt(argv, r"counted in this process on \d+ threads", delivery, tmp_path)
    _no_partial_outputs(tmp_path, set())


@pytest.mark.parametrize("delivery", _tries(4))
def test_mapreduce(tmp_path: Path, slow_job: Path, delivery: tuple) -> None:
    argv = [TOOLKIT, "mapreduce", str(slow_job / "lines.txt"), "--mapper", "slow.py:mapper"]
    argv += ["--reducer", "slow.py:reducer", "--blocksize", "1KiB", "--workers", "2"]
    argv += ["-o", str(tmp_path / "out.csv")]
    _interrupt(argv, r"dashboard", delivery, tmp_path, cwd=slow_job)
    _no_partial_outputs(tmp_path, set())


@pytest.mark.parametrize("delivery", _tries(4))
def test_cluster(tmp_path: Path, delivery: tuple) -> None:
    argv = [TOOLKIT, "cluster", "--port", "0", "--workers", "2", "--dashboard-address", ""]
    term, stdout = _interrupt(argv, r"Ctrl-C stops", delivery, tmp_path)
    assert stdout.startswith(b"scheduler: tcp://127.0.0.1:")
    assert "stopping the cluster" in term.text


@pytest.mark.parametrize("delivery", _tries(4))
def test_sample(tmp_path: Path, delivery: tuple) -> None:
    out = tmp_path / "out"
    argv = [TOOLKIT, "sample", str(out), "--size", "400MB", "--files", "400"]
    _interrupt(argv, lambda: (out / "part-0000.txt").exists(), delivery, tmp_path)
    names = sorted(p.name for p in out.iterdir())
    assert all(n.startswith("part-") and n.endswith(".txt") for n in names), names
    # each file is whole: as an uninterrupted run writes it (its first files are these)
    reference = tmp_path / "reference"
    generate_corpus(reference, size=str(1_000_000 * len(names)), files=len(names))
    for n in names:
        assert (out / n).read_bytes() == (reference / n).read_bytes(), n
