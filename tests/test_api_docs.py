"""Every public name is in the API docs (``docs/api.md``), which autodoc fills from the
docstrings: what ``toolkit`` and ``toolkit.stream`` export, a user finds documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import toolkit
import toolkit.stream

API = Path(__file__).resolve().parents[1] / "docs" / "api.md"


def documented() -> set[str]:
    names: set[str] = set()
    for members in re.findall(r":members:(.*)", API.read_text(encoding="utf-8")):
        names.update(m.strip() for m in members.split(",") if m.strip())
    return names


@pytest.mark.parametrize("module", [toolkit, toolkit.stream], ids=lambda m: m.__name__)
def test_every_exported_name_is_documented(module: object) -> None:
    exported = set(module.__all__) - {"__version__"}  # type: ignore[attr-defined]
    assert sorted(exported - documented()) == []


def test_every_documented_name_exists() -> None:
    import toolkit.errors
    import toolkit.jobs
    import toolkit.jobs.frames
    import toolkit.stream.background

    modules = [toolkit, toolkit.stream, toolkit.errors, toolkit.jobs, toolkit.jobs.frames]
    modules.append(toolkit.stream.background.Background)  # type: ignore[arg-type]
    missing = [n for n in documented() if not any(hasattr(m, n) for m in modules)]
    assert missing == []
