"""Character n-grams of a name: the strong classical baseline (TF-IDF + logistic regression) and the
n-gram bag whose logits the final model adds to its recurrent core's (notebook 3, "Going deeper").

Both read a name through one function, `char_ngrams`, so the baseline and the bag cannot drift apart.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import torch
from torch import nn

from .data import ALPHABET, LANGUAGES, Example, targets_of
from .metrics import Scores, score

MAX_N = 4  # 1- to 4-grams
START, END = "^", "$"  # marks around a name (neither is in ALPHABET): '^Mc' is a start, 'ski$' an end
BASELINE_C = 10.0  # logistic regression's inverse regularisation strength, chosen on validation


def char_ngrams(name: str, max_n: int = MAX_N) -> list[str]:
    """'Li' -> ['^', 'L', 'i', '$', '^L', 'Li', 'i$', '^Li', 'Li$', '^Li$']: every 1..max_n-gram of the
    name between its start and end marks, shortest first, in reading order; case kept."""
    marked = START + name + END
    return [marked[i:i + n] for n in range(1, max_n + 1) for i in range(len(marked) - n + 1)]


# ---- the baseline: TF-IDF of n-grams + logistic regression (scikit-learn) ----------------------

def ngram_baseline(train: list[Example], C: float = BASELINE_C, max_n: int = MAX_N):
    """A scikit-learn pipeline fitted on `train`: TF-IDF of `char_ngrams`, then multinomial logistic regression."""
    # imported here: scikit-learn takes over a second to import, which the command line's `predict` never needs
    from functools import partial

    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    names, labels = zip(*train)
    pipeline = make_pipeline(TfidfVectorizer(analyzer=partial(char_ngrams, max_n=max_n)),
                             LogisticRegression(C=C, max_iter=1000))
    return pipeline.fit(list(names), list(labels))


def baseline_log_probs(pipeline, examples: list[Example], n_labels: int = len(LANGUAGES)) -> torch.Tensor:
    """(n, n_labels) log-probabilities of a fitted baseline; a label absent from its training set gets -inf."""
    out = torch.full((len(examples), n_labels), float("-inf"))
    log_probs = pipeline.predict_log_proba([name for name, _ in examples])
    out[:, torch.as_tensor(pipeline.classes_)] = torch.as_tensor(log_probs, dtype=torch.float32)
    return out


def evaluate_baseline(pipeline, examples: list[Example], labels: tuple[str, ...] = LANGUAGES) -> Scores:
    """`Scores` of a fitted baseline on `examples`, as `metrics.evaluate` scores a network."""
    return score(baseline_log_probs(pipeline, examples, len(labels)), targets_of(examples), labels)


# ---- the n-gram bag: one learned weight per (n-gram, language), summed over a name's n-grams -----

def ngram_vocabulary(names: Iterable[str], min_count: int = 1, max_n: int = MAX_N) -> list[str]:
    """The n-grams occurring in at least `min_count` of `names`, sorted (the bag's rows, in order)."""
    counts = Counter(g for name in names for g in set(char_ngrams(name, max_n)))
    return sorted(g for g, c in counts.items() if c >= min_count)


def decode(x: torch.Tensor, lengths: torch.Tensor) -> list[str]:
    """Padded letter indices (batch, seq), lengths (batch,) -> the names as strings (inverse of `letter_indices`)."""
    return ["".join(ALPHABET[i] for i in row[:n]) for row, n in zip(x.tolist(), lengths.tolist())]


class NgramBag(nn.Module):
    """Names -> (batch, n_labels) logits: the sum of the weights of each name's known n-grams
    (an `nn.EmbeddingBag` whose rows are n-grams and columns languages; unknown n-grams are skipped).
    With one-hot n-gram counts as input, this is a linear layer without bias."""

    def __init__(self, vocabulary: list[str], n_labels: int = len(LANGUAGES), max_n: int = MAX_N):
        super().__init__()
        self.vocabulary, self.max_n = list(vocabulary), max_n
        self.index = {g: i for i, g in enumerate(self.vocabulary)}
        self.weights = nn.EmbeddingBag(len(self.vocabulary), n_labels, mode="sum")
        nn.init.zeros_(self.weights.weight)  # a new bag says nothing: the core's logits pass unchanged
        self._cache: dict[str, list[int]] = {}  # name -> its n-gram rows, computed once per name

    def rows(self, name: str) -> list[int]:
        """The vocabulary rows of `name`'s n-grams (with repeats: 'anna' has 'n' twice)."""
        if name not in self._cache:
            self._cache[name] = [self.index[g] for g in char_ngrams(name, self.max_n) if g in self.index]
        return self._cache[name]

    def occurrences(self, names: list[str]) -> tuple[list[list[int]], torch.Tensor, torch.Tensor]:
        """Each name's rows; all of them in one (n_occurrences,) tensor; where each name's start in it (batch,)."""
        rows = [self.rows(name) for name in names]
        offsets = torch.tensor([0] + [len(r) for r in rows[:-1]]).cumsum(0)
        return rows, torch.tensor([i for r in rows for i in r], dtype=torch.long), offsets

    def forward(self, names: list[str]) -> torch.Tensor:
        """A list of `batch` names -> (batch, n_labels) logits."""
        _, flat, offsets = self.occurrences(names)
        return self.weights(flat, offsets)


class NgramBagClassifier(nn.Module):
    """The final model without its recurrent core (notebook 3, "what each part of the final model adds"):
    (batch, seq) letter indices, (batch,) lengths -> (batch, n_labels) log-probabilities of the n-gram bag alone."""

    def __init__(self, vocabulary: list[str], n_labels: int = len(LANGUAGES)):
        super().__init__()
        self.bag = NgramBag(vocabulary, n_labels)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return torch.log_softmax(self.bag(decode(x, lengths)), dim=1)
