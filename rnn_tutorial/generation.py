"""A character-level language model of surnames: a loss at every letter (teacher forcing), sampling letter by
letter per language, and the probability of a whole name (notebook 3, "Going deeper: generating names").

The model is the hand-written `rnn.RNN` reading (previous letter, language) one-hot rows, and a linear layer
from each state to the logits of the next character; `BOUNDARY` starts every name and ends it.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pad_sequence

from .batching import EpochBatches
from .data import ALPHABET, LANGUAGES, N_LETTERS, Example, letter_indices
from .rnn import RNN

BOUNDARY = N_LETTERS  # token 57: "no letter yet" as an input, "the name ends here" as a target
N_TOKENS = N_LETTERS + 1  # the 57 characters of ALPHABET and BOUNDARY
IGNORE = -100  # target of a padded step: cross_entropy skips it (its default ignore_index)


def shifted(name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """'Li' -> inputs [BOUNDARY, L, i] and targets [L, i, BOUNDARY]: each (len + 1,); target t is input t + 1."""
    letters = letter_indices(name)
    return torch.tensor([BOUNDARY] + letters), torch.tensor(letters + [BOUNDARY])


Shifted = tuple[torch.Tensor, torch.Tensor, int]  # inputs (len + 1,), targets (len + 1,), language


def collate_shifted(items: list[Shifted]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """-> inputs (batch, T) padded with BOUNDARY, targets (batch, T) padded with IGNORE, languages (batch,)."""
    inputs, targets, languages = zip(*items)
    return (pad_sequence(list(inputs), batch_first=True, padding_value=BOUNDARY),
            pad_sequence(list(targets), batch_first=True, padding_value=IGNORE),
            torch.tensor(languages))


def shifted_batch(examples: list[Example]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(name, language) pairs -> one padded batch of `collate_shifted`."""
    return collate_shifted([(*shifted(name), y) for name, y in examples])


class NameGenerator(nn.Module):
    """P(next character | characters so far, language): an `RNN` over (character, language) one-hot rows and
    a linear layer to N_TOKENS logits at every step."""

    def __init__(self, hidden_size: int = 128, n_languages: int = len(LANGUAGES)):
        super().__init__()
        self.n_languages = n_languages
        self.rnn = RNN(N_TOKENS + n_languages, hidden_size)
        self.h2o = nn.Linear(hidden_size, N_TOKENS)

    def rows(self, x: torch.Tensor, language: torch.Tensor) -> torch.Tensor:
        """Tokens (batch, T), languages (batch,) -> one-hot rows (batch, T, N_TOKENS + n_languages)."""
        lang = nn.functional.one_hot(language, self.n_languages)[:, None].expand(-1, x.shape[1], -1)
        return torch.cat([nn.functional.one_hot(x, N_TOKENS), lang], dim=2).float()

    def forward(self, x: torch.Tensor, language: torch.Tensor) -> torch.Tensor:
        """Tokens (batch, T), languages (batch,) -> logits of the next token after each step (batch, T, N_TOKENS)."""
        states, _ = self.rnn(self.rows(x, language))
        return self.h2o(states)


def step_losses(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Logits (batch, T, N_TOKENS), targets (batch, T) -> -log P(target) at every step (batch, T), 0 where IGNORE."""
    return nn.functional.cross_entropy(logits.transpose(1, 2), targets, reduction="none")


def mean_step_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The training loss: the mean over every real step of every name (padded steps left out), in nats."""
    return step_losses(logits, targets).sum() / (targets != IGNORE).sum()


def train_generator(model: NameGenerator, examples: list[Example], epochs: int, lr: float = 3e-3,
                    batch_size: int = 64, generator: torch.Generator | None = None) -> list[float]:
    """Adam with teacher forcing (the true previous letter is always the input); batches of names of similar
    length (`EpochBatches`). Returns the mean loss per step of each epoch."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    encoded = [(*shifted(name), y) for name, y in examples]  # each name encoded once
    batches = EpochBatches([len(x) for x, _, _ in encoded], batch_size, generator)
    history = []
    for _ in range(epochs):
        model.train()
        total, steps = 0.0, 0
        for batch in batches:
            x, targets, language = collate_shifted([encoded[i] for i in batch])
            # forward
            loss = mean_step_loss(model(x, language), targets)
            # backward
            optimizer.zero_grad()
            loss.backward()
            # update
            optimizer.step()
            n = int((targets != IGNORE).sum())
            total, steps = total + loss.item() * n, steps + n
        history.append(total / steps)
    return history


@torch.no_grad()
def name_log_probs(model: NameGenerator, examples: list[Example]) -> torch.Tensor:
    """log P(name | language) = the sum of log P(next token) over its letters and the end: (n,) for n pairs."""
    model.eval()
    x, targets, language = shifted_batch(examples)
    return -step_losses(model(x, language), targets).sum(dim=1)


@torch.no_grad()
def evaluate_generator(model: NameGenerator, examples: list[Example]) -> float:
    """Mean loss per predicted token (nats) over `examples`: every letter and every end counted once."""
    model.eval()
    x, targets, language = shifted_batch(examples)
    return mean_step_loss(model(x, language), targets).item()


def language_index(language: str) -> int:
    """'German' -> its index in LANGUAGES; ValueError naming the choices for anything else."""
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, got {language!r}")
    return LANGUAGES.index(language)


@torch.no_grad()
def next_token_probs(model: NameGenerator, prefix: str, language: str) -> torch.Tensor:
    """P(next token | prefix, language): (N_TOKENS,), the last entry the probability that the name ends here."""
    model.eval()
    x = shifted(prefix)[0][None] if prefix else torch.tensor([[BOUNDARY]])
    return model(x, torch.tensor([language_index(language)]))[0, -1].softmax(dim=0)


@torch.no_grad()
def sample(model: NameGenerator, language: str, generator: torch.Generator, temperature: float = 1.0,
           max_len: int = 20) -> str:
    """A name drawn letter by letter: each letter from P(next | letters so far, language) ** (1 / temperature),
    fed back as the next input, until BOUNDARY or `max_len` letters. temperature 0 takes the most likely letter."""
    model.eval()
    lang = torch.tensor([language_index(language)])
    h, token, letters = torch.zeros(1, model.rnn.hidden_size), BOUNDARY, []
    for _ in range(max_len):
        h = model.rnn.cell(model.rows(torch.tensor([[token]]), lang)[:, 0], h)  # one step of the cell
        logits = model.h2o(h)[0]
        if temperature == 0:
            token = int(logits.argmax())
        else:
            token = int(torch.multinomial((logits / temperature).softmax(dim=0), 1, generator=generator))
        if token == BOUNDARY:
            break
        letters.append(ALPHABET[token])
    return "".join(letters)
