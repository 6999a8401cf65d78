"""Batch commands: ``wordcount``, ``mapreduce`` and ``sample``."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click

from toolkit.cli.app import CONTEXT, cli
from toolkit.cli.options import (
    cluster_from,
    cluster_options,
    job_options,
    load_job,
    output_options,
    read_options,
    tokenizer_options,
)
from toolkit.interrupts import write_whole


def _journal(resume: bool, output: str | None) -> str | None:
    """The journal directory for --resume (beside the output), announcing what it holds."""
    if not resume:
        return None
    if not output:
        raise click.UsageError("--resume keeps its journal beside the output: give --output FILE")
    directory = f"{output}.journal"
    if os.path.isdir(directory):
        done = len([n for n in os.listdir(directory) if n.startswith("part-")])
        click.echo(f"toolkit: resuming: {done} partitions already done in {directory}", err=True)
    return directory


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
    if stats.skipped:
        click.echo(
            f"toolkit: skipped {len(stats.skipped)} bad files, none of them counted:", err=True
        )
        for path, reason in stats.skipped:
            click.echo(f"toolkit:   {path}: {reason}", err=True)


def _report_bad(bad: Any, path: str | None) -> None:
    """Say how many records were bad, and write their lines to ``path`` (whole, atomically)."""
    if path is not None:
        from toolkit.atomic import atomic_output

        with atomic_output(path, "wb") as f:
            f.writelines((line + "\n").encode("utf-8", "surrogateescape") for line in bad.lines)
    if not len(bad):
        return
    where = f"; their lines are in {path}" if path else "; --bad-output FILE keeps their lines"
    unkept = f" ({bad.unkept:,} beyond the first {len(bad.lines):,} not kept)" if bad.unkept else ""
    click.echo(
        f"toolkit: {len(bad):,} bad records{unkept}{where}; the first: {bad.first}", err=True
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
@tokenizer_options
@output_options("counts")
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
    resume: bool,
    skip_bad_files: bool,
    upload: bool,
    **opts: Any,
) -> None:
    """Count words in INPUTS (files, directories, globs, URLs; .gz .bz2 .xz .zst too).

    Prints the top words and the totals; exact whatever the cluster.
    """
    from toolkit.batch import resolve_inputs, word_count
    from toolkit.batch.outputs import output_format, write_table
    from toolkit.batch.wordcount import in_process
    from toolkit.stopwords import load_stopwords
    from toolkit.text import get_tokenizer

    if output:
        output_format(output)  # a bad extension fails before any work
    # bad paths and stopword files fail before a cluster starts
    files = resolve_inputs(inputs)
    lower = get_tokenizer(tokenizer).lowercase if lowercase is None else lowercase
    stops = load_stopwords(stopwords, lowercase=lower)
    with cluster_from(opts, local=in_process(files), threads=True) as scheduler:
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
            journal=_journal(resume, output),
            skip_bad_files=skip_bad_files,
            upload=upload,
            worker_timeout=opts["worker_timeout"],
        )
    _report_inputs(result.stats)
    if output:
        write_table(result.to_arrow(), output)
        click.echo(f"toolkit: wrote {len(result):,} words to {output}", err=True)
    shown = result.most_common(None if top == 0 else top)
    if as_json:
        summary = {
            "total_words": result.total_words,
            "distinct_words": result.distinct_words,
            "top": [{"word": w, "count": c} for w, c in shown],
        }
        _say(json.dumps(summary, ensure_ascii=False) + "\n")
        return
    _say(
        _table([(w, f"{c:,}") for w, c in shown], ("word", "count"))
        + f"total words: {result.total_words:,}   distinct words: {result.distinct_words:,}\n"
    )


def _say(text: str) -> None:
    """Print the result to stdout in one piece: Ctrl-C lands before or after it, not inside."""
    write_whole(sys.stdout, text)


def _table(rows: list[tuple[Any, str]], header: tuple[str, str]) -> str:
    keys = [str(k) for k, _ in rows]
    kw = max([len(header[0]), *map(len, keys)])
    vw = max([len(header[1]), *(len(v) for _, v in rows)])
    rw = max(4, len(str(len(rows))))
    lines = [f"{'rank':>{rw}}  {header[0]:<{kw}}  {header[1]:>{vw}}"]
    for i, (k, (_, v)) in enumerate(zip(keys, rows, strict=True), 1):
        lines.append(f"{i:>{rw}}  {k:<{kw}}  {v:>{vw}}")
    return "".join(line + "\n" for line in lines)


@cli.command(context_settings=CONTEXT)
@click.argument("inputs", nargs=-1, required=True)
@job_options(records=("lines", "jsonl", "csv", "parquet"), required=True)
@click.option(
    "--frames",
    type=click.Choice(["pandas", "polars"]),
    help="The mapper takes a chunk of records at once, as a DataFrame of this kind (a "
    "column per field), and returns (key, value) pairs: vectorised work, no call per record.",
)
@click.option(
    "--top",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="How many results to show, sorted by key (0: all).",
)
@output_options("results")
@read_options(blocksize="16MiB")
@cluster_options
def mapreduce(
    inputs: tuple[str, ...],
    mapper: str,
    reducer: str | None,
    combiner: str | None,
    records: str,
    bad_records: str,
    bad_output: str | None,
    frames: str | None,
    top: int,
    output: str | None,
    as_json: bool,
    blocksize: int,
    encoding: str,
    errors: str,
    split_out: int,
    progress: bool | None,
    resume: bool,
    skip_bad_files: bool,
    upload: bool,
    **opts: Any,
) -> None:
    """Run a user MapReduce job over INPUTS with a MAPPER and a REDUCER (or COMBINER).

    Records that do not parse, and records on which the mapper raises, are bad
    records: counted and reported (and written to --bad-output), or with
    --bad-records strict an error naming the file and the record.
    """
    from toolkit.batch import map_reduce, resolve_inputs, write_series
    from toolkit.batch.outputs import output_format

    if output:
        output_format(output)
    map_func, reduce_func = load_job(mapper, reducer, combiner)
    files = resolve_inputs(inputs)
    if frames:
        from toolkit.jobs.frames import load_frames

        load_frames(frames)  # before the workers fork: they have it
    with cluster_from(opts) as scheduler:
        result = map_reduce(
            files,
            map_func,
            reduce_func,
            records=records,
            bad_records=bad_records,
            frames=frames,
            blocksize=blocksize,
            encoding=encoding,
            errors=errors,
            scheduler=scheduler,
            split_out=split_out,
            progress=_progress(progress),
            journal=_journal(resume, output),
            skip_bad_files=skip_bad_files,
            upload=upload,
            worker_timeout=opts["worker_timeout"],
        )
    _report_inputs(result.attrs["stats"])
    bad = result.attrs["bad_records"]
    _report_bad(bad, bad_output)
    if output:
        write_series(result, output, key="key", value="value")
        click.echo(f"toolkit: wrote {len(result):,} keys to {output}", err=True)
    shown = result if top == 0 else result.head(top)
    if as_json:
        from toolkit.batch.outputs import json_default

        summary = {
            "keys": len(result),
            "records": result.attrs["records"],
            "bad_records": len(bad),
            "results": [{"key": k, "value": v} for k, v in shown.items()],
        }
        _say(json.dumps(summary, ensure_ascii=False, default=json_default) + "\n")
        return
    _say(
        _table([(k, str(v)) for k, v in shown.items()], ("key", "value"))
        + f"keys: {len(result):,}\n"
    )


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
