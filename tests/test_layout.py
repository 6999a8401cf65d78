"""The package's shape: no import circle anywhere in ``toolkit/``.

Every ``import`` and ``from ... import`` statement counts, also those inside
functions (a lazy import that closes a circle is still a circle: the two
modules cannot be understood, or loaded, one without the other).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "toolkit"


def _modules() -> dict[str, Path]:
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the toolkit modules it imports by name."""
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # `from package import module` depends on that module; a name from a
                # module (or a package's __init__) depends on the module that defines it
                subs = [f"{node.module}.{a.name}" for a in node.names]
                targets = [t if t in modules else node.module for t in subs]
            else:
                continue
            graph[name].update(t for t in targets if t in modules and t != name)
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import circle found by a depth-first walk, each as the path that closes it."""
    found: list[list[str]] = []
    done: set[str] = set()

    def walk(path: list[str]) -> None:
        for target in sorted(graph[path[-1]]):
            if target in path:
                found.append([*path[path.index(target) :], target])
            elif target not in done:
                walk([*path, target])
        done.add(path[-1])

    for name in sorted(graph):
        if name not in done:
            walk([name])
    return found


def test_the_circle_finder_finds_circles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(graph) == [["a", "b", "c", "a"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_no_import_circle_in_toolkit() -> None:
    graph = import_graph()
    assert "toolkit.stream.sources.redis_stream" in graph  # the walk sees the packages
    assert circles(graph) == []


#: The longest a module may be: one concept each (the style's "roughly under 400 lines").
MAX_LINES = 420


def test_modules_hold_one_concept_each() -> None:
    long = {
        str(path.relative_to(ROOT.parent)): n
        for path in ROOT.rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_each_package_says_what_is_inside() -> None:
    for init in ROOT.rglob("__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        inside = sorted(
            p.stem if p.suffix else p.name
            for p in init.parent.iterdir()
            if (p.suffix == ".py" and not p.stem.startswith("__")) or (p / "__init__.py").exists()
        )
        missing = [name for name in inside if name not in doc]
        assert not missing, f"{init.relative_to(ROOT.parent)} does not name {missing}"
