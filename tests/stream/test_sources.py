"""Sources fed real bytes through real files, sockets and HTTP requests."""

from __future__ import annotations

import http.client
import os
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from toolkit.errors import ConfigError, SourceError
from toolkit.stream.sources import LineSource, LineSplitter, parse_source


class Collector:
    """Runs a source on a thread, collecting what it puts."""

    def __init__(self, source: LineSource) -> None:
        self.source = source
        self.lines: list[str] = []
        self.bad = 0
        self.positions: list[Any] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.listening = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def put(self, lines: list[str], bad: int, position: Any = None) -> None:
        with self.lock:
            self.lines.extend(lines)
            self.bad += bad
            self.positions.append(position)

    def _run(self) -> None:
        try:
            self.source.run(self.put, self.stop, lambda addr: self.listening.set())
        except BaseException as exc:
            self.error = exc
            self.listening.set()

    def wait_for(self, condition: Callable[[], bool], timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, (
                f"timed out: {len(self.lines)} lines, {self.bad} bad"
            )
            time.sleep(0.02)

    def finish(self) -> None:
        self.stop.set()
        self.thread.join(timeout=10)
        assert not self.thread.is_alive()


def test_line_splitter_handles_every_kind_of_bad_line() -> None:
    s = LineSplitter(max_line_bytes=10)
    got, bad = [], 0
    for piece in [
        b"ok 1\nca",
        b"f\xc3\xa9\r\n\xff\xfe\n",
        b"x" * 25,
        b"y" * 5 + b"\nafter\n",
        b"tail",
    ]:
        lines, n = s.feed(piece)
        got += lines
        bad += n
    lines, n = s.finish()
    assert got + lines == ["ok 1", "café", "after", "tail"]
    assert bad + n == 2  # the invalid UTF-8 line and the over-long one
    assert LineSplitter().finish(partial_is_bad=True) == ([], 0)


def test_file_source_reads_to_the_end(tmp_path: Path) -> None:
    path = tmp_path / "in.txt"
    path.write_bytes(b"one\ntwo \xff\nthree")
    c = Collector(parse_source(str(path)))
    c.thread.join(timeout=10)
    assert (c.lines, c.bad) == (["one", "three"], 1)


def test_follow_survives_appends_truncation_and_replacement(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_text("first\n")
    c = Collector(parse_source(str(path), follow=True))
    c.wait_for(lambda: c.lines == ["first"])
    with path.open("a") as f:
        f.write("second\nthi")
        f.flush()
        time.sleep(0.2)
        f.write("rd\n")
    c.wait_for(lambda: len(c.lines) == 3)
    os.rename(path, tmp_path / "app.log.1")  # rotation: a new file takes the name
    path.write_text("fourth\n")
    c.wait_for(lambda: len(c.lines) == 4)
    path.write_text("")  # truncated in place
    time.sleep(0.3)
    with path.open("a") as f:
        f.write("fifth\n")
    c.wait_for(lambda: len(c.lines) == 5)
    c.finish()
    assert c.lines == ["first", "second", "third", "fourth", "fifth"]


def test_tcp_clients_affect_only_their_own_bad_data() -> None:
    source = parse_source("tcp://127.0.0.1:0", max_line_bytes=1000)
    c = Collector(source)
    assert c.listening.wait(10) and c.error is None
    host, port = source.address.removeprefix("tcp://").split(":")
    assert host == "127.0.0.1"

    def good_client(i: int) -> None:
        with socket.create_connection((host, int(port))) as s:
            for j in range(200):
                s.sendall(f"client {i} line {j} café\n".encode())

    def bad_client() -> None:
        with socket.create_connection((host, int(port))) as s:
            s.sendall(b"bad one \xff\xfe\n" + b"z" * 5000 + b"\nfine after bad\ncut mid-li")

    threads = [threading.Thread(target=good_client, args=(i,)) for i in range(4)]
    threads.append(threading.Thread(target=bad_client))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    c.wait_for(lambda: len(c.lines) == 801 and c.bad == 3)
    c.finish()
    expected = Counter(f"client {i} line {j} café" for i in range(4) for j in range(200))
    expected["fine after bad"] += 1
    assert Counter(c.lines) == expected


def test_http_source_accepts_posts_and_refuses_big_bodies() -> None:
    source = parse_source("http://127.0.0.1:0/ingest")
    source.max_body_bytes = 1000
    c = Collector(source)
    assert c.listening.wait(10)
    port = int(source.address.split(":")[2].split("/")[0])

    def post(path: str, body: bytes) -> tuple[int, Any]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("POST", path, body=body)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        import json

        return resp.status, json.loads(data)

    assert post("/ingest", b"a b\nc \xff\nd") == (200, {"accepted": 2, "bad": 1})
    assert post("/ingest", b"x" * 2000)[0] == 413
    assert post("/elsewhere", b"x\n")[0] == 404
    c.wait_for(lambda: len(c.lines) == 2)
    c.finish()
    assert c.lines == ["a b", "d"]


def test_busy_port_is_a_source_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        c = Collector(parse_source(f"tcp://127.0.0.1:{port}"))
        c.thread.join(timeout=10)
        assert isinstance(c.error, SourceError)
        assert f"cannot listen on tcp://127.0.0.1:{port}" in str(c.error)


def test_demo_source_is_rate_limited_and_finite() -> None:
    c = Collector(parse_source("demo:?rate=2000&lines=500"))
    start = time.monotonic()
    c.thread.join(timeout=10)
    assert len(c.lines) == 500 and time.monotonic() - start >= 0.2


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("tcp://127.0.0.1", "needs a port"),
        ("ftp://x:1", "unknown source"),
        ("/no/such/file", "no such file"),
        ("demo:?rate=fast", "demo source takes"),
    ],
)
def test_bad_sources(spec: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_source(spec)


def test_from_lines_is_a_streamz_source_on_an_event_loop(tmp_path: Path) -> None:
    from streamz import Stream

    from toolkit.stream.counting import CountJob
    from toolkit.stream.windows import CountWindowing

    path = tmp_path / "in.txt"
    lines = [f"line {i} word{i % 3}" for i in range(50)]
    path.write_text("\n".join(lines) + "\n")
    w = CountWindowing(7)
    source = Stream.from_lines(str(path), tick=0.05)
    results = source.assign_panes(w).count_panes(CountJob()).pane_window(w, top=0).sink_to_list()
    source.start()
    deadline = time.monotonic() + 20
    while not source.stopped:  # a finite source stops after its End
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert [(r.start, r.end) for r in results] == [(i, min(i + 7, 50)) for i in range(0, 50, 7)]
    total: Counter[str] = Counter()
    for r in results:
        total.update(dict(r.top))
    assert total == Counter(x for line in lines for x in line.split())
