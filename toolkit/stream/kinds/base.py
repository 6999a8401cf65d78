"""What every window kind is: a frozen config and its logic, and the shape of its windows.

A kind's *config* (:class:`WindowKind`) is a small value made once from user
options: picklable, printable, and written in checkpoints (``to_dict``) so a
resumed stream can tell it runs the same windows.  Its *logic*
(:class:`Windowing`, made by ``config.logic()``) holds the open state: which
panes or sessions each chunk's records go to, which records are late, and
how far results may close.  The config also says how a word count or a user
job folds over its windows (:meth:`WindowKind.for_words`,
:meth:`WindowKind.for_job`): kinds made of panes share :class:`PaneShaped`.

Lateness is one rule: an event is late when the results it belongs to may
already have been emitted when it comes.  For windows made of panes, that is
when its pane is below the last closed pane; for sessions, when its time is
below the watermark (a session it opens or joins may end as early as that).
Late events are counted in no result; they are reported with the first result
that closes after them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from toolkit.errors import ConfigError, OptionError
from toolkit.lines import LineBlock
from toolkit.stream.messages import Chunk, End, Panes, Tick
from toolkit.stream.panes import time_pane_sizes
from toolkit.units import parse_duration

if TYPE_CHECKING:
    from streamz import Stream

    from toolkit.jobs.keyed import KeyedJob
    from toolkit.jobs.records import RecordLines
    from toolkit.stream.counting import CountJob, WorkerJob
    from toolkit.stream.eventtime import EventTimeSpec
    from toolkit.stream.windows import ClosedWindow

__all__ = [
    "PaneShaped",
    "Plan",
    "TimeShaped",
    "WindowKind",
    "Windowing",
    "duration",
    "length_and_slide",
    "lines_block",
    "restored",
    "with_records",
]


class Windowing(Protocol):
    """A window kind's logic: how records map to panes (or sessions), and when they close."""

    kind: WindowKind
    window_panes: int
    every_panes: int
    reports_late: bool

    def assign(self, item: Chunk | Tick | End) -> Panes: ...

    def bounds(self, window: ClosedWindow, *, final: bool) -> tuple[float, float]: ...

    def tick_interval(self) -> float | None:
        """Seconds between the clock ticks that close windows (None: the data closes them)."""
        ...

    def use_inputs(self, names: list[str]) -> None:
        """The stream's inputs, by name (event time keeps a watermark for each)."""
        ...

    def watermark(self) -> float | None:
        """Event time up to which windows may close (None: not event time, or no event yet)."""
        ...

    def config(self) -> dict[str, Any]:
        """The kind's config as a checkpoint records it (``kind.to_dict()``)."""
        ...

    def snapshot(self) -> dict[str, Any]: ...

    def restore(self, state: dict[str, Any]) -> None: ...


@dataclass(frozen=True)
class Plan:
    """How a job runs over a kind's windows: what folds each batch (here or on a
    worker), and the node that turns folded batches into results
    (``node(folded, **early)``, with the early-result keywords)."""

    worker: WorkerJob
    node: Callable[..., Stream]


class WindowKind(Protocol):
    """A window kind's config: a frozen value, made once from options."""

    name: ClassVar[str]  #: as checkpoints and results name it
    option: ClassVar[str]  #: the parameter (and CLI flag) that asks for it
    form: ClassVar[str]  #: what that option's value is, as help texts say it
    event_time: ClassVar[bool | None]  #: needs event time (True), never (False), or either
    timed: ClassVar[bool]  #: results are bounded by times (not record offsets)

    @classmethod
    def from_options(
        cls, value: Any, *, every: Any, events: EventTimeSpec | None, records: str
    ) -> WindowKind:
        """The config for the option's ``value`` (``every``: a slide, if the kind has one)."""
        ...

    def logic(self, state: dict[str, Any] | None = None) -> Windowing:
        """A new windowing of this config, or one continuing from a saved ``state``."""
        ...

    def to_dict(self) -> dict[str, Any]: ...

    def for_words(self, windowing: Windowing, job: CountJob, top: int) -> Plan: ...

    def for_job(self, windowing: Windowing, job: KeyedJob, top: int) -> Plan: ...


class PaneShaped:
    """Kinds whose windows are made of panes: words counted per pane, or a user job's
    states folded per pane, merged into windows as panes complete."""

    def for_words(self, windowing: Windowing, job: CountJob, top: int) -> Plan:
        def node(counted: Stream, **early: Any) -> Stream:
            return counted.pane_window(windowing, top=top, **early)

        return Plan(job, node)

    def for_job(self, windowing: Windowing, job: KeyedJob, top: int) -> Plan:
        from toolkit.stream.folding import KeyedPaneJob

        def node(folded: Stream, **early: Any) -> Stream:
            return folded.keyed_window(windowing, job, top=top, **early)

        return Plan(KeyedPaneJob(job), node)


class TimeShaped(PaneShaped):
    """Kinds of windows of time (``length`` seconds sliding by ``slide``) asked for by the
    ``window`` option: panes of one slide."""

    option: ClassVar[str] = "window"
    form: ClassVar[str] = "DURATION"
    timed: ClassVar[bool] = True
    length: float
    slide: float | None

    def __post_init__(self) -> None:
        time_pane_sizes(self.length, self.slide)  # bad sizes fail where the config is made


def lines_block(lines: Sequence[str]) -> LineBlock:
    """The lines as a block: a block as it came, its bytes neither decoded nor joined here
    (the worker that counts them takes them as bytes)."""
    return LineBlock.of(lines)


def with_records(config: dict[str, Any], records: RecordLines | str) -> dict[str, Any]:
    """A kind's config as a dict, naming the record format unless it is plain lines."""
    name = records if isinstance(records, str) else records.records
    return config if name == "lines" else {**config, "records": name}


def duration(option: str, value: Any) -> float:
    """``value`` in seconds; a bad one is an error naming ``option``.

    Examples
    --------
    >>> duration("window", "1m")
    60.0
    """
    try:
        return parse_duration(value)
    except ConfigError as exc:
        said = str(exc).replace("{", "{{").replace("}", "}}")
        raise OptionError(f"{{{option}}}: {said}") from None


def length_and_slide(window: Any, every: Any) -> tuple[float, float | None]:
    """A time window's ``window`` and ``every`` options, in seconds (no slide: tumbling).

    Examples
    --------
    >>> length_and_slide("1m", "10s"), length_and_slide(5, None)
    ((60.0, 10.0), (5.0, None))
    """
    return duration("window", window), duration("every", every) if every is not None else None


def restored(windowing: Any, state: dict[str, Any] | None) -> Any:
    """``windowing``, continued from ``state`` if one is given."""
    if state is not None:
        windowing.restore(state)
    return windowing
