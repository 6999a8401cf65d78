"""The code-point class table each tokenizer's kernel reads: built once, then kept in a file."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import sys
import unicodedata

import numpy as np

from toolkit import text
from toolkit.atomic import atomic_output
from toolkit.text import get_tokenizer, word_classes

__all__ = ["classes", "classes_path", "definition"]


@functools.cache
def classes(tokenizer: str) -> np.ndarray:
    """One byte per code point: its class under ``tokenizer`` (see :func:`word_classes`).

    Building the table asks Python about each of 1.1 million code points
    (0.1 s, paid by every worker process on its first block), so it is kept
    in a file named after the Python and Unicode versions it came from and a
    hash of the definition of a word that built it (:func:`definition`), and
    read back from there (1 ms).  A missing, short or unwritable file only
    means building it again.
    """
    name = get_tokenizer(tokenizer).name
    path = classes_path(name)
    try:
        with open(path, "rb") as f:
            data = f.read()
        if len(data) == sys.maxunicode + 1 and data[32] == 0 and data[ord("a")] == 1:
            return np.frombuffer(data, dtype=np.uint8)
    except OSError:
        pass
    data = word_classes(name)
    with contextlib.suppress(OSError):  # a cache that cannot be written is only slower
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with atomic_output(path, "wb") as f:  # readers see the whole table or none
            f.write(data)
    return np.frombuffer(data, dtype=np.uint8)


def classes_path(tokenizer: str) -> str:
    """Where the code-point table of ``tokenizer`` is kept: ``$TOOLKIT_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/toolkit``, else ``~/.cache/toolkit``."""
    root = os.environ.get("TOOLKIT_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "toolkit",
    )
    py = f"{sys.implementation.name}{sys.version_info[0]}{sys.version_info[1]}"
    unicode = f"unicode{unicodedata.unidata_version}"
    return os.path.join(root, f"word-classes-{tokenizer}-{py}-{unicode}-{definition()}.bin")


def definition() -> str:
    """A short hash of what a word is: the code that builds the tables and the data it reads.

    A change to either names another cache file, so no process reads a table that an
    older definition built.
    """
    code = text.word_classes.__wrapped__.__code__
    parts = [
        code.co_code,
        repr(code.co_consts).encode(),
        repr(code.co_names).encode(),
        repr((text.APOSTROPHES, text._IDEOGRAPHIC_RANGES)).encode(),
        repr((text.SEPARATOR, text.WORD_CHAR, text.IDEOGRAPH, text.APOSTROPHE)).encode(),
    ]
    return hashlib.sha256(b"\0".join(parts)).hexdigest()[:12]
