"""The hand-written RNN against torch.nn.RNN (the oracle), torch's cores behind the same interface, the
article's model, corrected, and the name classifier built on them."""
from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnn_tutorial.batching import collate_names
from rnn_tutorial.config import CORES, ModelConfig
from rnn_tutorial.data import LANGUAGES, N_LETTERS, line_to_tensor, name_to_indices
from rnn_tutorial.rnn import RNN, SequenceClassifier, RNNCell, RNNDemo, make_core, unroll
from rnn_tutorial.seeding import set_seed


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


def ragged_letters(batch: int = 5, seq: int = 6, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, N_LETTERS, (batch, seq), generator=g), torch.tensor([6, 1, 3, 6, 2])


def names_batch(names: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    x, lengths, _ = collate_names([(name_to_indices(n), 0) for n in names])
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


# ---- the cell, and the one recurrence loop -----------------------------------------------------

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


def step_by_step(cell: RNNCell, x: torch.Tensor, h_0: torch.Tensor) -> torch.Tensor:
    """The formula as notebook 2 teaches it: one `cell(x_t, h_prev)` call per letter -> (batch, seq, hidden)."""
    h, states = h_0, []
    for t in range(x.shape[1]):
        h = cell(x[:, t], h)
        states.append(h)
    return torch.stack(states, dim=1)


@pytest.mark.parametrize("letters", [True, False], ids=["letter-indices", "float-rows"])
@pytest.mark.parametrize("with_h_0", [True, False], ids=["h_0", "zeros"])
def test_unroll_is_stepping_the_cell_by_hand_bit_for_bit(letters, with_h_0):
    torch.manual_seed(0)
    cell = RNNCell(N_LETTERS, 8).double()
    x = ragged_letters()[0] if letters else torch.randn(5, 6, N_LETTERS, dtype=torch.float64)
    h_0 = torch.randn(5, 8, dtype=torch.float64) if with_h_0 else None
    states = unroll(cell, x, h_0)
    assert len(states) == 6 and states[0].shape == (5, 8)
    expected = step_by_step(cell, x, h_0 if with_h_0 else torch.zeros(5, 8, dtype=torch.float64))
    assert torch.equal(torch.stack(states, dim=1), expected)  # the same additions in the same order


def test_rnn_forward_is_stepping_the_cell_by_hand():
    torch.manual_seed(0)
    rnn = RNN(N_LETTERS, 8).double()
    x, lengths = ragged_letters()
    h_0 = torch.randn(5, 8, dtype=torch.float64)
    states, h_last = rnn(x, lengths, h_0)
    expected = step_by_step(rnn.cell, x, h_0)
    assert torch.equal(states, expected)
    assert torch.equal(h_last, expected[torch.arange(5), lengths - 1])
    ours = torch.autograd.grad(h_last.sum(), list(rnn.parameters()))
    ref = torch.autograd.grad(expected[torch.arange(5), lengths - 1].sum(), list(rnn.parameters()))
    for a, b in zip(ours, ref):
        assert torch.allclose(a, b, atol=1e-12)


def test_states_are_the_same_with_and_without_gradients():
    torch.manual_seed(1)
    rnn = RNN(N_LETTERS, 8)
    x, lengths = ragged_letters()
    with_grad = rnn(x, lengths)
    with torch.no_grad():
        without = rnn(x, lengths)
    for a, b in zip(with_grad, without):
        assert torch.equal(a.detach(), b)


def test_an_unknown_nonlinearity_is_refused_by_name():
    with pytest.raises(ValueError, match="nonlinearity must be one of .*'sigmoid'"):
        RNNCell(3, 4, nonlinearity="sigmoid")


def test_last_state_is_read_at_each_sequences_own_last_letter():
    torch.manual_seed(4)
    layer = RNN(N_LETTERS, 8)
    names = ["Li", "Albert", "Ng"]
    x, lengths = names_batch(names)
    _, h_last = layer(x, lengths)
    for i, name in enumerate(names):
        alone = name_to_indices(name)[None]
        assert torch.allclose(h_last[i], layer(alone)[1][0], atol=1e-6), name
    x_other_padding = x.clone()
    x_other_padding[0, 2:] = 7
    assert torch.allclose(layer(x_other_padding, lengths)[1], h_last)


# ---- torch's cores behind the same interface ---------------------------------------------------

TORCH_LAYERS = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}


@pytest.mark.parametrize("core", sorted(TORCH_LAYERS))
def test_torch_cores_answer_with_states_and_torchs_own_last_state(core):
    torch.manual_seed(0)
    layer = make_core(core, N_LETTERS, 6)
    twin = TORCH_LAYERS[core](N_LETTERS, 6, batch_first=True)
    twin.load_state_dict(layer.state_dict())  # the same weights under the same names
    x, lengths = ragged_letters()
    states, last = layer(x, lengths)
    one_hot = nn.functional.one_hot(x, N_LETTERS).float()
    _, h_n = twin(pack_padded_sequence(one_hot, lengths, batch_first=True, enforce_sorted=False))
    h_n = h_n[0] if core == "lstm" else h_n  # the LSTM's (H, C): the states are H
    assert states.shape == (5, 6, 6)
    assert torch.equal(last, h_n[0])
    assert torch.equal(states[torch.arange(5), lengths - 1], h_n[0])
    full_states, full_last = layer(x)
    assert torch.equal(full_last, full_states[:, -1])
    assert torch.equal(full_states, twin(one_hot)[0])


def test_an_unknown_core_is_refused():
    with pytest.raises(ValueError, match="core must be one of"):
        make_core("transformer", N_LETTERS, 8)


# ---- the article's model, corrected ----------------------------------------------------------------

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


def letter_by_letter(model: RNNDemo, line: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The article's loop as published: call the model once per letter from H_0 = 0."""
    hidden, outputs, states = torch.zeros(1, model.hidden_size, dtype=line.dtype), [], []
    for x_t in line:
        output, hidden = model(x_t, hidden)
        outputs.append(output)
        states.append(hidden)
    return torch.stack(outputs), torch.stack(states)


@pytest.mark.parametrize("article_bugs", [False, True])
def test_read_is_the_letter_by_letter_loop(article_bugs):
    set_seed(0)
    model = RNNDemo(N_LETTERS, 16, len(LANGUAGES), article_bugs=article_bugs)
    line = line_to_tensor("Schmidhuber")
    outputs, states = model.read(line)
    assert outputs.shape == (11, 1, len(LANGUAGES)) and states.shape == (11, 1, 16)
    expected_outputs, expected_states = letter_by_letter(model, line)
    assert torch.equal(outputs, expected_outputs) and torch.equal(states, expected_states)


@pytest.mark.parametrize("article_bugs", [False, True])
def test_classify_is_the_last_output_of_read_with_the_same_gradients(article_bugs):
    set_seed(0)
    model = RNNDemo(N_LETTERS, 16, len(LANGUAGES), article_bugs=article_bugs)
    line = line_to_tensor("Schmidhuber")
    fast, slow = model.classify(line), model.read(line)[0][-1]
    assert fast.shape == (1, len(LANGUAGES))
    if article_bugs:
        assert torch.equal(fast, slow)  # the article's version runs `read` itself
    else:
        assert torch.allclose(fast, slow, atol=1e-6)  # the same sums, grouped differently
    model, line, label = model.double(), line.double(), torch.tensor([6])
    grads = []
    for forward in (model.classify, lambda letters: model.read(letters)[0][-1]):
        model.zero_grad()
        nn.functional.nll_loss(forward(line), label).backward()
        grads.append([p.grad.clone() for p in model.parameters()])
    assert all(torch.allclose(a, b, atol=1e-12) for a, b in zip(*grads))


# ---- the name classifier ---------------------------------------------------------------------

@pytest.mark.parametrize("core", CORES)
def test_classifier_ignores_padding_for_every_core(core):
    torch.manual_seed(7)
    model = SequenceClassifier(ModelConfig(16, core, readout="last")).eval()
    names = ["Li", "Schmidhuber", "Ng"]
    x, lengths = names_batch(names)
    batch = model(x, lengths)
    assert batch.shape == (3, 18)
    assert torch.allclose(batch.exp().sum(dim=1), torch.ones(3), atol=1e-5)
    for i, name in enumerate(names):
        alone = name_to_indices(name)[None]
        assert torch.allclose(batch[i], model(alone, torch.tensor([alone.shape[1]]))[0], atol=1e-5), name


@pytest.mark.parametrize("core", ["hand", "gru"])
def test_max_readout_is_the_max_over_each_names_own_states(core):
    set_seed(0)
    model = SequenceClassifier(ModelConfig(8, core, readout="max")).eval()
    names = ["Li", "Schmidhuber", "Nakamura"]
    x, lengths = names_batch(names)
    pooled = model.features(x, lengths)
    for i, n in enumerate(names):
        states = model.core(name_to_indices(n)[None])[0][0]
        assert torch.allclose(pooled[i], states.max(dim=0).values, atol=1e-6)  # padding never wins the max


@pytest.mark.parametrize("readout", ["last", "max"])
def test_merged_model_averages_the_logits_of_its_parts(readout):
    set_seed(0)
    parts = [SequenceClassifier(ModelConfig(6, readout=readout)).eval() for _ in range(3)]
    merged = SequenceClassifier.merge(parts).eval()
    x, lengths = names_batch(["Li", "Schmidhuber", "Nakamura"])
    mean_logits = torch.stack([m.h2o(m.features(x, lengths)) for m in parts]).mean(0)
    assert merged.h2o.in_features == 18
    assert merged.config == ModelConfig(18, "hand", readout, 0.0)  # the summed hidden size
    assert torch.allclose(merged(x, lengths), torch.log_softmax(mean_logits, dim=1), atol=1e-6)


def test_merge_refuses_torch_cores():
    gru = ModelConfig(4, "gru", readout="last")
    with pytest.raises(ValueError, match="hand-core"):
        SequenceClassifier.merge([SequenceClassifier(gru), SequenceClassifier(gru)])


def test_a_bidirectional_cores_last_state_is_what_torch_returns_as_h_n():
    """Forward half: the state after each sequence's last letter; backward half: its state after reading back to step 1."""
    torch.manual_seed(0)
    core = make_core("gru", 5, 3, bidirectional=True)
    x, lengths = torch.randn(4, 6, 5), torch.tensor([6, 2, 4, 1])
    states, last = core(x, lengths)
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    h_n = torch.nn.GRU.forward(core, packed)[1]  # (2, batch, hidden): forward's and backward's final states
    assert states.shape == (4, 6, 6)
    torch.testing.assert_close(last, torch.cat([h_n[0], h_n[1]], dim=1))


def test_the_max_and_last_readout_puts_both_side_by_side():
    torch.manual_seed(0)
    config = ModelConfig(hidden_size=3, core="gru", readout="max+last", embedding_size=4, bidirectional=True)
    model = SequenceClassifier(config)
    x, lengths = torch.tensor([[1, 2, 3], [4, 5, 0]]), torch.tensor([3, 2])
    states, last = model.core(model.embedding(x), lengths)
    features = model.features(x, lengths)
    assert features.shape == (2, 12) and model.h2o.in_features == 12  # (max, last) x (forward, backward) x 3
    torch.testing.assert_close(features[:, 6:], last)
    torch.testing.assert_close(features[1, :6], states[1, :2].amax(dim=0))  # the padded step is not in the max


def test_a_hand_core_cannot_be_bidirectional():
    with pytest.raises(ValueError, match="bidirectional"):
        ModelConfig(core="hand", bidirectional=True)
