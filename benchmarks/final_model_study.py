"""How the final model was chosen: variants trained on the training part and scored on the validation part only.

    python benchmarks/final_model_study.py                                   # every variant, seeds 0 1 2
    python benchmarks/final_model_study.py --variants gru bag --seeds 0 1 2 3

Every variant is `config.FINAL_MODEL` with one thing changed, trained by `training.train_seeded` with
`config.FINAL_RECIPE`, as `training.train_final_model` trains it. The test part is never read. For each variant
the table gives the mean over the seeds of validation accuracy and macro-F1 at tau = 0 (the model as it is)
and with tau chosen per run by `inference.choose_tau` on the same validation names. README.md quotes it
("How the final model was chosen"); notebook 3's deeper section trains the first three variants for one seed.
"""
from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace

import torch

from rnn_tutorial.batching import eval_loader
from rnn_tutorial.config import FINAL_MODEL, FINAL_RECIPE, ModelConfig
from rnn_tutorial.data import class_prior, load_split
from rnn_tutorial.inference import adjust_logits, choose_tau
from rnn_tutorial.metrics import log_probs_and_targets, score
from rnn_tutorial.ngrams import MAX_N, NgramBagClassifier, ngram_vocabulary
from rnn_tutorial.rnn import SequenceClassifier
from rnn_tutorial.training import train_seeded

ENSEMBLE_OFFSET = 100  # the second member of a two-model ensemble trains with seed + 100


def with_bag(config: ModelConfig, names: list[str], min_count: int = 1, max_n: int = MAX_N) -> SequenceClassifier:
    """A model like `config` whose n-gram bag holds the n-grams of up to `max_n` letters found in at least
    `min_count` of `names` (the defaults are the final model's own)."""
    model = SequenceClassifier(config, ngram_vocabulary=ngram_vocabulary(names, min_count=min_count, max_n=max_n))
    model.bag.max_n = max_n  # the bag lists each name's n-grams up to this length (none cached yet)
    return model


VARIANTS = {  # name -> (what it is, names -> untrained model)
    "final": ("the final model: GRU and n-gram bag", lambda names: with_bag(FINAL_MODEL, names)),
    "gru": ("the GRU alone", lambda names: SequenceClassifier(replace(FINAL_MODEL, ngrams=False))),
    "bag": ("the n-gram bag alone", lambda names: NgramBagClassifier(ngram_vocabulary(names))),
    "ensemble2": ("two final models, log-probs averaged", lambda names: with_bag(FINAL_MODEL, names)),
    "min_count2": ("bag of n-grams in >= 2 training names", lambda names: with_bag(FINAL_MODEL, names, min_count=2)),
    "ngrams1to5": ("bag of 1-5-grams", lambda names: with_bag(FINAL_MODEL, names, max_n=5)),
    "hidden128": ("GRU with 128 hidden units", lambda names: with_bag(replace(FINAL_MODEL, hidden_size=128), names)),
}


def validation_log_probs(variant: str, seed: int, split) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Train `variant` with `seed`; its (n_val, 18) validation log-probs, targets, and CPU seconds of training."""
    names = [name for name, _ in split.train]
    start = time.process_time()
    model, _ = train_seeded(lambda: VARIANTS[variant][1](names), split, seed, FINAL_RECIPE)
    seconds = time.process_time() - start
    log_probs, targets = log_probs_and_targets(model, eval_loader(split.val))
    return log_probs, targets, seconds


def scores_of(log_probs: torch.Tensor, targets: torch.Tensor, prior: torch.Tensor) -> tuple[float, ...]:
    """(accuracy, macro-F1) at tau = 0, then tau chosen on these names, then (accuracy, macro-F1) at that tau."""
    at_zero = score(log_probs, targets)
    tau = choose_tau(log_probs, targets, prior)
    at_tau = score(adjust_logits(log_probs, prior, tau), targets)
    return at_zero.accuracy, at_zero.macro_f1, tau, at_tau.accuracy, at_tau.macro_f1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    args = parser.parse_args()
    torch.set_num_threads(1)
    split = load_split()
    prior = class_prior(split.train)
    print("| variant | seeds | CPU s per model | accuracy, tau 0 | macro-F1, tau 0 | taus | accuracy, tau chosen | macro-F1, tau chosen |")
    print("|---|---|---|---|---|---|---|---|")
    for variant in args.variants:
        rows, seconds = [], []
        for seed in args.seeds:
            log_probs, targets, cpu = validation_log_probs(variant, seed, split)
            seconds.append(cpu)
            if variant == "ensemble2":
                other, _, cpu = validation_log_probs(variant, seed + ENSEMBLE_OFFSET, split)
                seconds[-1] += cpu
                log_probs = torch.log_softmax((log_probs + other) / 2, dim=1)
            rows.append(scores_of(log_probs, targets, prior))
        mean = [statistics.mean(r[i] for r in rows) for i in (0, 1, 3, 4)]
        taus = ", ".join(f"{r[2]:.1f}" for r in rows)
        print(f"| {VARIANTS[variant][0]} | {' '.join(map(str, args.seeds))} | {statistics.mean(seconds):.0f} | "
              f"{mean[0]:.4f} | {mean[1]:.4f} | {taus} | {mean[2]:.4f} | {mean[3]:.4f} |", flush=True)


if __name__ == "__main__":
    main()
