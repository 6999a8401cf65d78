"""A compiled scan of flat JSON lines into Arrow columns: the frame mapper's fast path.

Access logs, events and metrics are JSON lines of one flat shape: every line an
object with the same fields, each a string, an integer, a float or a boolean.
:func:`scan_table` reads such a chunk in one compiled pass (numba, ``nogil``)
and builds the Arrow table from what it found: integers and booleans as values,
strings and floats as spans of the input gathered into Arrow buffers (floats
then parsed by Arrow, which rounds as Python's ``float()`` does).  It is several
times faster than pyarrow's JSON reader on such data.

It is held to the reference, :func:`toolkit.jobs.frames.records_table` of the
records ``orjson``/``json`` give, by refusing what it is not sure of: anything
but the shape fixed by the first line (a field missing, added, repeated or of
another type), a ``null``, a nested value, a backslash in a string or a key, a
control character in a string, a blank line, a number JSON does not allow or an
integer of more than 18 digits, bytes that are not UTF-8.  It then returns
None and the caller reads the chunk the slower ways.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
from numba import njit

__all__ = ["KINDS", "scan_table"]

#: The field kinds the scan reads, by their code in the compiled loop.
KINDS: dict[type, int] = {str: 0, int: 1, float: 2, bool: 3}
_ARROW = {0: pa.string(), 1: pa.int64(), 2: pa.float64(), 3: pa.bool_()}

_SPACE = np.zeros(256, dtype=np.bool_)
_SPACE[[ord(" "), ord("\t"), ord("\r")]] = True  # JSON whitespace within a line
_STRING_STOP = np.zeros(256, dtype=np.bool_)
_STRING_STOP[: ord(" ")] = True  # a control character: not JSON
_STRING_STOP[[ord('"'), ord("\\")]] = True  # the end, or an escape


@njit(cache=True, nogil=True)
def _skip(buf: np.ndarray, i: int, n: int, space: np.ndarray) -> int:  # pragma: no cover
    while i < n and space[buf[i]]:
        i += 1
    return i


@njit(cache=True, nogil=True)
def _number(buf: np.ndarray, i: int, n: int) -> tuple[int, bool]:  # pragma: no cover
    """The end of the JSON number at ``buf[i]`` (``i`` when there is none) and whether it
    is an integer: ``-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?``."""
    j = i
    if j < n and buf[j] == 45:  # -
        j += 1
    if j >= n or not 48 <= buf[j] <= 57:
        return i, False
    if buf[j] == 48:
        j += 1
    else:
        while j < n and 48 <= buf[j] <= 57:
            j += 1
    integer = True
    if j < n and buf[j] == 46:  # .
        integer = False
        j += 1
        if j >= n or not 48 <= buf[j] <= 57:
            return i, False
        while j < n and 48 <= buf[j] <= 57:
            j += 1
    if j < n and (buf[j] == 101 or buf[j] == 69):  # e E
        integer = False
        j += 1
        if j < n and (buf[j] == 43 or buf[j] == 45):
            j += 1
        if j >= n or not 48 <= buf[j] <= 57:
            return i, False
        while j < n and 48 <= buf[j] <= 57:
            j += 1
    return j, integer


@njit(cache=True, nogil=True)
def _scan(
    buf: np.ndarray,
    names: np.ndarray,
    name_ends: np.ndarray,
    kinds: np.ndarray,
    slots: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    values: np.ndarray,
    space: np.ndarray,
    stop: np.ndarray,
) -> int:  # pragma: no cover - compiled
    """Scan every line of ``buf``: the rows found, or -1 for a line it cannot be sure of.

    Field ``f``'s name is ``names[name_ends[f-1]:name_ends[f]]``; with ``s =
    slots[f]``, of row ``r``, a string's content or a float's text is
    ``buf[starts[s, r]:ends[s, r]]``, an integer or a boolean is ``values[s, r]``.
    Returns ``-2 - rows`` when a string holds a byte of 0x80 or more (only then is
    UTF-8 to be checked).
    """
    n = buf.size
    nfields = kinds.size
    i = 0
    row = 0
    wide = 0
    while i < n:
        i = _skip(buf, i, n, space)
        if i >= n or buf[i] != 123 or row >= starts.shape[1]:  # {, and room for the row
            return -1
        i = _skip(buf, i + 1, n, space)
        seen = 0
        for k in range(nfields):
            if k > 0:
                if i >= n or buf[i] != 44:  # ,
                    return -1
                i = _skip(buf, i + 1, n, space)
            if i >= n or buf[i] != 34:  # "
                return -1
            i += 1
            f = -1
            for t in range(nfields):
                g = k + t  # the fields come in the first line's order, as a rule
                if g >= nfields:
                    g -= nfields
                begin = 0 if g == 0 else name_ends[g - 1]
                length = name_ends[g] - begin
                if i + length >= n or buf[i + length] != 34:
                    continue
                same = True
                for c in range(length):
                    if names[begin + c] != buf[i + c]:
                        same = False
                        break
                if same:
                    f = g
                    i += length
                    break
            if f < 0:
                return -1  # a field the first line does not have, or a key with an escape
            if seen & (1 << f):
                return -1  # a field twice
            seen |= 1 << f
            i = _skip(buf, i + 1, n, space)
            if i >= n or buf[i] != 58:  # :
                return -1
            i = _skip(buf, i + 1, n, space)
            kind = kinds[f]
            s = slots[f]
            if kind == 0:
                if i >= n or buf[i] != 34:
                    return -1
                i += 1
                starts[s, row] = i
                while i < n and not stop[buf[i]]:
                    wide |= buf[i]
                    i += 1
                if i >= n or buf[i] != 34:
                    return -1  # an escape, a control character, or no end
                ends[s, row] = i
                i += 1
            elif kind == 3:
                if i + 4 <= n and buf[i] == 116 and buf[i + 1] == 114 and buf[i + 2] == 117:
                    if buf[i + 3] != 101:
                        return -1
                    values[s, row] = 1
                    i += 4
                elif i + 5 <= n and buf[i] == 102 and buf[i + 1] == 97 and buf[i + 2] == 108:
                    if buf[i + 3] != 115 or buf[i + 4] != 101:
                        return -1
                    values[s, row] = 0
                    i += 5
                else:
                    return -1
            else:
                end, integer = _number(buf, i, n)
                if end == i or (kind == 1 and not integer):
                    return -1
                if kind == 1:
                    negative = buf[i] == 45
                    j = i + 1 if negative else i
                    if end - j > 18:
                        return -1  # beyond int64 perhaps: the careful way decides
                    v = 0
                    while j < end:
                        v = v * 10 + (buf[j] - 48)
                        j += 1
                    values[s, row] = -v if negative else v
                else:
                    if integer and ((end - i == 2 and buf[i] == 45) or end - i > 15):
                        return -1  # -0 is the integer 0; beyond 2**53 an integer is not a float
                    starts[s, row] = i
                    ends[s, row] = end
                i = end
            i = _skip(buf, i, n, space)
        if i >= n or buf[i] != 125:  # }
            return -1
        i = _skip(buf, i + 1, n, space)
        if i < n:
            if buf[i] != 10:
                return -1
            i += 1
        row += 1
    return -2 - row if wide >= 128 else row


@njit(cache=True, nogil=True)
def _gather(
    buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, rows: int
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """The spans ``buf[starts[r]:ends[r]]`` of ``rows`` rows as Arrow's offsets and data."""
    offsets = np.empty(rows + 1, dtype=np.int32)
    offsets[0] = 0
    total = 0
    for r in range(rows):
        total += ends[r] - starts[r]
        offsets[r + 1] = total
    data = np.empty(total, dtype=np.uint8)
    at = 0
    for r in range(rows):
        for j in range(starts[r], ends[r]):
            data[at] = buf[j]
            at += 1
    return offsets, data


def _spans(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, rows: int) -> pa.Array:
    offsets, data = _gather(buf, starts, ends, rows)
    return pa.StringArray.from_buffers(rows, pa.py_buffer(offsets), pa.py_buffer(data))


def scan_table(data: bytes, first: dict[str, Any]) -> pa.Table | None:
    """The table of a chunk of flat JSON lines shaped as ``first`` (its first record), or None.

    Examples
    --------
    >>> data = b'{"a": 1, "b": "x", "c": 0.5}\\n{"c": 2, "b": "\\xc3\\xa9", "a": -3}\\n'
    >>> scan_table(data, {"a": 1, "b": "x", "c": 0.5}).to_pylist()
    [{'a': 1, 'b': 'x', 'c': 0.5}, {'a': -3, 'b': 'é', 'c': 2.0}]
    >>> scan_table(b'{"a": 1}\\n{"a": null}\\n', {"a": 1}) is None
    True
    """
    kinds = [KINDS.get(type(value), -1) for value in first.values()]
    if not 0 < len(kinds) < 64 or -1 in kinds or len(data) >= 2**31:
        return None  # the fields seen are bits of an int64; int32 offsets: chunks are MiBs
    encoded = [name.encode("utf-8") for name in first]
    names = np.frombuffer(b"".join(encoded) or b"\0", dtype=np.uint8)
    name_ends = np.cumsum([len(name) for name in encoded]).astype(np.int64)
    buf = np.frombuffer(data, dtype=np.uint8)
    # no count of the lines: a row takes at least {"name":0,...} and the arrays are not filled
    capacity = len(data) // (sum(len(name) + 4 for name in encoded) + 1) + 1
    spanned = [kind in (0, 2) for kind in kinds]  # strings and floats: spans of the input
    slots = np.array(
        [sum(spanned[:f]) if s else f - sum(spanned[:f]) for f, s in enumerate(spanned)]
    )
    starts = np.empty((sum(spanned), capacity), dtype=np.int32)
    ends = np.empty((sum(spanned), capacity), dtype=np.int32)
    values = np.empty((len(kinds) - sum(spanned), capacity), dtype=np.int64)
    code = np.array(kinds, dtype=np.int8)
    rows = _scan(buf, names, name_ends, code, slots, starts, ends, values, _SPACE, _STRING_STOP)
    if rows == -1:
        return None
    wide = rows < -1
    rows = -2 - rows if wide else rows
    columns = []
    for slot, kind in zip(slots, kinds, strict=True):
        if kind == 1:
            columns.append(pa.array(values[slot, :rows]))
        elif kind == 3:
            columns.append(pa.array(values[slot, :rows].astype(np.bool_)))
        else:
            text = _spans(buf, starts[slot], ends[slot], rows)
            if kind == 2:
                try:
                    number = text.cast(pa.float64())
                except pa.ArrowInvalid:
                    return None
                if not np.isfinite(number.to_numpy()).all():
                    return None  # 1e400: what a JSON parser makes of it is its own choice
                columns.append(number)
                continue
            if wide:
                try:
                    text.validate(full=True)  # UTF-8, checked in bulk
                except pa.ArrowInvalid:
                    return None
            columns.append(text)
    return pa.table(
        columns,
        schema=pa.schema(
            [pa.field(name, _ARROW[kind]) for name, kind in zip(first, kinds, strict=True)]
        ),
    )
