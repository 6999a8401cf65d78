"""The README's and the docs' Python examples run as written; the README starts with its
two commands."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from toolkit.corpus import generate_corpus

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]


def python_blocks() -> list[str]:
    blocks = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        blocks += [textwrap.dedent(b) for b in re.findall(r"```python\n(.*?)```", text, flags=re.S)]
    return blocks


def test_readme_has_the_two_commands_first() -> None:
    text = README.read_text(encoding="utf-8")
    commands = re.findall(r"<!-- (main|test)-command -->\n```bash\n(.+?)\n```", text)
    assert [name for name, _ in commands] == ["main", "test"]
    assert text.index("main-command") < text.index("## What it is")


@pytest.mark.parametrize("index", range(len(python_blocks())))
def test_python_examples_run(index: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    generate_corpus(tmp_path / "data" / "sample", size="200kB", files=2)
    code = python_blocks()[index]
    if "toolkit.connect()" in code:  # a small embedded cluster keeps the test quick
        code = code.replace("toolkit.connect()", "toolkit.connect(n_workers=1, processes=False)")
    exec(compile(code, f"python block {index} of README.md and docs/", "exec"), {})
