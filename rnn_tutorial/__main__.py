"""Command line: `python -m rnn_tutorial {fetch,train,predict,where}` (the original tutorial's train.py/predict.py)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .data import load_names, make_loader, make_split
from .download import DataError, download_names
from .inference import load_checkpoint, predict, save_checkpoint
from .metrics import score
from .rnn import CORES, READOUTS, NameClassifier
from .training import fit, predict_log_probs
from .utils import checkout_root, data_dir, models_dir, set_seed

DEFAULT_MODEL = "name_classifier.pt"


def train(args: argparse.Namespace) -> None:
    """Notebook 3's final recipe: `--seeds` hand-written RNNs on the leakage-free split, merged into one."""
    split = make_split(load_names(), seed=0)  # the split every notebook uses
    test_loader = make_loader(split.test, batch_size=512)
    models = []
    for seed in range(args.seeds):
        generator = set_seed(seed)
        model = NameClassifier(args.hidden_size, core=args.core, dropout=args.dropout, readout=args.readout)
        history = fit(model, split.train, split.val, epochs=args.epochs, lr=args.lr, schedule="cosine",
                      buckets=True, generator=generator, progress=sys.stderr.isatty())
        print(f"seed {seed}: best epoch {history.best_epoch}; test {score(*predict_log_probs(model, test_loader))}")
        models.append(model)
    model = NameClassifier.merge(models) if len(models) > 1 else models[0]
    scores = score(*predict_log_probs(model, test_loader))
    print(f"final model ({len(models)} seed{'s' * (len(models) > 1)}): test {scores}")
    path = save_checkpoint(model, args.model, seeds=list(range(args.seeds)), split_seed=0,
                           test_accuracy=scores.accuracy, test_macro_f1=scores.macro_f1)
    print(f"saved {path}")


def predict_names(args: argparse.Namespace) -> None:
    """Print the top-k languages of each name, like the original predict.py."""
    try:
        model = load_checkpoint(args.model)
    except FileNotFoundError:
        sys.exit(f"no model at {args.model}: run `python -m rnn_tutorial train` first")
    for name in args.names:
        try:
            guesses = predict(model, name, k=args.k)
        except ValueError as e:
            print(f"{name}: {e}")
            continue
        print(f"{name}:  " + "  ".join(f"{lang} {p:.2f}" for lang, p in guesses))


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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m rnn_tutorial", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("fetch", help="download and verify the surnames data")
    p_train = sub.add_parser("train", help="train and save the default model")
    p_train.add_argument("--core", choices=CORES, default="hand")
    p_train.add_argument("--hidden-size", type=int, default=128)
    p_train.add_argument("--readout", choices=READOUTS, default="max")
    p_train.add_argument("--dropout", type=float, default=0.0)
    p_train.add_argument("--lr", type=float, default=3e-3)
    p_train.add_argument("--epochs", type=int, default=20)
    p_train.add_argument("--seeds", type=int, default=3, help="models to train and merge (hand core only)")
    p_predict = sub.add_parser("predict", help="top-k languages for each name")
    p_predict.add_argument("names", nargs="+")
    p_predict.add_argument("-k", type=int, default=3)
    sub.add_parser("where", help="where the outputs, data and model are")
    for p in sub.choices.values():
        p.add_argument("--model", type=Path, default=models_dir() / DEFAULT_MODEL)
    args = parser.parse_args(argv)
    if args.command == "train" and args.seeds > 1 and args.core != "hand":
        parser.error("merging several seeds needs --core hand; use --seeds 1 for torch's cores")
    try:
        {"fetch": lambda a: print(f"data ready: {download_names()}"), "train": train,
         "predict": predict_names, "where": where}[args.command](args)
    except DataError as e:
        sys.exit(str(e))


if __name__ == "__main__":
    main()
