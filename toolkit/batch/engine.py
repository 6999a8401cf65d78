"""The MapReduce engine: a foldby-shaped dask graph over blocks of input.

Map tasks fold each block into one compact partial (map-side combine).  With
``split_out > 1`` each partial is cut into hash buckets.  Partials of a bucket
merge in a tree of fan-in ``split_every``; each bucket's last merge also
finishes it into a pandas object on the worker.  This is exactly the shape of
``dask.bag.Bag.foldby``; the graph is built here rather than by ``foldby``
because foldby's partials are plain dicts, which dask.distributed serialises
element by element (150,000 keys: 4.8 s between two workers, against 0.07 s for
one pickled object; see ``benchmarks/README.md``).  Task names carry the job's
name (``wordcount-map``, ``wordcount-combine``, ``wordcount-reduce``) so the
dashboard shows them.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import dask
from dask.delayed import Delayed
from dask.highlevelgraph import HighLevelGraph

from toolkit.batch.inputs import (
    Block,
    InputStats,
    check_visible,
    decode_chunk,
    is_utf8,
    read_byte_chunks,
    read_text_chunks,
)
from toolkit.batch.job import Job
from toolkit.batch.journal import Journal, load_partial, save_partial
from toolkit.batch.progress import local_progress, progress_bar
from toolkit.cluster import Scheduler, using_scheduler
from toolkit.errors import ConfigError, DecodeError, InputError, JobError
from toolkit.failures import (
    DEFAULT_WORKER_TIMEOUT,
    WAIT_STEP,
    WorkerWatch,
    blamed_keys,
    explain,
)
from toolkit.sharing import batch_resources, yielding_cpu

__all__ = ["Partial", "run_job"]

NO_WORKERS = "the job stopped and nothing was written"


@dataclass
class Partial:
    """A task's result: one accumulator and the input figures behind it.

    Being a class instance, it is pickled in one piece between processes.
    """

    data: Any
    stats: InputStats = field(default_factory=InputStats)


@dataclass
class Finished:
    """One bucket's finished result, as it reaches the client."""

    result: Any
    stats: InputStats


@dataclass(frozen=True)
class ReadOptions:
    """How blocks become text; checked on the client before the graph is built."""

    encoding: str = "utf-8"
    errors: str = "strict"
    skip_bad_files: bool = False  # unreadable or corrupt files: skip and report, or fail


# -- the task functions -----------------------------------------------------------------


def map_block(job: Job, blocks: list[Block], read: ReadOptions) -> Partial:
    """The map task of one partition: fold every block's text into one accumulator.

    When a bad file may be skipped, each block is folded apart first and merged
    only once it was read whole (a skipped block's counts are dropped with it).
    """
    with yielding_cpu():
        return _map_blocks(job, blocks, read)


def _map_blocks(job: Job, blocks: list[Block], read: ReadOptions) -> Partial:
    acc, stats = job.empty(), InputStats()
    for block in blocks:
        if read.skip_bad_files:
            part, block_stats = _map_one(job, block, read, job.empty())
            if part is not None:
                acc = job.merge(acc, part)
        else:
            _, block_stats = _map_one(job, block, read, acc)
        stats = stats + block_stats
    return Partial(job.seal(acc), stats)


def _map_one(job: Job, block: Block, read: ReadOptions, acc: Any) -> tuple[Any, InputStats]:
    """Fold one block into ``acc``; return it (None if the block was skipped) and its stats."""
    stats = InputStats()
    split_long_lines = job.splits_long_lines
    try:
        if block.data is None:  # an uploaded block's job was made on the client
            job = job.for_block(block, read.encoding)
        if job.reads_files:
            stats.bytes, stats.lines = job.consume_file(acc, block)
        elif job.reads_bytes and is_utf8(read.encoding):
            # the job takes UTF-8 bytes as they are read; text only for a piece it refuses
            for offset, piece in read_byte_chunks(
                block, stats=stats, split_long_lines=split_long_lines
            ):
                done = job.consume_bytes(acc, piece)
                if done < len(piece):  # not UTF-8 from there: decode it by the errors policy
                    text = decode_chunk(
                        block,
                        offset + done,
                        piece[done:],
                        encoding="utf-8",
                        errors=read.errors,
                        stats=stats,
                    )
                    job.consume(acc, text)
        else:
            for text in read_text_chunks(
                block,
                encoding=read.encoding,
                errors=read.errors,
                stats=stats,
                split_long_lines=split_long_lines,
            ):
                job.consume(acc, text)
    except JobError as exc:
        raise JobError(f"{block.file.path} (block at byte {block.offset}): {exc}") from None
    except InputError as exc:
        if not read.skip_bad_files or isinstance(exc, DecodeError):
            raise
        where = "" if block.length is None else f" (bytes {block.offset} on)"
        # nothing of a bad block is counted: its partial counts are dropped with it
        return None, InputStats(skipped=((block.file.path + where, str(exc)),))
    stats.files = 1 if block.offset == 0 else 0  # a file counts as read with its first block
    return acc, stats


def split_partial(job: Job, part: Partial, n: int) -> list[Partial]:
    """Cut a partial into ``n`` buckets by the job's :meth:`~toolkit.batch.job.Job.split`
    (stats go to bucket 0)."""
    buckets = job.split(part.data, n)
    out = [Partial(b, InputStats()) for b in buckets]
    out[0].stats = part.stats
    return out


def pick(parts: list[Partial], i: int) -> Partial:
    return parts[i]


def combine(job: Job, parts: list[Partial]) -> Partial:
    with yielding_cpu():
        return _combine(job, parts)


def _combine(job: Job, parts: list[Partial]) -> Partial:
    # merge into the largest partial: fewer keys to move
    parts = sorted(parts, key=lambda p: len(p.data), reverse=True)
    acc, stats = parts[0].data, parts[0].stats
    for p in parts[1:]:
        acc = job.merge(acc, p.data)
        stats = stats + p.stats
    return Partial(job.seal(acc), stats)


def combine_and_finish(job: Job, parts: list[Partial]) -> Finished:
    with yielding_cpu():
        merged = _combine(job, parts)
        return Finished(job.finish(merged.data), merged.stats)


# -- graph and execution -----------------------------------------------------------------


def build_graph(
    job: Job,
    blocks: list[list[Block]],
    read: ReadOptions,
    *,
    split_out: int = 1,
    split_every: int = 8,
    journal: Journal | None = None,
) -> list[Delayed]:
    """The job's graph, as one Delayed per output bucket.

    With a journal, blocks already in it are loaded instead of read, and every
    other block's partial is committed to it as soon as it is computed.
    """
    token = uuid.uuid4().hex
    map_name = f"{job.name}-map-{token}"
    dsk: dict[Any, Any] = {}
    done = journal.done() if journal is not None else set()
    for i, block in enumerate(blocks):
        if journal is None:
            dsk[(map_name, i)] = (map_block, job, block, read)
        elif i in done:
            dsk[(map_name, i)] = (load_partial, journal.path(i))
        else:
            dsk[(map_name, i)] = (save_partial, journal.path(i), (map_block, job, block, read))
    leaves: list[list[Any]]
    if split_out == 1:
        leaves = [[(map_name, i) for i in range(len(blocks))]]
    else:
        split_name = f"{job.name}-split-{token}"
        pick_name = f"{job.name}-bucket-{token}"
        leaves = [[] for _ in range(split_out)]
        for i in range(len(blocks)):
            dsk[(split_name, i)] = (split_partial, job, (map_name, i), split_out)
            for j in range(split_out):
                dsk[(pick_name, i, j)] = (pick, (split_name, i), j)
                leaves[j].append((pick_name, i, j))
    combine_name = f"{job.name}-combine-{token}"  # the merge tree
    final_name = f"{job.name}-reduce-{token}"  # each bucket's last merge and finish
    outputs = []
    for j, keys in enumerate(leaves):
        depth = 0
        while len(keys) > split_every:
            next_keys = []
            for g in range(0, len(keys), split_every):
                key = (combine_name, depth, j, g // split_every)
                dsk[key] = (combine, job, keys[g : g + split_every])
                next_keys.append(key)
            keys = next_keys
            depth += 1
        dsk[(final_name, j)] = (combine_and_finish, job, keys)
        outputs.append((final_name, j))
    graph = HighLevelGraph.from_collections(final_name, dsk, dependencies=[])
    return [Delayed(key, graph, layer=final_name) for key in outputs]


def run_job(
    job: Job,
    blocks: list[list[Block]],
    *,
    read: ReadOptions,
    scheduler: Scheduler = None,
    split_out: int = 1,
    split_every: int = 8,
    progress: bool = False,
    journal: Journal | None = None,
    worker_timeout: float = DEFAULT_WORKER_TIMEOUT,
) -> tuple[list[Any], InputStats]:
    """Run ``job`` over ``blocks``; return each bucket's result and the summed input stats.

    Ctrl-C cancels the job's tasks on the cluster before ``KeyboardInterrupt`` propagates;
    a cluster left without any worker for ``worker_timeout`` seconds stops the job
    (:class:`~toolkit.errors.ClusterError`).
    """
    if not isinstance(split_out, int) or split_out < 1:
        raise ConfigError(f"split_out must be a positive int; got {split_out!r}")
    if not isinstance(split_every, int) or split_every < 2:
        raise ConfigError(f"split_every must be an int of at least 2; got {split_every!r}")
    outputs = build_graph(
        job, blocks, read, split_out=split_out, split_every=split_every, journal=journal
    )
    with using_scheduler(scheduler) as (client, local):
        if client is not None:
            finished = _run_distributed(client, outputs, progress, blocks, worker_timeout)
        else:
            with local_progress(progress):
                finished = list(dask.compute(*outputs, scheduler=_local_get(local)))
    stats = InputStats()
    for f in finished:
        stats = stats + f.stats
    return [f.result for f in finished], stats


def _local_get(name: str | None) -> Any:
    """dask's local scheduler by name, as the function itself: a name makes dask import
    distributed to look for a client first (0.2 s of a small job that needs none)."""
    if name in ("threads", "threading"):
        from dask.threaded import get

        return get
    from dask.local import get_sync

    return get_sync


def _run_distributed(
    client: Any,
    outputs: list[Delayed],
    progress: bool,
    blocks: list[list[Block]],
    worker_timeout: float,
) -> list[Any]:
    files = list({b.file: None for partition in blocks for b in partition})
    check_visible(client, files)
    futures = client.compute(outputs, resources=batch_resources(client))
    try:
        # the progress bar and wait() find the client as the current one
        with client.as_current(), progress_bar(client, futures, progress):
            # wait first: an interrupt during client.gather leaves its inner tasks unretrieved
            wait_watching(client, futures, worker_timeout)
        return list(client.gather(futures))
    except BaseException as exc:
        suspects = blamed_keys(client, exc)  # before the cancel makes the scheduler forget
        with contextlib.suppress(Exception):
            client.cancel(futures, force=True)
        explained = _explain_cluster_failure(exc, client, blocks, suspects)
        if explained is not None:
            raise explained from None
        raise


def wait_watching(client: Any, futures: list[Any], worker_timeout: float) -> None:
    """Wait for ``futures``, in steps; stop the job if the cluster stays without a worker."""
    from distributed import wait

    watch = WorkerWatch(client, worker_timeout, "the job", NO_WORKERS)
    while True:
        try:
            wait(futures, timeout=WAIT_STEP)
            return
        except TimeoutError:
            watch.check()


def _explain_cluster_failure(
    exc: BaseException, client: Any, blocks: list[list[Block]], suspects: list[Any]
) -> Exception | None:
    """One clear error for the ways a cluster can fail a batch job, or None to re-raise it."""

    def killed(died: str, keys: list[Any]) -> str:
        if all(
            isinstance(k, tuple) and "-map-" in str(k[0]) and isinstance(k[1], int) for k in keys
        ):
            where = " or ".join(_describe_partition(blocks, k[1]) for k in keys)
            return (
                f"{died} while it ran {where} (out of memory, or a crash in native code); "
                "the job stopped"
            )
        name = str(keys[0][0]) if isinstance(keys[0], tuple) else str(keys[0])
        return (
            f"task {name!r}: {died} while merging partial results (out of memory?); "
            "try more --split-out or a larger --memory-limit"
        )

    return explain(
        exc,
        client,
        keys=suspects,
        killed=killed,
        unfinished="the job did not finish and nothing was written",
    )


def _describe_partition(blocks: list[list[Block]], index: int) -> str:
    partition = blocks[index]
    block = partition[0]
    span = "" if block.length is None else f" bytes {block.offset} to {block.offset + block.length}"
    more = f" and {len(partition) - 1} more files" if len(partition) > 1 else ""
    return f"partition {index} ({block.file.path}{span}{more})"


def check_callable(value: object, what: str) -> Callable[..., Any]:
    """Check on the client that ``value`` is callable and can be shipped to workers."""
    import cloudpickle

    if not callable(value):
        raise ConfigError(f"{what} must be callable; got {value!r}")
    try:
        cloudpickle.dumps(value)
    except Exception as exc:
        raise ConfigError(f"{what} {value!r} cannot be pickled to send to workers: {exc}") from exc
    return value
