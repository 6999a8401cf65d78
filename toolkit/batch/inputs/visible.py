"""Whether the workers see the client's input files: checked before any map task runs.

On a cluster of several machines a path the client resolved may not exist on a
worker (the file is on the client's disk only), or may name another file there.
:func:`check_visible` asks every worker about a sample of the local paths, with
``Client.run`` (no task is queued), and fails in one line naming the path, the
worker and what to do.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from toolkit.batch.inputs.files import InputFile
from toolkit.errors import InputError

__all__ = ["check_visible", "sample_files"]

SAMPLE = 8
ADVICE = (
    "the inputs must be at the same path on every worker (a shared filesystem), "
    "or pass --upload (upload=True) to send them from this machine"
)


def sample_files(files: Sequence[InputFile], n: int = SAMPLE) -> list[InputFile]:
    """The first, the last and evenly spaced files between: ``n`` at most, in order.

    Examples
    --------
    >>> files = [InputFile(f"/d/{i}", 1, None) for i in range(100)]
    >>> [f.path for f in sample_files(files, 4)]
    ['/d/0', '/d/33', '/d/66', '/d/99']
    """
    if len(files) <= n:
        return list(files)
    step = (len(files) - 1) / (n - 1)
    return [files[round(i * step)] for i in range(n)]


def check_visible(client: Any, files: Sequence[InputFile], *, n: int = SAMPLE) -> None:
    """Check that every worker reads a sample of the local ``files`` at their paths, same size.

    URLs (``s3://``, ``https://``) are not checked: their filesystem is the same
    from everywhere.

    Raises
    ------
    InputError
        For the first path a worker lacks, cannot read, or sees with another size.
    """
    local = [f for f in files if "://" not in f.path]
    if not local:
        return
    wanted = [(f.path, f.size) for f in sample_files(local, n)]
    answers: dict[str, list[tuple[str, str]]] = client.run(_look, wanted, on_error="return")
    for worker, problems in sorted(answers.items()):
        if isinstance(problems, BaseException):  # the worker went away meanwhile: its tasks move
            continue
        for path, problem in problems:
            raise InputError(f"{path}: {problem} on worker {worker}; {ADVICE}")


def _look(wanted: list[tuple[str, int]]) -> list[tuple[str, str]]:
    """On a worker: what is wrong with each of the paths here (nothing: an empty list)."""
    problems = []
    for path, size in wanted:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            problems.append((path, "not found"))
            continue
        except OSError as exc:
            problems.append((path, f"cannot stat it: {exc.strerror or exc}"))
            continue
        if not os.access(path, os.R_OK):
            problems.append((path, "not readable"))
        elif st.st_size != size:
            problems.append(
                (path, f"another file ({st.st_size:,} bytes, not {size:,} as on the client)")
            )
    return problems
