"""User jobs for the tests (shipped to subprocess workers by value; see conftest)."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator
from typing import Any

from toolkit.batch.job import Job


def line_length(line: str) -> Iterator[tuple[int, int]]:
    yield len(line), 1


def bigrams(line: str) -> Iterator[tuple[tuple[str, str], int]]:
    words = line.lower().split()
    for a, b in itertools.pairwise(words):
        yield (a, b), 1


def add(a: int, b: int) -> int:
    return a + b


def user_amounts(record: dict[str, Any]) -> Iterator[tuple[str, float]]:
    yield record["user"], record["amount"]


def first_letters(line: str) -> Iterator[tuple[str, frozenset[str]]]:
    for word in line.split():
        yield word[0].lower(), frozenset([word.lower()])


def union(a: frozenset[str], b: frozenset[str]) -> frozenset[str]:
    return a | b


def fails_on_bad(line: str) -> Iterator[tuple[str, int]]:
    if "BAD" in line:
        raise ValueError("cannot handle BAD lines")
    yield line, 1


def not_pairs(line: str) -> int:
    return 42


def distinct_keys(line: str) -> Iterator[tuple[str, int]]:
    for word in line.split():
        yield word, 1


def bad_reducer(a: int, b: int) -> int:
    raise ZeroDivisionError("reducers should not divide by zero")


def slow_words(line: str) -> Iterator[tuple[str, int]]:
    """A word-count mapper slow enough (about 1 ms a line) to be killed in the middle."""
    import time

    time.sleep(0.001)
    for word in line.lower().split():
        yield word, 1


def pending_map_tasks(dask_scheduler: Any) -> int:
    """Run on the scheduler: how many map tasks are still waiting or running."""
    return sum(
        "-map-" in str(ts.key) and ts.state in ("waiting", "queued", "processing", "no-worker")
        for ts in dask_scheduler.tasks.values()
    )


def task_prefixes(dask_scheduler: Any) -> list[str]:
    """Run on the scheduler: the task prefixes it has seen (what the dashboard shows)."""
    return sorted(dask_scheduler.task_prefixes)


def poison(line: str) -> Iterator[tuple[str, int]]:
    """Kills the worker process that runs it, on every attempt, for one line."""
    import os
    import signal

    if line == "POISON":
        os.kill(os.getpid(), signal.SIGKILL)
    yield line, 1


def lines_plain(text: str) -> list[str]:
    """The lines of whole lines of text, the plain way: split, no empty last line."""
    lines = text.split("\n")
    return lines[:-1] if lines[-1] == "" else lines


class LineLengths(Job):
    """How many lines of each length in code points: the defaults of Job do the rest."""

    name = "line-lengths"

    def empty(self) -> Counter[int]:
        return Counter()

    def consume(self, acc: Counter[int], text: str) -> None:
        acc.update(len(line) for line in lines_plain(text))

    def merge(self, acc: Counter[int], other: Counter[int]) -> Counter[int]:
        acc.update(other)
        return acc

    def finish(self, acc: Counter[int]) -> Counter[int]:
        return acc


def status_bytes(record: dict[str, Any]) -> Iterator[tuple[str, int]]:
    """Bytes per status code of an access-log record (jsonl: ints; csv: strings)."""
    yield str(record["status"]), int(record["bytes"])


def path_latency(record: dict[str, Any]) -> Iterator[tuple[str, float]]:
    yield record["path"], float(record["bytes"]) / 1000


def client_requests(record: dict[str, Any]) -> Iterator[tuple[str, int]]:
    """Requests per client (for sessions)."""
    yield record["client"], 1


def status_bytes_frame(frame: Any) -> Any:
    """``status_bytes`` over a pandas frame of a chunk, pre-combined (jsonl, csv, parquet)."""
    return frame["bytes"].astype(int).groupby(frame["status"].astype(str)).sum().items()


def status_bytes_polars(frame: Any) -> Any:
    """``status_bytes`` over a polars frame of a chunk, pre-combined."""
    import polars as pl

    grouped = frame.group_by(pl.col("status").cast(pl.String)).agg(
        pl.col("bytes").cast(pl.Int64).sum()
    )
    return grouped.iter_rows()


def user_amounts_frame(frame: Any) -> Any:
    """``user_amounts`` over a frame: a pair per row, not pre-combined."""
    return zip(frame["user"], frame["amount"], strict=True)


def line_length_frame(frame: Any) -> Any:
    """``line_length`` over the frame of a chunk of lines (one column, ``line``)."""
    return frame["line"].str.len().value_counts().items()


def frame_fails(frame: Any) -> Any:
    raise KeyError("no such column")
