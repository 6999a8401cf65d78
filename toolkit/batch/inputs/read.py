"""Reading a block on a worker: whole lines of its bytes, decoded by the errors policy."""

from __future__ import annotations

import codecs
import io
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np

from toolkit.batch.inputs.files import CHUNK_SIZE, Block, InputFile, InputStats
from toolkit.batch.inputs.plan import newline_is_byte
from toolkit.errors import DecodeError, InputError

__all__ = [
    "decode",
    "decode_chunk",
    "first_line",
    "is_utf8",
    "read_byte_chunks",
    "read_text_chunks",
]

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
    if not newline_is_byte(encoding):
        yield from _guarded(
            block,
            _read_stream(
                block,
                encoding,
                errors,
                block.file.path,
                stats,
                chunk_size,
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
        with _open_block(block) as f:
            start, end = 0, None
            expected = None if block.file.compression else block.file.size
            if block.data is not None and block.length is not None:  # uploaded lines
                start, expected = block.offset, len(block.data)
            elif block.length is not None:
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


def first_line(file: InputFile, *, encoding: str, limit: int = 2**24) -> str:
    """The first line of ``file`` (without its newline): a CSV file's header, read on a worker.

    Raises
    ------
    InputError
        The file cannot be read, its first line is longer than ``limit`` bytes,
        or it is not text in ``encoding``.
    """
    where = file.path
    data = b""
    try:
        with _open_bytes(file) as f:
            while b"\n" not in data and len(data) <= limit:
                piece = f.read(2**16)
                if not piece:
                    break
                data += piece
    except (OSError, EOFError) as exc:
        raise InputError(f"{where}: cannot read its first line: {exc}") from exc
    line, newline, _ = data.partition(b"\n")
    if not newline and len(data) > limit:
        raise InputError(f"{where}: the first line is longer than {limit:,} bytes")
    try:
        return line.decode(encoding).removesuffix("\r")
    except UnicodeDecodeError as exc:
        raise DecodeError(f"{where}: the first line is not {encoding}: {exc.reason}") from None


_WHITESPACE_BYTES = (b" ", b"\t", b"\r", b"\x0b", b"\x0c")


def _open_block(block: Block) -> Any:
    """The bytes of ``block``'s file, or of what was uploaded of it, as a context manager."""
    if block.data is None:
        return _open_bytes(block.file)
    raw = io.BytesIO(block.data)
    if block.length is None and block.file.compression:  # a whole file, as stored
        from fsspec.compression import compr

        return compr[block.file.compression](raw, mode="rb")
    return raw


def _open_bytes(file: InputFile) -> Any:
    """``file`` opened for reading bytes, as a context manager.

    A local, uncompressed file is opened unbuffered, so that reads go straight
    into the caller's buffer; anything else through fsspec.
    """
    if file.compression is None and not file.storage_options and "://" not in file.path:
        return open(file.path, "rb", buffering=0)  # the caller closes it
    import fsspec  # a worker reading only local, uncompressed files does without it

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
) -> Iterator[str]:
    """A whole file in an encoding whose newline is not the byte ``\\n`` (UTF-16, UTF-32)."""
    decoder = codecs.getincrementaldecoder(encoding)(
        "strict" if errors == "strict" else "toolkit.count"
    )
    _local.replace = errors == "replace"
    offset = 0
    last_text = ""
    with _open_block(block) as f:
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
