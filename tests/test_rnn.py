"""The hand-written RNN against torch.nn.RNN (the oracle), and the article's model, corrected."""
from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnn_tutorial.data import N_LETTERS, collate_names, name_to_indices
from rnn_tutorial.rnn import CORES, RNN, NameClassifier, RNNCell, RNNDemo


def torch_twin(ours: RNN) -> nn.RNN:
    """An nn.RNN holding our weights: torch stores W_xh transposed and splits b_h into two biases."""
    cell = ours.cell
    twin = nn.RNN(cell.input_size, cell.hidden_size, batch_first=True).to(cell.W_xh.dtype)
    with torch.no_grad():
        twin.weight_ih_l0.copy_(cell.W_xh.T)
        twin.weight_hh_l0.copy_(cell.W_hh.T)
        twin.bias_ih_l0.copy_(cell.b_h)
        twin.bias_hh_l0.zero_()
    return twin


@pytest.fixture
def ragged_batch():
    torch.manual_seed(0)
    lengths = torch.tensor([5, 1, 3, 7])
    x = torch.randn(4, 7, 6, dtype=torch.float64)
    for i, n in enumerate(lengths):
        x[i, n:] = 99.0  # loud padding: any read of it would show
    return x, lengths


def test_states_and_gradients_match_torch_rnn(ragged_batch):
    x, lengths = ragged_batch
    ours = RNN(6, 5).double()
    twin = torch_twin(ours)
    states, h_last = ours(x, lengths)
    packed_out, h_n = twin(pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False))
    twin_states, _ = pad_packed_sequence(packed_out, batch_first=True)
    for i, n in enumerate(lengths):
        assert torch.allclose(states[i, :n], twin_states[i, :n], atol=1e-12)
    assert torch.allclose(h_last, h_n[0], atol=1e-12)
    # gradients of the same loss, parameter by parameter
    weights = torch.randn(4, 5, dtype=torch.float64)
    (h_last * weights).sum().backward()
    (h_n[0] * weights).sum().backward()
    assert torch.allclose(ours.cell.W_xh.grad, twin.weight_ih_l0.grad.T, atol=1e-12)
    assert torch.allclose(ours.cell.W_hh.grad, twin.weight_hh_l0.grad.T, atol=1e-12)
    assert torch.allclose(ours.cell.b_h.grad, twin.bias_ih_l0.grad, atol=1e-12)


def test_cell_is_tanh_of_the_formula():
    torch.manual_seed(1)
    cell = RNNCell(3, 4).double()
    with torch.no_grad():
        cell.W_hh.mul_(20)  # large pre-activations: dropping tanh would give values far outside (-1, 1)
    x_t, h_prev = torch.randn(2, 3, dtype=torch.float64), torch.randn(2, 4, dtype=torch.float64)
    expected = torch.tanh(x_t @ cell.W_xh + h_prev @ cell.W_hh + cell.b_h)
    h_t = cell(x_t, h_prev)
    assert torch.allclose(h_t, expected)
    assert h_t.abs().max() < 1 < (x_t @ cell.W_xh + h_prev @ cell.W_hh + cell.b_h).abs().max()


def test_cell_passes_gradcheck():
    torch.manual_seed(2)
    cell = RNNCell(3, 4).double()
    x_t = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
    h_prev = torch.randn(2, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(cell, (x_t, h_prev))


def test_letter_indices_equal_one_hot_rows():
    torch.manual_seed(3)
    cell = RNNCell(N_LETTERS, 8)
    idx = name_to_indices("Albert")
    one_hot = nn.functional.one_hot(idx, N_LETTERS).float()
    h_prev = torch.randn(6, 8)
    assert torch.allclose(cell(idx, h_prev), cell(one_hot, h_prev), atol=1e-6)


def test_last_state_is_read_at_each_sequences_own_last_letter():
    torch.manual_seed(4)
    layer = RNN(N_LETTERS, 8)
    names = ["Li", "Albert", "Ng"]
    x, lengths, _ = collate_names([(name_to_indices(n), 0) for n in names])
    _, h_last = layer(x, lengths)
    for i, name in enumerate(names):
        alone = name_to_indices(name)[None]
        assert torch.allclose(h_last[i], layer(alone)[1][0], atol=1e-6), name
    x_other_padding = x.clone()
    x_other_padding[0, 2:] = 7
    assert torch.allclose(layer(x_other_padding, lengths)[1], h_last)


def test_one_cell_is_shared_by_every_step():
    torch.manual_seed(5)
    layer = RNN(N_LETTERS, 8)
    x = name_to_indices("Schmidhuber")[None]
    states, _ = layer(x)
    h_prev = torch.zeros(1, 8)
    for t in range(x.shape[1]):  # every step is the same cell applied to (x_t, h_{t-1})
        assert torch.allclose(states[:, t], layer.cell(x[:, t], h_prev), atol=1e-6), t
        h_prev = states[:, t]


def demo_inputs(seed: int = 6):
    torch.manual_seed(seed)
    return torch.randn(1, 5), torch.randn(1, 4)


def test_demo_concatenation_equals_split_weights():
    demo = RNNDemo(5, 4, 3)
    x, h = demo_inputs()
    W = demo.i2h.weight.T  # (5 + 4, 4): the first 5 rows act as W_xh, the rest as W_hh
    split_form = torch.tanh(x @ W[:5] + h @ W[5:] + demo.i2h.bias)
    assert torch.allclose(demo(x, h)[1], split_form, atol=1e-6)


def test_corrected_demo_reads_output_from_the_new_state():
    demo = RNNDemo(5, 4, 3)
    x, h = demo_inputs()
    log_probs, h_t = demo(x, h)
    assert torch.allclose(log_probs, torch.log_softmax(demo.i2o(h_t), dim=1))
    assert torch.allclose(log_probs.exp().sum(), torch.tensor(1.0))


def test_article_switch_reproduces_the_linear_bug():
    demo = RNNDemo(5, 4, 3, article_bugs=True)
    x, h = demo_inputs()
    log_probs, h_t = demo(x, h)
    combined = torch.cat((x, h), dim=1)
    assert torch.allclose(h_t, demo.i2h(combined))  # no tanh: the recurrence is linear
    assert torch.allclose(log_probs, torch.log_softmax(demo.i2o(combined), dim=1))  # from H_{t-1}


def test_init_hidden_is_zero():
    assert torch.equal(RNNDemo(5, 4, 3).init_hidden(), torch.zeros(1, 4))


@pytest.mark.parametrize("core", CORES)
def test_classifier_ignores_padding_for_every_core(core):
    torch.manual_seed(7)
    model = NameClassifier(16, core=core).eval()
    names = ["Li", "Schmidhuber", "Ng"]
    x, lengths, _ = collate_names([(name_to_indices(n), 0) for n in names])
    batch = model(x, lengths)
    assert batch.shape == (3, 18)
    assert torch.allclose(batch.exp().sum(dim=1), torch.ones(3), atol=1e-5)
    for i, name in enumerate(names):
        alone = name_to_indices(name)[None]
        assert torch.allclose(batch[i], model(alone, torch.tensor([alone.shape[1]]))[0], atol=1e-5), name


def test_unknown_core_is_refused():
    with pytest.raises(ValueError, match="core must be one of"):
        NameClassifier(core="transformer")
