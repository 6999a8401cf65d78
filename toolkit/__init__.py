"""toolkit: batch MapReduce and windowed stream processing on one Dask cluster.

>>> import toolkit
>>> toolkit.count_words("To be, or not to be")["be"]
2
"""

from typing import TYPE_CHECKING, Any

from toolkit.batch import (
    InputStats,
    WordCounts,
    load_function,
    map_reduce,
    resolve_inputs,
    word_count,
    write_series,
)
from toolkit.cluster import Connection, connect
from toolkit.errors import (
    ClusterError,
    ConfigError,
    DecodeError,
    InputError,
    JobError,
    OutputError,
    SourceError,
    ToolkitError,
)
from toolkit.text import TOKENIZERS, count_words, top_k

if TYPE_CHECKING:
    from toolkit.stream import WindowedWordCount, stream_word_count, to_frame

_STREAM_NAMES = ("WindowedWordCount", "stream_word_count", "to_frame")


def __getattr__(name: str) -> Any:
    # the stream API (and streamz) load when first used: a batch job does not pay for them
    if name in _STREAM_NAMES:
        import toolkit.stream

        return getattr(toolkit.stream, name)
    raise AttributeError(f"module 'toolkit' has no attribute {name!r}")


__version__ = "0.1.0"

__all__ = [
    "TOKENIZERS",
    "ClusterError",
    "ConfigError",
    "Connection",
    "DecodeError",
    "InputError",
    "InputStats",
    "JobError",
    "OutputError",
    "SourceError",
    "ToolkitError",
    "WindowedWordCount",
    "WordCounts",
    "__version__",
    "connect",
    "count_words",
    "load_function",
    "map_reduce",
    "resolve_inputs",
    "stream_word_count",
    "to_frame",
    "top_k",
    "word_count",
    "write_series",
]
