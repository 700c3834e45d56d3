"""The teacher kit (tools/kit.py) on small notebooks written here: clean and main-line notebooks keep the
code, ids and kernel; student versions keep no solution code; the zips hold what the folders hold."""
import json
import sys
import zipfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import kit  # noqa: E402

KERNEL = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}}


def code(source, id, tags=(), outputs=True):
    return {"cell_type": "code", "id": id, "metadata": {"tags": list(tags), "execution": {"iopub.execute_input": "x"}},
            "execution_count": 3 if outputs else None, "source": source,
            "outputs": [{"output_type": "stream", "name": "stdout", "text": "out\n"}] if outputs else []}


def markdown(source, id, tags=()):
    return {"cell_type": "markdown", "id": id, "metadata": {"tags": list(tags)}, "source": source}


def notebook(cells):
    return {"cells": cells, "metadata": dict(KERNEL), "nbformat": 4, "nbformat_minor": 5}


LESSON = notebook([
    markdown("# Title\n\nSubtitle.", "m1"),
    code("SEED = 0\n", "c1", tags=["parameters"]),
    code(["x = 1\n", "print(x)"], "c2"),
    markdown("## Recap", "m2"),
    markdown("## Going deeper: more", "m3", tags=["deeper"]),
    code("y = 2\nprint(y)", "c3", tags=["deeper", "nbval-ignore-output"]),
    markdown("## Further reading", "m4"),
])

SOLUTION = notebook([
    markdown("# Solutions\n\nThe code sits between `### BEGIN SOLUTION` and `### END SOLUTION`.", "s0"),
    code("QUICK = False\n", "s1", tags=["parameters"]),
    markdown("**Exercise 1.** Do it.", "s2"),
    code("setup = 1\n### BEGIN SOLUTION\nsecret_answer = setup + 41\n### END SOLUTION\nprint(secret_answer)", "s3"),
    code("def f(x):\n    ### BEGIN SOLUTION\n    return hidden_trick(x)\n    ### END SOLUTION\n", "s4"),
])


def code_sources(nb):
    return [(c["id"], kit.source_text(c)) for c in nb["cells"] if c["cell_type"] == "code"]


def test_clean_notebook_keeps_code_ids_and_kernel_without_outputs():
    clean = kit.without_outputs(LESSON)
    assert code_sources(clean) == code_sources(LESSON)
    assert [c["id"] for c in clean["cells"]] == [c["id"] for c in LESSON["cells"]]
    assert clean["metadata"] == LESSON["metadata"]
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in clean["cells"] if c["cell_type"] == "code")
    assert all("execution" not in c["metadata"] for c in clean["cells"])
    assert LESSON["cells"][2]["outputs"], "the original is not modified"


def test_main_line_drops_exactly_the_deeper_cells():
    main = kit.main_line(LESSON)
    kept = [c for c in LESSON["cells"] if "deeper" not in c["metadata"]["tags"]]
    assert [c["id"] for c in main["cells"]] == [c["id"] for c in kept] == ["m1", "c1", "c2", "m2", "m4"]
    assert code_sources(main) == [(c["id"], kit.source_text(c)) for c in kept if c["cell_type"] == "code"]
    assert main["metadata"] == LESSON["metadata"]


def test_student_version_replaces_every_solution_block():
    student = kit.student_version(SOLUTION)
    text = json.dumps(student)
    assert "secret_answer = setup" not in text and "hidden_trick" not in text
    assert "### BEGIN SOLUTION" not in "".join(src for _, src in code_sources(student))
    cells = dict(code_sources(student))
    assert cells["s3"] == "setup = 1\n# YOUR CODE HERE\nraise NotImplementedError\nprint(secret_answer)"
    assert cells["s4"] == "def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError\n"
    assert cells["s1"] == "QUICK = False\n"  # cells without a solution block are kept as they are
    assert [c["id"] for c in student["cells"]] == [c["id"] for c in SOLUTION["cells"]]
    assert kit.source_text(student["cells"][0]) == kit.source_text(SOLUTION["cells"][0])  # prose untouched


@pytest.mark.parametrize("source", [
    "### BEGIN SOLUTION\nx = 1\n",  # never closed
    "x = 1\n### END SOLUTION\n",  # never opened
    "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n",  # nested
])
def test_unbalanced_markers_are_refused(source):
    with pytest.raises(ValueError):
        kit.strip_solution(source, "# YOUR CODE HERE")


def test_a_solution_notebook_without_solution_blocks_is_refused():
    with pytest.raises(ValueError, match="no"):
        kit.student_version(LESSON)


def write_repo(root):
    """A repository with one lesson and one solution in each edition."""
    for nb_dir, sol_dir in kit.EDITIONS.values():
        kit.write_notebook(LESSON, root / nb_dir / "01_x.ipynb")
        kit.write_notebook(SOLUTION, root / sol_dir / "01_x.ipynb")
    (root / "LICENSE").write_text("MIT License\n")


def test_build_writes_both_editions_and_their_zips(tmp_path):
    write_repo(tmp_path)
    kit.build(tmp_path / "kit", root=tmp_path)
    for edition in kit.EDITIONS:
        folder = tmp_path / "kit" / edition
        written = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.ipynb"))
        assert written == ["clean/01_x.ipynb", "exercises/01_x.ipynb", "main-line/01_x.ipynb", "solutions/01_x.ipynb"]
        assert code_sources(kit.read_notebook(folder / "clean/01_x.ipynb")) == code_sources(LESSON)
        assert kit.read_notebook(folder / "solutions/01_x.ipynb") == SOLUTION
        assert kit.PLACEHOLDER[edition] in json.dumps(kit.read_notebook(folder / "exercises/01_x.ipynb"),
                                                      ensure_ascii=False)
        with zipfile.ZipFile(tmp_path / "kit" / f"rnn-tutorial-kit-{edition}.zip") as zf:
            top = f"rnn-tutorial-kit-{edition}/"
            assert sorted(zf.namelist()) == sorted([top + "LICENSE", top + "README.txt"] + [top + w for w in written])
            for name in written:
                assert json.loads(zf.read(top + name)) == kit.read_notebook(folder / name)


def test_build_is_reproducible_and_removes_stale_notebooks(tmp_path):
    write_repo(tmp_path)
    kit.build(tmp_path / "kit", root=tmp_path)
    first = (tmp_path / "kit" / "rnn-tutorial-kit-en.zip").read_bytes()
    (tmp_path / "notebooks" / "01_x.ipynb").rename(tmp_path / "notebooks" / "02_y.ipynb")
    kit.build(tmp_path / "kit", root=tmp_path)
    assert not (tmp_path / "kit" / "en" / "clean" / "01_x.ipynb").exists()
    (tmp_path / "notebooks" / "02_y.ipynb").rename(tmp_path / "notebooks" / "01_x.ipynb")
    kit.build(tmp_path / "kit", root=tmp_path)
    assert (tmp_path / "kit" / "rnn-tutorial-kit-en.zip").read_bytes() == first


def test_the_committed_notebooks_give_a_kit_with_the_same_code(tmp_path):
    """On the repository itself: every clean notebook has the committed notebook's code cells."""
    kit.build(tmp_path, root=kit.ROOT)
    for edition, (nb_dir, _) in kit.EDITIONS.items():
        for path in sorted((kit.ROOT / nb_dir).glob("*.ipynb")):
            nb = kit.read_notebook(path)
            assert code_sources(kit.read_notebook(tmp_path / edition / "clean" / path.name)) == code_sources(nb)
            main = kit.read_notebook(tmp_path / edition / "main-line" / path.name)
            assert code_sources(main) == code_sources(kit.main_line(nb))
            assert not any(kit.is_deeper(c) for c in main["cells"])


def outside_lines(source):
    """The lines of a code cell's source outside its solution blocks (markers excluded)."""
    inside, lines = False, []
    for line in source.splitlines():
        if line.strip() in (kit.BEGIN, kit.END):
            inside = line.strip() == kit.BEGIN
        elif not inside:
            lines.append(line)
    return lines


def test_the_committed_solutions_give_student_versions_without_solution_code():
    """Each student cell is its solution cell's code outside the blocks, plus the placeholders: nothing else."""
    for edition, (_, sol_dir) in kit.EDITIONS.items():
        for path in sorted((kit.ROOT / sol_dir).glob("*.ipynb")):
            nb = kit.read_notebook(path)
            student = kit.student_version(nb, kit.PLACEHOLDER[edition])
            assert len(student["cells"]) == len(nb["cells"])
            blocks = 0
            for original, new in zip(nb["cells"], student["cells"]):
                if original["cell_type"] != "code":
                    assert new == original
                    continue
                before, after = kit.source_text(original), kit.source_text(new)
                kept = [line for line in after.splitlines()
                        if line.strip() not in (kit.PLACEHOLDER[edition], "raise NotImplementedError")]
                assert kept == outside_lines(before), f"{path.name}, cell {original.get('id')}"
                blocks += before.count(kit.BEGIN)
                assert after.count("raise NotImplementedError") - before.count("raise NotImplementedError") == \
                    before.count(kit.BEGIN)
            assert blocks, f"{path.relative_to(kit.ROOT)}: no solution block"
