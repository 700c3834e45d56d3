"""Training: the article's per-name loop with hand-made SGD, and batched training with Adam.

Notebook 3 runs both on the same split; notebook 4 reuses `train_epoch` with clipping.
"""
from __future__ import annotations

import copy
import math
import random
from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import nn
from torch.utils.data import DataLoader, Sampler, WeightedRandomSampler

from .data import LANGUAGES, Example, NamesDataset, collate_names, line_to_tensor, make_loader
from .rnn import RNNDemo


# ---- the article's loop: one name at a time, manual SGD ----------------------------------

def random_training_example(by_label: dict[int, list[str]], rng: random.Random) -> tuple[int, str]:
    """The article's sampler: a language uniformly at random, then one of its names."""
    label = rng.choice(sorted(by_label))
    return label, rng.choice(by_label[label])


def article_forward(model: RNNDemo, line_tensor: torch.Tensor) -> torch.Tensor:
    """Letters (len, 1, n_letters) -> log-probs (1, n_labels) after the last letter.

    The same numbers as calling `model(x_t, hidden)` letter by letter, computed with fewer
    operations: i2h's weight is [W_xh | W_hh] (the rows of cat(X_t, H_{t-1})), so every X_t W_xh
    is taken in one product, and i2o runs once, on the last state, the only output the loss reads.
    The article's buggy forward (`article_bugs=True`) is run letter by letter as published.
    """
    if model.article_bugs:
        hidden = model.init_hidden()
        for x_t in line_tensor:
            output, hidden = model(x_t, hidden)
        return output
    n_in = line_tensor.shape[-1]
    W_xh, W_hh = model.i2h.weight[:, :n_in].t(), model.i2h.weight[:, n_in:].t()
    xw = torch.addmm(model.i2h.bias, line_tensor[:, 0], W_xh)  # (len, hidden)
    hidden = model.init_hidden().to(xw)
    for xw_t in xw.split(1):
        hidden = torch.tanh(torch.addmm(xw_t, hidden, W_hh))
    return model.softmax(model.i2o(hidden))


def article_step(model: RNNDemo, line_tensor: torch.Tensor, label: torch.Tensor,
                 lr: float = 0.005) -> tuple[torch.Tensor, float]:
    """One name: letters (len, 1, n_letters), label (1,) -> (last log-probs (1, n_labels), loss)."""
    # forward: read every letter, keep the output after the last one
    output = article_forward(model, line_tensor)
    loss = nn.functional.nll_loss(output, label)
    # backward
    model.zero_grad()
    loss.backward()
    # update: p <- p - lr * dL/dp, the optimizer written by hand
    with torch.no_grad():
        for p in model.parameters():
            p -= lr * p.grad
    return output, loss.item()


def train_article(model: RNNDemo, train: list[Example], n_iters: int = 100_000, lr: float = 0.005,
                  print_every: int = 5000, plot_every: int = 1000, seed: int | None = None,
                  uniform: bool = True, log: Callable[[str], None] = print) -> list[float]:
    """The article's loop over `train`; returns the loss averaged over every `plot_every` iterations.

    `uniform=True` samples a language first (the article); False samples a name uniformly.
    The names are drawn by `random.Random(seed)`; with `seed=None` (the default) that seed is drawn
    from Python's `random`, which `utils.set_seed` seeds, so a seed shift changes the order too.
    Every `print_every` iterations `log` gets the mean loss and the last name with its guess.
    """
    rng = random.Random(random.getrandbits(64) if seed is None else seed)
    by_label: dict[int, list[str]] = {}
    for name, y in train:
        by_label.setdefault(y, []).append(name)
    tensors: dict[str, torch.Tensor] = {}  # each name is encoded once, when first drawn
    averages, running = [], 0.0
    for it in range(1, n_iters + 1):
        if uniform:
            y, name = random_training_example(by_label, rng)
        else:
            name, y = rng.choice(train)
        if name not in tensors:
            tensors[name] = line_to_tensor(name)
        output, loss = article_step(model, tensors[name], torch.tensor([y]), lr)
        running += loss
        if it % plot_every == 0:
            averages.append(running / plot_every)
            running = 0.0
        if it % print_every == 0:
            guess = output.argmax().item()
            mark = "✓" if guess == y else f"✗ ({LANGUAGES[y]})"
            log(f"iteration {it:6d} ({it / n_iters:4.0%})  mean loss {averages[-1]:.4f}  "
                f"{name} -> {LANGUAGES[guess]} {mark}")
    return averages


@torch.no_grad()
def article_log_probs(model: RNNDemo, examples: list[Example]) -> torch.Tensor:
    """Per-name forward of the article's model: -> log-probs (n, n_labels)."""
    model.eval()
    return torch.cat([article_forward(model, line_to_tensor(name)) for name, _ in examples])


# ---- batched training -----------------------------------------------------------------------

def train_epoch(model: nn.Module, loader, optimizer: torch.optim.Optimizer,
                clip: float | None = None) -> float:
    """One pass over `loader` of (x, lengths, y) batches; returns the mean loss per name."""
    model.train()
    total, count = 0.0, 0
    for x, lengths, y in loader:
        # forward
        loss = nn.functional.nll_loss(model(x, lengths), y)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"loss became {loss.item()}: lower the learning rate or set clip")
        # backward
        optimizer.zero_grad()
        loss.backward()
        if clip is not None:
            nn.utils.clip_grad_norm_(model.parameters(), clip)
        # update
        optimizer.step()
        total, count = total + loss.item() * len(y), count + len(y)
    return total / count


@torch.no_grad()
def predict_log_probs(model: nn.Module, loader) -> tuple[torch.Tensor, torch.Tensor]:
    """-> log-probs (n, n_labels) and targets (n,) for every name in `loader`, in order."""
    model.eval()
    outputs, targets = [], []
    for x, lengths, y in loader:
        outputs.append(model(x, lengths))
        targets.append(y)
    return torch.cat(outputs), torch.cat(targets)


@dataclass
class History:
    """Per-epoch record of a `fit`; `best_epoch` is the one whose weights were kept (1-based)."""
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    best_epoch: int = 0


def language_weights(train: list[Example]) -> torch.Tensor:
    """(n,) sampling weight of each name: 1 / (names of its language), so every language sums to 1."""
    labels = torch.tensor([y for _, y in train])
    return 1.0 / torch.bincount(labels).float()[labels]


def uniform_language_loader(train: list[Example], batch_size: int = 64,
                            generator: torch.Generator | None = None) -> DataLoader:
    """Batches drawn like the article's sampler: every language equally often (with replacement),
    len(train) names per epoch."""
    sampler = WeightedRandomSampler(language_weights(train), num_samples=len(train), replacement=True,
                                    generator=generator)
    return DataLoader(NamesDataset(train), batch_size=batch_size, sampler=sampler, collate_fn=collate_names)


class LengthBuckets(Sampler):
    """Batches of names of similar length. Each epoch draws len(lengths) names (a permutation, or
    with replacement by `weights`), sorts every pool of `pool` batches' worth by length, cuts it into
    batches and shuffles the batches: far fewer padded steps (a random batch of 64 pads to ~13
    letters, the mean name has 7)."""

    def __init__(self, lengths: list[int], batch_size: int, generator: torch.Generator | None = None,
                 weights: torch.Tensor | None = None, pool: int = 50):
        self.lengths, self.batch_size, self.generator = torch.tensor(lengths), batch_size, generator
        self.weights, self.pool = weights, pool

    def __len__(self) -> int:
        return math.ceil(len(self.lengths) / self.batch_size)

    def __iter__(self):
        n = len(self.lengths)
        if self.weights is None:
            order = torch.randperm(n, generator=self.generator)
        else:
            order = torch.multinomial(self.weights, n, replacement=True, generator=self.generator)
        batches = []
        for chunk in order.split(self.batch_size * self.pool):
            chunk = chunk[self.lengths[chunk].argsort(stable=True)]
            batches += chunk.split(self.batch_size)
        for i in torch.randperm(len(batches), generator=self.generator).tolist():
            yield batches[i].tolist()


def train_loader(train: list[Example], batch_size: int = 64, generator: torch.Generator | None = None,
                 sampling: str = "natural", buckets: bool = False) -> DataLoader:
    """Training batches: "natural" (each name once per epoch) or "uniform" (languages equally often),
    optionally bucketed by length (`LengthBuckets`)."""
    if sampling not in ("natural", "uniform"):
        raise ValueError(f"sampling must be 'natural' or 'uniform', got {sampling!r}")
    if not buckets:
        if sampling == "natural":
            return make_loader(train, batch_size, shuffle=True, generator=generator)
        return uniform_language_loader(train, batch_size, generator)
    dataset = NamesDataset(train)
    weights = language_weights(train) if sampling == "uniform" else None
    sampler = LengthBuckets([len(x) for x in dataset.encoded], batch_size, generator, weights)
    return DataLoader(dataset, batch_sampler=sampler, collate_fn=collate_names)


def fit(model: nn.Module, train: list[Example], val: list[Example], epochs: int = 30,
        lr: float = 3e-3, batch_size: int = 64, patience: int = 5, clip: float | None = None,
        generator: torch.Generator | None = None, progress: bool = False,
        sampling: str = "natural", schedule: str = "constant", buckets: bool = False) -> History:
    """Adam on shuffled padded batches; stops after `patience` epochs without a better val loss
    and restores the best weights.

    `sampling="natural"` shows every training name once per epoch; "uniform" draws languages
    equally often, as the article's loop does. `schedule="cosine"` lowers the learning rate from
    `lr` to 0 along half a cosine over `epochs`; "constant" keeps it. `buckets=True` batches names
    of similar length together (`LengthBuckets`): about a third faster.
    """
    if schedule not in ("constant", "cosine"):
        raise ValueError(f"schedule must be 'constant' or 'cosine', got {schedule!r}")
    batches = train_loader(train, batch_size, generator, sampling, buckets)
    val_loader = make_loader(val, batch_size=512)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, epochs) if schedule == "cosine" else None
    history, best_state = History(), None
    epoch_range = range(1, epochs + 1)
    if progress:
        from tqdm.auto import tqdm
        epoch_range = tqdm(epoch_range, desc="epochs")
    for epoch in epoch_range:
        history.train_loss.append(train_epoch(model, batches, optimizer, clip))
        if scheduler is not None:
            scheduler.step()
        log_probs, targets = predict_log_probs(model, val_loader)
        history.val_loss.append(nn.functional.nll_loss(log_probs, targets).item())
        history.val_accuracy.append((log_probs.argmax(1) == targets).float().mean().item())
        if history.val_loss[-1] <= min(history.val_loss):
            history.best_epoch, best_state = epoch, copy.deepcopy(model.state_dict())
        elif epoch - history.best_epoch >= patience:
            break
    model.load_state_dict(best_state)
    return history
