"""A directory of bad inputs on workers limited to 512 MiB: every file accounted for, none fatal."""

from __future__ import annotations

import gzip
import os
import random
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import subprocess_cluster
from toolkit import connect, word_count
from toolkit.corpus import generate_lines
from toolkit.errors import DecodeError
from toolkit.text import words_reference


@pytest.fixture(scope="module")
def bad_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bad")
    text = "".join(generate_lines(2_000_000, seed=9)).encode()
    middle = len(text) // 2
    middle = text.index(b"\n", middle) + 1
    (root / "invalid-utf8-in-the-middle.txt").write_bytes(
        text[:middle] + b"caf\xe9 \xff\xfe ok\n" + text[middle:]
    )
    (root / "binary.bin").write_bytes(random.Random(1).randbytes(300_000))
    (root / "empty.txt").write_bytes(b"")
    (root / "no-trailing-newline.txt").write_bytes(b"the last line has no newline")
    (root / "truncated.txt.gz").write_bytes(gzip.compress(text[:200_000])[:50_000])
    many = root / "many-small-files"
    many.mkdir()
    for i in range(2000):
        (many / f"f{i:04d}.txt").write_text(f"small file {i} word{i % 10}\n")
    with (root / "two-million-distinct-words.txt").open("w") as f:
        for i in range(0, 2_000_000, 20):
            f.write(" ".join(f"d{j}x" for j in range(i, i + 20)) + "\n")
    return root


def reference(root: Path) -> tuple[Counter[str], int]:
    counts: Counter[str] = Counter()
    files = 0
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if path.name.endswith(".gz"):
            continue  # truncated: skipped by the job, so by the reference too
        files += 1
        for line in path.read_bytes().decode("utf-8", "replace").split("\n"):
            counts.update(words_reference(line.lower()))
    return counts, files


@pytest.mark.slow
def test_every_bad_input_is_accounted_for_on_512_mib_workers(bad_dir: Path, tmp_path: Path) -> None:
    expected, files = reference(bad_dir)
    with (
        subprocess_cluster(
            tmp_path / "cluster", n_workers=2, worker_args=("--memory-limit", "512MiB")
        ) as cluster,
        connect(cluster.address, quiet=True) as conn,
    ):
        before = set(conn.client.run(os.getpid).values())
        result = word_count(
            bad_dir,
            errors="replace",
            skip_bad_files=True,
            split_out=4,
            blocksize="4MiB",
            scheduler=conn,
        )
        after = set(conn.client.run(os.getpid).values())
    assert before == after  # no worker died
    assert Counter(dict(result.counts.items())) == expected
    assert result.stats.files == files == 2005  # every readable file; the .gz is skipped
    [(path, reason)] = result.stats.skipped
    assert path.endswith("truncated.txt.gz") and "cannot read" in reason
    assert result.stats.bad_sequences > 1000  # the binary file, and the two bad bytes mid-file
    assert result.distinct_words > 2_000_000


def test_strict_decoding_names_the_file_and_offset(bad_dir: Path) -> None:
    with pytest.raises(
        DecodeError, match=r"invalid-utf8-in-the-middle\.txt: invalid utf-8 at byte offset \d+"
    ):
        word_count(bad_dir / "invalid-utf8-in-the-middle.txt", scheduler="sync")


def test_without_skip_a_corrupt_file_fails_the_job(bad_dir: Path) -> None:
    from toolkit.errors import InputError

    with pytest.raises(InputError, match=r"truncated\.txt\.gz: cannot read"):
        word_count(bad_dir / "truncated.txt.gz", scheduler="sync")
