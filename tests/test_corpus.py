from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from toolkit.corpus import _ranked_words, generate_corpus, generate_lines, vocabulary
from toolkit.errors import ConfigError


def test_same_arguments_give_identical_files_and_seeds_differ(tmp_path: Path) -> None:
    a = generate_corpus(tmp_path / "a", size="40kB", files=3, seed=1)
    b = generate_corpus(tmp_path / "b", size="40kB", files=3, seed=1)
    c = generate_corpus(tmp_path / "c", size="40kB", files=3, seed=2)
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    assert [p.read_bytes() for p in a] != [p.read_bytes() for p in c]
    assert len({p.read_bytes() for p in a}) == 3  # each file has its own lines
    total = sum(p.stat().st_size for p in a)
    assert 40_000 <= total < 40_000 + 3 * 400  # about the size asked, whole lines


def test_text_is_utf8_lines_with_capitals_punctuation_and_other_scripts(tmp_path: Path) -> None:
    [path] = generate_corpus(tmp_path, size="200kB", files=1)
    text = path.read_bytes().decode("utf-8")
    assert text.endswith("\n")
    assert any(c.isupper() for c in text) and any(c in ",;:!?" for c in text)
    assert any(ord(c) > 0x7F for c in text)  # some words are not ASCII
    lines = text.splitlines()
    assert sum(line[:1].isupper() for line in lines) > 0.9 * len(lines)  # a capital first


def test_compressed_corpus_holds_the_same_text(tmp_path: Path) -> None:
    [plain] = generate_corpus(tmp_path / "p", size="20kB", files=1)
    [packed] = generate_corpus(tmp_path / "z", size="20kB", files=1, compress=True)
    assert packed.name.endswith(".txt.gz")
    assert gzip.decompress(packed.read_bytes()) == plain.read_bytes()


def test_many_files_build_the_vocabulary_once(tmp_path: Path) -> None:
    # it was built per file: 256 MB in 2,000 files took 438 s, now 41 s
    _ranked_words.cache_clear()
    generate_corpus(tmp_path, size="50kB", files=50)
    info = _ranked_words.cache_info()
    assert (info.misses, info.hits) == (1, 49)


def test_vocabulary_is_ranked_and_lines_follow_it() -> None:
    words = vocabulary(1000)
    assert words[:3] == ["the", "of", "and"] and len(set(words)) == 1000
    lines = list(generate_lines(5000, seed=3))
    assert sum(len(line.encode()) for line in lines) >= 5000
    assert all(line.endswith("\n") for line in lines)


def test_bad_arguments_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="files must be a positive int"):
        generate_corpus(tmp_path, files=0)
