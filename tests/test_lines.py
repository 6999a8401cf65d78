"""The one line cutter (``toolkit/lines.py``), fed every kind of bad line."""

from __future__ import annotations

from toolkit.lines import LineSplitter


def test_line_splitter_handles_every_kind_of_bad_line() -> None:
    s = LineSplitter(max_line_bytes=10)
    got, bad = [], 0
    for piece in [
        b"ok 1\nca",
        b"f\xc3\xa9\r\n\xff\xfe\n",
        b"x" * 25,
        b"y" * 5 + b"\nafter\n",
        b"tail",
    ]:
        lines, n = s.feed(piece)
        got += lines
        bad += n
    lines, n = s.finish()
    assert got + lines == ["ok 1", "café", "after", "tail"]
    assert bad + n == 2  # the invalid UTF-8 line and the over-long one
    assert LineSplitter().finish(partial_is_bad=True) == ([], 0)
