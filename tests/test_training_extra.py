"""Additions for notebook 3: the fast article forward, the final model's options, fit's extras, plots."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from rnn_tutorial.data import LANGUAGES, N_LETTERS, line_to_tensor
from rnn_tutorial.rnn import RNNDemo
from rnn_tutorial.training import article_forward, article_log_probs
from rnn_tutorial.utils import set_seed


def letter_by_letter(model: RNNDemo, line: torch.Tensor) -> torch.Tensor:
    """The article's forward as published: call the model once per letter, keep the last output."""
    hidden = model.init_hidden()
    for x_t in line:
        output, hidden = model(x_t, hidden)
    return output


@pytest.mark.parametrize("article_bugs", [False, True])
def test_article_forward_matches_the_letter_by_letter_loop_and_its_gradients(article_bugs):
    set_seed(0)
    model = RNNDemo(N_LETTERS, 16, len(LANGUAGES), article_bugs=article_bugs).double()
    line, label = line_to_tensor("Schmidhuber").double(), torch.tensor([6])
    grads = []
    for forward in (letter_by_letter, article_forward):
        model.zero_grad()
        out = forward(model, line)
        nn.functional.nll_loss(out, label).backward()
        grads.append((out.detach(), [p.grad.clone() for p in model.parameters()]))
    (out_a, grads_a), (out_b, grads_b) = grads
    assert torch.allclose(out_a, out_b, atol=1e-12)
    assert all(torch.allclose(a, b, atol=1e-12) for a, b in zip(grads_a, grads_b))


def test_article_log_probs_has_one_row_per_name():
    set_seed(0)
    model = RNNDemo(N_LETTERS, 8, len(LANGUAGES))
    log_probs = article_log_probs(model, [("Albert", 0), ("Li", 1), ("O'Neal", 2)])
    assert log_probs.shape == (3, len(LANGUAGES))
    assert torch.allclose(log_probs.exp().sum(1), torch.ones(3))
