"""Pane sizes (``toolkit/stream/panes.py``): windows as whole numbers of panes."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from toolkit.errors import ConfigError
from toolkit.stream.panes import count_pane_sizes, time_pane_sizes


@given(size=st.integers(1, 10_000), every=st.integers(1, 10_000))
def test_count_windows_are_whole_panes(size: int, every: int) -> None:
    pane, window, step = count_pane_sizes(size, every)
    assert pane * window == size and pane * step == every
    assert math.gcd(window, step) == 1  # the largest pane that both are made of


@pytest.mark.parametrize(("length", "slide", "expected"), [(60, 10, (10, 6)), (1.5, 0.5, (0.5, 3))])
def test_time_windows_are_whole_slides(length: float, slide: float, expected: object) -> None:
    assert time_pane_sizes(length, slide) == expected


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: count_pane_sizes(0), "count window size must be a positive int; got 0"),
        (lambda: count_pane_sizes(5, True), "count window every must be a positive int"),
        (lambda: time_pane_sizes(10, 3), "whole multiple of the slide; got 10s and 3s"),
        (lambda: time_pane_sizes(-1), "must be positive"),
        (lambda: time_pane_sizes(5, 10), "whole multiple"),
    ],
)
def test_bad_sizes_say_what_was_wrong(call: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        call()  # type: ignore[operator]
