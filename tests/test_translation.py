"""The Chinese edition (notebooks/zh/, README.zh.md) stays in step with the English one (tools/zh_sync.py)."""
from __future__ import annotations

import copy
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import zh_sync  # noqa: E402

PAIRS = zh_sync.pairs()


@pytest.mark.parametrize("en_path, zh_path", PAIRS, ids=lambda p: p.stem if isinstance(p, Path) else "")
def test_chinese_notebook_is_a_current_translation(en_path, zh_path):
    assert zh_path.is_file(), "run `make zh`, then translate"
    assert zh_sync.problems(zh_sync.read(en_path), zh_sync.read(zh_path)) == []


@pytest.mark.parametrize("en_path, zh_path", PAIRS, ids=lambda p: p.stem if isinstance(p, Path) else "")
def test_rebuilding_keeps_every_translation(en_path, zh_path):
    zh = zh_sync.read(zh_path)
    assert zh_sync.build(zh_sync.read(en_path), zh) == zh


def first_markdown(nb) -> int:
    return next(i for i, cell in enumerate(nb.cells) if cell.cell_type == "markdown")


def test_a_changed_english_sentence_makes_the_check_fail():
    en_path, zh_path = PAIRS[0]
    en, zh = zh_sync.read(en_path), zh_sync.read(zh_path)
    i = first_markdown(en)
    en.cells[i].source += "\nOne more English sentence."
    assert zh_sync.problems(en, zh) == [f"cell {i + 1}: the English text changed since it was translated: "
                                        "update the translation and its source_sha256"]
    rebuilt = zh_sync.build(en, zh)  # `make zh` keeps the stale translation, still flagged
    assert rebuilt.cells[i].source == zh.cells[i].source and zh_sync.problems(en, rebuilt)


def test_a_changed_output_or_a_new_cell_makes_the_check_fail():
    en_path, zh_path = PAIRS[0]
    en, zh = zh_sync.read(en_path), zh_sync.read(zh_path)
    changed = copy.deepcopy(en)
    code = next(i for i, cell in enumerate(changed.cells) if cell.cell_type == "code" and cell.outputs)
    changed.cells[code].outputs = []
    assert zh_sync.problems(changed, zh) == [f"cell {code + 1}: the code cell's outputs differs from the English notebook: "
                                             "run `make zh`"]
    extra = copy.deepcopy(en)
    extra.cells.insert(0, copy.deepcopy(en.cells[first_markdown(en)]))
    extra.cells[0].id = "a-new-cell"
    assert zh_sync.problems(extra, zh) == ["cell structure differs (types or ids): run `make zh`"]
    assert "not translated yet" in zh_sync.problems(extra, zh_sync.build(extra, zh))[0]


def test_applying_a_translation_records_its_english_source():
    en_path, zh_path = PAIRS[0]
    en, zh = zh_sync.read(en_path), zh_sync.read(zh_path)
    i = first_markdown(en)
    en.cells[i].source += "\nOne more English sentence."
    zh_sync.apply(en, zh, {en.cells[i].id: zh.cells[i].source + "\n再加一句。"})
    assert zh_sync.problems(en, zh) == []


def test_both_readmes_link_each_other():
    repo = zh_sync.REPO
    assert "README.zh.md" in (repo / "README.md").read_text(encoding="utf-8").split("\n", 5)[2]
    zh_readme = (repo / "README.zh.md").read_text(encoding="utf-8")
    assert "README.md" in zh_readme.split("\n", 5)[2]
    english_commands = set(re.findall(r"`(make [a-z-]+)", (repo / "README.md").read_text(encoding="utf-8")))
    assert english_commands and english_commands <= set(re.findall(r"`(make [a-z-]+)", zh_readme))  # same commands


# the article's own headings of its four sections (its table of contents writes the third "用 RNN 完成文本分类任务")
ARTICLE_HEADINGS = ("为什么需要 RNN？", "RNN 理解及其简单实现", "RNN 完成文本分类任务", "RNN 存在的问题")
NOTEBOOK_PAIRS = [pair for pair in PAIRS if pair[0].parent == zh_sync.EN_DIR]


@pytest.mark.parametrize("number, en_path, zh_path", [(n, *pair) for n, pair in enumerate(NOTEBOOK_PAIRS, start=1)],
                         ids=lambda p: p.stem if isinstance(p, Path) else str(p))
def test_each_chinese_notebook_names_its_section_by_the_articles_heading(number, en_path, zh_path):
    assert ARTICLE_HEADINGS[number - 1] in zh_sync.read(zh_path).cells[0].source
