"""The repository's contract: pinned environments agree, CI runs the README's command, notebooks are clean."""
from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
SERIES = ["01_why_rnn", "02_rnn_cell", "03_name_classification", "04_gradient_problems"]


def pins(lines: list[str]) -> dict[str, str]:
    """{package: version} for every `name==version` line."""
    found = (re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)==([^\s;#]+)\s*", line) for line in lines)
    return {m.group(1).lower(): m.group(2) for m in found if m}


def test_conda_and_pip_pin_the_same_versions():
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    from_pip = pins((REPO / "requirements.txt").read_text().splitlines())
    assert pins(pip_section) == from_pip
    for package in ("torch", "matplotlib", "matplotlib-inline", "nbval"):
        assert package in from_pip, f"{package} decides stored outputs: pin it exactly"
    assert from_pip["torch"] == "2.13.0"


def test_package_requirements_stay_loose():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert "torch>=2.2" in project["dependencies"]
    assert not [d for d in project["dependencies"] if "==" in d]


def test_ci_runs_the_readme_test_command_without_a_backend_override():
    ci = (REPO / ".ci" / "run").read_text()
    assert "make test" in ci and "make test" in (REPO / "README.md").read_text()
    assert "MPLBACKEND" not in ci and "OMP_NUM_THREADS=1" in ci and "RNN_TUTORIAL_DATA_URL" in ci


def test_the_four_notebooks_exist():
    assert [nb.stem for nb in NOTEBOOKS] == SERIES


ADDRESS = re.compile(r"0x[0-9a-f]{6,}")
MACHINE_PATH = re.compile(r"(/work/|/tmp/|/root/|/home/\w+)")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_hygiene(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    code = [c for c in cells if c["cell_type"] == "code" and "".join(c["source"]).strip()]
    assert [c["execution_count"] for c in code] == list(range(1, len(code) + 1)), "run all in a fresh kernel"
    for i, cell in enumerate(code):
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error", f"cell {i} stores an error"
            assert out.get("name") != "stderr", f"cell {i} writes to stderr: {''.join(out['text'])[:80]}"
            data = out.get("data", {})
            assert "image/svg+xml" not in data, f"cell {i} stores an SVG (changes every run): use PNG"
            text = "".join(out.get("text", "")) + "".join(data.get("text/plain", ""))
            assert not ADDRESS.search(text), f"cell {i} shows a memory address"
            assert not MACHINE_PATH.search(text), f"cell {i} shows a machine path"
