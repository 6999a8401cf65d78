"""Serving a network source (``toolkit/stream/sources/listening.py``): it says where it listens,
serves until stopped, and a port already taken is one clear error."""

from __future__ import annotations

import socket
import socketserver
import threading

import pytest

from toolkit.errors import SourceError
from toolkit.stream.sources.listening import serve_until_stopped
from toolkit.stream.sources.tcp import TcpSource


class Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.request.sendall(self.request.recv(100))


def test_it_listens_says_where_and_stops() -> None:
    source = TcpSource("127.0.0.1", 0)
    stop, heard = threading.Event(), []
    ready = threading.Event()

    def on_ready(address: str) -> None:
        heard.append(address)
        ready.set()

    server = threading.Thread(
        target=serve_until_stopped,
        args=(socketserver.ThreadingTCPServer, Echo, source, ("127.0.0.1", 0), stop, on_ready),
    )
    server.start()
    assert ready.wait(10) and heard == [source.address]
    port = int(source.address.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"ping")
        assert s.recv(100) == b"ping"
    stop.set()
    server.join(timeout=10)
    assert not server.is_alive()


def test_a_taken_port_is_a_source_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        source = TcpSource("127.0.0.1", port)
        with pytest.raises(SourceError, match=rf"cannot listen on tcp://127.0.0.1:{port}"):
            serve_until_stopped(
                socketserver.TCPServer, Echo, source, ("127.0.0.1", port), threading.Event(), print
            )
