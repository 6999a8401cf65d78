"""The session kind's config (``toolkit/stream/kinds/session.py``); the open sessions and
their logic's event times are in ``tests/stream/test_sessions.py``."""

from __future__ import annotations

import pytest

from toolkit.errors import OptionError
from toolkit.jobs import KeyedJob, combining
from toolkit.stream.counting import CountJob, CountSessionJob
from toolkit.stream.eventtime import EventTimeSpec
from toolkit.stream.folding import KeyedSessionJob
from toolkit.stream.kinds import Sessions, SessionWindowing


def test_the_config_makes_the_logic_and_names_it() -> None:
    plain = Sessions(30.0)
    assert plain.to_dict() == {"kind": "session", "gap": 30.0}
    assert Sessions(5.0, records="jsonl").to_dict() == {
        "kind": "session",
        "gap": 5.0,
        "records": "jsonl",
    }
    timed = Sessions(5.0, EventTimeSpec("ts", text_field="text", lateness=1.0))
    w = timed.logic()
    assert isinstance(w, SessionWindowing) and w.kind == timed
    assert w.config() == {
        "kind": "event-time-session",
        "gap": 5.0,
        "field": "ts",
        "text_field": "text",
        "lateness": 1.0,
        "idle_timeout": None,
        "records": "jsonl",
    }


def test_a_gap_must_be_positive() -> None:
    with pytest.raises(OptionError, match="session gap must be positive seconds"):
        Sessions(0)


def test_sessions_fold_words_of_the_stream_and_a_user_job_per_key() -> None:
    kind = Sessions(2.0)
    w = kind.logic()
    words = kind.for_words(w, CountJob(), top=3)
    assert isinstance(words.worker, CountSessionJob)
    job = KeyedJob(lambda line: [(line, 1)], combining(lambda a, b: a + b))
    keyed = kind.for_job(w, job, top=0)
    assert isinstance(keyed.worker, KeyedSessionJob)
