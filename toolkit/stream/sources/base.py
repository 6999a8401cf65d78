"""What every stream source is: a reader that hands whole lines, in chunks, to ``put``.

A source runs on its own thread (:meth:`Source.run`) until its input ends or
``stop`` is set.  ``put`` blocks while the pipeline is behind: that is the
backpressure.  A *replayable* source tags each chunk with a position, and its
:class:`Cursor` turns the positions the pipeline has taken in into what a
checkpoint stores, and back.
"""

from __future__ import annotations

import abc
import threading
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from toolkit.errors import ConfigError, SourceWarning
from toolkit.lines import DEFAULT_MAX_LINE_BYTES

__all__ = ["READ_SIZE", "Cursor", "Put", "Ready", "Source", "SourceWarning"]

#: Bytes read at a time from a file, a pipe or a socket.
READ_SIZE = 2**20

#: ``put(lines, bad, position)``: hand over whole lines, how many bad lines were dropped, and
#: (for a replayable source) where the source stands after them.
Put = Callable[[Sequence[str], int, Any], None]

#: ``ready(address)``: a network source listens at ``address``.
Ready = Callable[[str], None]


class Cursor:
    """Where a replayable source stands: the position of the last chunk in the pipeline.

    Brokers that acknowledge what they delivered subclass it (see
    :class:`toolkit.stream.sources.redis_stream.AckCursor`).
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


class Source(abc.ABC):
    """A stream source: :meth:`run` reads it until it ends or ``stop`` is set.

    Subclasses set :attr:`kind`, implement :meth:`run` and, where they know
    more, :meth:`describe`, :attr:`finite` and :attr:`replayable`.  Files and
    Redis streams are replayable: a source restored to a position (see
    :meth:`snapshot`) reads on from there.  The others are not: lines accepted
    but not yet in a checkpoint are lost at a crash.
    """

    #: The source's kind, as messages name it: stdin, file, tcp, http, demo, redis.
    kind: ClassVar[str]
    #: Whether a checkpoint can bring this source back to a position.
    replayable: ClassVar[bool] = False
    #: Whether it listens for producers (tcp, http): its ``address`` is set once it does.
    listens: ClassVar[bool] = False

    def __init__(self, *, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> None:
        if isinstance(max_line_bytes, bool) or max_line_bytes < 1:
            raise ConfigError(f"max line bytes must be positive; got {max_line_bytes!r}")
        self.max_line_bytes = max_line_bytes
        self.resume_from: Any = None  # a position from a checkpoint
        self.address = ""  # where a network source listens, once started
        self.cursor = self.make_cursor()

    @property
    def finite(self) -> bool:
        """Whether the input ends by itself."""
        return False

    def make_cursor(self) -> Cursor:
        """The cursor that tracks this source's position (see :class:`Cursor`)."""
        return Cursor()

    def describe(self) -> str:
        """The source, for messages and for telling checkpoints of different jobs apart."""
        return self.kind

    @abc.abstractmethod
    def run(self, put: Put, stop: threading.Event, ready: Ready) -> None:
        """Read until the input ends or ``stop`` is set; ``ready(address)`` once listening."""

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

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.describe()}>"
