"""Command line: `python -m rnn_tutorial {fetch,train,predict,where}` (the original tutorial's train.py/predict.py).

A mistake (a bad flag, a damaged checkpoint, an unreachable download, an unreadable name) ends with
one line on stderr and a non-zero exit code: 2 for a bad command line, 1 for anything else,
130 after Ctrl-C, 143 after SIGTERM. No failure leaves a half-written file.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import signal
import sys
from collections.abc import Iterable, Iterator
from contextlib import suppress
from pathlib import Path
from typing import TextIO

if __name__ == "__main__":  # Ctrl-C while torch loads (the first second or two): one line, no traceback
    signal.signal(signal.SIGINT, lambda signum, frame: (os.write(2, b"interrupted\n"), os._exit(130)))

import torch

from .batching import eval_loader
from .checkpoints import check_output_path, load_checkpoint, save_checkpoint
from .config import (CHECKPOINT_NAME, CORES, FINAL_MODEL, FINAL_RECIPE, FINAL_SEEDS, MAX_HIDDEN_SIZE, READOUTS,
                     SIMPLE_MODEL, SIMPLE_RECIPE, SPLIT_SEED, ModelConfig, Recipe)
from .data import Example, class_prior, load_split
from .inference import MAX_NAME_LENGTH, encode_names, predict_encoded
from .metrics import evaluate, log_probs_and_targets, prior_loss
from .rnn import SequenceClassifier
from .training import History, train_final_model
from .plumbing.cli import OneLineParser, float_in, int_in
from .plumbing.download import DataError, download_names
from .plumbing.paths import checkout_root, data_dir, models_dir

CHUNK = 4096  # names predicted per batch when they come from a file or stdin


# ---- train -----------------------------------------------------------------------------------

def train(args: argparse.Namespace) -> None:
    """The final model (config.FINAL_MODEL, FINAL_RECIPE) on the leakage-free split; several `--seeds` are
    merged into one model (hand core only)."""
    check_output_path(args.model)  # before the training, not after it
    torch.set_num_threads(1)  # results repeat run to run, and a busy second core cannot slow training many-fold
    config, recipe = train_setup(args)
    split = load_split()

    def report(seed: int, model: SequenceClassifier, history: History) -> None:
        print(f"seed {seed}: best epoch {history.best_epoch}; test {evaluate(model, split.test)}")

    try:
        model = train_final_model(split, range(args.seeds), config, recipe, progress=sys.stderr.isatty(),
                                  on_seed=report)
    except FloatingPointError:
        raise ValueError(f"the training diverged (the loss became NaN or infinite): lower --lr "
                         f"(now {recipe.lr:g}); nothing was saved") from None
    scores = evaluate(model, split.test)
    print(f"final model ({args.seeds} seed{'s' * (args.seeds > 1)}): test {scores}")
    prior = class_prior(split.train)
    val_loss = refuse_if_no_better_than_chance(model, split.val, prior, args.force)
    path = save_checkpoint(model, args.model, class_prior=prior, recipe=dataclasses.asdict(recipe),
                           seeds=list(range(args.seeds)), split_seed=SPLIT_SEED, val_loss=val_loss,
                           test_accuracy=scores.accuracy, test_macro_f1=scores.macro_f1)
    print(f"saved {path}")


def train_setup(args: argparse.Namespace) -> tuple[ModelConfig, Recipe]:
    """FINAL_MODEL and FINAL_RECIPE, or for `--core hand` notebook 3's SIMPLE_MODEL and SIMPLE_RECIPE (one-hot
    letters, no n-gram bag: seeds can merge), with the values given on the command line."""
    model, recipe = (SIMPLE_MODEL, SIMPLE_RECIPE) if args.core == "hand" else (FINAL_MODEL, FINAL_RECIPE)

    def given(**values):
        return {key: value for key, value in values.items() if value is not None}
    return (dataclasses.replace(model, core=args.core,
                                **given(hidden_size=args.hidden_size, readout=args.readout, dropout=args.dropout)),
            dataclasses.replace(recipe, **given(epochs=args.epochs, lr=args.lr)))


def refuse_if_no_better_than_chance(model: SequenceClassifier, val: list[Example], prior: torch.Tensor,
                                    force: bool) -> float:
    """Validation loss of `model`; ValueError (nothing saved) unless it beats the loss of answering the
    training mix `prior` for every name (a guess that ignores the name), or `force`."""
    log_probs, targets = log_probs_and_targets(model, eval_loader(val))
    loss = torch.nn.functional.nll_loss(log_probs, targets).item()
    chance = prior_loss(prior, val)
    if not loss < chance and not force:
        raise ValueError(f"the new model is no better than chance: its validation loss {loss:.3f} is not below "
                         f"{chance:.3f}, the loss of answering the training mix of languages for every name; "
                         "it was not saved. Lower --lr or train longer, or pass --force to save it anyway")
    return loss


# ---- predict ---------------------------------------------------------------------------------

def predict_names(args: argparse.Namespace) -> None:
    """Print the top-k languages of each name; a bad name is reported on stderr and makes the exit code 1."""
    try:
        checkpoint = load_checkpoint(args.model)
    except FileNotFoundError:
        raise ValueError(f"no model at {args.model}: run `python -m rnn_tutorial train` first") from None
    tau = 1.0 if args.prior == "uniform" else 0.0  # logit adjustment: 1 removes the training mix
    if tau != 0 and checkpoint.class_prior is None:
        raise ValueError(f"{args.model} was saved without its training prior (by an older version): "
                         "retrain it to use --prior uniform")
    failed = 0
    if args.format == "tsv":
        print("name\trank\tlanguage\tprobability")
    typing = "-" in (args.file, *args.names) and sys.stdin is not None and sys.stdin.isatty()  # answer at once
    for chunk in chunks(read_names(args), 1 if typing else CHUNK):
        names = [name for name, _ in chunk]
        encoded, errors = encode_names(names)
        errors = [read_error or error for (_, read_error), error in zip(chunk, errors)]
        good = [i for i, error in enumerate(errors) if error is None]
        for name, error in zip(names, errors):
            if error is not None:
                print(f"{shorten(name)}: {error}", file=sys.stderr)
        failed += len(chunk) - len(good)
        results = predict_encoded(checkpoint.model, [encoded[i] for i in good], k=args.k,
                                  prior=checkpoint.class_prior, tau=tau)
        if not all(math.isfinite(p) for guesses in results for _, p in guesses):
            raise ValueError(f"{args.model} gives probabilities that are not numbers (its weights are too "
                             "large: the training diverged?): retrain it")
        for i, guesses in zip(good, results):
            print(FORMATS[args.format](names[i], guesses))
    if failed:  # each bad name already has its line on stderr
        sys.exit(1)


def shorten(name: str, width: int = 60) -> str:
    """`name` on one line, cut to `width` characters."""
    flat = " ".join(name.split()) if name.strip() else repr(name)
    return flat if len(flat) <= width else flat[:width] + "..."


def read_names(args: argparse.Namespace) -> Iterator[tuple[str, str | None]]:
    """(name, None), or (start of a line, why it is no name), from the arguments, then from `--file` (`-` is
    standard input), one per line, blanks skipped. Undecodable bytes stay visible as lone surrogates (which
    `encode_names` refuses), as Python does for arguments."""
    for name in args.names:
        if name == "-":
            yield from lines(standard_input())
        else:
            yield name, None
    if args.file == "-":
        yield from lines(standard_input())
    elif args.file is not None:
        with open(args.file, encoding="utf-8", errors="surrogateescape") as f:
            yield from lines(f)


def standard_input() -> TextIO:
    """Standard input read like `--file`: UTF-8 (undecodable bytes kept as surrogates), any line ending."""
    if sys.stdin is None:
        raise ValueError("standard input is closed: give the names as arguments or with --file FILE")
    sys.stdin.reconfigure(encoding="utf-8", errors="surrogateescape", newline=None)
    return sys.stdin


def lines(stream: TextIO, cap: int = MAX_NAME_LENGTH + 2) -> Iterator[tuple[str, str | None]]:
    """Non-blank lines without their line ending, read at most `cap` characters at a time (an endless line
    costs no memory): an over-long line is reported as one bad name, and reading goes on after it."""
    while line := stream.readline(cap):
        if len(line) == cap and not line.endswith("\n"):
            yield line, f"the line is longer than {MAX_NAME_LENGTH} characters (no name is)"
            while (rest := stream.readline(cap)) and not rest.endswith("\n"):
                pass
        elif line.strip():
            yield line.rstrip("\n"), None


def chunks(items: Iterable, size: int) -> Iterator[list]:
    """Consecutive lists of up to `size` items."""
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def as_text(name: str, guesses: list[tuple[str, float]]) -> str:
    """'Hinton:  English 0.62  Scottish 0.21  Irish 0.05'."""
    return f"{name}:  " + "  ".join(f"{lang} {p:.2f}" for lang, p in guesses)


def as_tsv(name: str, guesses: list[tuple[str, float]]) -> str:
    """One row per guess: name, rank, language, probability (tabs and line breaks in the name become spaces)."""
    flat = name.replace("\t", " ").replace("\n", " ").replace("\r", " ")
    return "\n".join(f"{flat}\t{rank}\t{lang}\t{p:.6f}" for rank, (lang, p) in enumerate(guesses, 1))


def as_json(name: str, guesses: list[tuple[str, float]]) -> str:
    """One JSON object per line: {"name": ..., "predictions": [{"language": ..., "probability": ...}]}."""
    return json.dumps({"name": name, "predictions": [{"language": lang, "probability": round(p, 6)}
                                                     for lang, p in guesses]}, allow_nan=False)  # strict, ASCII


FORMATS = {"text": as_text, "tsv": as_tsv, "json": as_json}


# ---- fetch, where ----------------------------------------------------------------------------

def fetch(args: argparse.Namespace) -> None:
    """Download and verify the surnames."""
    print(f"data ready: {download_names()}")


def where(args: argparse.Namespace) -> None:
    """Say where the notebooks, the data and the trained model are (nothing is downloaded)."""
    root = checkout_root()
    if root is not None:
        print(f"notebooks (executed in place, with outputs): {root / 'notebooks'}")
    else:
        print("notebooks: not part of an installed package; they are in the project's repository")
    names = data_dir() / "names"
    print(f"data: {data_dir()}" + ("" if names.is_dir() else " (not fetched yet: python -m rnn_tutorial fetch)"))
    print(f"trained model: {args.model}" + ("" if args.model.exists() else " (not trained yet)"))


# ---- the parser and the error handling ---------------------------------------------------------

def build_parser() -> OneLineParser:
    """The four subcommands with their validated flags."""
    parser = OneLineParser(prog="python -m rnn_tutorial", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("fetch", help="download and verify the surnames data")
    p_train = sub.add_parser("train", help="train and save the default model")
    p_train.add_argument("--core", choices=CORES, default=FINAL_MODEL.core,
                         help="hand: notebook 3's simple model (one-hot letters, no n-gram bag, several seeds merge)")
    p_train.add_argument("--hidden-size", type=int_in(1, MAX_HIDDEN_SIZE), default=None,
                         help=f"default {FINAL_MODEL.hidden_size} (--core hand: {SIMPLE_MODEL.hidden_size})")
    p_train.add_argument("--readout", choices=READOUTS,
                         help=f"default {FINAL_MODEL.readout} (--core hand: {SIMPLE_MODEL.readout})")
    p_train.add_argument("--dropout", type=float_in(0, 1, high_open=True), default=None,
                         help=f"default {FINAL_MODEL.dropout:g} (--core hand: {SIMPLE_MODEL.dropout:g})")
    p_train.add_argument("--lr", type=float_in(0, 10, low_open=True), help=f"default {FINAL_RECIPE.lr:g}")
    p_train.add_argument("--epochs", type=int_in(1, 10_000),
                         help=f"default {FINAL_RECIPE.epochs} (--core hand: {SIMPLE_RECIPE.epochs})")
    p_train.add_argument("--seeds", type=int_in(1, 64), default=len(FINAL_SEEDS),
                         help="models to train and merge (hand core only)")
    p_train.add_argument("--force", action="store_true",
                         help="save the model even if its validation loss is no better than chance")
    p_predict = sub.add_parser("predict", help="top-k languages for each name")
    p_predict.add_argument("names", nargs="*", help="names to classify; - reads them from standard input")
    p_predict.add_argument("--file", help="a file of names, one per line (- for standard input)")
    p_predict.add_argument("-k", type=int_in(1), default=3, help="languages to show per name (at most 18)")
    p_predict.add_argument("--format", choices=sorted(FORMATS), default="text")
    p_predict.add_argument("--prior", choices=("train", "uniform"), default="train",
                           help="uniform: answer as if every language were equally common")
    sub.add_parser("where", help="where the outputs, data and model are")
    for p in sub.choices.values():
        p.add_argument("--model", type=Path, default=models_dir() / CHECKPOINT_NAME)
    return parser


def parse(argv: list[str] | None) -> argparse.Namespace:
    """Parse and cross-check the arguments (one-line errors, exit code 2)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "train" and args.seeds > 1 and args.core != "hand":
        parser.error("merging several seeds needs --core hand; use --seeds 1 for torch's cores")
    hidden = args.command == "train" and train_setup(args)[0].hidden_size
    if args.command == "train" and args.seeds * hidden > MAX_HIDDEN_SIZE:  # before hours of training
        parser.error(f"--seeds {args.seeds} models of --hidden-size {hidden} merge into one of "
                     f"{args.seeds * hidden}, more than {MAX_HIDDEN_SIZE}: lower one of them")
    if args.command == "predict":
        if not args.names and args.file is None:
            parser.error("give names as arguments, or --file FILE (- for standard input)")
    return args


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM -> SystemExit, so that temporary files are removed on the way out."""
    sys.exit(128 + signum)


def main(argv: list[str] | None = None) -> None:
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C is KeyboardInterrupt again (see the top)
    if sys.stderr is None:  # started with stderr closed (2>&-): messages go nowhere, but nothing crashes
        sys.stderr = open(os.devnull, "w")
    args = parse(argv)
    if sys.stdout is None:
        sys.exit("error: standard output is closed (>&-), so nothing was done: "
                 "send it somewhere, e.g. > /dev/null")
    with suppress(AttributeError):  # a name or folder the output's encoding lacks is escaped, not fatal
        sys.stdout.reconfigure(errors="backslashreplace")
    previous = signal.signal(signal.SIGTERM, _terminate)
    command = {"fetch": fetch, "train": train, "predict": predict_names, "where": where}[args.command]
    try:
        command(args)
        sys.stdout.flush()
    except BrokenPipeError:  # `... | head -1` closed the pipe: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except (DataError, ValueError, OSError) as e:
        sys.exit("error: " + " ".join(str(e).split()))
    finally:
        signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    main()
