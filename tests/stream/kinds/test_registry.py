"""The registry of window kinds (``toolkit/stream/kinds/__init__.py``): options parsed once
into a kind's config, errors that name parameters (and flags, in the CLI's words)."""

from __future__ import annotations

import pickle

import pytest

from toolkit.errors import ConfigError, OptionError
from toolkit.stream.eventtime import EventTimeSpec
from toolkit.stream.kinds import (
    KINDS,
    CountWindows,
    EventTimeWindows,
    ProcessingTimeWindows,
    Sessions,
    make_windowing,
    window_kind,
)


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


@pytest.mark.parametrize(
    ("options", "kind"),
    [
        ({"count": 10, "every": "5"}, CountWindows(10, 5)),
        ({"window": "1m", "every": "10s"}, ProcessingTimeWindows(60.0, 10.0)),
        (
            {"window": "10s", "event_time": "ts", "lateness": "2s"},
            EventTimeWindows(10.0, None, EventTimeSpec("ts", "jsonl", "text", 2.0)),
        ),
        ({"session": "30s"}, Sessions(30.0)),
        (
            {"session": "5s", "event_time": "t", "text_field": None, "records": "csv"},
            Sessions(5.0, EventTimeSpec("t", "csv", None), "csv"),
        ),
    ],
)
def test_options_make_one_config_value(options: dict, kind: object) -> None:
    made = window_kind(**options)
    assert made == kind
    assert pickle.loads(pickle.dumps(made)) == made and repr(made) == repr(kind)
    assert KINDS[made.to_dict()["kind"].removeprefix("event-time-")] is type(made)
    logic = made.logic()
    assert logic.kind == made and logic.config() == made.to_dict()


def test_a_config_logic_continues_from_a_saved_state() -> None:
    kind = window_kind(count=4)
    first = kind.logic()
    first.seen = 10
    assert kind.logic(first.snapshot()).seen == 10 and kind.logic().seen == 0


@pytest.mark.parametrize(
    ("options", "said", "flags"),
    [
        (
            {},
            "give exactly one of count, window or session",
            "give exactly one of --count N, --window DURATION or --session GAP",
        ),
        (
            {"count": 5, "event_time": "t"},
            "event_time and lateness go with window or session",
            None,
        ),
        ({"count": 5, "lateness": "1s"}, "event_time and lateness go with window or session", None),
        (
            {"window": "1s", "lateness": "2s"},
            "lateness needs event_time",
            "--lateness needs --event-time",
        ),
        (
            {"window": "1s", "idle_timeout": "2s"},
            "idle_timeout needs event_time",
            "--idle-timeout needs --event-time",
        ),
        ({"count": 5, "every": "1s"}, "with count, every is a number of records; got '1s'", None),
        ({"session": "1s", "every": "1s"}, "every slides windows; a session has none", None),
        (
            {"window": "1s", "event_time": "t", "text_field": None},
            "event_time reads a field of each record: give records jsonl or csv",
            "--event-time reads a field of each record: give --records jsonl or csv",
        ),
        ({"window": "soon"}, "window: duration", "--window: duration"),
        ({"session": "1s", "event_time": "t", "lateness": "-1s"}, "lateness: ", "--lateness: "),
    ],
)
def test_bad_options_name_parameters_and_the_cli_says_flags(
    options: dict, said: str, flags: str | None
) -> None:
    with pytest.raises(OptionError) as caught:
        window_kind(**options)
    assert str(caught.value).startswith(said)
    assert isinstance(caught.value, ConfigError)
    if flags is not None:
        assert caught.value.said(_flag).startswith(flags)


def test_make_windowing_is_the_logic_of_the_kind() -> None:
    assert type(make_windowing(count=3)).__name__ == "CountWindowing"
    assert make_windowing(window="1m", every="10s").window_panes == 6
    assert make_windowing(session="1s").kind == Sessions(1.0)


def test_each_kind_says_its_option_form_and_shape() -> None:
    for name, kind in KINDS.items():
        assert kind.name == name
        assert kind.option in ("count", "window", "session") and kind.form
        assert kind.event_time in (None, True, False) and isinstance(kind.timed, bool)
