"""Batches of names: padding, the evaluation loader, and the order of a training epoch (`EpochBatches`,
`train_loader`): every name once, reproducible from a generator, length buckets, languages equally often."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from rnn_tutorial.batching import EpochBatches, collate_names, language_weights, eval_loader, train_loader
from rnn_tutorial.config import Recipe
from rnn_tutorial.data import LANGUAGES, name_to_indices, targets_of


def test_collate_pads_and_returns_lengths():
    x, lengths, y = collate_names([(name_to_indices("Li"), 3), (name_to_indices("Albert"), 5)])
    assert x.shape == (2, 6) and lengths.tolist() == [2, 6] and y.tolist() == [3, 5]
    assert torch.equal(x[0, :2], name_to_indices("Li"))


def test_evaluation_loader_keeps_the_order_of_the_names(split):
    examples = split.test[:1000]
    loader = eval_loader(examples, batch_size=300)
    batches = list(loader)
    assert [len(y) for _, _, y in batches] == [300, 300, 300, 100]
    assert torch.equal(torch.cat([y for _, _, y in batches]), targets_of(examples))
    x, lengths, _ = batches[0]
    assert torch.equal(x[0, :lengths[0]], name_to_indices(examples[0][0]))


def epochs_of(sampler: EpochBatches, n: int) -> list[list[list[int]]]:
    return [list(sampler) for _ in range(n)]


def test_without_buckets_an_epoch_is_the_generators_permutation_cut_into_batches():
    """Not torch's DataLoader(shuffle=True, generator=g): that draws a worker seed from g before each
    epoch (and RandomSampler one more permutation after it), so its orders differ from the second draw on."""
    sampler = EpochBatches([1] * 1000, batch_size=64, generator=torch.Generator().manual_seed(0), buckets=False)
    epochs = epochs_of(sampler, 3)
    g = torch.Generator().manual_seed(0)
    for batches in epochs:
        assert [len(b) for b in batches] == [64] * 15 + [40] and len(batches) == len(sampler)
        assert sorted(i for b in batches for i in b) == list(range(1000))  # every index once per epoch
        assert batches == [b.tolist() for b in torch.randperm(1000, generator=g).split(64)]
    assert epochs[0] != epochs[1]
    other_seed = EpochBatches([1] * 1000, 64, generator=torch.Generator().manual_seed(1), buckets=False)
    assert list(other_seed) != epochs[0]


def test_length_buckets_give_every_name_once_in_batches_of_similar_length():
    lengths = [1 + (i * 7) % 15 for i in range(1000)]
    sampler = EpochBatches(lengths, batch_size=32, generator=torch.Generator().manual_seed(0), pool=10)
    batches = list(sampler)
    assert len(batches) == len(sampler) and sorted(i for b in batches for i in b) == list(range(1000))
    spread = np.mean([max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in batches])
    assert spread < 2  # a random batch of 32 would span nearly all 15 lengths
    same_seed = EpochBatches(lengths, batch_size=32, generator=torch.Generator().manual_seed(0), pool=10)
    assert list(same_seed) == batches


def test_language_weights_give_every_language_the_same_total(split):
    weights = language_weights(split.train)
    assert weights.shape == (len(split.train),)
    totals = torch.zeros(len(LANGUAGES)).index_add_(0, targets_of(split.train), weights)
    assert torch.allclose(totals, torch.ones(len(LANGUAGES)), atol=1e-4)


@pytest.mark.parametrize("buckets", [False, True])
def test_uniform_sampling_draws_languages_equally_often(split, buckets):
    recipe = Recipe(batch_size=512, sampling="uniform", buckets=buckets)
    loader = train_loader(split.train, recipe, torch.Generator().manual_seed(0))
    counts = torch.bincount(torch.cat([y for _, _, y in loader]), minlength=len(LANGUAGES))
    assert counts.sum() == len(split.train)
    expected = len(split.train) / len(LANGUAGES)
    assert counts.min() > 0.8 * expected and counts.max() < 1.2 * expected  # Russian is 47% of train


@pytest.mark.parametrize("buckets", [False, True])
def test_training_order_is_reproducible_from_the_generator(split, buckets):
    recipe = Recipe(batch_size=8, buckets=buckets)

    def first_batch(seed):
        return next(iter(train_loader(split.train, recipe, torch.Generator().manual_seed(seed))))[2]
    assert torch.equal(first_batch(0), first_batch(0))
    assert not torch.equal(first_batch(0), first_batch(1))
    natural = torch.cat([y for _, _, y in train_loader(split.train, dataclasses.replace(recipe, batch_size=512))])
    assert torch.equal(natural.sort().values, targets_of(split.train).sort().values)  # each name once
