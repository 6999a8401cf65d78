"""Uploaded input (the client reads, the workers count) gives what the files give, byte for byte."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from tests.conftest import reference_counts
from toolkit import map_reduce, word_count
from toolkit.batch.inputs import Block, InputFile, plan_blocks
from toolkit.batch.inputs.visible import _look, check_visible
from toolkit.batch.upload import upload_tasks
from toolkit.batch.wordcount import WordCountJob
from toolkit.errors import ConfigError, DecodeError, InputError


@pytest.mark.parametrize("cluster", ["inprocess", "subprocess"])
@pytest.mark.parametrize("blocksize", ["4KiB", "1MiB"])
def test_upload_counts_the_messy_corpus_as_the_reference(
    messy_corpus: list[Path], cluster: str, blocksize: str, request: pytest.FixtureRequest
) -> None:
    client = request.getfixturevalue(f"{'inprocess' if cluster == 'inprocess' else 'real'}_client")
    result = word_count(messy_corpus, scheduler=client, upload=True, blocksize=blocksize)
    assert dict(result.most_common()) == dict(reference_counts(messy_corpus))
    files = word_count(messy_corpus, scheduler=client, blocksize=blocksize)
    assert result.stats == files.stats  # files, bytes and lines read: the same figures


def test_pieces_cover_every_line_once_and_stay_near_the_block_size(tmp_path: Path) -> None:
    lines = [f"line {i} {'x' * (i % 97)}\n".encode() for i in range(20_000)]
    data = b"".join(lines)
    (tmp_path / "a.txt").write_bytes(data)
    (tmp_path / "b.txt.gz").write_bytes(gzip.compress(data))
    files = [InputFile(str(tmp_path / n), (tmp_path / n).stat().st_size, c) for n, c in
             (("a.txt", None), ("b.txt.gz", "gzip"))]  # fmt: skip
    tasks = [[b] for b in plan_blocks(files, blocksize=50_000)]
    job = WordCountJob("whitespace", False, 1, frozenset())
    pieces = list(upload_tasks(job, tasks, encoding="utf-8", blocksize=50_000))
    got: dict[str, bytes] = {}
    for piece in pieces:
        assert piece.size <= 50_000 + 200  # a piece ends after the line that crosses the size
        for _, block in piece.pairs:
            assert block.data is not None and block.data.endswith(b"\n")
            got[block.file.path] = got.get(block.file.path, b"") + block.data
    assert got == {files[0].path: data, files[1].path: data}


def test_a_truncated_gzip_fails_or_is_skipped_with_nothing_of_it_counted(
    tmp_path: Path, inprocess_client: object
) -> None:
    good = tmp_path / "good.txt"
    good.write_text("alpha beta\n" * 1000)
    bad = tmp_path / "bad.txt.gz"
    text = "".join(f"gamma{i} delta\n" for i in range(200_000)).encode()
    bad.write_bytes(gzip.compress(text)[:20_000])
    with pytest.raises(InputError, match=f"{bad}: cannot read"):
        word_count([good, bad], scheduler=inprocess_client, upload=True)
    result = word_count(
        [good, bad], scheduler=inprocess_client, upload=True, skip_bad_files=True, blocksize="4KiB"
    )
    assert dict(result.most_common()) == {"alpha": 1000, "beta": 1000}
    assert [path for path, _ in result.stats.skipped] == [str(bad)]


def test_invalid_utf8_is_named_with_its_offset(tmp_path: Path, inprocess_client: object) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(b"ok ok\n" * 5000 + b"caf\xe9\n")
    with pytest.raises(DecodeError, match=f"{path}: invalid utf-8 at byte offset 30003"):
        word_count(path, scheduler=inprocess_client, upload=True, blocksize="4KiB")


def test_utf16_and_csv_headers_upload(tmp_path: Path, inprocess_client: object) -> None:
    utf16 = tmp_path / "u.txt"
    utf16.write_text("Grüße aus Köln\n" * 300, encoding="utf-16")
    result = word_count(utf16, scheduler=inprocess_client, upload=True, encoding="utf-16")
    assert dict(result.most_common()) == {"grüße": 300, "aus": 300, "köln": 300}
    csv = tmp_path / "a.csv"
    csv.write_text("k,v\n" + "".join(f"{i % 3},{i}\n" for i in range(3000)))
    pairs = map_reduce(
        csv,
        lambda r: [(r["k"], int(r["v"]))],
        lambda a, b: a + b,
        records="csv",
        scheduler=inprocess_client,
        upload=True,
        blocksize="2KiB",
    )
    assert pairs.to_dict() == {str(k): sum(range(k, 3000, 3)) for k in range(3)}


def test_upload_and_a_journal_do_not_go_together(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a\n")
    with pytest.raises(ConfigError, match="journal and upload do not go together"):
        word_count(tmp_path / "a.txt", upload=True, journal=tmp_path / "j", scheduler="sync")


def test_workers_are_asked_about_missing_and_different_files(
    tmp_path: Path, inprocess_client: object
) -> None:
    here = tmp_path / "here.txt"
    here.write_text("twelve bytes")
    assert _look([(str(here), 12)]) == []
    assert _look([(str(tmp_path / "gone.txt"), 1)]) == [(str(tmp_path / "gone.txt"), "not found")]
    assert _look([(str(here), 13)]) == [
        (str(here), "another file (12 bytes, not 13 as on the client)")
    ]
    check_visible(inprocess_client, [InputFile(str(here), 12, None)])  # no error
    with pytest.raises(InputError, match=r"another file .* on worker .* --upload"):
        check_visible(inprocess_client, [InputFile(str(here), 99, None)])
    check_visible(inprocess_client, [InputFile("s3://bucket/key", 5, None)])  # URLs: not checked


def test_the_cli_uploads(tmp_path: Path, real_cluster: object) -> None:
    import subprocess
    import sys

    path = tmp_path / "a.txt"
    path.write_text("one two two\n" * 100)
    address = real_cluster.address  # type: ignore[attr-defined]
    args = ["wordcount", str(path), "--upload", "--scheduler", address, "--json"]
    proc = subprocess.run(
        [sys.executable, "-m", "toolkit", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["top"] == [
        {"word": "two", "count": 200},
        {"word": "one", "count": 100},
    ]


def test_blocks_compare_without_their_bytes() -> None:
    f = InputFile("/a", 3, None)
    assert Block(f, 0, 3, b"abc") == Block(f, 0, 3)
