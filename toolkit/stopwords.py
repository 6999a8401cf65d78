"""Stopword lists: the built-in English list, or a file of one word per line."""

from __future__ import annotations

import os
from collections.abc import Iterable

from toolkit.errors import ConfigError, InputError

__all__ = ["ENGLISH", "load_stopwords"]

ENGLISH: frozenset[str] = frozenset(
    """
    a about above after again against all am an and any are aren't as at be because been before
    being below between both but by can can't cannot could couldn't did didn't do does doesn't
    doing don't down during each few for from further had hadn't has hasn't have haven't having
    he he'd he'll he's her here here's hers herself him himself his how how's i i'd i'll i'm i've
    if in into is isn't it it's its itself let's me more most mustn't my myself no nor not of off
    on once only or other ought our ours ourselves out over own same shan't she she'd she'll
    she's should shouldn't so some such than that that's the their theirs them themselves then
    there there's these they they'd they'll they're they've this those through to too under until
    up very was wasn't we we'd we'll we're we've were weren't what what's when when's where
    where's which while who who's whom why why's will with won't would wouldn't you you'd you'll
    you're you've your yours yourself yourselves
    """.split()
)


def load_stopwords(
    spec: str | os.PathLike[str] | Iterable[str] | None, *, lowercase: bool = True
) -> frozenset[str] | None:
    """Resolve a stopword spec: ``None``, ``"english"``, a file path, or words.

    A file holds one word per line; blank lines and lines starting with ``#``
    are ignored.  With ``lowercase``, the words are lowercased like the text.

    Examples
    --------
    >>> "the" in load_stopwords("english")
    True
    >>> sorted(load_stopwords(["The", "A"]))
    ['a', 'the']
    """
    if spec is None:
        return None
    if isinstance(spec, str) and spec == "english":
        words: Iterable[str] = ENGLISH
    elif isinstance(spec, str | os.PathLike):
        path = os.fspath(spec)
        try:
            with open(path, encoding="utf-8") as f:
                words = [w.strip() for w in f if w.strip() and not w.lstrip().startswith("#")]
        except FileNotFoundError:
            raise InputError(
                f"stopwords must be 'english' or a file of words; no such file: {path!r}"
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read stopwords file {path!r}: {exc}") from None
    else:
        words = list(spec)
        if not all(isinstance(w, str) for w in words):
            raise ConfigError("stopwords must be strings")
    return frozenset(w.lower() if lowercase else w for w in words)
