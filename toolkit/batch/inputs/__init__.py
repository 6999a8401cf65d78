"""Inputs of batch jobs: resolving paths, globs, directories and URLs into blocks of lines.

A :class:`Block` is a small picklable description (file, byte range, compression)
that a worker turns into text with :func:`read_text_chunks`.  Uncompressed
files are split into blocks at line boundaries; a compressed file is one block,
decompressed as a stream.  Chunks handed to the caller always hold whole lines.

How a block travels: :func:`~.resolve.resolve_inputs` (on the client: paths to
:class:`InputFile`) -> :func:`~.plan.plan_blocks` and :func:`~.plan.pack_blocks`
(blocks, then map tasks) -> :func:`~.read.read_byte_chunks` or
:func:`~.read.read_text_chunks` (on a worker: whole lines, with :class:`InputStats`); on a cluster,
:func:`~.visible.check_visible` first checks that the workers see the client's paths.
"""

from __future__ import annotations

from toolkit.batch.inputs.files import (
    CHUNK_SIZE,
    COMPRESSIONS,
    DEFAULT_BLOCKSIZE,
    ERRORS_POLICIES,
    Block,
    InputFile,
    InputStats,
)
from toolkit.batch.inputs.plan import pack_blocks, plan_blocks
from toolkit.batch.inputs.read import (
    decode_chunk,
    first_line,
    is_utf8,
    read_byte_chunks,
    read_text_chunks,
)
from toolkit.batch.inputs.resolve import Inputs, resolve_inputs
from toolkit.batch.inputs.visible import check_visible

__all__ = [
    "CHUNK_SIZE",
    "COMPRESSIONS",
    "DEFAULT_BLOCKSIZE",
    "ERRORS_POLICIES",
    "Block",
    "InputFile",
    "InputStats",
    "Inputs",
    "check_visible",
    "decode_chunk",
    "first_line",
    "is_utf8",
    "pack_blocks",
    "plan_blocks",
    "read_byte_chunks",
    "read_text_chunks",
    "resolve_inputs",
]
