"""benchmarks/final_model_study.py trains what the command line trains, changes one thing per variant, and
never reads the test part."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from rnn_tutorial.config import FINAL_MODEL, Recipe
from rnn_tutorial.data import Split
from rnn_tutorial.inference import TAUS
from rnn_tutorial.ngrams import NgramBag, NgramBagClassifier, ngram_vocabulary
from rnn_tutorial.rnn import SequenceClassifier
from rnn_tutorial.seeding import set_seed
from rnn_tutorial.training import train_seeded

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


@pytest.mark.parametrize("rule", ["sqrt", "mean", "dropout"])
def test_a_weighted_bag_is_built_on_the_final_models_random_numbers(rule):
    set_seed(7)
    study.VARIANTS["final"].build(NAMES)
    after_final = torch.randn(3)
    set_seed(7)
    model = study.with_weighted_bag(rule)(NAMES)
    assert torch.equal(after_final, torch.randn(3))  # same initial weights, same dropout draws after
    assert isinstance(model.bag, study.WeightedBag) and model.bag.vocabulary == ngram_vocabulary(NAMES)


def weighted_and_plain(rule: str, training: bool) -> tuple[torch.Tensor, torch.Tensor, list[int]]:
    bag = study.WeightedBag(ngram_vocabulary(NAMES), rule)
    torch.nn.init.normal_(bag.weights.weight, generator=torch.Generator().manual_seed(0))
    plain = NgramBag(bag.vocabulary)
    plain.load_state_dict(bag.state_dict())
    bag.train(training)
    names = ["Smith", "Kowalski", "Li"]
    return bag(names), plain(names), [len(bag.rows(name)) for name in names]


@pytest.mark.parametrize("rule, power", [("sqrt", 0.5), ("mean", 1.0)])
def test_sqrt_and_mean_divide_each_names_sum(rule, power):
    weighted, plain, counts = weighted_and_plain(rule, training=True)
    expected = plain / torch.tensor(counts, dtype=torch.float)[:, None] ** power
    assert torch.allclose(weighted, expected, atol=1e-6)


def test_ngram_dropout_drops_while_training_only():
    set_seed(3)
    weighted, plain, _ = weighted_and_plain("dropout", training=False)
    assert torch.equal(weighted, plain)
    weighted, plain, _ = weighted_and_plain("dropout", training=True)
    assert not torch.allclose(weighted, plain)


def test_bag_optimizer_sets_the_bags_rate_and_decay_only():
    model = study.VARIANTS["final"].build(NAMES)
    optimizer, schedule = study.bag_optimizer(bag_lr=1e-3, bag_decay=0.1)(model, study.FINAL_RECIPE)
    rest, bag = optimizer.param_groups
    assert [p is model.bag.weights.weight for p in bag["params"]] == [True]
    assert len(rest["params"]) == len(list(model.parameters())) - 1
    assert (bag["lr"], bag["weight_decay"], rest["lr"], rest["weight_decay"]) == (1e-3, 0.1, 3e-3, 0.0)
    assert isinstance(schedule, torch.optim.lr_scheduler.CosineAnnealingLR)


def test_the_study_optimizer_without_changes_steps_as_adam():
    torch.manual_seed(0)
    w = torch.randn(5, requires_grad=True)
    ours = w.detach().clone().requires_grad_()
    adam = torch.optim.Adam([w], lr=3e-3)
    adamw = torch.optim.AdamW([{"params": [ours], "weight_decay": 0.0}], lr=3e-3)
    for _ in range(3):
        for param, opt in ((w, adam), (ours, adamw)):
            opt.zero_grad()
            (param ** 3).sum().backward()
            opt.step()
    assert torch.allclose(w, ours)


def test_training_subset_keeps_a_seeded_fraction_of_the_names_with_all_their_labels():
    train = [("Abel", 0), ("Abel", 1)] + [(name, 2) for name in NAMES]
    split = Split(train, [], [])
    part = study.training_subset(split, 0.5, seed=0)
    kept = {name for name, _ in part.train}
    assert len(kept) == 4 and all(example in part.train for example in train if example[0] in kept)
    assert part.train == study.training_subset(split, 0.5, seed=0).train
    assert any(study.training_subset(split, 0.5, seed=s).train != part.train for s in (1, 2, 3))


def test_train_for_epochs_is_fit_without_stopping(split):
    # one epoch of a 3-epoch cosine runs at the same rate as a 1-epoch one: the schedule steps after the epoch
    examples, recipe = split.train[:200], Recipe(epochs=3, label_smoothing=0.1)
    refit = study.train_for_epochs(examples, seed=5, epochs=1, recipe=recipe)
    names = [name for name, _ in examples]
    fitted, _ = train_seeded(lambda: study.final(names), Split(examples, split.val[:50], []), 5,
                             Recipe(epochs=1, label_smoothing=0.1))
    for (key, a), (_, b) in zip(refit.state_dict().items(), fitted.state_dict().items()):
        assert torch.equal(a, b), key


def test_the_averaging_variants_average_log_probs_and_add_their_seconds(monkeypatch):
    calls = []

    def fake(variant, seed, split):
        calls.append(seed)
        return torch.log_softmax(torch.full((2, 18), float(seed)).tril(), dim=1), torch.tensor([0, 1]), 1.0

    monkeypatch.setattr(study, "validation_log_probs", fake)
    own = fake("final", 3, None)[0]
    baseline = torch.log_softmax(torch.eye(2, 18), dim=1)
    log_probs, _, seconds = study.variant_log_probs("with_baseline", 3, None, (baseline, 2.5))
    assert torch.allclose(log_probs, torch.log_softmax((own + baseline) / 2, dim=1)) and seconds == 3.5
    calls.clear()
    log_probs, _, seconds = study.variant_log_probs("ensemble2", 3, None)
    other = fake("final", 3 + study.ENSEMBLE_OFFSET, None)[0]
    assert calls[:2] == [3, 3 + study.ENSEMBLE_OFFSET] and seconds == 2.0
    assert torch.allclose(log_probs, torch.log_softmax((own + other) / 2, dim=1))
    log_probs, _, seconds = study.variant_log_probs("final", 3, None)
    assert torch.equal(log_probs, own) and seconds == 1.0
