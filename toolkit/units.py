"""Parsing of human-written sizes (``64MiB``) and durations (``500ms``)."""

from __future__ import annotations

import re

from toolkit.errors import ConfigError

__all__ = ["parse_duration", "parse_size"]

_SIZE_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "m": 1000**2,
    "mb": 1000**2,
    "g": 1000**3,
    "gb": 1000**3,
    "t": 1000**4,
    "tb": 1000**4,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "tib": 1024**4,
}
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-zA-Z]*)\s*$")

_DURATION_UNITS = {"": 1.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "m": 60.0, "min": 60.0, "h": 3600.0}
_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)\s*$")


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
        m = _SIZE_RE.match(str(value))
        unit = m.group(2).lower() if m else ""
        if not m or unit not in _SIZE_UNITS:
            raise ConfigError(
                f"size must look like 64MiB, 512KiB, 1GB or a number of bytes; got {value!r}"
            )
        n = int(float(m.group(1)) * _SIZE_UNITS[unit])
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
        m = _DURATION_RE.match(str(value).lower())
        if not m or m.group(2) not in _DURATION_UNITS:
            raise ConfigError(
                f"duration must look like 500ms, 10s, 5m, 1h or a number of seconds; got {value!r}"
            )
        seconds = float(m.group(1)) * _DURATION_UNITS[m.group(2)]
    if not seconds > 0:
        raise ConfigError(f"duration must be positive, like 500ms, 10s, 5m or 1h; got {value!r}")
    return seconds
