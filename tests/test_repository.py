"""The repository's contract: pinned environments agree, CI runs the README's command, notebooks are clean."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from rnn_tutorial.plumbing.paths import DATA_URL_ENV

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
SERIES = ["01_why_rnn", "02_rnn_cell", "03_name_classification", "04_gradient_problems"]


def requirement_lines(lines: list[str]) -> list[str]:
    """The requirement and index lines of a requirements file or a conda pip section, comments dropped."""
    return [" ".join(line.split("#")[0].split()) for line in lines if line.split("#")[0].strip()]


def pins(lines: list[str]) -> dict[str, str]:
    """{package: version} for every `name==version` line (an environment marker may follow)."""
    found = (re.fullmatch(r"([A-Za-z0-9_.\-]+)==([^\s;]+)(\s*;.*)?", line) for line in requirement_lines(lines))
    return {m.group(1).lower(): m.group(2) for m in found if m}


REQUIREMENTS = (REPO / "requirements.txt").read_text().splitlines()
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
ENVIRONMENT = yaml.safe_load((REPO / "environment.yml").read_text())


def test_conda_and_pip_install_the_same_lines():
    pip_section = next(d["pip"] for d in ENVIRONMENT["dependencies"] if isinstance(d, dict))
    assert requirement_lines(pip_section) == requirement_lines(REQUIREMENTS)
    for package in ("torch", "matplotlib", "matplotlib-inline", "nbval"):
        assert package in pins(REQUIREMENTS), f"{package} decides stored outputs: pin it exactly"


def test_torch_is_the_cpu_build_everywhere():
    lines = requirement_lines(REQUIREMENTS)
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in lines
    torch_lines = sorted(line for line in lines if line.startswith("torch=="))
    version = pins(REQUIREMENTS)["torch"].removesuffix("+cpu")
    # Linux: the default index's torch is the CUDA build; the local version +cpu exists only on the CPU index
    assert torch_lines == [f'torch=={version} ; sys_platform != "linux"', f'torch=={version}+cpu ; sys_platform == "linux"']
    for readme in ("README.md", "README.zh.md"):  # and the READMEs say so, with the same version
        assert f"`torch=={version}+cpu`" in (REPO / readme).read_text(encoding="utf-8")


def test_one_python_minimum():
    minimum = re.fullmatch(r">=(3\.\d+)", PYPROJECT["requires-python"]).group(1)
    assert f"python={minimum}" in ENVIRONMENT["dependencies"]
    assert f"Python {minimum} or newer" in (REPO / "README.md").read_text()
    assert f"Python {minimum} or newer" in (REPO / "requirements.txt").read_text()


def test_package_requirements_stay_loose():
    assert any(d.startswith("torch>=") for d in PYPROJECT["dependencies"])
    assert not [d for d in PYPROJECT["dependencies"] if "==" in d]


def test_ci_runs_the_readme_test_command_without_a_backend_override():
    ci = (REPO / ".ci" / "run").read_text()
    assert "make test" in ci and "make test" in (REPO / "README.md").read_text()
    assert "MPLBACKEND" not in ci and "OMP_NUM_THREADS=1" in ci and DATA_URL_ENV in ci


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


def test_an_installed_copy_keeps_data_and_models_outside_site_packages(tmp_path):
    """`pip install .` (not editable) installs code only; data and models go to a per-user folder."""
    source, target = tmp_path / "source", tmp_path / "site-packages"
    shutil.copytree(REPO / "rnn_tutorial", source / "rnn_tutorial", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):  # built from a copy: a build writes build/ in its source
        shutil.copy(REPO / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--target", str(target), str(source)], check=True, capture_output=True)
    installed = [p.relative_to(target) for p in target.rglob("*") if p.is_file()]
    code = [p for p in installed if p.parts[0] == "rnn_tutorial"]
    assert code and all(p.suffix in (".py", ".pyc") for p in code)
    assert all(p.parts[0] in ("rnn_tutorial", "bin") or p.parts[0].endswith(".dist-info") for p in installed)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RNN_TUTORIAL_")}
    env.update(PYTHONPATH=str(target), XDG_DATA_HOME=str(tmp_path / "user-data"))
    where = subprocess.run([sys.executable, "-m", "rnn_tutorial", "where"], cwd=tmp_path, env=env,
                           capture_output=True, text=True, check=True).stdout
    assert f"data: {tmp_path / 'user-data' / 'rnn-tutorial' / 'data'} (not fetched yet" in where
    assert f"trained model: {tmp_path / 'user-data' / 'rnn-tutorial' / 'models'}" in where
    assert "not part of an installed package" in where and str(target) not in where


def test_a_checkout_keeps_data_and_models_in_the_checkout():
    env = {k: v for k, v in os.environ.items() if not k.startswith("RNN_TUTORIAL_")}
    where = subprocess.run([sys.executable, "-m", "rnn_tutorial", "where"], cwd=REPO, env=env,
                           capture_output=True, text=True, check=True).stdout
    assert f"notebooks (executed in place, with outputs): {REPO / 'notebooks'}" in where
    assert f"data: {REPO / 'data'}" in where and f"trained model: {REPO / 'models'}" in where


# the article's own headings of its four sections (its table of contents writes the third "用 RNN 完成文本分类任务")
ARTICLE_HEADINGS = ("为什么需要 RNN？", "RNN 理解及其简单实现", "RNN 完成文本分类任务", "RNN 存在的问题")


@pytest.mark.parametrize("number, path", list(enumerate(NOTEBOOKS, start=1)), ids=lambda p: getattr(p, "stem", ""))
def test_each_notebook_opens_by_naming_its_section_of_the_article(number, path):
    first = "".join(json.loads(path.read_text(encoding="utf-8"))["cells"][0]["source"])
    assert f"section {number}" in first and ARTICLE_HEADINGS[number - 1] in first
