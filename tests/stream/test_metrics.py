"""Stream metrics: in Python, and on the dashboard's Prometheus page over HTTP."""

from __future__ import annotations

import re
import urllib.request

from toolkit import connect, stream_word_count


def test_stream_metrics_in_python_and_on_the_dashboard() -> None:
    with connect(n_workers=1, processes=False, quiet=True) as conn:
        wc = stream_word_count("demo:?rate=100000&lines=3000", count=500, scheduler=conn)
        wc.name = "demo-count"
        wc.run()
        metrics = wc.metrics()
        assert metrics["lines"] == 3000 and metrics["windows"] == 6
        assert metrics["late"] == 0 and metrics["bad"] == 0 and metrics["in_flight"] == 0
        assert metrics["lines_per_second"] > 0
        assert conn.dashboard_link is not None
        url = conn.dashboard_link.replace("/status", "/metrics")
        with urllib.request.urlopen(url, timeout=10) as page:
            body = page.read().decode()
    assert re.search(r'toolkit_stream_lines\{stream="demo-count"\} 3000\.0', body), body[-2000:]
    assert re.search(r'toolkit_stream_windows\{stream="demo-count"\} 6\.0', body)


def test_event_time_watermark_lag() -> None:
    import json
    import tempfile
    from pathlib import Path

    path = Path(tempfile.mkdtemp()) / "events.jsonl"
    path.write_text("".join(json.dumps({"t": 1000 + i, "text": "x"}) + "\n" for i in range(10)))
    wc = stream_word_count(str(path), window=5, event_time="t", lateness=2)
    wc.clock = lambda: 2000.0
    wc.run()
    assert wc.metrics()["watermark_lag_seconds"] == 2000.0 - (1009 - 2)
