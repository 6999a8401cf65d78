"""What flows through a stream (``toolkit/stream/messages.py``): late events, batches carrying
their accounting to what the worker sends back, results as JSON objects and frames."""

from __future__ import annotations

import json

from toolkit.stream.messages import (
    KeyedWindowResult,
    Late,
    PaneBatch,
    SessionBatch,
    SessionResult,
    WindowResult,
    number,
    to_frame,
)


def test_late_events_are_kept_by_the_point_they_came_at() -> None:
    late = Late()
    for line, closed in (("a", 5), ("b", 5), ("c", 7)):
        late.add(line, closed)
    assert len(late) == 3 and late.lines == ["a", "b", "c"] and late.due == {5: 2, 7: 1}


def test_what_a_worker_sends_back_carries_the_batch_s_accounting() -> None:
    batch = PaneBatch(text={1: "x"}, lines={1: 1}, bad=2, bad_lines=["?"], boundary=0, end=True)
    batch.late_events.add("old", 0)
    for back in (batch.counted({}), batch.folded({})):
        assert (back.lines, back.bad, back.bad_lines, back.boundary, back.end, back.late) == (
            {1: 1}, 2, ["?"], 0, True, 1
        )  # fmt: skip
    assert batch.run(lambda b: b.lines) == {1: 1} and batch.settle("as is", print) == "as is"


def test_a_session_batch_cut_adds_the_worker_s_bad_records() -> None:
    from toolkit.jobs.records import BadRecords

    bad = BadRecords()
    bad.add("{oops", "invalid JSON")
    parts = SessionBatch(text=["a"], bad=1, watermark=9.0).cut({"k": []}, bad)
    assert parts.bad == 2 and parts.bad_lines == ["{oops"] and parts.watermark == 9.0


def test_results_are_json_objects() -> None:
    keyed = KeyedWindowResult(0, 1.5, 3, 2, [("a", 2), (404, 1)], late=0, final=True)
    assert keyed.to_dict() == {
        "start": 0, "end": 1.5, "records": 3, "keys": 2, "results": [["a", 2], [404, 1]],
        "late": 0, "final": True,
    }  # fmt: skip
    session = SessionResult("u", 1.0, 31.0, 4, 4)
    assert json.loads(json.dumps(session.to_dict())) == {
        "key": "u", "start": 1, "end": 31, "records": 4, "value": 4
    }  # fmt: skip
    assert (number(2.0), number(0.1234567), number(7)) == (2, 0.123457, 7)


def test_results_as_a_frame() -> None:
    words = to_frame([WindowResult(0, 10, 3, 5, [("a", 3)])])
    assert list(words.columns) == ["start", "end", "lines", "words", "top"]
    keyed = to_frame([SessionResult("u", 0, 5, 1, 1), SessionResult("v", 1, 6, 2, 2)])
    assert list(keyed["key"]) == ["u", "v"] and list(keyed["value"]) == [1, 2]
    assert to_frame([]).empty


def test_every_result_says_how_it_is_rows_and_pairs() -> None:
    window = WindowResult(0, 10, 3, 5, [("a", 4), ("b", 1)], late=2)
    keyed = KeyedWindowResult(0, 10, 3, 2, [(200, 7), (404, 1)])
    session = SessionResult({"user": 1}, 0, 31, 4, 9)
    for result in (window, keyed, session):
        doc = result.to_dict()
        rows = result.rows(times=False)
        assert [row["start"] for row in rows] == [doc["start"]] * len(rows)
        assert [tuple(p) for p in result.pairs()] == [
            (r.get("word", r.get("key")), r.get("count", r.get("value"))) for r in rows
        ]
    assert window.rows(times=True)[0]["start"].isoformat() == "1970-01-01T00:00:00+00:00"
    assert window.rows(times=False)[1] == {
        "start": 0, "end": 10, "word": "b", "count": 1, "lines": 3, "words": 5, "late": 2
    }  # fmt: skip
    assert session.one_key and not window.one_key and not keyed.one_key


def test_result_json_shape() -> None:
    assert WindowResult(0, 10.5, 2, 3, [("a", 2), ("b", 1)], late=1).to_dict() == {
        "start": 0,
        "end": 10.5,
        "lines": 2,
        "words": 3,
        "top": [["a", 2], ["b", 1]],
        "late": 1,
    }
