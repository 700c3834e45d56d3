"""Folding, cleaning, label order, the leakage-free split and the tensors built from names."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter

import pytest
import torch

from rnn_tutorial.config import SPLIT_SEED
from rnn_tutorial.data import (ALPHABET, LANGUAGES, N_LETTERS, class_prior, data_report, fold_to_ascii, is_junk,
                               label_counts, line_to_tensor, make_split, name_to_indices, normalize_name,
                               read_lines)


def test_alphabet_is_the_articles_57_symbols():
    assert N_LETTERS == len(set(ALPHABET)) == 57
    assert ALPHABET.endswith(" .,;'")


@pytest.mark.parametrize("raw, folded", [
    ("Ślusàrski", "Slusarski"), ("Müller", "Muller"), ("Groß", "Gross"), ("Marszałek", "Marszalek"),
    ("Abdank-Kossovsky", "Abdank Kossovsky"), ("Lytkin,", "Lytkin"), ("Tsai ", "Tsai"),
])
def test_normalize_folds_accents_instead_of_dropping_letters(raw, folded):
    assert normalize_name(raw) == folded


def test_fold_keeps_the_base_letter_of_every_accented_line():
    # NFD + dropping marks keeps the length for accents; a naive ASCII filter would shorten these
    assert fold_to_ascii("Ślusàrski") == "Slusarski" and len(fold_to_ascii("Ñüñez")) == 5


def test_accented_names_arrive_folded(names):
    assert "Slusarski" in names["Polish"]
    assert all(c in ALPHABET for ns in names.values() for n in ns for c in n)


def test_languages_are_sorted_and_complete(names):
    assert list(names) == list(LANGUAGES) == sorted(LANGUAGES)
    assert len(LANGUAGES) == 18


def test_junk_lines_are_dropped(names):
    everything = {n for ns in names.values() for n in ns}
    for junk in ("Rafaj1", "Lu:", "To The First Page", "Maxa/B"):
        assert is_junk(normalize_name(junk))
        assert normalize_name(junk) not in everything
    assert "Rafaj" not in everything  # dropped, not silently repaired into another name


def test_report_counts_duplicates_junk_and_shared_names():
    report = data_report(read_lines())
    assert sum(report.lines.values()) == 20074
    assert (report.lines["Arabic"], report.unique["Arabic"]) == (2000, 108)
    assert {raw for _, raw in report.junk} >= {"Rafaj1", "Lu:", "To The First Page"}
    assert 450 <= len(report.multi_label) <= 500  # about 470 names carry two or more languages
    assert ("Ślusarski", "Slusarski") in report.folded
    shared_scottish = sum("Scottish" in langs and "English" in langs for langs in report.multi_label.values())
    assert shared_scottish >= 0.9 * report.unique["Scottish"]  # Scottish is almost a subset of English


def test_split_has_no_name_in_two_parts(split):
    for a, b in (("test", "train"), ("val", "train"), ("test", "val")):
        assert split.overlap(a, b) == 0


def test_split_keeps_every_distinct_pair_once(names, split):
    pairs = {(n, LANGUAGES.index(lang)) for lang, ns in names.items() for n in ns}
    together = split.train + split.val + split.test
    assert len(together) == len(set(together)) == len(pairs)
    assert set(together) == pairs


def test_split_is_stratified(split):
    everything = Counter(y for _, y in split.train + split.val + split.test)
    test = Counter(y for _, y in split.test)
    total = sum(everything.values())
    for y, count in everything.items():
        assert abs(test[y] / len(split.test) - count / total) < 0.01, LANGUAGES[y]
        assert test[y] >= 1, f"{LANGUAGES[y]} missing from test"


def test_split_is_seeded(names, split):
    assert SPLIT_SEED == 0 and make_split(names, seed=0) == split  # `split` is `load_split()`
    assert make_split(names, seed=1).test != split.test


def test_best_accuracy_accounts_for_names_with_several_labels(split):
    names_in_test = Counter(n for n, _ in split.test)
    assert split.best_accuracy() == pytest.approx(len(names_in_test) / len(split.test))
    assert 0.95 < split.best_accuracy() < 0.98


def test_labels_and_split_do_not_depend_on_hash_seed():
    code = ("import json; from rnn_tutorial.data import LANGUAGES, load_names, load_split; "
            "s = load_split(); print(json.dumps([LANGUAGES, s.test[:50], list(load_names())]))")
    outputs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}).stdout
               for seed in ("1", "2", "3")]
    assert outputs[0] == outputs[1] == outputs[2]
    assert json.loads(outputs[0])[0] == sorted(LANGUAGES)


def test_line_to_tensor_is_one_hot_per_letter():
    x = line_to_tensor("Albert")
    assert x.shape == (6, 1, 57)
    assert torch.equal(x.sum(dim=2), torch.ones(6, 1))
    assert torch.equal(x.argmax(dim=2).flatten(), name_to_indices("Albert"))
    assert ALPHABET[int(x[0, 0].argmax())] == "A"


@pytest.mark.parametrize("bad", ["", "   ", "123", 42, None])
def test_names_without_letters_are_value_errors(bad):
    with pytest.raises(ValueError):
        name_to_indices(bad)


def test_class_prior_is_the_label_shares(split):
    examples = [("A", 0), ("B", 0), ("C", 1), ("D", 3)]
    assert class_prior(examples, 4).tolist() == [0.5, 0.25, 0.0, 0.25]
    prior = class_prior(split.train)
    assert prior.shape == (len(LANGUAGES),) and prior.sum().item() == pytest.approx(1, abs=1e-6)
    assert torch.allclose(prior, label_counts(split.train) / len(split.train), rtol=1e-6, atol=0)
    assert LANGUAGES[prior.argmax()] == "Russian"
    with pytest.raises(ValueError, match="at least one"):
        class_prior([], 4)
