"""The package's structure: lesson modules in layers, the plumbing fenced off, no notebook importing the plumbing.

See rnn_tutorial/__init__.py for the reading path these rules keep true.
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "rnn_tutorial"
LAYERS = [  # a lesson module imports only from the lines above its own; a new module gets a line (or joins one)
    {"seeding", "config", "plots"},
    {"data"},
    {"batching"},
    {"metrics"},  # scores and baselines: any model's, so above the models
    {"ngrams"},  # the n-gram features, the scikit-learn baseline, the n-gram bag of the final model
    {"rnn"},
    {"training", "checkpoints", "inference", "gradients", "marker_task", "generation"},
    {"export"},
    {"__main__"},  # the command line
]
LAYER_OF = {module: i for i, layer in enumerate(LAYERS) for module in layer}
PLUMBING_GATES = {"data", "checkpoints", "__main__"}  # data fetches, checkpoints write, the command line guards


def imported_modules(source: str, package: str) -> set[str]:
    """Dotted names (within rnn_tutorial, e.g. "plumbing.download") that `source`, a module of the package
    `package` ("" for rnn_tutorial itself, "plumbing" for its subpackage), imports anywhere in the file."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1] if package else []
                name = ".".join([*base, *(node.module or "").split(".")]).strip(".")
            elif (node.module or "").split(".")[0] == "rnn_tutorial":
                name = node.module.removeprefix("rnn_tutorial").lstrip(".")
            else:
                continue
            found |= {name} if name else {alias.name for alias in node.names}
            if name:  # `from .plumbing import download` imports plumbing.download
                found |= {f"{name}.{alias.name}" for alias in node.names if name == "plumbing"}
        elif isinstance(node, ast.Import):
            found |= {a.name.removeprefix("rnn_tutorial.") for a in node.names if a.name.startswith("rnn_tutorial.")}
    return found


def lesson_modules() -> list[str]:
    return sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")


def plumbing_modules() -> list[str]:
    return sorted(p.stem for p in (PACKAGE / "plumbing").glob("*.py") if p.stem != "__init__")


def package_imports(module: str) -> set[str]:
    """The top-level package modules (or "plumbing") that lesson module `module` imports."""
    source = (PACKAGE / f"{module}.py").read_text(encoding="utf-8")
    return {name.split(".")[0] for name in imported_modules(source, "")}


def notebook_imports(path: Path) -> set[str]:
    """What the code cells of a notebook import from rnn_tutorial (shell and magic lines skipped)."""
    found = set()
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "code":
            code = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
            found |= imported_modules(code, "")
    return found


def is_plumbing(name: str) -> bool:
    return name.split(".")[0] in ("plumbing", "download")  # `download` was a lesson-level module once


def test_every_module_has_a_layer():
    assert set(lesson_modules()) - set(LAYER_OF) == set(), "add the new module to LAYERS"


@pytest.mark.parametrize("module", lesson_modules())
def test_imports_point_only_up(module):
    lessons = {m for m in package_imports(module) if m != "plumbing"}
    sideways_or_down = {m for m in lessons if LAYER_OF[m] >= LAYER_OF[module]}
    assert sideways_or_down == set(), f"{module} imports from its own layer or below"


@pytest.mark.parametrize("module", lesson_modules())
def test_only_data_checkpoints_and_the_command_line_reach_the_plumbing(module):
    if module not in PLUMBING_GATES:
        assert "plumbing" not in package_imports(module), f"{module} imports the plumbing"


@pytest.mark.parametrize("module", plumbing_modules())
def test_the_plumbing_imports_no_lesson(module):
    source = (PACKAGE / "plumbing" / f"{module}.py").read_text(encoding="utf-8")
    assert {name for name in imported_modules(source, "plumbing") if not is_plumbing(name)} == set()


NOTEBOOKS = sorted(p for folder in ("notebooks", "solutions") for p in (REPO / folder).rglob("*.ipynb")
                   if ".ipynb_checkpoints" not in p.parts)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(REPO)))
def test_no_notebook_imports_the_plumbing(path):
    assert {name for name in notebook_imports(path) if is_plumbing(name)} == set()


def test_the_checker_sees_a_sideways_import(tmp_path, monkeypatch):
    (tmp_path / "training.py").write_text("from .inference import predict\nfrom rnn_tutorial.rnn import RNN\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", tmp_path)
    assert package_imports("training") == {"inference", "rnn"}
    with pytest.raises(AssertionError, match="own layer or below"):
        test_imports_point_only_up("training")


@pytest.mark.parametrize("line", ["from .plumbing.atomic import write_atomically", "from .plumbing import paths",
                                  "import rnn_tutorial.plumbing.download", "from rnn_tutorial.plumbing import cli"])
def test_the_checker_sees_a_lesson_module_reaching_the_plumbing(tmp_path, monkeypatch, line):
    (tmp_path / "metrics.py").write_text(f"import torch\n{line}\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", tmp_path)
    with pytest.raises(AssertionError, match="imports the plumbing"):
        test_only_data_checkpoints_and_the_command_line_reach_the_plumbing("metrics")


def test_the_checker_sees_the_plumbing_importing_a_lesson():
    assert imported_modules("from ..data import LANGUAGES\nfrom .paths import data_dir\n", "plumbing") == \
        {"data", "plumbing.paths"}


@pytest.mark.parametrize("line", ["from rnn_tutorial.plumbing.download import download_names",
                                  "from rnn_tutorial.download import download_names",
                                  "import rnn_tutorial.plumbing.paths as paths"])
def test_the_checker_sees_a_notebook_importing_the_plumbing(tmp_path, line):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("%matplotlib inline\nimport torch"), nbformat.v4.new_code_cell(line)]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(AssertionError):
        test_no_notebook_imports_the_plumbing(path)
