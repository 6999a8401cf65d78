"""The HTTP source, fed by real POST requests over loopback."""

from __future__ import annotations

import http.client
import json
from typing import Any

from tests.stream.sources.collector import Collector
from toolkit.stream.sources import parse_source


def test_http_source_accepts_posts_and_refuses_big_bodies() -> None:
    source = parse_source("http://127.0.0.1:0/ingest")
    source.max_body_bytes = 1000
    c = Collector(source)
    assert c.listening.wait(10)
    port = int(source.address.split(":")[2].split("/")[0])

    def post(path: str, body: bytes) -> tuple[int, Any]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("POST", path, body=body)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp.status, json.loads(data)

    assert post("/ingest", b"a b\nc \xff\nd") == (200, {"accepted": 2, "bad": 1})
    assert post("/ingest", b"x" * 2000)[0] == 413
    assert post("/elsewhere", b"x\n")[0] == 404
    c.wait_for(lambda: len(c.lines) == 2)
    c.finish()
    assert c.lines == ["a b", "d"]
