"""The package's layers: each module imports only from the layers above it (see rnn_tutorial/__init__.py)."""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "rnn_tutorial"
LAYERS = [
    {"utils", "config", "plots"},
    {"download"},
    {"data"},
    {"batching"},
    {"rnn"},
    {"metrics"},
    {"training", "checkpoints", "inference", "gradients", "toy"},
    {"__main__"},
]
LAYER_OF = {module: i for i, layer in enumerate(LAYERS) for module in layer}


def package_imports(module: str) -> set[str]:
    """The package modules that `module` imports (relative or absolute), anywhere in the file."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.level == 1 or (node.module or "").startswith("rnn_tutorial")):
            name = (node.module or "").removeprefix("rnn_tutorial").lstrip(".")
            found |= {name.split(".")[0]} if name else {alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("rnn_tutorial.")}
    return found


def test_every_module_has_a_layer():
    modules = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__"}
    assert modules == set(LAYER_OF)


@pytest.mark.parametrize("module", sorted(LAYER_OF))
def test_imports_point_only_up(module):
    upward = {m for m in package_imports(module) if LAYER_OF[m] < LAYER_OF[module]}
    assert package_imports(module) == upward, f"{module} imports from its own layer or below"


def test_the_checker_sees_a_sideways_import(tmp_path, monkeypatch):
    (tmp_path / "training.py").write_text("from .inference import predict\nfrom rnn_tutorial.rnn import RNN\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", tmp_path)
    assert package_imports("training") == {"inference", "rnn"}
