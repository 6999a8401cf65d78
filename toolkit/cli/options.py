"""Options shared by commands: sizes, reading, and how to reach the cluster."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from typing import Any

import click

from toolkit.errors import ConfigError
from toolkit.units import parse_duration, parse_size

DEFAULT_DASHBOARD = "127.0.0.1:0"


def _parsed(parse: Callable[[str], Any]) -> Callable[[click.Context, click.Parameter, Any], Any]:
    """A click callback that parses a value (a size, a duration) into a usage error if bad."""

    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        if value is None:
            return None
        try:
            return parse(value)
        except ConfigError as exc:
            raise click.BadParameter(str(exc)) from None

    return callback


def cluster_options(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option(
            "--scheduler",
            metavar="ADDRESS",
            help="Dask scheduler to use (tcp://host:8786, tls://...); "
            "'sync' or 'threads' run without a cluster. "
            "Default: DASK_SCHEDULER_ADDRESS, else an embedded cluster.",
        ),
        click.option(
            "--scheduler-file",
            type=click.Path(dir_okay=False),
            help="Scheduler file written by 'dask scheduler --scheduler-file'.",
        ),
        click.option(
            "--workers",
            type=click.IntRange(min=1),
            help="Worker processes of the embedded cluster [default: one per core].",
        ),
        click.option(
            "--processes/--threads",
            "processes",
            default=None,
            help="The embedded cluster's workers: processes, or one worker of threads in this "
            "process (--workers of them) [default: threads for wordcount, whose compiled "
            "kernel runs without Python's lock; processes for user jobs].",
        ),
        click.option(
            "--threads-per-worker",
            type=click.IntRange(min=1),
            default=1,
            show_default=True,
            help="Threads per embedded worker.",
        ),
        click.option(
            "--memory-limit",
            default="auto",
            show_default=True,
            help="Memory limit per embedded worker (e.g. 2GiB).",
        ),
        click.option(
            "--dashboard-address",
            default=DEFAULT_DASHBOARD,
            show_default=True,
            help="Where the embedded cluster's dashboard listens ('' turns it off).",
        ),
        click.option(
            "--connect-timeout",
            type=click.FloatRange(min=0.1),
            default=10.0,
            show_default=True,
            help="Seconds to wait for the scheduler.",
        ),
        click.option(
            "--worker-timeout",
            metavar="DURATION",
            callback=_parsed(parse_duration),
            default="60s",
            show_default=True,
            help="How long to wait while the cluster has no worker, then stop with an error.",
        ),
        click.option("--tls-ca-file", type=click.Path(dir_okay=False), help="TLS CA certificate."),
        click.option("--tls-cert", type=click.Path(dir_okay=False), help="TLS client certificate."),
        click.option("--tls-key", type=click.Path(dir_okay=False), help="TLS client key."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def read_options(
    func: Callable[..., Any] | None = None, *, blocksize: str = "32MiB"
) -> Callable[..., Any]:
    """The options of reading inputs; ``blocksize``: the default bytes per map task."""
    if func is None:
        return lambda f: read_options(f, blocksize=blocksize)
    options = [
        click.option(
            "--blocksize",
            callback=_parsed(parse_size),
            default=blocksize,
            show_default=True,
            help="Bytes per map task, e.g. 64MiB, 512KiB, 1GB.",
        ),
        click.option("--encoding", default="utf-8", show_default=True, help="Text encoding."),
        click.option(
            "--errors",
            type=click.Choice(["strict", "replace", "ignore"]),
            default="strict",
            show_default=True,
            help="Undecodable bytes: fail (naming file and offset), or replace/ignore "
            "them and report how many.",
        ),
        click.option(
            "--split-out",
            type=click.IntRange(min=1),
            default=1,
            show_default=True,
            help="Final merge in this many hash buckets (for millions of keys).",
        ),
        click.option(
            "--skip-bad-files",
            is_flag=True,
            help="Skip unreadable or corrupt files (a truncated .gz, say) and list them with "
            "the reason, instead of failing; none of their counts are kept.",
        ),
        click.option(
            "--upload",
            is_flag=True,
            help="Read the inputs here and send them to the workers, a few blocks at a time: "
            "for a cluster that does not share this machine's filesystem.",
        ),
        click.option(
            "--resume",
            is_flag=True,
            help="Keep a journal of finished partitions beside --output (OUTPUT.journal/); "
            "after a crash, the same command with --resume redoes only the rest.",
        ),
        click.option(
            "--progress/--no-progress",
            default=None,
            help="Progress bar on stderr [default: when stderr is a terminal].",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _embedded_by_default(opts: dict[str, Any]) -> bool:
    """Whether nothing asks for a cluster: no address, file or configured one, and none of
    the embedded cluster's own options (--workers, --processes/--threads, a memory limit,
    threads per worker, a dashboard address) set."""
    from toolkit.cluster import configured_address

    asked = opts["scheduler"], opts["scheduler_file"], opts["workers"], configured_address()
    return (
        all(a is None for a in asked)
        and opts.get("processes") is None
        and opts.get("memory_limit", "auto") == "auto"
        and opts.get("threads_per_worker", 1) == 1
        and opts.get("dashboard_address", DEFAULT_DASHBOARD) == DEFAULT_DASHBOARD
    )


def _connect(opts: dict[str, Any], *, threads: bool = False) -> Any:
    from toolkit.cluster import LOCAL_SCHEDULERS, connect

    address = opts["scheduler"]
    if address in LOCAL_SCHEDULERS:
        return address
    processes = not threads if opts.get("processes") is None else opts["processes"]
    workers, per_worker = opts["workers"], opts["threads_per_worker"]
    if not processes:  # one worker in this process, a thread for each worker asked
        workers, per_worker = 1, (workers or os.cpu_count() or 1) * per_worker
    conn = connect(
        address,
        scheduler_file=opts["scheduler_file"],
        tls_ca_file=opts["tls_ca_file"],
        tls_cert=opts["tls_cert"],
        tls_key=opts["tls_key"],
        n_workers=workers,
        threads_per_worker=per_worker,
        processes=processes,
        memory_limit=None
        if opts["memory_limit"] in ("0", "none", "None")
        else opts["memory_limit"],
        dashboard_address=opts["dashboard_address"] or None,
        timeout=opts["connect_timeout"],
    )
    if conn.cluster is None:  # a cluster of someone else's: it may have no worker yet
        _wait_for_a_worker(conn, opts["worker_timeout"])
    return conn


def _wait_for_a_worker(conn: Any, timeout: float) -> None:
    """Say so at once when the cluster has no worker; fail in one line after ``timeout``."""
    from toolkit.errors import ClusterError

    if conn.client.nthreads():
        return
    address = conn.address
    click.echo(
        f"toolkit: waiting for workers on {address} (up to {timeout:g} s; start one with "
        f"'dask worker {address}')",
        err=True,
    )
    try:
        conn.client.wait_for_workers(1, timeout=timeout)
    except TimeoutError:
        conn.close()
        raise ClusterError(
            f"no Dask worker joined {address} within {timeout:g} s (--worker-timeout)"
        ) from None


@contextlib.contextmanager
def cluster_from(
    opts: dict[str, Any], *, local: str | None = None, threads: bool = False
) -> Iterator[Any]:
    """Connect (or start the embedded cluster) for one command, and close it after.

    ``local``: the job is short enough that a cluster would only add its start, so unless
    a cluster is asked for (an address, a scheduler file, dask's configuration or one of
    the embedded cluster's options) it runs in this process on this dask scheduler
    (``"sync"`` or ``"threads"``).  ``threads``: the embedded cluster is one worker of
    threads in this process unless ``--processes`` says otherwise.
    """
    if local is not None and _embedded_by_default(opts):
        from dask.system import CPU_COUNT  # the threads dask's threaded scheduler runs

        how = "one thread" if local == "sync" else f"{CPU_COUNT} threads"
        click.echo(
            f"toolkit: a job of seconds: counted in this process on {how}, no cluster "
            "started (--workers N starts one, with a dashboard)",
            err=True,
        )
        yield local
        return
    conn = _connect(opts, threads=threads)
    if isinstance(conn, str):
        yield conn
        return
    try:
        yield conn
    except BaseException:
        conn.close(abort=True)  # interrupted or failed: do not wait for running tasks
        raise
    conn.close()


def tokenizer_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--tokenizer, --lowercase/--no-lowercase, --min-length, --stopwords."""
    options = [
        click.option(
            "--tokenizer",
            type=click.Choice(["words", "whitespace"]),
            default="words",
            show_default=True,
            help="'words': Unicode words (apostrophes kept, CJK per character); "
            "'whitespace': str.split().",
        ),
        click.option(
            "--lowercase/--no-lowercase",
            default=None,
            help="Lowercase first [default: yes for 'words', no for 'whitespace'].",
        ),
        click.option(
            "--min-length",
            type=click.IntRange(min=1),
            default=1,
            show_default=True,
            help="Drop shorter words.",
        ),
        click.option("--stopwords", metavar="english|FILE", help="Drop these words."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def output_options(what: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--output FILE (all ``what``, format by extension) and --json."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        func = click.option(
            "--json", "as_json", is_flag=True, help="Print one JSON object instead of a table."
        )(func)
        return click.option(
            "--output",
            "-o",
            type=click.Path(dir_okay=False),
            help=f"Write all {what} here: .csv .tsv .json .jsonl .parquet.",
        )(func)

    return decorate


def job_options(*, records: tuple[str, ...], required: bool) -> Callable[..., Any]:
    """Options of a user job: the mapper, the reducer or combiner, the records, bad records."""
    where = "" if required else " (a user job instead of a word count)"
    options = [
        click.option(
            "--mapper",
            required=required,
            metavar="MODULE:FUNC",
            help=f"mapper(record) -> iterable of (key, value); 'pkg.mod:func' or "
            f"'file.py:func'{where}.",
        ),
        click.option(
            "--reducer",
            metavar="MODULE:FUNC",
            help="reducer(a, b) -> value; associative and commutative.",
        ),
        click.option(
            "--combiner",
            metavar="MODULE:OBJ",
            help="Instead of --reducer: an object (or class) with zero(), fold(acc, value), "
            "merge(a, b) and finish(acc), e.g. for a mean.",
        ),
        click.option(
            "--records",
            type=click.Choice(list(records)),
            default="lines",
            show_default=True,
            help="What the mapper receives: a line, a JSON value per line, a CSV row as a "
            "dict (by the header line)" + (", a Parquet row." if "parquet" in records else "."),
        ),
        click.option(
            "--bad-records",
            type=click.Choice(["report", "strict"]),
            default="report",
            show_default=True,
            help="A record that does not parse, or on which the mapper raises: count it and "
            "go on, or stop with an error naming it.",
        ),
        click.option(
            "--bad-output",
            type=click.Path(dir_okay=False),
            help="Write the raw lines of bad records here.",
        ),
    ]

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


def load_job(mapper: str | None, reducer: str | None, combiner: str | None) -> tuple[Any, Any]:
    """The mapper and the reducer (or combiner) named on the command line, loaded."""
    from toolkit.batch import load_function
    from toolkit.jobs import combining

    if mapper is None:
        if reducer or combiner:
            raise click.UsageError("--reducer and --combiner go with --mapper")
        return None, None
    if (reducer is None) == (combiner is None):
        raise click.UsageError("give --mapper with one of --reducer FUNC or --combiner OBJ")
    map_func = load_function(mapper)
    if reducer is not None:
        how = load_function(reducer)
        if isinstance(how, type):
            raise click.UsageError(f"--reducer {reducer} is a class: give it as --combiner")
    else:
        from toolkit.batch.loading import load_object

        how = load_object(combiner)  # type: ignore[arg-type]
    combining(how)  # neither a function nor a combiner: a one-line error now
    return map_func, how
