"""Loading user functions named on the command line: ``pkg.module:func`` or ``file.py:func``."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import sysconfig
from collections.abc import Callable
from types import ModuleType
from typing import Any

from toolkit.errors import ConfigError
from toolkit.jobs.combining import USER_MODULE_PREFIX

__all__ = ["load_function", "load_object"]


def _installed(module: ModuleType) -> bool:
    path = getattr(module, "__file__", None) or ""
    roots = {sysconfig.get_paths()[k] for k in ("purelib", "platlib", "stdlib")}
    return any(os.path.abspath(path).startswith(os.path.abspath(r)) for r in roots)


def load_function(spec: str) -> Callable[..., Any]:
    """Load ``module:function`` or ``path/to/file.py:function``.

    As :func:`load_object`, and the object must be callable.

    Examples
    --------
    >>> load_function("operator:add")(2, 3)
    5
    """
    func = load_object(spec)
    if not callable(func):
        raise ConfigError(f"{spec!r} is not callable")
    return func


def load_object(spec: str) -> Any:
    """Load ``module:name`` or ``path/to/file.py:name`` (a function, a class, an object).

    Functions from a file, or from a module that is not installed (found via
    the current directory), are registered with cloudpickle to be shipped to
    workers by value, so workers need not have the file.

    Raises
    ------
    ConfigError
        The spec is malformed, the module cannot be imported, or the name is
        missing or not callable.

    Examples
    --------
    >>> load_object("toolkit.jobs:Mean")().finish([3.0, 2])
    1.5
    """
    import cloudpickle

    module_part, sep, attr = spec.rpartition(":")
    if not sep or not module_part or not attr:
        raise ConfigError(f"function must look like 'module:name' or 'file.py:name'; got {spec!r}")
    try:
        if module_part.endswith(".py") or os.sep in module_part:
            path = os.path.abspath(module_part)
            if not os.path.isfile(path):
                raise ConfigError(f"no such file: {module_part!r} (in {spec!r})")
            name = USER_MODULE_PREFIX + os.path.splitext(os.path.basename(path))[0]
            loader_spec = importlib.util.spec_from_file_location(name, path)
            if loader_spec is None or loader_spec.loader is None:
                raise ConfigError(f"cannot load Python file {module_part!r}")
            module = importlib.util.module_from_spec(loader_spec)
            sys.modules[name] = module
            loader_spec.loader.exec_module(module)
        else:
            if os.getcwd() not in sys.path and "" not in sys.path:
                sys.path.insert(0, os.getcwd())
            module = importlib.import_module(module_part)
    except ConfigError:
        raise
    except Exception as exc:
        raise ConfigError(f"cannot import {module_part!r}: {type(exc).__name__}: {exc}") from None
    func: Any = module
    for part in attr.split("."):
        func = getattr(func, part, None)
        if func is None:
            raise ConfigError(f"{module_part!r} has no attribute {attr!r}")
    if not _installed(module):
        cloudpickle.register_pickle_by_value(module)
    return func
