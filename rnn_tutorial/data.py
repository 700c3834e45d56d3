"""Surnames from text to tensors: folding to ASCII, cleaning, a leakage-free split, letter indices.

Notebook 3 teaches this pipeline (section 1, "Data analysis", with "A split that does not leak";
section 2, "Transforming names into tensors"); notebooks 1 and 2 borrow `line_to_tensor`. Batches are made
in `batching`.
"""
from __future__ import annotations

import random
import string
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .config import SPLIT_SEED
from .plumbing.download import download_names

ALPHABET = string.ascii_letters + " .,;'"  # the article's `all_letters`
N_LETTERS = len(ALPHABET)  # 57
# the 18 languages of the surnames, in label order: alphabetical, the same in every process
LANGUAGES = ("Arabic", "Chinese", "Czech", "Dutch", "English", "French", "German", "Greek", "Irish", "Italian",
             "Japanese", "Korean", "Polish", "Portuguese", "Russian", "Scottish", "Spanish", "Vietnamese")
KNOWN_JUNK = frozenset({"To The First Page"})  # scraped page furniture, not a surname

# Letters that NFD cannot split into base + accent, spelled the usual ASCII way.
_TRANSLITERATE = str.maketrans({
    "ß": "ss", "ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE",
    "œ": "oe", "Œ": "OE", "đ": "d", "Đ": "D", "ı": "i", "þ": "th", "Þ": "Th",
})
_LETTER_INDEX = {letter: i for i, letter in enumerate(ALPHABET)}


def fold_to_ascii(text: str) -> str:
    """'Ślusàrski' -> 'Slusarski': NFD, drop combining marks, transliterate ß, ł, ø, æ, ..."""
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).translate(_TRANSLITERATE)


def normalize_name(line: str) -> str:
    """Fold to ASCII, turn hyphens and odd spaces into one space, trim spaces and commas at the ends.

    Characters still outside ALPHABET (digits, ':', '/') are kept here so that `is_junk`
    can see them; `name_to_indices` drops them.
    """
    folded = fold_to_ascii(line).replace("-", " ")
    return " ".join(folded.split()).strip(" ,;")


def is_junk(name: str) -> bool:
    """A normalized line that is not a surname: page furniture or characters outside ALPHABET."""
    return name in KNOWN_JUNK or not name or any(c not in _LETTER_INDEX for c in name)


def read_lines(root: str | Path | None = None) -> dict[str, list[str]]:
    """{language: raw non-empty lines}, languages sorted, fetching the data on first use."""
    names_dir = download_names(root)
    return {
        lang: [line for line in (names_dir / f"{lang}.txt").read_text("utf-8").split("\n") if line.strip()]
        for lang in LANGUAGES
    }


def load_names(root: str | Path | None = None, drop_junk: bool = True) -> dict[str, list[str]]:
    """{language: normalized names} in sorted language order; duplicates kept, junk dropped."""
    names = {lang: [normalize_name(line) for line in lines] for lang, lines in read_lines(root).items()}
    if drop_junk:
        names = {lang: [n for n in ns if not is_junk(n)] for lang, ns in names.items()}
    return names


@dataclass
class DataReport:
    """What the raw files hold, before any cleaning."""
    lines: dict[str, int]  # non-empty lines per language
    unique: dict[str, int]  # distinct normalized names per language
    junk: list[tuple[str, str]]  # (language, raw line)
    folded: list[tuple[str, str]]  # (raw, normalized) for lines that normalization changed
    multi_label: dict[str, list[str]]  # name -> the languages it appears under (2 or more)
    lengths: list[int] = field(repr=False)  # length of every clean, distinct (name, language) pair


def data_report(raw: dict[str, list[str]]) -> DataReport:
    """Count lines, duplicates, junk, folded accents and names shared between languages."""
    normal = {lang: [normalize_name(line) for line in lines] for lang, lines in raw.items()}
    junk = [(lang, line) for lang in raw for line, n in zip(raw[lang], normal[lang]) if is_junk(n)]
    folded = sorted({(line, n) for lang in raw for line, n in zip(raw[lang], normal[lang])
                     if line != n and not line.isascii()})
    clean = {lang: sorted({n for n in ns if not is_junk(n)}) for lang, ns in normal.items()}
    langs_of = defaultdict(list)
    for lang, ns in clean.items():
        for n in ns:
            langs_of[n].append(lang)
    return DataReport(
        lines={lang: len(lines) for lang, lines in raw.items()},
        unique={lang: len(set(ns)) for lang, ns in normal.items()},
        junk=junk,
        folded=folded,
        multi_label={n: ls for n, ls in sorted(langs_of.items()) if len(ls) > 1},
        lengths=[len(n) for ns in clean.values() for n in ns],
    )


Example = tuple[str, int]  # (normalized name, label index into LANGUAGES)


@dataclass
class Split:
    """Train/val/test lists of distinct (name, label) pairs; no name string is in two parts."""
    train: list[Example]
    val: list[Example]
    test: list[Example]

    def overlap(self, part: str = "test", other: str = "train") -> int:
        """How many distinct names of `part` also occur in `other` (0 by construction)."""
        return len({n for n, _ in getattr(self, part)} & {n for n, _ in getattr(self, other)})

    def best_accuracy(self, part: str = "test") -> float:
        """Ceiling for any classifier: a name under k languages can be right for only one of them."""
        examples = getattr(self, part)
        return len({n for n, _ in examples}) / len(examples)


def make_split(names: dict[str, list[str]], val: float = 0.1, test: float = 0.1, seed: int = 0) -> Split:
    """Deduplicate (name, language) pairs, keep each name's pairs together, stratify by language.

    A name under several languages is stratified by its rarest one, so small classes keep
    their share of the test set.
    """
    if not all(isinstance(s, (int, float)) and 0 <= s < 1 for s in (val, test)) or val + test >= 1:
        raise ValueError(f"val and test must be shares in [0, 1) leaving some names for training, got {val=}, {test=}")
    pairs = sorted({(n, LANGUAGES.index(lang)) for lang, ns in names.items() for n in ns})
    labels_of = defaultdict(list)
    for n, y in pairs:
        labels_of[n].append(y)
    size = Counter(y for _, y in pairs)
    strata = defaultdict(list)
    for n, ys in labels_of.items():
        strata[min(ys, key=lambda y: (size[y], y))].append(n)
    rng, parts = random.Random(seed), {"train": [], "val": [], "test": []}
    for y in sorted(strata):
        group = sorted(strata[y])
        rng.shuffle(group)
        n_test, n_val = round(test * len(group)), round(val * len(group))
        for part, chunk in (("test", group[:n_test]), ("val", group[n_test:n_test + n_val]),
                            ("train", group[n_test + n_val:])):
            parts[part] += [(n, label) for n in chunk for label in labels_of[n]]
    return Split(**{part: sorted(examples) for part, examples in parts.items()})


def load_split(seed: int = SPLIT_SEED) -> Split:
    """The split of the whole data set that the notebooks, the tests and the command line share."""
    return make_split(load_names(), seed=seed)


def targets_of(examples: list[Example]) -> torch.Tensor:
    """(n,) label indices of `examples`."""
    return torch.tensor([y for _, y in examples])


def label_counts(examples: list[Example], n_labels: int = len(LANGUAGES)) -> torch.Tensor:
    """(n_labels,) how many of `examples` carry each label."""
    if not all(isinstance(y, int) and 0 <= y < n_labels for _, y in examples):
        raise ValueError(f"examples must be (name, label) pairs with labels in 0..{n_labels - 1}")
    return torch.bincount(targets_of(examples), minlength=n_labels)


def class_prior(examples: list[Example], n_labels: int = len(LANGUAGES)) -> torch.Tensor:
    """(n_labels,) share of each label in `examples`: the prior a model trained on them learns."""
    if not examples:
        raise ValueError("class_prior needs at least one example")
    return label_counts(examples, n_labels).double().div(len(examples)).float()


def letter_indices(name: str) -> list[int]:
    """'Albert' -> [26, 11, 1, 4, 17, 19]; characters outside ALPHABET are dropped.

    ValueError for a non-string, an empty name, or one with no letter of the alphabet.
    """
    if not isinstance(name, str):
        raise ValueError(f"a name must be a string, got {type(name).__name__}")
    if not name.strip():
        raise ValueError("the name is empty")
    kept = [c for c in normalize_name(name) if c in _LETTER_INDEX]
    if not any(c.isalpha() for c in kept):
        raise ValueError(f"name contains no letters from the alphabet: {name!r}")
    return [_LETTER_INDEX[c] for c in kept]


def name_to_indices(name: str) -> torch.Tensor:
    """'Albert' -> LongTensor (6,) of letter indices (see `letter_indices`)."""
    return torch.tensor(letter_indices(name), dtype=torch.long)


def line_to_tensor(name: str) -> torch.Tensor:
    """The article's one-hot encoding: 'Albert' -> (6, 1, 57), one row per letter."""
    indices = name_to_indices(name)
    return torch.nn.functional.one_hot(indices, N_LETTERS).float().unsqueeze(1)
