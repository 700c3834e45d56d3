"""Vanishing and exploding gradients, measured: spectral rescaling of W_hh, dL/dH_t at every step,
a long-range task with a controllable distance, and a small trainer that logs the gradient norm
and what clipping (by norm or by value) did to its direction.

Notebook 4 teaches all of it: the gradient at every step in sections 1-3, clipping in section 4, the
long-range task and the gated cores in section 5.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from .metrics import accuracy
from .rnn import SequenceClassifier


# ---- W_hh with a chosen spectral norm -------------------------------------------------------

def spectral_norm(W: torch.Tensor) -> float:
    """Largest singular value of a matrix (hidden, hidden) -> float."""
    return torch.linalg.matrix_norm(W.detach(), ord=2).item()


def spectral_radius(W: torch.Tensor) -> float:
    """Largest |eigenvalue| of a square matrix (hidden, hidden) -> float (never above the spectral norm)."""
    return torch.linalg.eigvals(W.detach()).abs().max().item()


def rescale_spectral_norm(W: torch.Tensor, sigma: float) -> torch.Tensor:
    """W (hidden, hidden) -> sigma * W / sigma_max(W): same directions, largest singular value sigma."""
    return W * (sigma / spectral_norm(W))


def scaled_orthogonal(hidden_size: int, sigma: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """sigma * Q for a random orthogonal Q (hidden, hidden): every singular value equals sigma."""
    A = torch.randn(hidden_size, hidden_size, generator=generator)
    Q, R = torch.linalg.qr(A)
    return sigma * Q * torch.sign(torch.diagonal(R))  # the sign fix makes Q uniformly distributed


# ---- dL/dH_t at every step ----------------------------------------------------------------------

def gradient_norms(states: list[torch.Tensor]) -> torch.Tensor:
    """After backward: ||dL/dH_t|| (Frobenius norm over batch and hidden) for t = 1..T -> (T,); 0 for a
    state the loss does not depend on (the LSTM's last C_T)."""
    return torch.stack([h.grad.norm() if h.grad is not None else torch.zeros(()) for h in states]).detach()


def decay_rate(norms: torch.Tensor) -> float:
    """Least-squares slope of log ||dL/dH_t|| against t, as a factor per step back in time.

    A factor of 0.5 means the gradient halves with every step it travels towards the start.
    """
    t = torch.arange(len(norms), dtype=torch.float64)
    log_n = norms.double().log()
    slope = ((t - t.mean()) * (log_n - log_n.mean())).sum() / ((t - t.mean()) ** 2).sum()
    return float(torch.exp(-slope))  # going back in time is going down in t


# ---- a task whose answer lies T steps in the past -------------------------------------------

def first_symbol_task(n: int, distance: int, n_symbols: int = 4,
                      generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """n sequences of 1 + distance steps -> x (n, 1 + distance, n_symbols + 1) floats, y (n,) labels.

    Every step is the one-hot vector of a random symbol; the label is the symbol at step 0, which
    alone carries a 1 in the last input ("start") column. The `distance` symbols after it are drawn
    from the same alphabet, so they cannot be told apart from the answer by their input row alone:
    the model must carry step 0 across `distance` steps. Chance accuracy is 1 / n_symbols.
    """
    symbols = torch.randint(n_symbols, (n, 1 + distance), generator=generator)
    x = nn.functional.one_hot(symbols, n_symbols + 1).float()
    x[:, 0, n_symbols] = 1.0
    return x, symbols[:, 0]


def open_memory_gate(model: SequenceClassifier, bias: float = 3.0) -> SequenceClassifier:
    """Set the bias of the gate that keeps the old memory (the LSTM's forget gate F, the GRU's update gate Z)
    so that the memory path starts open (sigmoid(3) = 0.95); returns `model`."""
    hidden_size, core = model.config.hidden_size, model.core
    if model.config.core not in ("gru", "lstm"):
        raise ValueError(f"only gated cores (gru, lstm) have a memory gate, not {model.config.core!r}")
    rows = slice(hidden_size, 2 * hidden_size)  # gate chunk 1: LSTM (i, f, g, o), GRU (r, z, n)
    with torch.no_grad():
        core.bias_ih_l0[rows] = bias
        core.bias_hh_l0[rows] = 0.0
    return model


def orthogonal_recurrence(model: SequenceClassifier) -> SequenceClassifier:
    """Replace every recurrent (hidden, hidden) block (W_hh, or one block per gate) by a random orthogonal
    matrix (spectral norm 1) drawn from torch's global generator; returns `model`."""
    hidden_size, W = model.config.hidden_size, model.core.recurrent_weights()  # (blocks * hidden, hidden)
    with torch.no_grad():
        W.copy_(torch.cat([scaled_orthogonal(hidden_size, 1.0) for _ in range(len(W) // hidden_size)]))
    return model


def state_gradients(model: SequenceClassifier, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """||dL/dH_t|| for t = 1..T of the mean NLL loss of `model` (readout "last") on (x, y) -> (T,).

    The core keeps every state autograd can report on (`traced_states`); the LSTM's state is the
    pair (H_t, C_t), so its norm counts both.
    """
    states = model.core.traced_states(x)
    log_probs = torch.log_softmax(model.h2o(states[-1][0].reshape(len(x), -1)), dim=1)
    nn.functional.nll_loss(log_probs, y).backward()
    model.zero_grad()
    norms = torch.zeros(len(states))
    for part in range(len(states[0])):  # H_t, and C_t for the LSTM
        norms = torch.hypot(norms, gradient_norms([state[part] for state in states]))
    return norms


# ---- training with the gradient norm logged at every step ------------------------------------

@dataclass
class TrainLog:
    """Per-step loss, total gradient norm (before clipping) and cosine between the clipped and the raw
    gradient (1 when clipping keeps the direction); `diverged` if the loss became NaN/inf."""
    loss: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    cosine: list[float] = field(default_factory=list)
    diverged: bool = False


def flat_grad(model: nn.Module) -> torch.Tensor:
    """All parameter gradients of `model` as one vector (n_parameters,)."""
    return torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])


def cosine(a: torch.Tensor, b: torch.Tensor) -> float:
    """Cosine of the angle between two vectors of the same shape -> float in [-1, 1]."""
    return (torch.dot(a.double(), b.double()) / (a.double().norm() * b.double().norm())).item()


def train_steps(model: nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int, lr: float,
                batch_size: int = 32, clip: float | None = None, optimizer: str = "adam",
                generator: torch.Generator | None = None, clip_value: float | None = None) -> TrainLog:
    """`steps` updates on random minibatches of (x (n, T, input), y (n,)); stops early if the loss diverges.

    `clip` rescales the whole gradient to norm `clip` when it is longer (`clip_grad_norm_`);
    `clip_value` clamps every entry to [-clip_value, clip_value] (`clip_grad_value_`).
    """
    opt = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}[optimizer](model.parameters(), lr=lr)
    log = TrainLog()
    model.train()
    for _ in range(steps):
        idx = torch.randint(len(x), (batch_size,), generator=generator)
        # forward
        loss = nn.functional.nll_loss(model(x[idx]), y[idx])
        # backward
        opt.zero_grad()
        loss.backward()
        raw = flat_grad(model)  # a new tensor: clipping below does not touch it
        norm = nn.utils.clip_grad_norm_(model.parameters(), clip if clip is not None else float("inf"))
        if clip_value is not None:
            nn.utils.clip_grad_value_(model.parameters(), clip_value)
        log.loss.append(loss.item())
        log.grad_norm.append(norm.item())
        log.cosine.append(cosine(flat_grad(model), raw))
        if not torch.isfinite(loss):
            log.diverged = True
            break
        # update
        opt.step()
    return log


@torch.no_grad()
def sequence_accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of sequences x (n, T, input) whose most likely class is y (n,)."""
    model.eval()
    return accuracy(model(x), y)
