"""Registering nodes on ``streamz.Stream`` (``toolkit/stream/registration.py``)."""

from __future__ import annotations

import pytest
from streamz import Stream

import toolkit.stream  # noqa: F401  (registers the toolkit's nodes)
from toolkit.stream.registration import register_node


def test_the_toolkit_nodes_are_on_stream() -> None:
    for name in ("assign_panes", "count_panes", "pane_window", "from_lines"):
        assert hasattr(Stream, name), name


def test_a_name_streamz_has_is_never_replaced() -> None:
    class sliding_window(Stream):  # streamz's own node of that name
        pass

    original = Stream.sliding_window
    with pytest.raises(RuntimeError, match="already has 'sliding_window'"):
        register_node(sliding_window)
    assert Stream.sliding_window is original


def test_registering_ours_again_is_harmless() -> None:
    from toolkit.stream.nodes import pane_window

    assert register_node(pane_window) is pane_window
