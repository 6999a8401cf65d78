from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import read_reference_text
from toolkit.batch.inputs import (
    InputStats,
    plan_blocks,
    read_byte_chunks,
    read_text_chunks,
    resolve_inputs,
)
from toolkit.batch.inputs.read import _byte_pieces
from toolkit.errors import ConfigError, DecodeError, InputError


def read_all(paths: list[Path] | Path, blocksize: int, **kw: str) -> tuple[str, InputStats]:
    stats = InputStats()
    files = resolve_inputs(paths)
    text = "".join(
        chunk
        for block in plan_blocks(files, blocksize=blocksize, encoding=kw.get("encoding", "utf-8"))
        for chunk in read_text_chunks(block, stats=stats, chunk_size=64, **kw)
    )
    return text, stats


def test_resolve_file_directory_glob_and_list(tmp_path: Path) -> None:
    for name in ["d/b.txt", "d/a.txt", "d/sub/c.txt", "e.log", "d/.hidden", "d/.git/x.txt"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(name)
    names = lambda files: [Path(f.path).relative_to(tmp_path).as_posix() for f in files]  # noqa: E731
    assert names(resolve_inputs(tmp_path / "d")) == ["d/a.txt", "d/b.txt", "d/sub/c.txt"]
    url_files = resolve_inputs(f"file://{tmp_path}/d/")
    assert [f.path.rsplit("/d/", 1)[1] for f in url_files] == ["a.txt", "b.txt", "sub/c.txt"]
    assert names(resolve_inputs(tmp_path / "d" / ".hidden")) == ["d/.hidden"]  # named: read
    assert names(resolve_inputs(str(tmp_path / "d" / "*.txt"))) == ["d/a.txt", "d/b.txt"]
    assert names(resolve_inputs(str(tmp_path / "**" / "c.txt"))) == ["d/sub/c.txt"]
    assert names(resolve_inputs([tmp_path / "e.log", tmp_path / "d" / "a.txt"])) == [
        "e.log",
        "d/a.txt",
    ]
    [f] = resolve_inputs(f"file://{tmp_path}/e.log")
    assert f.size == len("e.log")


def test_resolve_errors_name_the_input(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "dots" / ".git").mkdir(parents=True)
    (tmp_path / "dots" / ".git" / "HEAD").write_text("ref")
    with pytest.raises(InputError, match=r"^no such file or directory: '.*missing.txt'$"):
        resolve_inputs(tmp_path / "missing.txt")
    with pytest.raises(InputError, match=r"^no files match '.*\*.nothing'$"):
        resolve_inputs(str(tmp_path / "*.nothing"))
    with pytest.raises(InputError, match="contains no files"):
        resolve_inputs(tmp_path / "empty")
    with pytest.raises(InputError, match=r"^directory '.*dots' contains no files \(only 1 hidden"):
        resolve_inputs(tmp_path / "dots")
    with pytest.raises(InputError, match="no input given"):
        resolve_inputs([])
    with pytest.raises(InputError, match="cannot open 'nosuchproto://x'"):
        resolve_inputs("nosuchproto://x")


def test_plan_blocks_splits_big_files_and_keeps_compressed_whole(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_bytes(b"x\n" * 5000)
    gz = tmp_path / "big.txt.gz"
    gz.write_bytes(gzip.compress(b"x\n" * 5000))
    blocks = plan_blocks(resolve_inputs([big, gz]), blocksize=1000)
    assert [b.file.path for b in blocks].count(str(big)) == 10
    assert [(b.offset, b.length) for b in blocks if b.file.path == str(gz)] == [(0, None)]
    with pytest.raises(ConfigError, match="unknown text encoding 'klingon'"):
        plan_blocks(resolve_inputs(big), encoding="klingon")


@pytest.mark.parametrize("blocksize", [97, 1000, 10**9])  # tiny sizes: see the next test
def test_blocks_cover_every_line_exactly_once(messy_corpus: list[Path], blocksize: int) -> None:
    expected = "".join(read_reference_text(p) for p in messy_corpus)
    text, stats = read_all(messy_corpus, blocksize)
    assert text == expected
    assert stats.bytes == len(expected.encode())
    assert stats.lines == sum(
        t.count("\n") + (1 if t and not t.endswith("\n") else 0)
        for t in (read_reference_text(p) for p in messy_corpus)
    )


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    lines=st.lists(st.text(st.sampled_from("ab é\n大"), max_size=30), max_size=30),
    blocksize=st.integers(1, 50),
)
def test_any_text_any_blocksize_round_trips(
    tmp_path: Path, lines: list[str], blocksize: int
) -> None:
    path = tmp_path / "t.txt"
    content = "\n".join(lines)
    path.write_text(content, encoding="utf-8", newline="")
    assert read_all(path, blocksize)[0] == content


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    content=st.binary(max_size=400).map(lambda b: b.replace(b"a", b"\n").replace(b"b", b" ")),
    blocksize=st.integers(1, 120),
    chunk_size=st.integers(1, 40),
    split_long_lines=st.booleans(),
)
def test_byte_pieces_are_the_file_cut_after_newlines(
    tmp_path: Path, content: bytes, blocksize: int, chunk_size: int, split_long_lines: bool
) -> None:
    # the pieces are views of a reused buffer: each is copied before the next is read
    path = tmp_path / "b.bin"
    path.write_bytes(content)
    stats = InputStats()
    pieces = [
        (offset, bytes(piece))
        for block in plan_blocks(resolve_inputs(path), blocksize=blocksize)
        for offset, piece in read_byte_chunks(
            block, stats=stats, chunk_size=chunk_size, split_long_lines=split_long_lines
        )
    ]
    assert b"".join(p for _, p in pieces) == content
    assert [o for o, _ in pieces] == [
        sum(len(p) for _, p in pieces[:k]) for k in range(len(pieces))
    ]
    for _, piece in pieces[:-1]:
        if piece.endswith(b"\n"):
            continue
        # cut inside a line only when allowed, at whitespace, and only when no newline came
        assert split_long_lines and piece.endswith((b" ", b"\t", b"\r", b"\x0b", b"\x0c"))
        assert b"\n" not in piece
    assert stats.bytes == len(content)
    assert stats.lines == content.count(b"\n") + (1 if content and content[-1:] != b"\n" else 0)


def test_byte_pieces_from_a_file_that_can_only_read() -> None:
    class ReadOnly:
        def __init__(self, data: bytes) -> None:
            self.data, self.pos = data, 0

        def read(self, n: int) -> bytes:
            out = self.data[self.pos : self.pos + n]
            self.pos += len(out)
            return out

    data = b"one two\nthree\n" + b"x" * 50 + b"\nlast"
    pieces = [bytes(p) for _, p in _byte_pieces(ReadOnly(data), 0, None, 8, 8, False)]
    assert b"".join(pieces) == data
    assert pieces[:2] == [b"one two\n", b"three\n"]
    assert pieces[2] == b"x" * 50 + b"\n"  # a long line grows the buffer and stays whole


def test_a_whole_file_that_grew_after_planning_is_read_to_its_end(tmp_path: Path) -> None:
    path = tmp_path / "grows.txt"
    path.write_bytes(b"a b\n")
    [block] = plan_blocks(resolve_inputs(path), blocksize=10**6)
    path.write_bytes(b"a b\n" + b"c d e\n" * 1000 + b"no newline")  # more than was planned
    stats = InputStats()
    got = b"".join(bytes(p) for _, p in read_byte_chunks(block, stats=stats, chunk_size=64))
    assert got == path.read_bytes()
    assert stats.lines == 1002


def test_strict_decode_error_names_file_and_offset(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(b"good line\n" * 1000 + b"bad \xff byte\n" + b"more\n" * 10)
    with pytest.raises(DecodeError, match=r"bad\.txt: invalid utf-8 at byte offset 10004 "):
        read_all(path, 256)
    gz = tmp_path / "bad.txt.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    with pytest.raises(DecodeError, match=r"bad\.txt\.gz: invalid utf-8 at byte offset 10004 "):
        read_all(gz, 256)


@pytest.mark.parametrize(("errors", "marker"), [("replace", "\ufffd"), ("ignore", "")])
def test_replace_and_ignore_are_counted(tmp_path: Path, errors: str, marker: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(b"ok\n\xff\xfe twice\nok \xc3 cut\n" * 3)
    text, stats = read_all(path, 16, errors=errors)
    assert text == f"ok\n{marker}{marker} twice\nok {marker} cut\n" * 3
    assert (stats.bad_sequences, stats.bad_lines, stats.lines) == (9, 6, 9)


def test_non_ascii_compatible_encoding(tmp_path: Path) -> None:
    path = tmp_path / "utf16.txt"
    content = "héllo wörld\n大规模\nend"
    path.write_text(content, encoding="utf-16")
    text, stats = read_all(path, 4, encoding="utf-16")
    assert text == content
    assert stats.lines == 3


def test_truncated_gzip_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "cut.txt.gz"
    path.write_bytes(gzip.compress(b"some words\n" * 10000)[:200])
    with pytest.raises(InputError, match=r"cut\.txt\.gz: cannot read"):
        read_all(path, 1000)


def test_long_lines_are_cut_at_whitespace_only_when_allowed(tmp_path: Path) -> None:
    path = tmp_path / "long.txt"
    content = "first\n" + " ".join(f"wörd{i}" for i in range(5000)) + "\nlast"
    path.write_text(content, encoding="utf-8")
    [block] = plan_blocks(resolve_inputs(path))
    stats = InputStats()
    pieces = list(read_text_chunks(block, stats=stats, chunk_size=256, split_long_lines=True))
    assert "".join(pieces) == content
    assert max(len(p.encode()) for p in pieces) <= 2 * 256
    assert all(p.endswith(("\n", " ")) for p in pieces[:-1])  # never inside a word
    assert stats.lines == 3  # cutting a line does not make more lines
    whole = list(read_text_chunks(block, stats=InputStats(), chunk_size=256))
    assert any(len(p) > 20_000 for p in whole)  # records keep their lines whole
