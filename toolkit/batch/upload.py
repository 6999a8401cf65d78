"""Uploading: the client reads its input and streams it to the workers, for clusters without a
filesystem in common with the client.

The client reads the plan's blocks itself (:func:`upload_tasks`): a block of
an uncompressed file as the whole lines it covers; a compressed file (or a
small one) decompressed and cut after a newline into pieces of about the block
size; a Parquet file, or a file in an encoding whose newline is not the byte
``\\n``, whole, as stored.  Each map task carries its blocks' bytes
(:attr:`~toolkit.batch.inputs.Block.data`) and runs the job's usual map, so the
result is the same as from files on a shared filesystem.

Memory stays bounded: :func:`run_uploaded` keeps at most two tasks per worker
thread in flight and reads the next piece only when one finishes, and every
finished partial is merged on the client and released.  A piece's bytes stay in
its task until it is done, so a worker that dies mid-task has it rerun
elsewhere.  The price: the client reads every byte and sends it once, and the
merge is the client's (fine for the small and medium jobs this is for).
"""

from __future__ import annotations

import contextlib
import itertools
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from toolkit.batch.engine import NO_WORKERS, Partial, map_block
from toolkit.batch.inputs import Block, InputStats
from toolkit.batch.inputs.plan import newline_is_byte
from toolkit.batch.inputs.read import _after_newline, _byte_pieces, _open_bytes
from toolkit.batch.job import Job
from toolkit.errors import InputError
from toolkit.failures import DEFAULT_WORKER_TIMEOUT, WAIT_STEP, WorkerWatch
from toolkit.sharing import batch_resources

__all__ = ["Piece", "run_uploaded", "upload_tasks"]


@dataclass
class Piece:
    """One map task of uploaded blocks: each with the job that folds it (a CSV file's header
    read on the client), and the files it holds (a skipped file's pieces are dropped)."""

    pairs: list[tuple[Job, Block]] = field(default_factory=list)
    files: set[str] = field(default_factory=set)
    size: int = 0

    def add(self, job: Job, block: Block) -> None:
        self.pairs.append((job, block))
        self.files.add(block.file.path)
        self.size += len(block.data or b"")


def upload_tasks(
    job: Job,
    tasks: list[list[Block]],
    *,
    encoding: str,
    blocksize: int,
    skip_bad: bool = False,
    skipped: list[tuple[str, str]] | None = None,
) -> Iterator[Piece]:
    """The plan's blocks read on the client, packed into map tasks of about ``blocksize``.

    A file that cannot be read raises :class:`InputError`; with ``skip_bad``
    it is listed in ``skipped`` instead, and a task never holds more than one
    file, so that its pieces can be dropped with it.
    """
    piece = Piece()
    for block in (b for task in tasks for b in task):
        try:
            for uploaded in _read_block(job, block, encoding, blocksize):
                if piece.pairs and (
                    piece.size + len(uploaded.data or b"") > blocksize
                    or (skip_bad and uploaded.file.path not in piece.files)
                ):
                    yield piece
                    piece = Piece()
                piece.add(_job_for(job, block, uploaded, encoding), uploaded)
        except FileNotFoundError as exc:
            raise InputError(f"{block.file.path}: file disappeared before it was read") from exc
        except (OSError, EOFError) as exc:
            if not skip_bad or skipped is None:
                raise InputError(f"{block.file.path}: cannot read: {exc}") from exc
            skipped.append((block.file.path, str(InputError(f"cannot read: {exc}"))))
            piece = Piece() if block.file.path in piece.files else piece
    if piece.pairs:
        yield piece


def _read_block(job: Job, block: Block, encoding: str, blocksize: int) -> Iterator[Block]:
    file = block.file
    if job.reads_files or not newline_is_byte(encoding):  # the whole file, as stored
        with _open_stored(file) as f:
            yield replace(block, data=f.read())
        return
    with _open_bytes(file) as f:
        if block.length is not None:  # a block of an uncompressed file: its lines
            start = _after_newline(f, block.offset) if block.offset else 0
            end = _after_newline(f, block.offset + block.length)
            f.seek(start)
            data = _read_exactly(f, end - start)
            yield Block(file, start, len(data), data)
            return
        # a whole (compressed or small) file: its lines in pieces of about blocksize
        size = max(1, min(blocksize, file.size + 1)) if not file.compression else blocksize
        plain = replace(file, compression=None)  # the piece's bytes are decompressed
        empty = True
        for offset, view in _byte_pieces(f, 0, None, size, blocksize, job.splits_long_lines):
            empty = False
            yield Block(plain, offset, len(view), bytes(view))
        if empty:
            yield Block(plain, 0, 0, b"")


def _read_exactly(f: Any, n: int) -> bytes:
    parts, left = [], n
    while left > 0:
        got = f.read(min(left, 2**24))
        if not got:
            break
        parts.append(got)
        left -= len(got)
    return b"".join(parts)


def _open_stored(file: Any) -> Any:
    import fsspec

    return fsspec.open(file.path, "rb", **dict(file.storage_options))


def _job_for(job: Job, block: Block, uploaded: Block, encoding: str) -> Job:
    """The job for an uploaded block, prepared on the client, which can read the file."""
    return job.for_block(Block(block.file, uploaded.offset, block.length), encoding)


# -- running ----------------------------------------------------------------------------


def map_uploaded(pairs: list[tuple[Job, Block]], read: Any) -> Any:
    """The map task of uploaded blocks (on a worker): the engine's map, block by block."""
    job = pairs[0][0]
    acc, stats = job.empty(), InputStats()
    for block_job, block in pairs:
        part = map_block(block_job, [block], read)
        acc = job.merge(acc, part.data)
        stats = stats + part.stats
    return Partial(job.seal(acc), stats)


def run_uploaded(
    client: Any,
    job: Job,
    tasks: list[list[Block]],
    *,
    read: Any,
    blocksize: int,
    progress: bool = False,
    worker_timeout: float = DEFAULT_WORKER_TIMEOUT,
) -> tuple[Any, InputStats]:
    """Run ``job`` over ``tasks`` read here and sent to the workers; its finished result.

    Ctrl-C or an error cancels what is in flight; a cluster without any worker for
    ``worker_timeout`` seconds stops the job.
    """
    from distributed import wait

    resources = batch_resources(client)
    threads = sum(client.nthreads().values()) or 1
    window = 2 * threads
    skipped: list[tuple[str, str]] = []
    pieces = upload_tasks(
        job,
        tasks,
        encoding=read.encoding,
        blocksize=blocksize,
        skip_bad=read.skip_bad_files,
        skipped=skipped,
    )
    token = uuid.uuid4().hex
    counter = itertools.count()
    files_of: dict[Any, set[str]] = {}
    stored = [b.file for task in tasks for b in task]
    total = None if any(f.compression for f in stored) else sum(f.size for f in stored)
    sent = 0

    def submit(piece: Piece) -> Any:
        nonlocal sent
        key = f"{job.name}-upload-map-{token}-{next(counter)}"
        future = client.submit(
            map_uploaded, piece.pairs, read, key=key, pure=False, resources=resources
        )
        files_of[future] = piece.files
        sent += piece.size
        return future

    acc, stats = job.empty(), InputStats()
    held: list[tuple[set[str], Any, InputStats]] = []  # with skip_bad: kept until files end
    running = {submit(p) for p in itertools.islice(pieces, window)}
    watch = WorkerWatch(client, worker_timeout, "the job", NO_WORKERS)
    try:
        while running:
            try:
                with client.as_current():  # wait() finds the client as the current one
                    done = wait(running, timeout=WAIT_STEP, return_when="FIRST_COMPLETED").done
            except TimeoutError:
                watch.check()
                continue
            for future in done:
                running.discard(future)
                part = future.result()
                files = files_of.pop(future)
                future.release()
                if read.skip_bad_files:
                    held.append((files, part.data, part.stats))
                else:
                    acc, stats = job.merge(acc, part.data), stats + part.stats
                nxt = next(pieces, None)
                if nxt is not None:
                    running.add(submit(nxt))
            if progress:
                _show(sent, total)
        bad = {path for path, _ in skipped}
        for files, data, part_stats in held:
            if not files & bad:
                acc, stats = job.merge(acc, data), stats + part_stats
    except BaseException:
        with contextlib.suppress(Exception):
            client.cancel(list(files_of), force=True)
        raise
    finally:
        if progress:
            print(file=sys.stderr)
    stats = stats + InputStats(skipped=tuple(skipped))
    return job.finish(job.seal(acc)), stats


def _show(sent: int, total: int | None) -> None:
    """One progress line on stderr (a share only when the total is known: no compressed files)."""
    done = f"uploaded {sent / 2**20:,.1f} MiB"
    if total is not None:
        share = min(1.0, sent / total) if total else 1.0
        done = f"[{'#' * int(40 * share):<40}] | {share:4.0%} | {done}"
    print(f"\r{done}", end="", file=sys.stderr)
