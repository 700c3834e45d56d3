"""Batches of names for a DataLoader: padding, the training order of an epoch, and the evaluation loader.

Notebook 3 teaches padding and length buckets in section 5 ("The fast way"), language-uniform sampling in
section 6 ("Class imbalance").
"""
from __future__ import annotations

import math

import torch
from torch.nn.utils.rnn import pad_sequence
from torch.utils.data import DataLoader, Dataset, Sampler

from .config import Recipe
from .data import Example, label_counts, name_to_indices, targets_of


class NamesDataset(Dataset):
    """(letter indices (len,), label) pairs for a DataLoader; encodes every name once."""

    def __init__(self, examples: list[Example]):
        self.examples = examples
        self.encoded = [name_to_indices(n) for n, _ in examples]

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        return self.encoded[i], self.examples[i][1]


def collate_names(batch: list[tuple[torch.Tensor, int]]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """-> padded indices (batch, max_len), lengths (batch,), labels (batch,); pad value 0 is never read."""
    sequences, labels = zip(*batch)
    lengths = torch.tensor([len(s) for s in sequences])
    return pad_sequence(list(sequences), batch_first=True), lengths, torch.tensor(labels)


def eval_loader(examples: list[Example], batch_size: int = 512) -> DataLoader:
    """Padded batches of `examples` in their order, for evaluation."""
    return DataLoader(NamesDataset(examples), batch_size=batch_size, collate_fn=collate_names)


def language_weights(examples: list[Example]) -> torch.Tensor:
    """(n,) sampling weight of each name: 1 / (names of its language), so every language sums to 1."""
    labels = targets_of(examples)
    return 1.0 / label_counts(examples).float()[labels]


class EpochBatches(Sampler):
    """The batches of one training epoch: len(lengths) names, drawn as a permutation, or with replacement
    in proportion to `weights` (e.g. `language_weights`: every language equally often).

    With `buckets`, every pool of `pool` batches' worth is sorted by length, cut into batches, and the
    batches are shuffled: far less padding (a random batch of 64 pads to ~13 letters, the mean name
    has 7). Without, the drawn order is cut into batches as it is.
    """

    def __init__(self, lengths: list[int], batch_size: int, generator: torch.Generator | None = None,
                 weights: torch.Tensor | None = None, buckets: bool = True, pool: int = 50):
        self.lengths, self.batch_size, self.generator = torch.tensor(lengths), batch_size, generator
        self.weights, self.buckets, self.pool = weights, buckets, pool

    def __len__(self) -> int:
        return math.ceil(len(self.lengths) / self.batch_size)

    def __iter__(self):
        n = len(self.lengths)
        if self.weights is None:
            order = torch.randperm(n, generator=self.generator)
        else:
            order = torch.multinomial(self.weights, n, replacement=True, generator=self.generator)
        if not self.buckets:
            yield from (batch.tolist() for batch in order.split(self.batch_size))
            return
        batches = []
        for chunk in order.split(self.batch_size * self.pool):
            chunk = chunk[self.lengths[chunk].argsort(stable=True)]
            batches += chunk.split(self.batch_size)
        for i in torch.randperm(len(batches), generator=self.generator).tolist():
            yield batches[i].tolist()


def train_loader(train: list[Example], recipe: Recipe, generator: torch.Generator | None = None) -> DataLoader:
    """Training batches as `recipe` says: its batch size, sampling ("natural" or "uniform") and buckets."""
    dataset = NamesDataset(train)
    weights = language_weights(train) if recipe.sampling == "uniform" else None
    sampler = EpochBatches([len(x) for x in dataset.encoded], recipe.batch_size, generator, weights, recipe.buckets)
    return DataLoader(dataset, batch_sampler=sampler, collate_fn=collate_names)
