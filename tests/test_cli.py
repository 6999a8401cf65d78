"""The installed ``toolkit`` command, run as a subprocess."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import BIN, SubprocessCluster, reference_counts
from toolkit.text import top_k

TOOLKIT = str(BIN / "toolkit")


def run(
    *args: str, timeout: float = 120, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TOOLKIT, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
    )


def one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in proc.stderr.splitlines() if line.startswith("toolkit: error:")]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


def test_version_and_module_entry_point() -> None:
    assert run("--version").stdout.startswith("toolkit, version ")
    proc = subprocess.run(
        [sys.executable, "-m", "toolkit", "wordcount", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0 and "--tokenizer [words|whitespace]" in proc.stdout


def test_wordcount_on_the_embedded_cluster(messy_corpus: list[Path]) -> None:
    proc = run(
        "wordcount", *map(str, messy_corpus), "--top", "5", "--blocksize", "4KiB", "--workers", "2"
    )
    assert proc.returncode == 0, proc.stderr
    expected = reference_counts(messy_corpus)
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["rank", "word", "count"]
    assert [line.split()[1:] for line in lines[1:6]] == [
        [w, f"{c:,}"] for w, c in top_k(expected, 5)
    ]
    assert lines[6] == (
        f"total words: {sum(expected.values()):,}   distinct words: {len(expected):,}"
    )
    assert "started a local Dask cluster at tcp://127.0.0.1:" in proc.stderr
    assert "dashboard: http://127.0.0.1:" in proc.stderr
    assert f"toolkit: read {len(messy_corpus)} files" in proc.stderr


def test_wordcount_without_a_dashboard_says_so(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("b a b\n")
    proc = run("wordcount", str(path), "--workers", "1", "--dashboard-address", "")
    assert proc.returncode == 0, proc.stderr
    assert "with 1 worker in this process (threads); no dashboard" in proc.stderr
    assert "http://" not in proc.stderr
    assert proc.stdout.splitlines()[1].split() == ["1", "b", "2"]


def test_wordcount_runs_on_threads_by_default_and_on_processes_when_asked(
    messy_corpus: list[Path], tmp_path: Path
) -> None:
    """A word count's kernel runs without Python's lock: its embedded cluster is one worker
    of threads in this process, unless --processes; user jobs get worker processes."""
    args = ["wordcount", *map(str, messy_corpus), "--blocksize", "4KiB", "--workers", "2"]
    default, threads, processes = run(*args), run(*args, "--threads"), run(*args, "--processes")
    for proc in (default, threads, processes):
        assert proc.returncode == 0, proc.stderr
    assert default.stdout == threads.stdout == processes.stdout
    assert "with 1 worker in this process (threads); dashboard" in default.stderr
    assert "with 1 worker in this process (threads); dashboard" in threads.stderr
    assert "with 2 workers; dashboard" in processes.stderr
    (tmp_path / "job.py").write_text("def m(line):\n    yield len(line), 1\n")
    job = ["mapreduce", str(messy_corpus[0]), "--mapper", "job.py:m", "--reducer", "operator:add"]
    user = run(*job, "--workers", "2", cwd=tmp_path)
    assert user.returncode == 0, user.stderr
    assert "with 2 workers; dashboard" in user.stderr
    user_threads = run(*job, "--workers", "2", "--threads", cwd=tmp_path)
    assert user_threads.stdout == user.stdout
    assert "in this process (threads)" in user_threads.stderr


def test_wordcount_json_on_a_real_cluster(
    real_cluster: SubprocessCluster, messy_corpus: list[Path]
) -> None:
    proc = run(
        "wordcount",
        *map(str, messy_corpus),
        "--json",
        "--top",
        "0",
        "--tokenizer",
        "whitespace",
        "--scheduler",
        real_cluster.address,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    expected = reference_counts(messy_corpus, "whitespace")
    assert result["total_words"] == sum(expected.values())
    assert result["distinct_words"] == len(expected)
    assert [(r["word"], r["count"]) for r in result["top"]] == top_k(expected, None)
    assert f"connected to the Dask cluster at {real_cluster.address} with 2 workers" in proc.stderr


@pytest.mark.parametrize("ext", ["csv", "tsv", "json", "jsonl", "parquet"])
def test_wordcount_output_files(
    real_cluster: SubprocessCluster, messy_corpus: list[Path], tmp_path: Path, ext: str
) -> None:
    out = tmp_path / f"counts.{ext}"
    proc = run(
        "wordcount",
        *map(str, messy_corpus),
        "--output",
        str(out),
        "--min-length",
        "2",
        "--stopwords",
        "english",
        "--scheduler",
        real_cluster.address,
    )
    assert proc.returncode == 0, proc.stderr
    expected = {w: c for w, c in reference_counts(messy_corpus).items() if len(w) >= 2}
    from toolkit.stopwords import ENGLISH

    expected = {w: c for w, c in expected.items() if w not in ENGLISH}
    if ext in ("csv", "tsv"):
        frame = pd.read_csv(out, sep="," if ext == "csv" else "\t", keep_default_na=False)
        got = list(zip(frame["word"], frame["count"], strict=True))
    elif ext == "json":
        got = list(json.loads(out.read_text(encoding="utf-8")).items())
    elif ext == "jsonl":
        got = [
            (r["word"], r["count"])
            for r in map(json.loads, out.read_text(encoding="utf-8").splitlines())
        ]
    else:
        frame = pd.read_parquet(out)
        got = list(zip(frame["word"], frame["count"], strict=True))
    assert got == top_k(expected, None)
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temporary left behind


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["wordcount", "/no/such/file.txt"], 1, "no such file or directory: '/no/such/file.txt'"),
        (["wordcount", "/no/such/*.txt"], 1, "no files match '/no/such/*.txt'"),
        (
            ["wordcount", "{corpus}", "--stopwords", "/no/stop.txt"],
            1,
            "no such file: '/no/stop.txt'",
        ),
        (["wordcount", "{corpus}", "--output", "x.xlsx"], 1, "output file must end in one of"),
        (
            ["wordcount", "{corpus}", "--encoding", "klingon", "--scheduler", "sync"],
            1,
            "unknown text encoding 'klingon'",
        ),
        (
            ["wordcount", "{bad}", "--scheduler", "sync"],
            1,
            "bad.txt: invalid utf-8 at byte offset 9",
        ),
        (
            ["wordcount", "{corpus}", "--output", "/dev/full", "--scheduler", "sync"],
            1,
            "cannot write '/dev/full': No space left on device",
        ),
        (
            ["wordcount", "{corpus}", "--output", "/sys/counts.csv", "--scheduler", "sync"],
            1,
            "cannot write '/sys/counts.csv'",
        ),
        (
            ["mapreduce", "{corpus}", "--mapper", "nope", "--reducer", "operator:add"],
            1,
            "function must look like 'module:name'",
        ),
    ],
)
def test_errors_are_one_line_and_nonzero(
    tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    corpus = tmp_path / "c.txt"
    corpus.write_text("some words\n")
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"fine\nbad \xff\n")
    argv = [a.format(corpus=corpus, bad=bad) for a in args]
    proc = run(*argv, cwd=tmp_path)
    assert proc.returncode == code, proc.stderr
    assert message in one_error_line(proc)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--blocksize", "huge"], "size must look like"),
        (["--tokenizer", "chars"], "'chars' is not one of"),
        (["--top", "-1"], "-1 is not in the range x>=0"),
    ],
)
def test_bad_option_values_are_usage_errors(tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "c.txt").write_text("x\n")
    proc = run("wordcount", str(tmp_path / "c.txt"), *args)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("where", ["cluster", "sync"])
def test_progress_bar_on_request(
    real_cluster: SubprocessCluster, messy_corpus: list[Path], where: str
) -> None:
    scheduler = real_cluster.address if where == "cluster" else "sync"
    proc = run(
        "wordcount",
        *map(str, messy_corpus),
        "--progress",
        "--blocksize",
        "8KiB",
        "--scheduler",
        scheduler,
    )
    assert proc.returncode == 0, proc.stderr
    assert "100% Completed" in proc.stderr and "Traceback" not in proc.stderr
    assert "Completed" not in proc.stdout
    quiet = run("wordcount", *map(str, messy_corpus), "--scheduler", scheduler)
    assert "Completed" not in quiet.stderr  # not a terminal: no bar unless asked


def test_unreachable_scheduler_exits_within_the_timeout(tmp_path: Path) -> None:
    (tmp_path / "c.txt").write_text("x\n")
    start = time.monotonic()
    proc = run(
        "wordcount",
        str(tmp_path / "c.txt"),
        "--scheduler",
        "tcp://127.0.0.1:9",
        "--connect-timeout",
        "2",
    )
    assert time.monotonic() - start < 2 + 2  # the connect timeout plus 2 s, start-up included
    assert proc.returncode == 1
    assert (
        "cannot connect to the Dask scheduler at 'tcp://127.0.0.1:9' within 2 s"
        in one_error_line(proc)
    )


def test_mapreduce_with_functions_from_a_file(
    real_cluster: SubprocessCluster, tmp_path: Path
) -> None:
    (tmp_path / "job.py").write_text(
        "import json\n\n"
        "def mapper(record):\n    yield record['page'], record['ms']\n\n"
        "def reducer(a, b):\n    return max(a, b)\n"
    )
    data = tmp_path / "hits.jsonl"
    rows = [{"page": f"/p{i % 5}", "ms": (i * 37) % 101} for i in range(500)]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "max.csv"
    proc = run(
        "mapreduce",
        str(data),
        "--mapper",
        "job.py:mapper",
        "--reducer",
        "job.py:reducer",
        "--records",
        "jsonl",
        "--json",
        "--output",
        str(out),
        "--scheduler",
        real_cluster.address,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    expected: dict[str, int] = {}
    for r in rows:
        expected[r["page"]] = max(expected.get(r["page"], 0), r["ms"])
    result = json.loads(proc.stdout)
    assert result["keys"] == 5
    assert {r["key"]: r["value"] for r in result["results"]} == expected
    assert pd.read_csv(out).set_index("key")["value"].to_dict() == expected


def test_mapreduce_csv_with_bad_records_and_a_combiner(
    real_cluster: SubprocessCluster, tmp_path: Path
) -> None:
    (tmp_path / "job.py").write_text(
        "def mapper(row):\n    yield row['status'], int(row['bytes'])\n\n"
        "class Mean:\n"
        "    def zero(self):\n        return [0, 0]\n"
        "    def fold(self, acc, v):\n        return [acc[0] + v, acc[1] + 1]\n"
        "    def merge(self, a, b):\n        return [a[0] + b[0], a[1] + b[1]]\n"
        "    def finish(self, acc):\n        return acc[0] / acc[1]\n"
    )
    data = tmp_path / "log.csv"
    data.write_text(
        'status,bytes,path\n200,10,/a\n404,4,"/b, c"\n200,x,/bad-int\n200,1,/d,extra\n200,20,/é\n'
    )
    args = ["mapreduce", str(data), "--mapper", "job.py:mapper", "--combiner", "job.py:Mean"]
    args += ["--records", "csv", "--scheduler", real_cluster.address]
    proc = run(*args, "--json", "--bad-output", str(tmp_path / "bad.txt"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert {r["key"]: r["value"] for r in summary["results"]} == {"200": 15.0, "404": 4.0}
    assert (summary["records"], summary["bad_records"]) == (3, 2)
    assert (tmp_path / "bad.txt").read_text() == "200,x,/bad-int\n200,1,/d,extra\n"
    assert "toolkit: 2 bad records; their lines are in" in proc.stderr
    assert "mapper job.py:mapper raised ValueError" in proc.stderr  # the first one, and why
    proc = run(*args, "--bad-records", "strict", cwd=tmp_path)
    assert proc.returncode == 1
    line = one_error_line(proc)
    assert "log.csv" in line and "bad record '200,x,/bad-int'" in line and "ValueError" in line


def test_sample_corpus_is_deterministic(tmp_path: Path) -> None:
    assert run("sample", str(tmp_path / "a"), "--size", "50kB", "--files", "2").returncode == 0
    assert run("sample", str(tmp_path / "b"), "--size", "50kB", "--files", "2").returncode == 0
    for name in ["part-0000.txt", "part-0001.txt"]:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupt_cancels_and_leaves_no_output(tmp_path: Path, sig: int, code: int) -> None:
    (tmp_path / "slow.py").write_text(
        "import time\n\ndef mapper(line):\n    time.sleep(0.05)\n    yield line, 1\n\n"
        "def reducer(a, b):\n    return a + b\n"
    )
    data = tmp_path / "lines.txt"
    data.write_text("".join(f"line {i}\n" for i in range(2000)))
    out = tmp_path / "out.csv"
    proc = subprocess.Popen(
        [
            TOOLKIT,
            "mapreduce",
            str(data),
            "--mapper",
            "slow.py:mapper",
            "--reducer",
            "slow.py:reducer",
            "--blocksize",
            "1KiB",
            "--output",
            str(out),
            "--workers",
            "2",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # as from a terminal: a runner started in the background ignores SIGINT, and its
        # children inherit that (Ctrl-C is then meant not to reach them)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert proc.stderr is not None
    deadline = time.monotonic() + 60
    seen = ""
    while "dashboard" not in seen and time.monotonic() < deadline:  # wait for the cluster
        seen += proc.stderr.readline()
    time.sleep(1.0)
    sent = time.monotonic()
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    assert time.monotonic() - sent < 5
    assert proc.returncode == code, err
    assert "Traceback" not in err
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lines.txt", "slow.py"] + (
        ["__pycache__"] if (tmp_path / "__pycache__").exists() else []
    )


def test_mapreduce_with_a_frame_mapper(real_cluster: SubprocessCluster, tmp_path: Path) -> None:
    (tmp_path / "job.py").write_text(
        "def by_status(frame):\n"
        "    return frame.groupby('status')['bytes'].sum().items()\n\n"
        "def wrong(frame):\n"
        "    return frame.group_by('status').len().iter_rows()\n\n"
        "def add(a, b):\n    return a + b\n"
    )
    data = tmp_path / "log.jsonl"
    data.write_text(
        '{"status": 200, "bytes": 10}\n{"status": 404, "bytes": 4}\n"not an object"\n'
        '{"status": 200, "bytes": 20, "path": "/é"}\n{oops\n'
    )
    args = ["mapreduce", str(data), "--mapper", "job.py:by_status", "--reducer", "job.py:add"]
    args += ["--records", "jsonl", "--frames", "pandas", "--scheduler", real_cluster.address]
    proc = run(*args, "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["results"] == [{"key": 200, "value": 30}, {"key": 404, "value": 4}]
    assert (summary["records"], summary["bad_records"]) == (3, 2)
    wrong = [*args[:3], "job.py:wrong", *args[4:]]
    proc = run(*wrong, cwd=tmp_path)
    assert proc.returncode == 1
    line = one_error_line(proc)
    assert "log.jsonl" in line and "mapper job.py:wrong raised AttributeError" in line
    assert "a frame of 3 records (columns status, bytes, path)" in line
