"""A test helper: runs a source on a thread and collects what it hands over."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from toolkit.stream.sources import Source


class Collector:
    """Runs a source on a thread, collecting what it puts."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.lines: list[str] = []
        self.bad = 0
        self.positions: list[Any] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.listening = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def put(self, lines: list[str], bad: int, position: Any = None) -> None:
        with self.lock:
            self.lines.extend(lines)
            self.bad += bad
            self.positions.append(position)

    def _run(self) -> None:
        try:
            self.source.run(self.put, self.stop, lambda addr: self.listening.set())
        except BaseException as exc:
            self.error = exc
            self.listening.set()

    def wait_for(self, condition: Callable[[], bool], timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, (
                f"timed out: {len(self.lines)} lines, {self.bad} bad"
            )
            time.sleep(0.02)

    def finish(self) -> None:
        self.stop.set()
        self.thread.join(timeout=10)
        assert not self.thread.is_alive()
