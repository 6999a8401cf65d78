"""Cluster failures in one line (``toolkit/failures.py``); on real clusters in
``tests/batch/test_faults.py`` and ``tests/stream/test_counting.py``."""

from __future__ import annotations

from types import SimpleNamespace

from distributed import KilledWorker
from distributed.client import FutureCancelledError

from toolkit.errors import ClusterError, JobError
from toolkit.failures import blamed_keys, explain

WORKER = SimpleNamespace(address="tcp://127.0.0.1:1")


def test_a_worker_that_kept_dying_is_a_job_error_naming_the_task() -> None:
    error = explain(KilledWorker(("stream-batch-1f", 0), WORKER, 2))
    assert isinstance(error, JobError)
    assert str(error) == (
        "task 'stream-batch-1f': the worker died on each of 3 attempts (out of memory, "
        "or a crash in native code); see the worker logs"
    )


def test_the_job_words_what_its_tasks_did() -> None:
    seen = []

    def killed(died: str, keys: list) -> str:
        seen.append(keys)
        return f"{died} while it ran partition {keys[0][1]}"

    error = explain(KilledWorker(("map", 7), WORKER, 0), keys=[("map", 7)], killed=killed)
    assert str(error) == "the worker died on each of 1 attempts while it ran partition 7"
    assert seen == [[("map", 7)]]


def test_without_a_client_only_the_named_task_is_blamed() -> None:
    assert blamed_keys(None, KilledWorker("t", WORKER, 1)) == ["t"]
    assert blamed_keys(None, ValueError("x")) == []


def test_a_lost_scheduler_is_a_cluster_error_with_its_address() -> None:
    client = SimpleNamespace(status="closed", scheduler=SimpleNamespace(address="tcp://h:8786"))
    lost = FutureCancelledError("k", reason="scheduler-connection-lost")
    error = explain(lost, client, unfinished="nothing was written")
    assert isinstance(error, ClusterError)
    assert str(error) == (
        "lost the connection to the Dask scheduler at 'tcp://h:8786' during the job; "
        "nothing was written"
    )


def test_a_task_cancelled_on_a_live_cluster_is_not_a_lost_scheduler() -> None:
    client = SimpleNamespace(status="running", scheduler=SimpleNamespace(address="tcp://h:1"))
    assert explain(FutureCancelledError("k", reason="user"), client) is None
    assert explain(ValueError("mine")) is None
