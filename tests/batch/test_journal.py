"""The job journal (``toolkit/batch/journal.py``): what it signs, what it refuses, what it keeps."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from toolkit.batch.engine import Partial
from toolkit.batch.journal import Journal, job_signature, load_partial, save_partial
from toolkit.batch.mapreduce import UserJob
from toolkit.batch.plan import plan_job
from toolkit.batch.wordcount import WordCountJob
from toolkit.errors import ConfigError


def _signature(path: Path, job: object = None, **read: object) -> str:
    plan = plan_job(path, **read)  # type: ignore[arg-type]
    return job_signature(job or WordCountJob(), plan.tasks, plan.read)


def test_the_signature_changes_with_what_decides_the_partials(tmp_path: Path) -> None:
    path = tmp_path / "in.txt"
    path.write_text("a b c\n" * 100)
    first = _signature(path)
    assert _signature(path) == first  # the same job, the same inputs
    assert _signature(path, WordCountJob(min_length=2)) != first  # the job's options
    assert _signature(path, blocksize=100) != first  # the blocks
    assert _signature(path, errors="replace") != first  # the reading options
    assert _signature(path, UserJob(len, max)) != _signature(path, UserJob(len, min))
    path.write_text("a b c\n" * 101)  # the input itself
    assert _signature(path) != first


def test_a_journal_refuses_another_jobs_directory(tmp_path: Path) -> None:
    Journal.open(tmp_path / "j", "one")
    assert Journal.open(tmp_path / "j", "one").done() == set()
    with pytest.raises(ConfigError, match="is the journal of a different job"):
        Journal.open(tmp_path / "j", "two")


def test_partials_round_trip_and_mark_their_blocks_done(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "j", "sig")
    partial = Partial(Counter(a=2, b=1))
    assert save_partial(journal.path(3), partial) is partial
    assert journal.done() == {3}
    assert load_partial(journal.path(3)) == partial
    assert sorted(p.name for p in (tmp_path / "j").iterdir() if p.name.startswith(".")) == []
    journal.remove()
    assert not (tmp_path / "j").exists() and journal.done() == set()
