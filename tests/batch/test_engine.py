"""The engine and the Job contract (``toolkit/batch/engine.py``, ``toolkit/batch/job.py``).

A job written against the base class alone (:class:`tests.user_functions.LineLengths`: a
dict accumulator, no split or seal of its own) runs on every backend, with one
bucket and with several, and gives the plain single-process answer.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import read_reference_text
from tests.user_functions import LineLengths, lines_plain
from toolkit.batch.engine import run_job
from toolkit.batch.job import Job, stable_hash
from toolkit.batch.plan import plan_job
from toolkit.errors import ConfigError


@pytest.mark.parametrize("split_out", [1, 3])
def test_a_job_of_the_base_class_runs_on_every_backend(
    scheduler: object, messy_corpus: list[Path], split_out: int
) -> None:
    plan = plan_job(messy_corpus, blocksize="8KiB")
    buckets, stats = run_job(
        LineLengths(), plan.tasks, read=plan.read, scheduler=scheduler, split_out=split_out
    )
    assert len(buckets) == split_out
    keys = [set(b) for b in buckets]
    assert sum(len(k) for k in keys) == len(set().union(*keys))  # buckets hold disjoint keys
    expected: Counter[int] = Counter()
    for path in messy_corpus:
        text = read_reference_text(path)
        expected.update(len(line) for line in lines_plain(text))
    assert sum(buckets, Counter()) == expected
    assert stats.lines == sum(expected.values())


def test_a_job_must_say_how_to_start_fold_merge_and_finish() -> None:
    class Half(Job):
        def empty(self) -> dict[str, int]:
            return {}

    with pytest.raises(TypeError, match="abstract"):
        Half()  # type: ignore[abstract]


def test_the_default_split_is_by_stable_hash_and_keeps_every_key() -> None:
    acc = {f"k{i}": i for i in range(100)}
    buckets = LineLengths().split(acc, 4)
    assert sorted(k for b in buckets for k in b) == sorted(acc)
    assert all(stable_hash(k) % 4 == i for i, b in enumerate(buckets) for k in b)
    assert LineLengths().seal(acc) is acc  # the default seal leaves it as it is


@pytest.mark.parametrize("key", ["word", "", "ü", 7, 7.0, True, (1, "a"), b"raw", None, 2.5])
def test_stable_hash_is_the_same_in_another_process(key: Any) -> None:
    import subprocess
    import sys

    code = f"from toolkit.batch.job import stable_hash; print(stable_hash({key!r}))"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert int(other.stdout) == stable_hash(key)


def test_bad_split_options_fail_before_any_work(messy_corpus: list[Path]) -> None:
    plan = plan_job(messy_corpus)
    for split_out, split_every, message in [(0, 8, "split_out"), (1, 1, "split_every")]:
        with pytest.raises(ConfigError, match=message):
            run_job(
                LineLengths(),
                plan.tasks,
                read=plan.read,
                scheduler="sync",
                split_out=split_out,
                split_every=split_every,
            )
