"""Progress bars of batch jobs: dask's text bars, on stderr, whole lines even when interrupted."""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["local_progress", "progress_bar"]


@contextlib.contextmanager
def progress_bar(client: Any, futures: list[Any], show: bool) -> Iterator[None]:
    """dask's text progress bar over the job's tasks, drawn from the client's event loop while
    the block waits (a bar drawn in this thread would wait for the job without watching it)."""
    if not show:
        yield
        return
    import asyncio

    from distributed.diagnostics.progressbar import TextProgressBar

    bar = TextProgressBar(futures, start=False)  # it draws on stdout: sent to stderr here
    started, stopped = threading.Event(), threading.Event()

    async def draw() -> None:
        started.set()  # a draw comes only after an await: cancelled at its first, it draws none
        try:
            await bar.listen()
        finally:
            stopped.set()  # no draw comes after this

    with contextlib.redirect_stdout(sys.stderr):
        drawing = asyncio.run_coroutine_threadsafe(draw(), client.loop.asyncio_loop)
        try:
            yield
            with contextlib.suppress(Exception):
                drawing.result(timeout=5)  # the bar's last draw, before stdout is stdout again
        finally:
            drawing.cancel()  # interrupted: the loop cancels the bar at its next await
            if started.is_set():
                stopped.wait(timeout=2)  # ... and its last draw goes to stderr, not after
            print(file=sys.stderr)


@contextlib.contextmanager
def local_progress(progress: bool) -> Iterator[None]:
    """dask's local progress bar (sync and threaded schedulers), on stderr."""
    if not progress:
        yield
        return
    from dask.diagnostics import ProgressBar

    with ProgressBar(out=sys.stderr):
        yield
