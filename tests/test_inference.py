"""predict() and logit adjustment: bad names fail loudly with a reason, batched prediction agrees with one
name at a time, and tau moves probability from the frequent training languages to the rare ones."""
from __future__ import annotations

import pytest
import torch

from rnn_tutorial.config import ModelConfig
from rnn_tutorial.inference import adjust_logits, choose_tau, encode_names, predict, predict_encoded, predict_many
from rnn_tutorial.rnn import SequenceClassifier


@pytest.fixture
def model():
    torch.manual_seed(0)
    return SequenceClassifier(ModelConfig(16, "hand", readout="last", dropout=0.1)).eval()


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


# ---- the length cap, the k clamp, and the training prior (logit adjustment) ----------------------

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


def test_encode_names_gives_indices_for_good_names_and_a_reason_for_bad_ones():
    encoded, errors = encode_names(["Li", "42", "x" * 101, "Ng"])
    assert encoded == [[37, 8], [], [], [39, 6]]  # letter_indices: "L" is 37, "i" is 8
    assert errors[0] is None and errors[3] is None
    assert "letters" in errors[1] and "101 characters" in errors[2]


def test_predict_many_is_predict_encoded_of_the_encoded_names():
    torch.manual_seed(0)
    model = SequenceClassifier(ModelConfig(8))
    names = ["Hinton", "Li", "Schmidhuber"]
    assert predict_many(model, names) == predict_encoded(model, encode_names(names)[0])
    with pytest.raises(ValueError, match="name 2: "):
        predict_many(model, ["Hinton", "42"])


def test_choose_tau_keeps_accuracy_and_raises_macro_f1():
    """The rare language (prior 0.1) scored a little low: from tau = 0.2 on, both of its names are found
    again and no other name is lost; the smallest such tau wins."""
    prior = torch.tensor([0.85, 0.1, 0.05])
    targets = torch.tensor([0] * 8 + [1] * 2)
    probs = torch.tensor([[0.94, 0.05, 0.01]] * 8 + [[0.55, 0.4, 0.05]] * 2)
    assert choose_tau(probs.log(), targets, prior) == 0.2
    assert choose_tau(probs.log(), targets, prior, taus=(0.0, 0.1)) == 0.0  # 0.1 changes nothing: the first of equals


def test_choose_tau_never_pays_more_accuracy_than_the_slack():
    prior = torch.tensor([0.5, 0.5 - 1e-3, 1e-3])
    targets = torch.tensor([0, 1, 0, 1])
    probs = torch.tensor([[0.6, 0.3, 0.1], [0.3, 0.6, 0.1], [0.6, 0.3, 0.1], [0.3, 0.6, 0.1]])
    assert choose_tau(probs.log(), targets, prior) == 0.0  # from tau = 0.3 on every name goes to the rare language
