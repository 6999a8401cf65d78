"""The ``toolkit`` command line: thin click commands over the public API.

Errors are caught here only: a :class:`~toolkit.errors.ToolkitError` becomes one
line on stderr and exit 1; a usage error exits 2; Ctrl-C exits 130 and SIGTERM
143, after the cluster work is cancelled.
"""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import sys
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

import click

from toolkit import __version__
from toolkit.errors import ClusterError, ConfigError, ToolkitError
from toolkit.units import parse_size

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class Terminated(BaseException):
    """Raised in the main thread when SIGTERM arrives."""


def _on_sigterm(signum: int, frame: Any) -> NoReturn:
    raise Terminated()


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``toolkit`` console script."""
    _quiet_dask_logs()
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        cli.main(args=argv, prog_name="toolkit", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("toolkit: interrupted", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        click.echo("toolkit: interrupted", err=True)
        sys.exit(130)
    except Terminated:
        click.echo("toolkit: terminated", err=True)
        sys.exit(143)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except ToolkitError as exc:
        click.echo(f"toolkit: error: {exc}", err=True)
        sys.exit(1)
    except Exception as exc:
        message = _cluster_failure(exc)
        if message is None:
            raise
        click.echo(f"toolkit: error: {message}", err=True)
        sys.exit(1)


def _quiet_dask_logs() -> None:
    """Keep distributed's INFO chatter (and its shutdown tracebacks) off the user's stderr."""
    import distributed  # noqa: F401  (its import configures its loggers; quiet them after)

    logging.getLogger("distributed").setLevel(logging.CRITICAL)


def _cluster_failure(exc: BaseException) -> str | None:
    """A one-line message for failures that come from the cluster rather than from us."""
    name = type(exc).__name__
    if name == "KilledWorker":
        return f"workers died repeatedly while running a task ({exc}); see the worker logs"
    if name in ("CancelledError", "FutureCancelledError") or "scheduler-connection-lost" in str(
        exc
    ):
        return "lost the connection to the Dask scheduler; the job did not finish"
    return None


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, prog_name="toolkit")
def cli() -> None:
    """Batch MapReduce and windowed stream processing on one Dask cluster.

    Without --scheduler, commands start an embedded local Dask cluster (all on
    127.0.0.1) and print its dashboard link on stderr.
    """


# -- shared options -----------------------------------------------------------------------


def _size(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    if value is None:
        return None
    try:
        return parse_size(value)
    except ConfigError as exc:
        raise click.BadParameter(str(exc)) from None


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
            default="127.0.0.1:0",
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
        click.option("--tls-ca-file", type=click.Path(dir_okay=False), help="TLS CA certificate."),
        click.option("--tls-cert", type=click.Path(dir_okay=False), help="TLS client certificate."),
        click.option("--tls-key", type=click.Path(dir_okay=False), help="TLS client key."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def read_options(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option(
            "--blocksize",
            callback=_size,
            default="32MiB",
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
            "--progress/--no-progress",
            default=None,
            help="Progress bar on stderr [default: when stderr is a terminal].",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _connect(opts: dict[str, Any]) -> Any:
    from toolkit.cluster import LOCAL_SCHEDULERS, connect

    address = opts["scheduler"]
    if address in LOCAL_SCHEDULERS:
        return address
    return connect(
        address,
        scheduler_file=opts["scheduler_file"],
        tls_ca_file=opts["tls_ca_file"],
        tls_cert=opts["tls_cert"],
        tls_key=opts["tls_key"],
        n_workers=opts["workers"],
        threads_per_worker=opts["threads_per_worker"],
        memory_limit=None
        if opts["memory_limit"] in ("0", "none", "None")
        else opts["memory_limit"],
        dashboard_address=opts["dashboard_address"] or None,
        timeout=opts["connect_timeout"],
    )


@contextlib.contextmanager
def cluster_from(opts: dict[str, Any]) -> Iterator[Any]:
    """Connect (or start the embedded cluster) for one command, and close it after."""
    conn = _connect(opts)
    if isinstance(conn, str):
        yield conn
        return
    try:
        yield conn
    except BaseException:
        conn.close(abort=True)  # interrupted or failed: do not wait for running tasks
        raise
    conn.close()


def _progress(flag: bool | None) -> bool:
    return sys.stderr.isatty() if flag is None else flag


def _report_inputs(stats: Any) -> None:
    bad = ""
    if stats.bad_sequences:
        bad = (
            f"; {stats.bad_sequences:,} undecodable byte sequences "
            f"in {stats.bad_lines:,} lines were replaced or ignored"
        )
    click.echo(
        f"toolkit: read {stats.files:,} files, {stats.bytes:,} bytes, {stats.lines:,} lines{bad}",
        err=True,
    )


# -- commands -----------------------------------------------------------------------------


@cli.command(context_settings=CONTEXT)
@click.argument("inputs", nargs=-1, required=True)
@click.option(
    "--top",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="How many words to show (0: all).",
)
@click.option(
    "--tokenizer",
    type=click.Choice(["words", "whitespace"]),
    default="words",
    show_default=True,
    help="'words': Unicode words (apostrophes kept, CJK per character); 'whitespace': str.split().",
)
@click.option(
    "--lowercase/--no-lowercase",
    default=None,
    help="Lowercase first [default: yes for 'words', no for 'whitespace'].",
)
@click.option(
    "--min-length",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Drop shorter words.",
)
@click.option("--stopwords", metavar="english|FILE", help="Drop these words.")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False),
    help="Write all counts here: .csv .tsv .json .jsonl .parquet.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
@read_options
@cluster_options
def wordcount(
    inputs: tuple[str, ...],
    top: int,
    tokenizer: str,
    lowercase: bool | None,
    min_length: int,
    stopwords: str | None,
    output: str | None,
    as_json: bool,
    blocksize: int,
    encoding: str,
    errors: str,
    split_out: int,
    progress: bool | None,
    **opts: Any,
) -> None:
    """Count words in INPUTS (files, directories, globs, URLs; .gz .bz2 .xz .zst too).

    Prints the top words and the totals; exact whatever the cluster.
    """
    from toolkit.batch import resolve_inputs, word_count, write_series
    from toolkit.batch.outputs import output_format
    from toolkit.stopwords import load_stopwords
    from toolkit.text import get_tokenizer

    if output:
        output_format(output)  # a bad extension fails before any work
    # bad paths and stopword files fail before a cluster starts
    files = resolve_inputs(inputs)
    lower = get_tokenizer(tokenizer).lowercase if lowercase is None else lowercase
    stops = load_stopwords(stopwords, lowercase=lower)
    with cluster_from(opts) as scheduler:
        result = word_count(
            files,
            tokenizer=tokenizer,
            lowercase=lower,
            min_length=min_length,
            stopwords=stops,
            top=None if output else top,
            blocksize=blocksize,
            encoding=encoding,
            errors=errors,
            scheduler=scheduler,
            split_out=split_out,
            progress=_progress(progress),
        )
    _report_inputs(result.stats)
    if output:
        write_series(result.counts, output)
        click.echo(f"toolkit: wrote {len(result.counts):,} words to {output}", err=True)
    shown = result.counts if top == 0 else result.counts.head(top)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "total_words": result.total_words,
                    "distinct_words": result.distinct_words,
                    "top": [{"word": w, "count": int(c)} for w, c in shown.items()],
                },
                ensure_ascii=False,
            )
        )
        return
    _print_table([(w, f"{int(c):,}") for w, c in shown.items()], ("word", "count"))
    click.echo(f"total words: {result.total_words:,}   distinct words: {result.distinct_words:,}")


def _print_table(rows: list[tuple[Any, str]], header: tuple[str, str]) -> None:
    keys = [str(k) for k, _ in rows]
    kw = max([len(header[0]), *map(len, keys)])
    vw = max([len(header[1]), *(len(v) for _, v in rows)])
    rw = max(4, len(str(len(rows))))
    click.echo(f"{'rank':>{rw}}  {header[0]:<{kw}}  {header[1]:>{vw}}")
    for i, (k, (_, v)) in enumerate(zip(keys, rows, strict=True), 1):
        click.echo(f"{i:>{rw}}  {k:<{kw}}  {v:>{vw}}")


@cli.command(context_settings=CONTEXT)
@click.argument("inputs", nargs=-1, required=True)
@click.option(
    "--mapper",
    required=True,
    metavar="MODULE:FUNC",
    help="mapper(record) -> iterable of (key, value); 'pkg.mod:func' or 'file.py:func'.",
)
@click.option(
    "--reducer",
    required=True,
    metavar="MODULE:FUNC",
    help="reducer(a, b) -> value; associative and commutative.",
)
@click.option(
    "--records",
    type=click.Choice(["lines", "jsonl"]),
    default="lines",
    show_default=True,
    help="What the mapper receives: text lines or parsed JSON.",
)
@click.option(
    "--top",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="How many results to show, sorted by key (0: all).",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False),
    help="Write all results here: .csv .tsv .json .jsonl .parquet.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
@read_options
@cluster_options
def mapreduce(
    inputs: tuple[str, ...],
    mapper: str,
    reducer: str,
    records: str,
    top: int,
    output: str | None,
    as_json: bool,
    blocksize: int,
    encoding: str,
    errors: str,
    split_out: int,
    progress: bool | None,
    **opts: Any,
) -> None:
    """Run a user MapReduce job over INPUTS with MAPPER and REDUCER functions."""
    from toolkit.batch import load_function, map_reduce, resolve_inputs, write_series
    from toolkit.batch.outputs import output_format

    if output:
        output_format(output)
    map_func, reduce_func = load_function(mapper), load_function(reducer)
    files = resolve_inputs(inputs)
    with cluster_from(opts) as scheduler:
        result = map_reduce(
            files,
            map_func,
            reduce_func,
            records=records,
            blocksize=blocksize,
            encoding=encoding,
            errors=errors,
            scheduler=scheduler,
            split_out=split_out,
            progress=_progress(progress),
        )
    if output:
        write_series(result, output, key="key", value="value")
        click.echo(f"toolkit: wrote {len(result):,} keys to {output}", err=True)
    shown = result if top == 0 else result.head(top)
    if as_json:
        from toolkit.batch.outputs import _plain

        click.echo(
            json.dumps(
                {
                    "keys": len(result),
                    "results": [{"key": k, "value": v} for k, v in shown.items()],
                },
                ensure_ascii=False,
                default=_plain,
            )
        )
        return
    _print_table([(k, str(v)) for k, v in shown.items()], ("key", "value"))
    click.echo(f"keys: {len(result):,}")


@cli.command(context_settings=CONTEXT)
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--size", default="20MB", show_default=True, help="Total size, e.g. 64MB, 1GiB.")
@click.option("--files", type=click.IntRange(min=1), default=8, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--gzip", "compress", is_flag=True, help="Write .txt.gz files.")
def sample(directory: str, size: str, files: int, seed: int, compress: bool) -> None:
    """Write a deterministic sample corpus (Zipf words, mixed scripts) into DIRECTORY."""
    from toolkit.corpus import generate_corpus

    paths = generate_corpus(directory, size=size, files=files, seed=seed, compress=compress)
    total = sum(p.stat().st_size for p in paths)
    click.echo(f"toolkit: wrote {len(paths)} files, {total:,} bytes, to {directory}", err=True)


__all__ = ["ClusterError", "cli", "main"]
