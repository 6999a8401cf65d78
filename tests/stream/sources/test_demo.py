"""The demo source: rate-limited, finite when asked."""

from __future__ import annotations

import time

from tests.stream.sources.collector import Collector
from toolkit.stream.sources import parse_source


def test_demo_source_is_rate_limited_and_finite() -> None:
    c = Collector(parse_source("demo:?rate=2000&lines=500"))
    start = time.monotonic()
    c.thread.join(timeout=10)
    assert len(c.lines) == 500 and time.monotonic() - start >= 0.2
