"""A real ``redis-server`` on a free loopback port, for the Redis Streams source tests."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def redis_server(directory: Path) -> Iterator[tuple[str, Any]]:
    """Start redis-server (no persistence) on 127.0.0.1; yield (``host:port``, a client)."""
    import redis

    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(binary).exists():
        raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = open(directory / "redis.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=log,
        stderr=log,
        cwd=directory,
    )
    client = redis.Redis(host="127.0.0.1", port=port)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError(
                        f"redis-server did not start: {(directory / 'redis.log').read_text()}"
                    ) from None
                time.sleep(0.05)
        yield f"127.0.0.1:{port}", client
    finally:
        client.close()
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def fill_stream(client: Any, stream: str, lines: list[str], field: str = "line") -> None:
    """XADD every line, in order, in pipelined batches."""
    for i in range(0, len(lines), 5000):
        pipe = client.pipeline(transaction=False)
        for line in lines[i : i + 5000]:
            pipe.xadd(stream, {field: line.encode()})
        pipe.execute()


def consumed(client: Any, stream: str, group: str) -> bool:
    """Whether the group has read every entry and acknowledged it (after a checkpoint)."""
    try:
        groups = client.xinfo_groups(stream)
    except Exception:
        return False
    for g in groups:
        if g["name"].decode() == group:
            return g.get("lag") == 0 and g["pending"] == 0
    return False
