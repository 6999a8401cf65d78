"""What every window kind shares (``toolkit/stream/kinds/base.py``): the pane shape, durations
named by their option, record formats in a config."""

from __future__ import annotations

import pytest
from streamz import Stream

from toolkit.errors import OptionError
from toolkit.jobs import KeyedJob, combining
from toolkit.stream.counting import CountJob
from toolkit.stream.folding import KeyedPaneJob
from toolkit.stream.kinds import CountWindows
from toolkit.stream.kinds.base import duration, with_records
from toolkit.stream.messages import Chunk, End


def test_a_duration_is_parsed_or_named_in_the_error() -> None:
    assert duration("window", "1m") == 60.0 and duration("every", 0.5) == 0.5
    with pytest.raises(OptionError) as caught:
        duration("idle_timeout", "{soon}")
    assert str(caught.value).startswith("idle_timeout: ")
    assert caught.value.said(lambda n: "--idle-timeout").startswith("--idle-timeout: ")
    assert "{soon}" in str(caught.value)


def test_records_are_named_unless_plain_lines() -> None:
    assert with_records({"kind": "count"}, "lines") == {"kind": "count"}
    assert with_records({"kind": "count"}, "csv") == {"kind": "count", "records": "csv"}


def test_pane_shaped_kinds_run_a_word_count_and_a_user_job() -> None:
    kind = CountWindows(2)
    w = kind.logic()
    words = kind.for_words(w, CountJob(), top=0)
    head = Stream()
    out = words.node(head.assign_panes(w).count_panes(words.worker)).sink_to_list()
    for item in (Chunk(["a b", "b"]), End()):
        head.emit(item)
    assert [(r.start, r.end, r.top) for r in out] == [(0, 2, [("b", 2), ("a", 1)])]

    job = KeyedJob(lambda line: [(line, 1)], combining(lambda a, b: a + b))
    w = kind.logic()
    plan = kind.for_job(w, job, top=0)
    assert isinstance(plan.worker, KeyedPaneJob)
    head = Stream()
    out = plan.node(head.assign_panes(w).count_panes(plan.worker)).sink_to_list()
    for item in (Chunk(["x", "y", "x"]), End()):
        head.emit(item)
    assert [r.to_dict()["results"] for r in out] == [[["x", 1], ["y", 1]], [["x", 1]]]
