"""A package's public names loaded on first use (PEP 562): its API without its imports' cost."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any

__all__ = ["lazy_names"]


def lazy_names(
    package: str, homes: dict[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A module's ``__getattr__`` and ``__dir__`` for ``package``: each name of ``homes`` is
    imported from its home module on first use, and listed by ``dir()`` before (as tools
    that list a module's members, like Sphinx's autodoc, look there).

    Examples
    --------
    >>> getattr_, dir_ = lazy_names("json", {"a_name": "json"})
    >>> getattr_("dumps")
    Traceback (most recent call last):
    ...
    AttributeError: module 'json' has no attribute 'dumps'
    >>> "a_name" in dir_() and "loads" in dir_()
    True
    """

    def __getattr__(name: str) -> Any:
        if name in homes:
            return getattr(importlib.import_module(homes[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(homes))

    return __getattr__, __dir__
