"""The TCP source, fed by real clients over loopback."""

from __future__ import annotations

import socket
import threading
from collections import Counter

from tests.stream.sources.collector import Collector
from toolkit.errors import SourceError
from toolkit.stream.sources import parse_source


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


def test_busy_port_is_a_source_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        c = Collector(parse_source(f"tcp://127.0.0.1:{port}"))
        c.thread.join(timeout=10)
        assert isinstance(c.error, SourceError)
        assert f"cannot listen on tcp://127.0.0.1:{port}" in str(c.error)
