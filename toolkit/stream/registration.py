"""Registering toolkit nodes on ``streamz.Stream``, never over a name streamz already has."""

from __future__ import annotations

from typing import Any

from streamz import Stream

__all__ = ["register_node"]


def register_node(cls: type, modifier: Any = None) -> type:
    """Register ``cls`` as ``Stream.<name>`` (with ``staticmethod`` for sources).

    Raises
    ------
    RuntimeError
        If streamz (or anyone but this module of ours) already has that name.
    """
    name = cls.__name__
    existing = getattr(getattr(Stream, name, None), "__wrapped__", getattr(Stream, name, None))
    ours = getattr(existing, "__module__", None) == cls.__module__  # a re-import of ours
    if existing is not None and not ours:
        raise RuntimeError(f"streamz.Stream already has {name!r}; toolkit will not replace it")
    if modifier is None:
        Stream.register_api()(cls)
    else:
        Stream.register_api(modifier)(cls)
    return cls
