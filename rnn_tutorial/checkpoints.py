"""Save a trained classifier as a dictionary, and load it back checked (notebook 3, "Saving, loading, predicting").

A checkpoint holds the weights, the model's `ModelConfig` (as "hparams"), the alphabet and label order it
was trained with, optionally the training prior, and free-form "info" (e.g. the recipe and test scores).
Writing it safely and refusing a damaged or foreign file is the plumbing's job (`plumbing.atomic`,
`plumbing.checks`); a refused file is a `CheckpointError` (a ValueError) saying what is wrong.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from .config import CHECKPOINT_NAME, ModelConfig
from .data import ALPHABET, LANGUAGES
from .plumbing.atomic import check_writable, write_atomically
from .plumbing.checks import (CheckpointError, check_structure, check_weights, checked_config, checked_prior,
                              load_weights_only)
from .rnn import SequenceClassifier

REQUIRED_KEYS = ("state_dict", "alphabet", "labels", "hparams", "info")
OPTIONAL_KEYS = ("class_prior", "ngrams")
LATER_HPARAMS = {"embedding_size": 0, "bidirectional": False, "ngrams": False}  # what files saved before them mean
__all__ = ["Checkpoint", "CheckpointError", "check_output_path", "load_checkpoint", "save_checkpoint"]


def save_checkpoint(model: SequenceClassifier, path: str | Path, class_prior: torch.Tensor | None = None,
                    **info) -> Path:
    """Write the weights, config, alphabet, labels, (optionally) the training prior and `info` to `path`."""
    checkpoint = {
        "state_dict": model.state_dict(),
        "hparams": asdict(model.config),
        "alphabet": ALPHABET,
        "labels": list(model.labels),
        "info": info,
    }
    if model.bag is not None:
        checkpoint["ngrams"] = model.bag.vocabulary  # the bag's rows, in order
    if class_prior is not None:
        checkpoint["class_prior"] = checked_prior(class_prior, len(LANGUAGES), "the prior to save").tolist()
    try:  # all of it, or the old file; and only a file that loads back replaces it
        return write_atomically(path, lambda out: torch.save(checkpoint, out), check=load_checkpoint)
    except CheckpointError as e:
        raise ValueError(f"{path} was not saved, because it would not load back (any previous file there "
                         f"is unchanged): {e}") from None


@dataclass
class Checkpoint:
    """A loaded, checked checkpoint: the model, its training prior (None for older files) and its info."""
    model: SequenceClassifier
    class_prior: torch.Tensor | None
    info: dict = field(default_factory=dict)


def load_checkpoint(path: str | Path) -> Checkpoint:
    """The model, prior and info saved at `path`; FileNotFoundError if absent, CheckpointError if unusable."""
    name = Path(path).name
    raw = load_weights_only(path)  # torch.load(weights_only=True): no code in the file can run
    check_structure(raw, name, REQUIRED_KEYS, OPTIONAL_KEYS, ALPHABET, LANGUAGES)
    hparams = raw["hparams"]
    config = checked_config(LATER_HPARAMS | hparams if isinstance(hparams, dict) else hparams, ModelConfig, name)
    vocabulary = checked_vocabulary(raw.get("ngrams"), config, name)
    check_weights(raw["state_dict"], lambda: SequenceClassifier(config, ngram_vocabulary=vocabulary), name,
                  f"{config.core} model with hidden size {config.hidden_size}")
    model = SequenceClassifier(config, ngram_vocabulary=vocabulary)
    model.load_state_dict(raw["state_dict"])
    prior = raw.get("class_prior")
    return Checkpoint(model.eval(), None if prior is None else checked_prior(prior, len(LANGUAGES), name), raw["info"])


def checked_vocabulary(vocabulary, config: ModelConfig, name: str) -> list[str] | None:
    """The n-gram vocabulary a model with `config.ngrams` needs (a list of strings), else None; CheckpointError if not."""
    if config.ngrams != (vocabulary is not None):
        raise CheckpointError(f"{name}: ngrams={config.ngrams} but the n-gram vocabulary is "
                              f"{'missing' if vocabulary is None else 'present'}")
    if vocabulary is not None and not (isinstance(vocabulary, list) and all(isinstance(g, str) for g in vocabulary)):
        raise CheckpointError(f"{name}: the n-gram vocabulary is not a list of strings")
    return vocabulary


def check_output_path(path: str | Path) -> Path:
    """Make sure a checkpoint can be written at `path` (call it before a long training); ValueError if not."""
    return check_writable(path, CHECKPOINT_NAME)
