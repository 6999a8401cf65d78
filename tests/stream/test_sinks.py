"""The stream's sinks (``toolkit/stream/sinks.py``): one protocol, a registry by format, each
sink rolled back to a checkpoint's point writes every result once."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow.dataset as ds
import pytest

from toolkit.errors import ConfigError
from toolkit.stream.messages import KeyedWindowResult
from toolkit.stream.sinks import SINKS, open_sink

RESULTS = [KeyedWindowResult(i * 10, i * 10 + 10, 2, 1, [("k", i)]) for i in range(6)]


@pytest.mark.parametrize("output_format", sorted(SINKS))
def test_a_sink_restored_to_its_sync_point_writes_each_result_once(
    tmp_path: Path, output_format: str
) -> None:
    path = str(tmp_path / ("out/" if output_format == "parquet" else f"out.{output_format}"))
    options = {"times": False, "roll_bytes": 1, "roll_seconds": 60.0}
    sink = open_sink(output_format, path, **options)
    for r in RESULTS[:3]:
        sink.write(r)
    state = json.loads(json.dumps(sink.sync()))  # a checkpoint is JSON
    for r in RESULTS[3:5]:
        sink.write(r)  # then the process dies
    again = open_sink(output_format, path, **options)
    again.restore(state)
    for r in RESULTS[3:]:  # the replay from the checkpoint
        again.write(r)
    again.sync()
    again.close()
    if output_format == "parquet":
        values = sorted(ds.dataset(path).to_table().column("value").to_pylist())
    elif output_format == "csv":
        rows = list(csv.DictReader(Path(path).read_text().splitlines()))
        assert list(rows[0]) == ["start", "end", "key", "value", "records", "keys"]
        values = [int(row["value"]) for row in rows]
    else:
        values = [json.loads(x)["results"][0][1] for x in Path(path).read_text().splitlines()]
    assert values == list(range(6))


def test_an_unknown_format_names_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="output format must be csv, jsonl or parquet; got 'xml'"):
        open_sink("xml", str(tmp_path / "x"))
