"""The small-input path (``toolkit/wordcounter.py``): a word count of WordCounters gives what
the compiled WordTables give, through the whole engine, and a small job loads no kernel."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import BIN, MESSY_LINES, reference_counts
from toolkit.batch.plan import plan_job, run_planned
from toolkit.batch.wordcount import SMALL_INPUT, WordCountJob, is_small, word_count
from toolkit.wordcounter import WordCounter


def _messy_files(root: Path) -> list[Path]:
    """Small files of everything a reader meets: scripts, CRLF, bad UTF-8, a long line."""
    messy = "\n".join(MESSY_LINES * 3) + "\n"
    files = {
        "messy.txt": messy.encode(),
        "crlf.txt": messy.replace("\n", "\r\n").encode(),
        "latin1.txt": "café naïve\nok Straße\n".encode("latin-1") + "ünï\n".encode(),
        "cut.txt": "ab" + "\u00e9" * 3 + "\n",
        "bad-middle.txt": b"one two \xff\xfe three\nfour caf\xe9 five\xc3\n\xe2\x82 six\n",
        "long.txt": (" ".join(["Long"] * 3000) + " ΣΑΣ end\n").encode(),
        "no-newline.txt": "last ΟΔΟΣ".encode(),
        "empty.txt": b"",
    }
    paths = []
    for name, data in files.items():
        path = root / name
        path.write_bytes(data if isinstance(data, bytes) else data.encode())
        paths.append(path)
    return paths


def _run(paths: list[Path], small: bool, **options: object) -> tuple[dict[str, int], object]:
    errors = str(options.pop("errors", "replace"))
    split_out = int(options.pop("split_out", 1))  # type: ignore[call-overload]
    plan = plan_job(paths, blocksize="1KiB", errors=errors)
    job = WordCountJob(**options, small=small)  # type: ignore[arg-type]
    buckets, stats = run_planned(job, plan, scheduler="sync", split_out=split_out)
    counts: dict[str, int] = {}
    for bucket in buckets:
        for word, count in zip(bucket.words.to_pylist(), bucket.counts.tolist(), strict=True):
            assert word not in counts  # buckets hold disjoint words
            counts[word] = count
    totals = (sum(b.total for b in buckets), sum(b.distinct for b in buckets))
    return counts, (totals, stats)


@pytest.mark.parametrize("tokenizer", ["words", "whitespace"])
@pytest.mark.parametrize("lowercase", [True, False])
@pytest.mark.parametrize("errors", ["replace", "ignore"])
def test_counters_and_tables_count_alike_through_the_engine(
    tmp_path: Path, tokenizer: str, lowercase: bool, errors: str
) -> None:
    paths = _messy_files(tmp_path)
    for chosen in [paths, paths[:1], paths[4:5]]:  # all, one clean file, one of bad bytes
        options = {"tokenizer": tokenizer, "lowercase": lowercase, "errors": errors}
        table = _run(chosen, small=False, **options)
        counter = _run(chosen, small=True, **options)
        assert counter == table
        assert sum(table[0].values()) > 0


def test_counters_split_filter_and_strict_decoding_as_tables_do(tmp_path: Path) -> None:
    paths = _messy_files(tmp_path)
    clean = [p for p in paths if "bad" not in p.name and "latin1" not in p.name]
    options = {"min_length": 3, "stopwords": frozenset({"the", "don't"}), "split_out": 3}
    assert _run(clean, small=True, **options) == _run(clean, small=False, **options)
    assert _run(clean, small=True, errors="strict") == _run(clean, small=False, errors="strict")
    with pytest.raises(Exception, match=r"bad-middle\.txt") as counted:
        _run(paths[4:5], small=True, errors="strict")
    with pytest.raises(type(counted.value), match=r"bad-middle\.txt"):
        _run(paths[4:5], small=False, errors="strict")


def test_a_counter_is_the_reference_count(tmp_path: Path) -> None:
    paths = _messy_files(tmp_path)[:3]
    paths = [p for p in paths if "latin1" not in p.name]
    assert _run(paths, small=True)[0] == reference_counts(paths)


def test_counters_merge_only_alike() -> None:
    a, b = WordCounter("words", True), WordCounter("whitespace", False)
    a.add_text("x")
    with pytest.raises(ValueError, match="different tokenizers"):
        a.merge(b)
    assert WordCounter().merge(a).counts == {"x": 1}


def test_which_inputs_are_small(tmp_path: Path) -> None:
    small = tmp_path / "small.txt"
    small.write_text("a b\n")
    large = tmp_path / "large.txt"
    large.write_bytes(b"a " * (SMALL_INPUT // 2 + 1))
    plan = plan_job([small])
    assert is_small(b.file for t in plan.tasks for b in t)
    plan = plan_job([large])
    assert not is_small(b.file for t in plan.tasks for b in t)


def _modules_after(code: str) -> set[str]:
    """The top-level modules a fresh Python has loaded after running ``code``."""
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print(' '.join(sys.modules))"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    return {name.split(".")[0] for name in out.split()} | set(out.split())


def test_a_small_job_loads_no_kernel_and_a_large_one_does(tmp_path: Path) -> None:
    small = tmp_path / "small.txt"
    small.write_text("the quick brown fox\n")
    large = tmp_path / "large.txt"
    large.write_text("the quick brown fox\n" * (SMALL_INPUT // 20 + 10))
    call = "import toolkit; r = toolkit.word_count({!r}, scheduler='sync'); print(r.total_words)"
    assert "toolkit.wordtable.kernels" not in _modules_after(call.format(str(small)))
    assert "toolkit.wordtable.kernels" in _modules_after(call.format(str(large)))
    assert word_count(small, scheduler="sync").most_common(1) == [("brown", 1)]


def test_the_command_counts_a_small_input_in_its_own_process(tmp_path: Path) -> None:
    path = tmp_path / "one-line.txt"
    path.write_text("the quick brown fox jumps over the lazy dog\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DASK_")}
    cmd = [sys.executable, "-X", "importtime", str(BIN / "toolkit"), "wordcount", str(path)]
    proc = subprocess.run([*cmd, "--json"], capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    assert '"total_words": 9' in proc.stdout
    assert "counted in this process on one thread, no cluster started" in proc.stderr
    assert "started a local Dask cluster" not in proc.stderr
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if "|" in line}
    # nothing a line does not need
    assert not {"numba", "distributed", "pandas", "toolkit.wordtable.kernels"} & imported
    asked = subprocess.run(  # --workers asks for a cluster, small input or not
        [str(BIN / "toolkit"), "wordcount", str(path), "--workers", "1", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert asked.returncode == 0, asked.stderr
    assert asked.stdout == proc.stdout
    assert "started a local Dask cluster" in asked.stderr


def test_a_configured_scheduler_is_used_for_a_small_input_too(tmp_path: Path) -> None:
    path = tmp_path / "one-line.txt"
    path.write_text("a b\n")
    env = {**os.environ, "DASK_SCHEDULER_ADDRESS": "tcp://127.0.0.1:9"}  # nothing listens
    proc = subprocess.run(
        [str(BIN / "toolkit"), "wordcount", str(path), "--connect-timeout", "2"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert proc.returncode == 1
    assert "127.0.0.1:9" in proc.stderr and "counted in this process" not in proc.stderr


def test_the_command_counts_a_short_input_on_threads_in_its_own_process(
    messy_corpus: list[Path],
) -> None:
    """Past the small size, a job of seconds runs on dask's threaded scheduler in the
    command's process, through the compiled kernel: the counts of a cluster's run."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DASK_")}
    args = [str(BIN / "toolkit"), "wordcount", *map(str, messy_corpus), "--top", "0", "--json"]
    args += ["--blocksize", "4KiB"]
    here = subprocess.run(args, capture_output=True, text=True, timeout=120, env=env)
    assert here.returncode == 0, here.stderr
    assert "counted in this process on" in here.stderr and "threads" in here.stderr
    assert "started a local Dask cluster" not in here.stderr
    cluster = subprocess.run(
        [*args, "--workers", "2"], capture_output=True, text=True, timeout=120, env=env
    )
    assert cluster.returncode == 0, cluster.stderr
    assert "started a local Dask cluster" in cluster.stderr
    assert here.stdout == cluster.stdout
    counts = {w["word"]: w["count"] for w in json.loads(here.stdout)["top"]}
    assert counts == dict(reference_counts(messy_corpus))
