"""How a user's code travels to the workers: objects that hold it pickle with cloudpickle.

dask.distributed pickles a task with plain pickle, which sends classes and
functions by reference: the workers would need the user's file.  An object
that holds user code subclasses :class:`ByValue`, and pickles itself with
cloudpickle, which sends the functions of a user's file (registered by
:func:`toolkit.load_function`) by value.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ByValue"]


class ByValue:
    """Pickled with cloudpickle, class and state (also frozen dataclasses).

    Examples
    --------
    >>> import pickle
    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Holder(ByValue):
    ...     func: Any
    >>> pickle.loads(pickle.dumps(Holder(lambda x: x + 1))).func(1)
    2
    """

    def __reduce__(self) -> tuple[Any, ...]:
        import cloudpickle

        return (_rebuild, (cloudpickle.dumps((type(self), self.__dict__)),))


def _rebuild(payload: bytes) -> Any:
    """An object from :meth:`ByValue.__reduce__`, on a worker."""
    import cloudpickle

    cls, state = cloudpickle.loads(payload)
    obj = object.__new__(cls)
    obj.__dict__.update(state)  # also for frozen dataclasses, which forbid setattr
    return obj
