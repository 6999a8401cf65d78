"""The contenders: each is a whole Python process (imports and cluster start included).

Each prints one JSON line: ``{"total": words, "distinct": n, "digest": sha256 of the sorted
counts, "check_s": seconds spent making this line}`` so that the harness can check every
contender got the same answer, and leave the check out of the contender's time.  The
``toolkit wordcount`` command instead writes all its counts to a Parquet file (``{output}``
in its argv), as a user would, and the harness makes the same line from that file.  All
count whitespace-separated tokens with no case folding (``str.split()``), the classic
MapReduce job.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from dataclasses import dataclass
from typing import Any

DIGEST = """
import hashlib, json, time
def answer(counts):
    items = sorted((str(w), int(c)) for w, c in counts)
    h = hashlib.sha256("\\n".join(f"{w}\\t{c}" for w, c in items).encode()).hexdigest()
    return {"total": sum(c for _, c in items), "distinct": len(items), "digest": h}
def report(counts):
    start = time.perf_counter()
    found = answer(counts)
    print(json.dumps({**found, "check_s": time.perf_counter() - start}))
"""
_DIGEST: dict[str, Any] = {}
exec(DIGEST, _DIGEST)  # the harness checks output files with the contenders' own code


def answer_of_file(path: str) -> str:
    """The answer line (``check_s`` 0) for a ``word,count`` Parquet file a contender wrote."""
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    pairs = zip(table.column("word").to_pylist(), table.column("count").to_pylist(), strict=True)
    return json.dumps({**_DIGEST["answer"](pairs), "check_s": 0.0})


PLAIN = (
    DIGEST
    + """
import sys
from collections import Counter
counts = Counter()
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as f:
        for line in f:
            counts.update(line.split())
report(counts.items())
"""
)

DASK_BAG = (
    DIGEST
    + """
import sys, operator
import dask.bag as db
from distributed import Client, LocalCluster
if __name__ == "__main__":
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None)
    with cluster, Client(cluster):
        words = db.read_text(sys.argv[2:]).str.split().flatten()
        if sys.argv[1] == "frequencies":
            result = words.frequencies().compute()
        else:
            result = words.foldby(lambda w: w, lambda acc, _: acc + 1, 0, operator.add, 0).compute()
    report(result)
"""
)

TOOLKIT = (
    DIGEST
    + """
import sys, toolkit
if __name__ == "__main__":
    with toolkit.connect(n_workers=int(sys.argv[2]), quiet=True) as conn:
        result = toolkit.word_count(sys.argv[3:], tokenizer=sys.argv[1], scheduler=conn)
    report(result.counts.items())
"""
)


def _duckdb(split: str) -> str:
    """DuckDB's word count, the lines read as one VARCHAR column, split by ``split``."""
    return (
        DIGEST
        + '''
import sys, duckdb
files = ", ".join(repr(p) for p in sys.argv[1:])
rows = duckdb.sql(f"""
    SELECT w, count(*) FROM (
        SELECT unnest(SPLIT) AS w
        FROM read_csv([{files}], columns={{'line': 'VARCHAR'}}, delim='\\x01', quote='',
                      escape='', header=false, auto_detect=false)
    ) WHERE w <> '' GROUP BY w""").fetchall()
report(rows)
'''.replace("SPLIT", split)
    )


DUCKDB = _duckdb("regexp_split_to_array(line, '\\\\s+')")  # any Unicode whitespace
# the query a DuckDB user writes for text whose only whitespace is ' ' and '\n' (the corpus's)
DUCKDB_SPACE = _duckdb("string_split(line, ' ')")

# Polars' fastest form here: lazy scans and the streaming engine (2.4x the eager
# read_csv + explode at 256 MiB, 4x at 1 GB, where the eager one peaked at 11 GB)
POLARS = (
    DIGEST
    + """
import sys, polars as pl
lines = pl.concat([
    pl.scan_csv(p, has_header=False, separator="\\x01", quote_char=None,
                new_columns=["line"], schema_overrides={"line": pl.String})
    for p in sys.argv[1:]
])
words = lines.select(pl.col("line").str.split(" ").explode().alias("w"))
counts = words.filter(pl.col("w") != "").group_by("w").len().collect(engine="streaming")
report(counts.iter_rows())
"""
)


PYSPARK = (
    DIGEST
    + """
import sys
from pyspark import SparkConf, SparkContext
conf = (
    SparkConf().setMaster("local[2]").setAppName("wordcount")
    .set("spark.ui.enabled", "false").set("spark.ui.showConsoleProgress", "false")
    .set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1")
)
sc = SparkContext(conf=conf)
sc.setLogLevel("ERROR")
counts = (
    sc.textFile(",".join(sys.argv[1:]))
    .flatMap(lambda line: line.split())
    .map(lambda w: (w, 1))
    .reduceByKey(lambda a, b: a + b)
    .collect()
)
sc.stop()
report(counts)
"""
)


@dataclass(frozen=True)
class Contender:
    name: str
    argv: list[str]  # files are appended
    note: str = ""
    checks: bool = True  # its digest must match the others'
    output: bool = False  # writes its counts to the file named by "{output}" in argv


def batch_contenders(python: str) -> tuple[list[Contender], list[str]]:
    """The contenders available here, and notes on those that are not."""
    have = lambda m: importlib.util.find_spec(m) is not None  # noqa: E731
    cli = [python, "-m", "toolkit", "wordcount", "--output", "{output}"]
    out = [
        Contender(
            "toolkit wordcount",
            [*cli, "--tokenizer", "whitespace"],
            "the command as typed, embedded default (a job of seconds: threads in its own "
            "process; longer: the embedded cluster); all counts to Parquet",
            output=True,
        ),
        Contender(
            "toolkit wordcount (words tokenizer)",
            [*cli, "--tokenizer", "words"],
            "Unicode words, lowercased: a different answer by design",
            checks=False,
            output=True,
        ),
        Contender(
            "toolkit wordcount --workers 2 (embedded cluster)",
            [*cli, "--workers", "2", "--tokenizer", "whitespace"],
            "the embedded cluster whatever the size (one worker of 2 threads, dashboard)",
            output=True,
        ),
        Contender(
            "toolkit wordcount --workers 1",
            [*cli, "--workers", "1", "--tokenizer", "whitespace"],
            "the embedded cluster on one thread: how it scales",
            output=True,
        ),
        Contender(
            "toolkit.word_count() from Python",
            [python, "-c", TOOLKIT, "whitespace", "2"],
            "the library call, counts as a pandas Series",
        ),
        Contender("plain Python Counter", [python, "-c", PLAIN]),
        Contender("dask.bag frequencies", [python, "-c", DASK_BAG, "frequencies"]),
        Contender("dask.bag foldby", [python, "-c", DASK_BAG, "foldby"]),
    ]
    notes = []
    for module, name, script in (
        ("duckdb", "DuckDB SQL, Unicode regex split", DUCKDB),
        ("duckdb", "DuckDB SQL, string_split(line, ' ')", DUCKDB_SPACE),
        ("polars", "Polars, str.split(' ')", POLARS),
    ):
        if have(module):
            out.append(Contender(name, [python, "-c", script]))
        else:
            notes.append(
                f"{name}: skipped, `{module}` is not installed (pip install -e '.[bench]')"
            )
    if have("pyspark") and shutil.which("java"):
        out.append(Contender("PySpark RDD local[2]", [python, "-c", PYSPARK]))
    else:
        notes.append("PySpark RDD: skipped, pyspark (and Java) are not installed")
    if shutil.which("wc"):
        out.append(Contender("wc -w (scan floor)", ["wc", "-w"], "counts words only", checks=False))
    return out, notes
