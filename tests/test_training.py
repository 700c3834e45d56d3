"""The article's loop and batched training: each test guards one behaviour the notebooks rely on."""
from __future__ import annotations

import dataclasses
import random
from collections import Counter

import pytest
import torch
from torch import nn

from rnn_tutorial.batching import eval_loader
from rnn_tutorial.config import ModelConfig, Recipe
from rnn_tutorial.data import LANGUAGES, N_LETTERS, line_to_tensor
from rnn_tutorial.metrics import log_probs_and_targets
from rnn_tutorial.rnn import SequenceClassifier, RNNDemo
from rnn_tutorial.training import (article_log_probs, article_step, fit, random_training_example, train_article,
                                   train_epoch, train_final_model, train_seeded, training_loss)
from rnn_tutorial.seeding import set_seed


# ---- the article's loop -----------------------------------------------------------------------

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


def test_train_article_sampling_follows_set_seed(split, monkeypatch):
    def lines_after(seed: int) -> list[str]:
        set_seed(seed)
        lines: list[str] = []
        train_article(RNNDemo(N_LETTERS, 8, 18), split.train, n_iters=40, print_every=1, plot_every=1,
                      log=lines.append)
        return lines
    first = lines_after(0)
    assert lines_after(0) == first  # same seed, same names, same losses
    assert lines_after(1) != first  # another seed draws other names (and another init)
    monkeypatch.setenv("RNN_TUTORIAL_SEED_SHIFT", "1")  # the variable an older version read
    assert lines_after(0) == first  # no environment variable changes what a seed means


def test_article_log_probs_has_one_row_per_name():
    set_seed(0)
    model = RNNDemo(N_LETTERS, 8, len(LANGUAGES))
    examples = [("Albert", 0), ("Li", 1), ("O'Neal", 2)]
    log_probs = article_log_probs(model, examples)
    assert log_probs.shape == (3, len(LANGUAGES))
    assert torch.allclose(log_probs.exp().sum(1), torch.ones(3))
    assert torch.equal(log_probs[1:2], model.classify(line_to_tensor("Li")))


# ---- batched training ----------------------------------------------------------------------

def test_fit_learns_and_keeps_the_best_epoch(split):
    g = set_seed(0)
    small_train, small_val = split.train[::10], split.val[::4]
    model = SequenceClassifier(ModelConfig(32, readout="last"))
    history = fit(model, small_train, small_val, Recipe(epochs=4, lr=5e-3, schedule="constant", buckets=False),
                  generator=g)
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.best_epoch == 1 + min(range(len(history.val_loss)), key=history.val_loss.__getitem__)
    log_probs, targets = log_probs_and_targets(model, eval_loader(small_val, 256))
    assert nn.functional.nll_loss(log_probs, targets).item() == pytest.approx(min(history.val_loss), rel=1e-5)


def test_nan_loss_stops_training_with_a_message(split):
    set_seed(0)
    model = SequenceClassifier(ModelConfig(8, readout="last"))
    with torch.no_grad():
        model.h2o.bias.fill_(float("nan"))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(FloatingPointError, match="learning rate"):
        train_epoch(model, eval_loader(split.train[:64], 32), optimizer)


def test_fit_with_cosine_schedule_ends_near_zero_lr(split, monkeypatch):
    g = set_seed(0)
    seen = []
    original_step = torch.optim.Adam.step

    def spy(self, *args, **kwargs):
        seen.append(self.param_groups[0]["lr"])
        return original_step(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.Adam, "step", spy)
    recipe = Recipe(epochs=4, lr=1e-2, batch_size=64, patience=10, schedule="cosine", buckets=False)
    fit(SequenceClassifier(ModelConfig(8, readout="last")), split.train[:128], split.val[:64], recipe, generator=g)
    per_epoch = seen[::2]  # two batches per epoch
    assert per_epoch[0] == pytest.approx(1e-2)
    assert per_epoch == sorted(per_epoch, reverse=True) and per_epoch[-1] < 0.2e-2


def test_the_final_model_merges_one_model_per_seed(split):
    small = dataclasses.replace(split, train=split.train[::20], val=split.val[::8])
    config, recipe = ModelConfig(8), Recipe(epochs=1, buckets=False)
    seen = []
    merged = train_final_model(small, seeds=[3, 4], config=config, recipe=recipe,
                               on_seed=lambda seed, model, history: seen.append((seed, model)))
    assert [seed for seed, _ in seen] == [3, 4] and merged.config.hidden_size == 16
    alone = train_final_model(small, seeds=[4], config=config, recipe=recipe)  # the same seed, trained again
    assert torch.equal(alone.h2o.weight, seen[1][1].h2o.weight)  # each seed's model depends on its seed only
    x, lengths, _ = next(iter(eval_loader(small.val, 64)))
    with torch.no_grad():
        logits = [model.h2o(model.features(x, lengths)) for _, model in seen]
        assert torch.allclose(merged.h2o(merged.features(x, lengths)), sum(logits) / 2, atol=1e-5)


def test_train_seeded_seeds_before_it_builds_and_trains(split):
    small = dataclasses.replace(split, train=split.train[::20], val=split.val[::8])
    recipe = Recipe(epochs=1, buckets=False)
    built = []

    def make_model():
        built.append(torch.randn(2))  # the draw right after seeding: the same for every call with one seed
        return SequenceClassifier(ModelConfig(8))

    a, history = train_seeded(make_model, small, 5, recipe)
    b, _ = train_seeded(make_model, small, 5, recipe)
    c, _ = train_seeded(make_model, small, 6, recipe)
    assert torch.equal(built[0], built[1]) and not torch.equal(built[0], built[2])
    assert torch.equal(a.h2o.weight, b.h2o.weight) and not torch.equal(a.h2o.weight, c.h2o.weight)
    assert history.best_epoch == 1 and len(history.val_loss) == 1


def test_a_nan_loss_stops_the_articles_loop_too():
    set_seed(0)
    model = RNNDemo(N_LETTERS, 8, len(LANGUAGES))
    with torch.no_grad():
        model.i2o.bias.fill_(float("nan"))
    before = model.i2h.weight.clone()
    with pytest.raises(FloatingPointError, match="learning rate"):
        article_step(model, line_to_tensor("Li"), torch.tensor([0]))
    assert torch.equal(model.i2h.weight, before)  # stopped before the update


def test_label_smoothing_aims_at_1_minus_s_plus_s_over_n_labels():
    log_probs = torch.log_softmax(torch.randn(5, 4, generator=torch.Generator().manual_seed(0)), dim=1)
    targets = torch.tensor([0, 1, 2, 3, 0])
    smoothed_target = 0.9 * torch.nn.functional.one_hot(targets, 4) + 0.1 / 4
    expected = -(smoothed_target * log_probs).sum(dim=1).mean()
    torch.testing.assert_close(training_loss(log_probs, targets, 0.1), expected)
    assert torch.equal(training_loss(log_probs, targets), torch.nn.functional.nll_loss(log_probs, targets))


def test_train_seeded_and_fit_take_their_optimizer_from_new_optimizer(split):
    small = dataclasses.replace(split, train=split.train[::20], val=split.val[::8])
    seen = []

    def frozen(model, recipe):  # an optimizer that never moves a weight
        seen.append(recipe)
        return torch.optim.SGD(model.parameters(), lr=0.0), None

    def make_model():
        return SequenceClassifier(ModelConfig(8))

    recipe = Recipe(epochs=2, buckets=False)
    trained, _ = train_seeded(make_model, small, 5, recipe, new_optimizer=frozen)
    set_seed(5)
    untrained = make_model()
    assert seen == [recipe]
    for (key, a), (_, b) in zip(trained.state_dict().items(), untrained.state_dict().items()):
        assert torch.equal(a, b), key
