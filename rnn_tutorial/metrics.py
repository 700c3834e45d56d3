"""Honest scores on a held-out split, and the baselines a model has to beat.

Notebook 3 teaches them (section 4, "An honest evaluation"); `accuracy` also scores the toy tasks of
notebooks 1 and 4. `evaluate` is the one way a name classifier is scored on a list of names.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .batching import eval_loader
from .data import LANGUAGES, Example, class_prior, targets_of


def accuracy(scores: torch.Tensor, targets: torch.Tensor) -> float:
    """Share of rows of `scores` (n, n_labels), any monotone scores, whose largest entry is at `targets` (n,)."""
    return (scores.argmax(dim=1) == targets).double().mean().item()


@torch.no_grad()
def log_probs_and_targets(model: nn.Module, loader) -> tuple[torch.Tensor, torch.Tensor]:
    """-> log-probs (n, n_labels) and targets (n,) for every name in `loader`'s (x, lengths, y) batches, in order."""
    model.eval()
    outputs, targets = [], []
    for x, lengths, y in loader:
        outputs.append(model(x, lengths))
        targets.append(y)
    return torch.cat(outputs), torch.cat(targets)


@dataclass
class Scores:
    """Accuracy, macro-F1, top-3 accuracy, per-class recall and a row-normalized confusion matrix."""
    accuracy: float
    macro_f1: float
    top3: float
    recall: dict[str, float]
    confusion: np.ndarray  # (n_labels, n_labels), row i: how true class i was predicted
    labels: tuple[str, ...]

    def __str__(self) -> str:
        return f"accuracy {self.accuracy:.3f}  macro-F1 {self.macro_f1:.3f}  top-3 {self.top3:.3f}"


def score(scores: torch.Tensor, targets: torch.Tensor, labels: tuple[str, ...] = LANGUAGES) -> Scores:
    """`Scores` of predictions against integer targets (n,): `scores` (n, n_labels) are any numbers whose
    order per row is the model's ranking (log-probs, logits, counts); only that order is used."""
    # imported here: scikit-learn takes over a second to import, which `predict` on the command line never needs
    from sklearn.metrics import confusion_matrix, f1_score, recall_score
    y_true, y_pred = targets.numpy(), scores.argmax(dim=1).numpy()
    everything = np.arange(len(labels))
    top3 = (scores.topk(3, dim=1).indices == targets[:, None]).any(dim=1).float().mean()
    recall = recall_score(y_true, y_pred, labels=everything, average=None, zero_division=0)
    return Scores(
        accuracy=accuracy(scores, targets),
        macro_f1=float(f1_score(y_true, y_pred, labels=everything, average="macro", zero_division=0)),
        top3=float(top3),
        recall=dict(zip(labels, recall.tolist())),
        confusion=confusion_matrix(y_true, y_pred, labels=everything, normalize="true"),
        labels=labels,
    )


def evaluate(model: nn.Module, examples: list[Example], labels: tuple[str, ...] = LANGUAGES) -> Scores:
    """`Scores` of a name classifier on `examples` (in eval mode, no gradients)."""
    return score(*log_probs_and_targets(model, eval_loader(examples)), labels)


def majority_baseline(train: list[Example], test: list[Example], n_labels: int = len(LANGUAGES)) -> torch.Tensor:
    """Scores (n_test, n_labels) that always rank languages by their share of `train`."""
    return class_prior(train, n_labels).log().expand(len(test), n_labels)


def prior_loss(prior: torch.Tensor, examples: list[Example]) -> float:
    """Mean NLL of answering the shares `prior` (n_labels,) for every name of `examples`: the loss of a
    guess that ignores the name, which a trained model's loss must beat."""
    return -prior.log()[targets_of(examples)].mean().item()


def lookup_baseline(train: list[Example], test: list[Example], n_labels: int = len(LANGUAGES)) -> torch.Tensor:
    """Scores that answer a name's language(s) in `train` if it was seen there, else the majority.

    Strong on a split that leaks names from train to test, no better than majority on ours.
    """
    seen: dict[str, Counter] = {}
    for name, y in train:
        seen.setdefault(name, Counter())[y] += 1
    scores = majority_baseline(train, test, n_labels).clone() * 1e-3  # a tie-breaker, below any count
    for i, (name, _) in enumerate(test):
        for y, count in seen.get(name, Counter()).items():
            scores[i, y] = count
    return scores
