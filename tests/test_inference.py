"""predict() and checkpoints: bad inputs and mismatched checkpoints fail loudly, good ones round-trip."""
from __future__ import annotations

import pytest
import torch

from rnn_tutorial.inference import (CheckpointError, adjust_logits, class_prior, load_checkpoint, predict,
                                    predict_many, save_checkpoint)
from rnn_tutorial.rnn import NameClassifier


@pytest.fixture
def model():
    torch.manual_seed(0)
    return NameClassifier(16, core="hand", dropout=0.1).eval()


def test_predict_returns_k_sorted_languages(model):
    guesses = predict(model, "Hinton", k=3)
    assert len(guesses) == 3 and len({lang for lang, _ in guesses}) == 3
    probs = [p for _, p in guesses]
    assert probs == sorted(probs, reverse=True) and sum(probs) <= 1 + 1e-6


@pytest.mark.parametrize("bad, reason", [("", "empty"), ("  ", "empty"), ("123 ?!", "no letters"),
                                         (None, "must be a string"), (42, "must be a string")])
def test_predict_rejects_bad_names_with_a_reason(model, bad, reason):
    with pytest.raises(ValueError, match=reason):
        predict(model, bad)


def test_predict_many_agrees_with_predict_in_input_order(model):
    names = ["Schmidhuber", "Li", "Hinton", "Ng", "Ślusàrski", "Li"]  # lengths out of order, a repeat
    many = predict_many(model, names, k=3, batch_size=2)
    for name, guesses in zip(names, many):
        one = predict(model, name, k=3)
        assert [lang for lang, _ in guesses] == [lang for lang, _ in one], name
        assert [p for _, p in guesses] == pytest.approx([p for _, p in one], abs=1e-6)


def test_predict_many_names_the_bad_name(model):
    with pytest.raises(ValueError, match="'42!'"):
        predict_many(model, ["Hinton", "42!"])


def test_checkpoint_round_trip(model, tmp_path):
    path = save_checkpoint(model, tmp_path / "m.pt", test_accuracy=0.5)
    loaded = load_checkpoint(path)
    assert loaded.core_name == "hand" and loaded.dropout.p == 0.1
    for name in ("Hinton", "Schmidhuber", "Satoshi"):
        assert predict(loaded, name) == predict(model, name)


@pytest.mark.parametrize("field, value, message", [
    ("alphabet", "abc", "another alphabet"),
    ("labels", ["Russian", "Arabic"], "labels"),
])
def test_mismatched_checkpoint_is_refused(model, tmp_path, field, value, message):
    path = save_checkpoint(model, tmp_path / "m.pt")
    checkpoint = torch.load(path, weights_only=True)
    checkpoint[field] = value
    torch.save(checkpoint, path)
    with pytest.raises(ValueError, match=message):
        load_checkpoint(path)


class NotAWeight:
    pass


def test_checkpoint_loading_refuses_arbitrary_objects(model, tmp_path):
    path = save_checkpoint(model, tmp_path / "m.pt")
    checkpoint = torch.load(path, weights_only=True)
    checkpoint["info"] = {"payload": NotAWeight()}
    torch.save(checkpoint, path)
    with pytest.raises(CheckpointError, match="never loaded") as excinfo:
        load_checkpoint(path)  # weights_only=True: no code runs while loading
    assert "weights_only" not in str(excinfo.value)  # torch's advice to load unsafely is not relayed


# ---- issue 10 (length cap, k clamp) and issue 12 (the training prior, logit adjustment) ------------

def test_a_very_long_name_is_refused_quickly(model):
    with pytest.raises(ValueError, match="1000000 characters long; at most 100"):
        predict(model, "a" * 1_000_000)
    with pytest.raises(ValueError, match="name 2: the name is 1000000 characters"):
        predict_many(model, ["Hinton", "a" * 1_000_000])


def test_predict_many_clamps_k_like_predict(model):
    assert len(predict_many(model, ["Hinton"], k=50)[0]) == len(predict(model, "Hinton", k=50)) == 18


SKEWED = torch.tensor([0.5] + [0.5 / 17] * 17)  # Arabic (label 0) half of training, every other language rare


@pytest.mark.parametrize("name", ["Hinton", "Nguyen", "Abadi"])
def test_tau_moves_probability_from_frequent_to_rare_languages(model, name):
    before = dict(predict(model, name, k=18))
    assert dict(predict(model, name, k=18, prior=SKEWED, tau=0.0)) == before  # tau 0: exactly the model
    after = dict(predict(model, name, k=18, prior=SKEWED, tau=1.0))
    assert after["Arabic"] < before["Arabic"]  # the frequent training language loses probability
    rare = [lang for lang in before if lang != "Arabic"]
    assert all(after[lang] > before[lang] for lang in rare)  # p' = p / prior, renormalised
    many = dict(predict_many(model, [name], k=18, prior=SKEWED, tau=1.0)[0])
    assert many == pytest.approx(after, abs=1e-6)


def test_a_uniform_prior_changes_nothing(model):
    uniform = torch.full((18,), 1 / 18)
    assert dict(predict(model, "Hinton", k=18, prior=uniform, tau=1.0)) == pytest.approx(
        dict(predict(model, "Hinton", k=18)), abs=1e-6)


@pytest.mark.parametrize("prior, tau, message", [
    (torch.tensor([0.0] + [1 / 17] * 17), 1.0, "positive"),
    (torch.full((3,), 1 / 3), 1.0, "18 positive"),
    (torch.full((18,), 1 / 18), float("nan"), "finite"),
])
def test_adjust_logits_refuses_a_bad_prior_or_tau(prior, tau, message):
    with pytest.raises(ValueError, match=message):
        adjust_logits(torch.zeros(2, 18), prior, tau)


def test_tau_without_a_prior_is_refused(model):
    with pytest.raises(ValueError, match="training prior"):
        predict(model, "Hinton", tau=1.0)


def test_class_prior_is_the_label_shares():
    assert class_prior(torch.tensor([0, 0, 1, 3]), 4).tolist() == [0.5, 0.25, 0.0, 0.25]
    with pytest.raises(ValueError, match="at least one"):
        class_prior(torch.tensor([], dtype=torch.long), 4)
