"""The stream page on the Dask dashboard (``toolkit/stream/dashboard.py``): served by the
scheduler, embedded or a real ``dask scheduler``, and loaded in a real browser (chromium)."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SubprocessCluster
from toolkit import connect, stream_word_count
from toolkit.stream.dashboard import PAGE, add_page, page_link, summary_html


def test_the_summary_escapes_names_and_shows_every_figure() -> None:
    text = summary_html("<b>s</b>", {"lines": 12345, "watermark_lag_seconds": 2.25, "ended": 1})
    assert "&lt;b&gt;s&lt;/b&gt;: ended" in text and "<b>" not in text
    assert "12,345" in text and "2.2" in text and text.count("<tr>") == 8
    assert page_link(None) is None
    assert page_link("http://h:1/status") == "http://h:1/toolkit/streams"


class Running:
    """A demo stream counting on ``conn`` in a thread, until stopped."""

    def __init__(self, conn: Any, name: str, rate: int = 20_000) -> None:
        self.wc = stream_word_count(f"demo:?rate={rate}", count=2000, scheduler=conn)
        self.wc.name = name
        self.pages: list[str] = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        self.wc.run(on_page=self.pages.append)

    def stop(self) -> None:
        self.wc.stop()
        self.thread.join(timeout=60)
        assert not self.thread.is_alive()


def wait_for(predicate: Any, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as page:
        return str(page.read().decode())


@pytest.fixture
def embedded() -> Iterator[Any]:
    with connect(n_workers=1, processes=False, quiet=True) as conn:
        yield conn


def test_the_page_is_served_while_streams_run(embedded: Any) -> None:
    streams = [Running(embedded, "alpha"), Running(embedded, "beta")]
    try:
        url = wait_for(lambda: streams[0].pages and streams[0].pages[0])
        assert url == page_link(embedded.dashboard_link) and url.endswith(PAGE)
        body = get(url)
        assert "bokeh" in body.lower() and "toolkit streams" in body
        wait_for(lambda: streams[1].pages)  # installing it again is a no-op
    finally:
        for s in streams:
            s.stop()


def test_a_real_dask_scheduler_serves_the_page(tmp_path: Path) -> None:
    cluster = SubprocessCluster(tmp_path, 1, scheduler_args=("--dashboard",))
    try:
        with connect(cluster.address, quiet=True) as conn:
            assert conn.dashboard_link is not None
            running = Running(conn, "remote")
            try:
                url = wait_for(lambda: running.pages and running.pages[0])
                assert "toolkit streams" in get(url)
            finally:
                running.stop()
    finally:
        cluster.close()


def test_no_dashboard_no_page_and_the_stream_runs(tmp_path: Path) -> None:
    cluster = SubprocessCluster(tmp_path, 1)  # --no-dashboard
    try:
        with connect(cluster.address, quiet=True) as conn:
            assert conn.dashboard_link is None  # its HTTP server serves no pages
            assert add_page(conn.client) is None
            wc = stream_word_count("demo:?rate=100000&lines=3000", count=500, scheduler=conn)
            pages: list[str] = []
            wc.run(on_page=pages.append)
            assert pages == [] and wc.metrics()["lines"] == 3000
    finally:
        cluster.close()


def browser() -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(flag)
    options.add_argument("--window-size=1400,1000")
    options.binary_location = "/usr/bin/chromium"
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


#: The figures of the page's summary model named ``summary-<stream>``, read from the browser's
#: copy of the Bokeh document (what it got over its websocket), and how many canvases it drew.
READ_PAGE = """
const found = {};
for (const doc of (window.Bokeh ? Bokeh.documents : [])) {
  for (const model of doc._all_models.values()) {
    if (model.name && model.name.startsWith("summary-")) found[model.name] = model.text;
  }
}
let canvases = 0;
const walk = (root) => {
  for (const el of root.querySelectorAll("*")) {
    if (el.tagName === "CANVAS") canvases += 1;
    if (el.shadowRoot) walk(el.shadowRoot);
  }
};
walk(document);
return JSON.stringify({summaries: found, canvases: canvases});
"""


def lines_shown(summary: str) -> int:
    cell = summary.split("data-figure='lines'>", 1)[1].split("<", 1)[0]
    return int(cell.replace(",", ""))


@pytest.mark.slow
def test_the_page_in_a_real_browser_shows_the_streams_and_updates(
    embedded: Any, tmp_path: Path
) -> None:
    streams = [Running(embedded, "alpha", rate=5000), Running(embedded, "beta", rate=2000)]
    driver = browser()
    try:
        url = wait_for(lambda: streams[0].pages and streams[0].pages[0])
        driver.get(url)

        def page() -> dict[str, Any]:
            return dict(json.loads(driver.execute_script(READ_PAGE)))

        first = wait_for(lambda: len(page()["summaries"]) == 2 and page())
        assert set(first["summaries"]) == {"summary-alpha", "summary-beta"}
        assert first["canvases"] >= 4  # lines/s and top words, per stream
        before = lines_shown(first["summaries"]["summary-alpha"])
        later = wait_for(
            lambda: lines_shown(page()["summaries"]["summary-alpha"]) > before + 1000 and page()
        )
        assert "alpha: running" in later["summaries"]["summary-alpha"]
        driver.save_screenshot(str(tmp_path / "streams.png"))
        assert (tmp_path / "streams.png").stat().st_size > 10_000
    finally:
        driver.quit()
        for s in streams:
            s.stop()
