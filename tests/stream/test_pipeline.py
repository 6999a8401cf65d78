"""Whole pipelines: real sources, the streamz nodes, counting here or on a cluster."""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import SubprocessCluster, read_reference_text
from toolkit.batch import word_count
from toolkit.stream import WindowedWordCount
from toolkit.stream.counting import CountJob
from toolkit.stream.kinds import CountWindowing, EventTimeWindowing, ProcessingTimeWindowing
from toolkit.stream.messages import WindowResult
from toolkit.stream.sources import parse_source
from toolkit.stream.wordcount import to_frame
from toolkit.text import get_tokenizer


@pytest.fixture(scope="module")
def text_file(tmp_path_factory: pytest.TempPathFactory, messy_corpus: list[Path]) -> Path:
    path = tmp_path_factory.mktemp("stream") / "all.txt"
    path.write_text(
        "".join(read_reference_text(p).rstrip("\n") + "\n" for p in messy_corpus), encoding="utf-8"
    )
    return path


def summed(results: list[WindowResult]) -> Counter[str]:
    total: Counter[str] = Counter()
    for r in results:
        total.update(dict(r.top))
    return total


def run(wc: WindowedWordCount) -> list[WindowResult]:
    out: list[WindowResult] = []
    wc.results.sink(out.append)
    wc.run()
    return out


@pytest.mark.parametrize("windowing", ["count", "time"])
def test_tumbling_windows_sum_to_the_batch_word_count(
    stream_client: object, text_file: Path, windowing: str
) -> None:
    w = CountWindowing(97) if windowing == "count" else ProcessingTimeWindowing(0.05)
    source = parse_source(str(text_file))
    wc = WindowedWordCount(source, w, client=stream_client, top=0, max_in_flight=2)
    out = run(wc)
    batch = word_count(text_file, scheduler="sync")
    assert summed(out) == Counter(dict(batch.counts.items()))
    assert sum(r.lines for r in out) == batch.stats.lines == wc.stats.lines
    assert wc._counter.peak_in_flight <= 2 + 1  # bounded: the reader waits beyond that


def test_sliding_count_windows_on_a_real_cluster(real_client: object, text_file: Path) -> None:
    lines = text_file.read_text(encoding="utf-8").split("\n")[:-1]
    out = run(
        WindowedWordCount(
            parse_source(str(text_file)), CountWindowing(500, 125), client=real_client, top=0
        )
    )
    ref = get_tokenizer("words").reference
    assert len(out) >= len(lines) // 125
    for r in out:
        expected = Counter(
            w for line in lines[int(r.start) : int(r.end)] for w in ref(line.lower())
        )
        assert dict(r.top) == expected


def test_event_time_on_a_cluster_with_late_output(inprocess_client: object, tmp_path: Path) -> None:
    import json

    path = tmp_path / "events.jsonl"
    rows = [(1000 + i, f"word{i % 5} common") for i in range(300)]
    rows.insert(150, (1010, "very late event"))  # 140 s behind, lateness 5 s
    path.write_text("".join(json.dumps({"t": t, "text": x}) + "\n" for t, x in rows))
    wc = WindowedWordCount(
        parse_source(str(path)),
        EventTimeWindowing(60, 20, field="t", lateness=5),
        client=inprocess_client,
        top=0,
    )
    late: list[str] = []
    wc.late.sink(late.extend)
    out = run(wc)
    assert [json.loads(x)["text"] for x in late] == ["very late event"]
    assert sum(r.late or 0 for r in out) == 1 and wc.stats.late == 1
    for r in out:
        inside = [x for t, x in rows if r.start <= t < r.end and x != "very late event"]
        assert r.lines == len(inside)
    frame = to_frame(out)
    assert list(frame.columns) == ["start", "end", "lines", "words", "top", "late"]


def test_tcp_clients_through_the_cluster(inprocess_client: object) -> None:
    source = parse_source("tcp://127.0.0.1:0")
    wc = WindowedWordCount(
        source,
        CountWindowing(50),
        client=inprocess_client,
        top=0,
        job=CountJob("whitespace", lowercase=False),
    )
    out: list[WindowResult] = []
    wc.results.sink(out.append)
    listening = threading.Event()
    runner = threading.Thread(target=wc.run, kwargs={"on_listen": lambda a: listening.set()})
    runner.start()
    assert listening.wait(10)
    port = int(source.address.rsplit(":", 1)[1])

    def client(i: int) -> None:
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall("".join(f"c{i} w{j % 10}\n" for j in range(300)).encode())

    threads = [threading.Thread(target=client, args=(i,)) for i in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    deadline = time.monotonic() + 20
    while wc.stats.lines < 1500 and time.monotonic() < deadline:
        time.sleep(0.05)
    wc.stop()
    runner.join(timeout=20)
    expected = Counter({f"c{i}": 300 for i in range(5)}) + Counter(
        {f"w{j}": 150 for j in range(10)}
    )
    assert summed(out) == expected
    assert sum(r.lines for r in out) == 1500


@pytest.mark.parametrize("scheduler", ["sync", "threads", None])
def test_scheduler_names_where_to_count_as_in_batch_jobs(
    text_file: Path, scheduler: object
) -> None:
    from toolkit.stream import stream_word_count

    wc = stream_word_count(str(text_file), count=97, top=0, scheduler=scheduler)
    assert wc.client is None  # dask's local schedulers, and None, count in this process
    batch = word_count(text_file, scheduler="sync")
    assert summed(run(wc)) == Counter(dict(batch.counts.items()))


def test_a_scheduler_address_is_connected_and_closed_with_the_stream(
    real_cluster: SubprocessCluster, text_file: Path
) -> None:
    from toolkit.stream import stream_word_count

    wc = stream_word_count(str(text_file), count=97, top=0, scheduler=real_cluster.address)
    assert wc.connection is not None and wc.client is wc.connection.client
    out = run(wc)
    batch = word_count(text_file, scheduler="sync")
    assert summed(out) == Counter(dict(batch.counts.items()))
    assert wc.client.status == "closed"  # the stream's own connection ends with it


@pytest.mark.parametrize("bad", [42, object(), 1.5])
def test_a_bad_scheduler_fails_when_the_stream_is_built(text_file: Path, bad: object) -> None:
    from toolkit.stream import stream_word_count

    with pytest.raises(ValueError, match="scheduler must be a toolkit Connection"):
        stream_word_count(str(text_file), count=10, scheduler=bad)
    with pytest.raises(ValueError, match="scheduler must be a toolkit Connection"):
        WindowedWordCount(parse_source(str(text_file)), CountWindowing(10), client=bad)


def test_a_stream_built_first_counts_on_the_cluster_it_is_given(
    inprocess_client: object, text_file: Path
) -> None:
    from toolkit.stream import stream_word_count

    wc = stream_word_count(str(text_file), count=97, top=0)  # options checked, no cluster yet
    wc.count_on(inprocess_client)
    out = run(wc)
    batch = word_count(text_file, scheduler="sync")
    assert summed(out) == Counter(dict(batch.counts.items()))
    assert wc._counter.peak_in_flight >= 1  # the batches went to the cluster


def test_rates_count_from_the_run_not_from_when_the_stream_was_built() -> None:
    from toolkit.stream import stream_word_count

    wc = stream_word_count("demo:?rate=100000&lines=100", count=50)
    built = wc.stats.started
    time.sleep(0.05)  # a cluster starting between building and running, say
    ran = time.monotonic()
    wc.run()
    assert wc.stats.started >= ran > built  # lines/s leave the time before run() out
