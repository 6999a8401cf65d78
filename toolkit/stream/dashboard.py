"""A live page of the running streams on the Dask dashboard: ``/toolkit/streams``.

Every stream on a cluster publishes its figures to the scheduler once a second
(:mod:`toolkit.stream.metrics`); this page, a Bokeh document served by the
scheduler's own dashboard server, reads them there once a second and shows, for
each stream: its figures (lines, lines/s, windows, late and bad lines, batches
in flight, watermark lag, checkpoints), lines/s over time (second by second), and the latest
window's top words (or keys) as a bar chart.  Several streams show at once, each
in its row, from the first time the page sees it.

:func:`install_page` runs on the scheduler (``client.run_on_scheduler``); it
needs toolkit (and Bokeh, as the dashboard does) importable there.  Where it is
not, or the scheduler runs no dashboard, the page is not added and the stream
runs as before: the caller treats any failure as "no page".
"""

from __future__ import annotations

import functools
import html
import json
import time
from typing import Any

from toolkit.stream.metrics import METADATA_KEY

__all__ = [
    "PAGE",
    "add_page",
    "install_page",
    "latest_top",
    "page_link",
    "stream_page",
    "summary_html",
]

#: Where the page is, on the scheduler's dashboard.
PAGE = "/toolkit/streams"

_HISTORY = 600  # points of lines/s kept per stream on the page (one a second)
_FIGURES = (
    ("lines", "lines"),
    ("lines_per_second", "lines/s since start"),
    ("windows", "windows"),
    ("late", "late"),
    ("bad", "bad"),
    ("in_flight", "batches in flight"),
    ("watermark_lag_seconds", "watermark lag (s)"),
    ("checkpoints", "checkpoints"),
)


def page_link(dashboard_link: str | None) -> str | None:
    """The page's URL beside a dashboard link (``.../status``), or None without a dashboard.

    Examples
    --------
    >>> page_link("http://127.0.0.1:8787/status")
    'http://127.0.0.1:8787/toolkit/streams'
    """
    if not dashboard_link:
        return None
    base = (
        dashboard_link.rsplit("/", 1)[0] if dashboard_link.endswith("/status") else dashboard_link
    )
    return base.rstrip("/") + PAGE


def latest_top(result: Any, before: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """What the page's bar chart shows after ``result``: a window's top ten words or keys
    (numbers only), or for sessions the ten latest sessions' values.

    Examples
    --------
    >>> from toolkit.stream.messages import SessionResult, WindowResult
    >>> latest_top(WindowResult(0, 1, 2, 3, [("a", 2), ("b", 1)]), [])
    [('a', 2), ('b', 1)]
    >>> latest_top(SessionResult("k", 0, 1, 1, 5), [("j", 4)])
    [('j', 4), ('k', 5)]
    """
    if not hasattr(result, "pairs"):
        return before
    pairs = [*before, *result.pairs()][-10:] if result.one_key else result.pairs()
    out: list[tuple[str, float]] = [
        (_label(k), v) for k, v in pairs if isinstance(v, int | float) and not isinstance(v, bool)
    ]
    return out[:10]


def _label(key: Any) -> str:
    return key if isinstance(key, str) else json.dumps(key, ensure_ascii=False, default=str)


def _unique(pairs: list[Any]) -> list[tuple[str, Any]]:
    """Pairs with distinct labels (a factor range refuses a label twice): the first of each."""
    seen: set[str] = set()
    out = []
    for label, value in pairs:
        if str(label) not in seen:
            seen.add(str(label))
            out.append((str(label), value))
    return out


def add_page(client: Any) -> str | None:
    """Add the page to ``client``'s scheduler, if it can be; its URL, or None (never raises)."""
    try:
        if client.run_on_scheduler(install_page) is None:
            return None
        return page_link(client.dashboard_link)
    except Exception:  # no toolkit or no bokeh on the scheduler, an old one: no page
        return None


def summary_html(name: str, values: dict[str, Any], *, now: float | None = None) -> str:
    """One stream's figures as the page's HTML table (names and values escaped).

    Examples
    --------
    >>> "1,200" in summary_html("s", {"lines": 1200, "updated": 0.0}, now=1.0)
    True
    """
    now = time.time() if now is None else now
    cells = []
    for key, label in _FIGURES:
        value = values.get(key)
        shown = (
            "-"
            if value is None
            else f"{value:,.0f}"
            if key != "watermark_lag_seconds"
            else f"{value:.1f}"
        )
        cells.append(f"<tr><td>{html.escape(label)}</td><td data-figure='{key}'>{shown}</td></tr>")
    updated = values.get("updated")
    age = "" if updated is None else f" (updated {max(0.0, now - float(updated)):.0f} s ago)"
    state = "ended" if values.get("ended") else "running"
    return (
        f"<h3 data-stream='{html.escape(name, quote=True)}'>{html.escape(name)}: {state}"
        f"{age}</h3><table>{''.join(cells)}</table>"
    )


def stream_page(scheduler: Any, doc: Any) -> None:
    """Build the page's Bokeh document: a row per stream, refreshed every second."""
    from bokeh.layouts import column, row
    from bokeh.models import ColumnDataSource, FactorRange
    from bokeh.models.widgets import Div
    from bokeh.plotting import figure

    title = Div(text="<h2>toolkit streams</h2>", name="toolkit-title")
    empty = Div(text="<p>No stream has published figures to this scheduler yet.</p>")
    layout = column(title, empty, sizing_mode="stretch_width")
    rows: dict[str, Any] = {}

    def add_row(name: str) -> dict[str, Any]:
        summary = Div(text="", width=320, name=f"summary-{name}")
        rate = ColumnDataSource({"time": [], "rate": []})
        rate_plot = figure(
            title=f"{name}: lines/s",
            x_axis_type="datetime",
            height=240,
            width=480,
            tools="",
            toolbar_location=None,
        )
        rate_plot.line("time", "rate", source=rate, line_width=2)
        top = ColumnDataSource({"label": [], "value": []})
        top_plot = figure(
            title=f"{name}: latest window's top",
            y_range=FactorRange(),
            height=240,
            width=420,
            tools="",
            toolbar_location=None,
        )
        top_plot.hbar(y="label", right="value", height=0.8, source=top)
        if empty in layout.children:
            layout.children.remove(empty)
        layout.children.append(row(summary, rate_plot, top_plot))
        return {"summary": summary, "rate": rate, "top": top, "top_plot": top_plot}

    def refresh() -> None:
        streams = scheduler.get_metadata([METADATA_KEY], default={})
        now = time.time()
        for name, values in sorted(streams.items()):
            parts = rows.get(name) or rows.setdefault(name, add_row(name))
            parts["summary"].text = summary_html(name, values, now=now)
            # lines/s between two of the stream's publications, at the times it published
            lines, at, last = values.get("lines"), values.get("updated"), parts.get("last")
            if lines is not None and at is not None and not values.get("ended"):
                if last is not None and at > last[0]:
                    rate = max(0.0, (lines - last[1]) / (at - last[0]))
                    parts["rate"].stream({"time": [at * 1000], "rate": [rate]}, rollover=_HISTORY)
                if last is None or at > last[0]:
                    parts["last"] = (at, lines)
            top = dict(_unique(values.get("top") or []))
            labels = list(top)[::-1]  # the largest at the top
            parts["top"].data = {"label": labels, "value": [top[x] for x in labels]}
            parts["top_plot"].y_range.factors = labels

    refresh()
    doc.title = "toolkit streams"
    doc.add_root(layout)
    doc.add_periodic_callback(refresh, 1000)


def install_page(dask_scheduler: Any) -> str | None:
    """Run on the scheduler: add :data:`PAGE` to its dashboard (idempotent).

    Returns the page's path, or None where the scheduler serves no dashboard.
    """
    if getattr(dask_scheduler, "_toolkit_stream_page", None) is not None:
        return PAGE
    import dask
    from bokeh.application import Application
    from bokeh.application.handlers.function import FunctionHandler
    from bokeh.server.server import BokehTornado
    from bokeh.server.util import create_hosts_allowlist
    from tornado.ioloop import IOLoop

    http = getattr(dask_scheduler, "http_application", None)
    if http is None or not any(isinstance(a, BokehTornado) for a in http.applications):
        return None  # its HTTP server serves no dashboard (health and metrics only)

    options = dict(dask.config.get("distributed.scheduler.dashboard.bokeh-application"))
    origins = create_hosts_allowlist(
        options.pop("allow_websocket_origin"), dask_scheduler.http_server.port
    )
    handler = FunctionHandler(functools.partial(stream_page, dask_scheduler))
    app = BokehTornado(
        {PAGE: Application(handler)},
        prefix="/",
        use_index=False,
        extra_websocket_origins=origins,
        absolute_url="",
        **options,
    )
    dask_scheduler.http_application.add_application(app)
    app.initialize(IOLoop.current())
    app.start()
    dask_scheduler._toolkit_stream_page = app
    return PAGE
