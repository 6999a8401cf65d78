"""Output files cut back to a checkpoint."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolkit.errors import OutputError
from toolkit.stream.outputs import OutputFile


def test_restore_cuts_back_to_the_checkpointed_length(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    sink = OutputFile(str(path))
    sink.restore(None)
    sink.write("a\n")
    size = sink.sync()
    sink.write("b\n")
    sink.close()
    path.write_bytes(path.read_bytes() + b'{"half')  # a write cut off by a crash
    again = OutputFile(str(path))
    again.restore(size)
    again.write("b\n")
    again.close()
    assert path.read_text() == "a\nb\n"


def test_a_fresh_start_empties_the_file(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    path.write_text("old run\n")
    sink = OutputFile(str(path))
    sink.restore(None)
    sink.write("new\n")
    sink.close()
    assert path.read_text() == "new\n"


def test_a_file_shorter_than_the_checkpoint_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    path.write_text("abc\n")
    sink = OutputFile(str(path))
    with pytest.raises(OutputError, match=r"has 4 bytes but had 100 at the checkpoint"):
        sink.restore(100)
    sink.close()


def test_an_unwritable_path_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match=r"cannot write .*missing"):
        OutputFile(str(tmp_path / "missing" / "out.jsonl"))


def test_a_checkpoint_taken_right_after_a_restore_holds_the_restored_length(tmp_path: Path) -> None:
    """Resumed, cut back, and checkpointed again before writing anything: the length the new
    checkpoint holds is the cut one (it held the old end, and the next resume kept lines
    that the replay wrote again)."""
    path = str(tmp_path / "out.jsonl")
    first = OutputFile(path)
    first.write("a\n")
    size = first.sync()
    first.write("b\nc\n")  # after the checkpoint; then the process dies
    again = OutputFile(path)
    again.restore(size)
    assert again.sync() == size == 2
    again.write("b\n")
    assert again.sync() == 4 and Path(path).read_text() == "a\nb\n"
    again.close()
