"""What the engine runs: a :class:`Job` folds records into an accumulator, per block, on workers.

The engine (:mod:`toolkit.batch.engine`) calls these methods and nothing else;
the defaults make a job that keeps a plain ``dict`` accumulator complete with
:meth:`Job.empty`, :meth:`Job.consume`, :meth:`Job.merge` and :meth:`Job.finish`.
"""

from __future__ import annotations

import abc
import zlib
from typing import TYPE_CHECKING, Any, ClassVar

from toolkit.jobs.shipping import ByValue

if TYPE_CHECKING:
    from toolkit.batch.inputs import Block

__all__ = ["Job", "stable_hash"]


class Job(ByValue, abc.ABC):
    """A MapReduce job as the engine runs it; every method runs on a worker.

    A job object is pickled into every task, so it holds only picklable values;
    it pickles itself with cloudpickle (:class:`~toolkit.jobs.shipping.ByValue`),
    so that a user's functions from a file reach workers that lack the file.

    Attributes
    ----------
    name
        The task-name prefix on the dashboard, e.g. ``wordcount``.
    splits_long_lines
        Whether a line longer than a chunk may be cut at whitespace (a word count's
        result does not change; a user's record would).
    reads_bytes
        Whether :meth:`consume_bytes` takes UTF-8 bytes straight from the file.
    reads_files
        Whether :meth:`consume_file` reads each (whole-file) block itself: files
        that are not lines of text, such as Parquet.
    """

    name: str = "job"
    splits_long_lines: bool = False
    reads_bytes: ClassVar[bool] = False
    reads_files: bool = False

    @abc.abstractmethod
    def empty(self) -> Any:
        """A fresh accumulator: a dict (subclass), or an object pickled in one piece."""

    def for_block(self, block: Block, encoding: str) -> Job:
        """The job that folds ``block``: this one, unless a block needs more (a CSV header)."""
        return self

    @abc.abstractmethod
    def consume(self, acc: Any, text: str) -> None:
        """Fold a chunk of whole lines into ``acc``."""

    def consume_bytes(self, acc: Any, data: bytes | memoryview) -> int:
        """Fold UTF-8 bytes (whole lines) into ``acc``; return how many bytes it took.

        ``data`` is valid during the call only.  Bytes not taken (from a byte
        that is not UTF-8 on) come back decoded, to :meth:`consume`.  Called
        only when :attr:`reads_bytes` is set.
        """
        raise NotImplementedError(f"{type(self).__name__} does not read bytes")

    def consume_file(self, acc: Any, block: Block) -> tuple[int, int]:
        """Fold the whole file of ``block`` into ``acc``; return its bytes and records read.

        Called instead of the line readers when :attr:`reads_files` is set.
        """
        raise NotImplementedError(f"{type(self).__name__} does not read files")

    @abc.abstractmethod
    def merge(self, acc: Any, other: Any) -> Any:
        """Fold ``other`` into ``acc`` and return it; associative and commutative."""

    def split(self, acc: Any, n: int) -> list[Any]:
        """Cut ``acc`` into ``n`` hash buckets; by default a dict, by :func:`stable_hash` of keys.

        Examples
        --------
        >>> from toolkit.batch.mapreduce import UserJob
        >>> job = UserJob(lambda line: [(line, 1)], lambda a, b: a + b)
        >>> [sorted(b) for b in job.split({"a": 1, "b": 2, "g": 3}, 3)]
        [['a'], ['g'], ['b']]
        """
        buckets = [type(acc)() for _ in range(n)]
        for key, value in acc.items():
            buckets[stable_hash(key) % n][key] = value
        return buckets

    def seal(self, acc: Any) -> Any:
        """``acc`` made compact: after a map or merge it is only read, merged from or sent."""
        return acc

    @abc.abstractmethod
    def finish(self, acc: Any) -> Any:
        """Turn a bucket's merged accumulator into its compact result."""


def stable_hash(key: object) -> int:
    """A hash of ``key`` that is the same in every process (unlike ``hash`` of a str).

    Equal numbers hash alike (``1 == 1.0 == True``); other keys hash by type and
    value; tuples by their items.

    Examples
    --------
    >>> stable_hash("word") == stable_hash("word")
    True
    >>> stable_hash(1) == stable_hash(1.0)
    True
    """
    if isinstance(key, str):
        return zlib.crc32(key.encode("utf-8", "surrogatepass"))
    if isinstance(key, bytes):
        return zlib.crc32(key, 1)
    if isinstance(key, bool | int) or (isinstance(key, float) and key.is_integer()):
        return int(key) & 0xFFFFFFFF
    if isinstance(key, tuple):
        h = 0x345678
        for item in key:
            h = zlib.crc32(stable_hash(item).to_bytes(4, "little"), h)
        return h
    return zlib.crc32(repr(key).encode("utf-8", "surrogatepass"), 2)
