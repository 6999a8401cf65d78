"""A job journal: the map partials that finished, so a re-run after a crash redoes only the rest.

The journal is a directory beside the output (``counts.csv.journal/``): a
manifest with a signature of the job (inputs with sizes and modification times,
block size, reading options, the job's settings), and one pickled partial per
finished block, each written to a temporary name and renamed.  A block's partial
replaces the block's map task on a re-run, so no block is counted twice; the
journal is removed once the output is written.  Workers write it, so on a
multi-machine cluster it must be on a filesystem they share.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import pickle
import re
import shutil
from typing import Any

from toolkit.atomic import atomic_output
from toolkit.errors import ConfigError, OutputError

__all__ = ["Journal", "job_signature", "load_partial", "save_partial"]

_PART = re.compile(r"^part-(\d{6})\.pickle$")


def _plain(value: Any) -> Any:
    if isinstance(value, frozenset | set):
        return sorted(map(_plain, value))
    if callable(value):
        return f"{getattr(value, '__module__', '?')}.{getattr(value, '__qualname__', repr(value))}"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    kind = type(value)  # an object (a combiner): its class names it, not its address
    return f"{kind.__module__}.{kind.__qualname__}"


def job_signature(job: Any, blocks: list[Any], read: Any) -> str:
    """A digest of everything that decides a job's partials."""
    flat = [b for partition in blocks for b in partition]
    files = {}
    for block in flat:
        path = block.file.path
        if path not in files:
            mtime = None
            with contextlib.suppress(OSError):
                mtime = os.stat(path).st_mtime_ns
            files[path] = [block.file.size, mtime]
    doc = {
        "job": _plain(job),
        "read": _plain(read),
        "blocks": [[[b.file.path, b.offset, b.length] for b in p] for p in blocks],
        "files": files,
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


@dataclasses.dataclass(frozen=True)
class Journal:
    """The journal directory of one job."""

    directory: str

    @classmethod
    def open(cls, directory: str | os.PathLike[str], signature: str) -> Journal:
        """Open (or start) the journal in ``directory``; refuse one written by another job."""
        directory = os.fspath(directory)
        manifest = os.path.join(directory, "manifest.json")
        try:
            if os.path.exists(manifest):
                with open(manifest) as f:
                    if json.load(f).get("signature") != signature:
                        raise ConfigError(
                            f"{directory!r} is the journal of a different job (other inputs or "
                            "options); remove it to start afresh"
                        )
            else:
                os.makedirs(directory, exist_ok=True)
                with atomic_output(manifest, durable=True) as f:
                    json.dump({"signature": signature}, f)
        except OSError as exc:
            raise OutputError(
                f"cannot write the job journal {directory!r}: {exc.strerror or exc}"
            ) from None
        return cls(directory)

    def path(self, index: int) -> str:
        return os.path.join(self.directory, f"part-{index:06d}.pickle")

    def done(self) -> set[int]:
        """Indices of the blocks whose partials are in the journal."""
        try:
            names = os.listdir(self.directory)
        except FileNotFoundError:
            return set()
        return {int(m.group(1)) for m in map(_PART.match, names) if m}

    def remove(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


def save_partial(path: str, partial: Any) -> Any:
    """Run on a worker: commit a block's partial to the journal, then pass it on."""
    with atomic_output(path, "wb", durable=True) as f:
        pickle.dump(partial, f, protocol=pickle.HIGHEST_PROTOCOL)
    return partial


def load_partial(path: str) -> Any:
    """Run on a worker: a committed partial, instead of reading its block again."""
    with open(path, "rb") as f:
        return pickle.load(f)  # our own journal, written by this job (see the signature)
