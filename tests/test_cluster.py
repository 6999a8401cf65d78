from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

import dask
import psutil
import pytest

from tests.conftest import SubprocessCluster, subprocess_cluster
from tests.tls import tls_setup
from toolkit import connect, word_count
from toolkit.errors import ClusterError, ConfigError


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def listening_addresses(pids: list[int]) -> set[str]:
    procs = [psutil.Process(pid) for pid in pids]
    found = set()
    for proc in procs:
        for c in proc.net_connections(kind="inet"):
            if c.status == psutil.CONN_LISTEN:
                found.add(c.laddr.ip)
    return found


def test_embedded_cluster_is_all_on_loopback(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "t.txt"
    path.write_text("a b a\n")
    with connect(n_workers=2) as conn:
        assert conn.cluster is not None and conn.n_workers == 2
        assert conn.address.startswith("tcp://127.0.0.1:")
        assert conn.dashboard_link is not None
        assert conn.dashboard_link.startswith("http://127.0.0.1:")
        # this process holds the scheduler and dashboard; the workers are child processes
        assert len(conn._worker_pids()) == 2
        assert listening_addresses([psutil.Process().pid, *conn._worker_pids()]) == {"127.0.0.1"}
        assert word_count(path, scheduler=conn)["a"] == 2
        assert "dashboard" in conn._repr_html_()
    err = capsys.readouterr().err
    assert "started a local Dask cluster at tcp://127.0.0.1:" in err
    assert "dashboard: http://127.0.0.1:" in err


def test_embedded_cluster_without_dashboard_says_so_and_takes_no_fixed_port(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # the scheduler still serves /health over HTTP; without a dashboard it must not
    # advertise a link to pages it lacks, nor claim port 8787 (a second job would collide)
    with (
        connect(n_workers=1, dashboard_address=None) as a,
        connect(n_workers=1, quiet=True, dashboard_address=None) as b,
    ):
        assert a.dashboard_link is None and b.dashboard_link is None
        ports = {c.client.scheduler_info()["services"]["dashboard"] for c in (a, b)}
        assert len(ports) == 2 and 8787 not in ports
        for port in ports:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10) as r:
                assert r.read() == b"ok"
            with pytest.raises(urllib.error.HTTPError, match="404"):
                urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=10)
        assert listening_addresses([psutil.Process().pid]) == {"127.0.0.1"}
    err = capsys.readouterr().err
    assert "with 1 worker; no dashboard" in err and "http://" not in err


def test_unreachable_scheduler_fails_fast_and_names_the_address() -> None:
    address = f"tcp://127.0.0.1:{free_port()}"
    start = time.monotonic()
    with pytest.raises(
        ClusterError, match=f"cannot connect to the Dask scheduler at '{address}' within 2 s"
    ):
        connect(address, timeout=2)
    assert time.monotonic() - start < 4


def test_a_failed_connect_leaves_no_client_for_the_garbage_collector() -> None:
    """The Client whose start failed is collected at once: left to a later collection,
    its ``__del__`` ran in the next Client's new loop thread and held that start 10 s."""
    import gc

    from distributed import Client

    gc.collect()
    gc.disable()  # only connect's own collection may collect it
    try:
        before = {id(o) for o in gc.get_objects() if isinstance(o, Client)}  # other tests'
        with pytest.raises(ClusterError, match="cannot connect"):
            connect(f"tcp://127.0.0.1:{free_port()}", timeout=1)
        left = [o for o in gc.get_objects() if isinstance(o, Client) and id(o) not in before]
    finally:
        gc.enable()
    assert left == []


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"address": "tcp://a:1", "scheduler_file": "f"}, ConfigError, "not both"),
        ({"scheduler_file": "/nonexistent/s.json"}, ClusterError, "scheduler file not found"),
        ({"address": "tcp://127.0.0.1:1", "timeout": 0}, ConfigError, "connect timeout must be"),
        ({"n_workers": 0}, ConfigError, "workers must be a positive int; got 0"),
        ({"tls_ca_file": "ca.pem"}, ConfigError, "TLS needs at least a CA file and a client"),
        ({"address": "nonsense-protocol://x:1", "timeout": 1}, ClusterError, "cannot connect"),
    ],
)
def test_bad_connection_options(
    kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        connect(**kwargs, quiet=True)  # type: ignore[arg-type]


def test_connect_by_address_file_and_dask_config(
    real_cluster: SubprocessCluster, tmp_path: Path
) -> None:
    path = tmp_path / "t.txt"
    path.write_text("x y x\n")
    with connect(real_cluster.address, quiet=True) as conn:
        assert conn.cluster is None and conn.address == real_cluster.address
        assert word_count(path, scheduler=conn)["x"] == 2
    with connect(real_cluster.address.removeprefix("tcp://"), quiet=True) as conn:
        assert conn.address == real_cluster.address
    with connect(scheduler_file=str(real_cluster.scheduler_file), quiet=True) as conn:
        assert conn.n_workers == 2  # closing the connections did not stop the cluster
    with dask.config.set({"scheduler-address": real_cluster.address}):
        with connect(quiet=True) as conn:
            assert conn.cluster is None and conn.address == real_cluster.address
        # scheduler=None follows dask's config too
        assert word_count(path)["y"] == 1


def test_tls_scheduler(tmp_path: Path) -> None:
    tls, security = tls_setup(tmp_path)
    files = {name: tmp_path / f"{name}.pem" for name in ("ca", "cert", "key")}
    path = tmp_path / "t.txt"
    path.write_text("secure words, secure\n")
    with subprocess_cluster(
        tmp_path,
        n_workers=1,
        scheduler_args=("--protocol", "tls", *tls),
        worker_args=tls,
        security=security,
    ) as cluster:
        assert cluster.address.startswith("tls://127.0.0.1:")
        with connect(
            cluster.address,
            tls_ca_file=str(files["ca"]),
            tls_cert=str(files["cert"]),
            tls_key=str(files["key"]),
            quiet=True,
        ) as conn:
            assert word_count(path, scheduler=conn)["secure"] == 2
        with connect(cluster.address, security=security, quiet=True) as conn:
            assert conn.n_workers == 1
        plain = cluster.address.replace("tls://", "tcp://")
        with pytest.raises(ClusterError, match="cannot connect"):
            connect(plain, timeout=3, quiet=True)
