"""The reading thread and bounded queue every stream driver takes chunks from."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from toolkit.errors import SourceError
from toolkit.stream.messages import MAIN
from toolkit.stream.reader import SourceReader
from toolkit.stream.sources import DemoSource, FileSource, parse_source


class CountingReader(SourceReader):
    """A reader that counts the lines its source handed over (to check that none is lost)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.handed = 0
        self._count_lock = threading.Lock()

    def put(self, lines: list[str], bad: int, position: Any = None, side: str = MAIN) -> None:
        with self._count_lock:
            self.handed += len(lines)
        super().put(lines, bad, position, side)


def test_a_full_queue_holds_the_source_back() -> None:
    source = DemoSource(rate=200_000)  # chunks of 10,000 lines
    reader = CountingReader(source, queue_size=2)
    reader.start()
    deadline = time.monotonic() + 10
    while reader.handed < 30_000 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.5)  # nothing is taken: no fourth chunk may come
    assert reader.handed == 30_000  # two in the queue, the third waiting in put()
    reader.stop()
    reader.join(timeout=5)


def test_stopping_with_a_full_queue_ends_at_once_and_loses_nothing() -> None:
    reader = CountingReader(DemoSource(rate=200_000), queue_size=2)
    reader.start()
    taken = 0
    for _ in range(3):
        item = reader.get(timeout=5)
        assert item is not None and not item.end
        taken += len(item.lines)
    deadline = time.monotonic() + 10
    while reader.handed < taken + 30_000 and time.monotonic() < deadline:
        time.sleep(0.01)  # the queue fills up again
    reader.stop()
    started = time.monotonic()
    reader.join(timeout=5)
    assert time.monotonic() - started < 2  # the end marker does not wait for room
    taken += sum(len(item.lines) for item in reader.rest())
    assert taken == reader.handed > 0


def test_a_finite_source_ends_with_the_end_marker(tmp_path: Path) -> None:
    path = tmp_path / "in.txt"
    path.write_text("".join(f"line {i}\n" for i in range(1000)))
    reader = SourceReader(FileSource(str(path)))
    reader.start()
    lines, positions = [], []
    while not (item := reader.get(timeout=5)).end:  # type: ignore[union-attr]
        assert item is not None
        lines += item.lines
        positions.append(item.position)
    assert lines == [f"line {i}" for i in range(1000)]
    assert positions[-1]["offset"] == path.stat().st_size  # file chunks carry positions
    assert reader.error is None


def test_a_failing_source_is_reported_after_its_end() -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        reader = SourceReader(parse_source(f"tcp://127.0.0.1:{port}"))
        reader.start()
        end = reader.get(timeout=10)
        assert end is not None and end.end and reader.done
    assert isinstance(reader.error, SourceError)


def test_queue_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="queue size must be a positive int"):
        SourceReader(DemoSource(), queue_size=0)


def test_chunks_waiting_one_behind_the_other_are_taken_together(tmp_path: Path) -> None:
    """A reader that is behind hands the chunks of one input over as one (up to a size),
    in order, never across inputs or past an input's end; nothing lost, nothing twice."""
    from toolkit.stream.sources.base import Put, Ready, Source

    class Burst(Source):
        kind = "burst"

        def __init__(self, name: str, chunks: int) -> None:
            super().__init__()
            self.name, self.chunks = name, chunks

        def run(self, put: Put, stop: threading.Event, ready: Ready) -> None:
            for i in range(self.chunks):
                put([f"{self.name}{i}-{j}" for j in range(3)], i % 2, {"chunk": i})

    reader = SourceReader({"a": Burst("a", 6), "b": Burst("b", 2)}, queue_size=16)
    reader.start()
    reader.join()  # every chunk waits in the queue
    items = []
    while not reader.done:
        item = reader.get(timeout=5)
        assert item is not None
        items.append(item)
    data = [i for i in items if not i.end]
    assert len(data) < 8  # some were taken together
    for side, n in (("a", 6), ("b", 2)):
        mine = [i for i in data if i.side == side]
        assert [x for i in mine for x in i.lines] == [
            f"{side}{c}-{j}" for c in range(n) for j in range(3)
        ]
        assert sum(i.bad for i in mine) == n // 2 and mine[-1].position == {"chunk": n - 1}
        positions = [p for i in mine for p in (*i.earlier, i.position)]
        assert positions == [{"chunk": c} for c in range(n)]  # every one, for a broker's acks
    ends = [i.side for i in items if i.end]
    assert sorted(ends) == ["a", "b"]
    for side in ends:  # an input's end comes after its last chunk
        assert max(k for k, i in enumerate(items) if i.side == side) == items.index(
            next(i for i in items if i.end and i.side == side)
        )
