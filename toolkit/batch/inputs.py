"""Inputs of batch jobs: resolving paths, globs, directories and URLs into blocks of lines.

A :class:`Block` is a small picklable description (file, byte range, compression)
that a worker turns into text with :func:`read_text_chunks`.  Uncompressed
files are split into blocks at line boundaries; a compressed file is one block,
decompressed as a stream.  Chunks handed to the caller always hold whole lines.
"""

from __future__ import annotations

import codecs
import glob as globlib
import os
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeAlias

import fsspec
import numpy as np
from fsspec.core import url_to_fs

from toolkit.errors import ConfigError, DecodeError, InputError

__all__ = [
    "Block",
    "InputFile",
    "InputStats",
    "decode_chunk",
    "is_utf8",
    "pack_blocks",
    "plan_blocks",
    "read_byte_chunks",
    "read_text_chunks",
    "resolve_inputs",
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
    """

    file: InputFile
    offset: int
    length: int | None


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


def _newline_is_byte(encoding: str) -> bool:
    try:
        return "\n".encode(encoding) == b"\n" and codecs.lookup(encoding).name != "utf-7"
    except LookupError:
        raise ConfigError(f"unknown text encoding {encoding!r}") from None


def plan_blocks(
    files: list[InputFile], *, blocksize: int = DEFAULT_BLOCKSIZE, encoding: str = "utf-8"
) -> list[Block]:
    """Cut files into blocks of about ``blocksize`` bytes (compressed files stay whole).

    An empty file still gets one (empty) block so that it is accounted for.

    Examples
    --------
    >>> f = InputFile("/data/a.txt", 250, None)
    >>> [(b.offset, b.length) for b in plan_blocks([f], blocksize=100)]
    [(0, 100), (100, 100), (200, 50)]
    """
    if blocksize <= 0:
        raise ConfigError(f"blocksize must be a positive number of bytes; got {blocksize!r}")
    splittable = _newline_is_byte(encoding)
    blocks: list[Block] = []
    for f in files:
        if f.compression or not splittable or f.size <= blocksize:
            blocks.append(Block(f, 0, None))
        else:
            blocks.extend(
                Block(f, off, min(blocksize, f.size - off)) for off in range(0, f.size, blocksize)
            )
    return blocks


def pack_blocks(blocks: list[Block], *, blocksize: int = DEFAULT_BLOCKSIZE) -> list[list[Block]]:
    """Group blocks into map tasks: consecutive whole small files share a task up to ``blocksize``.

    A directory of thousands of small files then makes a few tasks, not thousands.

    Examples
    --------
    >>> small = [Block(InputFile(f"/d/{i}", 30, None), 0, None) for i in range(5)]
    >>> [len(p) for p in pack_blocks(small, blocksize=100)]
    [3, 2]
    """
    partitions: list[list[Block]] = []
    size = 0
    for block in blocks:
        whole = block.length is None and block.offset == 0
        weight = block.file.size if whole else (block.length or block.file.size)
        if whole and partitions and size + weight <= blocksize and _all_whole(partitions[-1]):
            partitions[-1].append(block)
            size += weight
        else:
            partitions.append([block])
            size = weight
    return partitions


def _all_whole(partition: list[Block]) -> bool:
    return all(b.length is None and b.offset == 0 for b in partition)


# -- decoding, with bad sequences counted --------------------------------------------------

_local = threading.local()


def _counting_handler(exc: UnicodeError) -> tuple[str, int]:
    assert isinstance(exc, UnicodeDecodeError)
    _local.bad = getattr(_local, "bad", 0) + 1
    return ("\ufffd" if _local.replace else "", exc.end)


codecs.register_error("toolkit.count", _counting_handler)


def decode(
    data: bytes | memoryview, *, encoding: str, errors: str, where: str, offset: int
) -> tuple[str, int]:
    """Decode ``data``; return the text and how many bad sequences were replaced or ignored.

    ``errors="strict"`` raises :class:`DecodeError` naming ``where`` and the
    absolute byte ``offset`` of the first bad byte.

    Examples
    --------
    >>> decode(b"ok\\xff!", encoding="utf-8", errors="replace", where="x", offset=0)
    ('ok\\ufffd!', 1)
    """
    try:
        return str(data, encoding), 0
    except UnicodeDecodeError as exc:
        if errors == "strict":
            raise DecodeError(
                f"{where}: invalid {encoding} at byte offset {offset + exc.start} "
                f"({exc.reason}); use --errors replace or ignore to count and go on"
            ) from None
    _local.bad = 0
    _local.replace = errors == "replace"
    text = str(data, encoding, "toolkit.count")
    return text, _local.bad


def read_text_chunks(
    block: Block,
    *,
    encoding: str = "utf-8",
    errors: str = "strict",
    stats: InputStats,
    chunk_size: int = CHUNK_SIZE,
    split_long_lines: bool = False,
) -> Iterator[str]:
    """Yield the text of ``block`` in chunks of about ``chunk_size`` bytes, adding to ``stats``.

    Runs on a worker, and reads the block as a stream: memory stays near
    ``chunk_size`` whatever the block or file size.  Chunks end after a
    newline; with ``split_long_lines`` (word counting, where it changes
    nothing), a line longer than ``chunk_size`` is also cut after an ASCII
    whitespace byte, which no word and no UTF-8, GBK or Shift-JIS sequence
    spans.
    """
    if not _newline_is_byte(encoding):
        yield from _guarded(
            block,
            _read_stream(
                block,
                encoding,
                errors,
                block.file.path,
                stats,
                chunk_size,
                dict(block.file.storage_options),
            ),
        )
        return
    for offset, piece in read_byte_chunks(
        block, stats=stats, chunk_size=chunk_size, split_long_lines=split_long_lines
    ):
        yield decode_chunk(block, offset, piece, encoding=encoding, errors=errors, stats=stats)


def is_utf8(encoding: str) -> bool:
    """Whether ``encoding`` names UTF-8 (whose chunks can be handed over as bytes).

    Examples
    --------
    >>> is_utf8("UTF8"), is_utf8("utf-8-sig"), is_utf8("latin-1")
    (True, False, False)
    """
    try:
        return codecs.lookup(encoding).name == "utf-8"
    except LookupError:
        return False


def read_byte_chunks(
    block: Block,
    *,
    stats: InputStats,
    chunk_size: int = CHUNK_SIZE,
    split_long_lines: bool = False,
) -> Iterator[tuple[int, memoryview]]:
    """Yield ``(offset, piece)``: the raw bytes of ``block``, cut as :func:`read_text_chunks`.

    Only for encodings whose newline is the byte ``\\n``.  Adds bytes and
    lines to ``stats``; turn a piece into text with :func:`decode_chunk`.
    A piece is a view of a buffer that the next piece reuses: use it (or copy
    it) before asking for the next.
    """

    def pieces() -> Iterator[tuple[int, memoryview]]:
        with _open_bytes(block.file) as f:
            start, end = 0, None
            expected = None if block.file.compression else block.file.size
            if block.length is not None:
                start = _after_newline(f, block.offset) if block.offset else 0
                end = _after_newline(f, block.offset + block.length)
                f.seek(start)
                expected = end - start
            last = ord("\n")
            size = chunk_size if expected is None else max(1, min(chunk_size, expected + 1))
            for offset, piece in _byte_pieces(f, start, end, size, chunk_size, split_long_lines):
                stats.bytes += len(piece)
                stats.lines += int(np.count_nonzero(np.frombuffer(piece, np.uint8) == ord("\n")))
                last = piece[-1]
                yield offset, piece
            if last != ord("\n"):
                stats.lines += 1  # the file's last line has no newline

    yield from _guarded(block, pieces())


def decode_chunk(
    block: Block,
    offset: int,
    piece: bytes | memoryview,
    *,
    encoding: str,
    errors: str,
    stats: InputStats,
) -> str:
    """The text of a piece from :func:`read_byte_chunks`, bad sequences handled by ``errors``.

    Raises
    ------
    DecodeError
        With ``errors="strict"``, naming the file and the byte offset.
    """
    where = block.file.path
    text, bad = decode(piece, encoding=encoding, errors=errors, where=where, offset=offset)
    if bad:
        stats.bad_sequences += bad
        stats.bad_lines += _bad_line_count(piece, encoding)
    return text


def _guarded(block: Block, chunks: Iterator[Any]) -> Iterator[Any]:
    """``chunks``, with file-system errors turned into one-line :class:`InputError`."""
    where = block.file.path
    try:
        yield from chunks
    except (DecodeError, InputError):
        raise
    except FileNotFoundError as exc:
        raise InputError(f"{where}: file disappeared before it was read") from exc
    except PermissionError as exc:
        raise InputError(f"permission denied: cannot read {where!r}") from exc
    except (OSError, EOFError) as exc:
        # truncated or corrupt compressed data surfaces as OSError/EOFError from the codec
        raise InputError(f"{where}: cannot read: {exc}") from exc


_WHITESPACE_BYTES = (b" ", b"\t", b"\r", b"\x0b", b"\x0c")


def _open_bytes(file: InputFile) -> Any:
    """``file`` opened for reading bytes, as a context manager.

    A local, uncompressed file is opened unbuffered, so that reads go straight
    into the caller's buffer; anything else through fsspec.
    """
    if file.compression is None and not file.storage_options and "://" not in file.path:
        return open(file.path, "rb", buffering=0)  # the caller closes it
    return fsspec.open(file.path, "rb", compression=file.compression, **dict(file.storage_options))


def _byte_pieces(
    f: Any, start: int, end: int | None, size: int, chunk_size: int, split_long_lines: bool
) -> Iterator[tuple[int, memoryview]]:
    """Read ``[start, end)`` (``end`` None: to the end) as ``(offset, piece)``, pieces cut after
    a newline, or after whitespace inside a line longer than ``chunk_size``.

    The file is read into one buffer of ``size`` bytes (at most ``chunk_size``;
    less for a small file), grown only for a line that does not fit, and each
    piece is a view of it, valid until the next piece is asked for: no byte is
    copied on its way to the caller but the part of a line carried over to the
    next piece.
    """
    buf = bytearray(size)
    view = memoryview(buf)
    readinto = getattr(f, "readinto", None)
    pos, have, at = start, 0, start  # have: bytes held (carried over, then read)
    while True:
        want = len(buf) - have if end is None else min(len(buf) - have, end - pos)
        if want == 0 and (end is None or pos < end):  # a line that fills the buffer: grow it
            buf = bytearray(2 * len(buf))
            buf[:have] = view[:have]
            view = memoryview(buf)
            continue
        got = 0
        if want > 0:
            if readinto is not None:
                got = readinto(view[have : have + want]) or 0
            else:  # a file object that can only read
                raw = f.read(want)
                got = len(raw)
                view[have : have + got] = raw
        pos += got
        if not got:
            if have:
                yield at, view[:have]
            return
        total = have + got
        cut = buf.rfind(b"\n", have, total) + 1  # what was carried over holds no newline
        if not cut and split_long_lines and total >= chunk_size:
            cut = max(buf.rfind(ws, 0, total) for ws in _WHITESPACE_BYTES) + 1
        if cut:
            yield at, view[:cut]
            at += cut
            have = total - cut
            buf[:have] = view[cut:total]  # the start of the next piece's first line
        else:
            have = total


def _after_newline(f: Any, pos: int) -> int:
    """The position just after the first newline at or after ``pos`` (or the end of file).

    Block ``[a, b)`` of a file covers the lines starting in ``(a, b]``; so every
    line belongs to exactly one block, however long it is.
    """
    f.seek(pos)
    while True:
        piece = f.read(2**16)
        if not piece:
            return int(f.tell())
        i = piece.find(b"\n")
        if i >= 0:
            return pos + i + 1
        pos += len(piece)


def _bad_line_count(piece: bytes | memoryview, encoding: str) -> int:
    bad = 0
    for line in bytes(piece).split(b"\n"):
        try:
            line.decode(encoding)
        except UnicodeDecodeError:
            bad += 1
    return bad


def _read_stream(
    block: Block,
    encoding: str,
    errors: str,
    where: str,
    stats: InputStats,
    chunk_size: int,
    opts: dict[str, Any],
) -> Iterator[str]:
    """A whole file in an encoding whose newline is not the byte ``\\n`` (UTF-16, UTF-32)."""
    decoder = codecs.getincrementaldecoder(encoding)(
        "strict" if errors == "strict" else "toolkit.count"
    )
    _local.replace = errors == "replace"
    offset = 0
    last_text = ""
    with fsspec.open(block.file.path, "rb", compression=block.file.compression, **opts) as f:
        while True:
            raw = f.read(chunk_size)
            _local.bad = 0
            try:
                text = decoder.decode(raw, final=not raw)
            except UnicodeDecodeError as exc:
                raise DecodeError(
                    f"{where}: invalid {encoding} near byte offset {offset + exc.start} "
                    f"({exc.reason})"
                ) from None
            stats.bytes += len(raw)
            stats.bad_sequences += _local.bad
            stats.lines += text.count("\n")
            offset += len(raw)
            last_text = text or last_text
            if text:
                yield text
            if not raw:
                break
    if last_text and not last_text.endswith("\n"):
        stats.lines += 1
