"""The RNN written by hand (H_t = tanh(X_t W_xh + H_{t-1} W_hh + b_h)) and the models built on it, in reading order.

Notebook 2 writes one step by hand, then shows `RNNCell` and `unroll` ("The same step, made reusable:
`RNNCell`") and corrects the article's `RNNDemo` ("The article's `RNNDemo`, corrected"). `RNN` runs the cell
over a padded batch; torch's cores answer behind the same interface (notebook 4, section 5); the classifier
notebooks 1, 3 and 4 train is `SequenceClassifier` (notebook 3, section 5, "The fast way"; seeds merged in its
appendix).

Every recurrent core, ours and torch's, answers `core(x, lengths)` with `(states, last_state)`:
all states (batch, seq, hidden) and each sequence's state after its own last step (batch, hidden).
"""
from __future__ import annotations

import math
from dataclasses import replace
from typing import NamedTuple

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from .config import CORES, ModelConfig
from .data import LANGUAGES, N_LETTERS
from .ngrams import NgramBag, decode

NONLINEARITIES = {"tanh": torch.tanh, "relu": torch.relu, "identity": lambda z: z}


class RNNCell(nn.Module):
    """One step of a vanilla RNN, with the formula's names and shapes (notebook 2, "The same step, made
    reusable: `RNNCell`").

    `nonlinearity` is phi: "tanh" (the RNN), "identity" (the linear recurrence of notebook 4) or "relu"
    (the exercises of notebooks 2 and 4).
    """

    def __init__(self, input_size: int, hidden_size: int, nonlinearity: str = "tanh"):
        super().__init__()
        if nonlinearity not in NONLINEARITIES:
            raise ValueError(f"nonlinearity must be one of {sorted(NONLINEARITIES)}, got {nonlinearity!r}")
        self.input_size, self.hidden_size = input_size, hidden_size
        self.phi = NONLINEARITIES[nonlinearity]
        bound = 1 / math.sqrt(hidden_size)  # the same init as torch.nn.RNN
        self.W_xh = nn.Parameter(torch.empty(input_size, hidden_size).uniform_(-bound, bound))
        self.W_hh = nn.Parameter(torch.empty(hidden_size, hidden_size).uniform_(-bound, bound))
        self.b_h = nn.Parameter(torch.empty(hidden_size).uniform_(-bound, bound))

    def input_term(self, x: torch.Tensor) -> torch.Tensor:
        """X W_xh + b_h: float rows (..., input_size) or letter indices (...,) -> (..., hidden)."""
        if x.is_floating_point():
            return x @ self.W_xh + self.b_h
        return self.W_xh[x] + self.b_h  # a one-hot row times W_xh is one row of W_xh

    def recur(self, xw_t: torch.Tensor, h_prev: torch.Tensor) -> torch.Tensor:
        """phi(xw_t + H_{t-1} W_hh): (batch, hidden), (batch, hidden) -> (batch, hidden)."""
        return self.phi(xw_t + h_prev @ self.W_hh)

    def forward(self, x_t: torch.Tensor, h_prev: torch.Tensor) -> torch.Tensor:
        """H_t = phi(X_t W_xh + H_{t-1} W_hh + b_h): (batch, input) or (batch,) ints -> (batch, hidden)."""
        return self.recur(self.input_term(x_t), h_prev)


def unroll(cell: RNNCell, x: torch.Tensor, h_0: torch.Tensor | None = None) -> list[torch.Tensor]:
    """The loop over steps: x (batch, T, input) or (batch, T) ints, H_0 (batch, hidden) (zeros if None)
    -> [H_1, ..., H_T], each (batch, hidden). The input terms of all T steps are taken in one call."""
    xw = cell.input_term(x)  # (batch, T, hidden)
    h = h_0 if h_0 is not None else xw.new_zeros(x.shape[0], cell.hidden_size)
    states = []
    for xw_t in xw.unbind(1):  # one view per step (xw[:, t] would cost a zero-fill per step in backward)
        h = cell.recur(xw_t, h)
        states.append(h)
    return states


class RNN(nn.Module):
    """Runs an `RNNCell` over a padded batch (the hand-written core of `SequenceClassifier`); returns all
    states and each sequence's state at its own last letter."""

    def __init__(self, input_size: int, hidden_size: int, nonlinearity: str = "tanh"):
        super().__init__()
        self.cell = RNNCell(input_size, hidden_size, nonlinearity)
        self.hidden_size = hidden_size

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None,
                h_0: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """x (batch, seq) ints or (batch, seq, input) -> (all states (batch, seq, hidden), h_last (batch, hidden)).

        States after a sequence's last real letter are computed but never used for h_last.
        """
        states = torch.stack(unroll(self.cell, x, h_0), dim=1)
        return states, last_states(states, lengths)

    def recurrent_weights(self) -> nn.Parameter:
        """W_hh (hidden, hidden): the one recurrent matrix."""
        return self.cell.W_hh

    def traced_states(self, x: torch.Tensor) -> list[tuple[torch.Tensor, ...]]:
        """[(H_t,) for t = 1..T] for x (batch, T, input), each kept by autograd (notebook 4, section 5)."""
        return [(h,) for h in retained(unroll(self.cell, x))]


def retained(states: list[torch.Tensor]) -> list[torch.Tensor]:
    """`states` after `retain_grad()` on each: a backward pass then leaves dL/dH_t in `H_t.grad`."""
    for h in states:
        h.retain_grad()
    return states


def last_states(states: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
    """(batch, seq, hidden) states, (batch,) lengths (None: every sequence is full) -> (batch, hidden) states
    after each sequence's own last step."""
    if lengths is None:
        return states[:, -1]
    return states[torch.arange(len(states)), lengths - 1]


class Reading(NamedTuple):
    """What `RNNDemo.read` returns: the output after each letter, and the state after each letter."""
    outputs: torch.Tensor  # (len, 1, output): log-probabilities
    states: torch.Tensor  # (len, 1, hidden): H_1, ..., H_T


class RNNDemo(nn.Module):
    """The article's model, corrected (notebook 2, "The article's `RNNDemo`, corrected");
    `article_bugs=True` reproduces the published forward pass. Notebook 3, section 3 trains it with the
    article's loop.

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

    def read(self, line: torch.Tensor) -> Reading:
        """The article's loop: call the model once per letter from H_0 = 0.

        Letters (len, 1, input) -> `Reading`: log-probs after each letter (len, 1, output), states (len, 1, hidden).
        """
        hidden, outputs, states = self.init_hidden(), [], []
        for x_t in line:
            output, hidden = self(x_t, hidden)
            outputs.append(output)
            states.append(hidden)
        return Reading(torch.stack(outputs), torch.stack(states))

    def classify(self, line: torch.Tensor) -> torch.Tensor:
        """Letters (len, 1, input) -> log-probs (1, output) after the last letter: `read(line).outputs[-1]`.

        The corrected model computes the same numbers with fewer operations: i2h's weight is [W_xh | W_hh]
        (the rows of cat(X_t, H_{t-1})), so every X_t W_xh is taken in one product, and i2o runs once, on
        the last state, the only output the loss reads. The article's version runs `read` as published.
        """
        if self.article_bugs:
            return self.read(line).outputs[-1]
        W_xh, W_hh = self.i2h.weight.t().split([line.shape[-1], self.hidden_size])
        xw = line[:, 0] @ W_xh + self.i2h.bias  # (len, hidden): every X_t W_xh + b in one product
        h = self.init_hidden().to(xw)
        for xw_t in xw:
            h = torch.tanh(xw_t + h @ W_hh)
        return self.softmax(self.i2o(h))


class TorchCore:
    """Mixed into torch's nn.RNN, nn.GRU and nn.LSTM (batch-first) so that they answer like our `RNN`:
    `core(x, lengths)` -> (states, last_state); x may be letter indices, given to torch as one-hot rows.
    The weights keep torch's names, so checkpoints store them as torch does."""

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """x (batch, seq) ints or (batch, seq, input) -> (all states (batch, seq, hidden), h_last (batch, hidden));
        with `lengths`, the padded steps are skipped (packed) and their states are zeros."""
        if not x.is_floating_point():
            x = nn.functional.one_hot(x, self.input_size).float()
        if lengths is None:
            states = super().forward(x)[0]
        else:
            packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
            states = pad_packed_sequence(super().forward(packed)[0], batch_first=True, total_length=x.shape[1])[0]
        last = last_states(states, lengths)
        if self.bidirectional:  # (batch, seq, 2 * hidden): the backward half reads the name from its end to step 1
            last = torch.cat([last[:, :self.hidden_size], states[:, 0, self.hidden_size:]], dim=1)
        return states, last

    def recurrent_weights(self) -> nn.Parameter:
        """torch's weight_hh_l0 (blocks * hidden, hidden): one recurrent block per gate (and candidate)."""
        return self.weight_hh_l0

    def traced_states(self, x: torch.Tensor) -> list[tuple[torch.Tensor, ...]]:
        """The recurrent state after each step of x (batch, T, input), one step at a time so that every state
        is a tensor autograd keeps (`retain_grad`): [(H_t,)] for RNN and GRU, [(H_t, C_t)] for the LSTM."""
        state, trace = None, []
        for t in range(x.shape[1]):
            state = super().forward(x[:, t:t + 1], state)[1]
            parts = retained(list(state) if isinstance(state, tuple) else [state])
            trace.append(tuple(parts))  # each part (1, batch, hidden): the tensors the next step reads
        return trace


class TorchRNNCore(TorchCore, nn.RNN):
    """torch's nn.RNN behind the `(states, last_state)` interface."""


class GRUCore(TorchCore, nn.GRU):
    """torch's nn.GRU behind the `(states, last_state)` interface."""


class LSTMCore(TorchCore, nn.LSTM):
    """torch's nn.LSTM behind the `(states, last_state)` interface (the states are H_t; C_t stays inside)."""


def make_core(core: str, input_size: int, hidden_size: int, bidirectional: bool = False) -> nn.Module:
    """"hand" -> our `RNN`; "rnn", "gru", "lstm" -> torch's layer; every one answers (x, lengths) -> (states, last).
    `bidirectional` (torch's cores): states and last state are (..., 2 * hidden), forward then backward."""
    if core not in CORES:
        raise ValueError(f"core must be one of {CORES}, got {core!r}")
    if core == "hand":
        if bidirectional:
            raise ValueError("bidirectional needs one of torch's cores, not 'hand'")
        return RNN(input_size, hidden_size)
    layer = {"rnn": TorchRNNCore, "gru": GRUCore, "lstm": LSTMCore}[core]
    return layer(input_size, hidden_size, batch_first=True, bidirectional=bidirectional)


class SequenceClassifier(nn.Module):
    """A sequence -> recurrent core -> readout -> Linear -> log-probabilities over `labels`: names by language
    (notebook 3, section 5, "The fast way"), words and marker sequences (notebook 1), long-range tasks (notebook 4).

    `config.core` is "hand" (our `RNN`) or one of torch's "rnn", "gru", "lstm"; `config.readout` "last"
    classifies the state after the last step, "max" the element-wise maximum of the states over the
    sequence's steps, "max+last" both side by side. The input is letter indices (one-hot rows in effect) or
    float rows (batch, seq, input_size). The final model (config.FINAL_MODEL, notebook 3, section 10)
    adds learned letter vectors (`embedding_size`), a backward core (`bidirectional`) and the
    logits of an n-gram bag (`ngrams`, whose rows are the n-grams of `ngram_vocabulary`).
    """

    def __init__(self, config: ModelConfig = ModelConfig(), labels: tuple[str, ...] = LANGUAGES,
                 input_size: int = N_LETTERS, ngram_vocabulary: list[str] | None = None):
        super().__init__()
        self.config, self.labels, self.input_size = config, tuple(labels), input_size
        if config.ngrams and ngram_vocabulary is None:
            raise ValueError("a model with ngrams=True needs its ngram_vocabulary (ngrams.ngram_vocabulary(names))")
        self.embedding = nn.Embedding(input_size, config.embedding_size) if config.embedding_size else None
        self.core = make_core(config.core, config.embedding_size or input_size, config.hidden_size,
                              config.bidirectional)
        self.dropout = nn.Dropout(config.dropout)
        width = config.hidden_size * (1 + config.bidirectional) * (2 if config.readout == "max+last" else 1)
        self.h2o = nn.Linear(width, len(self.labels))
        self.bag = NgramBag(ngram_vocabulary, len(self.labels)) if config.ngrams else None

    def features(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Padded sequences (batch, seq[, input]), lengths (batch,) (None: all full) -> (batch, h2o's input): the
        state after each sequence's last step, the maximum over its states, or both side by side."""
        states, h_last = self.core(self.embedding(x) if self.embedding is not None else x, lengths)
        if self.config.readout == "last":
            return h_last
        if lengths is None:
            h_max = states.amax(dim=1)
        else:
            padding = torch.arange(x.shape[1])[None, :] >= lengths[:, None]  # (batch, seq), True past the end
            h_max = states.masked_fill(padding[..., None], float("-inf")).amax(dim=1)
        return h_max if self.config.readout == "max" else torch.cat([h_max, h_last], dim=1)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """(batch, seq) ints or (batch, seq, input) floats, (batch,) lengths -> log-probabilities (batch, n_labels)."""
        logits = self.h2o(self.dropout(self.features(x, lengths)))
        if self.bag is not None:  # the n-gram bag reads the names the letter indices spell
            full = torch.full((len(x),), x.shape[1]) if lengths is None else lengths
            logits = logits + self.bag(decode(x, full))
        return torch.log_softmax(logits, dim=1)

    @classmethod
    def merge(cls, models: list[SequenceClassifier]) -> SequenceClassifier:
        """k hand-core models -> one hand-core model whose logits are the average of theirs (notebook 3, appendix).

        The k hidden states side by side are one RNN state: W_xh and b_h concatenated, W_hh block
        diagonal (no weight between the models), the output layer's weights concatenated and divided by k.
        """
        first = models[0]
        if any(m.config.core != "hand" or m.config.readout != first.config.readout or m.labels != first.labels
               or m.embedding is not None or m.bag is not None for m in models):
            raise ValueError("merge needs hand-core models with the same readout and labels, one-hot letters and no n-gram bag")
        cells = [m.core.cell for m in models]
        config = replace(first.config, hidden_size=sum(c.hidden_size for c in cells))  # the states side by side
        merged = cls(config, first.labels, first.input_size)
        with torch.no_grad():
            merged.core.cell.W_xh.copy_(torch.cat([c.W_xh for c in cells], dim=1))
            merged.core.cell.W_hh.copy_(torch.block_diag(*[c.W_hh for c in cells]))
            merged.core.cell.b_h.copy_(torch.cat([c.b_h for c in cells]))
            merged.h2o.weight.copy_(torch.cat([m.h2o.weight for m in models], dim=1) / len(models))
            merged.h2o.bias.copy_(torch.stack([m.h2o.bias for m in models]).mean(dim=0))
        return merged
