"""The file source, read to its end and followed through appends, truncation and rotation."""

from __future__ import annotations

import os
import time
from pathlib import Path

from tests.stream.sources.collector import Collector
from toolkit.stream.sources import parse_source


def test_file_source_reads_to_the_end(tmp_path: Path) -> None:
    path = tmp_path / "in.txt"
    path.write_bytes(b"one\ntwo \xff\nthree")
    c = Collector(parse_source(str(path)))
    c.thread.join(timeout=10)
    assert (c.lines, c.bad) == (["one", "three"], 1)


def test_follow_survives_appends_truncation_and_replacement(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_text("first\n")
    c = Collector(parse_source(str(path), follow=True))
    c.wait_for(lambda: c.lines == ["first"])
    with path.open("a") as f:
        f.write("second\nthi")
        f.flush()
        time.sleep(0.2)
        f.write("rd\n")
    c.wait_for(lambda: len(c.lines) == 3)
    os.rename(path, tmp_path / "app.log.1")  # rotation: a new file takes the name
    path.write_text("fourth\n")
    c.wait_for(lambda: len(c.lines) == 4)
    path.write_text("")  # truncated in place
    time.sleep(0.3)
    with path.open("a") as f:
        f.write("fifth\n")
    c.wait_for(lambda: len(c.lines) == 5)
    c.finish()
    assert c.lines == ["first", "second", "third", "fourth", "fifth"]
