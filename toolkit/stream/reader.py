"""A source read on its own thread into a bounded queue: where a stream's driver takes chunks.

Both drivers use it, the pipeline's thread (:mod:`toolkit.stream.pipeline`) and
``Stream.from_lines`` on an event loop (:mod:`toolkit.stream.sources.event_loop`):
the source's ``put`` blocks while the queue is full (backpressure), and a chunk
accepted while the stream stops is kept, not dropped (:meth:`SourceReader.rest`).
"""

from __future__ import annotations

import contextlib
import queue
import threading
from dataclasses import dataclass
from typing import Any

from toolkit.errors import ConfigError
from toolkit.stream.sources.base import Ready, Source

__all__ = ["END", "Read", "SourceReader"]

_PUT_WAIT = 0.2  # seconds between looks at the stop flag while the queue is full


@dataclass(frozen=True)
class Read:
    """Lines the source handed over together, how many bad lines it dropped, and its position."""

    lines: list[str]
    bad: int
    position: Any = None


#: Put on the queue after the source's last chunk.
END = Read([], 0, "end")
#: Put on the queue by :meth:`SourceReader.wake`: a waiting ``get`` returns None at once.
WAKE = Read([], 0, "wake")


class SourceReader:
    """Run ``source`` on a thread, its chunks going through a queue of ``queue_size``.

    Examples
    --------
    >>> from toolkit.stream.sources import parse_source
    >>> reader = SourceReader(parse_source("demo:?rate=100000&lines=20"))
    >>> reader.start()
    >>> lines = 0
    >>> while (item := reader.get(timeout=5)) is not END:
    ...     lines += len(item.lines) if item is not None else 0
    >>> reader.join(); lines
    20
    """

    def __init__(self, source: Source, *, queue_size: int = 8) -> None:
        if isinstance(queue_size, bool) or not isinstance(queue_size, int) or queue_size < 1:
            raise ConfigError(f"queue size must be a positive int; got {queue_size!r}")
        self.source = source
        self.stop_event = threading.Event()
        self.error: BaseException | None = None  # what the source raised, if it failed
        self._queue: queue.Queue[Read] = queue.Queue(maxsize=queue_size)
        self._leftover: list[Read] = []  # accepted while stopping: still to be counted
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self, ready: Ready | None = None) -> None:
        """Start reading; ``ready(address)`` once a network source listens."""
        self._thread = threading.Thread(
            target=self._read,
            args=(ready or (lambda address: None),),
            name="toolkit-source",
            daemon=True,
        )
        self._thread.start()

    def put(self, lines: list[str], bad: int, position: Any = None) -> None:
        """The source's ``put``: blocks while the queue is full, unless the stream stops."""
        item = Read(lines, bad, position)
        while not self.stop_event.is_set():
            try:
                self._queue.put(item, timeout=_PUT_WAIT)
                return
            except queue.Full:
                continue
        with self._lock:
            self._leftover.append(item)

    def get(self, timeout: float | None = None) -> Read | None:
        """The next chunk, :data:`END` after the last one, or None if nothing came in ``timeout``.

        ``timeout`` 0 does not wait.
        """
        try:
            item = self._queue.get_nowait() if timeout == 0 else self._queue.get(timeout=timeout)
        except queue.Empty:
            return None
        return None if item is WAKE else item

    def wake(self) -> None:
        """Make the driver's waiting :meth:`get` return (None) now: a cluster batch finished,
        whose results may close a window.  Thread-safe; a full queue needs no waking."""
        with contextlib.suppress(queue.Full):
            self._queue.put_nowait(WAKE)

    def stop(self) -> None:
        """Ask the source to stop reading."""
        self.stop_event.set()

    def join(self, timeout: float = 5.0) -> None:
        """Wait for the reading thread to end (after :meth:`stop`, or the input's end)."""
        if self._thread is not None:
            self._thread.join(timeout=timeout)

    def rest(self) -> list[Read]:
        """The chunks not taken yet, and those accepted while stopping (call after :meth:`join`)."""
        rest = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not END and item is not WAKE:
                rest.append(item)
        with self._lock:
            rest.extend(self._leftover)
            self._leftover.clear()
        return rest

    def _read(self, ready: Ready) -> None:
        try:
            self.source.run(self.put, self.stop_event, ready)
        except BaseException as exc:  # reported by the driver, in its own thread
            self.error = exc
        finally:
            while True:  # after a stop nobody may take it: then the driver joins instead
                try:
                    self._queue.put(END, timeout=_PUT_WAIT)
                    break
                except queue.Full:
                    if self.stop_event.is_set():
                        break
