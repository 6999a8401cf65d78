"""Checkpoint files: atomic, checksummed, numbered; damaged ones are detected."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from toolkit.errors import ConfigError
from toolkit.stream.checkpoint import (
    CheckpointError,
    CheckpointStore,
    CheckpointWarning,
    decode,
    encode,
)


def test_round_trip_keeps_unicode_and_infinities() -> None:
    state = {"top": {"naïve": 3, "日本": 1}, "max_time": float("-inf"), "ids": ["1-0", "2-0"]}
    assert decode(encode(state)) == state


@pytest.mark.parametrize(
    "damage, reason",
    [
        (lambda b: b[:-1], "truncated"),
        (lambda b: b + b"x", "bytes after the payload"),
        (lambda b: b[:-5] + bytes([b[-5] ^ 1]) + b[-4:], "checksum mismatch"),
        (lambda b: b"nonsense" + b, "bad header"),
        (lambda b: b[:30], "truncated"),
    ],
)
def test_damage_is_detected(damage: object, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        decode(damage(encode({"a": list(range(100))})))  # type: ignore[operator]


def test_keeps_the_newest_three_and_loads_the_newest(tmp_path: Path) -> None:
    store = CheckpointStore(str(tmp_path / "cp"))
    for n in range(5):
        store.save({"n": n})
    names = sorted(os.listdir(tmp_path / "cp"))
    assert names == [f"checkpoint-{i:012d}.tkc" for i in (3, 4, 5)]
    assert CheckpointStore(str(tmp_path / "cp")).load() == {"n": 4}
    # a new store continues the numbering
    again = CheckpointStore(str(tmp_path / "cp"))
    again.save({"n": 5})
    assert sorted(os.listdir(tmp_path / "cp"))[-1] == "checkpoint-000000000006.tkc"


def test_a_damaged_newest_falls_back_with_a_warning(tmp_path: Path) -> None:
    store = CheckpointStore(str(tmp_path))
    store.save({"n": 1})
    newest = store.save({"n": 2})
    Path(newest).write_bytes(Path(newest).read_bytes()[:40])
    with pytest.warns(CheckpointWarning, match=r"skipped a damaged checkpoint .*truncated"):
        assert store.load() == {"n": 1}


def test_no_intact_checkpoint_is_an_error_not_a_fresh_start(tmp_path: Path) -> None:
    (tmp_path / "checkpoint-000000000007.tkc").write_bytes(b"")
    with pytest.raises(CheckpointError, match=r"no intact checkpoint in .*bad header"):
        CheckpointStore(str(tmp_path)).load()


def test_an_empty_directory_has_no_checkpoint(tmp_path: Path) -> None:
    assert CheckpointStore(str(tmp_path / "new")).load() is None
    assert (tmp_path / "new").is_dir()


def test_a_crash_mid_write_leaves_no_checkpoint_file(tmp_path: Path) -> None:
    store = CheckpointStore(str(tmp_path))
    store.save({"n": 1})
    # what a crash during _write_local leaves: a temporary file, never a numbered one
    (tmp_path / ".tmp-deadbeef").write_bytes(encode({"n": 2})[:10])
    assert store.load() == {"n": 1}


def test_fsspec_urls_work(tmp_path: Path) -> None:
    store = CheckpointStore("memory://toolkit-test/cp")
    store.save({"n": 1})
    store.save({"n": 2})
    assert CheckpointStore("memory://toolkit-test/cp").load() == {"n": 2}
    assert CheckpointStore(f"file://{tmp_path}/cp").load() is None


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="keep at least 2"):
        CheckpointStore(str(tmp_path), keep=1)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="cannot use checkpoint directory"):
        CheckpointStore(str(tmp_path / "file" / "sub"))


def test_a_checkpoint_from_before_named_inputs_is_read_as_the_main_input() -> None:
    from toolkit.stream.checkpoint import in_current_form

    old = {"identity": {"source": "file:/x", "job": {}}, "source": {"offset": 5}, "stats": {}}
    new = in_current_form(old)
    assert new["sources"] == {"main": {"offset": 5}}
    assert new["identity"] == {"sources": {"main": "file:/x"}, "job": {}}
    assert in_current_form(new) == new and "source" in old["identity"]  # old left as it was
