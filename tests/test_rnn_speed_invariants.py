"""The speed-ups in `RNN` and `RNNCell` keep the numbers: same states as stepping the cell by hand,
same values with and without gradients, and no per-step zero-fill in backward."""
from __future__ import annotations

import torch

from rnn_tutorial.rnn import RNN


def step_by_step(rnn: RNN, x: torch.Tensor, h_0: torch.Tensor) -> torch.Tensor:
    """The formula as notebook 2 teaches it: one `cell(x_t, h_prev)` call per letter -> (batch, seq, hidden)."""
    h, states = h_0, []
    for t in range(x.shape[1]):
        h = rnn.cell(x[:, t], h)
        states.append(h)
    return torch.stack(states, dim=1)


def ragged_letters(batch: int = 5, seq: int = 6, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 57, (batch, seq), generator=g), torch.tensor([6, 1, 3, 6, 2])


def test_layer_gives_the_same_states_and_gradients_as_stepping_the_cell():
    torch.manual_seed(0)
    rnn = RNN(57, 8).double()
    x, lengths = ragged_letters()
    h_0 = torch.randn(5, 8, dtype=torch.float64)
    states, h_last = rnn(x, lengths, h_0)
    expected = step_by_step(rnn, x, h_0)
    assert torch.equal(states, expected)  # bit for bit: the same additions in the same order
    assert torch.equal(h_last, expected[torch.arange(5), lengths - 1])
    ours = torch.autograd.grad(h_last.sum(), list(rnn.parameters()))
    ref = torch.autograd.grad(expected[torch.arange(5), lengths - 1].sum(), list(rnn.parameters()))
    for a, b in zip(ours, ref):
        assert torch.allclose(a, b, atol=1e-12)


def test_inference_projection_equals_the_training_one():
    torch.manual_seed(1)
    rnn = RNN(57, 8)
    x, lengths = ragged_letters()
    with_grad = rnn(x, lengths)
    with torch.no_grad():
        without = rnn(x, lengths)
    for a, b in zip(with_grad, without):
        assert torch.equal(a.detach(), b)


def test_backward_has_no_per_step_select():
    """x_w[:, t] in the loop would add one SelectBackward per letter, each zero-filling (batch, seq, hidden)."""
    rnn = RNN(57, 8)
    x, lengths = ragged_letters()
    _, h_last = rnn(x, lengths)
    names, stack, seen = [], [h_last.grad_fn], set()
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        names.append(type(node).__name__)
        stack += [next_fn for next_fn, _ in node.next_functions]
    assert "SelectBackward0" not in names
    assert names.count("UnbindBackward0") == 1
