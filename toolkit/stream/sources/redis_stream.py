"""A replayable source: a Redis stream read through a consumer group.

``redis://HOST:PORT/STREAM?group=G&consumer=C`` reads entries with
``XREADGROUP``.  Entries are acknowledged (``XACK``) only once a checkpoint
holding their counts is written, so after a crash the group still has them
pending and they are read again: first this consumer's own pending entries,
then (``XAUTOCLAIM``) entries that other consumers left pending for longer than
``claim-idle``, then new ones.  Each entry's ``field`` (default ``line``) is
one or more lines of text.  Reading stops while the pipeline is behind
(backpressure): Redis keeps what is not read yet.

Query options: ``group`` (default ``toolkit``), ``consumer`` (default
``toolkit-HOSTNAME``), ``start`` (the entry id a new group starts after:
``0`` for the whole stream, the default, or ``$`` for new entries only; given
for an existing group, the group is moved there), ``field``, ``count``
(entries per read, default 1000), ``claim-idle`` (default ``60s``), ``db``.
``rediss://`` connects with TLS; ``redis://:PASSWORD@HOST:PORT/...`` with a
password.
"""

from __future__ import annotations

import socket
import threading
import time
import urllib.parse
from typing import Any

from toolkit.errors import ConfigError, SourceError
from toolkit.lines import DEFAULT_MAX_LINE_BYTES, cut_lines
from toolkit.stream.sources.base import Cursor, Put, Ready, Source

__all__ = ["AckCursor", "RedisSource", "parse_redis"]

RETRY_FOR = 10.0  # seconds a dropped connection is retried before the source fails
_OPTIONS = {"group", "consumer", "start", "field", "count", "claim-idle", "db"}


def parse_redis(spec: str) -> dict[str, Any]:
    """The :class:`RedisSource` arguments for a ``redis://`` URL.

    Examples
    --------
    >>> parsed = parse_redis("redis://127.0.0.1:6379/events?group=g&consumer=c1")
    >>> parsed["host"], parsed["port"], parsed["stream"], parsed["options"]["consumer"]
    ('127.0.0.1', 6379, 'events', 'c1')
    """
    url = urllib.parse.urlsplit(spec)
    stream = urllib.parse.unquote(url.path.lstrip("/"))
    if not stream:
        raise ConfigError(
            f"a redis source names its stream: redis://HOST:PORT/STREAM; got {spec!r}"
        )
    try:
        port = url.port or 6379
    except ValueError:
        raise ConfigError(f"bad port in {spec!r}") from None
    query = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query).items()}
    unknown = sorted(set(query) - _OPTIONS)
    if unknown:
        raise ConfigError(
            f"unknown redis source option(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(_OPTIONS))}"
        )
    try:
        count = int(query.get("count", "1000"))
        db = int(query.get("db", "0"))
    except ValueError:
        raise ConfigError(f"count and db are whole numbers in {spec!r}") from None
    if count < 1:
        raise ConfigError(f"count must be positive in {spec!r}")
    options = {
        "group": query.get("group", "toolkit"),
        "consumer": query.get("consumer", f"toolkit-{socket.gethostname()}"),
        "start": query.get("start"),
        "field": query.get("field", "line"),
        "count": count,
        "claim_idle": _idle(query.get("claim-idle", "60s")),
        "db": db,
        "tls": url.scheme == "rediss",
        "username": urllib.parse.unquote(url.username) if url.username else None,
        "password": urllib.parse.unquote(url.password) if url.password else None,
    }
    return {"host": url.hostname or "127.0.0.1", "port": port, "stream": stream, "options": options}


def _idle(text: str) -> float:
    from toolkit.units import parse_duration

    return 0.0 if text.strip() in ("0", "0s", "0ms") else parse_duration(text)


class RedisSource(Source):
    """Entries of the Redis stream ``stream`` at ``host:port``, read with a consumer group.

    ``options`` are those of :func:`parse_redis` (group, consumer, start, field,
    count, claim_idle, db, tls, username, password).  Replayable: entries are
    acknowledged only once a checkpoint holds them (see :class:`AckCursor`).
    """

    kind = "redis"
    replayable = True

    def __init__(
        self,
        host: str,
        port: int,
        stream: str,
        options: dict[str, Any],
        *,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    ) -> None:
        self.host, self.port, self.stream, self.options = host, port, stream, options
        super().__init__(max_line_bytes=max_line_bytes)

    @classmethod
    def from_url(cls, spec: str, *, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> RedisSource:
        """``redis://[:PASSWORD@]HOST:PORT/STREAM?group=G&consumer=C&...``; see the module docs."""
        return cls(**parse_redis(spec), max_line_bytes=max_line_bytes)

    def make_cursor(self) -> Cursor:
        return AckCursor(self)

    def describe(self) -> str:
        """``redis://HOST:PORT/STREAM?group=G`` (no password, no consumer: a restarted job may
        take another consumer name and still own its checkpoint)."""
        o = self.options
        scheme = "rediss" if o["tls"] else "redis"
        return f"{scheme}://{self.host}:{self.port}/{self.stream}?group={o['group']}&db={o['db']}"

    def run(self, put: Put, stop: threading.Event, ready: Ready) -> None:
        """Read the stream until ``stop``; see the module docs."""
        _Reader(self, put, stop).run()


def _client(source: RedisSource) -> Any:
    try:
        import redis
    except ImportError:
        raise ConfigError(
            "redis:// sources need the redis package: pip install 'toolkit[redis]'"
        ) from None
    o = source.options
    return redis.Redis(
        host=source.host,
        port=source.port,
        db=o["db"],
        username=o["username"],
        password=o["password"],
        ssl=o["tls"],
        socket_connect_timeout=5,
        socket_timeout=30,
    )


def _where(source: RedisSource) -> str:
    return f"redis://{source.host}:{source.port}/{source.stream}"


class AckCursor(Cursor):
    """The entries counted since the last checkpoint; XACKed once a checkpoint holds them.

    Its snapshot is ``{"ack": [ids]}``: after a crash between writing the
    checkpoint and the XACK, the restarted reader acknowledges those ids
    instead of counting them again.
    """

    def __init__(self, source: RedisSource) -> None:
        super().__init__()
        self.source = source
        self.ids: list[str] = []
        self.client: Any = None

    def restore(self, position: Any) -> None:
        self.ids = list((position or {}).get("ack", []))  # counted, maybe not acknowledged

    def mark(self, position: Any) -> None:
        self.ids.extend(position["ids"])

    def snapshot(self) -> Any:
        return {"ack": list(self.ids)}

    def commit(self) -> None:
        if not self.ids:
            return
        import redis

        if self.client is None:
            self.client = _client(self.source)
        try:
            for i in range(0, len(self.ids), 10_000):
                self.client.xack(
                    self.source.stream, self.source.options["group"], *self.ids[i : i + 10_000]
                )
        except redis.RedisError as exc:
            # not fatal to the data: unacknowledged entries are read again after a
            # restart, and the checkpoint says they are counted
            raise SourceError(f"{_where(self.source)}: cannot acknowledge entries: {exc}") from None
        self.ids = []


class _Reader:
    """XREADGROUP / XAUTOCLAIM loop for one source; hands lines to ``put``."""

    def __init__(self, source: RedisSource, put: Put, stop: threading.Event) -> None:
        self.source, self.put, self.stop = source, put, stop
        self.o = source.options
        self.client = _client(source)
        self.stream = source.stream
        self.field = self.o["field"].encode()

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """A Redis command, retried for RETRY_FOR seconds if the connection drops."""
        import redis

        deadline = time.monotonic() + RETRY_FOR
        while True:
            try:
                return getattr(self.client, name)(*args, **kwargs)
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                if time.monotonic() > deadline or self.stop.is_set():
                    raise SourceError(
                        f"{_where(self.source)}: lost the connection to Redis ({exc}); "
                        "entries not yet in a checkpoint stay pending and are read on restart"
                    ) from None
                time.sleep(0.5)
            except redis.ResponseError as exc:
                raise SourceError(f"{_where(self.source)}: {name}: {exc}") from None

    def ensure_group(self) -> None:
        import redis

        start = self.o["start"]
        try:
            self.client.xgroup_create(self.stream, self.o["group"], id=start or "0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise SourceError(f"{_where(self.source)}: cannot create group: {exc}") from None
            if start is not None and self.source.resume_from is None:
                self.call("xgroup_setid", self.stream, self.o["group"], start)
        except redis.ConnectionError as exc:
            raise SourceError(f"cannot reach Redis at {_where(self.source)}: {exc}") from None

    def deliver(self, entries: list[Any], skip: set[bytes] | None = None) -> None:
        limit = self.source.max_line_bytes
        lines: list[str] = []
        bad = 0
        ids: list[str] = []
        for entry_id, fields in entries:
            ids.append(entry_id.decode())
            if skip is not None and entry_id in skip:
                continue  # counted in the checkpoint already
            if not fields:
                continue  # deleted from the stream since it was delivered
            value = fields.get(self.field)
            if value is None or len(value) > limit:
                bad += 1
                continue
            try:
                text = value.decode("utf-8")
            except UnicodeDecodeError:
                bad += 1
                continue
            lines.extend(cut_lines(text))
        if ids:
            self.put(lines, bad, {"ids": ids})

    def run(self) -> None:
        self.ensure_group()
        group, consumer, count = self.o["group"], self.o["consumer"], self.o["count"]
        resumed = self.source.resume_from or {}
        done = {x.encode() for x in resumed.get("ack", [])}
        if done:  # counted in the checkpoint; maybe not acknowledged before the crash
            for i in range(0, len(done), 10_000):
                self.call("xack", self.stream, group, *sorted(done)[i : i + 10_000])
        # 1. this consumer's pending entries: read before, not in a checkpoint
        last: bytes | str = "0"
        while not self.stop.is_set():
            reply = self.call("xreadgroup", group, consumer, {self.stream: last}, count=count)
            entries = reply[0][1] if reply else []
            if not entries:
                break
            self.deliver(entries, skip=done)
            last = entries[-1][0]
        # 2. entries other consumers left pending too long
        cursor: bytes | str = "0-0"
        idle_ms = int(self.o["claim_idle"] * 1000)
        while not self.stop.is_set():
            reply = self.call(
                "xautoclaim", self.stream, group, consumer, idle_ms, start_id=cursor, count=count
            )
            cursor, entries = reply[0], reply[1]
            self.deliver([e for e in entries if e[1] is not None])
            if cursor in (b"0-0", "0-0"):
                break
        # 3. new entries, as long as the pipeline keeps up (put blocks otherwise)
        while not self.stop.is_set():
            reply = self.call(
                "xreadgroup", group, consumer, {self.stream: ">"}, count=count, block=200
            )
            if reply:
                self.deliver(reply[0][1])
