"""What the tests of every window kind share: a word-count pipeline over a windowing,
a plain recount to hold it to, and random chunking."""

from __future__ import annotations

import random
from collections import Counter

from streamz import Stream

from tests.conftest import MESSY_LINES
from toolkit.corpus import generate_lines
from toolkit.stream.counting import CountJob
from toolkit.stream.kinds import Windowing
from toolkit.stream.messages import WindowResult
from toolkit.text import get_tokenizer

REF = get_tokenizer("words").reference


def recount(texts: list[str]) -> Counter[str]:
    return Counter(w for t in texts for w in REF(t.lower()))


def pipeline(windowing: Windowing) -> tuple[Stream, list[WindowResult]]:
    head = Stream()
    out: list[WindowResult] = []
    head.assign_panes(windowing).count_panes(CountJob()).pane_window(windowing, top=0).sink(
        out.append
    )
    return head, out


def chunked(items: list[str], rng: random.Random) -> list[list[str]]:
    chunks, i = [], 0
    while i < len(items):
        n = rng.choice([0, 1, 2, 3, 7, 50])
        chunks.append(items[i : i + n])
        i += n
    return chunks


LINES = "".join(generate_lines(40_000, seed=11)).splitlines() + MESSY_LINES
