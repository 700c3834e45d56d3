"""Keep the Chinese notebooks (notebooks/zh/, solutions/zh/) in step with the English ones, by construction.

    python tools/zh_sync.py build    # `make zh`: rebuild every zh notebook from its English notebook
    python tools/zh_sync.py check    # list every problem (what tests/test_translation.py asserts is empty)
    python tools/zh_sync.py apply 01_why_rnn.ipynb texts.json   # {cell id: Chinese markdown} -> zh notebook
    python tools/zh_sync.py apply solutions/01_why_rnn.ipynb texts.json   # the same for a solution notebook

A Chinese notebook is the English notebook with each markdown cell replaced by its translation. Code cells
and their outputs are copied, so the English nbval run covers both editions. Each translated cell records
in its metadata the SHA-256 of the English text it translates (`metadata.translation.source_sha256`) and
keeps the English cell's id: when an English cell changes, its translation is kept but flagged stale until
someone updates the text and the hash.
"""
from __future__ import annotations

import copy
import hashlib
import json
import sys
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
EN_DIR, ZH_DIR = REPO / "notebooks", REPO / "notebooks" / "zh"
# (English folder, Chinese folder): the lessons, and the exercise solutions of the teacher kit
FOLDERS = ((EN_DIR, ZH_DIR), (REPO / "solutions", REPO / "solutions" / "zh"))
UNTRANSLATED = "<!-- 待翻译 / needs translation -->"


def sha256(text: str) -> str:
    """Hex SHA-256 of a cell's source."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def translations(zh: nbformat.NotebookNode | None) -> dict[str, nbformat.NotebookNode]:
    """{English cell id: translated markdown cell} of an existing Chinese notebook."""
    if zh is None:
        return {}
    return {cell.id: cell for cell in zh.cells if cell.cell_type == "markdown"}


def build(en: nbformat.NotebookNode, zh: nbformat.NotebookNode | None) -> nbformat.NotebookNode:
    """The Chinese notebook for `en`: code cells copied, markdown taken from `zh` by cell id.

    A markdown cell with no translation yet gets the English text under an UNTRANSLATED marker.
    """
    known = translations(zh)
    out = copy.deepcopy(en)
    for i, cell in enumerate(en.cells):
        if cell.cell_type != "markdown":
            continue
        if cell.id in known:
            out.cells[i] = copy.deepcopy(known[cell.id])
            out.cells[i].metadata = {**copy.deepcopy(cell.metadata), "translation": known[cell.id].metadata.get(
                "translation", {})}  # the English cell's tags (`deeper`), the translation's record
        else:
            out.cells[i].source = f"{UNTRANSLATED}\n{cell.source}"
            out.cells[i].metadata["translation"] = {"source_sha256": ""}
    return out


def problems(en: nbformat.NotebookNode, zh: nbformat.NotebookNode) -> list[str]:
    """Every way `zh` is not the translation of `en`: structure, code, outputs, stale or missing text."""
    if [(c.cell_type, c.id) for c in en.cells] != [(c.cell_type, c.id) for c in zh.cells]:
        return ["cell structure differs (types or ids): run `make zh`"]
    found = []
    for number, (e, z) in enumerate(zip(en.cells, zh.cells), start=1):
        if e.cell_type == "code":
            for key in ("source", "outputs", "execution_count", "metadata"):
                if e.get(key) != z.get(key):
                    found.append(f"cell {number}: the code cell's {key} differs from the English notebook: run `make zh`")
        elif e.cell_type == "markdown":
            if e.metadata.get("tags", []) != z.metadata.get("tags", []):
                found.append(f"cell {number}: the markdown cell's tags differ from the English cell's: run `make zh`")
            recorded = z.metadata.get("translation", {}).get("source_sha256")
            if UNTRANSLATED in z.source or not recorded:
                found.append(f"cell {number}: not translated yet")
            elif recorded != sha256(e.source):
                found.append(f"cell {number}: the English text changed since it was translated: update the "
                              f"translation and its source_sha256")
            elif z.source == e.source:
                found.append(f"cell {number}: identical to the English text")
    return found


def apply(en: nbformat.NotebookNode, zh: nbformat.NotebookNode, texts: dict[str, str]) -> None:
    """Put each translated text into `zh` (cells by the English id) and record the English source's hash."""
    english = {cell.id: cell for cell in en.cells if cell.cell_type == "markdown"}
    for cell in zh.cells:
        if cell.id in texts:
            if cell.id not in english:
                raise KeyError(f"no English markdown cell with id {cell.id!r}")
            cell.source = texts[cell.id].strip("\n")
            cell.metadata["translation"] = {"source_sha256": sha256(english[cell.id].source)}
    unknown = sorted(set(texts) - set(english))
    if unknown:
        raise KeyError(f"no English markdown cells with ids {unknown}")


def pairs() -> list[tuple[Path, Path]]:
    """(English notebook, Chinese notebook) for every English notebook and solution notebook."""
    return [(en, zh_dir / en.name) for en_dir, zh_dir in FOLDERS for en in sorted(en_dir.glob("*.ipynb"))]


def english_path(name: str) -> Path:
    """The English notebook `name` names: a path such as solutions/01_why_rnn.ipynb, or a bare file name
    (looked up in notebooks/)."""
    path = Path(name)
    if len(path.parts) > 1:
        path = path if path.is_absolute() else REPO / path
        return path.parent.parent / path.name if path.parent.name == "zh" else path
    return EN_DIR / path.name


def read(path: Path) -> nbformat.NotebookNode | None:
    return nbformat.read(path, as_version=4) if path.is_file() else None


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    if command == "apply":
        en_path = english_path(argv[1])
        zh_path = en_path.parent / "zh" / en_path.name
        zh_path.parent.mkdir(exist_ok=True)
        zh = build(read(en_path), read(zh_path))
        apply(read(en_path), zh, json.loads(Path(argv[2]).read_text(encoding="utf-8")))
        nbformat.write(zh, zh_path)
        return 0
    failed = False
    for en_path, zh_path in pairs():
        en = read(en_path)
        if command == "build":
            zh_path.parent.mkdir(exist_ok=True)
            nbformat.write(build(en, read(zh_path)), zh_path)
        zh = read(zh_path)
        found = problems(en, zh) if zh is not None else ["missing: run `make zh`"]
        for problem in found:
            print(f"{zh_path.relative_to(REPO)}: {problem}")
        failed |= bool(found)
    return 1 if failed and command == "check" else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
