"""Loading user functions by name (``toolkit/batch/loading.py``), shipped to real workers."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolkit.batch import load_function, map_reduce
from toolkit.errors import ConfigError


def test_load_function_from_module_and_file(tmp_path: Path, real_client: object) -> None:
    assert load_function("tests.user_functions:add")(2, 3) == 5
    script = tmp_path / "myjob.py"
    script.write_text(
        "def mapper(line):\n    yield line.split(',')[0], 1\n\n"
        "def reducer(a, b):\n    return a + b\n"
    )
    data = tmp_path / "data.csv"
    data.write_text("a,1\nb,2\na,3\n")
    mapper = load_function(f"{script}:mapper")
    reducer = load_function(f"{script}:reducer")
    # the file exists only here: the function travels to the worker processes by value
    result = map_reduce(data, mapper, reducer, scheduler=real_client)
    assert result.to_dict() == {"a": 2, "b": 1}
    for spec, message in [
        ("nocolon", "must look like 'module:name'"),
        ("no_such_module_xyz:f", "cannot import 'no_such_module_xyz'"),
        ("tests.user_functions:missing", "has no attribute 'missing'"),
        (f"{tmp_path}/absent.py:f", "no such file"),
    ]:
        with pytest.raises(ConfigError, match=message):
            load_function(spec)
