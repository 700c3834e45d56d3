"""Predicting a name's language with a trained model, optionally corrected for the training mix of languages.

Notebook 3 uses it in section 6 ("Class imbalance": logit adjustment) and section 7 ("Saving, loading,
predicting");
the command line's `predict` calls `predict_many`. Checkpoints are in `checkpoints`.
"""
from __future__ import annotations

import math

import torch
from torch.nn.utils.rnn import pad_sequence

from .data import letter_indices
from .metrics import score
from .rnn import SequenceClassifier

MAX_NAME_LENGTH = 100  # characters; the longest surname in the data has 20


# ---- logit adjustment ----------------------------------------------------------------------

def adjust_logits(log_probs: torch.Tensor, train_prior: torch.Tensor, tau: float = 1.0) -> torch.Tensor:
    """Logit adjustment (Menon et al. 2021): (n, n_labels) log-probs -> log_softmax(log_probs - tau * log prior).

    tau = 0 keeps the training prior; tau = 1 answers as if every language were equally likely.
    ValueError for a prior with a zero, negative or non-finite share (log 0 would be -inf), or a non-finite tau.
    """
    if not math.isfinite(tau):
        raise ValueError(f"tau must be a finite number, got {tau}")
    positive = bool((torch.isfinite(train_prior) & (train_prior > 0)).all())
    if train_prior.shape != log_probs.shape[-1:] or not positive:
        raise ValueError(f"the prior must hold {log_probs.shape[-1]} positive finite shares, got {train_prior.tolist()}")
    return torch.log_softmax(log_probs - tau * train_prior.log(), dim=-1)


TAUS = tuple(i / 10 for i in range(11))  # 0, 0.1, ..., 1: the strengths `choose_tau` tries


def choose_tau(log_probs: torch.Tensor, targets: torch.Tensor, train_prior: torch.Tensor,
               taus: tuple[float, ...] = TAUS, slack: float = 0.005) -> float:
    """On validation log-probs (n, n_labels) and targets (n,): of the taus whose accuracy is at most `slack`
    below tau = 0's, the one with the best macro-F1 (the first of equals). Never choose it on the test part."""
    at_zero = score(log_probs, targets).accuracy
    kept = [(score(adjust_logits(log_probs, train_prior, tau), targets), tau) for tau in taus]
    kept = [(s.macro_f1, -i, tau) for i, (s, tau) in enumerate(kept) if s.accuracy >= at_zero - slack]
    return max(kept)[2]


# ---- prediction ----------------------------------------------------------------------------

def encode_name(name: str) -> list[int]:
    """`letter_indices` with a length cap: ValueError for names longer than MAX_NAME_LENGTH characters."""
    if isinstance(name, str) and len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"the name is {len(name)} characters long; at most {MAX_NAME_LENGTH} are accepted")
    if isinstance(name, str) and any("\ud800" <= c <= "\udfff" for c in name):  # how Python keeps undecodable bytes
        raise ValueError("the name is not valid UTF-8 text (save the file as UTF-8)")
    return letter_indices(name)


def _adjusted_log_probs(model: SequenceClassifier, x: torch.Tensor, lengths: torch.Tensor,
               prior: torch.Tensor | None, tau: float) -> torch.Tensor:
    """The model's log-probs, adjusted by `tau` times the training prior unless tau is 0 (then exactly the model's)."""
    log_probs = model(x, lengths)
    if tau == 0:
        return log_probs
    if prior is None:
        raise ValueError("tau other than 0 needs the training prior, which this model does not carry")
    return adjust_logits(log_probs, prior, tau)


@torch.no_grad()
def predict(model: SequenceClassifier, name: str, k: int = 3, prior: torch.Tensor | None = None,
            tau: float = 0.0) -> list[tuple[str, float]]:
    """Top-`k` (language, probability) for one name; ValueError for an empty, letterless or too long name.

    `tau` > 0 with the training `prior` moves probability from the languages frequent in training
    to the rare ones (tau = 1: as if all languages were equally likely); tau = 0 is the model as trained.
    """
    x = torch.tensor(encode_name(name))  # raises ValueError with the reason
    model.eval()
    probs = _adjusted_log_probs(model, x[None], torch.tensor([len(x)]), prior, tau)[0].exp()
    top = probs.topk(max(1, min(k, len(probs))))
    return [(model.labels[i], p) for p, i in zip(top.values.tolist(), top.indices.tolist())]


def encode_names(names: list[str]) -> tuple[list[list[int]], list[str | None]]:
    """Each name's letter indices ([] if it cannot be classified) and, for each name, None or the reason."""
    encoded, errors = [], []
    for name in names:
        try:
            encoded.append(encode_name(name))
            errors.append(None)
        except ValueError as e:
            encoded.append([])
            errors.append(str(e))
    return encoded, errors


@torch.no_grad()
def predict_encoded(model: SequenceClassifier, encoded: list[list[int]], k: int = 3, batch_size: int = 256,
                    prior: torch.Tensor | None = None, tau: float = 0.0) -> list[list[tuple[str, float]]]:
    """Top-`k` (language, probability) for names given as letter indices, in batches of similar length
    (little padding); results in input order."""
    k = max(1, min(k, len(model.labels)))
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
    lengths = torch.tensor([len(encoded[i]) for i in order], dtype=torch.long)
    letters = torch.tensor([c for i in order for c in encoded[i]], dtype=torch.long).split(lengths.tolist())
    model.eval()
    results: list[list[tuple[str, float]]] = [[] for _ in encoded]
    for start in range(0, len(order), batch_size):
        batch = slice(start, start + batch_size)
        log_probs = _adjusted_log_probs(model, pad_sequence(letters[batch], batch_first=True), lengths[batch], prior, tau)
        top = log_probs.exp().topk(k, dim=1)
        for i, probs, labels in zip(order[batch], top.values.tolist(), top.indices.tolist()):
            results[i] = [(model.labels[j], p) for p, j in zip(probs, labels)]
    return results


def predict_many(model: SequenceClassifier, names: list[str], k: int = 3, batch_size: int = 256,
                 prior: torch.Tensor | None = None, tau: float = 0.0) -> list[list[tuple[str, float]]]:
    """`predict` for many names in batches of similar length; ValueError naming the first unusable name."""
    if isinstance(names, str) or not isinstance(k, int) or k < 1 or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError("predict_many needs names as a list of strings (one name: [name]), k >= 1, batch_size >= 1")
    encoded, errors = encode_names(names)
    for position, error in enumerate(errors, 1):
        if error is not None:
            raise ValueError(f"name {position}: {error}")
    return predict_encoded(model, encoded, k, batch_size, prior, tau)
