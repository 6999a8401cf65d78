from __future__ import annotations

import pytest

from toolkit.errors import ConfigError
from toolkit.units import parse_duration, parse_size


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("64MiB", 64 * 2**20),
        ("512KiB", 512 * 1024),
        ("1GB", 10**9),
        ("1048576", 2**20),
        ("1.5kb", 1500),
        (" 2 mib ", 2 * 2**20),
        (7, 7),
    ],
)
def test_parse_size(text: str | int, expected: int) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize("bad", ["", "0", "-1MB", "12 parsecs", "MB", True, 0])
def test_parse_size_rejects(bad: object) -> None:
    with pytest.raises(ConfigError, match="size must"):
        parse_size(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("500ms", 0.5), ("10s", 10.0), ("5m", 300.0), ("1h", 3600.0), ("2.5", 2.5), (3, 3.0)],
)
def test_parse_duration(text: str | float, expected: float) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("bad", ["", "0s", "-1s", "soon", "5 fortnights", 0, False])
def test_parse_duration_rejects(bad: object) -> None:
    with pytest.raises(ConfigError, match="duration must"):
        parse_duration(bad)  # type: ignore[arg-type]
