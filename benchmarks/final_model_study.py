"""How the final model was chosen: variants trained on the training part and scored on the validation part only.

    python benchmarks/final_model_study.py                                   # every variant, seeds 0 1 2
    python benchmarks/final_model_study.py --variants gru bag --seeds 0 1 2 3
    python benchmarks/final_model_study.py --refit                           # would more names help? (rounds 4-5)

Every variant is `config.FINAL_MODEL` with one thing changed, trained by `training.train_seeded` with
`config.FINAL_RECIPE`, as `training.train_final_model` trains it. The test part is never read. For each variant
the table gives the mean over the seeds of validation accuracy and macro-F1 at tau = 0 (the model as it is)
and with tau chosen per run by `inference.choose_tau` on the same validation names. README.md quotes it
("How the final model was chosen"); notebook 3's deeper section trains the first three variants for one seed.
"""
from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from typing import NamedTuple

import torch

from rnn_tutorial.batching import eval_loader, train_loader
from rnn_tutorial.config import FINAL_MODEL, FINAL_RECIPE, ModelConfig, Recipe
from rnn_tutorial.data import Split, class_prior, load_split
from rnn_tutorial.inference import adjust_logits, choose_tau
from rnn_tutorial.metrics import log_probs_and_targets, score
from rnn_tutorial.ngrams import MAX_N, NgramBag, NgramBagClassifier, baseline_log_probs, ngram_baseline, ngram_vocabulary
from rnn_tutorial.rnn import SequenceClassifier
from rnn_tutorial.seeding import set_seed
from rnn_tutorial.training import OptimizerFactory, make_optimizer, train_epoch, train_seeded

ENSEMBLE_OFFSET = 100  # the second member of a two-model ensemble trains with seed + 100
REFIT_FRACTION = 8 / 9  # the refit study's smaller training set: about as many names fewer as validation holds
SUBSET_SEED_OFFSET = 1000  # which names the refit study keeps: random.Random(1000 + seed)
NGRAM_DROPOUT = 0.2  # the "ngram_dropout" variant drops each n-gram occurrence with this probability


def with_bag(config: ModelConfig, names: list[str], min_count: int = 1, max_n: int = MAX_N) -> SequenceClassifier:
    """A model like `config` whose n-gram bag holds the n-grams of up to `max_n` letters found in at least
    `min_count` of `names` (the defaults are the final model's own)."""
    model = SequenceClassifier(config, ngram_vocabulary=ngram_vocabulary(names, min_count=min_count, max_n=max_n))
    model.bag.max_n = max_n  # the bag lists each name's n-grams up to this length (none cached yet)
    return model


class WeightedBag(NgramBag):
    """The final model's bag with each n-gram occurrence weighted by `rule`: "sqrt" divides a name's sum by the
    square root of its number of known n-grams (as length-normalised features do); "dropout" keeps each
    occurrence with probability 1 - NGRAM_DROPOUT while training, scaled by 1 / (1 - NGRAM_DROPOUT);
    "mean" takes the mean instead of the sum. A list of `batch` names -> (batch, n_labels) logits."""

    def __init__(self, vocabulary: list[str], rule: str):
        super().__init__(vocabulary)
        self.rule = rule

    def forward(self, names: list[str]) -> torch.Tensor:
        rows, flat, offsets = self.occurrences(names)
        if self.rule == "sqrt":
            weights = torch.tensor([len(r) ** -0.5 for r in rows for _ in r])
        elif self.rule == "dropout" and self.training:
            weights = (torch.rand(len(flat)) >= NGRAM_DROPOUT).float() / (1 - NGRAM_DROPOUT)
        elif self.rule == "mean":
            weights = torch.tensor([1 / len(r) for r in rows for _ in r])
        else:
            weights = None
        return self.weights(flat, offsets, per_sample_weights=weights)


def with_weighted_bag(rule: str) -> Callable[[list[str]], SequenceClassifier]:
    """names -> the final model with a `WeightedBag(rule)`, the random numbers drawn as for the final model."""
    def build(names: list[str]) -> SequenceClassifier:
        model = with_bag(FINAL_MODEL, names)
        with torch.random.fork_rng():  # the new bag's (zeroed) weights must not move the generator
            model.bag = WeightedBag(model.bag.vocabulary, rule)
        return model
    return build


def bag_optimizer(bag_lr: float | None = None, bag_decay: float = 0.0) -> OptimizerFactory:
    """The final recipe's optimizer with the bag's parameters at `bag_lr` (default: the recipe's) and decoupled
    weight decay `bag_decay` on the bag alone (AdamW's rule; AdamW with no decay is Adam)."""
    def new_optimizer(model: torch.nn.Module, recipe: Recipe):
        bag = [p for name, p in model.named_parameters() if name.startswith("bag.")]
        rest = [p for name, p in model.named_parameters() if not name.startswith("bag.")]
        optimizer = torch.optim.AdamW([{"params": rest, "weight_decay": 0.0},
                                       {"params": bag, "lr": bag_lr or recipe.lr, "weight_decay": bag_decay}],
                                      lr=recipe.lr)
        return optimizer, torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, recipe.epochs)
    return new_optimizer


class Variant(NamedTuple):
    what: str
    build: Callable[[list[str]], torch.nn.Module]  # training names -> untrained model
    new_optimizer: OptimizerFactory = make_optimizer


def final(names: list[str]) -> SequenceClassifier:
    return with_bag(FINAL_MODEL, names)


VARIANTS = {
    # rounds 1-2
    "final": Variant("the final model: GRU and n-gram bag", final),
    "gru": Variant("the GRU alone", lambda names: SequenceClassifier(replace(FINAL_MODEL, ngrams=False))),
    "bag": Variant("the n-gram bag alone", lambda names: NgramBagClassifier(ngram_vocabulary(names))),
    "ensemble2": Variant("two final models, log-probs averaged", final),
    "min_count2": Variant("bag of n-grams in >= 2 training names",
                          lambda names: with_bag(FINAL_MODEL, names, min_count=2)),
    "ngrams1to5": Variant("bag of 1-5-grams", lambda names: with_bag(FINAL_MODEL, names, max_n=5)),
    "hidden128": Variant("GRU with 128 hidden units", lambda names: with_bag(replace(FINAL_MODEL, hidden_size=128), names)),
    # round 3
    "bag_sqrt": Variant("bag sum / sqrt(number of n-grams)", with_weighted_bag("sqrt")),
    "bag_mean": Variant("bag mean instead of sum", with_weighted_bag("mean")),
    "ngram_dropout": Variant(f"n-gram dropout {NGRAM_DROPOUT} while training", with_weighted_bag("dropout")),
    "with_baseline": Variant("final model and TF-IDF baseline, log-probs averaged", final),
    # round 6
    "bag_lr1e-3": Variant("the bag at learning rate 1e-3", final, bag_optimizer(bag_lr=1e-3)),
    "bag_decay0.1": Variant("weight decay 0.1 on the bag", final, bag_optimizer(bag_decay=0.1)),
    "bag_decay0.3": Variant("weight decay 0.3 on the bag", final, bag_optimizer(bag_decay=0.3)),
}


def validation_log_probs(variant: str, seed: int, split) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Train `variant` with `seed`; its (n_val, 18) validation log-probs, targets, and CPU seconds of training."""
    names = [name for name, _ in split.train]
    start = time.process_time()
    model, _ = train_seeded(lambda: VARIANTS[variant].build(names), split, seed, FINAL_RECIPE,
                            new_optimizer=VARIANTS[variant].new_optimizer)
    seconds = time.process_time() - start
    log_probs, targets = log_probs_and_targets(model, eval_loader(split.val))
    return log_probs, targets, seconds


def scores_of(log_probs: torch.Tensor, targets: torch.Tensor, prior: torch.Tensor) -> tuple[float, ...]:
    """(accuracy, macro-F1) at tau = 0, then tau chosen on these names, then (accuracy, macro-F1) at that tau."""
    at_zero = score(log_probs, targets)
    tau = choose_tau(log_probs, targets, prior)
    at_tau = score(adjust_logits(log_probs, prior, tau), targets)
    return at_zero.accuracy, at_zero.macro_f1, tau, at_tau.accuracy, at_tau.macro_f1


def training_subset(split: Split, fraction: float, seed: int) -> Split:
    """`split` with only a seeded random `fraction` of its distinct training names (each with all its labels)."""
    names = sorted({name for name, _ in split.train})
    random.Random(SUBSET_SEED_OFFSET + seed).shuffle(names)
    kept = set(names[:int(len(names) * fraction)])
    return replace(split, train=[example for example in split.train if example[0] in kept])


def train_for_epochs(examples: list, seed: int, epochs: int, recipe: Recipe = FINAL_RECIPE) -> SequenceClassifier:
    """The final model seeded as `train_seeded` seeds it, trained on `examples` for exactly `epochs` epochs of
    `recipe`'s schedule with no validation part to stop on; its last weights (how a refit would train)."""
    generator = set_seed(seed)
    model = final([name for name, _ in examples])
    batches = train_loader(examples, recipe, generator)
    optimizer, scheduler = make_optimizer(model, recipe)
    for _ in range(epochs):
        train_epoch(model, batches, optimizer, recipe.clip, recipe.label_smoothing)
        scheduler.step()
    return model


def refit_study(split: Split, seeds: list[int]) -> None:
    """Would refitting on training + validation names help? Validation cannot score that model, so take the step
    one size down: A' is the final model on REFIT_FRACTION of the training names (early-stopped on validation,
    which also gives its best epoch E and tau); B' is the final model on all training names for exactly E epochs,
    scored on validation at A's tau. Adopting a refit asked for B' - A' >= 0.003 in accuracy, macro-F1 no lower."""
    print("| seed | training names for A' | E | tau | A' accuracy | A' macro-F1 | B' accuracy | B' macro-F1 |")
    print("|---|---|---|---|---|---|---|---|")
    rows = []
    for seed in seeds:
        part = training_subset(split, REFIT_FRACTION, seed)
        model, history = train_seeded(lambda: final([name for name, _ in part.train]), part, seed, FINAL_RECIPE)
        log_probs, targets = log_probs_and_targets(model, eval_loader(split.val))
        _, _, tau, a_acc, a_f1 = scores_of(log_probs, targets, class_prior(part.train))
        refit = train_for_epochs(split.train, seed, history.best_epoch)
        log_probs, _ = log_probs_and_targets(refit, eval_loader(split.val))
        b = score(adjust_logits(log_probs, class_prior(split.train), tau), targets)
        rows.append((a_acc, a_f1, b.accuracy, b.macro_f1))
        print(f"| {seed} | {len(part.train)} | {history.best_epoch} | {tau:.1f} | {a_acc:.4f} | {a_f1:.4f} | "
              f"{b.accuracy:.4f} | {b.macro_f1:.4f} |", flush=True)
    mean = [statistics.mean(r[i] for r in rows) for i in range(4)]
    print(f"| mean | | | | {mean[0]:.4f} | {mean[1]:.4f} | {mean[2]:.4f} | {mean[3]:.4f} |")


def baseline_validation_log_probs(split: Split) -> tuple[torch.Tensor, float]:
    """The TF-IDF baseline fitted on split.train: its (n_val, 18) validation log-probs and the CPU seconds it took
    (deterministic, so fitted once and averaged into every seed's model)."""
    start = time.process_time()
    log_probs = baseline_log_probs(ngram_baseline(split.train), split.val)
    return log_probs, time.process_time() - start


def variant_log_probs(variant: str, seed: int, split: Split,
                      baseline: tuple[torch.Tensor, float] | None = None) -> tuple[torch.Tensor, torch.Tensor, float]:
    """`validation_log_probs`, with the second model or the `baseline` (from `baseline_validation_log_probs`)
    averaged in for the two averaging variants; their seconds count both parts."""
    log_probs, targets, seconds = validation_log_probs(variant, seed, split)
    if variant == "ensemble2":
        other, _, more = validation_log_probs(variant, seed + ENSEMBLE_OFFSET, split)
    elif variant == "with_baseline":
        other, more = baseline
    else:
        return log_probs, targets, seconds
    return torch.log_softmax((log_probs + other) / 2, dim=1), targets, seconds + more


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--refit", action="store_true", help="the refit study (rounds 4-5) instead of the variants")
    args = parser.parse_args()
    torch.set_num_threads(1)
    split = load_split()
    if args.refit:
        return refit_study(split, args.seeds)
    prior = class_prior(split.train)
    baseline = baseline_validation_log_probs(split) if "with_baseline" in args.variants else None
    print("| variant | seeds | CPU s per model | accuracy, tau 0 | macro-F1, tau 0 | taus | accuracy, tau chosen | macro-F1, tau chosen |")
    print("|---|---|---|---|---|---|---|---|")
    for variant in args.variants:
        rows, seconds = [], []
        for seed in args.seeds:
            log_probs, targets, cpu = variant_log_probs(variant, seed, split, baseline)
            seconds.append(cpu)
            rows.append(scores_of(log_probs, targets, prior))
        mean = [statistics.mean(r[i] for r in rows) for i in (0, 1, 3, 4)]
        taus = ", ".join(f"{r[2]:.1f}" for r in rows)
        print(f"| {VARIANTS[variant].what} | {' '.join(map(str, args.seeds))} | {statistics.mean(seconds):.0f} | "
              f"{mean[0]:.4f} | {mean[1]:.4f} | {taus} | {mean[2]:.4f} | {mean[3]:.4f} |", flush=True)


if __name__ == "__main__":
    main()
