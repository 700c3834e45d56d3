"""Training: the article's per-name loop with hand-made SGD, and batched training with Adam.

Notebook 3 runs both on the same split: the article's loop in section 3 ("The article's model and training
loop"), `fit` in section 5 ("The fast way"). Notebook 4 trains with `gradients.train_steps` instead.
"""
from __future__ import annotations

import copy
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import torch
from torch import nn
from tqdm import tqdm  # the terminal bar (tqdm.auto would warn on stderr in a Jupyter without ipywidgets)

from .batching import eval_loader, train_loader
from .config import (ARTICLE_ITERS, ARTICLE_LR, FINAL_MODEL, FINAL_RECIPE, FINAL_SEEDS, SIMPLE_RECIPE, ModelConfig,
                     Recipe)
from .data import LANGUAGES, Example, Split, line_to_tensor
from .metrics import log_probs_and_targets
from .ngrams import ngram_vocabulary
from .rnn import SequenceClassifier, RNNDemo
from .seeding import set_seed


def stop_if_diverged(loss: torch.Tensor) -> None:
    """The rule of every training loop: a NaN or infinite loss stops it before the update that would spread it."""
    if not torch.isfinite(loss):
        raise FloatingPointError(f"the loss became {loss.item()}: lower the learning rate (or clip the gradient)")


# ---- the article's loop: one name at a time, manual SGD ----------------------------------

def random_training_example(by_label: dict[int, list[str]], rng: random.Random) -> tuple[int, str]:
    """The article's sampler: a language uniformly at random, then one of its names."""
    label = rng.choice(sorted(by_label))
    return label, rng.choice(by_label[label])


def article_step(model: RNNDemo, line_tensor: torch.Tensor, label: torch.Tensor,
                 lr: float = ARTICLE_LR) -> tuple[torch.Tensor, float]:
    """One name: letters (len, 1, n_letters), label (1,) -> (last log-probs (1, n_labels), loss)."""
    # forward: read every letter, keep the output after the last one
    output = model.classify(line_tensor)
    loss = nn.functional.nll_loss(output, label)
    stop_if_diverged(loss)
    # backward
    model.zero_grad()
    loss.backward()
    # update: p <- p - lr * dL/dp, the optimizer written by hand
    with torch.no_grad():
        for p in model.parameters():
            p -= lr * p.grad
    return output, loss.item()


def train_article(model: RNNDemo, train: list[Example], n_iters: int = ARTICLE_ITERS, lr: float = ARTICLE_LR,
                  print_every: int = 5000, plot_every: int = 1000,
                  log: Callable[[str], None] = print) -> list[float]:
    """The article's loop over `train`; returns the loss averaged over every `plot_every` iterations.

    Each iteration draws a language uniformly, then one of its names (`random_training_example`), from a
    `random.Random` seeded from Python's `random`, which `seeding.set_seed` seeds: another seed changes
    the order too. Every `print_every` iterations `log` gets the mean loss and the last name with its guess.
    """
    rng = random.Random(random.getrandbits(64))
    by_label: dict[int, list[str]] = {}
    for name, y in train:
        by_label.setdefault(y, []).append(name)
    tensors: dict[str, torch.Tensor] = {}  # each name is encoded once, when first drawn
    averages, running = [], 0.0
    for it in range(1, n_iters + 1):
        y, name = random_training_example(by_label, rng)
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
    """The article's model on each name, one at a time: -> log-probs (n, n_labels)."""
    model.eval()
    return torch.cat([model.classify(line_to_tensor(name)) for name, _ in examples])


# ---- batched training -----------------------------------------------------------------------

def train_epoch(model: nn.Module, loader, optimizer: torch.optim.Optimizer,
                clip: float | None = None, label_smoothing: float = 0.0) -> float:
    """One pass over `loader` of (x, lengths, y) batches; returns the mean loss per name (smoothed if asked)."""
    model.train()
    total, count = 0.0, 0
    for x, lengths, y in loader:
        # forward
        loss = training_loss(model(x, lengths), y, label_smoothing)
        stop_if_diverged(loss)
        # backward
        optimizer.zero_grad()
        loss.backward()
        if clip is not None:
            nn.utils.clip_grad_norm_(model.parameters(), clip)
        # update
        optimizer.step()
        total, count = total + loss.item() * len(y), count + len(y)
    return total / count


def training_loss(log_probs: torch.Tensor, targets: torch.Tensor, label_smoothing: float = 0.0) -> torch.Tensor:
    """Mean negative log-likelihood of `targets` (n,) under `log_probs` (n, n_labels); with smoothing s, the
    target is 1 - s on the true label plus s / n_labels on every label (Szegedy et al. 2016)."""
    if label_smoothing == 0:
        return nn.functional.nll_loss(log_probs, targets)
    return nn.functional.cross_entropy(log_probs, targets, label_smoothing=label_smoothing)


Schedule = torch.optim.lr_scheduler.LRScheduler


def make_optimizer(model: nn.Module, recipe: Recipe) -> tuple[torch.optim.Optimizer, Schedule | None]:
    """Adam at `recipe.lr`, and the cosine schedule over `recipe.epochs` if the recipe asks for it."""
    optimizer = torch.optim.Adam(model.parameters(), lr=recipe.lr)
    if recipe.schedule == "cosine":
        return optimizer, torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, recipe.epochs)
    return optimizer, None


OptimizerFactory = Callable[[nn.Module, Recipe], tuple[torch.optim.Optimizer, Schedule | None]]


@dataclass
class History:
    """Per-epoch record of a `fit`; `best_epoch` is the one whose weights were kept (1-based)."""
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    best_epoch: int = 0


def fit(model: nn.Module, train: list[Example], val: list[Example], recipe: Recipe = SIMPLE_RECIPE,
        generator: torch.Generator | None = None, progress: bool = False,
        new_optimizer: OptimizerFactory = make_optimizer) -> History:
    """Train `model` on `train` as `recipe` says; after every epoch, measure the loss on `val`, stop after
    `recipe.patience` epochs without a better one, and restore the best weights. `generator` orders the batches;
    `new_optimizer(model, recipe)` gives the optimizer and schedule (Adam and cosine unless a study swaps them)."""
    batches = train_loader(train, recipe, generator)
    val_loader = eval_loader(val)
    optimizer, scheduler = new_optimizer(model, recipe)
    history, best_state = History(), None
    epoch_range = range(1, recipe.epochs + 1)
    if progress:
        epoch_range = tqdm(epoch_range, desc="epochs")
    for epoch in epoch_range:
        history.train_loss.append(train_epoch(model, batches, optimizer, recipe.clip, recipe.label_smoothing))
        if scheduler is not None:
            scheduler.step()
        log_probs, targets = log_probs_and_targets(model, val_loader)
        history.val_loss.append(nn.functional.nll_loss(log_probs, targets).item())
        if history.val_loss[-1] <= min(history.val_loss):
            history.best_epoch, best_state = epoch, copy.deepcopy(model.state_dict())
        elif epoch - history.best_epoch >= recipe.patience:
            break
    model.load_state_dict(best_state)
    return history


# ---- the final model ------------------------------------------------------------------------

def train_seeded(make_model: Callable[[], nn.Module], split: Split, seed: int, recipe: Recipe = FINAL_RECIPE,
                 progress: bool = False, new_optimizer: OptimizerFactory = make_optimizer) -> tuple[nn.Module, History]:
    """`set_seed(seed)`, then `make_model()`, then `fit` on split.train with split.val for stopping: the one order
    every final-model run follows (the seed fixes the initial weights, the batch order and dropout's draws)."""
    generator = set_seed(seed)
    model = make_model()
    return model, fit(model, split.train, split.val, recipe, generator=generator, progress=progress,
                      new_optimizer=new_optimizer)


def train_final_model(split: Split, seeds: Iterable[int] = FINAL_SEEDS, config: ModelConfig = FINAL_MODEL,
                      recipe: Recipe = FINAL_RECIPE, progress: bool = False,
                      on_seed: Callable[[int, SequenceClassifier, History], None] | None = None) -> SequenceClassifier:
    """One model per seed (`train_seeded`), merged into one when there are several (`SequenceClassifier.merge`).
    `on_seed(seed, model, history)` sees each model as it is done. A model with n-grams gets the vocabulary of
    the training names' n-grams."""
    vocabulary = ngram_vocabulary([name for name, _ in split.train]) if config.ngrams else None
    models = []
    for seed in seeds:
        model, history = train_seeded(lambda: SequenceClassifier(config, ngram_vocabulary=vocabulary), split, seed,
                                      recipe, progress)
        if on_seed is not None:
            on_seed(seed, model, history)
        models.append(model)
    return SequenceClassifier.merge(models) if len(models) > 1 else models[0]
