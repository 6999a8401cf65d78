"""The code-point class tables (``toolkit/wordtable/codepoints.py``): built, cached, read back."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolkit.text import word_classes
from toolkit.wordtable import codepoints


@pytest.mark.parametrize("tokenizer", ["words", "whitespace"])
def test_code_point_classes_come_back_from_their_file_as_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tokenizer: str
) -> None:
    monkeypatch.setenv("TOOLKIT_CACHE_DIR", str(tmp_path / "cache"))
    path = Path(codepoints.classes_path(tokenizer))
    built = word_classes(tokenizer)
    codepoints.classes.cache_clear()
    assert codepoints.classes(tokenizer).tobytes() == built and path.read_bytes() == built
    codepoints.classes.cache_clear()
    assert codepoints.classes(tokenizer).tobytes() == built  # read back from the file
    path.write_bytes(built[:1000])  # a short or damaged file is built again
    codepoints.classes.cache_clear()
    assert codepoints.classes(tokenizer).tobytes() == built and path.read_bytes() == built
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("TOOLKIT_CACHE_DIR", str(blocker / "cache"))  # nowhere to write
    codepoints.classes.cache_clear()
    assert codepoints.classes(tokenizer).tobytes() == built
    codepoints.classes.cache_clear()


def test_another_definition_of_a_word_reads_another_file(monkeypatch: pytest.MonkeyPatch) -> None:
    from toolkit import text

    path, key = codepoints.classes_path("words"), codepoints.definition()
    assert key in path and codepoints.definition() == key  # stable
    monkeypatch.setattr(text, "APOSTROPHES", "'")  # an apostrophe fewer: another definition
    assert codepoints.definition() != key and codepoints.classes_path("words") != path
