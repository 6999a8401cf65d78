"""A cluster over several "hosts" (network namespaces, each with a private data folder).

The scheduler, two workers and the client each run on a host of their own
(:mod:`tests.hosts`), as on real machines: other addresses, and files that only
the host that wrote them can read.  Jobs are checked against the plain reference
(or the same job run on the client alone) on the same bytes.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import MESSY_LINES, reference_counts
from tests.hosts import BIN, Network, network
from tests.tls import tls_setup

TOOLKIT = str(BIN / "toolkit")
NAMES = ("sched", "w1", "w2", "client")

pytestmark = pytest.mark.slow

TEXT = "\n".join(MESSY_LINES * 400 + ["The quick brown fox; the lazy dog."] * 3000) + "\n"


@pytest.fixture(scope="module")
def net() -> Iterator[Network]:
    with network(*NAMES) as n:
        yield n


@pytest.fixture(scope="module")
def cluster(net: Network) -> str:
    """A ``dask scheduler`` on one host and a ``dask worker`` on each of two others."""
    address = net.scheduler("sched")
    net.worker("w1", address)
    net.worker("w2", address)
    net.wait_for_workers("client", address, 2)
    return address


def _counts(stdout: str) -> Counter[str]:
    return Counter({row["word"]: row["count"] for row in json.loads(stdout)["top"]})


def _corpus(tmp_path: Path) -> dict[str, bytes]:
    """Files of messy text: plain, gzip, and several small ones (a directory)."""
    raw = TEXT.encode()
    files = {"big.txt": raw, "big.txt.gz": gzip.compress(raw)}
    files.update({f"small/{i}.txt": f"file {i} héllo wörld\n".encode() * (i + 1) for i in range(5)})
    return files


def _write(host: object, root: Path, files: dict[str, bytes]) -> list[Path]:
    return [host.write(root / name, data) for name, data in files.items()]  # type: ignore[attr-defined]


def _reference(tmp_path: Path, files: dict[str, bytes]) -> Counter[str]:
    local = []
    for name, data in files.items():
        path = tmp_path / "reference" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        local.append(path)
    return reference_counts(local)


def test_a_file_only_the_client_has_fails_before_any_task_naming_it(
    net: Network, cluster: str
) -> None:
    client = net["client"]
    path = client.write(net.data / "only-here.txt", b"hello world\n")
    assert not net["w1"].exists(path) and not net["w2"].exists(path)
    proc = client.run(TOOLKIT, "wordcount", path, "--scheduler", cluster)
    assert proc.returncode == 1, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert f"{path}: not found on worker tcp://10.231.0." in errors[0]
    assert "--upload" in errors[0]


def test_upload_sends_the_clients_files_and_counts_exactly(
    net: Network, cluster: str, tmp_path: Path
) -> None:
    files = _corpus(tmp_path)
    root = net.data / "upload"
    paths = _write(net["client"], root, files)
    args = [str(p) for p in paths if "small" not in str(p)] + [str(root / "small")]
    proc = net["client"].run(
        TOOLKIT, "wordcount", *args, "--upload", "--blocksize", "16KiB", "--top", "0", "--json",
        "--scheduler", cluster,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert _counts(proc.stdout) == _reference(tmp_path, files)
    size = 2 * len(TEXT.encode()) + sum(len(d) for name, d in files.items() if "small" in name)
    assert f"read 7 files, {size:,} bytes" in proc.stderr  # the .gz: its text


def test_files_on_a_shared_filesystem_need_no_upload(
    net: Network, cluster: str, tmp_path: Path
) -> None:
    files = _corpus(tmp_path)
    root = net.data / "shared"
    for name in NAMES:  # the same files at the same path everywhere, as on NFS
        paths = _write(net[name], root, files)
    proc = net["client"].run(
        TOOLKIT, "wordcount", *map(str, paths), "--blocksize", "16KiB", "--top", "0", "--json",
        "--scheduler", cluster,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert _counts(proc.stdout) == _reference(tmp_path, files)


def test_another_file_at_the_same_path_on_a_worker_is_caught(net: Network, cluster: str) -> None:
    path = net.data / "differs.txt"
    net["client"].write(path, b"the client's version\n")
    for worker in ("w1", "w2"):
        net[worker].write(path, b"a stale copy\n")
    proc = net["client"].run(TOOLKIT, "wordcount", path, "--scheduler", cluster)
    assert proc.returncode == 1
    assert f"{path}: another file (13 bytes, not 21 as on the client) on worker" in proc.stderr


JOB = """
def mapper(record):
    yield str(record["status"]), int(record["bytes"])

def add(a, b):
    return a + b
"""


def _results(stdout: str) -> dict[str, int]:
    return {row["key"]: row["value"] for row in json.loads(stdout)["results"]}


def test_mapreduce_with_a_job_file_only_the_client_has(net: Network, cluster: str) -> None:
    """The job file and the data are the client's: the mapper travels by value, the data by
    upload; jsonl, csv (each file's header read on the client) and Parquet, plain and gzip."""
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    client = net["client"]
    job = client.write(net.data / "jobs" / "status.py", JOB.encode())
    rows = [{"status": s, "bytes": b} for b in range(300) for s in (200, 404, 500) if b % 7]
    jsonl = "".join(json.dumps(r) + "\n" for r in rows).encode()
    csv = ("status,bytes\n" + "".join(f"{r['status']},{r['bytes']}\n" for r in rows)).encode()
    parquet = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), parquet, row_group_size=100)
    for name, data in {
        "jsonl/a.jsonl": jsonl, "jsonl/b.jsonl.gz": gzip.compress(jsonl),
        "csv/a.csv": csv, "csv/b.csv.gz": gzip.compress(csv),
        "parquet/a.parquet": parquet.getvalue(), "parquet/b.parquet": parquet.getvalue(),
    }.items():  # fmt: skip
        client.write(net.data / name, data)
    expected: Counter[str] = Counter()
    for r in rows:
        expected[str(r["status"])] += 2 * r["bytes"]  # every file twice
    for records in ("jsonl", "csv", "parquet"):
        proc = client.run(
            TOOLKIT, "mapreduce", net.data / records, "--mapper", f"{job}:mapper",
            "--reducer", f"{job}:add", "--records", records, "--upload", "--blocksize", "4KiB",
            "--json", "--scheduler", cluster,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        summary = json.loads(proc.stdout)
        assert (summary["records"], summary["bad_records"]) == (2 * len(rows), 0), records
        assert _results(proc.stdout) == dict(expected), records


def test_a_cluster_started_by_toolkit_cluster_serves_another_host(
    net: Network, tmp_path: Path
) -> None:
    sched = net["sched"]
    ip = sched.ip
    cluster_proc = sched.popen(
        TOOLKIT, "cluster", "--host", ip, "--port", "8790", "--workers", "2",
        "--dashboard-address", "", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    address = f"tcp://{ip}:8790"
    net.wait_for_workers("client", address, 2)
    files = {"a.txt": TEXT.encode()}
    paths = _write(net["client"], net.data / "tc", files)
    proc = net["client"].run(
        TOOLKIT, "wordcount", *paths, "--upload", "--top", "0", "--json", "--scheduler", address
    )
    assert proc.returncode == 0, proc.stderr
    assert _counts(proc.stdout) == _reference(tmp_path, files)
    assert sched.reachable("127.0.0.1", 8790) is False  # it listens on the address it was given
    cluster_proc.send_signal(signal.SIGINT)
    assert cluster_proc.wait(30) == 130


def test_tls_between_hosts(net: Network, tmp_path: Path) -> None:
    """Scheduler, worker and client on three hosts, every connection TLS with certificates
    for the hosts' addresses; a plain-TCP client is refused."""
    ips = [net[name].ip for name in NAMES]
    tls, _ = tls_setup(tmp_path, ips)  # in the machine's /tmp: every host reads it
    address = net.scheduler("sched", "--protocol", "tls", *tls, port=8791)
    assert address.startswith("tls://")
    net.worker("w1", address, *tls)
    files = {"a.txt": TEXT.encode()}
    paths = _write(net["client"], net.data / "tls", files)
    proc = net["client"].run(
        TOOLKIT, "wordcount", *paths, "--upload", "--top", "0", "--json", "--scheduler", address,
        *tls,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert _counts(proc.stdout) == _reference(tmp_path, files)
    plain = net["client"].run(
        TOOLKIT, "wordcount", *paths, "--upload", "--scheduler", f"tcp://{net['sched'].ip}:8791",
        "--connect-timeout", "3",
    )  # fmt: skip
    assert plain.returncode != 0 and "Traceback" not in plain.stderr, plain.stderr


# -- faults across hosts ------------------------------------------------------------------

SLOW_JOB = """
import time

def mapper(line):
    time.sleep(0.0002)  # a job slow enough to be interrupted
    for word in line.split():
        yield word, 1

def add(a, b):
    return a + b
"""


@pytest.fixture()
def fresh() -> Iterator[tuple[Network, str]]:
    """Hosts and a cluster of their own (a test may kill or cut off a worker host); a silent
    worker is given up after 5-12 s (dask's worker-ttl, 5 minutes by default, and its TCP timeout,
    30 s), as a deployment that wants fast failover sets them."""
    env = {**os.environ, **FAST_FAILOVER}
    with network(*NAMES) as n:
        address = n.scheduler("sched", env=env)
        n.worker("w1", address, env=env)
        n.worker("w2", address, env=env)
        n.wait_for_workers("client", address, 2)
        yield n, address


FAST_FAILOVER = {
    "DASK_DISTRIBUTED__SCHEDULER__WORKER_TTL": "5s",
    "DASK_DISTRIBUTED__COMM__TIMEOUTS__TCP": "12s",  # dask asks for at least 11 s
}


def _slow_job(n: Network, tmp_path: Path, shared: bool) -> tuple[list[str], Counter[str]]:
    lines = [f"w{i % 50} x{i % 7} héllo" for i in range(20_000)]
    data = ("\n".join(lines) + "\n").encode()
    for name in NAMES if shared else ("client",):
        n[name].write(n.data / "slow.txt", data)
        job = n[name].write(n.data / "slow_job.py", SLOW_JOB.encode())
    expected: Counter[str] = Counter(w for line in lines for w in line.split())
    args = [
        TOOLKIT, "mapreduce", str(n.data / "slow.txt"), "--mapper", f"{job}:mapper",
        "--reducer", f"{job}:add", "--blocksize", "16KiB", "--top", "0", "--json",
    ]  # fmt: skip
    return args + ([] if shared else ["--upload"]), expected


@pytest.mark.parametrize("shared", [True, False], ids=["shared-files", "upload"])
def test_a_batch_survives_a_worker_host_killed_mid_run(
    fresh: tuple[Network, str], tmp_path: Path, shared: bool
) -> None:
    n, address = fresh
    args, expected = _slow_job(n, tmp_path, shared)
    job = n["client"].popen(
        *args, "--scheduler", address, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    time.sleep(1.5)
    assert job.poll() is None, "the job ended before the fault"
    n["w2"].stop(signal.SIGKILL)  # every process of that host, at once
    out, err = job.communicate(timeout=120)
    assert job.returncode == 0, err.decode() + n.tails()
    assert _results(out.decode()) == dict(expected)


def test_a_batch_survives_a_worker_host_cut_off_mid_run(
    fresh: tuple[Network, str], tmp_path: Path
) -> None:
    n, address = fresh
    args, expected = _slow_job(n, tmp_path, shared=True)
    job = n["client"].popen(
        *args, "--scheduler", address, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    time.sleep(1.5)
    assert job.poll() is None, "the job ended before the fault"
    n["w2"].link(up=False)  # the cable pulled: no reset, no FIN, silence
    try:
        out, err = job.communicate(timeout=120)
    finally:
        n["w2"].link(up=True)
    assert job.returncode == 0, err.decode() + n.tails()
    assert _results(out.decode()) == dict(expected)


def test_a_checkpointed_stream_loses_nothing_when_a_worker_host_dies(
    fresh: tuple[Network, str], tmp_path: Path
) -> None:
    """A stream on the cluster, over a file only the client has: a worker host killed, then
    the stream itself killed and restarted from its checkpoint; every window exactly once."""
    from toolkit.corpus import generate_lines

    n, address = fresh
    client = n["client"]
    text = "".join(generate_lines(20_000_000, seed=5)).encode()  # 20 MB, about 300k lines
    source = client.write(n.data / "stream.txt", text)
    out, checkpoints = n.data / "windows.jsonl", n.data / "checkpoints"
    args = [TOOLKIT, "stream", source, "--count", "2000", "--top", "5"]
    local = client.run(*args, "--local", "-o", n.data / "reference.jsonl", timeout=300)
    assert local.returncode == 0, local.stderr
    expected = client.run("cat", n.data / "reference.jsonl").stdout.splitlines()
    assert len(expected) > 100
    on_cluster = [*args, "--scheduler", address, "-o", out, "--checkpoint", checkpoints]
    on_cluster += ["--checkpoint-interval", "0.2s"]

    def windows() -> list[str]:
        return client.run("cat", out).stdout.splitlines() if client.exists(out) else []

    stream = client.popen(*on_cluster, stdout=subprocess.DEVNULL, stderr=n.log("stream"))
    _wait_for(lambda: len(windows()) >= 20, stream, n)
    n["w2"].stop(signal.SIGKILL)  # a worker host dies: its batches go to the other worker
    _wait_for(lambda: len(windows()) >= 60, stream, n)
    os.killpg(stream.pid, signal.SIGKILL)  # and the stream's own process dies
    stream.wait()
    assert 0 < len(windows()) < len(expected)
    again = client.popen(*on_cluster, stdout=subprocess.DEVNULL, stderr=n.log("stream"))
    assert again.wait(300) == 0, n.tails()
    assert windows() == expected  # every window once, every count as the local run's


def _wait_for(check: object, proc: subprocess.Popen[bytes], n: Network) -> None:
    deadline = time.monotonic() + 120
    while not check():  # type: ignore[operator]
        assert proc.poll() is None, f"the stream ended early: {n.tails()}"
        assert time.monotonic() < deadline, n.tails()
        time.sleep(0.05)
