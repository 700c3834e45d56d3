"""Scores on a held-out split and the baselines: `score`, `evaluate`, `accuracy`, majority and lookup."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn
from sklearn.metrics import accuracy_score

from rnn_tutorial.batching import eval_loader
from rnn_tutorial.config import ModelConfig
from rnn_tutorial.data import LANGUAGES, class_prior, targets_of
from rnn_tutorial.metrics import (accuracy, evaluate, lookup_baseline, majority_baseline, log_probs_and_targets, prior_loss,
                                  score)
from rnn_tutorial.rnn import SequenceClassifier


def test_scores_of_perfect_and_wrong_predictions():
    targets = torch.tensor([0, 1, 2, 2])
    perfect = torch.nn.functional.one_hot(targets, 18).float().log()
    s = score(perfect, targets)
    assert (s.accuracy, s.macro_f1, s.top3) == (1.0, pytest.approx(3 / 18), 1.0)  # 15 classes never appear
    assert s.recall["Arabic"] == 1.0 and s.confusion.shape == (18, 18)
    runner_up = 2 * torch.nn.functional.one_hot((targets + 1) % 18, 18) + torch.nn.functional.one_hot(targets, 18)
    wrong = score(runner_up.float(), targets)
    assert wrong.accuracy == 0.0 and wrong.top3 == 1.0  # the truth always ranked second


def test_accuracy_agrees_with_sklearn_in_double_precision():
    g = torch.Generator().manual_seed(0)
    for n in (1, 3, 7, 1000):
        scores, targets = torch.randn(n, 18, generator=g), torch.randint(18, (n,), generator=g)
        value = accuracy(scores, targets)
        assert type(value) is float
        assert value == accuracy_score(targets.numpy(), scores.argmax(1).numpy())  # exactly: 1/3, not float32's
    assert accuracy(torch.eye(3), torch.tensor([0, 2, 1])) == 1 / 3


def test_evaluate_is_score_of_the_predictions_in_eval_mode(split):
    torch.manual_seed(0)
    model = SequenceClassifier(ModelConfig(8, dropout=0.5))
    examples = split.val[:700]
    model.train()  # evaluate must switch dropout off itself
    scores = evaluate(model, examples)
    expected = score(*log_probs_and_targets(model, eval_loader(examples)))
    for field in ("accuracy", "macro_f1", "top3", "recall", "labels"):
        assert getattr(scores, field) == getattr(expected, field), field
    assert np.array_equal(scores.confusion, expected.confusion)


def test_majority_baseline_ranks_languages_by_their_share_of_train(split):
    scores = majority_baseline(split.train, split.test)
    assert scores.shape == (len(split.test), len(LANGUAGES))
    ranking = class_prior(split.train).argsort(descending=True, stable=True)
    assert all(torch.equal(row.argsort(descending=True, stable=True), ranking) for row in scores[:50])
    assert torch.equal(scores[0], scores[-1])


def test_majority_baseline_is_the_share_of_russian(split):
    s = score(majority_baseline(split.train, split.test), targets_of(split.test))
    share = sum(y == LANGUAGES.index("Russian") for _, y in split.test) / len(split.test)
    assert s.accuracy == pytest.approx(share)
    assert 0.45 < s.accuracy < 0.55


def test_lookup_baseline_exposes_a_leaky_split(split):
    leaky_test = split.train[::10]  # names the table has seen: what a random split over lines gives
    leaky = score(lookup_baseline(split.train, leaky_test), targets_of(leaky_test)).accuracy
    honest = score(lookup_baseline(split.train, split.test), targets_of(split.test)).accuracy
    majority = score(majority_baseline(split.train, split.test), targets_of(split.test)).accuracy
    assert leaky > 0.9 and honest == pytest.approx(majority)


def test_the_prior_loss_is_the_loss_of_the_majority_baseline(split):
    loss = prior_loss(class_prior(split.train), split.val)
    baseline = majority_baseline(split.train, split.val)  # log of the training shares, for every name
    assert loss == pytest.approx(nn.functional.nll_loss(baseline, targets_of(split.val)).item(), rel=1e-6)
    assert prior_loss(torch.full((len(LANGUAGES),), 1 / len(LANGUAGES)), split.val) == pytest.approx(
        math.log(len(LANGUAGES)), rel=1e-6)  # a uniform guess costs log 18 on any names
