"""Each notebook is a lesson: a main line of at most 2,000 words that runs on its own, "Going deeper" after it.

The main line is every cell not tagged `deeper`. The slow test at the end executes it with the deeper cells
removed (`make mainline`); the others read the committed notebooks and take a second.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
ENGLISH = sorted((REPO / "notebooks").glob("*.ipynb"))
CHINESE = sorted((REPO / "notebooks" / "zh").glob("*.ipynb"))
SOLUTIONS = sorted((REPO / "solutions").glob("**/*.ipynb"))
MAIN_LINE_WORDS = 2000
# How the notebooks are tested belongs in the README, never in a lesson's prose (either edition).
HARNESS = re.compile(r"(?i)seed shift|numerics|nbval|not compared|the cell above asserts|make claims|"
                     r"ATEN_CPU_CAPABILITY|MKL_CBWR|种子偏移|种子平移|数值路径|不做比较|不参与比较|上面的代码格断言")
DEEPER_HEADING = re.compile(r"^##\s+(Going deeper|深入)", re.MULTILINE)
H2 = re.compile(r"^##\s", re.MULTILINE)


def cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def tags(cell: dict) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def is_deeper(cell: dict) -> bool:
    return "deeper" in tags(cell)


def main_line_words(path: Path) -> int:
    """Whitespace-separated tokens of the markdown cells not tagged `deeper` (formulas included)."""
    return sum(len("".join(c["source"]).split()) for c in cells(path)
               if c["cell_type"] == "markdown" and not is_deeper(c))


def main_line(path: Path):
    """The notebook (an nbformat node) with every `deeper` cell removed and its outputs cleared."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    nb.cells = [c for c in nb.cells if not is_deeper(c)]
    for c in nb.cells:
        if c.cell_type == "code":
            c.outputs, c.execution_count = [], None
    return nb


def ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(REPO)) for p in paths]


@pytest.mark.parametrize("path", ENGLISH, ids=ids(ENGLISH))
def test_main_line_reads_in_half_an_hour(path):
    words = main_line_words(path)
    assert words <= MAIN_LINE_WORDS, f"{words} words of main-line prose; move detail into a `deeper` section"


@pytest.mark.parametrize("path", ENGLISH, ids=ids(ENGLISH))
def test_every_notebook_has_a_deeper_part_after_its_main_line(path):
    nb = cells(path)
    assert any(is_deeper(c) for c in nb), "no cell tagged `deeper`"
    first_deeper = next(i for i, c in enumerate(nb) if is_deeper(c))
    recap = [i for i, c in enumerate(nb) if c["cell_type"] == "markdown"
             and re.search(r"^##\s+Recap", "".join(c["source"]), re.MULTILINE)]
    assert recap and recap[0] < first_deeper, "the recap ends the main line: it comes before any deeper cell"


@pytest.mark.parametrize("path", ENGLISH + CHINESE, ids=ids(ENGLISH + CHINESE))
def test_every_cell_of_a_going_deeper_section_is_tagged(path):
    inside = False
    for i, cell in enumerate(cells(path)):
        source = "".join(cell["source"]) if cell["cell_type"] == "markdown" else ""
        if DEEPER_HEADING.search(source):
            inside = True
        elif H2.search(source) and not is_deeper(cell):
            inside = False
        if inside:
            assert is_deeper(cell), f"cell {i} sits in a Going deeper section without the `deeper` tag"


@pytest.mark.parametrize("path", ENGLISH + CHINESE + SOLUTIONS, ids=ids(ENGLISH + CHINESE + SOLUTIONS))
def test_no_test_harness_words_in_the_prose(path):
    for i, cell in enumerate(cells(path)):
        if cell["cell_type"] == "markdown":
            found = HARNESS.search("".join(cell["source"]))
            assert not found, f"markdown cell {i} speaks of testing ('{found.group(0)}'): that is the README's job"


@pytest.mark.parametrize("path", ENGLISH, ids=ids(ENGLISH))
def test_both_editions_tag_the_same_cells(path):
    zh = REPO / "notebooks" / "zh" / path.name
    assert [tags(c) for c in cells(path)] == [tags(c) for c in cells(zh)]


@pytest.mark.parametrize("path", ENGLISH, ids=ids(ENGLISH))
def test_the_seed_is_a_visible_parameter(path):
    code = [c for c in cells(path) if c["cell_type"] == "code"]
    first = code[0]
    assert "parameters" in tags(first), "the first code cell holds the notebook's parameters"
    assert re.search(r"^SEED = 0\b", "".join(first["source"]), re.MULTILINE), "`SEED = 0` in the first code cell"
    for other in code[1:]:
        assert not re.search(r"^SEED\s*=", "".join(other["source"]), re.MULTILINE), "SEED is set once"


@pytest.mark.slow
@pytest.mark.parametrize("path", ENGLISH, ids=ids(ENGLISH))
def test_the_main_line_runs_without_the_deeper_cells(path, tmp_path):
    from nbclient import NotebookClient

    nb = main_line(path)
    assert not any(is_deeper(c) for c in nb.cells) and len(nb.cells) > 10
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
