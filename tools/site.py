"""Site build (make site): both editions of the notebooks rendered by Sphinx into build/site/.

build/site/index.html chooses the language; en/ and zh/ are the two editions, built from one
configuration (site/conf.py) with the committed notebooks rendered as they are (never executed);
demo/ is site/demo/ copied verbatim; MathJax comes from node_modules/mathjax (npm ci), never a CDN.
Run with the site's environment: .venv-site/bin/python tools/site.py (the Makefile does).
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import kit  # noqa: E402  (tools/kit.py)

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "site"
MATHJAX = ROOT / "node_modules" / "mathjax" / "es5"
# what tex-chtml.js loads at run time: TeX extensions, CommonHTML fonts, the menu and its a11y parts
MATHJAX_PARTS = ["tex-chtml.js", "input", "output/chtml", "ui", "a11y", "sre", "adaptors"]
NOTEBOOK_DIRS = {"en": ROOT / "notebooks", "zh": ROOT / "notebooks" / "zh"}
SOLUTION_DIRS = {"en": ROOT / "solutions", "zh": ROOT / "solutions" / "zh"}
EXERCISES_HEADING = {"en": "## Exercises", "zh": "## 练习"}
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")


def main_line_cells(nb):
    return [c for c in nb["cells"] if not kit.is_deeper(c)]


def heading(cell, level):
    """The text of the first line of a markdown cell if it is a heading of that level, else None."""
    first = kit.source_text(cell).lstrip().split("\n", 1)[0]
    prefix = "#" * level + " "
    return first[len(prefix):].strip() if cell["cell_type"] == "markdown" and first.startswith(prefix) else None


def prose_size(nb, edition):
    """Main-line markdown: whitespace tokens (en) or CJK characters plus the other tokens (zh)."""
    text = "\n".join(kit.source_text(c) for c in main_line_cells(nb) if c["cell_type"] == "markdown")
    if edition == "en":
        return len(text.split())
    return len(CJK.findall(text)) + len(CJK.sub(" ", text).split())


def exercises(nb, edition):
    """[(number, first line)] of the numbered items under the notebook's exercises heading."""
    items, inside = [], False
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown" and kit.source_text(cell).lstrip().startswith("## "):
            inside = kit.source_text(cell).lstrip().startswith(EXERCISES_HEADING[edition])
        if inside and cell["cell_type"] == "markdown":
            for m in re.finditer(r"^(\d+)\.\s+(.+)$", kit.source_text(cell), re.M):
                items.append((int(m.group(1)), m.group(2).strip()))
    return items


def exercise_title(text, limit=100):
    """An exercise's bold title (if any) and first sentence, cut at about limit characters."""
    bold = re.match(r"\*\*(.+?)\*\*\s*", text)
    rest = text[bold.end():] if bold else text
    first = re.split(r"(?<=[.?!])\s+|(?<=[。？！])", rest)[0]
    title = f"**{bold.group(1)}** {first}" if bold else first
    if len(title) <= limit:
        return title
    cut = limit  # cut at a space outside formulas and code, so the cut title still renders
    while cut > 0 and (title[cut] != " " or title[:cut].count("$") % 2 or title[:cut].count("`") % 2):
        cut -= 1
    return title[:cut].rstrip() + " ..."


def cell_seconds(cell):
    """How long a code cell ran in the committed execution (nbconvert's timestamps), or None."""
    times = cell.get("metadata", {}).get("execution", {})
    start, end = times.get("iopub.execute_input"), times.get("shell.execute_reply")
    if not (start and end):
        return None
    return (datetime.fromisoformat(end.replace("Z", "+00:00")) -
            datetime.fromisoformat(start.replace("Z", "+00:00"))).total_seconds()


def run_time(cells):
    """(seconds the code cells ran, date of the run), or (None, None) if a code cell has no timestamps."""
    code = [c for c in cells if c["cell_type"] == "code"]
    seconds = [cell_seconds(c) for c in code]
    if not code or None in seconds:
        return None, None
    return sum(seconds), code[0]["metadata"]["execution"]["iopub.execute_input"][:10]


def duration(seconds, edition="en"):
    if seconds < 1:
        return "不到 1 秒" if edition == "zh" else "under 1 s"
    minutes, seconds = divmod(round(seconds), 60)
    if edition == "zh":
        return f"{minutes} 分 {seconds} 秒" if minutes else f"{seconds} 秒"
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"


def solution_cells(solution_nb):
    """{exercise number: the cells of its solution}: the cells after its text ("**Exercise N.**" or "N. ...")."""
    cells, current = {}, None
    for cell in solution_nb["cells"]:
        number = re.match(r"\W*(?:Exercise|练习)\s*(\d+)|(\d+)\.\s", kit.source_text(cell))
        if cell["cell_type"] == "markdown" and number:
            current = cells.setdefault(int(number.group(1) or number.group(2)), [])
        elif cell["cell_type"] == "markdown" and heading(cell, 2):
            current = None
        elif current is not None:
            current.append(cell)
    return cells


FRAME = {"en": {"Recap", "Exercises", "Further reading"}, "zh": {"小结", "练习", "延伸阅读"}}
CLASS_SECONDS = 120  # a solution that runs within two minutes fits in a class
LABELS = {
    "en": {"class": "in class: its solution runs in {}", "home": "homework: its solution runs in {}",
           "untimed": "its solution's run time is not recorded", "none": "no worked solution yet",
           "unmeasured": "not recorded", "size": "{} words, about {} min", "join": "; ", "rate": 200},
    "zh": {"class": "适合课堂（解答运行时间：{}）", "home": "适合课后（解答运行时间：{}）",
           "untimed": "解答的运行时间没有记录", "none": "暂无解答",
           "unmeasured": "没有记录", "size": "{} 字，约 {} 分钟", "join": "；", "rate": 300},
}


def notebook_rows(edition):
    """Markdown table rows: notebook, what its main line covers, prose size and reading time, run times."""
    lab, rows = LABELS[edition], []
    for path in sorted(NOTEBOOK_DIRS[edition].glob("*.ipynb")):
        nb = kit.read_notebook(path)
        title = next((h for c in nb["cells"] if (h := heading(c, 1))), path.stem)
        sections = [h for c in main_line_cells(nb) if (h := heading(c, 2)) and h not in FRAME[edition]]
        size = prose_size(nb, edition)
        (main, day), (full, _) = run_time(main_line_cells(nb)), run_time(nb["cells"])
        run = [duration(t, edition) if t is not None else lab["unmeasured"] for t in (main, full)]
        reading = lab["size"].format(size, round(size / lab["rate"]))
        rows.append(f"| [{title}]({path.name}) | {lab['join'].join(sections)} | {reading} | {run[0]} | {run[1]} "
                    f"| {day or lab['unmeasured']} |")
    return rows


def exercise_fit(cells, edition):
    lab, (seconds, _) = LABELS[edition], run_time(cells)
    if seconds is None:
        return lab["untimed"]
    return lab["class" if seconds <= CLASS_SECONDS else "home"].format(duration(seconds, edition))


def exercise_rows(edition):
    """Markdown table rows: notebook, exercise, whether it fits a class (from its solution's run time)."""
    lab, rows = LABELS[edition], []
    for path in sorted(NOTEBOOK_DIRS[edition].glob("*.ipynb")):
        solution = SOLUTION_DIRS[edition] / path.name
        solved = solution_cells(kit.read_notebook(solution)) if solution.exists() else {}
        for number, text in exercises(kit.read_notebook(path), edition):
            fit = exercise_fit(solved[number], edition) if number in solved else lab["none"]
            title = exercise_title(text).replace("\\|", "\\Vert ")  # a table cell would read \| as |
            rows.append(f"| {path.stem[:2]} | {number}. {title} | {fit} |")
    return rows


def teacher_page(edition):
    """site/pages/<edition>/teacher.md with its generated tables filled in."""
    page = (SITE / "pages" / edition / "teacher.md").read_text(encoding="utf-8")
    page = page.replace("<!-- NOTEBOOK ROWS -->", "\n".join(notebook_rows(edition)))
    return page.replace("<!-- EXERCISE ROWS -->", "\n".join(exercise_rows(edition)))


README = {"en": "README.md", "zh": "README.zh.md"}
SOLUTIONS_CAPTION = {"en": "Worked solutions", "zh": "练习解答"}
ERRATA_HEADING = {"en": "## Errata", "zh": "## 勘误"}
LINK = re.compile(r"(\]\()([^)\s]+)(\))")


def slug(title):
    """MyST's (GitHub's) anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")


def readme_section(edition, prefix):
    """(title, body) of the README's H2 section whose heading starts with prefix, headings moved up one level."""
    lines = (ROOT / README[edition]).read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(prefix))
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    title = lines[start][3:].strip()
    body = [line[1:] if line.startswith("###") else line for line in lines[start + 1:end]]
    return title, "\n".join(body).strip() + "\n"


def site_pages(edition):
    """{repository path: page in the edition's source folder} for everything the site renders."""
    pages = {f"{NOTEBOOK_DIRS[edition].relative_to(ROOT).as_posix()}/{p.name}": p.name
             for p in sorted(NOTEBOOK_DIRS[edition].glob("*.ipynb"))}
    if SOLUTION_DIRS[edition].is_dir():
        pages.update({f"{SOLUTION_DIRS[edition].relative_to(ROOT).as_posix()}/{p.name}": f"solutions/{p.name}"
                      for p in sorted(SOLUTION_DIRS[edition].glob("*.ipynb"))})
    return pages


def map_link(target, repo_dir, page_dir, edition, pages, errata_slug, unmapped):
    """A relative link of a page that sits at repo_dir in the repository, re-aimed at the site's page."""
    if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
        return target
    path, _, anchor = target.partition("#")
    repo_path = os.path.normpath(os.path.join(repo_dir, path)).replace(os.sep, "/")
    if repo_path == README[edition] and errata_slug.startswith(anchor):  # the errata section, or the README
        page, anchor = "errata.md", ""
    elif repo_path in pages:
        page = pages[repo_path]
    else:
        unmapped.append(target)
        return None
    rel = os.path.relpath(page, page_dir).replace(os.sep, "/")
    return rel + (f"#{anchor}" if anchor else "")


def relink(markdown, map_target):
    """markdown with every [text](target) re-aimed by map_target; a target it maps to None keeps only its text."""
    def one(m):
        target = map_target(m.group(2))
        return m.group(0).replace(m.group(2), target) if target else None

    out, last = [], 0
    for m in LINK.finditer(markdown):
        new = one(m)
        if new is None:  # drop "[" ... "](target)": find the opening bracket of this link
            open_at = markdown.rfind("[", last, m.start())
            out += [markdown[last:open_at], markdown[open_at + 1:m.start()]]
        else:
            out += [markdown[last:m.start()], new]
        last = m.end()
    return "".join(out) + markdown[last:]


def stage_notebook(source, target, repo_dir, page_dir, edition, pages, errata_slug):
    nb, unmapped = kit.read_notebook(source), []
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            cell["source"] = relink(kit.source_text(cell), lambda t: map_link(
                t, repo_dir, page_dir, edition, pages, errata_slug, unmapped))
    for target_link in unmapped:
        print(f"site: {source.relative_to(ROOT)} links to {target_link}, which the site has no page for: kept as text")
    kit.write_notebook(nb, target)


def stage(edition, src, kit_dir):
    """The source folder of one edition: notebooks, solutions, errata, index and teacher pages, kit zip."""
    shutil.rmtree(src, ignore_errors=True)
    (src / "solutions").mkdir(parents=True)
    pages = site_pages(edition)
    title, errata = readme_section(edition, ERRATA_HEADING[edition])
    for repo_path, page in pages.items():
        stage_notebook(ROOT / repo_path, src / page, os.path.dirname(repo_path), os.path.dirname(page),
                       edition, pages, slug(title))
    unmapped = []
    errata = relink(errata, lambda t: map_link(t, "", "", edition, pages, slug(title), unmapped))
    (src / "errata.md").write_text(f"# {title}\n\n{errata}", encoding="utf-8")
    solutions = [f"solutions/{p.stem}" for p in sorted((src / "solutions").glob("*.ipynb"))]
    toctree = "\n".join(["```{toctree}", ":maxdepth: 1", f":caption: {SOLUTIONS_CAPTION[edition]}", "", *solutions,
                         "```"]) if solutions else ""
    index = (SITE / "pages" / edition / "index.md").read_text(encoding="utf-8")
    (src / "index.md").write_text(index.replace("<!-- SOLUTIONS -->", toctree), encoding="utf-8")
    (src / "teacher.md").write_text(teacher_page(edition), encoding="utf-8")
    shutil.copy2(kit_dir / f"rnn-tutorial-kit-{edition}.zip", src / f"rnn-tutorial-kit-{edition}.zip")


# Interface text the theme writes in English whatever the language (hard-coded or missing from its
# zh_CN catalogue), and one line its catalogue gives in Taiwanese usage: replaced on the Chinese pages.
ZH_INTERFACE = {
    'placeholder="Search..."': 'placeholder="搜索..."', 'aria-label="Search..."': 'aria-label="搜索..."',
    'aria-label="Main"': 'aria-label="目录"', 'aria-label="Page"': 'aria-label="本页"',
    'title="Toggle primary sidebar"': 'title="显示或隐藏左侧栏"',
    'title="Toggle secondary sidebar"': 'title="显示或隐藏右侧栏"',
    'title="Color mode"': 'title="颜色模式"', 'aria-label="Color mode"': 'aria-label="颜色模式"',
    'title="System Settings"': 'title="跟随系统"', "</i>System Settings</button>": "</i>跟随系统</button>",
    'title="列印成 PDF"': 'title="打印为 PDF"', "© Copyright ": "© ",
}


def localise_chinese(folder):
    """Apply ZH_INTERFACE to every page of the Chinese edition."""
    for page in folder.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        for english, chinese in ZH_INTERFACE.items():
            html = html.replace(english, chinese)
        page.write_text(html, encoding="utf-8")


def copy_mathjax(dest):
    if not (MATHJAX / "tex-chtml.js").exists():
        raise SystemExit(f"MathJax not found in {MATHJAX.relative_to(ROOT)}: run `npm ci` first")
    for part in MATHJAX_PARTS:
        source, target = MATHJAX / part, dest / part
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def sphinx(edition, src, out, doctrees):
    """Build one edition; warnings are errors (the site builds clean or not at all)."""
    env = dict(os.environ, SITE_LANG=edition)
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-W", "--keep-going", "-n",
           "-c", str(SITE), "-d", str(doctrees), str(src), str(out)]
    subprocess.run(cmd, env=env, check=True)


def build(out, kit_dir, work):
    out, work = Path(out), Path(work)
    kit.build(kit_dir)
    shutil.rmtree(out, ignore_errors=True)
    for edition in ("en", "zh"):
        stage(edition, work / "src" / edition, Path(kit_dir))
        sphinx(edition, work / "src" / edition, out / edition, work / "doctrees" / edition)
        copy_mathjax(out / edition / "_static" / "mathjax")
        if edition == "zh":
            localise_chinese(out / edition)
        for repo_path, page in site_pages(edition).items():  # downloads are the committed notebooks, links as they are
            shutil.copy2(ROOT / repo_path, out / edition / "_sources" / page)
    shutil.copy2(SITE / "root" / "index.html", out / "index.html")
    if (SITE / "demo").is_dir():
        shutil.copytree(SITE / "demo", out / "demo")
    else:
        print("site: no site/demo/ yet: the demo links will not resolve")
    (out / ".nojekyll").write_text("")
    write_stamp(work / "built-from.json")


def write_stamp(path):
    """The SHA-256 of every file the site was built from: tests/test_site.py skips a site built from others."""
    files = sorted({p for e in ("en", "zh") for p in site_pages(e)} | set(README.values()))
    path.write_text(json.dumps({f: hashlib.sha256((ROOT / f).read_bytes()).hexdigest() for f in files}, indent=1))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "build" / "site"))
    parser.add_argument("--kit", default=str(ROOT / "build" / "kit"))
    parser.add_argument("--work", default=str(ROOT / "build" / "site-work"), help="staged sources, doctrees")
    args = parser.parse_args(argv)
    build(args.out, args.kit, args.work)


if __name__ == "__main__":
    sys.exit(main())
