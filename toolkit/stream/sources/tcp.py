"""The TCP source: a server that takes lines from any number of clients at once.

Each connection is cut into lines on its own; one client's chunk reaches the
pipeline whole.  A line cut off by a disconnect is bad, not silently lost.
"""

from __future__ import annotations

import socket
import socketserver
import threading

from toolkit.lines import DEFAULT_MAX_LINE_BYTES, LineSplitter
from toolkit.stream.sources.base import READ_SIZE, Put, Ready, Source
from toolkit.stream.sources.listening import serve_until_stopped

__all__ = ["TcpSource"]


class TcpSource(Source):
    """Listen on ``host:port`` (127.0.0.1 unless told; port 0: any free one) for lines."""

    kind = "tcp"
    listens = True

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    ) -> None:
        super().__init__(max_line_bytes=max_line_bytes)
        self.host, self.port = host, port

    def describe(self) -> str:
        return f"tcp://{self.host}:{self.port}"

    def run(self, put: Put, stop: threading.Event, ready: Ready) -> None:
        lock = threading.Lock()
        max_line_bytes = self.max_line_bytes

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                splitter = LineSplitter(max_line_bytes)
                sock: socket.socket = self.request
                sock.settimeout(0.2)
                while not stop.is_set():
                    try:
                        data = sock.recv(READ_SIZE)
                    except TimeoutError:
                        continue
                    except OSError:
                        break
                    if not data:
                        break
                    lines, bad = splitter.feed(data)
                    if lines or bad:
                        with lock:  # one client's chunk stays whole
                            put(lines, bad, None)
                # a line cut off by a disconnect is bad, not lost silently
                lines, bad = splitter.finish(partial_is_bad=True)
                if lines or bad:
                    with lock:
                        put(lines, bad, None)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        serve_until_stopped(Server, Handler, self, (self.host, self.port), stop, ready)
