"""Planning the work: files cut into blocks of about ``blocksize`` bytes, packed into tasks."""

from __future__ import annotations

import codecs

from toolkit.batch.inputs.files import DEFAULT_BLOCKSIZE, Block, InputFile
from toolkit.errors import ConfigError

__all__ = ["newline_is_byte", "pack_blocks", "plan_blocks"]


def newline_is_byte(encoding: str) -> bool:
    try:
        return "\n".encode(encoding) == b"\n" and codecs.lookup(encoding).name != "utf-7"
    except LookupError:
        raise ConfigError(f"unknown text encoding {encoding!r}") from None


def plan_blocks(
    files: list[InputFile], *, blocksize: int = DEFAULT_BLOCKSIZE, encoding: str = "utf-8"
) -> list[Block]:
    """Cut files into blocks of about ``blocksize`` bytes (compressed files stay whole).

    An empty file still gets one (empty) block so that it is accounted for.

    Examples
    --------
    >>> f = InputFile("/data/a.txt", 250, None)
    >>> [(b.offset, b.length) for b in plan_blocks([f], blocksize=100)]
    [(0, 100), (100, 100), (200, 50)]
    """
    if blocksize <= 0:
        raise ConfigError(f"blocksize must be a positive number of bytes; got {blocksize!r}")
    splittable = newline_is_byte(encoding)
    blocks: list[Block] = []
    for f in files:
        if f.compression or not splittable or f.size <= blocksize:
            blocks.append(Block(f, 0, None))
        else:
            blocks.extend(
                Block(f, off, min(blocksize, f.size - off)) for off in range(0, f.size, blocksize)
            )
    return blocks


def pack_blocks(blocks: list[Block], *, blocksize: int = DEFAULT_BLOCKSIZE) -> list[list[Block]]:
    """Group blocks into map tasks: consecutive whole small files share a task up to ``blocksize``.

    A directory of thousands of small files then makes a few tasks, not thousands.

    Examples
    --------
    >>> small = [Block(InputFile(f"/d/{i}", 30, None), 0, None) for i in range(5)]
    >>> [len(p) for p in pack_blocks(small, blocksize=100)]
    [3, 2]
    """
    partitions: list[list[Block]] = []
    size = 0
    for block in blocks:
        whole = block.length is None and block.offset == 0
        weight = block.file.size if whole else (block.length or block.file.size)
        if whole and partitions and size + weight <= blocksize and _all_whole(partitions[-1]):
            partitions[-1].append(block)
            size += weight
        else:
            partitions.append([block])
            size = weight
    return partitions


def _all_whole(partition: list[Block]) -> bool:
    return all(b.length is None and b.offset == 0 for b in partition)
