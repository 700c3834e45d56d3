"""Honest scores on a held-out split, and the baselines a model has to beat (notebook 3)."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.metrics import confusion_matrix, f1_score, recall_score

from .data import LANGUAGES, Example


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


def score(log_probs: torch.Tensor, targets: torch.Tensor, labels: tuple[str, ...] = LANGUAGES) -> Scores:
    """Scores of predictions (n, n_labels) against integer targets (n,)."""
    y_true, y_pred = targets.numpy(), log_probs.argmax(dim=1).numpy()
    everything = np.arange(len(labels))
    top3 = (log_probs.topk(3, dim=1).indices == targets[:, None]).any(dim=1).float().mean()
    recall = recall_score(y_true, y_pred, labels=everything, average=None, zero_division=0)
    return Scores(
        accuracy=float((y_true == y_pred).mean()),
        macro_f1=float(f1_score(y_true, y_pred, labels=everything, average="macro", zero_division=0)),
        top3=float(top3),
        recall=dict(zip(labels, recall.tolist())),
        confusion=confusion_matrix(y_true, y_pred, labels=everything, normalize="true"),
        labels=labels,
    )


def targets_of(examples: list[Example]) -> torch.Tensor:
    """(n,) label indices of `examples`."""
    return torch.tensor([y for _, y in examples])


def majority_baseline(train: list[Example], test: list[Example], n_labels: int = len(LANGUAGES)) -> torch.Tensor:
    """Scores (n_test, n_labels) that always rank languages by their share of `train`."""
    prior = torch.bincount(targets_of(train), minlength=n_labels).float() / len(train)
    return prior.log().expand(len(test), n_labels)


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
