"""Tests for rnn_tutorial.gradients: the measurements notebook 4 builds its claims on."""
import math

import pytest
import torch

from rnn_tutorial.config import ModelConfig
from rnn_tutorial.gradients import (cosine, decay_rate, first_symbol_task, flat_grad, gradient_norms, open_memory_gate,
                                    orthogonal_recurrence, rescale_spectral_norm, scaled_orthogonal, sequence_accuracy,
                                    spectral_norm, spectral_radius, state_gradients, train_steps)
from rnn_tutorial.rnn import RNNCell, SequenceClassifier, retained, unroll
from rnn_tutorial.seeding import set_seed


def classifier(core: str, hidden_size: int) -> SequenceClassifier:
    """The classifier of notebook 4's long-range task: 5 input columns, 4 symbols, read from the last state."""
    return SequenceClassifier(ModelConfig(hidden_size, core, readout="last"), labels=tuple("ABCD"), input_size=5)


def linear_profile(sigma: float, T: int = 20) -> torch.Tensor:
    g = set_seed(0)
    cell = RNNCell(3, 8, nonlinearity="identity")
    with torch.no_grad():
        cell.W_hh.copy_(scaled_orthogonal(8, sigma, g))
    states = retained(unroll(cell, torch.randn(4, T, 3, generator=g)))
    states[-1].sum().backward()
    return gradient_norms(states)


def test_scaled_orthogonal_has_every_singular_value_equal_to_sigma():
    W = scaled_orthogonal(16, 1.7, torch.Generator().manual_seed(0))
    assert torch.allclose(torch.linalg.svdvals(W), torch.full((16,), 1.7), atol=1e-5)


def test_rescale_spectral_norm_sets_the_largest_singular_value():
    W = torch.randn(10, 10, generator=torch.Generator().manual_seed(1))
    assert spectral_norm(rescale_spectral_norm(W, 0.3)) == pytest.approx(0.3, rel=1e-5)


@pytest.mark.parametrize("sigma", [0.5, 1.0, 1.5])
def test_linear_recurrence_gradient_scales_by_exactly_sigma_per_step(sigma):
    norms = linear_profile(sigma)
    ratios = norms[:-1] / norms[1:]  # ||dL/dH_t|| / ||dL/dH_{t+1}||
    assert torch.allclose(ratios, torch.full_like(ratios, sigma), rtol=1e-4)
    assert decay_rate(norms) == pytest.approx(sigma, rel=1e-4)


def test_spectral_radius_is_the_largest_eigenvalue_and_can_be_far_below_the_norm():
    nilpotent = 1.5 * torch.tensor([[1.0, -1.0], [1.0, -1.0]])  # squares to zero: both eigenvalues 0
    assert spectral_radius(nilpotent) < 1e-3 and spectral_norm(nilpotent) == pytest.approx(3.0, rel=1e-5)
    assert spectral_radius(scaled_orthogonal(6, 0.7, torch.Generator().manual_seed(0))) == pytest.approx(0.7, rel=1e-4)
    W = torch.randn(12, 12, generator=torch.Generator().manual_seed(3))
    assert spectral_radius(W) <= spectral_norm(W) * (1 + 1e-6)


def test_unroll_matches_the_packaged_rnn_and_fills_state_gradients():
    from rnn_tutorial.rnn import RNN
    set_seed(0)
    rnn = RNN(3, 5)
    x = torch.randn(2, 6, 3)
    states = retained(unroll(rnn.cell, x))
    assert torch.allclose(torch.stack(states, dim=1), rnn(x)[0])
    states[-1].sum().backward()
    assert gradient_norms(states).shape == (6,)


def test_tanh_gradient_never_beats_the_spectral_norm_bound():
    g = set_seed(0)
    cell = RNNCell(3, 8)
    with torch.no_grad():
        cell.W_hh.copy_(rescale_spectral_norm(torch.randn(8, 8, generator=g), 1.5))
    states = retained(unroll(cell, torch.randn(4, 15, 3, generator=g)))
    states[-1].sum().backward()
    norms = gradient_norms(states)
    steps_back = torch.arange(14, -1, -1, dtype=torch.float32)
    assert torch.all(norms <= norms[-1] * 1.5 ** steps_back * (1 + 1e-5))


def test_first_symbol_task_label_is_the_marked_first_symbol_and_nothing_else():
    x, y = first_symbol_task(200, 7, n_symbols=4, generator=torch.Generator().manual_seed(0))
    assert x.shape == (200, 8, 5) and y.shape == (200,)
    assert torch.equal(x[:, 0, :4].argmax(1), y)       # recoverable by construction
    assert torch.all(x[:, 0, 4] == 1) and torch.all(x[:, 1:, 4] == 0)  # only step 0 is marked
    assert torch.all(x.sum(-1)[:, 1:] == 1)             # later steps: one symbol of the same alphabet
    assert set(y.tolist()) == {0, 1, 2, 3}


@pytest.mark.parametrize("core", ["hand", "rnn", "gru", "lstm"])
def test_state_gradients_are_measured_for_every_core(core):
    set_seed(0)
    model = classifier(core, 6)
    if core in ("gru", "lstm"):
        open_memory_gate(model, 3.0)
    x, y = first_symbol_task(8, 9, generator=torch.Generator().manual_seed(0))
    norms = state_gradients(model, x, y)
    assert norms.shape == (10,) and torch.all(norms > 0)
    assert all(p.grad is None or torch.all(p.grad == 0) for p in model.parameters())


@pytest.mark.parametrize("core, blocks", [("hand", 1), ("lstm", 4), ("gru", 3)])
def test_orthogonal_start_makes_every_recurrent_block_orthogonal(core, blocks):
    set_seed(0)
    model = orthogonal_recurrence(classifier(core, 6))
    W = model.core.cell.W_hh if core == "hand" else model.core.weight_hh_l0
    assert W.shape == (6 * blocks, 6)
    for block in W.detach().split(6):
        assert torch.allclose(torch.linalg.svdvals(block), torch.ones(6), atol=1e-5)
    set_seed(0)
    default = classifier(core, 6)
    W_default = default.core.cell.W_hh if core == "hand" else default.core.weight_hh_l0
    assert not torch.allclose(torch.linalg.svdvals(W_default.detach()[:6]), torch.ones(6), atol=1e-2)


def test_open_memory_gate_opens_the_forget_gate():
    set_seed(0)
    lstm = open_memory_gate(classifier("lstm", 6), 3.0).core
    b = lstm.bias_ih_l0 + lstm.bias_hh_l0
    assert torch.all(b[6:12] == 3.0)  # forget gate f = sigmoid(3) = 0.95 before any input


def test_short_distance_task_is_learned_and_the_log_keeps_the_unclipped_norm():
    g = set_seed(0)
    x, y = first_symbol_task(500, 3, generator=g)
    model = classifier("hand", 16)
    log = train_steps(model, x, y, steps=150, lr=0.01, clip=0.5, generator=g)
    assert not log.diverged and len(log.loss) == 150
    assert max(log.grad_norm) > 0.5  # the log holds the norm before clipping
    assert sum(log.loss[-10:]) / 10 < 0.5 * math.log(4)


def test_sequence_accuracy_is_the_share_of_right_answers_in_eval_mode():
    set_seed(0)
    x, y = first_symbol_task(30, 4, generator=torch.Generator().manual_seed(0))
    model = classifier("hand", 8)
    with torch.no_grad():
        guesses = model(x).argmax(1)
    assert sequence_accuracy(model, x, guesses) == 1.0 and not model.training
    wrong = (guesses + 1) % 4
    wrong[:10] = guesses[:10]
    assert sequence_accuracy(model, x, wrong) == 1 / 3  # exactly: a float64 mean
    assert sequence_accuracy(model, x, y) == (guesses == y).double().mean().item()


def test_cosine_of_parallel_orthogonal_and_opposite_vectors():
    a = torch.tensor([1.0, 2.0, -3.0])
    assert cosine(a, 2 * a) == pytest.approx(1.0)
    assert cosine(a, -a) == pytest.approx(-1.0)
    assert cosine(torch.tensor([1.0, 0.0]), torch.tensor([0.0, 5.0])) == pytest.approx(0.0)


def test_norm_clipping_keeps_the_direction_and_value_clipping_turns_it():
    g = set_seed(0)
    x, y = first_symbol_task(200, 8, generator=g)
    by_norm = train_steps(classifier("hand", 8), x, y, steps=5, lr=0.01, clip=1e-3, generator=g)
    assert all(c == pytest.approx(1.0, abs=1e-6) for c in by_norm.cosine)
    assert all(n > 1e-3 for n in by_norm.grad_norm)  # so the clipping acted at every step
    set_seed(0)
    model = classifier("hand", 8)
    by_value = train_steps(model, x, y, steps=5, lr=0.01, clip_value=1e-3, generator=g)
    assert max(by_value.cosine) < 0.99            # clamping entries changes the direction
    assert flat_grad(model).abs().max() <= 1e-3   # the last update's entries were clamped
    assert len(by_value.cosine) == len(by_value.loss) == 5


def test_only_gated_cores_have_a_memory_gate():
    with pytest.raises(ValueError, match="gated cores"):
        open_memory_gate(classifier("hand", 6))
