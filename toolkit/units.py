"""Parsing of human-written sizes (``64MiB``) and durations (``500ms``).

dask's parsers do the parsing (``dask.utils.parse_bytes``, ``parse_timedelta``), so
a size or a duration means here what it means in dask's own configuration; what
is added is a clear error, values that must be positive, and ``min`` for minutes.
"""

from __future__ import annotations

import re
from typing import Any

from toolkit.errors import ConfigError

__all__ = ["parse_duration", "parse_size"]

_NUMBER_FIRST = re.compile(r"^\s*(\d|\.\d)")


def _dask_utils() -> Any:
    """dask's parsers of sizes and durations (imported when a value is parsed, not before)."""
    import dask.utils

    return dask.utils


def parse_size(value: str | int) -> int:
    """Parse a byte size such as ``64MiB``, ``512KiB``, ``1GB`` or ``1048576``.

    Decimal units (kB, MB, GB) are powers of 1000, binary ones (KiB, MiB, GiB)
    powers of 1024; units are case-insensitive.

    Parameters
    ----------
    value
        The size as written by a user, or an int of bytes.

    Returns
    -------
    int
        The number of bytes (at least 1).

    Raises
    ------
    ConfigError
        If the value is not a positive size.

    Examples
    --------
    >>> parse_size("64MiB")
    67108864
    >>> parse_size("1GB")
    1000000000
    >>> parse_size(4096)
    4096
    """
    if isinstance(value, bool):
        raise ConfigError(f"size must be a positive number of bytes; got {value!r}")
    if isinstance(value, int):
        n = value
    else:
        text = str(value)
        try:  # dask's units: kB, MB, GB (powers of 1000), KiB, MiB, GiB (of 1024)
            if not _NUMBER_FIRST.match(text):
                raise ValueError(text)
            n = int(_dask_utils().parse_bytes(text))
        except (ValueError, KeyError, IndexError):
            raise ConfigError(
                f"size must look like 64MiB, 512KiB, 1GB or a number of bytes; got {value!r}"
            ) from None
    if n <= 0:
        raise ConfigError(f"size must be a positive number of bytes; got {value!r}")
    return n


def parse_duration(value: str | float) -> float:
    """Parse a duration such as ``500ms``, ``10s``, ``5m``, ``1h`` or ``2.5`` (seconds).

    Parameters
    ----------
    value
        The duration as written by a user, or a number of seconds.

    Returns
    -------
    float
        The duration in seconds (greater than 0).

    Raises
    ------
    ConfigError
        If the value is not a positive duration.

    Examples
    --------
    >>> parse_duration("500ms")
    0.5
    >>> parse_duration("5m")
    300.0
    >>> parse_duration(2)
    2.0
    """
    if isinstance(value, bool):
        raise ConfigError(f"duration must be positive, like 500ms, 10s, 5m or 1h; got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        text = str(value).strip()
        if text.lower().endswith("min"):  # dask has m, minute and minutes, not min
            text = text[:-3] + "m"
        try:
            if not _NUMBER_FIRST.match(text):
                raise ValueError(text)
            seconds = float(_dask_utils().parse_timedelta(text, default="seconds"))
        except (ValueError, KeyError, IndexError, TypeError):
            raise ConfigError(
                f"duration must look like 500ms, 10s, 5m, 1h or a number of seconds; got {value!r}"
            ) from None
    if not seconds > 0:
        raise ConfigError(f"duration must be positive, like 500ms, 10s, 5m or 1h; got {value!r}")
    return seconds
