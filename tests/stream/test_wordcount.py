"""A stream's word count built from options (``toolkit/stream/wordcount.py``): the windows,
the worker job and the identity a checkpoint compares."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolkit.errors import ConfigError
from toolkit.stream.counting import CountJob, CountSessionJob
from toolkit.stream.wordcount import stream_word_count, to_frame


def test_options_make_the_job_and_its_identity(tmp_path: Path) -> None:
    path = tmp_path / "in.txt"
    path.write_text("The cat\nthe hat\n")
    stop = tmp_path / "stop.txt"
    stop.write_text("the\n")
    wc = stream_word_count(str(path), count=1, tokenizer="whitespace", stopwords=str(stop), top=3)
    job = wc.identity["job"]
    assert job == {
        "tokenizer": "whitespace", "lowercase": False, "min_length": 1,
        "stopwords": ["the"], "top": 3,
    }  # fmt: skip
    assert wc.identity["windowing"]["kind"] == "count"
    results = wc.results.sink_to_list()
    wc.run()
    assert [r.top for r in results] == [[("The", 1), ("cat", 1)], [("hat", 1)]]
    assert list(to_frame(results)["lines"]) == [1, 1]


def test_sessions_count_on_the_worker_by_parts() -> None:
    wc = stream_word_count("demo:?rate=100000&lines=50", session="1s")
    assert isinstance(wc._counter.job, CountSessionJob)
    assert isinstance(stream_word_count("demo:", count=5)._counter.job, CountJob)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "give exactly one of"),
        ({"count": 5, "event_time": "ts"}, "go with window or session"),
        ({"window": "1s", "lateness": "2s"}, "lateness needs event_time"),
    ],
)
def test_bad_options_fail_when_built(options: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        stream_word_count("demo:", **options)  # type: ignore[arg-type]
