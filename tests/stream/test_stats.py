"""A stream's figures and its stats line (``toolkit/stream/stats.py``)."""

from __future__ import annotations

import re

from toolkit.stream.stats import KEPT_STATS, StreamStats


def test_the_stats_line_says_every_figure() -> None:
    stats = StreamStats(lines=12_345, bad=2, late=3, windows=4, in_flight=1, checkpoints=5)
    line = stats.line()
    assert re.fullmatch(
        r"toolkit: stream: 12,345 lines \([\d,]+/s\), 4 windows, 3 late, 2 bad, "
        r"1 batches in flight, 5 checkpoints",
        line,
    )
    assert "checkpoints" not in StreamStats().line()  # not checkpointing: not said


def test_a_checkpoint_keeps_the_counts_not_the_moment() -> None:
    assert set(KEPT_STATS) <= set(StreamStats.__dataclass_fields__)
    assert "started" not in KEPT_STATS and "in_flight" not in KEPT_STATS
