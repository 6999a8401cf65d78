"""Resolving paths, globs, directories and URLs into files, checked on the client."""

from __future__ import annotations

import glob as globlib
import os
from collections.abc import Iterable
from typing import Any, TypeAlias

from fsspec.core import url_to_fs

from toolkit.batch.inputs.files import COMPRESSIONS, InputFile
from toolkit.errors import InputError

__all__ = ["Inputs", "resolve_inputs"]


def _has_magic(path: str) -> bool:
    return any(c in path for c in "*?[")


def _compression_of(path: str) -> str | None:
    for ext, name in COMPRESSIONS.items():
        if path.endswith(ext):
            return name
    return None


#: What jobs accept as inputs: paths, globs, URLs, resolved files, or a list of them.
Inputs: TypeAlias = (
    "str | os.PathLike[str] | InputFile | Iterable[str | os.PathLike[str] | InputFile]"
)


def resolve_inputs(
    inputs: Inputs,
    *,
    storage_options: dict[str, Any] | None = None,
) -> list[InputFile]:
    """Expand files, directories (recursively), globs and fsspec URLs into input files.

    Parameters
    ----------
    inputs
        One path or URL, or a list of them.  A directory stands for every file
        below it but hidden ones (a name starting with ``.``, like ``.git/`` or
        ``.DS_Store``, as a glob's ``*`` skips them; name one to read it); a
        glob (``*``, ``?``, ``[``, and ``**``) for every file it matches.
        Compression is taken from the extension (``.gz``, ``.bz2``, ``.xz``,
        ``.zst``).
    storage_options
        Passed to fsspec for URLs (credentials, endpoints).

    Returns
    -------
    list of InputFile
        In the order given, each directory and glob sorted by path.

    Raises
    ------
    InputError
        For a missing path, an empty directory, a glob that matches nothing, a
        URL whose filesystem is not installed, or when nothing at all is given.
    """
    if isinstance(inputs, str | os.PathLike | InputFile):
        inputs = [inputs]
    items = list(inputs)
    if not items:
        raise InputError("no input given: name at least one file, directory, glob or URL")
    options = tuple(sorted((storage_options or {}).items()))
    files: list[InputFile] = []
    for item in items:
        if isinstance(item, InputFile):  # already resolved
            files.append(item)
        else:
            files.extend(_resolve_one(os.fspath(item), options))
    return files


def _resolve_one(item: str, options: tuple[tuple[str, Any], ...]) -> list[InputFile]:
    is_url = "://" in item
    try:
        fs, path = url_to_fs(item, **dict(options))
    except (ImportError, ValueError) as exc:
        raise InputError(f"cannot open {item!r}: {exc}") from exc
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]

    def make(p: str, size: int | None) -> InputFile:
        full = p if not is_url else fs.unstrip_protocol(p)
        return InputFile(full, int(size or 0), _compression_of(p), options)

    try:
        if _has_magic(item) and not (not is_url and os.path.exists(item)):
            if is_url:
                found = fs.glob(path, detail=True)
            else:
                matches = globlib.glob(os.path.expanduser(item), recursive=True)
                found = {os.path.abspath(m): fs.info(os.path.abspath(m)) for m in matches}
            entries = sorted((p, info) for p, info in found.items() if info.get("type") == "file")
            if not entries:
                raise InputError(f"no files match {item!r}")
            return [make(p, info.get("size")) for p, info in entries]
        if not is_url:
            path = os.path.abspath(os.path.expanduser(item))
        if not fs.exists(path):
            raise InputError(f"no such file or directory: {item!r}")
        info = fs.info(path)
        if info.get("type") == "directory":
            found = fs.find(path, detail=True)
            entries = sorted((p, i) for p, i in found.items() if not _is_hidden(p, path))
            if not entries:
                hidden = f" (only {len(found)} hidden ones)" if found else ""
                raise InputError(f"directory {item!r} contains no files{hidden}")
            return [make(p, i.get("size")) for p, i in entries]
        if protocol in ("file", "local") and not os.access(path, os.R_OK):
            raise InputError(f"permission denied: cannot read {item!r}")
        return [make(path, info.get("size"))]
    except InputError:
        raise
    except PermissionError as exc:
        raise InputError(f"permission denied: cannot read {item!r}") from exc
    except OSError as exc:
        raise InputError(f"cannot read {item!r}: {exc.strerror or exc}") from exc


def _is_hidden(found: str, directory: str) -> bool:
    """Whether a file found below ``directory`` is hidden, or inside a hidden directory."""
    below = found[len(directory.rstrip("/")) :].strip("/")
    return any(part.startswith(".") for part in below.split("/"))
