"""Serving a network source: listen, say where, serve on a thread until ``stop``, shut down."""

from __future__ import annotations

import socketserver
import threading

from toolkit.errors import SourceError
from toolkit.stream.sources.base import Ready, Source

__all__ = ["serve_until_stopped"]


def serve_until_stopped(
    server_class: type[socketserver.TCPServer],
    handler: type[socketserver.BaseRequestHandler],
    source: Source,
    where: tuple[str, int],
    stop: threading.Event,
    ready: Ready,
    *,
    suffix: str = "",
) -> None:
    """Listen at ``where`` (host, port), set ``source.address`` and call ``ready`` with it,
    serve on a thread until ``stop``, then shut down."""
    scheme = source.kind
    try:
        server = server_class(where, handler)
    except OSError as exc:
        raise SourceError(
            f"cannot listen on {scheme}://{where[0]}:{where[1]}: {exc.strerror}"
        ) from None
    with server:
        host, port = server.socket.getsockname()[:2]
        source.address = f"{scheme}://{host}:{port}{suffix}"
        ready(source.address)
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        thread.start()
        stop.wait()
        server.shutdown()
