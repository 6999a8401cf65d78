"""The Redis Streams source, against a real redis-server."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.redis_server import free_port, redis_server
from toolkit.errors import ConfigError, SourceError
from toolkit.stream.sources import Source, parse_source
from toolkit.stream.sources.redis_stream import parse_redis


def test_parse_defaults_and_options() -> None:
    src = parse_source("redis://127.0.0.1:7000/logs")
    assert (src.kind, src.host, src.port, src.stream) == ("redis", "127.0.0.1", 7000, "logs")
    assert src.options["group"] == "toolkit" and src.options["consumer"].startswith("toolkit-")
    assert src.options["start"] is None and src.options["claim_idle"] == 60
    assert src.replayable
    opts = parse_redis("rediss://:s3cret@h:1/a%2Fb?start=$&count=5&claim-idle=0s")["options"]
    assert (opts["tls"], opts["password"], opts["start"], opts["count"]) == (True, "s3cret", "$", 5)
    assert "s3cret" not in parse_source("redis://:s3cret@h:1/x").describe()


@pytest.mark.parametrize(
    "spec, message",
    [
        ("redis://127.0.0.1:6379", "names its stream"),
        ("redis://127.0.0.1:6379/s?grup=x", "unknown redis source option.*grup"),
        ("redis://127.0.0.1:6379/s?count=0", "count must be positive"),
        ("redis://127.0.0.1:6379/s?count=x", "whole numbers"),
    ],
)
def test_bad_urls_are_config_errors(spec: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_source(spec)


class Reader:
    def __init__(self, source: Source) -> None:
        self.source = source
        self.chunks: list[tuple[list[str], int, Any]] = []
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.source.run(lambda *chunk: self.chunks.append(chunk), self.stop, lambda a: None)
        except BaseException as exc:
            self.error = exc

    def lines(self) -> list[str]:
        return [x for chunk in self.chunks for x in chunk[0]]

    def wait(self, n: int) -> None:
        deadline = time.monotonic() + 20
        while len(self.lines()) < n and time.monotonic() < deadline and self.error is None:
            time.sleep(0.02)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=10)


def pending(client: Any, stream: str, group: str) -> int:
    return int(client.xpending(stream, group)["pending"])


def test_reads_counts_bad_entries_and_acks_only_on_commit(tmp_path: Path) -> None:
    with redis_server(tmp_path) as (address, client):
        for value in [b"one two", "naïve 日本".encode(), b"bad \xff", b"x" * 100, b"a\nb"]:
            client.xadd("s", {"line": value})
        client.xadd("s", {"other": b"no line field"})
        src = parse_source(f"redis://{address}/s?group=g&consumer=c", max_line_bytes=50)
        reader = Reader(src)
        reader.wait(4)
        assert reader.lines() == ["one two", "naïve 日本", "a", "b"]
        assert sum(chunk[1] for chunk in reader.chunks) == 3  # invalid UTF-8, too long, no field
        for chunk in reader.chunks:
            src.mark(chunk[2])
        assert pending(client, "s", "g") == 6  # read, but in no checkpoint yet
        assert len(src.snapshot()["ack"]) == 6
        src.commit()
        assert pending(client, "s", "g") == 0
        reader.close()


def test_a_restart_replays_what_no_checkpoint_holds(tmp_path: Path) -> None:
    with redis_server(tmp_path) as (address, client):
        for i in range(10):
            client.xadd("s", {"line": f"line {i}".encode()})
        url = f"redis://{address}/s?group=g&consumer=c&count=4"
        first = parse_source(url)
        reader = Reader(first)
        reader.wait(10)
        reader.close()
        # the first chunk is in a checkpoint, then the process dies before XACK
        first.mark(reader.chunks[0][2])
        checkpoint = first.snapshot()
        assert len(checkpoint["ack"]) == 4
        second = parse_source(url)
        second.restore(checkpoint)
        again = Reader(second)
        again.wait(6)
        again.close()
        assert again.lines() == [f"line {i}" for i in range(4, 10)]
        assert pending(client, "s", "g") == 6  # the checkpointed four were acknowledged


def test_another_consumer_claims_entries_left_pending(tmp_path: Path) -> None:
    with redis_server(tmp_path) as (address, client):
        for i in range(5):
            client.xadd("s", {"line": f"line {i}".encode()})
        reader = Reader(parse_source(f"redis://{address}/s?group=g&consumer=dead"))
        reader.wait(5)
        reader.close()
        client.xadd("s", {"line": b"line 5"})
        heir = Reader(parse_source(f"redis://{address}/s?group=g&consumer=heir&claim-idle=0s"))
        heir.wait(6)
        heir.close()
        assert heir.lines() == [f"line {i}" for i in range(6)]


def test_start_at_a_given_entry(tmp_path: Path) -> None:
    with redis_server(tmp_path) as (address, client):
        ids = [client.xadd("s", {"line": f"line {i}".encode()}).decode() for i in range(4)]
        reader = Reader(parse_source(f"redis://{address}/s?group=g&start={ids[1]}"))
        reader.wait(2)
        reader.close()
        assert reader.lines() == ["line 2", "line 3"]


def test_an_unreachable_server_is_one_clear_error() -> None:
    port = free_port()
    reader = Reader(parse_source(f"redis://127.0.0.1:{port}/s"))
    reader.thread.join(timeout=30)
    assert isinstance(reader.error, SourceError)
    assert str(reader.error).startswith(f"cannot reach Redis at redis://127.0.0.1:{port}/s")
