"""The demo source: generated text (Zipf-distributed words) at a steady rate, for trying things."""

from __future__ import annotations

import contextlib
import random
import threading
import time

from toolkit.errors import ConfigError
from toolkit.stream.sources.base import Put, Ready, Source

__all__ = ["DemoSource"]


class DemoSource(Source):
    """``rate`` lines a second of eight words each; ``limit`` lines in all (None: no end).

    Examples
    --------
    >>> DemoSource(rate=50, limit=100).finite
    True
    """

    kind = "demo"

    def __init__(self, rate: float = 1000.0, limit: int | None = None) -> None:
        if not rate > 0:
            raise ConfigError(f"demo rate must be positive; got {rate!r}")
        if limit is not None and limit < 0:
            raise ConfigError(f"demo lines must not be negative; got {limit!r}")
        super().__init__()
        self.rate, self.limit = rate, limit

    @property
    def finite(self) -> bool:
        return self.limit is not None

    def run(self, put: Put, stop: threading.Event, ready: Ready) -> None:
        from toolkit.corpus import vocabulary

        rng = random.Random(0)
        vocab = vocabulary(5000)
        weights = [1.0 / (r + 1) for r in range(len(vocab))]
        sent = 0
        start = time.monotonic()
        per_chunk = max(1, int(self.rate / 20))  # about 20 chunks a second
        while not stop.is_set() and (self.limit is None or sent < self.limit):
            n = per_chunk if self.limit is None else min(per_chunk, self.limit - sent)
            words = rng.choices(vocab, weights, k=n * 8)
            put([" ".join(words[i * 8 : i * 8 + 8]) for i in range(n)], 0, None)
            sent += n
            delay = start + sent / self.rate - time.monotonic()
            if delay > 0:
                with contextlib.suppress(Exception):
                    stop.wait(delay)
