"""The user jobs of the benchmarks, as a user writes them: plain functions over access-log records.

``status_bytes`` + ``add``: bytes per status code (``status_bytes_frame``: the same over a
chunk's DataFrame); ``client_one`` + ``add``: requests per client.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def status_bytes(record: dict[str, Any]) -> Iterator[tuple[int, int]]:
    yield record["status"], record["bytes"]


def client_one(record: dict[str, Any]) -> Iterator[tuple[str, int]]:
    yield record["client"], 1


def add(a: int, b: int) -> int:
    return a + b


def status_bytes_frame(frame: Any) -> Any:
    """``status_bytes`` as a frame mapper (``--frames pandas``): the chunk's bytes per status."""
    return frame.groupby("status")["bytes"].sum().items()
