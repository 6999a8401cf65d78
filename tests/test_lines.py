"""The one line cutter (``toolkit/lines.py``), fed every kind of bad line."""

from __future__ import annotations

import pickle
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.lines import EMPTY, LineBlock, LineSplitter, lines_of


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


@settings(max_examples=200, deadline=None)
@given(
    lines=st.lists(st.text(alphabet=st.characters(blacklist_characters="\n"), max_size=12)),
    cuts=st.lists(st.integers(0, 400), max_size=8),
    final_newline=st.booleans(),
)
def test_fed_in_any_pieces_the_cutter_gives_the_lines_of_the_text(
    lines: list[str], cuts: list[int], final_newline: bool
) -> None:
    text = "\n".join(lines) + ("\n" if final_newline and lines else "")
    data = text.encode("utf-8", "surrogatepass")
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        return  # lone surrogates are not UTF-8: the bad-line tests cover those
    splitter = LineSplitter(max_line_bytes=10_000)
    got: list[str] = []
    start = 0
    for cut in sorted(c for c in cuts if c <= len(data)):
        got += splitter.feed(data[start:cut])[0]
        start = cut
    got += splitter.feed(data[start:])[0]
    got += splitter.finish()[0]
    assert got == lines_of(text)  # the stream's cutter agrees with the whole text's lines
    # the plain definition: split at newlines; a final newline ends the last line; one CR
    # before a newline is dropped; an empty text has no line
    plain = text.split("\n")[:-1] if text.endswith("\n") else text.split("\n")
    expected = [x[:-1] if x.endswith("\r") else x for x in plain] if text else []
    assert lines_of(text) == expected


def plain_lines(data: bytes, limit: int) -> tuple[list[str], int]:
    """The obviously-correct cut of a whole input: good lines, and how many were bad."""
    pieces = data.split(b"\n")
    if pieces and not pieces[-1]:
        pieces.pop()  # after the last newline: no line
    good, bad = [], 0
    for raw in pieces:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            bad += 1
            continue
        if len(raw) > limit:
            bad += 1
            continue
        good.append(text.removesuffix("\r"))
    return good, bad


@settings(max_examples=300, deadline=None)
@given(
    raw=st.lists(
        st.one_of(
            st.binary(max_size=40),
            st.sampled_from([b"\n", b"\r\n", b"\r", "é".encode(), "😀".encode(), b"\xff"]),
        ),
        max_size=40,
    ),
    limit=st.integers(1, 30),
    cuts=st.lists(st.integers(0, 2000), max_size=6),
)
def test_blocks_of_lines_equal_the_plain_cut_of_the_whole_input(
    raw: list[bytes], limit: int, cuts: list[int]
) -> None:
    data = b"".join(raw)
    splitter = LineSplitter(max_line_bytes=limit)
    got: list[str] = []
    bad, start = 0, 0
    for cut in [*sorted(c for c in cuts if c <= len(data)), len(data)]:
        block, n = splitter.feed(data[start:cut])
        assert len(block) == len(list(block)) and block == list(block)
        got += block
        bad += n
        start = cut
    block, n = splitter.finish()
    assert (got + list(block), bad + n) == plain_lines(data, limit)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_large_blocks_checked_in_bulk_equal_the_plain_cut(seed: int) -> None:
    rng = random.Random(seed)
    pieces = [b"plain ascii words", "é".encode(), "😀 東".encode(), b"\r"]
    if seed != 3:  # seed 3: valid UTF-8 throughout, every block passes the bulk check
        pieces += [b"\xff", b"\xe2\x82"]
    lines = [b" ".join(rng.choices(pieces, k=rng.randint(0, 12))) for _ in range(20_000)]
    data = b"\n".join(lines) + b"\n"
    assert len(data) > 4 * 64 * 1024
    splitter = LineSplitter(max_line_bytes=300)
    got: list[str] = []
    bad = 0
    for start in range(0, len(data), 100_000):
        block, n = splitter.feed(data[start : start + 100_000])
        got += block
        bad += n
    block, n = splitter.finish()
    assert (got + list(block), bad + n) == plain_lines(data, 300)


def test_blocks_taken_together_keep_their_pieces_and_travel_out_of_band() -> None:
    big = [LineBlock.of([f"{i} é {'x' * 50}" for i in range(k, k + 3_000)]) for k in (0, 3_000)]
    small = LineBlock.of(["a", "b"])
    joined = LineBlock.joined([big[0], EMPTY, small, big[1]])
    assert joined.parts == (big[0].data, small.data, big[1].data)
    assert joined.size == len(joined.data) and list(joined) == [*big[0], "a", "b", *big[1]]
    buffers: list[pickle.PickleBuffer] = []
    data = pickle.dumps(joined, protocol=5, buffer_callback=buffers.append)
    assert len(data) < 500 and len(buffers) == 3
    for copy in (
        pickle.loads(data, buffers=buffers),
        pickle.loads(pickle.dumps(joined, protocol=5)),  # in band: the pieces as bytes
        pickle.loads(pickle.dumps(joined, protocol=4)),
        pickle.loads(pickle.dumps(small, protocol=5)),
    ):
        assert copy == (joined if len(copy) > 2 else small)
