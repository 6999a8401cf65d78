"""Stream sources: stdin, files (optionally followed), TCP, HTTP and a demo generator.

Each source reads on its own thread and hands chunks of whole lines to ``put``,
which blocks while the pipeline is behind: that is the backpressure.  Lines are
split on ``\\n``; a line that is not valid UTF-8, or longer than
``max_line_bytes``, is dropped and counted as bad, without touching other lines.
Network sources bind to 127.0.0.1 unless given a host.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import queue
import random
import select
import socket
import socketserver
import sys
import threading
import time
import urllib.parse
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import streamz

from toolkit.errors import ConfigError, SourceError, ToolkitWarning
from toolkit.stream.registration import register_node

__all__ = ["LineSource", "LineSplitter", "SourceWarning", "from_lines", "parse_source"]

DEFAULT_MAX_LINE_BYTES = 2**20
READ_SIZE = 2**20

#: ``put(lines, bad, position)``: hand over whole lines, how many bad lines were dropped, and
#: (for a replayable source) where the source stands after them.
Put = Callable[[list[str], int, Any], None]


class SourceWarning(ToolkitWarning):
    """A source could not resume exactly where a checkpoint left it; the message says what."""


class LineSplitter:
    """Cut a byte stream into decoded lines, dropping (and counting) bad ones.

    Examples
    --------
    >>> s = LineSplitter(max_line_bytes=8)
    >>> s.feed(b"ok\\nbad \\xff\\nfar too long line\\npart")
    (['ok'], 2)
    >>> s.feed(b"ial\\n"), s.finish()
    ((['partial'], 0), ([], 0))
    """

    def __init__(self, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> None:
        self.max_line_bytes = max_line_bytes
        self.carry = b""
        self.discarding = False  # inside an over-long line: drop until its newline
        self.discarded = 0  # bytes of that line dropped so far

    def held(self) -> int:
        """Bytes fed but not yet handed out as lines (the start of an unfinished line)."""
        return self.discarded if self.discarding else len(self.carry)

    def feed(self, data: bytes) -> tuple[list[str], int]:
        bad = 0
        cut = data.rfind(b"\n")
        if cut < 0:
            self._grow(data)
            return [], 0
        head, self.carry, tail = self.carry + data[:cut], b"", data[cut + 1 :]
        if self.discarding:
            nl = head.find(b"\n")
            head = head[nl + 1 :] if nl >= 0 else b""
            self.discarding = False
            self.discarded = 0
            bad += 1
            if nl < 0:
                self._grow(tail)
                return [], bad
        lines, more_bad = self._decode(head)
        self._grow(tail)
        return lines, bad + more_bad

    def _grow(self, data: bytes) -> None:
        if self.discarding:
            self.discarded += len(data)
            return
        self.carry += data
        if len(self.carry) > self.max_line_bytes:
            self.discarded = len(self.carry)
            self.carry = b""
            self.discarding = True

    def _decode(self, data: bytes) -> tuple[list[str], int]:
        limit = self.max_line_bytes
        try:
            lines = data.decode("utf-8").split("\n")
            if limit >= len(data) or all(len(x) * 4 <= limit for x in lines):
                return [x.removesuffix("\r") for x in lines], 0
        except UnicodeDecodeError:
            pass
        good, bad = [], 0
        for raw in data.split(b"\n"):
            if len(raw) > limit:
                bad += 1
                continue
            try:
                good.append(raw.decode("utf-8").removesuffix("\r"))
            except UnicodeDecodeError:
                bad += 1
        return good, bad

    def finish(self, *, partial_is_bad: bool = False) -> tuple[list[str], int]:
        """The last line if it had no newline (bad instead when ``partial_is_bad``)."""
        carry, self.carry = self.carry, b""
        if self.discarding:
            self.discarding = False
            self.discarded = 0
            return [], 1
        if not carry:
            return [], 0
        if partial_is_bad:
            return [], 1
        return self._decode(carry)


@dataclass
class LineSource:
    """A parsed SOURCE argument; :meth:`run` reads it until it ends or ``stop`` is set.

    Files and Redis streams are *replayable*: each chunk they hand over carries
    a position, and a source started with ``resume_from`` set to a position
    (see :meth:`snapshot`) reads on from there.  stdin, tcp, http and demo are
    not: lines accepted but not yet in a checkpoint are lost at a crash.
    """

    kind: str  # stdin, file, tcp, http, demo, redis
    path: str = ""
    host: str = "127.0.0.1"
    port: int = 0
    follow: bool = False
    rate: float = 1000.0
    limit: int | None = None  # demo: stop after this many lines
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
    max_body_bytes: int = 64 * 2**20
    address: str = ""  # where a network source listens, once started
    options: dict[str, Any] = field(default_factory=dict)  # redis: group, consumer, ...
    resume_from: Any = None  # a position from a checkpoint
    cursor: Cursor = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.kind == "redis":
            from toolkit.stream.redis_streams import AckCursor

            self.cursor = AckCursor(self)
        else:
            self.cursor = Cursor()

    @property
    def finite(self) -> bool:
        if self.kind == "demo":
            return self.limit is not None
        return self.kind in ("stdin", "file") and not self.follow

    @property
    def replayable(self) -> bool:
        """Whether a checkpoint can bring this source back to a position."""
        return self.kind in ("file", "redis")

    def describe(self) -> str:
        """The source, for messages and for telling checkpoints of different jobs apart."""
        if self.kind == "file":
            return os.path.abspath(self.path)
        if self.kind == "redis":
            from toolkit.stream.redis_streams import describe

            return describe(self)
        if self.kind in ("tcp", "http"):
            suffix = self.path if self.kind == "http" else ""
            return f"{self.kind}://{self.host}:{self.port}{suffix}"
        return self.kind

    def run(self, put: Put, stop: threading.Event, ready: Callable[[str], None]) -> None:
        """Read until the input ends or ``stop`` is set; ``ready(address)`` once listening."""
        if self.kind == "stdin":
            _read_fd(sys.stdin.fileno(), put, stop, self.max_line_bytes)
        elif self.kind == "file":
            _read_file(self, put, stop)
        elif self.kind == "tcp":
            _serve_tcp(self, put, stop, ready)
        elif self.kind == "http":
            _serve_http(self, put, stop, ready)
        elif self.kind == "demo":
            _demo(self, put, stop)
        elif self.kind == "redis":
            from toolkit.stream.redis_streams import read_redis

            read_redis(self, put, stop)

    # -- replay: called from the thread that runs the pipeline ------------------------------
    def restore(self, position: Any) -> None:
        """Start from a checkpointed position (before :meth:`run`)."""
        self.resume_from = position
        self.cursor.restore(position)

    def mark(self, position: Any) -> None:
        """The chunk that carried ``position`` is now in the pipeline's state."""
        if position is not None:
            self.cursor.mark(position)

    def snapshot(self) -> Any:
        """The position to store in a checkpoint (JSON-able), or None."""
        return self.cursor.snapshot()

    def commit(self) -> None:
        """The last :meth:`snapshot` is durable: let the broker forget what it holds."""
        self.cursor.commit()


class Cursor:
    """Where a replayable source stands: the position of the last chunk in the pipeline.

    Brokers that acknowledge what they delivered subclass it (see
    :class:`toolkit.stream.redis_streams.AckCursor`).
    """

    def __init__(self) -> None:
        self.position: Any = None

    def restore(self, position: Any) -> None:
        self.position = position

    def mark(self, position: Any) -> None:
        self.position = position

    def snapshot(self) -> Any:
        return self.position

    def commit(self) -> None:
        pass


def parse_source(
    spec: str, *, follow: bool = False, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
) -> LineSource:
    """Parse ``-``, a path, ``tcp://HOST:PORT``, ``http://HOST:PORT/PATH``, ``demo:?rate=N``,
    or ``redis://HOST:PORT/STREAM?group=G&consumer=C``.

    Examples
    --------
    >>> parse_source("tcp://:9000").host, parse_source("tcp://:9000").port
    ('127.0.0.1', 9000)
    >>> parse_source("demo:?rate=50&lines=100").limit
    100
    """
    if max_line_bytes < 1:
        raise ConfigError(f"max line bytes must be positive; got {max_line_bytes!r}")
    if spec in ("-", ""):
        return LineSource("stdin", max_line_bytes=max_line_bytes)
    if spec.startswith("demo:"):
        query = urllib.parse.parse_qs(spec.partition("?")[2])
        try:
            rate = float(query.get("rate", ["1000"])[0])
            limit = int(query["lines"][0]) if "lines" in query else None
        except ValueError:
            raise ConfigError(
                f"demo source takes ?rate=LINES_PER_S&lines=N; got {spec!r}"
            ) from None
        if rate <= 0:
            raise ConfigError(f"demo rate must be positive; got {rate!r}")
        return LineSource("demo", rate=rate, limit=limit)
    if spec.startswith(("redis://", "rediss://")):
        from toolkit.stream.redis_streams import parse_redis

        return LineSource("redis", max_line_bytes=max_line_bytes, **parse_redis(spec))
    if spec.startswith(("tcp://", "http://")):
        url = urllib.parse.urlsplit(spec)
        try:
            port = url.port
        except ValueError:
            port = None
        if port is None:
            raise ConfigError(
                f"a network source needs a port, e.g. tcp://127.0.0.1:9000; got {spec!r}"
            )
        kind = url.scheme
        return LineSource(
            kind,
            path=url.path or "/",
            host=url.hostname or "127.0.0.1",
            port=port,
            max_line_bytes=max_line_bytes,
        )
    if "://" in spec:
        raise ConfigError(
            f"unknown source {spec!r}: use -, a file, tcp://, http://, redis:// or demo:"
        )
    if not os.path.isfile(spec):
        raise ConfigError(f"no such file: {spec!r}")
    return LineSource("file", path=spec, follow=follow, max_line_bytes=max_line_bytes)


def _read_fd(fd: int, put: Put, stop: threading.Event, max_line_bytes: int) -> None:
    splitter = LineSplitter(max_line_bytes)
    while not stop.is_set():
        ready, _, _ = select.select([fd], [], [], 0.2)  # wake up to notice a stop
        if not ready:
            continue
        data = os.read(fd, READ_SIZE)
        if not data:
            break
        lines, bad = splitter.feed(data)
        if lines or bad:
            put(lines, bad, None)
    lines, bad = splitter.finish()
    if lines or bad:
        put(lines, bad, None)


def _read_file(source: LineSource, put: Put, stop: threading.Event) -> None:
    """Read a file to its end; with ``follow``, keep reading appended lines, like ``tail -F``.

    Each chunk carries the position after it: the file's identity (device,
    inode) and the byte offset where the next unread line starts.
    """
    path, follow = source.path, source.follow
    splitter = LineSplitter(source.max_line_bytes)
    f = open(path, "rb")  # noqa: SIM115  (reopened on rotation)
    try:
        ident = os.fstat(f.fileno())
        offset = 0
        if source.resume_from is not None:
            old, offset = _resume_file(path, ident, source.resume_from)
            if old is not None:  # rotated since the checkpoint: finish the old file first
                with old:
                    rest_lines, rest_bad = splitter.feed(old.read())
                    last, last_bad = splitter.finish()
                put(rest_lines + last, rest_bad + last_bad, _file_position(path, ident, 0))
            f.seek(offset)

        def position() -> dict[str, Any]:
            return _file_position(path, ident, offset - splitter.held())

        while not stop.is_set():
            data = f.read(READ_SIZE)
            if data:
                offset += len(data)
                lines, bad = splitter.feed(data)
                if lines or bad:
                    put(lines, bad, position())
                continue
            if not follow:
                break
            # at the end: wait for more, and notice truncation or replacement
            time.sleep(0.05)
            try:
                st = os.stat(path)
            except FileNotFoundError:
                continue  # being replaced: keep what we have open until it reappears
            if (st.st_dev, st.st_ino) != (ident.st_dev, ident.st_ino):
                rest = f.read()  # lines written to the old file before the switch
                lines, bad = splitter.feed(rest)
                tail_lines, tail_bad = splitter.finish()
                f.close()
                f = open(path, "rb")  # noqa: SIM115
                ident, offset = os.fstat(f.fileno()), 0
                if lines or bad or tail_lines or tail_bad:
                    put(lines + tail_lines, bad + tail_bad, position())
            elif st.st_size < f.tell():  # truncated in place
                f.seek(0)
                offset = 0
        lines, bad = splitter.finish()
        if lines or bad:
            put(lines, bad, _file_position(path, ident, offset))
    finally:
        f.close()


def _file_position(path: str, ident: os.stat_result, offset: int) -> dict[str, Any]:
    return {"path": path, "dev": ident.st_dev, "ino": ident.st_ino, "offset": offset}


def _resume_file(path: str, ident: os.stat_result, start: dict[str, Any]) -> tuple[Any, int]:
    """Where to resume ``path`` from a checkpointed position: (old file to finish first, offset).

    The same file (device and inode) resumes at the saved offset.  A file
    rotated since (renamed in the same directory) is found by its inode and
    finished first; then the new file is read from its start.
    """
    offset = int(start["offset"])
    if (ident.st_dev, ident.st_ino) == (start["dev"], start["ino"]):
        if ident.st_size < offset:
            warnings.warn(
                f"{path} is shorter ({ident.st_size} bytes) than at the checkpoint "
                f"(byte {offset}): it was truncated; reading it from its start",
                SourceWarning,
                stacklevel=2,
            )
            return None, 0
        return None, offset
    directory = os.path.dirname(os.path.abspath(path))
    for entry in os.scandir(directory):
        with contextlib.suppress(OSError):
            st = entry.stat(follow_symlinks=False)
            if (st.st_dev, st.st_ino) == (start["dev"], start["ino"]) and entry.is_file():
                old = open(entry.path, "rb")  # noqa: SIM115  (closed by the caller)
                old.seek(offset)
                return old, 0
    warnings.warn(
        f"{path} was replaced since the checkpoint and the old file is gone: its lines after "
        f"byte {offset} were not read; reading the new file from its start",
        SourceWarning,
        stacklevel=2,
    )
    return None, 0


def _serve_tcp(
    source: LineSource, put: Put, stop: threading.Event, ready: Callable[[str], None]
) -> None:
    lock = threading.Lock()

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            splitter = LineSplitter(source.max_line_bytes)
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

    _serve(Server, Handler, source, "tcp", stop, ready)


def _serve_http(
    source: LineSource, put: Put, stop: threading.Event, ready: Callable[[str], None]
) -> None:
    lock = threading.Lock()

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

    _serve(Server, Handler, source, "http", stop, ready)


def _serve(
    server_class: type[socketserver.TCPServer],
    handler: type[socketserver.BaseRequestHandler],
    source: LineSource,
    scheme: str,
    stop: threading.Event,
    ready: Callable[[str], None],
) -> None:
    """Listen, announce the address, serve on a thread until ``stop``, then shut down."""
    try:
        server = server_class((source.host, source.port), handler)
    except OSError as exc:
        raise SourceError(
            f"cannot listen on {scheme}://{source.host}:{source.port}: {exc.strerror}"
        ) from None
    with server:
        host, port = server.socket.getsockname()[:2]
        source.address = f"{scheme}://{host}:{port}" + (source.path if scheme == "http" else "")
        ready(source.address)
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        thread.start()
        stop.wait()
        server.shutdown()


def _demo(source: LineSource, put: Put, stop: threading.Event) -> None:
    from toolkit.corpus import vocabulary

    rng = random.Random(0)
    vocab = vocabulary(5000)
    weights = [1.0 / (r + 1) for r in range(len(vocab))]
    sent = 0
    start = time.monotonic()
    per_chunk = max(1, int(source.rate / 20))  # about 20 chunks a second
    while not stop.is_set() and (source.limit is None or sent < source.limit):
        n = per_chunk if source.limit is None else min(per_chunk, source.limit - sent)
        words = rng.choices(vocab, weights, k=n * 8)
        put([" ".join(words[i * 8 : i * 8 + 8]) for i in range(n)], 0, None)
        sent += n
        delay = start + sent / source.rate - time.monotonic()
        if delay > 0:
            with contextlib.suppress(Exception):
                stop.wait(delay)


class from_lines(streamz.Source):
    """A streamz source of :class:`~toolkit.stream.windows.Chunk` from any toolkit source.

    For pipelines that run on an event loop: it emits chunks of lines as they
    arrive, a :class:`~toolkit.stream.windows.Tick` every ``tick`` seconds (so
    processing-time windows close on time), and :class:`~toolkit.stream.windows.End`
    when a finite source ends, after which the source stops.

    Examples
    --------
    >>> from streamz import Stream
    >>> s = Stream.from_lines("demo:?rate=1000&lines=10")
    >>> type(s).__name__, s.source.kind
    ('from_lines', 'demo')
    """

    def __init__(
        self,
        spec: str | LineSource,
        *,
        follow: bool = False,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
        tick: float = 0.2,
        queue_size: int = 8,
        **kwargs: Any,
    ) -> None:
        self.source = (
            spec
            if isinstance(spec, LineSource)
            else parse_source(spec, follow=follow, max_line_bytes=max_line_bytes)
        )
        self.tick = tick
        self._queue: queue.Queue[tuple[str, list[str], int]] = queue.Queue(maxsize=queue_size)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_tick = 0.0
        super().__init__(**kwargs)

    def _put(self, lines: list[str], bad: int, position: Any = None) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(("chunk", lines, bad), timeout=0.1)
                return
            except queue.Full:
                continue

    def _read(self) -> None:
        try:
            self.source.run(self._put, self._stop, lambda address: None)
        finally:
            self._queue.put(("end", [], 0))

    def stop(self) -> None:
        """Stop polling and the reading thread."""
        self._stop.set()
        super().stop()

    async def _run(self) -> None:
        from toolkit.stream.windows import Chunk, End, Tick

        if self._thread is None:
            self._thread = threading.Thread(
                target=self._read, name="toolkit-from-lines", daemon=True
            )
            self._thread.start()
        now = time.time()
        if now >= self._next_tick:
            self._next_tick = now + self.tick
            await asyncio.gather(*self._emit(Tick(now)))
        try:
            kind, lines, bad = self._queue.get_nowait()
        except queue.Empty:
            await asyncio.sleep(min(0.02, self.tick))
            return
        if kind == "end":
            await asyncio.gather(*self._emit(End()))
            super().stop()
            return
        await asyncio.gather(*self._emit(Chunk(lines, time.time(), bad)))


register_node(from_lines, staticmethod)
