"""benchmarks/final_model_study.py trains what the command line trains, changes one thing per variant, and
never reads the test part."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from rnn_tutorial.config import FINAL_MODEL
from rnn_tutorial.inference import TAUS
from rnn_tutorial.ngrams import NgramBagClassifier, ngram_vocabulary
from rnn_tutorial.rnn import SequenceClassifier
from rnn_tutorial.seeding import set_seed

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import final_model_study as study  # noqa: E402

NAMES = ["Abramov", "Kowalski", "Nakamura", "O'Neill", "Smith", "Li", "Zhang", "Rossi"]


def test_the_final_variant_is_the_command_lines_model_from_the_same_seed():
    set_seed(7)
    ours = SequenceClassifier(FINAL_MODEL, ngram_vocabulary=ngram_vocabulary(NAMES))  # as train_final_model builds it
    ours_next = torch.randn(3)  # where the generator stands when training starts (dropout draws from it)
    set_seed(7)
    theirs = study.VARIANTS["final"][1](NAMES)
    assert ours.bag.vocabulary == theirs.bag.vocabulary
    for (key, a), (_, b) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        assert torch.equal(a, b), key
    assert torch.equal(ours_next, torch.randn(3))


@pytest.mark.parametrize("variant, changed", [("gru", "no bag"), ("min_count2", "vocabulary"),
                                              ("ngrams1to5", "max_n"), ("hidden128", "hidden_size")])
def test_each_variant_changes_one_thing(variant, changed):
    model = study.VARIANTS[variant][1](NAMES + ["Smithson"])
    if changed == "no bag":
        assert model.bag is None and model.config.core == FINAL_MODEL.core
    elif changed == "vocabulary":
        assert "Smi" in model.bag.vocabulary and "Abr" not in model.bag.vocabulary  # 'Smi' is in two names
    elif changed == "max_n":
        assert "^Smit" in model.bag.vocabulary and model.bag.max_n == 5
        assert model.bag.vocabulary.index("^Smit") in model.bag.rows("Smith")  # 5-grams are read, not only stored
    else:
        assert model.config.hidden_size == 128 and model.bag is not None


def test_the_bag_variant_is_the_bag_alone():
    model = study.VARIANTS["bag"][1](NAMES)
    assert isinstance(model, NgramBagClassifier) and model.bag.vocabulary == ngram_vocabulary(NAMES)


def test_the_study_reads_only_the_training_and_validation_parts(split, monkeypatch):
    class NoTest:
        train, val = split.train[:300], split.val[:100]

        @property
        def test(self):
            raise AssertionError("the study read the test part")

    monkeypatch.setattr(study, "FINAL_RECIPE", study.FINAL_RECIPE.__class__(epochs=1))
    log_probs, targets, seconds = study.validation_log_probs("bag", 0, NoTest())
    assert log_probs.shape == (100, 18) and len(targets) == 100 and seconds > 0
    acc0, f1_0, tau, acc, f1 = study.scores_of(log_probs, targets, torch.full((18,), 1 / 18))
    assert 0 <= acc0 <= 1 and tau in TAUS
