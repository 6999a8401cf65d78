"""The stdin source (``toolkit/stream/sources/stdin.py``): lines from a real pipe, bad ones
counted, a last line without a newline kept, a stop noticed while the writer is silent."""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from toolkit.stream.sources.stdin import StdinSource, read_fd


def test_lines_from_a_pipe_until_the_writer_closes_it() -> None:
    r, w = os.pipe()
    got: list[str] = []
    bad = [0]

    def put(lines: Any, n: int, position: Any) -> None:
        got.extend(lines)
        bad[0] += n

    reader = threading.Thread(target=read_fd, args=(r, put, threading.Event(), 16))
    reader.start()
    for piece in (b"one\ntw", b"o\n\xff bad\n", b"x" * 40 + b"\n", b"last, no newline"):
        os.write(w, piece)
        time.sleep(0.01)
    os.close(w)
    reader.join(timeout=10)
    os.close(r)
    assert not reader.is_alive()
    assert got == ["one", "two", "last, no newline"] and bad[0] == 2


def test_a_silent_pipe_still_notices_the_stop() -> None:
    r, w = os.pipe()
    stop = threading.Event()
    reader = threading.Thread(target=read_fd, args=(r, lambda *a: None, stop, 1024))
    reader.start()
    stop.set()
    reader.join(timeout=5)
    assert not reader.is_alive()
    os.close(r)
    os.close(w)


def test_stdin_is_finite_and_not_replayable() -> None:
    source = StdinSource()
    assert source.finite and not source.replayable and source.describe() == "stdin"
