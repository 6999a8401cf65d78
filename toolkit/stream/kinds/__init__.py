"""Window kinds, each a frozen config and its logic, in one module; :data:`KINDS` names them.

A kind's config (a small value: picklable, printable, written in checkpoints)
is made once from user options by :func:`window_kind`; ``config.logic()``
makes the windowing a stream runs, which holds the open state.  The modules::

    base.py        what every kind is (WindowKind, Windowing), the rule of lateness,
                   and the pane shape the kinds made of panes share
    count.py       count: windows of N records, by arrival
    processing.py  processing-time: windows of time, by arrival
    event.py       event-time: windows of a time inside each record, closed by the
                   watermark (the worker's half: toolkit.stream.eventwindows)
    session.py     session: a session ends after a gap without an event (the open
                   sessions: toolkit.stream.sessions)

A new window kind is one module here (its config and its logic) and one entry
in :data:`KINDS`; :func:`window_kind` picks it by the option that asks for it.
"""

from __future__ import annotations

from typing import Any

from toolkit.errors import OptionError
from toolkit.stream.eventtime import EventTimeSpec
from toolkit.stream.kinds.base import PaneShaped, Plan, Windowing, WindowKind, duration
from toolkit.stream.kinds.count import CountWindowing, CountWindows
from toolkit.stream.kinds.event import EventTimeWindowing, EventTimeWindows
from toolkit.stream.kinds.processing import ProcessingTimeWindowing, ProcessingTimeWindows
from toolkit.stream.kinds.session import Sessions, SessionWindowing

__all__ = [
    "KINDS",
    "CountWindowing",
    "CountWindows",
    "EventTimeWindowing",
    "EventTimeWindows",
    "PaneShaped",
    "Plan",
    "ProcessingTimeWindowing",
    "ProcessingTimeWindows",
    "SessionWindowing",
    "Sessions",
    "WindowKind",
    "Windowing",
    "make_windowing",
    "window_kind",
]

#: Every window kind's config, by name.
KINDS: dict[str, type[Any]] = {
    kind.name: kind for kind in (CountWindows, ProcessingTimeWindows, EventTimeWindows, Sessions)
}


def _options() -> dict[str, str]:
    """Each option that asks for a window kind, and the form of its value."""
    return {kind.option: kind.form for kind in KINDS.values()}


def _said(names: list[str], *, forms: bool = False) -> str:
    """``{a}, {b} or {c}``: option names for an error's template (with their forms)."""
    form = _options()
    fields = [f"{{{n}:{form[n]}}}" if forms else f"{{{n}}}" for n in names]
    return ", ".join(fields[:-1]) + " or " + fields[-1] if len(fields) > 1 else fields[0]


def window_kind(
    *,
    count: int | None = None,
    window: float | str | None = None,
    every: int | float | str | None = None,
    session: float | str | None = None,
    event_time: str | None = None,
    text_field: str | None = "text",
    lateness: float | str | None = None,
    idle_timeout: float | str | None = None,
    records: str = "lines",
) -> WindowKind:
    """The window kind for options: ``count`` records, a ``window`` length, or a ``session`` gap.

    ``every`` is the slide (records for count windows, a duration for time
    windows); ``event_time`` names the timestamp field of each record (JSON
    lines, or CSV rows); ``text_field`` the text a word count counts in event
    time (None for a user job, whose records go to the mapper whole);
    ``lateness``, in event time: how long to wait for late events;
    ``idle_timeout``, in event time: after this long without records, the
    watermark moves on with the wall clock.  Errors name these parameters.

    Examples
    --------
    >>> window_kind(count=100)
    CountWindows(size=100, every=None, records='lines')
    >>> window_kind(window="1m", every="10s").to_dict()
    {'kind': 'processing-time', 'length': 60.0, 'slide': 10.0}
    >>> window_kind(session="30s", event_time="ts", records="csv").name
    'session'
    >>> window_kind(count=5, window="1s")
    Traceback (most recent call last):
    ...
    toolkit.errors.OptionError: give exactly one of count, window or session
    """
    asked = {"count": count, "window": window, "session": session}
    given = [name for name in _options() if asked.get(name) is not None]
    if len(given) != 1:
        raise OptionError(f"give exactly one of {_said(list(_options()), forms=True)}")
    option = given[0]
    timed = event_time is not None
    kinds = [k for k in KINDS.values() if k.option == option]
    if (timed or lateness) and all(k.event_time is False for k in kinds):
        with_events = {k.option for k in KINDS.values() if k.event_time is not False}
        names = [name for name in _options() if name in with_events]
        raise OptionError(f"{{event_time}} and {{lateness}} go with {_said(names)}")
    if lateness and not timed:
        raise OptionError("{lateness} needs {event_time}")
    if idle_timeout is not None and not timed:
        raise OptionError("{idle_timeout} needs {event_time} (processing time never waits)")
    events = None
    if event_time is not None:
        if records == "lines":
            if text_field is None:  # a user job's records are what it says they are
                raise OptionError(
                    "{event_time} reads a field of each record: give {records} jsonl or csv"
                )
            records = "jsonl"  # a word count's event-time lines are JSON objects
        events = EventTimeSpec(
            event_time,
            records,
            text_field,
            duration("lateness", lateness) if lateness not in (None, 0, "0") else 0.0,
            duration("idle_timeout", idle_timeout) if idle_timeout is not None else None,
        )
    made = next(k for k in kinds if k.event_time in (None, timed))
    kind: WindowKind = made.from_options(asked[option], every=every, events=events, records=records)
    return kind


def make_windowing(**options: Any) -> Windowing:
    """The windowing (a kind's logic) for user options, as :func:`window_kind` takes them.

    Examples
    --------
    >>> type(make_windowing(count=100)).__name__
    'CountWindowing'
    >>> make_windowing(window="1m", every="10s").window_panes
    6
    >>> make_windowing(session="30s", event_time="ts", records="csv").config()["kind"]
    'event-time-session'
    """
    return window_kind(**options).logic()
