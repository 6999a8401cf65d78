"""The CLI reference in the README, made from the commands' own ``--help``.

``python -m toolkit.cli.reference`` rewrites the README section between the
``cli-reference`` markers; a test checks that it is up to date.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import click

from toolkit.cli import cli

START, END = "<!-- cli-reference -->", "<!-- /cli-reference -->"


def reference() -> str:
    """Markdown with the ``--help`` of ``toolkit`` and of each command."""
    parts = []
    for name in [None, *sorted(cli.commands)]:
        command = cli if name is None else cli.commands[name]
        title = "toolkit" if name is None else f"toolkit {name}"
        ctx = click.Context(command, info_name=title)
        parts.append(f"#### `{title}`\n\n```\n{command.get_help(ctx).rstrip()}\n```\n")
    return "\n".join(parts)


def update(readme: Path) -> bool:
    """Rewrite the README's reference section; return whether it changed."""
    text = readme.read_text(encoding="utf-8")
    new = re.sub(
        re.escape(START) + r".*?" + re.escape(END),
        lambda _: f"{START}\n{reference()}{END}",
        text,
        flags=re.S,
    )
    if new != text:
        readme.write_text(new, encoding="utf-8")
    return new != text


if __name__ == "__main__":
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "README.md")
    print("updated" if update(path) else "up to date", path)
