"""Word counts kept in flat arrays, counted straight from UTF-8 bytes by a compiled kernel.

``Counter(tokenize(text))`` builds one Python string per word; at ~6 bytes a
word that costs as much as the rest of the job.  A :class:`WordTable` is an
open-addressing hash table whose keys live in one byte arena: the kernel
(C, compiled by Cython at install) walks the bytes of a chunk, validates and decodes code
points, looks each one up in a class table made from the same definitions as
:mod:`toolkit.text`, hashes each word in place and bumps its count.  Tables
pickle as a few arrays, so partials move between workers in one piece; they
merge and split by their stored keys, and leave as a pyarrow array of words
(:meth:`WordTable.to_arrow`) without a Python string per word.

The plain tokenizers of :mod:`toolkit.text` are the reference: the tests
hold :meth:`WordTable.to_counter` to them on the same text.

Examples
--------
>>> table = WordTable("words", lowercase=True)
>>> data = "The cat and the hat. Straße, STRASSE!".encode()
>>> table.add_bytes(data) == len(data)
True
>>> table.add_bytes(b"a caf\\xe9 ok")  # Latin-1, not UTF-8: counted up to "caf"
2
>>> sorted(table.to_counter().items())
[('a', 1), ('and', 1), ('cat', 1), ('hat', 1), ('strasse', 1), ('straße', 1), ('the', 2)]

Inside the package, in the order a block's bytes meet them:

- :mod:`.codepoints`: each tokenizer's class of every code point, kept in a cache file;
- :mod:`.hashing`: decoding, a word's keys from its bytes 8 at a time, finding and inserting it;
- :mod:`.kernels`: the compiled loops (find a batch of words, count it; merge tables, rank, split);
- :mod:`.table`: :class:`WordTable`, which holds the arrays and calls the kernels.
"""

from __future__ import annotations

from toolkit.wordtable.table import WordTable

__all__ = ["WordTable"]
