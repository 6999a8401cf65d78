from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from toolkit.batch.outputs import atomic_output, write_series, write_table
from toolkit.batch.wordcount import counts_frame
from toolkit.errors import ConfigError, OutputError

COUNTS = counts_frame([("the", 5), ("straße", 2), ("大", 2), ('say "hi", ok', 1)])


def test_csv_and_tsv(tmp_path: Path) -> None:
    write_series(COUNTS, tmp_path / "c.csv")
    assert (tmp_path / "c.csv").read_text(encoding="utf-8").splitlines() == [
        "word,count",
        "the,5",
        "straße,2",
        "大,2",
        '"say ""hi"", ok",1',
    ]
    write_series(COUNTS, tmp_path / "c.tsv")
    back = pd.read_csv(tmp_path / "c.tsv", sep="\t", keep_default_na=False)
    assert back["word"].tolist() == COUNTS.index.tolist()
    assert back["count"].tolist() == COUNTS.tolist()


def test_json_keeps_the_sort_order(tmp_path: Path) -> None:
    write_series(COUNTS, tmp_path / "c.json")
    loaded = json.loads((tmp_path / "c.json").read_text(encoding="utf-8"))
    assert list(loaded.items()) == list(COUNTS.items())


def test_jsonl(tmp_path: Path) -> None:
    write_series(COUNTS, tmp_path / "c.jsonl")
    rows = [json.loads(x) for x in (tmp_path / "c.jsonl").read_text(encoding="utf-8").splitlines()]
    assert rows == [{"word": w, "count": c} for w, c in COUNTS.items()]


def test_parquet_types(tmp_path: Path) -> None:
    write_series(COUNTS, tmp_path / "c.parquet")
    table = pq.read_table(tmp_path / "c.parquet")
    assert str(table.schema.field("word").type) in ("string", "large_string")
    assert str(table.schema.field("count").type) == "int64"
    assert table.column("word").to_pylist() == COUNTS.index.tolist()


@pytest.mark.parametrize("ext", ["csv", "tsv", "json", "jsonl", "parquet"])
def test_an_arrow_table_is_written_as_its_series_would_be(tmp_path: Path, ext: str) -> None:
    import pyarrow as pa

    table = pa.table(
        {
            "word": pa.array(COUNTS.index.tolist(), type=pa.large_string()),
            "count": pa.array(COUNTS.tolist(), type=pa.int64()),
        }
    )
    write_series(COUNTS, tmp_path / f"s.{ext}")
    write_table(table, tmp_path / f"t.{ext}")
    if ext == "parquet":  # the same columns and values (schemas differ in pandas metadata)
        a, b = pq.read_table(tmp_path / "s.parquet"), pq.read_table(tmp_path / "t.parquet")
        assert a.column_names == b.column_names == ["word", "count"]
        assert a.to_pydict() == b.to_pydict()
    else:
        assert (tmp_path / f"t.{ext}").read_bytes() == (tmp_path / f"s.{ext}").read_bytes()


def test_generic_keys_and_values(tmp_path: Path) -> None:
    series = pd.Series(
        [frozenset({"b", "a"}), 2], index=pd.Index([("x", 1), "y"], tupleize_cols=False)
    )
    write_series(series, tmp_path / "g.jsonl", key="key", value="value")
    rows = [json.loads(x) for x in (tmp_path / "g.jsonl").read_text().splitlines()]
    assert rows == [{"key": ["x", 1], "value": ["a", "b"]}, {"key": "y", "value": 2}]


def test_unknown_extension_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"output file must end in one of .csv, .tsv"):
        write_series(COUNTS, tmp_path / "c.xlsx")


def test_failure_leaves_no_partial_file_and_keeps_the_old_one(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old content\n")
    with pytest.raises(RuntimeError), atomic_output(target) as f:
        f.write("half a resu")
        raise RuntimeError("crash mid-write")
    assert target.read_text() == "old content\n"
    assert os.listdir(tmp_path) == ["out.csv"]


def test_unwritable_destinations_name_the_path(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match=r"cannot write '/dev/full': No space left on device"):
        write_series(COUNTS, "/dev/full")
    with pytest.raises(OutputError, match=r"cannot write '.*/no/such/dir/c\.csv'"):
        write_series(COUNTS, tmp_path / "no" / "such" / "dir" / "c.csv")
