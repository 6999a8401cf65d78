"""Faults on a real cluster of ``dask scheduler`` and ``dask worker`` subprocesses."""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests import user_functions as jobs
from tests.conftest import subprocess_cluster
from toolkit import connect, map_reduce
from toolkit.batch.inputs import plan_blocks, resolve_inputs
from toolkit.corpus import generate_corpus

pytestmark = pytest.mark.slow  # they kill workers and schedulers mid-job, many times


def test_killing_a_worker_mid_job_gives_the_same_result(tmp_path: Path) -> None:
    corpus = generate_corpus(tmp_path / "corpus", size="1500kB", files=3)
    expected = Counter(
        w for p in corpus for line in p.read_text().split("\n") for w in line.lower().split()
    )
    with (
        subprocess_cluster(tmp_path / "cluster", n_workers=2) as cluster,
        connect(cluster.address, quiet=True) as conn,
    ):
        client = conn.client
        thread, outcome = _run_in_thread(
            inputs=corpus,
            mapper=jobs.slow_words,
            reducer=jobs.add,
            blocksize="32KiB",
            scheduler=conn,
        )
        total = len(plan_blocks(resolve_inputs(corpus), blocksize=32 * 1024))
        _wait_until_pending(client, total // 2, outcome)
        victim = sorted(client.run(os.getpid).values())[0]
        os.kill(victim, signal.SIGKILL)
        thread.join(timeout=180)
        assert not thread.is_alive()
        assert "error" not in outcome, outcome.get("error")
        assert outcome["result"].to_dict() == dict(expected)
        # the nanny replaced the killed worker: the cluster is whole again
        cluster.wait_for_workers(2)
        assert victim not in client.run(os.getpid).values()


def test_poison_input_names_the_file_and_partition(tmp_path: Path) -> None:
    from toolkit.errors import JobError

    data = tmp_path / "data.txt"
    data.write_text("".join(f"fine {i}\n" for i in range(400)) + "POISON\n" + "fine\n" * 100)
    env = {"DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1"}
    with (
        subprocess_cluster(tmp_path / "cluster", n_workers=2, env=env) as cluster,
        connect(cluster.address, quiet=True) as conn,
    ):
        start = time.monotonic()
        try:
            map_reduce(data, jobs.poison, jobs.add, blocksize="1KiB", scheduler=conn)
        except JobError as exc:
            message = str(exc)
        else:
            raise AssertionError("the poison line should have failed the job")
        assert time.monotonic() - start < 60
    # a worker also holds a queued task that dies with it: the poison partition is always
    # among the suspects, and an innocent one only if it was on the worker both times
    assert re.fullmatch(r"the worker died on each of 2 attempts while it ran .*", message), message
    assert re.search(r"partition 3 \(\S*data\.txt bytes 3072 to 3997\)", message), message


def _run_in_thread(**kwargs: Any) -> tuple[threading.Thread, dict[str, Any]]:
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = map_reduce(**kwargs)
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def _wait_until_pending(client: Any, at_most: int, outcome: dict[str, Any]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not outcome:
        pending = client.run_on_scheduler(jobs.pending_map_tasks)
        if 0 < pending <= at_most:
            return
        time.sleep(0.05)
    raise AssertionError(f"the job did not reach {at_most} pending map tasks: {outcome}")


def test_three_worker_kills_in_one_job_on_the_embedded_cluster(tmp_path: Path) -> None:
    corpus = generate_corpus(tmp_path / "corpus", size="1500kB", files=3)
    expected = Counter(
        w for p in corpus for line in p.read_text().split("\n") for w in line.lower().split()
    )
    total = len(plan_blocks(resolve_inputs(corpus), blocksize=32 * 1024))
    with connect(n_workers=2, quiet=True) as conn:  # the toolkit raises allowed-failures itself
        thread, outcome = _run_in_thread(
            inputs=corpus,
            mapper=jobs.slow_words,
            reducer=jobs.add,
            blocksize="32KiB",
            scheduler=conn,
        )
        killed = []
        for fraction in (0.8, 0.55, 0.3):  # pending map tasks left when each kill happens
            _wait_until_pending(conn.client, int(total * fraction), outcome)
            victim = sorted(conn.client.run(os.getpid).values())[0]
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)
            conn.client.wait_for_workers(2, timeout=60)
        thread.join(timeout=180)
        assert "error" not in outcome, outcome.get("error")
        assert outcome["result"].to_dict() == dict(expected)
        assert len(set(killed)) == 3


def test_scheduler_killed_mid_job_fails_fast(tmp_path: Path) -> None:
    from toolkit.errors import ClusterError

    corpus = generate_corpus(tmp_path / "corpus", size="1500kB", files=3)
    total = len(plan_blocks(resolve_inputs(corpus), blocksize=32 * 1024))
    with (
        subprocess_cluster(tmp_path / "cluster", n_workers=2) as cluster,
        connect(cluster.address, quiet=True) as conn,
    ):
        thread, outcome = _run_in_thread(
            inputs=corpus,
            mapper=jobs.slow_words,
            reducer=jobs.add,
            blocksize="32KiB",
            scheduler=conn,
        )
        _wait_until_pending(conn.client, total * 2 // 3, outcome)
        os.killpg(cluster.procs[0].pid, signal.SIGKILL)  # the scheduler
        killed_at = time.monotonic()
        thread.join(timeout=60)
        assert time.monotonic() - killed_at < 15
    assert isinstance(outcome.get("error"), ClusterError), outcome
    assert "lost the connection to the Dask scheduler" in str(outcome["error"])


def test_twenty_runs_half_with_a_kill_write_identical_files(tmp_path: Path) -> None:
    import random

    from toolkit.batch import write_series

    corpus = generate_corpus(tmp_path / "corpus", size="200kB", files=2)
    total = len(plan_blocks(resolve_inputs(corpus), blocksize=8 * 1024))
    rng = random.Random(42)
    digests = set()
    kills = 0
    with (
        subprocess_cluster(tmp_path / "cluster", n_workers=2) as cluster,
        connect(cluster.address, quiet=True) as conn,
    ):
        for run in range(20):
            kill = run % 2 == 1
            thread, outcome = _run_in_thread(
                inputs=corpus,
                mapper=jobs.slow_words,
                reducer=jobs.add,
                blocksize="8KiB",
                scheduler=conn,
            )
            if kill:
                _wait_until_pending(conn.client, rng.randint(total // 4, 3 * total // 4), outcome)
                victim = rng.choice(sorted(conn.client.run(os.getpid).values()))
                os.kill(victim, signal.SIGKILL)
                kills += 1
            thread.join(timeout=120)
            assert "error" not in outcome, outcome.get("error")
            out = tmp_path / f"run-{run}.csv"
            write_series(outcome["result"], out, key="key", value="value")
            digests.add(out.read_bytes())
            if kill:
                conn.client.wait_for_workers(2, timeout=60)
    assert kills == 10
    assert len(digests) == 1


def test_resume_after_the_scheduler_dies(tmp_path: Path) -> None:
    import subprocess

    from tests.test_cli import TOOLKIT

    (tmp_path / "job.py").write_text(
        "import time\n\ndef mapper(line):\n    time.sleep(0.002)\n    for w in line.split():\n"
        "        yield w, 1\n\ndef reducer(a, b):\n    return a + b\n"
    )
    data = tmp_path / "data.txt"
    data.write_text("".join(f"line {i} word{i % 50} tail{i % 7}\n" for i in range(4000)))
    args = [
        "mapreduce",
        str(data),
        "--mapper",
        "job.py:mapper",
        "--reducer",
        "job.py:reducer",
        "--blocksize",
        "4KiB",
    ]
    reference = subprocess.run(
        [TOOLKIT, *args, "--scheduler", "sync", "--output", str(tmp_path / "ref.csv")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert reference.returncode == 0, reference.stderr
    out = tmp_path / "out.csv"
    journal = tmp_path / "out.csv.journal"
    with subprocess_cluster(tmp_path / "first", n_workers=2) as first:
        proc = subprocess.Popen(
            [TOOLKIT, *args, "--resume", "--output", str(out), "--scheduler", first.address],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        while len(list(journal.glob("part-*"))) < 8:
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
        os.killpg(first.procs[0].pid, signal.SIGKILL)  # the scheduler dies mid-job
        killed = time.monotonic()
        _, err = proc.communicate(timeout=60)
        assert time.monotonic() - killed < 15
    assert proc.returncode == 1
    assert "toolkit: error: lost the connection to the Dask scheduler" in err, err
    assert not out.exists()
    done = len(list(journal.glob("part-*")))
    total = len(plan_blocks(resolve_inputs(data), blocksize=4096))
    assert 8 <= done < total
    with subprocess_cluster(tmp_path / "second", n_workers=2) as second:
        again = subprocess.run(
            [TOOLKIT, *args, "--resume", "--output", str(out), "--scheduler", second.address],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert again.returncode == 0, again.stderr
    assert f"resuming: {done} partitions already done" in again.stderr
    assert out.read_bytes() == (tmp_path / "ref.csv").read_bytes()  # no partition counted twice
    assert not journal.exists()


def test_a_journal_resumes_the_same_job_and_refuses_another(tmp_path: Path) -> None:
    from toolkit.errors import ConfigError, JobError

    data = tmp_path / "data.txt"
    data.write_text("a b c\n" * 100)
    journal = tmp_path / "j"
    FLAKY["fail"] = True
    with pytest.raises(JobError, match="boom"):
        map_reduce(
            data, jobs.line_length, _flaky_add, blocksize=64, scheduler="sync", journal=journal
        )
    assert (journal / "manifest.json").is_file()
    with pytest.raises(ConfigError, match="is the journal of a different job"):
        map_reduce(data, jobs.bigrams, jobs.add, blocksize=64, scheduler="sync", journal=journal)
    FLAKY["fail"] = False
    result = map_reduce(
        data, jobs.line_length, _flaky_add, blocksize=64, scheduler="sync", journal=journal
    )
    assert result.to_dict() == {5: 100} and not journal.exists()


FLAKY = {"fail": False}


def _flaky_add(a: int, b: int) -> int:
    if FLAKY["fail"]:
        raise ValueError("boom")
    return a + b


def test_a_200_mb_line_on_workers_limited_to_512_mib(tmp_path: Path) -> None:
    from toolkit import word_count

    path = tmp_path / "one-line.txt"
    piece = ("alpha beta gamma delta " * 1000).encode()  # 23,000 bytes, 4,000 words
    repeats = 200 * 2**20 // len(piece)
    with path.open("wb") as f:
        for _ in range(repeats):
            f.write(piece)
        f.write(b"\n")
    with (
        subprocess_cluster(
            tmp_path / "cluster", n_workers=2, worker_args=("--memory-limit", "512MiB")
        ) as cluster,
        connect(cluster.address, quiet=True) as conn,
    ):
        before = set(conn.client.run(os.getpid).values())
        result = word_count(path, scheduler=conn, tokenizer="whitespace")
        after = set(conn.client.run(os.getpid).values())
    assert dict(result.counts.items()) == {
        w: 1000 * repeats for w in ("alpha", "beta", "gamma", "delta")
    }
    assert result.stats.lines == 1
    assert before == after  # no worker died or was restarted


SLOW_JOB = (
    "--mapper",
    "tests/user_functions.py:slow_words",
    "--reducer",
    "tests/user_functions.py:add",
    "--blocksize",
    "16KiB",
)


def test_a_job_whose_workers_all_vanish_stops_with_one_line(tmp_path: Path) -> None:
    """Every worker of the cluster killed mid-job: the job says so at once, then stops after
    --worker-timeout with one line and no output file (dask alone would wait forever)."""
    import subprocess

    from tests.test_cli import TOOLKIT

    data = tmp_path / "data.txt"
    data.write_text("".join(f"word{i % 50} other\n" for i in range(20_000)))
    out = tmp_path / "out.csv"
    with subprocess_cluster(tmp_path / "cluster", n_workers=1) as cluster:
        job = subprocess.Popen(
            [
                *(TOOLKIT, "mapreduce", str(data), *SLOW_JOB, "-o", str(out), "--no-progress"),
                *("--scheduler", cluster.address, "--worker-timeout", "3s"),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(4)
        assert job.poll() is None, job.communicate()
        for worker in cluster.procs[1:]:
            os.killpg(worker.pid, signal.SIGKILL)
        gone = time.monotonic()
        _, err = job.communicate(timeout=60)
        took = time.monotonic() - gone
    assert job.returncode == 1, err
    assert "Traceback" not in err and not out.exists()
    assert f"no Dask workers on {cluster.address}: the job waits up to 3 s for one" in err
    errors = [line for line in err.splitlines() if "error" in line]
    assert errors == [
        f"toolkit: error: no Dask workers on {cluster.address} for 3 s: "
        "the job stopped and nothing was written"
    ], err
    assert took < 30


def test_a_scheduler_gone_between_two_waits_is_a_cluster_error(tmp_path: Path) -> None:
    """The watch between two waits asks the scheduler for its workers: when the scheduler
    has just died, that question fails in one line, not with distributed's comm error
    (a race the test above met once in CI)."""
    from toolkit.errors import ClusterError
    from toolkit.failures import WorkerWatch

    with (
        subprocess_cluster(tmp_path / "cluster", n_workers=1) as cluster,
        connect(cluster.address, quiet=True) as conn,
    ):
        watch = WorkerWatch(conn.client, 60, "the job", "the job stopped")
        watch.check()  # a worker: nothing to say
        os.killpg(cluster.procs[0].pid, signal.SIGKILL)  # the scheduler
        cluster.procs[0].wait(timeout=30)
        with pytest.raises(ClusterError, match="lost the connection to the Dask scheduler at"):
            watch.check()
