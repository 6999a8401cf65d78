"""Sources read on their own threads into one bounded queue: where a stream's driver takes chunks.

Each of a stream's inputs is a named source (its *side*); every source runs on a
thread of its own and hands its chunks to one queue, tagged with the side, so the
driver (:mod:`toolkit.stream.driver`) takes them in arrival order.  A source's
``put`` blocks while the queue is full (backpressure), and a chunk accepted while
the stream stops is kept, not dropped (:meth:`SourceReader.rest`).
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from toolkit.errors import ConfigError
from toolkit.lines import LineBlock
from toolkit.stream.messages import MAIN
from toolkit.stream.sources.base import Ready, Source

__all__ = ["MERGED_BYTES", "Read", "SourceReader"]

_PUT_WAIT = 0.2  # seconds between looks at the stop flag while the queue is full
#: Bytes of one input's waiting chunks taken together at most.
MERGED_BYTES = 4 * 2**20


def _size(item: Read) -> int:
    lines = item.lines
    return lines.size if isinstance(lines, LineBlock) else sum(map(len, lines))


@dataclass(frozen=True)
class Read:
    """Lines one source handed over together, how many bad lines it dropped, its position
    after them, and which input (side) it is; ``end``: that input has ended.  Chunks taken
    together keep every position (a broker's is of its own entries, not a running offset).
    """

    lines: Sequence[str]
    bad: int
    position: Any = None
    side: str = MAIN
    end: bool = False
    earlier: tuple[Any, ...] = ()  # positions of chunks taken together before this one


#: Put on the queue by :meth:`SourceReader.wake`: a waiting ``get`` returns None at once.
_WAKE = Read([], 0, "wake")


class SourceReader:
    """Run each source on a thread, their chunks going through one queue of ``queue_size``.

    ``sources`` maps each input's name to its source (a single source is the
    input ``"main"``).  :meth:`get` returns the chunks as they come, each side's
    last one followed by a :class:`Read` with ``end`` set.

    Examples
    --------
    >>> from toolkit.stream.sources import parse_source
    >>> reader = SourceReader({"a": parse_source("demo:?rate=100000&lines=20"),
    ...                        "b": parse_source("demo:?rate=100000&lines=5")})
    >>> reader.start()
    >>> lines = {"a": 0, "b": 0}
    >>> while not reader.done:
    ...     if (item := reader.get(timeout=5)) is not None:
    ...         lines[item.side] += len(item.lines)
    >>> reader.join(); lines
    {'a': 20, 'b': 5}
    """

    def __init__(self, sources: Mapping[str, Source] | Source, *, queue_size: int = 8) -> None:
        if isinstance(queue_size, bool) or not isinstance(queue_size, int) or queue_size < 1:
            raise ConfigError(f"queue size must be a positive int; got {queue_size!r}")
        self.sources = dict(sources) if isinstance(sources, Mapping) else {MAIN: sources}
        if not self.sources:
            raise ConfigError("a stream needs at least one source")
        self.stop_event = threading.Event()
        self.error: BaseException | None = None  # what a source raised, if one failed
        self.failed: str | None = None  # the side whose source failed
        self.open = set(self.sources)  # the sides whose end has not been taken yet
        self._queue: queue.Queue[Read] = queue.Queue(maxsize=queue_size)
        self._leftover: list[Read] = []  # accepted while stopping: still to be counted
        self._held: Read | None = None  # taken from the queue for the next get
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    @property
    def done(self) -> bool:
        """Whether every input's end has been taken."""
        return not self.open

    def start(self, ready: Ready | None = None) -> None:
        """Start reading; ``ready(address)`` once a network source listens."""
        for side, source in self.sources.items():
            thread = threading.Thread(
                target=self._read,
                args=(side, source, ready or (lambda address: None)),
                name=f"toolkit-source-{side}",
                daemon=True,
            )
            self._threads.append(thread)
            thread.start()

    def put(self, lines: Sequence[str], bad: int, position: Any = None, side: str = MAIN) -> None:
        """Input ``side``'s ``put``: blocks while the queue is full, unless the stream stops."""
        self._put(Read(lines, bad, position, side))

    def _put(self, item: Read) -> None:
        while not self.stop_event.is_set():
            try:
                self._queue.put(item, timeout=_PUT_WAIT)
                return
            except queue.Full:
                continue
        with self._lock:
            self._leftover.append(item)

    def get(self, timeout: float | None = None) -> Read | None:
        """The next chunk (or a side's end), or None if nothing came in ``timeout``.

        Chunks of one input waiting one behind the other are taken together, as one
        (up to :data:`MERGED_BYTES`): a stream that is behind catches up in fewer,
        larger micro-batches.  ``timeout`` 0 does not wait.
        """
        item = self._next(timeout)
        if item is None:
            return None
        if item.end:
            self.open.discard(item.side)
            return item
        taken, size = [item], _size(item)
        while size < MERGED_BYTES and (more := self._next(0)) is not None:
            if more.end or more.side != item.side:
                self._held = more  # the next get's
                break
            taken.append(more)
            size += _size(more)
        if len(taken) == 1:
            return item
        lines = LineBlock.joined([t.lines for t in taken])
        earlier = tuple(p for t in taken[:-1] for p in (*t.earlier, t.position))
        return Read(lines, sum(t.bad for t in taken), taken[-1].position, item.side, False, earlier)

    def _next(self, timeout: float | None) -> Read | None:
        if self._held is not None:
            item, self._held = self._held, None
        else:
            try:
                item = (
                    self._queue.get_nowait() if timeout == 0 else self._queue.get(timeout=timeout)
                )
            except queue.Empty:
                return None
        return None if item is _WAKE else item

    def wake(self) -> None:
        """Make the driver's waiting :meth:`get` return (None) now: a cluster batch finished,
        whose results may close a window.  Thread-safe; a full queue needs no waking."""
        with contextlib.suppress(queue.Full):
            self._queue.put_nowait(_WAKE)

    def stop(self) -> None:
        """Ask every source to stop reading."""
        self.stop_event.set()

    def join(self, timeout: float = 5.0) -> None:
        """Wait for the reading threads to end (after :meth:`stop`, or the inputs' end)."""
        for thread in self._threads:
            thread.join(timeout=timeout)

    def rest(self) -> list[Read]:
        """The chunks not taken yet, and those accepted while stopping (call after :meth:`join`)."""
        rest = [] if self._held is None or self._held.end else [self._held]
        self._held = None
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if not item.end and item is not _WAKE:
                rest.append(item)
        with self._lock:
            rest.extend(self._leftover)
            self._leftover.clear()
        return rest

    def _read(self, side: str, source: Source, ready: Ready) -> None:
        def put(lines: Sequence[str], bad: int, position: Any = None) -> None:
            self.put(lines, bad, position, side)

        try:
            source.run(put, self.stop_event, ready)
        except BaseException as exc:  # reported by the driver, in its own thread
            with self._lock:
                if self.error is None:
                    self.error, self.failed = exc, side
            self.stop_event.set()  # one input failing stops the stream
        finally:
            end = Read([], 0, None, side, end=True)
            while True:  # after a stop nobody may take it: then the driver joins instead
                try:
                    self._queue.put(end, timeout=_PUT_WAIT)
                    break
                except queue.Full:
                    if self.stop_event.is_set():
                        break
