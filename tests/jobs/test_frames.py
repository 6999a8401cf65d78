"""Frame mappers (``toolkit/jobs/frames.py`` and the frame path of ``keyed.py``): the fast
JSON table against the records' own, and a frame mapper's results against a record mapper's."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests import user_functions as jobs
from toolkit.errors import ConfigError, JobError
from toolkit.jobs import KeyedJob, combining
from toolkit.jobs.frames import jsonl_table, plain, records_frame, records_table

_VALUES = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=2),
    st.sampled_from(["2020-01-01", "2020-01-01T00:00:00", "\ud800x", "é😀", "\x00"]),
)
_RECORD = st.dictionaries(st.sampled_from(["a", "b", "c", "ts"]), _VALUES, max_size=4)
_LINE = st.one_of(
    _RECORD.map(lambda r: json.dumps(r, ensure_ascii=False).encode("utf-8", "surrogatepass")),
    _RECORD.map(lambda r: json.dumps(r).encode()),  # \u escapes, lone surrogates among them
    st.sampled_from([b"", b"  ", b"{oops", b"5", b"[1]", b'{"a":1}{"a":2}', b'{"a":1,"a":2}']),
    st.sampled_from([b'{"a": NaN}', b'{"a": 1e400}', b'{"a": "\xff"}', b'{"a": 1}\r']),
)


_SHAPED = st.fixed_dictionaries(  # records of one shape, as most chunks are
    {"a": st.integers(min_value=-(2**63), max_value=2**63 - 1), "b": st.text(max_size=6)},
    optional={"c": st.floats(allow_nan=False, allow_infinity=False)},
).map(lambda r: json.dumps(r, ensure_ascii=False).encode("utf-8", "surrogatepass"))
_LINES = st.one_of(
    st.lists(_LINE, min_size=1, max_size=12),
    st.lists(_SHAPED, min_size=1, max_size=12),
    st.tuples(st.lists(_SHAPED, min_size=1, max_size=8), _LINE).map(lambda t: [*t[0], t[1]]),
)


def test_the_fast_table_is_the_records_table_or_nothing() -> None:
    taken: list[int] = []  # the sizes of the tables the fast path gave

    @settings(max_examples=400, deadline=None)
    @given(_LINES, st.booleans())
    def check(lines: list[bytes], end: bool) -> None:
        data = b"\n".join(lines) + (b"\n" if end else b"")
        table = jsonl_table(data)
        if table is None:
            return
        taken.append(table.num_rows)
        lines_read = data.decode("utf-8").split("\n")  # JSON lines end at \n, and only there
        if data.endswith(b"\n"):
            lines_read.pop()  # after the last newline
        records = [json.loads(line) for line in lines_read]
        assert all(isinstance(r, dict) for r in records)
        assert table.equals(records_table(records))
        assert table.to_pylist() == [{k: r.get(k) for k in table.column_names} for r in records]

    check()
    assert len(taken) >= 20 and max(taken) >= 3, taken  # not only ever the careful way


def test_the_fast_table_takes_the_common_case() -> None:
    from toolkit.corpus import access_log

    data = "".join(json.dumps(r) + "\n" for r in access_log(2000, seed=1)).encode()
    table = jsonl_table(data)
    assert table is not None and table.num_rows == 2000
    assert table.column_names == ["ts", "status", "path", "bytes", "client"]


def _messy_lines(n: int, seed: int = 0) -> list[bytes]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        kind = rng.random()
        user = rng.choice(["ana", "Bøb", "東京", "e\u0301", ""])
        if kind < 0.03:
            out.append(b"{not json")
        elif kind < 0.05:
            out.append(b"   ")  # blank: no record, not a bad one
        elif kind < 0.06:
            out.append(b"[1, 2]")  # JSON, but no object: a bad record for a frame
        elif kind < 0.07:
            out.append(json.dumps({"user": user, "amount": i % 13, "extra": 1}).encode())
        elif kind < 0.08:
            out.append(json.dumps({"user": user, "amount": 0.5}).encode())
        else:
            ascii_only = i % 2 == 0
            out.append(
                json.dumps({"user": user, "amount": i % 13}, ensure_ascii=ascii_only).encode()
            )
    return out


def _reference(lines: list[bytes]) -> tuple[dict[str, float], int, list[str]]:
    """A plain loop: each line parsed by itself; a record is a JSON object."""
    totals: dict[str, float] = {}
    records, bad = 0, []
    for raw in lines:
        line = raw.decode("utf-8")
        if not line.strip():
            continue
        try:
            r = json.loads(line)
        except ValueError:
            bad.append(line)
            continue
        if not isinstance(r, dict):
            bad.append(line)
            continue
        totals[r["user"]] = totals.get(r["user"], 0) + r["amount"]
        records += 1
    return totals, records, bad


@pytest.mark.parametrize("frames", ["pandas", "polars"])
@pytest.mark.parametrize("cut", [1, 37, 500, 10_000])
@pytest.mark.parametrize("clean", [True, False])
def test_a_frame_mapper_equals_a_plain_loop(frames: str, cut: int, clean: bool) -> None:
    lines = _messy_lines(300 if cut == 1 else 3000, seed=cut)
    if clean:  # records of one shape: every chunk takes the fast path
        lines = [x for x in lines if x.startswith(b'{"') and b"extra" not in x and b"0.5" not in x]
    job = KeyedJob(jobs.user_amounts_frame, combining(jobs.add), "jsonl", frames=frames)
    state = job.empty()
    for start in range(0, len(lines), cut):
        chunk = b"".join(line + b"\n" for line in lines[start : start + cut])
        if clean:
            assert jsonl_table(chunk) is not None
        assert job.fold_bytes(state, chunk) == len(chunk)
    totals, records, bad = _reference(lines)
    assert dict(state) == pytest.approx(totals)
    assert state.records == records and state.bad.lines == bad
    assert all(type(k) is str for k in state)


def test_frames_and_records_give_the_same_results_from_text() -> None:
    lines = [line.decode() for line in _messy_lines(1000, seed=5)]
    by_record = KeyedJob(jobs.user_amounts, combining(jobs.add), "jsonl")
    by_frame = KeyedJob(jobs.user_amounts_frame, combining(jobs.add), "jsonl", frames="pandas")
    a = by_record.fold(by_record.empty(), [x for x in lines if x.strip() != "[1, 2]"])
    b = by_frame.fold(by_frame.empty(), lines)
    assert dict(b) == pytest.approx(dict(a)) and b.records == a.records
    assert b.bad.lines == [x for x in lines if x in ("{not json", "[1, 2]")]


def test_lines_and_csv_records_as_frames() -> None:
    lines = ["GET /a", "POST /b", "", "GET /ccc"]
    job = KeyedJob(jobs.line_length_frame, combining(jobs.add), "lines", frames="pandas")
    assert dict(job.fold(job.empty(), lines)) == {6: 1, 7: 1, 0: 1, 8: 1}
    job = KeyedJob(jobs.status_bytes_frame, combining(jobs.add), "csv", frames="pandas")
    state = job.fold(job.empty(), ["200,5", '404,"7"', "200,1,extra", "200,2"], ("status", "bytes"))
    assert dict(state) == {"200": 7, "404": 7} and state.records == 3 and len(state.bad) == 1


def test_values_come_back_as_python_values() -> None:
    import numpy as np

    job = KeyedJob(jobs.status_bytes_frame, combining(jobs.add), "jsonl", frames="pandas")
    state = job.empty()
    job.fold_bytes(state, b'{"status": 200, "bytes": 3}\n{"status": 200, "bytes": 4}\n')
    assert state == {"200": 7} and type(state["200"]) is int
    assert plain(np.float64(0.5)) == 0.5 and type(plain(np.float64(0.5))) is float


def test_frame_mapper_failures_are_named_and_never_bad_records() -> None:
    job = KeyedJob(jobs.frame_fails, combining(jobs.add), "jsonl", frames="pandas")
    with pytest.raises(JobError) as info:
        job.fold_bytes(job.empty(), b'{"a": 1}\n{"a": 2}\n')
    message = str(info.value)
    assert "mapper tests.user_functions.frame_fails raised KeyError" in message
    assert "a frame of 2 records (columns a)" in message
    unhashable = KeyedJob(lambda f: [([1], 1)], combining(jobs.add), "jsonl", frames="pandas")
    with pytest.raises(JobError, match="hashable keys; on a frame of 1 records"):
        unhashable.fold_bytes(unhashable.empty(), b'{"a": 1}\n')


def test_the_frame_options_are_checked() -> None:
    with pytest.raises(ConfigError, match="frames must be one of pandas, polars; got 'arrow'"):
        KeyedJob(jobs.user_amounts_frame, combining(jobs.add), "jsonl", frames="arrow")
    job = KeyedJob(jobs.user_amounts_frame, combining(jobs.add), "jsonl", frames="pandas")
    with pytest.raises(ConfigError, match="sessions need each record's"):
        job.mapped(['{"user": "a", "amount": 1}'])


def test_the_reference_frame_keeps_values_arrow_cannot_type() -> None:
    frame = records_frame([{"a": 1}, {"a": "x"}, {"b": 2}], "polars")
    assert frame["a"].to_list() == [1, "x", None] and frame["b"].to_list() == [None, None, 2]
    assert records_frame([{}, {}], "pandas").shape == (2, 0)


def test_the_reference_frame_has_every_field_of_every_record() -> None:
    records = [{"a": 1}, {"a": 2, "b": "é"}, {"c": [1, 2], "a": None}]
    for frames in ("pandas", "polars"):
        frame = records_frame(records, frames)
        assert list(frame.columns) == ["a", "b", "c"], frames
        assert len(frame) == 3
