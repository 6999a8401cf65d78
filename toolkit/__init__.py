"""toolkit: batch MapReduce and windowed stream processing on one Dask cluster.

The packages, from the user's side down:

- ``cli``: the ``toolkit`` command, thin click commands over this API;
- ``batch``: MapReduce jobs over files (``word_count``, ``map_reduce``) on dask;
- ``jobs``: a user job's records, reducer or combiner, and keyed fold, shared by batch and stream;
- ``stream``: windowed counts over live sources, with streamz, on the same cluster;
- ``wordtable``: word counts in flat arrays, counted from UTF-8 bytes by compiled kernels
  (``wordcounter``: the same for small inputs, a Counter of the reference tokenizers).

The shared core, pure and dask-free: ``text`` (what a word is), ``lines`` (what a
line is), ``ranking`` (the top words of arrays), ``stopwords``, ``units`` (sizes
and durations), ``corpus`` (sample text); and around the cluster: ``cluster``
(connect, or start the embedded one), ``embedded`` (how the toolkit's own local
cluster starts its workers), ``sharing`` (batch jobs and streams on one
cluster: a thread kept for streams), ``interrupts`` (Ctrl-C and SIGTERM),
``failures`` (cluster failures in one line), ``atomic`` (files written whole),
``errors`` (the error tree), ``lazy`` (the API's names loaded on first use).

>>> import toolkit
>>> toolkit.count_words("To be, or not to be")["be"]
2
"""

from typing import TYPE_CHECKING

from toolkit.errors import (
    CheckpointError,
    CheckpointWarning,
    ClusterError,
    ConfigError,
    DecodeError,
    InputError,
    JobError,
    OptionError,
    OutputError,
    SourceError,
    SourceWarning,
    ToolkitError,
    ToolkitWarning,
)
from toolkit.lazy import lazy_names
from toolkit.text import TOKENIZERS, count_words, top_k

if TYPE_CHECKING:
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
    from toolkit.stream import (
        WindowedJob,
        WindowedWordCount,
        stream_map_reduce,
        stream_word_count,
        to_frame,
    )

#: Where each name of the API lives.  They load when first used: ``import toolkit`` (and
#: the command line's start) costs no dask, numpy or pyarrow, a batch job does not pay for
#: the stream API (and streamz), nor a word count for the user-job machinery.
_HOMES = {
    **dict.fromkeys(
        (
            "InputStats",
            "WordCounts",
            "load_function",
            "map_reduce",
            "resolve_inputs",
            "word_count",
            "write_series",
        ),
        "toolkit.batch",
    ),
    **dict.fromkeys(("Connection", "connect"), "toolkit.cluster"),
    **dict.fromkeys(
        ("WindowedJob", "WindowedWordCount", "stream_map_reduce", "stream_word_count", "to_frame"),
        "toolkit.stream",
    ),
}


__getattr__, __dir__ = lazy_names(__name__, _HOMES)


__version__ = "0.1.0"

__all__ = [
    "TOKENIZERS",
    "CheckpointError",
    "CheckpointWarning",
    "ClusterError",
    "ConfigError",
    "Connection",
    "DecodeError",
    "InputError",
    "InputStats",
    "JobError",
    "OptionError",
    "OutputError",
    "SourceError",
    "SourceWarning",
    "ToolkitError",
    "ToolkitWarning",
    "WindowedJob",
    "WindowedWordCount",
    "WordCounts",
    "__version__",
    "connect",
    "count_words",
    "load_function",
    "map_reduce",
    "resolve_inputs",
    "stream_map_reduce",
    "stream_word_count",
    "to_frame",
    "top_k",
    "word_count",
    "write_series",
]
