"""Bounded memory: producers far faster than the sink, for a minute, lose nothing.

``toolkit stream`` writes a window every ten lines to a pipe that the test reads
slowly (the slow sink).  A TCP client sends lines as fast as the socket takes
them, and a Redis producer adds entries at ten times the rate the sink drains.
The stream's memory must stay under a fixed cap the whole time (backpressure
reaches the sources: the TCP source stops reading its socket, the Redis
consumer stops reading the stream), and at the end every line is counted.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import IO, Any

import psutil
import pytest

from tests.redis_server import redis_server
from tests.test_cli import TOOLKIT

pytestmark = pytest.mark.slow  # producers outrun a slow sink for a minute of input

DURATION = float(os.environ.get("TOOLKIT_BACKPRESSURE_SECONDS", "60"))
SINK_BYTES_PER_S = 16_000  # what the slow reader takes from the stream's stdout
PER_WINDOW = 10  # lines per window
RSS_CAP = 400 * 2**20
LINE = "the quick brown fox jumps over the lazy dog again and again"


class SlowReader(threading.Thread):
    """Reads a pipe at ``rate`` bytes/s (or at full speed once ``fast`` is set); sums windows."""

    def __init__(self, pipe: IO[bytes], rate: float) -> None:
        super().__init__(daemon=True)
        self.pipe, self.rate = pipe, rate
        self.fast = threading.Event()
        self.lines = 0
        self.words = 0
        self.carry = b""

    def run(self) -> None:
        while True:
            data = self.pipe.read1(65536 if self.fast.is_set() else 8192)  # type: ignore[attr-defined]
            if not data:
                return
            *whole, self.carry = (self.carry + data).split(b"\n")
            for line in whole:
                window = json.loads(line)
                self.lines += window["lines"]
                self.words += window["words"]
            if not self.fast.is_set():
                time.sleep(len(data) / self.rate)


def start_stream(source: str, log: Path) -> tuple[subprocess.Popen[bytes], SlowReader]:
    with open(log, "wb") as err:
        proc = subprocess.Popen(
            [TOOLKIT, "stream", source, "--count", str(PER_WINDOW), "--top", "1", "--local"],
            stdout=subprocess.PIPE,
            stderr=err,
            start_new_session=True,
        )
    assert proc.stdout is not None
    reader = SlowReader(proc.stdout, SINK_BYTES_PER_S)
    reader.start()
    return proc, reader


def wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_fast_producers_and_a_slow_sink_keep_memory_bounded_and_lose_nothing(
    tmp_path: Path,
) -> None:
    line = (LINE + "\n").encode()
    words_per_line = len(LINE.split())
    with redis_server(tmp_path / "redis") as (address, client):
        # -- TCP: a client that sends as fast as the socket accepts ---------------------------
        tcp_log = tmp_path / "tcp.log"
        tcp, tcp_reader = start_stream("tcp://127.0.0.1:0", tcp_log)
        wait_for(lambda: "listening on" in tcp_log.read_text(), 60, tcp_log.read_text())
        port = int(tcp_log.read_text().split("listening on tcp://127.0.0.1:")[1].split()[0])
        sock = socket.create_connection(("127.0.0.1", port))
        sent = {"tcp": 0, "redis": 0}
        stop = threading.Event()

        def send_tcp() -> None:
            block = line * 1000
            while not stop.is_set():
                sock.sendall(block)  # blocks when the stream stops reading: backpressure
                sent["tcp"] += 1000

        # -- Redis: ten times what the sink drains ---------------------------------------------
        redis_log = tmp_path / "redis.log"
        rds, redis_reader = start_stream(f"redis://{address}/load?group=g&count=500", redis_log)
        sink_lines_per_s = SINK_BYTES_PER_S / 80 * PER_WINDOW  # a window is about 80 bytes

        def send_redis() -> None:
            rate, batch = 10 * sink_lines_per_s, 500
            begun = time.monotonic()
            while not stop.is_set():
                pipe = client.pipeline(transaction=False)
                for _ in range(batch):
                    pipe.xadd("load", {"line": LINE.encode()})
                pipe.execute()
                sent["redis"] += batch
                delay = begun + sent["redis"] / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)

        producers = [threading.Thread(target=f, daemon=True) for f in (send_tcp, send_redis)]
        for p in producers:
            p.start()
        peak = {"tcp": 0, "redis": 0}
        begun = time.monotonic()
        while time.monotonic() - begun < DURATION:
            for name, proc in (("tcp", tcp), ("redis", rds)):
                assert proc.poll() is None, (tmp_path / f"{name}.log").read_text()
                peak[name] = max(peak[name], psutil.Process(proc.pid).memory_info().rss)
            time.sleep(0.25)
        stop.set()
        sock.close()
        for p in producers:
            p.join(timeout=30)
        # the TCP client was held back: what it got ahead of the sink is a bounded buffer
        # (socket buffers and the stream's queue), not a minute of input
        backlog = (sent["tcp"] - tcp_reader.lines) * len(line)
        assert 0 < backlog < 64 * 2**20, (sent, tcp_reader.lines)
        # the Redis producer did outrun the sink tenfold: the backlog waits in Redis
        assert sent["redis"] > 5 * redis_reader.lines, (sent, redis_reader.lines)
        print(f"peak rss {peak}, sent {sent}, tcp backlog {backlog} bytes")
        for r in (tcp_reader, redis_reader):
            r.fast.set()
        wait_for(lambda: tcp_reader.lines == sent["tcp"], 300, f"tcp: {tcp_reader.lines}")
        wait_for(lambda: redis_reader.lines == sent["redis"], 300, f"redis: {redis_reader.lines}")
        for proc in (tcp, rds):
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=60) == 143
        for r in (tcp_reader, redis_reader):
            r.join(timeout=30)
    assert peak["tcp"] < RSS_CAP and peak["redis"] < RSS_CAP, peak
    assert tcp_reader.lines == sent["tcp"] and redis_reader.words == sent["redis"] * words_per_line
    assert tcp_reader.words == sent["tcp"] * words_per_line
