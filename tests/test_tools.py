"""The repository's tools: the claims check runs a notebook on another seed without touching the checkout."""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import claims  # noqa: E402


def notebook(first_cell: str, *more: str, tagged: bool = True) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# title"), nbformat.v4.new_code_cell(first_cell)]
    nb.cells += [nbformat.v4.new_code_cell(source) for source in more]
    if tagged:
        nb.cells[1].metadata["tags"] = ["parameters"]
    return nb


def test_the_seed_line_is_rewritten_and_its_comment_kept():
    nb = notebook("SEED = 0  # change it to train with other seeds\nQUICK = False\n")
    claims.prepare(nb, shift=3, quick=True)
    assert nb.cells[1].source == "SEED = 3  # change it to train with other seeds\nQUICK = True\n"


@pytest.mark.parametrize("first_cell, tagged", [("SEED = 0", False), ("SEED = 1", True), ("seed = 0", True)])
def test_a_notebook_without_a_seed_parameter_cannot_be_shifted(first_cell, tagged):
    with pytest.raises(ValueError, match="SEED = 0"):
        claims.prepare(notebook(first_cell, tagged=tagged), shift=1, quick=False)


def test_a_run_sees_its_seed_and_writes_only_into_its_own_folder(tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    path = folder / "probe.ipynb"
    nbformat.write(notebook("SEED = 0", "from pathlib import Path\nPath('../models').mkdir()\n"
                            "Path('../models/probe.txt').write_text(str(SEED))",
                            "assert SEED == 2, SEED"), path)
    label, _, failures = claims.run_notebook(path, shift=2, numerics="native")
    assert failures == [] and label == "notebooks/probe seed 2 native"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notebooks"]  # nothing written beside the notebook
    assert "SEED = 0" in nbformat.read(path, as_version=4).cells[1].source  # the original is not rewritten
    _, _, failures = claims.run_notebook(path, shift=1, numerics="native")
    assert len(failures) == 1 and "AssertionError: 1" in failures[0]
