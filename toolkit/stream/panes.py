"""Pane sizes: a window kind's options as panes, the unit every window is made of.

Count windows of ``size`` lines emitted every ``every`` lines use panes of
``gcd(size, every)`` lines; time windows of ``length`` seconds sliding by
``slide`` use panes of one slide.
"""

from __future__ import annotations

import math

from toolkit.errors import ConfigError

__all__ = ["count_pane_sizes", "time_pane_sizes"]


def count_pane_sizes(size: int, every: int | None = None) -> tuple[int, int, int]:
    """Pane size in lines, window panes and every-panes for count windows.

    Examples
    --------
    >>> count_pane_sizes(10, 4)
    (2, 5, 2)
    >>> count_pane_sizes(100)
    (100, 1, 1)
    """
    every = size if every is None else every
    for name, value in (("count window size", size), ("count window every", every)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{name} must be a positive int; got {value!r}")
    g = math.gcd(size, every)
    return g, size // g, every // g


def time_pane_sizes(length: float, slide: float | None = None) -> tuple[float, int]:
    """Pane length in seconds and panes per window; ``length`` must be a multiple of ``slide``.

    Examples
    --------
    >>> time_pane_sizes(60, 10)
    (10, 6)
    >>> time_pane_sizes(0.5)
    (0.5, 1)
    """
    slide = length if slide is None else slide
    if not length > 0 or not slide > 0:
        raise ConfigError(f"window length and slide must be positive; got {length!r}, {slide!r}")
    ratio = length / slide
    if abs(ratio - round(ratio)) > 1e-9 or round(ratio) < 1:
        raise ConfigError(
            f"window length must be a whole multiple of the slide; got {length:g}s and {slide:g}s"
        )
    return slide, round(ratio)
