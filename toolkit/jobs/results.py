"""A user job's results as they are written: JSON-able keys and values, in a defined order.

Keys and values must be JSON-serialisable (tuples are written as lists);
anything else is a :class:`~toolkit.errors.JobError` naming the key and the
type.  Results are ordered by value descending, then key ascending, when every
value is a number, else by key ascending; keys compare by their JSON text, so
keys of different types still have one order.
"""

from __future__ import annotations

import json
import math
from collections.abc import Hashable, Mapping
from typing import Any

from toolkit.errors import JobError

__all__ = ["is_number", "json_text", "ordered_results"]


def is_number(value: Any) -> bool:
    """Whether ``value`` is a number that ranks (an int or a finite float, not a bool)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and math.isfinite(value)


def json_text(value: Any, what: str = "value") -> str:
    """The JSON text of ``value`` (tuples as lists), or a :class:`JobError` saying why not.

    Examples
    --------
    >>> json_text(("a", 1))
    '["a", 1]'
    >>> json_text({1, 2}, "key")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    toolkit.errors.JobError: key {1, 2} is a set, which JSON cannot hold: ...
    """
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(", ", ": "))
    except (TypeError, ValueError) as exc:
        bad = _unjsonable(value)
        kind = type(bad).__name__
        if isinstance(exc, ValueError):
            raise JobError(f"{what} {value!r:.80} holds {bad!r}, which JSON cannot hold") from None
        raise JobError(
            f"{what} {value!r:.80} is a {kind}, which JSON cannot hold: return str, int, "
            "float, bool, None, or lists/tuples/dicts of them"
        ) from None


def _unjsonable(value: Any) -> Any:
    """The innermost part of ``value`` that JSON cannot write."""
    if isinstance(value, list | tuple):
        for item in value:
            try:
                json.dumps(item, allow_nan=False)
            except (TypeError, ValueError):
                return _unjsonable(item)
    if isinstance(value, dict):
        for k, item in value.items():
            try:
                json.dumps({k: item}, allow_nan=False)
            except (TypeError, ValueError):
                return _unjsonable(item) if isinstance(k, str | int | float | bool) else k
    return value


def ordered_results(results: Mapping[Hashable, Any], top: int = 0) -> list[tuple[Any, Any]]:
    """``(key, value)`` pairs in the written order; ``top`` > 0 keeps the first ``top``.

    ``top`` needs numeric values (a ranking of anything else has no meaning).

    Examples
    --------
    >>> ordered_results({"b": 2, "a": 2, "c": 5})
    [('c', 5), ('a', 2), ('b', 2)]
    >>> ordered_results({"b": [1], 3: "x"})
    [('b', [1]), (3, 'x')]
    """
    texts = {key: json_text(key, "key") for key in results}
    values = list(results.values())
    for key, value in results.items():
        json_text(value, f"the value of key {texts[key]}:")
    if values and all(is_number(v) for v in values):
        pairs = sorted(results.items(), key=lambda kv: (-kv[1], texts[kv[0]]))
    else:
        if top and values:
            bad = next(v for v in values if not is_number(v))
            raise JobError(
                f"--top ranks numbers, but a value is {bad!r:.80} ({type(bad).__name__}); "
                "leave --top out to write every key"
            )
        pairs = sorted(results.items(), key=lambda kv: texts[kv[0]])
    return pairs[:top] if top else pairs
