"""What a worker runs for a user job's micro-batch: records folded per pane, or per session part.

:class:`KeyedPaneJob` folds each pane's records with the job's keyed fold
(:class:`~toolkit.jobs.KeyedJob`, the same code as a batch block) into one
:class:`~toolkit.jobs.KeyedState` per pane; :class:`KeyedSessionJob` maps the
records, groups each key's values by time into parts of sessions, and folds
each part.  Both are pure and pickled to the workers with the batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from toolkit.errors import JobError
from toolkit.jobs.keyed import KeyedJob, KeyedState
from toolkit.jobs.records import BadRecords
from toolkit.lines import LineBlock
from toolkit.stream.messages import PaneBatch, PaneStates, Part, SessionBatch, SessionParts
from toolkit.stream.sessions import cut_sessions

__all__ = ["KeyedPaneJob", "KeyedSessionJob"]


def _lines(text: str | LineBlock) -> Sequence[str]:
    """A pane's lines: of its text, or its block's (decoded here, on the worker)."""
    return text.split("\n") if isinstance(text, str) else text.lines()


@dataclass(frozen=True)
class KeyedPaneJob:
    """Fold each pane's records into a keyed state (pure; runs on a worker).

    Examples
    --------
    >>> from toolkit.jobs import KeyedJob, combining
    >>> job = KeyedPaneJob(KeyedJob(lambda r: [(r["s"], 1)], combining(max), "jsonl"))
    >>> job(PaneBatch(text={3: '{"s": 200}\\n{"s": 404}'}, lines={3: 2})).states[3]
    {200: 1, 404: 1}
    """

    job: KeyedJob

    def __call__(self, batch: PaneBatch) -> PaneStates:
        header = batch.header
        return self._folded(
            batch,
            {p: self.job.fold(KeyedState(), _lines(t), header) for p, t in batch.text.items()},
        )

    def fold_parsed(
        self, batch: PaneBatch, panes: dict[int, tuple[list[str], list[Any]]]
    ) -> PaneStates:
        """Fold each pane's records, parsed already (event time reads them once); its lines
        are what a bad record's report shows."""
        job = self.job
        return self._folded(
            batch, {p: job.fold_parsed(KeyedState(), ls, rs) for p, (ls, rs) in panes.items()}
        )

    def _folded(self, batch: PaneBatch, states: dict[int, KeyedState]) -> PaneStates:
        bad = BadRecords()
        lines = dict(batch.lines)
        for pane, state in states.items():
            lines[pane] -= len(state.bad)  # lines: the good records, as a word count's
            bad.extend(state.bad)
            state.bad = BadRecords()  # reported once, with the batch, not with every window
        out = batch.folded(states)
        out.lines = lines
        out.bad += len(bad)
        out.bad_lines = out.bad_lines + bad.lines
        return out


@dataclass(frozen=True)
class KeyedSessionJob:
    """Cut a micro-batch's events into parts of sessions, per key, each folded (pure).

    A part holds a key's values whose times are less than ``gap`` apart; its
    record count is of the records that gave the key a pair.

    Examples
    --------
    >>> from toolkit.jobs import KeyedJob, combining
    >>> job = KeyedSessionJob(KeyedJob(lambda r: [(r, 1)], combining(lambda a, b: a + b)), 10)
    >>> job(SessionBatch(text=["u", "v", "u"], times=[0.0, 1.0, 30.0])).parts["u"]
    [(0.0, 0.0, 1, 1), (30.0, 30.0, 1, 1)]
    """

    job: KeyedJob
    gap: float

    def __call__(self, batch: SessionBatch) -> SessionParts:
        return self._cut(batch, *self.job.mapped(batch.text, batch.header))

    def cut_parsed(
        self, batch: SessionBatch, lines: list[str] | list[bytes], records: list[Any]
    ) -> SessionParts:
        """The same for ``records`` parsed already from ``lines`` (event time reads each
        record once), at ``batch.times``."""
        return self._cut(batch, *self.job.mapped_parsed(lines, records))

    def _cut(
        self, batch: SessionBatch, mapped: list[tuple[int, Any, Any]], bad: BadRecords
    ) -> SessionParts:
        job = self.job
        combine = job.combine
        times = batch.times
        events: dict[Any, list[tuple[float, int, Any]]] = {}  # key -> (time, record, value)
        records: dict[int, Any] = {}
        for i, record, pairs in mapped:
            t = batch.time if times is None else times[i]
            records[i] = record
            try:
                for key, value in pairs:
                    events.setdefault(key, []).append((t, i, value))
            except Exception as exc:
                raise JobError(job.explain(exc, record)) from None
        parts: dict[Any, list[Part]] = {}
        for key, evs in events.items():
            pieces = parts[key] = []
            for group in cut_sessions([e[0] for e in evs], self.gap):
                t0, current, v0 = evs[group[0]]
                try:
                    acc = combine.start(v0)
                    for g in group[1:]:
                        current = evs[g][1]
                        acc = combine.fold(acc, evs[g][2])
                except Exception as exc:
                    raise JobError(job.explain(exc, records[current])) from None
                distinct = len({evs[g][1] for g in group})
                pieces.append((t0, evs[group[-1]][0], distinct, acc))
        out = batch.cut(parts, bad)
        out.lines = {0: out.lines.get(0, 0) - len(bad)}
        return out
