"""What a batch input is: a resolved file, a block of it, and the figures of what was read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CHUNK_SIZE",
    "COMPRESSIONS",
    "DEFAULT_BLOCKSIZE",
    "ERRORS_POLICIES",
    "Block",
    "InputFile",
    "InputStats",
]

DEFAULT_BLOCKSIZE = 32 * 2**20
CHUNK_SIZE = 4 * 2**20  # text handed to a tokenizer at a time: bounds per-task memory

COMPRESSIONS = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz", ".lzma": "lzma", ".zst": "zstd"}
ERRORS_POLICIES = ("strict", "replace", "ignore")


@dataclass(frozen=True)
class InputFile:
    """One resolved input file."""

    path: str  # as fsspec understands it: a local absolute path, or a URL
    size: int
    compression: str | None
    storage_options: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class Block:
    """A byte range of one file, cut at line boundaries when read.

    ``length`` of ``None`` means the whole file (compressed files, and encodings
    whose newline is not the byte ``\\n``).

    An uploaded block (see :mod:`toolkit.batch.upload`) carries its bytes in
    ``data``, read on the client: whole lines from byte ``offset`` of the
    (decompressed) file; or, for a whole-file block, the file's bytes as stored.
    """

    file: InputFile
    offset: int
    length: int | None
    data: bytes | None = field(default=None, repr=False, compare=False)


@dataclass
class InputStats:
    """What a job read: every figure adds up across blocks."""

    files: int = 0
    bytes: int = 0
    lines: int = 0
    bad_sequences: int = 0  # undecodable byte sequences replaced or ignored
    bad_lines: int = 0  # lines that held at least one of them
    skipped: tuple[tuple[str, str], ...] = ()  # (file, reason) of what was not counted

    def __add__(self, other: InputStats) -> InputStats:
        return InputStats(
            self.files + other.files,
            self.bytes + other.bytes,
            self.lines + other.lines,
            self.bad_sequences + other.bad_sequences,
            self.bad_lines + other.bad_lines,
            self.skipped + other.skipped,
        )
