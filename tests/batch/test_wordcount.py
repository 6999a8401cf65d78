from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import reference_counts
from toolkit.batch import word_count
from toolkit.corpus import generate_corpus
from toolkit.errors import ConfigError, DecodeError, InputError
from toolkit.text import top_k


def as_counter(result: object) -> Counter[str]:
    return Counter(dict(result.counts.items()))  # type: ignore[attr-defined]


@pytest.mark.parametrize("tokenizer", ["words", "whitespace"])
def test_word_count_equals_reference_on_every_backend(
    scheduler: object, messy_corpus: list[Path], tokenizer: str
) -> None:
    expected = reference_counts(messy_corpus, tokenizer)
    result = word_count(messy_corpus, tokenizer=tokenizer, blocksize=4096, scheduler=scheduler)
    assert as_counter(result) == expected
    assert result.total_words == sum(expected.values())
    assert result.distinct_words == len(expected)
    assert list(result.counts.items()) == top_k(expected, None)  # count desc, then word asc
    assert result.stats.files == len(messy_corpus)


def test_generated_corpus_multi_file_on_real_cluster(real_client: object, tmp_path: Path) -> None:
    paths = generate_corpus(tmp_path, size="3MB", files=5)
    result = word_count(tmp_path, blocksize="64KiB", scheduler=real_client, top=25)
    expected = reference_counts(paths)
    assert list(result.counts.items()) == top_k(expected, 25)
    assert result.total_words == sum(expected.values())
    assert result.distinct_words == len(expected)


def test_options_top_min_length_stopwords_and_case(
    messy_corpus: list[Path], tmp_path: Path
) -> None:
    expected = reference_counts(messy_corpus)
    stop = {"the", "of", "and"}
    filtered = Counter({w: c for w, c in expected.items() if len(w) >= 3 and w not in stop})
    result = word_count(
        messy_corpus, min_length=3, stopwords=["The", "OF", "and"], top=10, scheduler="sync"
    )
    assert list(result.counts.items()) == top_k(filtered, 10)
    assert result.total_words == sum(filtered.values())
    assert result.distinct_words == len(filtered)
    assert result.top(3)["word"].tolist() == [w for w, _ in top_k(filtered, 3)]

    stop_file = tmp_path / "stop.txt"
    stop_file.write_text("# my list\nthe\n\nof\nand\n")
    by_file = word_count(messy_corpus, min_length=3, stopwords=stop_file, top=10, scheduler="sync")
    assert by_file.counts.equals(result.counts)

    english = word_count(messy_corpus, stopwords="english", scheduler="sync")
    assert "the" not in english.counts.index and "don't" not in english.counts.index

    cased = word_count(messy_corpus, lowercase=False, scheduler="sync")
    assert as_counter(cased) == reference_counts(messy_corpus, lowercase=False)


@pytest.mark.parametrize("split_out", [2, 5])
def test_split_out_gives_identical_counts(
    inprocess_client: object, messy_corpus: list[Path], split_out: int
) -> None:
    one = word_count(messy_corpus, blocksize=4096, scheduler=inprocess_client)
    many = word_count(messy_corpus, blocksize=4096, scheduler=inprocess_client, split_out=split_out)
    assert many.counts.equals(one.counts)
    assert (many.total_words, many.distinct_words) == (one.total_words, one.distinct_words)
    top = word_count(
        messy_corpus, blocksize=4096, scheduler=inprocess_client, split_out=split_out, top=7
    )
    assert top.counts.equals(one.counts.head(7))


def test_many_distinct_words_with_split_out(real_client: object, tmp_path: Path) -> None:
    path = tmp_path / "distinct.txt"
    with path.open("w") as f:
        for i in range(0, 300_000, 10):
            f.write(" ".join(f"w{j}x" for j in range(i, i + 10)) + " common\n")
    result = word_count(path, blocksize="256KiB", scheduler=real_client, split_out=4)
    assert result.distinct_words == 300_001
    assert result.total_words == 330_000
    assert result["common"] == 30_000 and result["w299999x"] == 1
    assert len(result.counts) == 300_001


def test_errors_policy(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(b"caf\xe9 au lait\n" + b"fine words\n" * 10)
    with pytest.raises(DecodeError, match=r"bad\.txt: invalid utf-8 at byte offset 3"):
        word_count(path, scheduler="sync")
    replaced = word_count(path, errors="replace", scheduler="sync")
    assert replaced["caf"] == 1 and replaced.stats.bad_sequences == 1
    assert replaced.stats.bad_lines == 1
    ignored = word_count(path, errors="ignore", scheduler="sync")
    assert ignored["caf"] == 1 and ignored.stats.bad_sequences == 1
    latin = word_count(path, encoding="latin-1", scheduler="sync")
    assert latin["café"] == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tokenizer": "nope"}, "tokenizer must be one of"),
        ({"min_length": 0}, "min_length must be a positive int; got 0"),
        ({"top": -1}, "top must be a non-negative int"),
        ({"errors": "maybe"}, "errors must be one of strict, replace, ignore; got 'maybe'"),
        ({"blocksize": "big"}, "size must look like"),
        ({"split_out": 0}, "split_out must be a positive int; got 0"),
        ({"split_every": 1}, "split_every must be an int of at least 2"),
        ({"scheduler": 42}, "scheduler must be a toolkit Connection"),
    ],
)
def test_bad_arguments_fail_before_any_work(
    messy_corpus: list[Path], kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        word_count(messy_corpus, **kwargs)  # type: ignore[arg-type]


def test_missing_input_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file or directory"):
        word_count(tmp_path / "nope.txt", scheduler="sync")


def test_result_renders_in_jupyter(messy_corpus: list[Path]) -> None:
    result = word_count(messy_corpus, scheduler="sync")
    html = result._repr_html_()
    assert "<table" in html and f"{result.total_words:,}" in html
    assert repr(result).startswith("WordCounts(total_words=")


@pytest.mark.parametrize("top", [None, 3])
def test_result_views_agree(messy_corpus: list[Path], top: int | None) -> None:
    result = word_count(messy_corpus, scheduler="sync", top=top)
    pairs = list(result.counts.items())
    assert result.most_common() == pairs and result.most_common(2) == pairs[:2]
    assert result.most_common(0) == []
    assert result.to_arrow().to_pydict() == {
        "word": [w for w, _ in pairs],
        "count": [c for _, c in pairs],
    }
    assert result.top(4).to_dict("list") == result.counts.head(4).reset_index().to_dict("list")
    assert len(result) == len(pairs) and result[pairs[0][0]] == pairs[0][1]


def test_fsspec_urls_and_url_globs() -> None:
    import fsspec

    fs = fsspec.filesystem("memory")
    fs.pipe(
        {"/corpus/a.txt": b"url words here\n", "/corpus/b.txt": "more URL words, café\n".encode()}
    )
    # the memory filesystem lives in this process, so the synchronous scheduler reads it
    result = word_count("memory://corpus/*.txt", scheduler="sync")
    assert dict(result.counts.items()) == {
        "url": 2,
        "words": 2,
        "here": 1,
        "more": 1,
        "café": 1,
    }
    assert result.stats.files == 2
    fs.rm("/corpus", recursive=True)
