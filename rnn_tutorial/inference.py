"""Predicting a name's language, and checkpoints that refuse to load into the wrong alphabet or labels."""
from __future__ import annotations

from pathlib import Path

import torch

from torch.nn.utils.rnn import pad_sequence

from .data import ALPHABET, LANGUAGES, letter_indices, name_to_indices
from .rnn import NameClassifier


def class_prior(labels: torch.Tensor, n_labels: int) -> torch.Tensor:
    """(n,) integer labels -> (n_labels,) share of each label: the prior a model trained on them learns."""
    return torch.bincount(labels, minlength=n_labels).double().div(len(labels)).float()


def adjust_logits(log_probs: torch.Tensor, train_prior: torch.Tensor, tau: float = 1.0) -> torch.Tensor:
    """Logit adjustment (Menon et al. 2021): (n, n_labels) log-probs -> log_softmax(log_probs - tau * log prior).

    tau = 0 keeps the training prior; tau = 1 answers as if every language were equally likely.
    """
    return torch.log_softmax(log_probs - tau * train_prior.log(), dim=-1)


@torch.no_grad()
def predict(model: NameClassifier, name: str, k: int = 3) -> list[tuple[str, float]]:
    """Top-`k` (language, probability) for one name; ValueError for an empty or letterless name."""
    x = name_to_indices(name)  # raises ValueError with the reason
    model.eval()
    probs = model(x[None], torch.tensor([len(x)]))[0].exp()
    top = probs.topk(min(k, len(probs)))
    return [(model.labels[i], p) for p, i in zip(top.values.tolist(), top.indices.tolist())]


@torch.no_grad()
def predict_many(model: NameClassifier, names: list[str], k: int = 3,
                 batch_size: int = 256) -> list[list[tuple[str, float]]]:
    """`predict` for many names in batches of similar length (little padding); results in input order."""
    encoded = [letter_indices(name) for name in names]  # raises ValueError naming the bad name
    order = sorted(range(len(names)), key=lambda i: len(encoded[i]))
    lengths = torch.tensor([len(encoded[i]) for i in order])
    letters = torch.tensor([c for i in order for c in encoded[i]]).split(lengths.tolist())  # one tensor, split
    model.eval()
    results: list[list[tuple[str, float]]] = [[] for _ in names]
    for start in range(0, len(order), batch_size):
        batch = slice(start, start + batch_size)
        top = model(pad_sequence(letters[batch], batch_first=True), lengths[batch]).exp().topk(k, dim=1)
        for i, probs, labels in zip(order[batch], top.values.tolist(), top.indices.tolist()):
            results[i] = [(model.labels[j], p) for p, j in zip(probs, labels)]
    return results


def save_checkpoint(model: NameClassifier, path: str | Path, **info) -> Path:
    """Save weights with the alphabet, label order and hyperparameters; `info` adds e.g. test scores."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({
        "state_dict": model.state_dict(),
        "alphabet": ALPHABET,
        "labels": list(model.labels),
        "hparams": {"hidden_size": model.h2o.in_features, "core": model.core_name,
                    "dropout": model.dropout.p, "readout": model.readout},
        "info": info,
    }, path)
    return path


def load_checkpoint(path: str | Path) -> NameClassifier:
    """A NameClassifier rebuilt from `path`; ValueError if its alphabet or labels differ from the code's."""
    checkpoint = torch.load(path, weights_only=True)
    if checkpoint.get("alphabet") != ALPHABET:
        raise ValueError(f"{Path(path).name} was trained on another alphabet "
                         f"({checkpoint.get('alphabet')!r}); letters would be mis-mapped: retrain it")
    if tuple(checkpoint.get("labels", ())) != LANGUAGES:
        raise ValueError(f"{Path(path).name} has labels {checkpoint.get('labels')}, the code expects "
                         f"{list(LANGUAGES)}; predictions would be mis-named: retrain it")
    model = NameClassifier(labels=LANGUAGES, **checkpoint["hparams"])
    model.load_state_dict(checkpoint["state_dict"])
    return model.eval()
