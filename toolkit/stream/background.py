"""A stream a notebook can hold: started in the background, watched, stopped as Ctrl-C would.

:class:`Background` is what every windowed stream adds to its blocking
``run()``: :meth:`~Background.start` runs it on a thread of its own and returns
once the stream reads (its network sources listening), so a Jupyter kernel stays
usable; results gather in :attr:`~Background.received` (and
:meth:`~Background.to_frame`) while it runs; :meth:`~Background.stop` ends it as
Ctrl-C would (the open windows emitted, or kept for the checkpoint) and
:attr:`~Background.status` says what it is doing.
"""

from __future__ import annotations

import collections
import threading
from typing import TYPE_CHECKING, Any

from toolkit.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

    from toolkit.stream.stats import StreamStats

__all__ = ["KEPT_RESULTS", "Background"]

#: Results kept in :attr:`Background.received` (the latest; older ones are dropped).
KEPT_RESULTS = 100_000


class Background:
    """Running a stream in the background (mixed into every windowed stream).

    Examples
    --------
    >>> import toolkit
    >>> wc = toolkit.stream_word_count("demo:?rate=100000&lines=300", count=100)
    >>> wc.status
    'built'
    >>> wc.start().wait().lines, wc.status, len(wc.received)
    (300, 'ended', 3)
    >>> wc.to_frame()[["start", "end", "lines"]]
       start  end  lines
    0      0  100    100
    1    100  200    100
    2    200  300    100
    """

    phase = "built"  # built, running, stopping, ended or failed
    error: BaseException | None = None  # what ended a failed run
    _runner: threading.Thread | None = None
    _stats: StreamStats | None = None

    def _keep_results(self) -> None:
        """Gather results as they come (called once the results stream is built)."""
        self.received: collections.deque[Any] = collections.deque(maxlen=KEPT_RESULTS)
        self.results.sink(self.received.append)  # type: ignore[attr-defined]

    @property
    def status(self) -> str:
        """What the stream is doing: ``built``, ``running``, ``stopping``, ``ended`` or
        ``failed`` (then :attr:`error` says why)."""
        if self.phase == "running" and self.stopping:  # type: ignore[attr-defined]
            return "stopping"
        return self.phase

    def start(self, *, timeout: float = 60.0, **options: Any) -> Any:
        """Run the stream on a thread of its own; return it once it reads.

        Returns when every network source listens (their addresses are then in
        ``sources[name].address``), or at once for other sources, or when the
        run ended (a bad source fails here).  ``options`` are :meth:`run`'s.
        """
        if self._runner is not None or self.phase != "built":
            raise ConfigError("this stream has run already; build another to run again")
        listening = [s for s in self.sources.values() if s.listens]  # type: ignore[attr-defined]
        ready = threading.Event()
        heard: list[str] = []
        on_listen = options.pop("on_listen", None)

        def listen(address: str) -> None:
            heard.append(address)
            if on_listen is not None:
                on_listen(address)
            if len(heard) >= len(listening):
                ready.set()

        def target() -> None:
            try:
                self._stats = self.run(on_listen=listen, **options)  # type: ignore[attr-defined]
            except BaseException as exc:  # kept for wait() and stop(); status says failed
                self.error = exc
            finally:
                ready.set()

        self.phase = "running"
        self._runner = threading.Thread(target=target, name="toolkit-stream", daemon=True)
        self._runner.start()
        if listening:
            ready.wait(timeout)
        if self.error is not None:
            raise self.error
        return self

    def stop(self) -> StreamStats | None:
        """Ask the stream to stop reading, as Ctrl-C would: the open windows are emitted (or,
        with a checkpoint, kept for the run that resumes) and :meth:`run` returns.

        A stream started with :meth:`start` is waited for: its stats.  Safe from any
        thread and from a signal handler.
        """
        self.driver.stop()  # type: ignore[attr-defined]
        if self._runner is not None and threading.current_thread() is not self._runner:
            return self.wait()
        return None

    def wait(self, timeout: float | None = None) -> StreamStats:
        """Wait for a started stream to end (a finite input, or :meth:`stop`); its stats.

        Raises what ended the run, if it failed; ``TimeoutError`` if it is still
        running after ``timeout`` seconds.
        """
        if self._runner is None:
            raise ConfigError("this stream was not started; call start() first")
        self._runner.join(timeout)
        if self._runner.is_alive():
            raise TimeoutError(f"the stream still runs after {timeout} s")
        if self.error is not None:
            raise self.error
        assert self._stats is not None
        return self._stats

    def to_frame(self) -> pd.DataFrame:
        """The results so far (the latest :data:`KEPT_RESULTS`), a row each, as a DataFrame."""
        from toolkit.stream.messages import to_frame

        return to_frame(list(self.received))
