"""A stream in the background (``toolkit/stream/background.py``): start returns at once, results
gather while it runs, stop ends it as Ctrl-C would, status says what it does."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from toolkit.errors import ConfigError, SourceError
from toolkit.stream import stream_map_reduce, stream_word_count


def test_a_started_stream_gathers_results_until_it_is_stopped() -> None:
    wc = stream_word_count("demo:?rate=20000", count=1000, top=3)
    assert wc.status == "built"
    started = time.monotonic()
    assert wc.start() is wc and time.monotonic() - started < 5  # it did not wait for the end
    deadline = time.monotonic() + 30
    while len(wc.received) < 3:  # results come while the caller does other things
        assert time.monotonic() < deadline and wc.status == "running"
        time.sleep(0.02)
    frame = wc.to_frame()
    assert list(frame["lines"][:3]) == [1000, 1000, 1000]
    stats = wc.stop()  # as Ctrl-C: the open window is emitted, the run returns
    assert stats is not None and wc.status == "ended"
    assert stats.lines == sum(r.lines for r in wc.received) >= 3000
    with pytest.raises(ConfigError, match="has run already"):
        wc.start()


def test_start_returns_once_a_network_source_listens() -> None:
    job = stream_map_reduce(
        "tcp://127.0.0.1:0", lambda line: [(line, 1)], lambda a, b: a + b, count=2
    )
    heard: list[str] = []
    job.start(on_listen=heard.append)
    address = job.source.address
    assert heard == [address] and address.startswith("tcp://127.0.0.1:")
    port = int(address.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(b"a\nb\na\n")
    deadline = time.monotonic() + 30
    while not job.received:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    stats = job.stop()
    assert stats is not None and stats.lines == 3
    assert [dict(r.results) for r in job.received] == [{"a": 1, "b": 1}, {"a": 1}]


def test_a_failed_run_says_so_and_wait_raises_it(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        wc = stream_word_count(f"tcp://127.0.0.1:{port}", count=10)
        with pytest.raises(SourceError, match="cannot listen"):
            wc.start()
    assert wc.status == "failed" and isinstance(wc.error, SourceError)
    with pytest.raises(SourceError):
        wc.wait()


def test_wait_needs_a_started_stream_and_can_time_out() -> None:
    wc = stream_word_count("demo:?rate=1000", count=10)
    with pytest.raises(ConfigError, match="call start"):
        wc.wait()
    wc.start()
    with pytest.raises(TimeoutError):
        wc.wait(timeout=0.2)
    assert wc.stop() is not None and wc.status == "ended"
