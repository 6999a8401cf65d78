"""``Stream.from_lines`` on a streamz event loop."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path


def test_from_lines_is_a_streamz_source_on_an_event_loop(tmp_path: Path) -> None:
    from streamz import Stream

    from toolkit.stream.counting import CountJob
    from toolkit.stream.kinds import CountWindowing

    path = tmp_path / "in.txt"
    lines = [f"line {i} word{i % 3}" for i in range(50)]
    path.write_text("\n".join(lines) + "\n")
    w = CountWindowing(7)
    source = Stream.from_lines(str(path), tick=0.05)
    results = source.assign_panes(w).count_panes(CountJob()).pane_window(w, top=0).sink_to_list()
    source.start()
    deadline = time.monotonic() + 20
    while not source.stopped:  # a finite source stops after its End
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert [(r.start, r.end) for r in results] == [(i, min(i + 7, 50)) for i in range(0, 50, 7)]
    total: Counter[str] = Counter()
    for r in results:
        total.update(dict(r.top))
    assert total == Counter(x for line in lines for x in line.split())
