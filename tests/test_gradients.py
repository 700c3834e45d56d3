"""Tests for rnn_tutorial.gradients: the measurements notebook 4 builds its claims on."""
import math

import pytest
import torch

from rnn_tutorial.gradients import (SequenceClassifier, decay_rate, first_symbol_task, gradient_norms,
                                    rescale_spectral_norm, scaled_orthogonal, spectral_norm,
                                    train_steps, unroll)
from rnn_tutorial.rnn import RNNCell
from rnn_tutorial.utils import set_seed


def linear_profile(rho: float, T: int = 20) -> torch.Tensor:
    g = set_seed(0)
    cell = RNNCell(3, 8, nonlinearity="identity")
    with torch.no_grad():
        cell.W_hh.copy_(scaled_orthogonal(8, rho, g))
    states = unroll(cell, torch.randn(4, T, 3, generator=g))
    states[-1].sum().backward()
    return gradient_norms(states)


def test_scaled_orthogonal_has_every_singular_value_equal_to_rho():
    W = scaled_orthogonal(16, 1.7, torch.Generator().manual_seed(0))
    assert torch.allclose(torch.linalg.svdvals(W), torch.full((16,), 1.7), atol=1e-5)


def test_rescale_spectral_norm_sets_the_largest_singular_value():
    W = torch.randn(10, 10, generator=torch.Generator().manual_seed(1))
    assert spectral_norm(rescale_spectral_norm(W, 0.3)) == pytest.approx(0.3, rel=1e-5)


@pytest.mark.parametrize("rho", [0.5, 1.0, 1.5])
def test_linear_recurrence_gradient_scales_by_exactly_rho_per_step(rho):
    norms = linear_profile(rho)
    ratios = norms[:-1] / norms[1:]  # ||dL/dH_t|| / ||dL/dH_{t+1}||
    assert torch.allclose(ratios, torch.full_like(ratios, rho), rtol=1e-4)
    assert decay_rate(norms) == pytest.approx(rho, rel=1e-4)


def test_unroll_matches_the_packaged_rnn_and_fills_state_gradients():
    from rnn_tutorial.rnn import RNN
    set_seed(0)
    rnn = RNN(3, 5)
    x = torch.randn(2, 6, 3)
    states = unroll(rnn.cell, x)
    assert torch.allclose(torch.stack(states, dim=1), rnn(x)[0])
    states[-1].sum().backward()
    assert gradient_norms(states).shape == (6,)


def test_tanh_gradient_never_beats_the_spectral_norm_bound():
    g = set_seed(0)
    cell = RNNCell(3, 8)
    with torch.no_grad():
        cell.W_hh.copy_(rescale_spectral_norm(torch.randn(8, 8, generator=g), 1.5))
    states = unroll(cell, torch.randn(4, 15, 3, generator=g))
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
    model = SequenceClassifier(core, 5, 6, 4, keep_bias=3.0 if core in ("gru", "lstm") else None)
    x, y = first_symbol_task(8, 9, generator=torch.Generator().manual_seed(0))
    norms = model.state_gradients(x, y)
    assert norms.shape == (10,) and torch.all(norms > 0)
    assert all(p.grad is None or torch.all(p.grad == 0) for p in model.parameters())


def test_keep_bias_opens_the_memory_gate():
    set_seed(0)
    lstm = SequenceClassifier("lstm", 5, 6, 4, keep_bias=3.0).core
    b = lstm.bias_ih_l0 + lstm.bias_hh_l0
    assert torch.all(b[6:12] == 3.0)  # forget gate f = sigmoid(3) = 0.95 before any input


def test_short_distance_task_is_learned_and_the_log_keeps_the_unclipped_norm():
    g = set_seed(0)
    x, y = first_symbol_task(500, 3, generator=g)
    model = SequenceClassifier("hand", 5, 16, 4)
    log = train_steps(model, x, y, steps=150, lr=0.01, clip=0.5, generator=g)
    assert not log.diverged and len(log.loss) == 150
    assert max(log.grad_norm) > 0.5  # the log holds the norm before clipping
    assert sum(log.loss[-10:]) / 10 < 0.5 * math.log(4)
