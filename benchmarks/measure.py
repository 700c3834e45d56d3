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
    """`SequenceClassifier` as the benchmark has always measured it (results.md): the final model's hidden size
    with the `core` asked for, but the readout of the last state (the old default), not the final "max"."""
    import dataclasses

    from rnn_tutorial.config import FINAL_MODEL
    from rnn_tutorial.rnn import SequenceClassifier
    return SequenceClassifier(dataclasses.replace(FINAL_MODEL, core=core, readout="last"))


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
    # not FINAL_RECIPE: a constant learning rate (plain Adam) for a fixed number of epochs
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


MEASUREMENTS = {"article": article, "batched": batched, "inference": inference}


def run(spec: dict) -> dict:
    """One measurement, `spec` = {"kind": a key of MEASUREMENTS, **its arguments}, on one torch thread."""
    import torch
    torch.set_num_threads(1)  # set_seed does not set threads; inference has no training seed anyway
    kwargs = dict(spec)
    result = MEASUREMENTS[kwargs.pop("kind")](**kwargs)
    result["threads"] = torch.get_num_threads()
    return result
