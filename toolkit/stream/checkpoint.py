"""Checkpoints of a stream: numbered, checksummed snapshots in a directory or any fsspec URL.

A checkpoint is one file, ``checkpoint-<sequence>.tkc``: a header line, a line
with the payload's length and SHA-256, and the payload, a zstd-compressed JSON
document (the source position, the open windows as counts, the watermark, the
output offsets).  A local checkpoint is written to a temporary file, synced and
renamed into place, so it is whole or absent; on an object store each file is
one PUT.  Either way the checksum is verified on load: a truncated or corrupted
newest checkpoint is skipped with a warning and the previous good one is used.
The newest ``keep`` checkpoints are kept.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import warnings
from typing import Any

import fsspec
import zstandard
from fsspec.implementations.local import LocalFileSystem

from toolkit.atomic import atomic_output
from toolkit.errors import CheckpointError, CheckpointWarning, ConfigError, OutputError
from toolkit.stream.messages import MAIN

__all__ = ["CheckpointError", "CheckpointStore", "CheckpointWarning", "in_current_form"]

MAGIC = b"toolkit-checkpoint 1\n"
_NAME = re.compile(r"checkpoint-(\d{12})\.tkc$")


def encode(state: dict[str, Any]) -> bytes:
    """The bytes of a checkpoint file for ``state`` (a JSON-able dict).

    Examples
    --------
    >>> decode(encode({"a": [1, 2]}))
    {'a': [1, 2]}
    """
    payload = zstandard.ZstdCompressor(level=3).compress(
        json.dumps(state, separators=(",", ":"), ensure_ascii=False).encode()
    )
    digest = hashlib.sha256(payload).hexdigest()
    return MAGIC + f"{len(payload)} {digest}\n".encode() + payload


def decode(data: bytes) -> dict[str, Any]:
    """The state in a checkpoint file's bytes; ValueError if it is not whole and intact.

    Examples
    --------
    >>> decode(encode({"a": 1})[:-3])
    Traceback (most recent call last):
    ...
    ValueError: truncated: 13 of 16 payload bytes
    """
    if not data.startswith(MAGIC):
        raise ValueError("not a toolkit checkpoint (bad header)")
    header, sep, payload = data[len(MAGIC) :].partition(b"\n")
    try:
        size_text, digest = header.decode("ascii").split(" ")
        size = int(size_text)
    except (UnicodeDecodeError, ValueError):
        raise ValueError("bad length/checksum line") from None
    if not sep or len(payload) < size:
        raise ValueError(f"truncated: {len(payload)} of {size} payload bytes")
    if len(payload) > size:
        raise ValueError(f"{len(payload) - size} bytes after the payload")
    if hashlib.sha256(payload).hexdigest() != digest:
        raise ValueError("checksum mismatch")
    state = json.loads(zstandard.ZstdDecompressor().decompress(payload))
    if not isinstance(state, dict):
        raise ValueError("payload is not an object")
    return state


class CheckpointStore:
    """Numbered checkpoints in ``url`` (a directory path or an fsspec URL).

    Parameters
    ----------
    url
        Where checkpoints live; created if missing.
    keep
        How many of the newest checkpoints to keep (at least 2, so that a bad
        newest one has a predecessor).
    storage_options
        Passed to fsspec for URLs.

    Examples
    --------
    >>> import tempfile
    >>> store = CheckpointStore(tempfile.mkdtemp())
    >>> store.load() is None
    True
    >>> _ = store.save({"n": 1}); _ = store.save({"n": 2})
    >>> store.load()["n"]
    2
    """

    def __init__(
        self, url: str, *, keep: int = 3, storage_options: dict[str, Any] | None = None
    ) -> None:
        if keep < 2:
            raise ConfigError(f"keep at least 2 checkpoints; got {keep!r}")
        self.url = str(url)
        self.keep = keep
        try:
            self.fs, self.root = fsspec.core.url_to_fs(self.url, **(storage_options or {}))
            self.fs.makedirs(self.root, exist_ok=True)
        except (OSError, ValueError, ImportError) as exc:
            raise ConfigError(f"cannot use checkpoint directory {self.url!r}: {exc}") from None
        self.local = isinstance(self.fs, LocalFileSystem)
        self.sequence = max(self._sequences(), default=0)

    def _sequences(self) -> list[int]:
        try:
            names = self.fs.ls(self.root, detail=False)
        except FileNotFoundError:
            return []
        found = (_NAME.search(str(name)) for name in names)
        return sorted(int(m.group(1)) for m in found if m)

    def _path(self, sequence: int) -> str:
        return f"{self.root.rstrip('/')}/checkpoint-{sequence:012d}.tkc"

    def save(self, state: dict[str, Any]) -> str:
        """Write ``state`` as the next checkpoint, atomically; prune old ones; return its path."""
        data = encode(state)
        self.sequence += 1
        path = self._path(self.sequence)
        try:
            if self.local:
                _write_local(path, data)
            else:
                self.fs.pipe_file(path, data)
        except OSError as exc:
            raise OutputError(f"cannot write checkpoint {path!r}: {exc}") from None
        for old in self._sequences()[: -self.keep]:
            with contextlib.suppress(OSError):  # best effort: a stale old one is harmless
                self.fs.rm(self._path(old))
        return path

    def load(self) -> dict[str, Any] | None:
        """The newest intact checkpoint, or None if there is none.

        A corrupt newer checkpoint is skipped with a :class:`CheckpointWarning`;
        if checkpoints exist but none is intact, :class:`CheckpointError` is
        raised rather than starting over (which would emit windows twice).
        """
        sequences = self._sequences()
        bad: list[str] = []
        for sequence in reversed(sequences):
            path = self._path(sequence)
            try:
                with self.fs.open(path, "rb") as f:
                    state = decode(f.read())
            except (OSError, ValueError, zstandard.ZstdError) as exc:
                bad.append(f"{path}: {exc}")
                continue
            for reason in bad:
                warnings.warn(
                    f"skipped a damaged checkpoint ({reason}); resuming from {path}",
                    CheckpointWarning,
                    stacklevel=2,
                )
            return state
        if bad:
            raise CheckpointError(
                f"no intact checkpoint in {self.url!r} ({'; '.join(bad)}); "
                "move the directory away to start over"
            )
        return None


def _write_local(path: str, data: bytes) -> None:
    with atomic_output(path, "wb", durable=True) as f:
        f.write(data)


def in_current_form(state: dict[str, Any]) -> dict[str, Any]:
    """A checkpoint of a stream of one source, written before streams had named inputs,
    in today's form: its source is the input ``main``."""
    if "source" not in state:
        return state
    state = {**state, "sources": {MAIN: state["source"]}}
    identity = dict(state.get("identity") or {})
    if "source" in identity:
        identity["sources"] = {MAIN: identity.pop("source")}
    return {**state, "identity": identity}
