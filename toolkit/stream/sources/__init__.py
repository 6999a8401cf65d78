"""Stream sources, one class per kind, and :func:`parse_source`, the one place that knows them all.

How data flows: a :class:`~toolkit.stream.sources.base.Source` runs on its own
thread, cuts its input into lines with :class:`toolkit.lines.LineSplitter`, and
hands chunks of whole lines (with how many bad lines it dropped, and for a
replayable source its position) to ``put``, which blocks while the pipeline is
behind.  The pipeline (:mod:`toolkit.stream.pipeline`) takes the chunks from
there; ``Stream.from_lines`` (:mod:`.event_loop`) does the same on an event loop.

======================  ==================  =================================  ===========
SOURCE argument         class               module                             replayable
======================  ==================  =================================  ===========
``-``                   StdinSource         :mod:`.stdin`                      no
a path                  FileSource          :mod:`.file` (``follow``: tail -F) yes
``tcp://HOST:PORT``     TcpSource           :mod:`.tcp`                        no
``http://HOST:PORT/P``  HttpSource          :mod:`.http` (POST lines to P)     no
``demo:?rate=N``        DemoSource          :mod:`.demo` (generated text)      no
``redis://H:P/STREAM``  RedisSource         :mod:`.redis_stream`               yes
======================  ==================  =================================  ===========

Network sources bind to 127.0.0.1 unless given a host; tcp and http serve through
:mod:`.listening`.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Mapping, Sequence

from toolkit.errors import ConfigError, OptionError
from toolkit.lines import DEFAULT_MAX_LINE_BYTES
from toolkit.stream.messages import MAIN
from toolkit.stream.sources.base import Cursor, Put, Source, SourceWarning
from toolkit.stream.sources.demo import DemoSource
from toolkit.stream.sources.file import FileSource
from toolkit.stream.sources.http import HttpSource
from toolkit.stream.sources.redis_stream import RedisSource
from toolkit.stream.sources.stdin import StdinSource
from toolkit.stream.sources.tcp import TcpSource

__all__ = [
    "Cursor",
    "DemoSource",
    "FileSource",
    "HttpSource",
    "Put",
    "RedisSource",
    "Source",
    "SourceSpecs",
    "SourceWarning",
    "Sources",
    "StdinSource",
    "TcpSource",
    "as_inputs",
    "parse_source",
    "parse_sources",
]


def _demo(spec: str, max_line_bytes: int) -> Source:
    query = urllib.parse.parse_qs(spec.partition("?")[2])
    try:
        rate = float(query.get("rate", ["1000"])[0])
        limit = int(query["lines"][0]) if "lines" in query else None
    except ValueError:
        raise ConfigError(f"demo source takes ?rate=LINES_PER_S&lines=N; got {spec!r}") from None
    return DemoSource(rate=rate, limit=limit)


def _network(spec: str) -> tuple[str, int, str]:
    url = urllib.parse.urlsplit(spec)
    try:
        port = url.port
    except ValueError:
        port = None
    if port is None:
        raise ConfigError(f"a network source needs a port, e.g. tcp://127.0.0.1:9000; got {spec!r}")
    return url.hostname or "127.0.0.1", port, url.path or "/"


def _tcp(spec: str, max_line_bytes: int) -> Source:
    host, port, _ = _network(spec)
    return TcpSource(host, port, max_line_bytes=max_line_bytes)


def _http(spec: str, max_line_bytes: int) -> Source:
    return HttpSource(*_network(spec), max_line_bytes=max_line_bytes)


def _redis(spec: str, max_line_bytes: int) -> Source:
    return RedisSource.from_url(spec, max_line_bytes=max_line_bytes)


#: URL scheme -> how to build its source from the whole SOURCE argument.
SCHEMES: dict[str, Callable[[str, int], Source]] = {
    "demo": _demo,
    "tcp": _tcp,
    "http": _http,
    "redis": _redis,
    "rediss": _redis,
}


def parse_source(
    spec: str, *, follow: bool = False, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
) -> Source:
    """The source for a SOURCE argument: ``-``, a path, or a URL of a scheme in :data:`SCHEMES`.

    ``-``, a file, ``tcp://HOST:PORT``, ``http://HOST:PORT/PATH``, ``demo:?rate=N&lines=M``,
    or ``redis://HOST:PORT/STREAM?group=G&consumer=C``.  ``follow`` (a file only)
    keeps reading what is appended.

    Examples
    --------
    >>> parse_source("tcp://:9000").host, parse_source("tcp://:9000").port
    ('127.0.0.1', 9000)
    >>> parse_source("demo:?rate=50&lines=100").limit
    100
    """
    if isinstance(max_line_bytes, bool) or max_line_bytes < 1:
        raise ConfigError(f"max line bytes must be positive; got {max_line_bytes!r}")
    scheme = spec.partition(":")[0] if ":" in spec else ""
    if spec in ("-", ""):
        source: Source = StdinSource(max_line_bytes=max_line_bytes)
    elif scheme in SCHEMES and (scheme == "demo" or spec.startswith(f"{scheme}://")):
        source = SCHEMES[scheme](spec, max_line_bytes)
    elif "://" in spec:
        raise ConfigError(
            f"unknown source {spec!r}: use -, a file, tcp://, http://, redis:// or demo:"
        )
    else:
        return FileSource(spec, follow=follow, max_line_bytes=max_line_bytes)
    if follow:
        raise OptionError("{follow} works with a file source")
    return source


#: One source, or several: a sequence (inputs named by position) or a mapping of names.
Sources = Source | Sequence[Source] | Mapping[str, Source]


def as_inputs(sources: Sources) -> dict[str, Source]:
    """A stream's inputs by name: one source is the input ``"main"``; a sequence's are named
    by position (``"0"``, ``"1"``, ...; a sequence of one is ``"main"``); a mapping names them.

    Examples
    --------
    >>> a, b = parse_source("demo:"), parse_source("tcp://:9000")
    >>> list(as_inputs(a)), list(as_inputs([a, b])), list(as_inputs({"left": a, "right": b}))
    (['main'], ['0', '1'], ['left', 'right'])
    """
    if isinstance(sources, Source):
        return {MAIN: sources}
    if isinstance(sources, Mapping):
        named = {str(name): source for name, source in sources.items()}
    elif isinstance(sources, Sequence) and not isinstance(sources, str):
        items = list(sources)
        named = {MAIN: items[0]} if len(items) == 1 else {str(i): s for i, s in enumerate(items)}
    else:
        raise ConfigError(f"sources must be a Source, a sequence or a mapping; got {sources!r}")
    if not named:
        raise ConfigError("a stream needs at least one source; got none")
    for name, source in named.items():
        if not isinstance(source, Source):
            raise ConfigError(f"input {name!r} is not a source; got {source!r}")
    if len({id(s) for s in named.values()}) < len(named):
        raise ConfigError("each input needs a source of its own; one was given twice")
    return named


#: SOURCE arguments (or sources): one, a sequence, or a mapping of input names to them.
SourceSpecs = str | Source | Sequence[str | Source] | Mapping[str, str | Source]


def parse_sources(
    spec: SourceSpecs,
    *,
    follow: bool = False,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
) -> dict[str, Source]:
    """:func:`as_inputs` of SOURCE arguments, each parsed by :func:`parse_source`.

    Examples
    --------
    >>> {name: s.kind for name, s in parse_sources(["demo:", "tcp://:9000"]).items()}
    {'0': 'demo', '1': 'tcp'}
    """

    def one(x: str | Source) -> Source:
        if isinstance(x, Source):
            return x
        if not isinstance(x, str):
            raise ConfigError(f"a source is a SOURCE string or a Source; got {x!r}")
        return parse_source(x, follow=follow, max_line_bytes=max_line_bytes)

    if isinstance(spec, str | Source):
        return as_inputs(one(spec))
    if isinstance(spec, Mapping):
        return as_inputs({name: one(x) for name, x in spec.items()})
    if not isinstance(spec, Sequence):
        raise ConfigError(f"sources must be a SOURCE, a sequence or a mapping; got {spec!r}")
    return as_inputs([one(x) for x in spec])
