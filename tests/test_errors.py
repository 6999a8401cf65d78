"""The error tree: every error and warning the toolkit defines is in ``toolkit.errors``,
drawn in its docstring, and each error also is the builtin a caller would catch."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import toolkit
from toolkit import errors

ROOT = Path(__file__).resolve().parents[1] / "toolkit"


def _defined() -> dict[str, type]:
    return {
        name: obj
        for name, obj in vars(errors).items()
        if inspect.isclass(obj) and obj.__module__ == errors.__name__
    }


#: Signals inside the toolkit that never reach a caller: a line that does not parse (turned
#: into a counted bad record or a JobError), and SIGTERM raised in the main thread as
#: KeyboardInterrupt is for SIGINT.
INTERNAL = {"toolkit/jobs/records.py: BadRecord", "toolkit/interrupts.py: Terminated"}


def test_every_exception_class_of_the_package_is_defined_in_errors() -> None:
    elsewhere = []
    for path in ROOT.rglob("*.py"):
        if path.name == "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                isinstance(b, ast.Name) and b.id.endswith(("Error", "Warning", "Exception"))
                for b in node.bases
            ):
                elsewhere.append(f"{path.relative_to(ROOT.parent)}: {node.name}")
    assert sorted(set(elsewhere) - INTERNAL) == []


def test_the_tree_is_drawn_and_exported_whole() -> None:
    doc = errors.__doc__ or ""
    for name, cls in _defined().items():
        assert f"{name} (" in doc or f"── {name}" in doc, f"{name} is not drawn in the tree"
        assert name in errors.__all__ and getattr(toolkit, name) is cls
        root = errors.ToolkitWarning if issubclass(cls, Warning) else errors.ToolkitError
        assert issubclass(cls, root)
        if root is errors.ToolkitError and cls is not root:
            assert any(b.__module__ == "builtins" for b in cls.__mro__[1:] if b is not Exception), (
                f"{name} inherits no builtin a caller would catch"
            )


def test_errors_found_where_they_are_raised_are_the_tree_s() -> None:
    from toolkit.stream import checkpoint, sources

    assert checkpoint.CheckpointError is errors.CheckpointError
    assert checkpoint.CheckpointWarning is errors.CheckpointWarning
    assert sources.SourceWarning is errors.SourceWarning
    assert issubclass(errors.CheckpointError, RuntimeError)
