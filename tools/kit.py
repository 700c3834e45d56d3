"""Teacher kit (make kit): clean, main-line and exercise notebooks for both editions, in build/kit/.

For each edition (en: notebooks/, solutions/; zh: notebooks/zh/, solutions/zh/) it writes
  clean/        the notebooks without outputs (cell ids, tags and kernel metadata kept),
  main-line/    the same with every cell tagged `deeper` removed,
  solutions/    the worked solution notebooks as committed (executed, with outputs),
  exercises/    their student versions: the code between `### BEGIN SOLUTION` and `### END SOLUTION`
                replaced by a placeholder, outputs removed (generated here, never kept by hand),
and one zip per edition (rnn-tutorial-kit-<edition>.zip) that the site offers for download.
"""
import argparse
import copy
import json
import shutil
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EDITIONS = {"en": ("notebooks", "solutions"), "zh": ("notebooks/zh", "solutions/zh")}
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
PLACEHOLDER = {"en": "# YOUR CODE HERE", "zh": "# 在这里写你的代码"}
ZIP_TIME = (2026, 1, 1, 0, 0, 0)  # fixed timestamps: the same notebooks give the same zip


def read_notebook(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


def write_notebook(nb, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def source_text(cell):
    """A cell's source as one string (notebooks store it as a list of lines or a string)."""
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def is_deeper(cell):
    return "deeper" in cell.get("metadata", {}).get("tags", [])


def without_outputs(nb):
    """A copy of nb with no outputs and no execution counts; ids, tags and kernel metadata kept."""
    nb = copy.deepcopy(nb)
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
        cell.get("metadata", {}).pop("execution", None)  # kernel timestamps of the last run
    return nb


def main_line(nb):
    """A copy of nb without outputs and without the cells tagged `deeper`."""
    nb = without_outputs(nb)
    nb["cells"] = [cell for cell in nb["cells"] if not is_deeper(cell)]
    return nb


def strip_solution(code, placeholder):
    """code with each BEGIN/END SOLUTION block (markers included) replaced by placeholder and a raise."""
    out, inside = [], False
    for line in code.splitlines(keepends=True):
        marker = line.strip()
        if marker == BEGIN:
            if inside:
                raise ValueError(f"nested {BEGIN!r}")
            inside, indent = True, line[: len(line) - len(line.lstrip())]
            out += [f"{indent}{placeholder}\n", f"{indent}raise NotImplementedError\n"]
        elif marker == END:
            if not inside:
                raise ValueError(f"{END!r} without {BEGIN!r}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"{BEGIN!r} without {END!r}")
    return "".join(out)


def student_version(nb, placeholder=PLACEHOLDER["en"]):
    """The exercise notebook: solution blocks replaced, no outputs. Raises if nb has no solution block."""
    nb = without_outputs(nb)
    blocks = 0
    for cell in nb["cells"]:
        text = source_text(cell)
        if cell["cell_type"] != "code":
            continue
        n = sum(line.strip() == BEGIN for line in text.splitlines())
        if n or any(line.strip() == END for line in text.splitlines()):
            cell["source"], blocks = strip_solution(text, placeholder), blocks + n
    if not blocks:
        raise ValueError(f"no {BEGIN!r} block: not a solution notebook")
    return nb


def kit_files(edition, root=ROOT):
    """{path in the kit: notebook} for one edition, from the committed notebooks and solutions."""
    nb_dir, sol_dir = (root / d for d in EDITIONS[edition])
    files = {}
    for path in sorted(nb_dir.glob("*.ipynb")):
        nb = read_notebook(path)
        files[f"clean/{path.name}"] = without_outputs(nb)
        files[f"main-line/{path.name}"] = main_line(nb)
    for path in sorted(sol_dir.glob("*.ipynb")) if sol_dir.is_dir() else []:
        nb = read_notebook(path)
        files[f"solutions/{path.name}"] = nb
        files[f"exercises/{path.name}"] = student_version(nb, PLACEHOLDER[edition])
    return files


README = {
    "en": """Teacher kit for "RNNs with PyTorch, in runnable notebooks" (English edition)

clean/      the four notebooks without outputs (run them in class, top to bottom)
main-line/  the same notebooks with only the main line: every "Going deeper" cell removed
exercises/  the exercise notebooks for students: the solution code replaced by "# YOUR CODE HERE"
solutions/  the worked solutions, executed (set QUICK = True in their first code cell for a short run)

The notebooks import the small package rnn_tutorial: run them in a clone of the repository with its
environment installed (see its README). Their links to the README's errata and to the solutions are relative
to the repository's notebooks/ folder: they work from there.
Licence: code under the MIT licence (LICENSE); prose and figures under CC BY 4.0
(https://creativecommons.org/licenses/by/4.0/): reuse them with attribution.
""",
    "zh": """《用 PyTorch 理解 RNN：可运行的 notebook》教学包（中文版）

clean/      四个 notebook，去掉了全部输出（可以在课堂上从头到尾运行）
main-line/  同样的 notebook，只保留主线：删去了所有“深入”部分的单元格
exercises/  给学生的练习 notebook：解答代码换成了 "# 在这里写你的代码"
solutions/  练习的完整解答，已执行（把第一个代码格中的 QUICK 设为 True 可以快速运行）

这些 notebook 要导入小型软件包 rnn_tutorial：请在克隆的仓库中、装好其环境后运行（见仓库的 README.zh.md）。
其中指向 README 勘误表和解答的链接是相对于仓库的 notebooks/zh/ 文件夹写的：从那里打开时可用。
许可：代码采用 MIT 许可证（LICENSE）；文字和图采用 CC BY 4.0（https://creativecommons.org/licenses/by/4.0/），注明出处即可复用。
""",
}


def write_zip(edition, files, path, root=ROOT):
    """One zip per edition: the notebooks under rnn-tutorial-kit-<edition>/, README.txt and LICENSE."""
    top = f"rnn-tutorial-kit-{edition}"
    entries = {name: json.dumps(nb, indent=1, ensure_ascii=False) + "\n" for name, nb in files.items()}
    entries["README.txt"] = README[edition]
    entries["LICENSE"] = (root / "LICENSE").read_text(encoding="utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(entries):
            info = zipfile.ZipInfo(f"{top}/{name}", ZIP_TIME)
            info.compress_type, info.external_attr = zipfile.ZIP_DEFLATED, 0o644 << 16
            zf.writestr(info, entries[name].encode("utf-8"))


def build(out, root=ROOT):
    """Write the kit of both editions into out/<edition>/ and out/rnn-tutorial-kit-<edition>.zip."""
    out = Path(out)
    for edition in EDITIONS:
        files = kit_files(edition, root)
        shutil.rmtree(out / edition, ignore_errors=True)  # no notebook left from an earlier build
        for name, nb in files.items():
            write_notebook(nb, out / edition / name)
        write_zip(edition, files, out / f"rnn-tutorial-kit-{edition}.zip", root)
        counts = {d: sum(n.startswith(d + "/") for n in files) for d in ("clean", "main-line", "solutions", "exercises")}
        print(f"kit {edition}: " + ", ".join(f"{n} {d}" for d, n in counts.items()))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "build" / "kit"), help="output folder (default build/kit)")
    args = parser.parse_args(argv)
    build(args.out)


if __name__ == "__main__":
    sys.exit(main())
