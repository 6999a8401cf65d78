"""How a key's values fold: a reducer ``(a, b) -> value``, or a combiner (like Beam's CombineFn).

A *combiner* has four methods: ``zero()`` a fresh accumulator, ``fold(acc,
value)`` one more value of the key, ``merge(a, b)`` two accumulators of the same
key (it may change and return ``a``, never ``b``), ``finish(acc)`` the result
written.  A reducer is the simple case: the accumulator is the value itself,
folding and merging are the reducer, and finishing is nothing.
:class:`Combining` gives both the one shape the keyed folds use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from toolkit.errors import ConfigError

__all__ = ["USER_MODULE_PREFIX", "Combiner", "Combining", "Mean", "combining", "function_name"]

#: The module name prefix of a user's file loaded by name (``job.py`` -> ``toolkit_user_job``).
USER_MODULE_PREFIX = "toolkit_user_"


@runtime_checkable
class Combiner(Protocol):
    """What a combiner object has (any object with these four methods will do)."""

    def zero(self) -> Any: ...

    def fold(self, acc: Any, value: Any) -> Any: ...

    def merge(self, a: Any, b: Any) -> Any: ...

    def finish(self, acc: Any) -> Any: ...


def function_name(func: Any) -> str:
    """``module.qualname`` of a user's function or object, for messages.

    Examples
    --------
    >>> import operator
    >>> function_name(operator.add)
    '_operator.add'
    """
    target = func if hasattr(func, "__qualname__") else type(func)
    module = getattr(target, "__module__", None) or "?"
    name = getattr(target, "__qualname__", repr(func))
    if module.startswith(USER_MODULE_PREFIX):  # loaded from a file: named as on the command line
        return f"{module.removeprefix(USER_MODULE_PREFIX)}.py:{name}"
    return f"{module}.{name}"


@dataclass(frozen=True)
class Combining:
    """A reducer or a combiner, as the keyed folds call it (pure; pickled to workers).

    Examples
    --------
    >>> add = combining(lambda a, b: a + b)
    >>> add.finish(add.fold(add.start(1), 2))
    3
    >>> mean = combining(Mean())
    >>> mean.finish(mean.merge(mean.start(1.0), mean.start(2.0)))
    1.5
    """

    reducer: Callable[[Any, Any], Any] | None = None
    combiner: Any = None

    @property
    def name(self) -> str:
        """Whose code this is, for messages: ``reducer m.f`` or ``combiner m.C``."""
        if self.combiner is not None:
            return f"combiner {function_name(self.combiner)}"
        return f"reducer {function_name(self.reducer)}"

    def codes(self) -> list[Any]:
        """The code objects of the user's functions (to tell their failures apart)."""
        if self.combiner is not None:
            methods = (getattr(self.combiner, m, None) for m in ("zero", "fold", "merge", "finish"))
            return [getattr(m, "__code__", None) for m in methods]
        return [getattr(self.reducer, "__code__", None)]

    def start(self, value: Any) -> Any:
        """The accumulator of a key's first value."""
        if self.combiner is not None:
            return self.combiner.fold(self.combiner.zero(), value)
        return value

    def fold(self, acc: Any, value: Any) -> Any:
        """``acc`` with one more value."""
        if self.combiner is not None:
            return self.combiner.fold(acc, value)
        return self.reducer(acc, value)  # type: ignore[misc]

    def folder(self) -> Callable[[Any, Any], Any]:
        """:meth:`fold` as the user's own function, without this object's dispatch (hot loops)."""
        if self.combiner is not None:
            return self.combiner.fold
        assert self.reducer is not None
        return self.reducer

    def merge(self, a: Any, b: Any) -> Any:
        """Two accumulators of one key as one (``b`` is left as it was)."""
        if self.combiner is not None:
            return self.combiner.merge(a, b)
        return self.reducer(a, b)  # type: ignore[misc]

    def copy(self, acc: Any) -> Any:
        """A fresh accumulator equal to ``acc``, to merge others into without changing it."""
        if self.combiner is not None:
            return self.combiner.merge(self.combiner.zero(), acc)
        return acc  # a reducer's values are values: it returns new ones

    def finish(self, acc: Any) -> Any:
        """The result of an accumulator."""
        if self.combiner is not None:
            return self.combiner.finish(acc)
        return acc


def combining(how: Any) -> Combining:
    """A :class:`Combining` for a reducer function, a combiner object, or a combiner class.

    A class is instantiated with no arguments.

    Raises
    ------
    ConfigError
        ``how`` is neither.
    """
    if isinstance(how, Combining):
        return how
    if isinstance(how, type):
        try:
            how = how()
        except Exception as exc:
            raise ConfigError(
                f"cannot make a combiner of {function_name(how)}(): {type(exc).__name__}: {exc}"
            ) from None
    if isinstance(how, Combiner):
        return Combining(combiner=how)
    if callable(how):
        return Combining(reducer=how)
    raise ConfigError(
        "a reducer must be a function (a, b) -> value, or a combiner an object with "
        f"zero/fold/merge/finish; got {type(how).__name__}"
    )


class Mean:
    """A combiner of the mean of a key's values: the example of a job a reducer cannot do.

    Examples
    --------
    >>> m = Mean()
    >>> m.finish(m.merge(m.fold(m.zero(), 1), m.fold(m.fold(m.zero(), 2), 6)))
    3.0
    """

    def zero(self) -> list[float]:
        return [0.0, 0]

    def fold(self, acc: list[float], value: float) -> list[float]:
        acc[0] += value
        acc[1] += 1
        return acc

    def merge(self, a: list[float], b: list[float]) -> list[float]:
        a[0] += b[0]
        a[1] += b[1]
        return a

    def finish(self, acc: list[float]) -> float:
        return acc[0] / acc[1] if acc[1] else float("nan")
