"""SOURCE arguments that name no source are one clear error."""

from __future__ import annotations

import pytest

from toolkit.errors import ConfigError
from toolkit.stream.sources import parse_source


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("tcp://127.0.0.1", "needs a port"),
        ("ftp://x:1", "unknown source"),
        ("/no/such/file", "no such file"),
        ("demo:?rate=fast", "demo source takes"),
    ],
)
def test_bad_sources(spec: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_source(spec)
