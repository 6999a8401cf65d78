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

from tests import jobs
from tests.conftest import subprocess_cluster
from toolkit import connect, map_reduce
from toolkit.batch.inputs import plan_blocks, resolve_inputs
from toolkit.corpus import generate_corpus


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
        outcome: dict[str, Any] = {}

        def run() -> None:
            try:
                outcome["result"] = map_reduce(
                    corpus, jobs.slow_words, jobs.add, blocksize="32KiB", scheduler=conn
                )
            except BaseException as exc:
                outcome["error"] = exc

        thread = threading.Thread(target=run)
        thread.start()
        total = len(plan_blocks(resolve_inputs(corpus), blocksize=32 * 1024))
        assert total >= 40
        deadline = time.monotonic() + 60
        pending = total
        while time.monotonic() < deadline and not outcome:
            pending = client.run_on_scheduler(jobs.pending_map_tasks)
            if 0 < pending <= total // 2:
                break
            time.sleep(0.05)
        assert 0 < pending <= total // 2 and not outcome, (pending, total, outcome)
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
    env_failures = ("DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES", "1")
    with (
        subprocess_cluster(tmp_path / "cluster", n_workers=2, env=dict([env_failures])) as cluster,
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
    assert re.fullmatch(
        r".*data\.txt \(bytes 3072 to 3997\): partition 3 "
        r"killed the worker on each of 2 attempts.*",
        message,
    ), message
