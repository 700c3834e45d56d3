"""Tests for rnn_tutorial.marker_task: the MLP, fixed-length names and the "but ..." marker task of notebook 1."""
import pytest
import torch

from rnn_tutorial.config import ModelConfig
from rnn_tutorial.data import ALPHABET, N_LETTERS
from rnn_tutorial.rnn import SequenceClassifier
from rnn_tutorial.marker_task import (BAD, GOOD, LABELS, MARKER, MLP, VOCAB, accuracy_by_position, fixed_length,
                              make_marker_task, n_params, one_hot_window, train_full_batch)


def task(n=200, max_length=10, positions=(0, 3, 8), seed=0):
    return make_marker_task(n, max_length, list(positions), torch.Generator().manual_seed(seed))


def test_mlp_matches_the_article_formulas():
    mlp = MLP(5, 3, 2)
    X = torch.randn(4, 5)
    O = torch.tanh(X @ mlp.W_xh + mlp.b_h) @ mlp.W_hq + mlp.b_q
    assert torch.allclose(mlp(X), O)


def test_mlp_parameter_count_grows_with_input_size():
    # d*h + h + h*q + q: the only term that depends on the input is d*h
    assert n_params(MLP(10, 4, 3)) == 10 * 4 + 4 + 4 * 3 + 3
    assert n_params(MLP(20, 4, 3)) - n_params(MLP(10, 4, 3)) == 10 * 4


def test_fixed_length_cuts_long_names_and_pads_short_ones():
    cut = fixed_length("Albert", 4).view(4, N_LETTERS)
    assert [ALPHABET[i] for i in cut.argmax(1)] == list("Albe")  # 'rt' is lost
    padded = fixed_length("Li", 4).view(4, N_LETTERS)
    assert padded[:2].sum(1).tolist() == [1.0, 1.0] and padded[2:].abs().sum() == 0


def test_marker_sits_only_at_the_requested_positions_and_is_followed_by_the_label():
    words, labels, pos, lengths = task()
    rows = torch.arange(len(words))
    assert set(pos.tolist()) <= {0, 3, 8}
    assert (words[rows, pos] == MARKER).all()
    assert (words[rows, pos + 1] == torch.where(labels == 1, GOOD, BAD)).all()
    # no second "but" inside a sentence, and the sentence ends after its label word
    real = torch.arange(words.shape[1]) < lengths[:, None]
    assert ((words == MARKER) & real).sum(1).eq(1).all()
    assert (lengths >= pos + 2).all() and (lengths <= words.shape[1]).all()


def test_marker_task_uses_every_allowed_length_and_both_labels():
    words, labels, pos, lengths = task(n=2000, positions=(0,))
    assert sorted(set(lengths.tolist())) == list(range(2, 11))
    assert set(labels.tolist()) == {0, 1}


def test_marker_task_is_reproducible_with_the_same_generator():
    a, b = task(seed=3), task(seed=3)
    assert all(torch.equal(x, y) for x, y in zip(a, b))


def test_marker_task_rejects_positions_with_no_room_for_the_label():
    with pytest.raises(ValueError, match="marker positions"):
        task(max_length=10, positions=(9,))


def test_one_hot_window_is_zero_after_each_sentence_ends():
    words, _, _, lengths = task()
    X = one_hot_window(words, lengths).view(len(words), words.shape[1], len(VOCAB))
    assert torch.equal(X.sum(2), (torch.arange(words.shape[1]) < lengths[:, None]).float())


def test_training_fits_the_seen_positions():
    torch.manual_seed(0)
    words, labels, pos, lengths = task(n=300, positions=(1,))
    mlp = MLP(words.shape[1] * len(VOCAB), 16, 2)
    losses = train_full_batch(mlp, (one_hot_window(words, lengths),), labels, steps=100, lr=0.05)
    assert losses[-1] < 0.1 * losses[0]
    acc = accuracy_by_position(mlp, (one_hot_window(words, lengths),), labels, pos)
    assert list(acc) == [1] and acc[1] > 0.95


def test_training_loss_is_the_true_loss_for_log_probability_models():
    # SequenceClassifier returns log-probabilities, not logits: the recorded loss must still be their NLL
    torch.manual_seed(0)
    words, labels, _, lengths = task(n=50)
    rnn = SequenceClassifier(ModelConfig(8, "hand", readout="last"), labels=LABELS, input_size=len(VOCAB))
    with torch.no_grad():
        nll = torch.nn.functional.nll_loss(rnn(words, lengths), labels).item()
    losses = train_full_batch(rnn, (words, lengths), labels, steps=1)
    assert losses[0] == pytest.approx(nll, abs=1e-6)
