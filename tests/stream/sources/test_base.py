"""What every source is (``toolkit/stream/sources/base.py``): its position as a checkpoint
keeps it, its limits checked when built."""

from __future__ import annotations

import threading

import pytest

from toolkit.errors import ConfigError
from toolkit.stream.sources.base import Cursor, Put, Ready, Source


class Numbers(Source):
    kind = "numbers"
    replayable = True

    def run(self, put: Put, stop: threading.Event, ready: Ready) -> None:
        start = self.resume_from or 0
        for i in range(start, start + 3):
            put([str(i)], 0, i + 1)


def test_a_source_resumes_where_its_snapshot_left_it() -> None:
    source = Numbers()
    seen: list[tuple[list[str], int]] = []
    source.run(lambda lines, bad, pos: seen.append((list(lines), pos)), threading.Event(), print)
    source.mark(seen[1][1])  # the pipeline took in two chunks
    source.mark(None)  # a chunk without a position moves nothing
    assert source.snapshot() == 2
    again = Numbers()
    again.restore(source.snapshot())
    lines: list[str] = []
    again.run(lambda ls, bad, pos: lines.extend(ls), threading.Event(), print)
    assert lines == ["2", "3", "4"] and again.snapshot() == 2


def test_the_cursor_commits_nothing_by_default() -> None:
    cursor = Cursor()
    cursor.restore({"at": 1})
    cursor.mark({"at": 2})
    cursor.commit()
    assert cursor.snapshot() == {"at": 2}


def test_a_source_is_described_by_its_kind_and_checks_its_line_limit() -> None:
    assert Numbers().describe() == "numbers" and repr(Numbers()) == "<Numbers numbers>"
    assert not Numbers().finite and not Numbers().listens
    with pytest.raises(ConfigError, match="max line bytes must be positive; got 0"):
        Numbers(max_line_bytes=0)
