"""What the benchmark measures: one measurement per child process, each returning a dict of plain numbers.

`run(spec)` is what `bench.py --child` calls. Every measurement imports the package inside its own
function, so a run's process loads only what that run needs before its RSS "at start" (Python, torch,
the data and the model) is read.
"""
from __future__ import annotations

import inspect
import resource
import statistics
import time
from pathlib import Path

from rnn_tutorial.config import ARTICLE_HIDDEN_SIZE, ARTICLE_LR, CORES

# The batched runs: key -> (core, length buckets). Every core with random batches, then the hand-written
# core and nn.RNN with batches of names of similar length.
BATCHED = {core: (core, False) for core in CORES} | {f"{core}-buckets": (core, True) for core in ("hand", "rnn")}
INFERENCE_MODES = ("one", "batched", "sorted")  # predict per name, one padded batch, predict_many's default


class Clock:
    """Wall and CPU seconds since start, minus the time spent in `pause(fn)` calls (evaluation)."""

    def __init__(self):
        self.start_wall, self.start_cpu = time.perf_counter(), time.process_time()
        self.excluded_wall, self.excluded_cpu = 0.0, 0.0

    def now(self) -> tuple[float, float]:
        return (time.perf_counter() - self.start_wall - self.excluded_wall,
                time.process_time() - self.start_cpu - self.excluded_cpu)

    def pause(self, fn):
        wall, cpu = time.perf_counter(), time.process_time()
        out = fn()
        self.excluded_wall += time.perf_counter() - wall
        self.excluded_cpu += time.process_time() - cpu
        return out


def rss_mb() -> float:
    """Current resident set size (MB), from /proc/self/status."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (MB); ru_maxrss is in KB on Linux."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def benchmark_model(core: str):
    """`SequenceClassifier` as the benchmark has always measured it (results.md): notebook 3's simple model's
    hidden size with the `core` asked for, but the readout of the last state (the old default), not "max"."""
    import dataclasses

    from rnn_tutorial.config import SIMPLE_MODEL
    from rnn_tutorial.rnn import SequenceClassifier
    return SequenceClassifier(dataclasses.replace(SIMPLE_MODEL, core=core, readout="last"))


def article(seed: int, iters: int) -> dict:
    """The article's loop: RNNDemo(57, 128, 18), per-name SGD, a language drawn uniformly, then a name."""
    from rnn_tutorial.data import LANGUAGES, N_LETTERS, load_split, targets_of
    from rnn_tutorial.metrics import score
    from rnn_tutorial.rnn import RNNDemo
    from rnn_tutorial.training import article_log_probs, train_article
    from rnn_tutorial.seeding import set_seed
    split = load_split()
    set_seed(seed)  # seeds the model and Python's `random`, which orders train_article's names
    model = RNNDemo(N_LETTERS, ARTICLE_HIDDEN_SIZE, len(LANGUAGES))
    baseline = rss_mb()
    clock = Clock()
    train_article(model, split.train, n_iters=iters, lr=ARTICLE_LR, print_every=iters,
                  plot_every=min(1000, iters), log=lambda line: None)
    wall, cpu = clock.now()
    s = score(article_log_probs(model, split.test), targets_of(split.test))
    return {"wall": wall, "cpu": cpu, "accuracy": s.accuracy, "macro_f1": s.macro_f1,
            "baseline_rss": baseline, "peak_rss": peak_rss_mb()}


def batched(core: str, seed: int, epochs: int, batch_size: int, lr: float,
            dense_epochs: int, check_every: int, sampling: str = "natural", buckets: bool = False) -> dict:
    """`benchmark_model(core)`, Adam at a constant `lr` on the package's `train_loader` batches via
    `train_epoch`, for `epochs` epochs (no early stopping); test scores as `train_with_checks` says."""
    from rnn_tutorial.batching import train_loader
    from rnn_tutorial.config import Recipe
    from rnn_tutorial.data import load_split
    from rnn_tutorial.training import make_optimizer
    from rnn_tutorial.seeding import set_seed
    split = load_split()
    g = set_seed(seed)
    model = benchmark_model(core)
    # not SIMPLE_RECIPE: a constant learning rate (plain Adam) for a fixed number of epochs
    recipe = Recipe(epochs=epochs, lr=lr, batch_size=batch_size, sampling=sampling, schedule="constant",
                    buckets=buckets)
    loader = train_loader(split.train, recipe, g)
    optimizer, _ = make_optimizer(model, recipe)  # Adam at recipe.lr; a constant schedule has no scheduler
    baseline = rss_mb()
    result = train_with_checks(model, loader, optimizer, epochs, split.test, dense_epochs, check_every)
    return result | {"baseline_rss": baseline, "peak_rss": peak_rss_mb()}


def train_with_checks(model, loader, optimizer, epochs: int, test: list,
                      dense_epochs: int, check_every: int) -> dict:
    """`epochs` epochs of `train_epoch`, timed; the scores on `test` are taken every `check_every` batches
    for the first `dense_epochs` epochs, then after each epoch, with the clock paused.
    -> {"epoch_wall": [...], "epoch_cpu": [...], "checks": [{epoch, wall, cpu, accuracy, macro_f1}, ...]}"""
    from rnn_tutorial.metrics import evaluate
    from rnn_tutorial.training import train_epoch
    clock, out = Clock(), {"epoch_wall": [], "epoch_cpu": [], "checks": []}

    def test_scores():
        s = evaluate(model, test)
        model.train()  # evaluate switched to eval mode; train_epoch will not switch back mid-epoch
        return s

    def check(epoch: float):
        s = clock.pause(test_scores)
        wall, cpu = clock.now()
        out["checks"].append({"epoch": epoch, "wall": wall, "cpu": cpu,
                              "accuracy": s.accuracy, "macro_f1": s.macro_f1})

    def batches(epoch: int):
        n = len(loader)
        for i, batch in enumerate(loader):
            if epoch <= dense_epochs and i > 0 and i % check_every == 0:
                check(epoch - 1 + i / n)  # batch i-1 is done: train_epoch asked for the next one
            yield batch

    for epoch in range(1, epochs + 1):
        wall0, cpu0 = clock.now()
        train_epoch(model, batches(epoch), optimizer)
        wall1, cpu1 = clock.now()
        out["epoch_wall"].append(wall1 - wall0)
        out["epoch_cpu"].append(cpu1 - cpu0)
        check(float(epoch))
    return out


def median_times(fn, inner: int) -> tuple[float, float]:
    """Median wall and CPU seconds of `inner` calls of `fn`, after one warm-up call."""
    fn()
    walls, cpus = [], []
    for _ in range(inner):
        clock = Clock()
        fn()
        wall, cpu = clock.now()
        walls.append(wall)
        cpus.append(cpu)
    return statistics.median(walls), statistics.median(cpus)


def inference(seed: int, inner: int) -> dict:
    """Names per second for the hand-written `benchmark_model` (untrained: speed does not depend on the
    weights): `predict` one name at a time vs `predict_many` over the test split, both from strings to top-3."""
    from rnn_tutorial.data import load_split
    from rnn_tutorial.inference import predict, predict_many
    from rnn_tutorial.seeding import set_seed
    split = load_split()
    set_seed(seed)
    model = benchmark_model("hand").eval()
    names = [name for name, _ in split.test]
    baseline = rss_mb()

    def one_at_a_time():
        for name in names:
            predict(model, name)

    modes = {
        "one": one_at_a_time,
        "batched": lambda: predict_many(model, names, k=3, batch_size=len(names)),  # one padded batch
        "sorted": lambda: predict_many(model, names, k=3),  # its default: batches of similar length
    }
    default_size = inspect.signature(predict_many).parameters["batch_size"].default
    out = {"n_names": len(names), "sorted_batch_size": default_size}
    for key in INFERENCE_MODES:
        out[f"{key}_wall"], out[f"{key}_cpu"] = median_times(modes[key], inner)
    out.update(baseline_rss=baseline, peak_rss=peak_rss_mb())
    return out


# ---- the final model against its peers: the official tutorial's recipe and the n-gram baseline ----

TUTORIAL_EPOCHS, TUTORIAL_LR, TUTORIAL_BATCH, TUTORIAL_CLIP, TUTORIAL_HIDDEN = 55, 0.15, 64, 3.0, 128  # (2024)


def tutorial_data(seed: int = 2024) -> list:
    """Every clean line as (one-hot letters (len, 1, 57), label (1,)), the tutorial's 85% training part of its
    random split (its generator seed, 2024). The tutorial's alphabet has one more character ("_"), unused here."""
    import torch

    from rnn_tutorial.data import LANGUAGES, line_to_tensor, load_names
    names = load_names()
    lines = [(line_to_tensor(n), torch.tensor([LANGUAGES.index(lang)])) for lang in LANGUAGES for n in names[lang]]
    train, _ = torch.utils.data.random_split(lines, [0.85, 0.15], generator=torch.Generator().manual_seed(seed))
    return list(train)


def tutorial(seed: int, epochs: int) -> dict:
    """The official PyTorch tutorial's recipe (char_rnn_classification_tutorial, 2024): `nn.RNN(57, 128)` reads
    one name at a time, the losses of a batch of 64 are summed, the gradient is clipped to norm 3, SGD at
    0.15; `epochs` of its 55 epochs timed (the tutorial does not evaluate while training)."""
    import random

    import numpy as np
    import torch
    from torch import nn

    from rnn_tutorial.data import LANGUAGES, N_LETTERS

    class CharRNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn, self.h2o = nn.RNN(N_LETTERS, TUTORIAL_HIDDEN), nn.Linear(TUTORIAL_HIDDEN, len(LANGUAGES))

        def forward(self, line):
            return torch.log_softmax(self.h2o(self.rnn(line)[1][0]), dim=1)

    torch.manual_seed(seed)
    train, model, rng = tutorial_data(), CharRNN(), random.Random(seed)
    optimizer = torch.optim.SGD(model.parameters(), lr=TUTORIAL_LR)
    baseline, out = rss_mb(), {"epoch_wall": [], "epoch_cpu": [], "n_train": len(train)}
    for _ in range(epochs):
        clock, order = Clock(), list(range(len(train)))
        rng.shuffle(order)
        for batch in np.array_split(order, len(order) // TUTORIAL_BATCH):
            loss = sum(nn.functional.nll_loss(model(train[i][0]), train[i][1]) for i in batch)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), TUTORIAL_CLIP)
            optimizer.step()
            optimizer.zero_grad()
        wall, cpu = clock.now()
        out["epoch_wall"].append(wall)
        out["epoch_cpu"].append(cpu)
    return out | {"baseline_rss": baseline, "peak_rss": peak_rss_mb()}


def ngram(seed: int) -> dict:
    """`ngrams.ngram_baseline` (TF-IDF of character 1-4-grams + logistic regression) fitted on the training
    part, timed; its test scores. (scikit-learn's fit is deterministic: `seed` only labels the round.)"""
    from rnn_tutorial.data import load_split
    from rnn_tutorial.ngrams import evaluate_baseline, ngram_baseline
    split = load_split()
    import sklearn.linear_model  # noqa: F401  imported before the clock starts
    baseline, clock = rss_mb(), Clock()
    pipeline = ngram_baseline(split.train)
    wall, cpu = clock.now()
    s = evaluate_baseline(pipeline, split.test)
    return {"wall": wall, "cpu": cpu, "accuracy": s.accuracy, "macro_f1": s.macro_f1,
            "baseline_rss": baseline, "peak_rss": peak_rss_mb()}


def final(seed: int, epochs: int | None = None) -> dict:
    """`training.train_final_model` (FINAL_MODEL, FINAL_RECIPE) from `seed`, timed with its validation passes;
    tau chosen on validation (`inference.choose_tau`); test scores at tau = 0 and at that tau."""
    import dataclasses

    from rnn_tutorial.batching import eval_loader
    from rnn_tutorial.config import FINAL_RECIPE
    from rnn_tutorial.data import class_prior, load_split
    from rnn_tutorial.inference import adjust_logits, choose_tau
    from rnn_tutorial.metrics import log_probs_and_targets, score
    from rnn_tutorial.training import train_final_model
    split = load_split()
    recipe = FINAL_RECIPE if epochs is None else dataclasses.replace(FINAL_RECIPE, epochs=epochs)
    baseline, clock = rss_mb(), Clock()
    model = train_final_model(split, seeds=(seed,), recipe=recipe)
    wall, cpu = clock.now()
    prior = class_prior(split.train)
    tau = choose_tau(*log_probs_and_targets(model, eval_loader(split.val)), prior)
    log_probs, targets = log_probs_and_targets(model, eval_loader(split.test))
    plain, adjusted = score(log_probs, targets), score(adjust_logits(log_probs, prior, tau), targets)
    return {"wall": wall, "cpu": cpu, "tau": tau, "accuracy": adjusted.accuracy, "macro_f1": adjusted.macro_f1,
            "accuracy_tau0": plain.accuracy, "macro_f1_tau0": plain.macro_f1,
            "baseline_rss": baseline, "peak_rss": peak_rss_mb()}


MEASUREMENTS = {"article": article, "batched": batched, "inference": inference, "tutorial": tutorial,
                "ngram": ngram, "final": final}


def run(spec: dict) -> dict:
    """One measurement, `spec` = {"kind": a key of MEASUREMENTS, **its arguments}, on one torch thread."""
    import torch
    torch.set_num_threads(1)  # set_seed does not set threads; inference has no training seed anyway
    kwargs = dict(spec)
    result = MEASUREMENTS[kwargs.pop("kind")](**kwargs)
    result["threads"] = torch.get_num_threads()
    return result
