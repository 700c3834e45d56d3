"""Notebook 1's "but ..." marker task, and the article's MLP with its fixed-length name encoding.

Notebook 1 uses all of it to show why an MLP struggles with sequences ("The MLP and its precondition",
with its problems 1 and 2); notebook 2 reuses `MLP`.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .data import N_LETTERS, name_to_indices
from .metrics import accuracy

# The marker task's words. The label is the word right after "but"; every word can also appear elsewhere.
VOCAB = ("but", "bad", "good", "the", "talk", "was", "long", "and")
MARKER, BAD, GOOD = 0, 1, 2
LABELS = ("bad", "good")  # label 0 = "bad", label 1 = "good"


class MLP(nn.Module):
    """The article's MLP: H = phi(X W_xh + b_h), O = H W_hq + b_q; (n, d) -> logits (n, q)."""

    def __init__(self, input_size: int, hidden_size: int, output_size: int):
        super().__init__()
        bound_x, bound_h = 1 / math.sqrt(input_size), 1 / math.sqrt(hidden_size)  # nn.Linear's init
        self.W_xh = nn.Parameter(torch.empty(input_size, hidden_size).uniform_(-bound_x, bound_x))
        self.b_h = nn.Parameter(torch.empty(hidden_size).uniform_(-bound_x, bound_x))
        self.W_hq = nn.Parameter(torch.empty(hidden_size, output_size).uniform_(-bound_h, bound_h))
        self.b_q = nn.Parameter(torch.empty(output_size).uniform_(-bound_h, bound_h))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        H = torch.tanh(X @ self.W_xh + self.b_h)  # phi = tanh
        return H @ self.W_hq + self.b_q  # O; softmax(O) gives class probabilities


def n_params(model: nn.Module) -> int:
    """How many numbers the model learns."""
    return sum(p.numel() for p in model.parameters())


def fixed_length(name: str, length: int) -> torch.Tensor:
    """A name as one flat d = length * 57 vector: one-hot letters, cut after `length`, zero-padded."""
    indices = name_to_indices(name)[:length]
    X = torch.zeros(length, N_LETTERS)
    X[torch.arange(len(indices)), indices] = 1.0
    return X.flatten()


def make_marker_task(n: int, max_length: int, positions: list[int], generator: torch.Generator
                     ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """n random sentences, each with one "but" at a position drawn from `positions`.

    The word after "but" is "bad" or "good" and is the label; the other words are drawn from the
    vocabulary without "but" (so "bad" and "good" also appear as distractors). Each sentence ends
    somewhere after its label word: its length is uniform in marker + 2 .. max_length.
    Returns words (n, max_length) ints padded with 0 after each sentence's end, labels (n,)
    (0 = bad, 1 = good), marker positions (n,), lengths (n,).
    """
    if not positions or min(positions) < 0 or max(positions) > max_length - 2:
        raise ValueError(f"marker positions must lie in 0..{max_length - 2} (a word must follow), got {positions}")
    words = torch.randint(1, len(VOCAB), (n, max_length), generator=generator)
    pos = torch.tensor(positions)[torch.randint(len(positions), (n,), generator=generator)]
    labels = torch.randint(2, (n,), generator=generator)
    shortest = pos + 2
    lengths = shortest + (torch.rand(n, generator=generator) * (max_length - shortest + 1)).long()
    lengths = lengths.clamp(max=max_length)
    rows = torch.arange(n)
    words[rows, pos] = MARKER
    words[rows, pos + 1] = torch.where(labels == 1, GOOD, BAD)
    words[torch.arange(max_length) >= lengths[:, None]] = 0  # padding, never read
    return words, labels, pos, lengths


def one_hot_window(words: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """(n, max_length) word ids -> (n, max_length * vocab) flat one-hot, zeros after each end: the MLP's X."""
    real = torch.arange(words.shape[1]) < lengths[:, None]
    return (nn.functional.one_hot(words, len(VOCAB)).float() * real[..., None]).flatten(1)


def train_full_batch(model: nn.Module, inputs: tuple, labels: torch.Tensor, steps: int = 300,
                     lr: float = 0.01) -> list[float]:
    """Adam on the whole training set at once, cross-entropy; returns the loss of every step.

    The model may return logits (`MLP`) or log-probabilities (`SequenceClassifier`): cross-entropy applies
    log-softmax first, and log-softmax leaves log-probabilities unchanged, so both give the true loss.
    """
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        # forward
        loss = nn.functional.cross_entropy(model(*inputs), labels)
        # backward
        opt.zero_grad()
        loss.backward()
        # update
        opt.step()
        losses.append(loss.item())
    return losses


@torch.no_grad()
def accuracy_by_position(model: nn.Module, inputs: tuple, labels: torch.Tensor, pos: torch.Tensor
                         ) -> dict[int, float]:
    """{marker position: accuracy of the examples with the marker there}, positions sorted."""
    model.eval()
    scores = model(*inputs)
    return {int(p): accuracy(scores[pos == p], labels[pos == p]) for p in torch.unique(pos)}
