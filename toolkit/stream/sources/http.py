"""The HTTP source: lines POSTed to one path, each request's body cut into lines.

A body over ``max_body_bytes`` is refused (413) before it is read; the reply
says how many lines were accepted and how many were bad.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from toolkit.lines import DEFAULT_MAX_LINE_BYTES, LineSplitter
from toolkit.stream.sources.base import Put, Ready, Source
from toolkit.stream.sources.listening import serve_until_stopped

__all__ = ["DEFAULT_MAX_BODY_BYTES", "HttpSource"]

#: The largest request body the HTTP source reads.
DEFAULT_MAX_BODY_BYTES = 64 * 2**20


class HttpSource(Source):
    """Listen on ``host:port`` for ``POST path`` requests whose bodies are lines."""

    kind = "http"
    listens = True

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        path: str = "/",
        *,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        super().__init__(max_line_bytes=max_line_bytes)
        self.host, self.port, self.path = host, port, path
        self.max_body_bytes = max_body_bytes

    def describe(self) -> str:
        return f"http://{self.host}:{self.port}{self.path}"

    def run(self, put: Put, stop: threading.Event, ready: Ready) -> None:
        lock = threading.Lock()
        source = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def _reply(self, status: int, body: dict[str, Any]) -> None:
                data = (json.dumps(body) + "\n").encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                if urllib.parse.urlsplit(self.path).path != source.path:
                    self._reply(404, {"error": f"POST lines to {source.path}"})
                    return
                try:
                    length = int(self.headers.get("Content-Length", ""))
                except ValueError:
                    self._reply(411, {"error": "Content-Length required"})
                    return
                if length > source.max_body_bytes:
                    self._reply(413, {"error": f"body over {source.max_body_bytes} bytes"})
                    self.close_connection = True
                    return
                body = self.rfile.read(length)
                splitter = LineSplitter(source.max_line_bytes)
                lines, bad = splitter.feed(body)
                last, last_bad = splitter.finish()
                lines, bad = lines + last, bad + last_bad
                with lock:
                    put(lines, bad, None)
                self._reply(200, {"accepted": len(lines), "bad": bad})

        class Server(ThreadingHTTPServer):
            daemon_threads = True

        serve_until_stopped(
            Server, Handler, self, (self.host, self.port), stop, ready, suffix=self.path
        )
