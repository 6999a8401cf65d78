"""Batch as plan, then run: a job's inputs and options checked and cut into tasks, then run.

:func:`plan_job` does on the client, once, everything that can fail before a
cluster is needed (options, paths, encodings, block planning); :func:`run_planned`
runs a job over the plan, with a journal if asked.  ``word_count`` and
``map_reduce`` are these two calls around their own job.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from toolkit.batch.engine import ReadOptions, run_job
from toolkit.batch.inputs import (
    DEFAULT_BLOCKSIZE,
    ERRORS_POLICIES,
    Block,
    Inputs,
    InputStats,
    pack_blocks,
    plan_blocks,
    resolve_inputs,
)
from toolkit.batch.job import Job
from toolkit.batch.journal import Journal, job_signature
from toolkit.batch.upload import run_uploaded
from toolkit.cluster import Scheduler, using_scheduler
from toolkit.errors import ConfigError, OptionError
from toolkit.failures import DEFAULT_WORKER_TIMEOUT
from toolkit.units import parse_size

__all__ = ["Plan", "plan_job", "run_planned"]


@dataclass(frozen=True)
class Plan:
    """What a batch job reads, in which map tasks (each a list of blocks), and how."""

    tasks: list[list[Block]]
    read: ReadOptions
    blocksize: int = DEFAULT_BLOCKSIZE


def plan_job(
    inputs: Inputs,
    *,
    blocksize: int | str = DEFAULT_BLOCKSIZE,
    encoding: str = "utf-8",
    errors: str = "strict",
    skip_bad_files: bool = False,
    storage_options: dict[str, Any] | None = None,
    whole_files: bool = False,
) -> Plan:
    """Check the reading options and resolve and cut the inputs into map tasks.

    ``whole_files``: a block is a whole file (for files that are not lines, like Parquet).

    Raises
    ------
    ConfigError, InputError

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> _ = path.write_text("one line\\n" * 30)
    >>> plan = plan_job(path, blocksize=100)
    >>> [[(b.offset, b.length) for b in task] for task in plan.tasks]
    [[(0, 100)], [(100, 100)], [(200, 70)]]
    """
    if errors not in ERRORS_POLICIES:
        raise ConfigError(f"errors must be one of {', '.join(ERRORS_POLICIES)}; got {errors!r}")
    size = parse_size(blocksize)
    files = resolve_inputs(inputs, storage_options=storage_options)
    blocks = (
        [Block(f, 0, None) for f in files]
        if whole_files
        else plan_blocks(files, blocksize=size, encoding=encoding)
    )
    tasks = pack_blocks(blocks, blocksize=size)
    return Plan(tasks, ReadOptions(encoding, errors, skip_bad_files), size)


def run_planned(
    job: Job,
    plan: Plan,
    *,
    scheduler: Scheduler = None,
    split_out: int = 1,
    split_every: int = 8,
    progress: bool = False,
    journal: str | os.PathLike[str] | None = None,
    upload: bool = False,
    worker_timeout: float = DEFAULT_WORKER_TIMEOUT,
) -> tuple[list[Any], InputStats]:
    """Run ``job`` over ``plan``; each bucket's result, and what was read.

    With ``journal``, finished partials are kept there and reused by a re-run
    of the same job (see :mod:`toolkit.batch.journal`); it is removed when the
    job finishes.  With ``upload``, the client reads the input and sends it to
    the workers (see :mod:`toolkit.batch.upload`).  A cluster left without any
    worker for ``worker_timeout`` seconds stops the job.
    """
    if upload and journal:
        raise OptionError(
            "{journal} and {upload} do not go together: the journal is kept where the "
            "workers write, which an upload assumes they do not share with the client"
        )
    with using_scheduler(scheduler) as (client, _):
        if upload and client is not None:  # dask's local schedulers read here anyway
            result, stats = run_uploaded(
                client, job, plan.tasks, read=plan.read, blocksize=plan.blocksize,
                progress=progress, worker_timeout=worker_timeout,
            )  # fmt: skip
            return [result], stats
    log = Journal.open(journal, job_signature(job, plan.tasks, plan.read)) if journal else None
    buckets, stats = run_job(
        job,
        plan.tasks,
        read=plan.read,
        journal=log,
        scheduler=scheduler,
        split_out=split_out,
        split_every=split_every,
        progress=progress,
        worker_timeout=worker_timeout,
    )
    if log is not None:
        log.remove()  # the job finished: nothing left to resume
    return buckets, stats
