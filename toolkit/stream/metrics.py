"""Live stream metrics where Dask users look: the scheduler's Prometheus ``/metrics`` page.

A running stream publishes its figures into the scheduler's metadata
(``toolkit-streams`` -> stream name); a collector installed once in the
scheduler process exports them as ``toolkit_stream_*`` gauges, labelled by stream.
"""

from __future__ import annotations

import contextlib
import weakref
from typing import Any

__all__ = ["METRICS", "install_collector", "publish"]

METADATA_KEY = "toolkit-streams"

#: metric name -> help text; values come from ``WindowedWordCount.metrics()``
METRICS = {
    "lines": "Lines read by the stream (good, late and bad)",
    "lines_per_second": "Lines per second since the stream started",
    "windows": "Window results emitted",
    "late": "Late events (event time), counted in no window",
    "bad": "Lines dropped as bad (invalid UTF-8, over-long, cut off, not JSON)",
    "in_flight": "Micro-batches out on the cluster",
    "watermark_lag_seconds": "Wall clock minus the watermark (event time)",
    "checkpoints": "Checkpoints written by this run (with --checkpoint)",
}


#: The schedulers of this process whose streams' metrics its Prometheus registry exports.
_SCHEDULERS: weakref.WeakSet[Any] = weakref.WeakSet()
_COLLECTOR: list[Any] = []  # the one collector registered in this process, once registered


def install_collector(dask_scheduler: Any) -> bool:
    """Run on the scheduler: export published stream metrics at ``/metrics`` (idempotent).

    Prometheus has one registry per process, so one collector serves every
    scheduler of the process (an in-process cluster started after another, in
    a notebook or a test, is exported too; a closed one is forgotten).
    """
    import prometheus_client
    from prometheus_client.core import GaugeMetricFamily

    if dask_scheduler in _SCHEDULERS:
        return False
    _SCHEDULERS.add(dask_scheduler)
    if _COLLECTOR:
        return True

    class StreamCollector:
        def collect(self) -> Any:
            streams: dict[str, Any] = {}
            for scheduler in list(_SCHEDULERS):
                streams.update(scheduler.get_metadata([METADATA_KEY], default={}))
            for name, help_text in METRICS.items():
                gauge = GaugeMetricFamily(f"toolkit_stream_{name}", help_text, labels=["stream"])
                for stream, values in streams.items():
                    value = values.get(name)
                    if value is not None:
                        gauge.add_metric([stream], float(value))
                yield gauge

    collector = StreamCollector()
    prometheus_client.REGISTRY.register(collector)
    _COLLECTOR.append(collector)
    return True


def publish(client: Any, stream: str, values: dict[str, Any]) -> None:
    """Store ``values`` for ``stream`` on the scheduler (shown at its ``/metrics``)."""
    with contextlib.suppress(Exception):  # metrics must never stop a stream
        client.set_metadata([METADATA_KEY, stream], values)
