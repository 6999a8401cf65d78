"""Writing a file so that readers see all of it or none: a temporary name beside it, then a rename.

Every file the toolkit writes whole (results, corpora) goes through :func:`atomic_output`.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from typing import IO, Any

from toolkit.errors import OutputError

__all__ = ["atomic_output", "is_special"]


@contextlib.contextmanager
def atomic_output(
    path: str | os.PathLike[str], mode: str = "w", *, durable: bool = False
) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; on success sync it and rename it to ``path``.

    On any error, or Ctrl-C, the temporary file is removed and ``path`` is left
    as it was; an ``OSError`` becomes an :class:`~toolkit.errors.OutputError`
    naming the path.  A path that exists and is not a regular file (a device, a
    pipe) is written in place, since it cannot be replaced.  With ``durable``
    the directory is synced too, so that the rename survives a power cut
    (checkpoints, journals).

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "result.txt")
    >>> with atomic_output(path) as f:
    ...     _ = f.write("all or nothing\\n")
    >>> open(path).read(), os.listdir(os.path.dirname(path))
    ('all or nothing\\n', ['result.txt'])
    """
    target = os.fspath(path)
    binary = "b" in mode
    try:
        if is_special(target):
            with open(target, mode) as f:
                yield f
            return
        directory = os.path.dirname(os.path.abspath(target))
        fd, tmp = tempfile.mkstemp(
            prefix=f".{os.path.basename(target)}.", suffix=".tmp", dir=directory
        )
    except OSError as exc:
        raise OutputError(f"cannot write {target!r}: {exc.strerror or exc}") from None
    try:
        f = os.fdopen(fd, mode) if binary else os.fdopen(fd, mode, encoding="utf-8", newline="")
        with f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
        if durable:
            _sync_directory(directory)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise OutputError(f"cannot write {target!r}: {exc.strerror or exc}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def is_special(path: str) -> bool:
    """Whether ``path`` exists and is neither a regular file nor a directory (a device, a pipe)."""
    try:
        return not stat.S_ISREG(os.stat(path).st_mode) and not os.path.isdir(path)
    except OSError:
        return False


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _sync_directory(directory: str) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
