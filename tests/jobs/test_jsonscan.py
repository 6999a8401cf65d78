"""The compiled scan of flat JSON lines (``toolkit/jobs/jsonscan.py``) against the records'
own table (``records_table`` of what ``json.loads`` gives), on messy spellings of one shape."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.jobs.frames import jsonl_table, records_table
from toolkit.jobs.jsonscan import scan_table

_SPACE = st.sampled_from(["", " ", "  ", "\t", " \t "])
_INT = st.integers(min_value=-(10**19), max_value=10**19).map(str)
_FLOAT = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(lambda f: f"{f:.17e}"),
    st.tuples(
        st.sampled_from(["", "-"]),
        st.sampled_from(["0", "1", "9", "12345678901234567890123"]),
        st.sampled_from(["", ".5", ".0", ".1000000000000000055511151231257827", ".999"]),
        st.sampled_from(["", "e5", "E-3", "e+308", "e-320", "E0", "e400"]),
    ).map("".join),
    _INT,
)
_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=8)  # any, quoted by json
_PLAIN_TEXT = st.text(  # what json.dumps writes as it is
    st.characters(exclude_categories=("Cs", "Cc"), exclude_characters='"\\'), max_size=8
)
_STRING = st.one_of(
    _PLAIN_TEXT.map(lambda s: json.dumps(s, ensure_ascii=False)),
    _PLAIN_TEXT.map(lambda s: json.dumps(s, ensure_ascii=False)),
    _TEXT.map(json.dumps),  # \u escapes, \" and \\ among them
)
_BOOL = st.sampled_from(["true", "false"])
_TOKENS = {"i": _INT, "f": _FLOAT, "s": _STRING, "b": _BOOL}
_ODD = st.sampled_from(
    ["null", "[1]", '{"x": 1}', "01", "1.", ".5", "+1", "1e", "-", "tru", '"\\"']
)


@st.composite
def _line(draw: st.DrawFn, names: list[str]) -> str:
    """One line of the shape ``names`` (kinds by their first letter), spelled in any way
    JSON allows, sometimes with a field of another kind, repeated, missing or new."""
    fields = list(names)
    if draw(st.booleans()):
        fields = draw(st.permutations(fields))
    change = draw(st.integers(0, 100))
    if change == 0 and fields:
        fields.pop()
    elif change == 1:
        fields.append("snew")  # a string field the first line lacks
    elif change == 2 and fields:
        fields.append(fields[0])
    parts = []
    for name in fields:
        if change == 3:
            token = draw(_ODD)
        elif change == 4:
            token = draw(st.one_of(*_TOKENS.values()))
        else:
            token = draw(_TOKENS[name[0]])
        key = json.dumps(name, ensure_ascii=draw(st.booleans()))
        parts.append(f"{draw(_SPACE)}{key}{draw(_SPACE)}:{draw(_SPACE)}{token}{draw(_SPACE)}")
    return "{" + ",".join(parts) + "}" + draw(st.sampled_from(["", "", " ", "\r"]))


_NAMES = st.lists(
    st.sampled_from(["i", "f", "s", "b", "ié", "s\u6771", "i2", "f\\x", 's"q']),
    min_size=1,
    max_size=5,
    unique=True,
)


def _reference(data: bytes) -> list[dict[str, object]]:
    lines = data.decode("utf-8").split("\n")
    if data.endswith(b"\n"):
        lines.pop()
    return [json.loads(line) for line in lines]


def test_the_scan_is_the_records_table_or_nothing() -> None:
    taken: list[int] = []

    @settings(max_examples=600, deadline=None)
    @given(_NAMES.flatmap(lambda names: st.lists(_line(names), max_size=10)), st.booleans())
    def check(lines: list[str], end: bool) -> None:
        if not lines:
            return
        data = ("\n".join(lines) + ("\n" if end else "")).encode("utf-8")
        try:
            first = json.loads(lines[0])
        except ValueError:
            return  # the scan takes its shape from a first record; jsonl_table checks that
        if not isinstance(first, dict):
            return
        table = scan_table(data, first)
        if table is None:
            return
        records = _reference(data)
        taken.append(len(records))
        assert table.equals(records_table(records)), (data, table.to_pylist())
        assert table.to_pylist() == records

    check()
    assert len(taken) >= 40 and max(taken) >= 5, taken  # the scan takes the common case


@pytest.mark.parametrize(
    "line",
    [
        b'{"a": 1, "s": null}',  # a null: the careful way types the column
        b'{"a": 1}',  # a field missing
        b'{"a": 1, "s": "x", "t": 2}',  # a field the first line lacks
        b'{"a": 1, "a": 2, "s": "x"}',  # a field twice
        b'{"a": 1, "s": "x\\"y"}',  # an escape
        b'{"a": 1, "s": "x\ty"}',  # a raw control character: not JSON
        b'{"a": 1, "s": "\xff"}',  # not UTF-8
        b'{"a": 1, "s": "\xed\xa0\x80"}',  # a UTF-8 surrogate: not UTF-8 either
        b'{"a": 1.5, "s": "x"}',  # another kind of number
        b'{"a": 01, "s": "x"}',
        b'{"a": 1234567890123456789, "s": "x"}',  # 19 digits: int64 or not, the careful way
        b'{"a": 1, "s": "x"} {"a": 2, "s": "y"}',  # two objects on a line
        b'{"a": 1, "s": "x"',  # no end
        b'{"a": 1, "s": "x}',
        b"",  # a blank line
        b"   ",
        b"[1, 2]",
    ],
)
def test_the_scan_refuses_what_it_is_not_sure_of(line: bytes) -> None:
    data = b'{"a": 1, "s": "x"}\n' + line + b'\n{"a": 3, "s": "z"}\n'
    assert scan_table(data, {"a": 1, "s": "x"}) is None


@pytest.mark.parametrize("token", [b"-0", b"1e400", b"-1E999"])
def test_floats_where_a_parser_has_a_choice_go_the_careful_way(token: bytes) -> None:
    data = b'{"f": 0.5}\n{"f": ' + token + b"}\n"
    assert scan_table(data, {"f": 0.5}) is None


def test_the_scan_reads_every_spelling_json_allows() -> None:
    data = (
        '{"i": 1, "f": 0.5, "s": "x", "b": true}\n'
        '{ "b" :false,"s":"é 東京 😀","f":-2E-3 , "i":-0 }\r\n'
        '\t{"i": 123456789012345678, "f": 1e5, "s": "", "b": true}  \n'
        '{"s": "a", "i": -7, "b": false, "f": 3}'  # no newline at the end
    ).encode()
    table = scan_table(data, {"i": 1, "f": 0.5, "s": "x", "b": True})
    assert table is not None
    assert table.to_pylist() == _reference(data)
    assert table.equals(records_table(_reference(data)))


def test_the_scan_is_what_jsonl_table_gives_on_a_large_random_chunk() -> None:
    rng = random.Random(7)
    words = ["/", "/api/items/42", "/søk?q=ø", "/東京", "/e\u0301", "/a b", ""]
    lines = []
    for n in range(50_000):
        record = {
            "ts": 1.7e9 + rng.random() * 1000,
            "status": rng.choice([200, 200, 404, 500]),
            "path": rng.choice(words),
            "bytes": rng.randrange(10**7) - (n % 3),
            "ok": rng.random() < 0.9,
        }
        lines.append(json.dumps(record, ensure_ascii=False))
    data = ("\n".join(lines) + "\n").encode()
    first = json.loads(lines[0])
    records = _reference(data)
    table = scan_table(data, first)
    assert table is not None and table.num_rows == 50_000
    assert table.equals(records_table(records))
    assert table.equals(jsonl_table(data))


def test_a_record_of_more_fields_than_the_scan_tracks_goes_the_other_way() -> None:
    wide = {f"f{i}": i for i in range(70)}  # the scan marks the fields seen in one int64
    data = (json.dumps(wide) + "\n" + json.dumps(wide) + "\n").encode()
    assert scan_table(data, wide) is None
    assert jsonl_table(data).equals(records_table([wide, wide]))
