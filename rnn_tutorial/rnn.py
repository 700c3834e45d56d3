"""The RNN written by hand (H_t = tanh(X_t W_xh + H_{t-1} W_hh + b_h)) and the models built on it.

Notebook 2 derives `RNNCell` and `RNNDemo`; notebooks 3 and 4 train `NameClassifier`.
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from .data import LANGUAGES, N_LETTERS


class RNNCell(nn.Module):
    """One step of a vanilla RNN, with the formula's names and shapes."""

    def __init__(self, input_size: int, hidden_size: int, nonlinearity: str = "tanh"):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.phi = {"tanh": torch.tanh, "relu": torch.relu, "identity": lambda z: z}[nonlinearity]
        bound = 1 / math.sqrt(hidden_size)  # the same init as torch.nn.RNN
        self.W_xh = nn.Parameter(torch.empty(input_size, hidden_size).uniform_(-bound, bound))
        self.W_hh = nn.Parameter(torch.empty(hidden_size, hidden_size).uniform_(-bound, bound))
        self.b_h = nn.Parameter(torch.empty(hidden_size).uniform_(-bound, bound))

    def project_input(self, x: torch.Tensor) -> torch.Tensor:
        """X W_xh + b_h for one-hot/float rows (..., input_size) or letter indices (...,) -> (..., hidden)."""
        if x.dtype in (torch.long, torch.int32, torch.int64):
            if not (torch.is_grad_enabled() and (self.W_xh.requires_grad or self.b_h.requires_grad)):
                return (self.W_xh + self.b_h)[x]  # inference: the same sums, one pass over the output
            return self.W_xh[x] + self.b_h  # a one-hot row times W_xh picks out one row of W_xh
        return x @ self.W_xh + self.b_h

    def recur(self, xw_t: torch.Tensor, h_prev: torch.Tensor) -> torch.Tensor:
        """phi(xw_t + H_{t-1} W_hh): (batch, hidden), (batch, hidden) -> (batch, hidden)."""
        return self.phi(torch.addmm(xw_t, h_prev, self.W_hh))

    def forward(self, x_t: torch.Tensor, h_prev: torch.Tensor) -> torch.Tensor:
        """H_t = tanh(X_t W_xh + H_{t-1} W_hh + b_h): (batch, input) or (batch,) ints -> (batch, hidden)."""
        return self.recur(self.project_input(x_t), h_prev)


class RNN(nn.Module):
    """Runs an `RNNCell` over a padded batch; returns each sequence's state at its own last letter."""

    def __init__(self, input_size: int, hidden_size: int, nonlinearity: str = "tanh"):
        super().__init__()
        self.cell = RNNCell(input_size, hidden_size, nonlinearity)
        self.hidden_size = hidden_size

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None,
                h_0: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """x (batch, seq) ints or (batch, seq, input) -> (all states (batch, seq, hidden), h_last (batch, hidden)).

        States after a sequence's last real letter are computed but never used for h_last.
        """
        batch, seq = x.shape[:2]
        xw = self.cell.project_input(x)  # all input projections in one operation
        h = h_0 if h_0 is not None else xw.new_zeros(batch, self.hidden_size)
        states = []
        for xw_t in xw.unbind(1):  # one view per step: xw[:, t] would cost a (batch, seq, hidden) zero-fill in backward
            h = self.cell.recur(xw_t, h)
            states.append(h)
        states = torch.stack(states, dim=1)
        last = (lengths - 1) if lengths is not None else torch.full((batch,), seq - 1)
        return states, states[torch.arange(batch), last]


class RNNDemo(nn.Module):
    """The article's model, corrected; `article_bugs=True` reproduces the published forward pass.

    Corrected: H_t = tanh(i2h(cat(X_t, H_{t-1}))) and the output is read from H_t.
    Article:   H_t = i2h(cat(X_t, H_{t-1})) (no tanh) and the output from cat(X_t, H_{t-1}).
    """

    def __init__(self, input_size: int, hidden_size: int, output_size: int, article_bugs: bool = False):
        super().__init__()  # the article wrote super(CharRNNClassify, self): a NameError
        self.hidden_size, self.article_bugs = hidden_size, article_bugs
        self.i2h = nn.Linear(input_size + hidden_size, hidden_size)
        out_features = input_size + hidden_size if article_bugs else hidden_size
        self.i2o = nn.Linear(out_features, output_size)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, x_t: torch.Tensor, hidden: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(1, input), (1, hidden) -> log-probs (1, output), new hidden (1, hidden)."""
        combined = torch.cat((x_t, hidden), dim=1)
        if self.article_bugs:
            return self.softmax(self.i2o(combined)), self.i2h(combined)
        hidden = torch.tanh(self.i2h(combined))
        return self.softmax(self.i2o(hidden)), hidden

    def init_hidden(self, batch: int = 1) -> torch.Tensor:
        """H_0 = zeros (batch, hidden): a random start would add noise to every prediction."""
        return torch.zeros(batch, self.hidden_size)


CORES = ("hand", "rnn", "gru", "lstm")


def make_core(core: str, input_size: int, hidden_size: int) -> nn.Module:
    """"hand" -> our `RNN`; "rnn", "gru", "lstm" -> torch's layer; all batch-first, all states returned first."""
    if core not in CORES:
        raise ValueError(f"core must be one of {CORES}, got {core!r}")
    if core == "hand":
        return RNN(input_size, hidden_size)
    return {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}[core](input_size, hidden_size, batch_first=True)
READOUTS = ("last", "max")


class NameClassifier(nn.Module):
    """Letters -> recurrent core -> Linear -> log-probabilities over `labels`.

    `core` is "hand" (our `RNN`) or one of torch's "rnn", "gru", "lstm"; input is one-hot,
    fed to the hand core as letter indices (the same product, done as a row lookup).
    `readout` "last" classifies the state after the last letter; "max" the element-wise
    maximum of the states over the name's letters.
    """

    def __init__(self, hidden_size: int = 128, core: str = "hand", labels: tuple[str, ...] = LANGUAGES,
                 input_size: int = N_LETTERS, dropout: float = 0.0, readout: str = "last"):
        super().__init__()
        if readout not in READOUTS:
            raise ValueError(f"readout must be one of {READOUTS}, got {readout!r}")
        self.core_name, self.labels, self.input_size = core, tuple(labels), input_size
        self.readout = readout
        self.core = make_core(core, input_size, hidden_size)
        self.dropout = nn.Dropout(dropout)
        self.h2o = nn.Linear(hidden_size, len(self.labels))

    def encode(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Padded letter indices (batch, seq), lengths (batch,) -> (batch, hidden): the state after
        each name's last letter, or the maximum over its states."""
        if self.core_name == "hand":
            states, h_last = self.core(x, lengths)
        else:
            one_hot = nn.functional.one_hot(x, self.input_size).float()
            packed = pack_padded_sequence(one_hot, lengths, batch_first=True, enforce_sorted=False)
            output, h_n = self.core(packed)
            h_last = (h_n[0] if self.core_name == "lstm" else h_n)[-1]
            if self.readout == "max":
                states = pad_packed_sequence(output, batch_first=True, total_length=x.shape[1])[0]
        if self.readout == "last":
            return h_last
        padding = torch.arange(x.shape[1])[None, :] >= lengths[:, None]  # (batch, seq), True past the end
        return states.masked_fill(padding[..., None], float("-inf")).amax(dim=1)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """(batch, seq) ints, (batch,) -> log-probabilities (batch, n_labels)."""
        return torch.log_softmax(self.h2o(self.dropout(self.encode(x, lengths))), dim=1)

    @classmethod
    def merge(cls, models: list[NameClassifier]) -> NameClassifier:
        """k hand-core models -> one hand-core model whose logits are the average of theirs.

        The k hidden states side by side are one RNN state: W_xh and b_h concatenated, W_hh block
        diagonal (no weight between the models), the output layer's weights concatenated and divided by k.
        """
        first = models[0]
        if any(m.core_name != "hand" or m.readout != first.readout or m.labels != first.labels for m in models):
            raise ValueError("merge needs hand-core models with the same readout and labels")
        cells = [m.core.cell for m in models]
        merged = cls(sum(c.hidden_size for c in cells), "hand", first.labels, first.input_size,
                     first.dropout.p, first.readout)
        with torch.no_grad():
            merged.core.cell.W_xh.copy_(torch.cat([c.W_xh for c in cells], dim=1))
            merged.core.cell.W_hh.copy_(torch.block_diag(*[c.W_hh for c in cells]))
            merged.core.cell.b_h.copy_(torch.cat([c.b_h for c in cells]))
            merged.h2o.weight.copy_(torch.cat([m.h2o.weight for m in models], dim=1) / len(models))
            merged.h2o.bias.copy_(torch.stack([m.h2o.bias for m in models]).mean(dim=0))
        return merged
