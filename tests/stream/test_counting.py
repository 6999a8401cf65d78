"""Counting panes on a real cluster whose workers come and go (``toolkit/stream/counting.py``)."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import SubprocessCluster, reference_counts, subprocess_cluster
from toolkit.corpus import generate_lines
from toolkit.errors import ClusterError, ToolkitWarning
from toolkit.stream import stream_word_count


@pytest.fixture
def lonely_cluster(tmp_path: Path) -> Iterator[tuple[SubprocessCluster, object]]:
    """A ``dask scheduler`` whose only worker has been killed, and a client of it."""
    from distributed import Client

    with (
        subprocess_cluster(tmp_path / "cluster", n_workers=1) as cluster,
        Client(cluster.address, timeout=30, set_as_default=False) as client,
    ):
        os.killpg(cluster.procs[1].pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while client.nthreads() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not client.nthreads()
        yield cluster, client


def _text_file(tmp_path: Path) -> Path:
    path = tmp_path / "lines.txt"
    path.write_text("".join(generate_lines(200_000, seed=3)), encoding="utf-8")
    return path


def _summed(results: list) -> Counter[str]:
    total: Counter[str] = Counter()
    for r in results:
        total.update(dict(r.top))
    return total


@pytest.mark.timeout(120)
def test_batches_wait_for_a_worker_that_joins_and_lose_nothing(
    tmp_path: Path, lonely_cluster: tuple[SubprocessCluster, object]
) -> None:
    cluster, client = lonely_cluster
    path = _text_file(tmp_path)
    wc = stream_word_count(str(path), count=5000, top=0, scheduler=client, worker_timeout=60)
    results = wc.results.sink_to_list()
    joiner = threading.Timer(2.0, cluster.add_worker, args=("late",))
    joiner.start()
    with pytest.warns(ToolkitWarning, match=r"no Dask workers on tcp://127\.0\.0\.1:\d+"):
        wc.run()
    joiner.join()
    assert _summed(results) == reference_counts([path])
    assert sum(r.lines for r in results) == path.read_text(encoding="utf-8").count("\n")


@pytest.mark.timeout(120)
def test_no_worker_for_the_timeout_stops_the_stream_with_a_clear_error(
    tmp_path: Path, lonely_cluster: tuple[SubprocessCluster, object]
) -> None:
    _, client = lonely_cluster
    path = str(_text_file(tmp_path))
    wc = stream_word_count(path, count=5000, scheduler=client, worker_timeout=2)
    started = time.monotonic()
    with (
        pytest.warns(ToolkitWarning, match="waits up to 2 s"),
        pytest.raises(ClusterError, match=r"no Dask workers on tcp://\S+ for 2 s"),
    ):
        wc.run()
    assert time.monotonic() - started < 20
    assert wc.stopping  # the source was told to stop too


def test_worker_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError, match="worker timeout must be positive"):
        stream_word_count("demo:?lines=10", count=5, scheduler=None, worker_timeout=0)
