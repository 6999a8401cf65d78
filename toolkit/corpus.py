"""Deterministic sample corpora: Zipf-distributed words, punctuation, capitals, mixed scripts.

Used by ``toolkit sample``, the tests and the benchmarks, so that nothing is downloaded.
"""

from __future__ import annotations

import functools
import gzip
import itertools
import os
import random
from collections.abc import Iterator
from pathlib import Path

from toolkit.atomic import atomic_output
from toolkit.errors import ConfigError
from toolkit.units import parse_size

__all__ = ["access_log", "generate_corpus", "generate_lines", "vocabulary"]

_COMMON = (
    "the of and to a in is it you that he was for on are with as I his they be at one have "
    "this from or had by not word but what some we can out other were all there when up use "
    "your how said an each she which do their time if will way about many then them write "
    "would like so these her long make thing see him two has look more day could go come did "
    "number sound no most people my over know water than call first who may down side been now "
    "find don't it's can't I'm"
).split()
_FOREIGN = (
    "café naïve Straße München résumé façade Ærø señor niño São Paulo "
    "Москва данные поток слово Ελλάδα λόγος ΟΔΟΣ "
    "東京 大规模数据 データ 流れ 처리 데이터 "
    "مرحبا عالم שלום עולם नमस्ते दुनिया "
    "e\u0301te\u0301 x² 2024 1999 42 3.14 e-mail user_name co-op rock’n’roll"
).split()
_ONSETS = "b c d f g h j k l m n p r s t v w z br cr dr fr gr pl pr st th ch sh".split()
_VOWELS = "a e i o u ai ea ou io".split()
_CODAS = ["", "", "", "n", "r", "s", "t", "l", "nd", "st", "ng"]
_PUNCTUATION = [",", ",", ";", ":", "!", "?", " -", "...", ")", '"']


def vocabulary(size: int = 50_000, *, seed: int = 0) -> list[str]:
    """A vocabulary ordered by rank: common English words, then foreign and synthetic ones.

    Examples
    --------
    >>> vocabulary(5)
    ['the', 'of', 'and', 'to', 'a']
    """
    rng = random.Random(seed)
    words: list[str] = list(dict.fromkeys(_COMMON))
    foreign = list(_FOREIGN)
    seen = set(words) | set(foreign)
    while len(words) + len(foreign) < size:
        w = "".join(
            rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS)
            for _ in range(rng.choice((1, 1, 2, 2, 2, 3)))
        )
        if w not in seen:
            seen.add(w)
            words.append(w)
    # foreign words sit at moderate ranks so every sample contains them
    for i, w in enumerate(foreign):
        words.insert(100 + 7 * i, w)
    return words[:size]


def generate_lines(
    n_bytes: int, *, seed: int = 0, vocab_size: int = 50_000, zipf: float = 1.1
) -> Iterator[str]:
    """Yield lines (with their newlines) of about ``n_bytes`` UTF-8 bytes in all."""
    rng = random.Random(seed)
    vocab, cum = _ranked_words(vocab_size, zipf)
    written = 0
    while written < n_bytes:
        batch = rng.choices(vocab, cum_weights=cum, k=20_000)
        pos = 0
        while pos < len(batch) and written < n_bytes:
            n = rng.randint(4, 18)
            words = batch[pos : pos + n]
            pos += n
            if not words:
                break
            if rng.random() < 0.3:
                i = rng.randrange(len(words))
                words[i] = words[i] + rng.choice(_PUNCTUATION)
            words[0] = words[0][:1].upper() + words[0][1:]
            if rng.random() < 0.05:
                words[-1] = words[-1].upper()
            line = " ".join(words) + rng.choice((".", ".", ".", "!", "?", "")) + "\n"
            written += len(line.encode("utf-8"))
            yield line


@functools.lru_cache(maxsize=4)
def _ranked_words(vocab_size: int, zipf: float) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """The vocabulary and its cumulative Zipf weights, built once per process (not per file)."""
    vocab = tuple(vocabulary(vocab_size, seed=0))
    cum = tuple(itertools.accumulate(1.0 / (rank**zipf) for rank in range(1, len(vocab) + 1)))
    return vocab, cum


def generate_corpus(
    directory: str | os.PathLike[str],
    *,
    size: int | str = "20MB",
    files: int = 8,
    seed: int = 0,
    compress: bool = False,
) -> list[Path]:
    """Write a deterministic corpus of about ``size`` bytes into ``files`` files.

    The same arguments always give byte-identical files.  Existing files of the
    same name are overwritten.

    Returns
    -------
    list of Path
        The files written, in order.

    Examples
    --------
    >>> import tempfile
    >>> paths = generate_corpus(tempfile.mkdtemp(), size="10kB", files=2)
    >>> [p.name for p in paths]
    ['part-0000.txt', 'part-0001.txt']
    """
    total = parse_size(size)
    if not isinstance(files, int) or files < 1:
        raise ConfigError(f"files must be a positive int; got {files!r}")
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    per_file = max(1, total // files)
    paths = []
    for i in range(files):
        path = out / (f"part-{i:04d}.txt" + (".gz" if compress else ""))
        lines = generate_lines(per_file, seed=seed * 1_000_003 + i)
        data = "".join(lines).encode("utf-8")
        if compress:
            data = gzip.compress(data, mtime=0)
        with atomic_output(path, "wb") as f:  # Ctrl-C leaves no half-written file
            f.write(data)
        paths.append(path)
    return paths


_PATHS = ["/", "/index.html", "/api/items", "/api/items/42", "/login", "/search?q=café", "/東京"]
_STATUSES = [200] * 16 + [304] * 3 + [404] * 2 + [500]


def access_log(
    n: int,
    *,
    seed: int = 0,
    start: float = 1_700_000_000.0,
    rate: float = 1000.0,
    disorder: float = 0.0,
    clients: int = 50,
) -> Iterator[dict[str, object]]:
    """``n`` web access-log records ``{"ts", "status", "path", "bytes", "client"}``.

    Records come ``rate`` per second of event time from ``start``; each one's
    ``ts`` is up to ``disorder`` seconds earlier than its place in the sequence,
    so the stream is out of order by at most ``disorder`` (with that lateness,
    no record is late).  Clients are busy in bursts, so they have sessions.

    Examples
    --------
    >>> [(r["ts"], r["status"]) for r in access_log(3, start=0.0, rate=10)]
    [(0.0, 200), (0.1, 200), (0.2, 200)]
    """
    rng = random.Random(seed)
    weights = [1 / (k + 1) for k in range(clients)]
    names = [f"10.0.{k // 256}.{k % 256}" for k in range(clients)]
    for i in range(n):
        base = start + i / rate
        ts = base - (rng.random() * disorder if disorder else 0.0)
        burst = (i // max(1, int(rate))) % 3  # a third of the clients rest each second
        k = rng.choices(range(clients), weights)[0]
        if k % 3 == burst and rng.random() < 0.9:
            k = 0
        yield {
            "ts": round(ts, 6),
            "status": rng.choice(_STATUSES),
            "path": rng.choice(_PATHS),
            "bytes": rng.randrange(100, 50_000),
            "client": names[k],
        }
