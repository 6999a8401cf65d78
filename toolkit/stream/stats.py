"""What a running stream has done: lines, windows, late and bad lines; its stats line."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

__all__ = ["KEPT_STATS", "StreamStats"]

#: The figures a checkpoint carries over to the run that resumes from it.
KEPT_STATS = ("lines", "bad", "late", "windows")


@dataclass
class StreamStats:
    """What a stream has done so far."""

    lines: int = 0
    bad: int = 0
    late: int = 0
    windows: int = 0
    in_flight: int = 0
    checkpoints: int | None = None  # None: not checkpointing
    started: float = field(default_factory=time.monotonic)

    def line(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        saved = "" if self.checkpoints is None else f", {self.checkpoints:,} checkpoints"
        return (
            f"toolkit: stream: {self.lines:,} lines ({self.lines / elapsed:,.0f}/s), "
            f"{self.windows:,} windows, {self.late:,} late, {self.bad:,} bad, "
            f"{self.in_flight} batches in flight{saved}"
        )
