"""Ctrl-C and SIGTERM as a terminal sends them: handled by the main process alone, never mid-line.

A terminal sends Ctrl-C to its whole foreground process group, and ``kill -- -PGID``
sends SIGTERM to one: the embedded cluster's worker processes get the signal as
well as the toolkit's main process.  Workers that died of it would print
``KeyboardInterrupt`` tracebacks and strand the futures the main process waits on.
So the worker processes are started with SIGINT and SIGTERM *blocked*
(:func:`signals_held`): they never see them, and shutdown is the main process's
work (it closes or kills them; they also exit when it dies).  Lines written to
the user (:func:`write_whole`) are written with the signals held too, so an
interrupt lands between lines, never inside one.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from typing import TextIO

__all__ = ["HELD", "Terminated", "signals_held", "write_whole"]

#: The signals a terminal or a service manager sends to stop a command.
HELD = frozenset({signal.SIGINT, signal.SIGTERM})


class Terminated(BaseException):
    """Raised in the main thread when SIGTERM arrives (as ``KeyboardInterrupt`` is for SIGINT)."""


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back from this thread while the block runs.

    A signal that arrives meanwhile is not lost: it is delivered when the block
    ends.  Threads started inside the block, and processes they fork, keep the
    signals blocked for good (a signal mask is inherited): this is how the
    embedded cluster's threads and worker processes leave Ctrl-C to the main
    thread.

    Examples
    --------
    >>> import signal
    >>> with signals_held():
    ...     signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, [])
    True
    >>> signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, [])
    False
    """
    old = signal.pthread_sigmask(signal.SIG_BLOCK, HELD)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def write_whole(stream: TextIO, text: str) -> None:
    """Write ``text`` (whole lines) and flush it, with no interrupt in between.

    Python runs signal handlers in the main thread between writes: one that
    raises (``KeyboardInterrupt``) would otherwise leave half a line behind.

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> write_whole(out, "one line\\n")
    >>> out.getvalue()
    'one line\\n'
    """
    with signals_held():
        stream.write(text)
        stream.flush()
