"""Shared fixtures: corpora, a plain reference word count, and every Dask backend.

The ``scheduler`` fixture runs a test on dask's synchronous and threaded
schedulers, an in-process distributed cluster, and a real cluster of
``dask scheduler`` + ``dask worker`` subprocesses on loopback.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import json
import lzma
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import cloudpickle
import pytest
import zstandard

import tests.user_functions
from toolkit.corpus import generate_lines
from toolkit.text import get_tokenizer

# Test jobs travel to subprocess workers by value: the workers cannot import tests/.
cloudpickle.register_pickle_by_value(tests.user_functions)

BIN = Path(sys.executable).parent


def read_reference_text(path: Path, encoding: str = "utf-8") -> str:
    """Decompress with the standard modules (not fsspec) and decode strictly."""
    raw = path.read_bytes()
    name = path.name
    if name.endswith(".gz"):
        raw = gzip.decompress(raw)
    elif name.endswith(".bz2"):
        raw = bz2.decompress(raw)
    elif name.endswith(".xz"):
        raw = lzma.decompress(raw)
    elif name.endswith(".zst"):
        raw = zstandard.ZstdDecompressor().decompressobj().decompress(raw)
    return raw.decode(encoding)


def reference_counts(
    paths: list[Path], tokenizer: str = "words", lowercase: bool | None = None
) -> Counter[str]:
    """The obviously-correct word count: line by line, with the reference tokenizer."""
    tok = get_tokenizer(tokenizer)
    lower = tok.lowercase if lowercase is None else lowercase
    counts: Counter[str] = Counter()
    for path in paths:
        for line in read_reference_text(path).split("\n"):
            counts.update(tok.reference(line.lower() if lower else line))
    return counts


MESSY_LINES = [
    "Don't stop-believing! It’s rock’n’roll, isn't it?",
    "Straße café 2024 — naïve résumé; ΟΔΟΣ Σ.Α ΟΔΟΣ.",
    "大规模数据处理 と データ ストリーム。東京タワー",
    "e\u0301te\u0301 x² ½ user_name co-op 3.14 '' ' a'b' ’quoted’",
    "Москва — столица; слово-за-слово! \u200bzero\u200bwidth \u00a0nbsp\u00a0",
    "मनुष्य नमस्ते, 처리 데이터, שלום עולם, مرحبا بالعالم",
    "tabs\tand\x0bvertical\x0cfeeds\x1cseparators\x1d\x1e\x1f\x85end",
    "İstanbul ǅungla ﬁne ΣΑΣ",
    "",
    "   ",
    "emoji 🎉 party🎉time 𝒳𝒴 𠀀𠀁",
]


@pytest.fixture(scope="session")
def messy_corpus(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Many small files that break naive readers: compression, CRLF, no final newline,
    empty files, lines longer than a block, mixed scripts."""
    root = tmp_path_factory.mktemp("messy")
    generated = "".join(generate_lines(150_000, seed=7))
    messy = "\n".join(MESSY_LINES * 40) + "\n"
    long_line = " ".join(["long"] * 30_000 + ["Straße"] * 1000) + "\n"
    files = {
        "a/plain.txt": generated,
        "a/messy.txt": messy,
        "a/crlf.txt": messy.replace("\n", "\r\n"),
        "b/no-newline.txt": "last line has no newline: Ünïcödé ends here",
        "b/empty.txt": "",
        "b/long-line.txt": "before\n" + long_line + "after the long line\n",
        "c/only-newlines.txt": "\n\n\n",
    }
    paths = []
    for name, text in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8", newline="")
        paths.append(p)
    data = messy.encode()
    for ext, compress in {
        ".gz": lambda b: gzip.compress(b, mtime=0),
        ".bz2": bz2.compress,
        ".xz": lzma.compress,
        ".zst": lambda b: zstandard.ZstdCompressor().compress(b),
    }.items():
        p = root / "z" / f"messy.txt{ext}"
        p.parent.mkdir(exist_ok=True)
        p.write_bytes(compress(data + generated[:20_000].encode()))
        paths.append(p)
    return sorted(paths)


# -- clusters ----------------------------------------------------------------------------


class SubprocessCluster:
    """A real ``dask scheduler`` and ``dask worker`` processes on 127.0.0.1."""

    def __init__(
        self,
        directory: Path,
        n_workers: int = 2,
        *,
        scheduler_args: tuple[str, ...] = (),
        worker_args: tuple[str, ...] = (),
        security: object = None,
        env: dict[str, str] | None = None,
    ):
        self.security = security
        self.env = env or {}
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.scheduler_file = directory / "scheduler.json"
        self.procs: list[subprocess.Popen[bytes]] = []
        self.log = open(directory / "cluster.log", "wb")  # noqa: SIM115
        try:
            self._start(n_workers, scheduler_args, worker_args)
        except BaseException:  # a cluster that failed to start leaves no process behind
            self.close()
            raise

    def _start(
        self, n_workers: int, scheduler_args: tuple[str, ...], worker_args: tuple[str, ...]
    ) -> None:
        self.procs.append(
            self._spawn(
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--dashboard-address",
                "127.0.0.1:0",
                "--scheduler-file",
                str(self.scheduler_file),
                *scheduler_args,
            )
        )
        deadline = time.monotonic() + 30
        while not self.scheduler_file.exists() or not self.scheduler_file.read_text().strip():
            if time.monotonic() > deadline:
                raise RuntimeError("dask scheduler did not start")
            time.sleep(0.1)
        time.sleep(0.1)
        self.address = json.loads(self.scheduler_file.read_text())["address"]
        for i in range(n_workers):
            self.add_worker(f"w{i}", *worker_args)
        if n_workers:
            self.wait_for_workers(n_workers)

    def _spawn(self, *args: str) -> subprocess.Popen[bytes]:
        env = dict(os.environ, DASK_DISTRIBUTED__WORKER__DAEMON="False", **self.env)
        return subprocess.Popen(
            [sys.executable, "-m", "dask", *args],
            stdout=self.log,
            stderr=self.log,
            cwd=self.directory,
            env=env,
            start_new_session=True,
        )

    def add_worker(self, name: str, *extra: str) -> None:  # a repeated option in extra wins
        self.procs.append(
            self._spawn(
                "worker",
                self.address,
                "--host",
                "127.0.0.1",
                "--nthreads",
                "1",
                "--nworkers",
                "1",
                "--no-dashboard",
                "--memory-limit",
                "2GiB",
                "--name",
                name,
                *extra,
            )
        )

    def wait_for_workers(self, n: int, timeout: float = 60) -> None:
        from distributed import Client

        with Client(
            self.address, timeout=30, set_as_default=False, security=self.security
        ) as client:
            client.wait_for_workers(n, timeout=timeout)

    def close(self) -> None:
        for p in reversed(self.procs):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        self.log.close()


@contextlib.contextmanager
def subprocess_cluster(
    directory: Path, n_workers: int = 2, **kwargs: object
) -> Iterator[SubprocessCluster]:
    cluster = SubprocessCluster(directory, n_workers, **kwargs)  # type: ignore[arg-type]
    try:
        yield cluster
    finally:
        cluster.close()


@pytest.fixture(scope="session")
def real_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SubprocessCluster]:
    with subprocess_cluster(tmp_path_factory.mktemp("cluster")) as cluster:
        yield cluster


@pytest.fixture(scope="session")
def real_client(real_cluster: SubprocessCluster) -> Iterator[object]:
    from distributed import Client

    with Client(real_cluster.address, timeout=30, set_as_default=False) as client:
        yield client


@pytest.fixture(scope="session")
def inprocess_client() -> Iterator[object]:
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=False,
            dashboard_address=None,
            protocol="tcp://",
            host="127.0.0.1",
        ) as cluster,
        Client(cluster, set_as_default=False) as client,
    ):
        yield client


@pytest.fixture(params=["sync", "threads", "inprocess", "subprocess"])
def scheduler(request: pytest.FixtureRequest) -> object:
    """Every backend a job must give the same answer on."""
    if request.param == "inprocess":
        return request.getfixturevalue("inprocess_client")
    if request.param == "subprocess":
        return request.getfixturevalue("real_client")
    return request.param
