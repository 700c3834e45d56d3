"""predict() and checkpoints: bad inputs and mismatched checkpoints fail loudly, good ones round-trip."""
from __future__ import annotations

import pickle

import pytest
import torch

from rnn_tutorial.inference import load_checkpoint, predict, predict_many, save_checkpoint
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
    with pytest.raises(pickle.UnpicklingError):
        load_checkpoint(path)  # weights_only=True: no code runs while loading
