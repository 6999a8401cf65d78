"""The clusters a stream test runs on: in this process (``local``), an in-process cluster, and
real ``dask scheduler`` / ``dask worker`` subprocesses."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["local", "inprocess", "subprocess"])
def stream_client(request: pytest.FixtureRequest) -> object:
    if request.param == "inprocess":
        return request.getfixturevalue("inprocess_client")
    if request.param == "subprocess":
        return request.getfixturevalue("real_client")
    return None
