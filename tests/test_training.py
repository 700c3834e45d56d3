"""The article's loop, batched training and the metrics: each guards one behaviour the notebooks rely on."""
from __future__ import annotations

import random
from collections import Counter

import pytest
import torch
from torch import nn

from rnn_tutorial.data import LANGUAGES, N_LETTERS, line_to_tensor, make_loader
from rnn_tutorial.metrics import lookup_baseline, majority_baseline, score, targets_of
from rnn_tutorial.rnn import NameClassifier, RNNDemo
from rnn_tutorial.training import (article_step, fit, predict_log_probs, random_training_example,
                                   train_article, train_epoch)
from rnn_tutorial.utils import set_seed


def test_article_sampler_picks_languages_uniformly():
    by_label = {0: ["A"] * 1000, 1: ["B"], 2: ["C"]}
    rng = random.Random(0)
    counts = Counter(random_training_example(by_label, rng)[0] for _ in range(3000))
    assert all(900 < counts[y] < 1100 for y in by_label)


def test_article_step_is_sgd_by_hand():
    set_seed(0)
    model = RNNDemo(N_LETTERS, 16, 18)
    before = [p.detach().clone() for p in model.parameters()]
    _, loss = article_step(model, line_to_tensor("Albert"), torch.tensor([4]), lr=0.1)
    for p, old in zip(model.parameters(), before):
        assert torch.allclose(p, old - 0.1 * p.grad)  # p <- p - lr * dL/dp, nothing else
    losses = [article_step(model, line_to_tensor("Albert"), torch.tensor([4]), lr=0.1)[1] for _ in range(20)]
    assert losses[-1] < loss / 2


def test_train_article_logs_and_averages(split):
    set_seed(0)
    lines: list[str] = []
    averages = train_article(RNNDemo(N_LETTERS, 16, 18), split.train, n_iters=600, print_every=300,
                             plot_every=100, log=lines.append)
    assert len(averages) == 6 and all(a == a for a in averages)  # finite averages, one per 100 steps
    assert len(lines) == 2
    assert lines[0].startswith(f"iteration    300 ( 50%)  mean loss {averages[2]:.4f}")
    assert lines[1].startswith(f"iteration    600 (100%)  mean loss {averages[5]:.4f}")


def test_fit_learns_and_keeps_the_best_epoch(split):
    g = set_seed(0)
    small_train, small_val = split.train[::10], split.val[::4]
    model = NameClassifier(32)
    history = fit(model, small_train, small_val, epochs=4, lr=5e-3, generator=g)
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.best_epoch == 1 + min(range(len(history.val_loss)), key=history.val_loss.__getitem__)
    log_probs, targets = predict_log_probs(model, make_loader(small_val, 256))
    assert nn.functional.nll_loss(log_probs, targets).item() == pytest.approx(min(history.val_loss), rel=1e-5)


def test_nan_loss_stops_training_with_a_message(split):
    set_seed(0)
    model = NameClassifier(8)
    with torch.no_grad():
        model.h2o.bias.fill_(float("nan"))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(FloatingPointError, match="learning rate"):
        train_epoch(model, make_loader(split.train[:64], 32), optimizer)


def test_scores_of_perfect_and_wrong_predictions():
    targets = torch.tensor([0, 1, 2, 2])
    perfect = torch.nn.functional.one_hot(targets, 18).float().log()
    s = score(perfect, targets)
    assert (s.accuracy, s.macro_f1, s.top3) == (1.0, pytest.approx(3 / 18), 1.0)  # 15 classes never appear
    assert s.recall["Arabic"] == 1.0 and s.confusion.shape == (18, 18)
    runner_up = 2 * torch.nn.functional.one_hot((targets + 1) % 18, 18) + torch.nn.functional.one_hot(targets, 18)
    wrong = score(runner_up.float(), targets)
    assert wrong.accuracy == 0.0 and wrong.top3 == 1.0  # the truth always ranked second


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
