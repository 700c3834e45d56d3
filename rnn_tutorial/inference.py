"""Predicting a name's language, and checkpoints that are written atomically and checked before use.

A checkpoint is refused with a `CheckpointError` (a ValueError) naming what is wrong: not a
checkpoint, another alphabet or label order, unknown or out-of-range hyperparameters, weights of
the wrong shape, non-finite weights. The shapes are checked against a model built on torch's
"meta" device (no memory), so a file claiming a huge hidden size allocates nothing.
"""
from __future__ import annotations

import math
import os
import pickle
import secrets
import zipfile
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch.nn.utils.rnn import pad_sequence

from .data import ALPHABET, LANGUAGES, letter_indices
from .rnn import CORES, READOUTS, NameClassifier

MAX_NAME_LENGTH = 100  # characters; the longest surname in the data has 20
MAX_HIDDEN_SIZE = 8192  # a hand-core W_hh of 8192 x 8192 floats is 256 MiB
HPARAMS = ("hidden_size", "core", "dropout", "readout")
REQUIRED_KEYS = ("state_dict", "alphabet", "labels", "hparams", "info")
OPTIONAL_KEYS = ("class_prior",)


class CheckpointError(ValueError):
    """A file that cannot be used as a checkpoint; the message says why and what to do."""


# ---- the training prior and logit adjustment ---------------------------------------------

def class_prior(labels: torch.Tensor, n_labels: int) -> torch.Tensor:
    """(n,) integer labels -> (n_labels,) share of each label: the prior a model trained on them learns."""
    if len(labels) == 0:
        raise ValueError("class_prior needs at least one label")
    return torch.bincount(labels, minlength=n_labels).double().div(len(labels)).float()


def adjust_logits(log_probs: torch.Tensor, train_prior: torch.Tensor, tau: float = 1.0) -> torch.Tensor:
    """Logit adjustment (Menon et al. 2021): (n, n_labels) log-probs -> log_softmax(log_probs - tau * log prior).

    tau = 0 keeps the training prior; tau = 1 answers as if every language were equally likely.
    ValueError for a prior with a zero, negative or non-finite share (log 0 would be -inf), or a non-finite tau.
    """
    if not math.isfinite(tau):
        raise ValueError(f"tau must be a finite number, got {tau}")
    positive = bool((torch.isfinite(train_prior) & (train_prior > 0)).all())
    if train_prior.shape != log_probs.shape[-1:] or not positive:
        raise ValueError(f"the prior must hold {log_probs.shape[-1]} positive finite shares, got {train_prior.tolist()}")
    return torch.log_softmax(log_probs - tau * train_prior.log(), dim=-1)


# ---- prediction ----------------------------------------------------------------------------

def encode_name(name: str) -> list[int]:
    """`letter_indices` with a length cap: ValueError for names longer than MAX_NAME_LENGTH characters."""
    if isinstance(name, str) and len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"the name is {len(name)} characters long; at most {MAX_NAME_LENGTH} are accepted")
    return letter_indices(name)


def _log_probs(model: NameClassifier, x: torch.Tensor, lengths: torch.Tensor,
               prior: torch.Tensor | None, tau: float) -> torch.Tensor:
    """The model's log-probs, adjusted by `tau` times the training prior unless tau is 0 (then exactly the model's)."""
    log_probs = model(x, lengths)
    if tau == 0:
        return log_probs
    if prior is None:
        raise ValueError("tau other than 0 needs the training prior, which this model does not carry")
    return adjust_logits(log_probs, prior, tau)


@torch.no_grad()
def predict(model: NameClassifier, name: str, k: int = 3, prior: torch.Tensor | None = None,
            tau: float = 0.0) -> list[tuple[str, float]]:
    """Top-`k` (language, probability) for one name; ValueError for an empty, letterless or too long name.

    `tau` > 0 with the training `prior` moves probability from the languages frequent in training
    to the rare ones (tau = 1: as if all languages were equally likely); tau = 0 is the model as trained.
    """
    x = torch.tensor(encode_name(name))  # raises ValueError with the reason
    model.eval()
    probs = _log_probs(model, x[None], torch.tensor([len(x)]), prior, tau)[0].exp()
    top = probs.topk(max(1, min(k, len(probs))))
    return [(model.labels[i], p) for p, i in zip(top.values.tolist(), top.indices.tolist())]


@torch.no_grad()
def predict_many(model: NameClassifier, names: list[str], k: int = 3, batch_size: int = 256,
                 prior: torch.Tensor | None = None, tau: float = 0.0) -> list[list[tuple[str, float]]]:
    """`predict` for many names in batches of similar length (little padding); results in input order."""
    encoded = []
    for position, name in enumerate(names, 1):
        try:
            encoded.append(encode_name(name))
        except ValueError as e:
            raise ValueError(f"name {position}: {e}") from None
    k = max(1, min(k, len(model.labels)))
    order = sorted(range(len(names)), key=lambda i: len(encoded[i]))
    lengths = torch.tensor([len(encoded[i]) for i in order], dtype=torch.long)
    letters = torch.tensor([c for i in order for c in encoded[i]], dtype=torch.long).split(lengths.tolist())
    model.eval()
    results: list[list[tuple[str, float]]] = [[] for _ in names]
    for start in range(0, len(order), batch_size):
        batch = slice(start, start + batch_size)
        log_probs = _log_probs(model, pad_sequence(letters[batch], batch_first=True), lengths[batch], prior, tau)
        top = log_probs.exp().topk(k, dim=1)
        for i, probs, labels in zip(order[batch], top.values.tolist(), top.indices.tolist()):
            results[i] = [(model.labels[j], p) for p, j in zip(probs, labels)]
    return results


# ---- saving ----------------------------------------------------------------------------------

def check_output_path(path: str | Path) -> Path:
    """Make sure a checkpoint can be written at `path` (call it before a long training); ValueError if not."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path} is a folder; give a file name, e.g. {path / 'name_classifier.pt'}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        probe = _create_temporary(path)
        os.close(probe[0])
        os.unlink(probe[1])
    except OSError as e:
        raise ValueError(f"cannot write a checkpoint at {path}: {e.strerror or e}") from None
    return path


def _create_temporary(path: Path) -> tuple[int, Path]:
    """A new empty file beside `path` (same folder, so os.replace is one atomic rename) -> (fd, its path).

    Created with mode 0o666 minus the umask, like any new file, so the checkpoint keeps the usual permissions.
    """
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    return os.open(tmp, flags, 0o666), tmp


def save_checkpoint(model: NameClassifier, path: str | Path, class_prior: torch.Tensor | None = None,
                    **info) -> Path:
    """Save weights with the alphabet, label order, hyperparameters and (optionally) the training prior;
    `info` adds e.g. test scores.

    Written to a temporary file in the same folder, flushed to disk, then renamed over `path`:
    a failed or interrupted save leaves the previous checkpoint as it was, and a reader sees
    either the old file or the new one, never half of one.
    """
    checkpoint = {
        "state_dict": model.state_dict(),
        "alphabet": ALPHABET,
        "labels": list(model.labels),
        "hparams": {"hidden_size": model.h2o.in_features, "core": model.core_name,
                    "dropout": model.dropout.p, "readout": model.readout},
        "info": info,
    }
    if class_prior is not None:
        checkpoint["class_prior"] = _checked_prior(class_prior, "the prior to save").tolist()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _create_temporary(path)
    try:
        with os.fdopen(fd, "wb") as out:
            torch.save(checkpoint, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        with suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, (OSError, RuntimeError)):  # torch reports a failed write (disk full) as RuntimeError
            raise OSError(f"could not save the checkpoint {path} (disk full, or a file-size limit?): "
                          f"{' '.join(str(e).split())[:200]}; any previous file there is unchanged") from e
        raise
    _sync_folder(path.parent)
    return path


def _sync_folder(folder: Path) -> None:
    """fsync a folder so that a rename in it survives a power cut (POSIX; elsewhere a no-op)."""
    if os.name != "posix":
        return
    with suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# ---- loading ---------------------------------------------------------------------------------

@dataclass
class Checkpoint:
    """A loaded, checked checkpoint: the model, its training prior (None for older files) and its info."""
    model: NameClassifier
    class_prior: torch.Tensor | None
    info: dict = field(default_factory=dict)


def read_checkpoint(path: str | Path) -> Checkpoint:
    """Load and check `path`; FileNotFoundError if absent, CheckpointError (a ValueError) for anything wrong."""
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"{path} is a folder, not a checkpoint file")
    raw = _load_tensors_only(path)
    hparams = _checked_structure(raw, path.name)
    model = _checked_model(raw["state_dict"], hparams, path.name)
    prior = raw.get("class_prior")
    prior = None if prior is None else _checked_prior(prior, path.name)
    return Checkpoint(model.eval(), prior, raw["info"])


def load_checkpoint(path: str | Path) -> NameClassifier:
    """A NameClassifier rebuilt from `path`; CheckpointError (a ValueError) if the file is not a usable
    checkpoint, e.g. its alphabet or labels differ from the code's."""
    return read_checkpoint(path).model


def _load_tensors_only(path: Path) -> Any:
    """torch.load with weights_only=True (no code can run); every failure but a missing file -> CheckpointError.

    torch's own message is not relayed: it suggests weights_only=False, which would run any code in the file.
    """
    try:
        return torch.load(path, weights_only=True, map_location="cpu")
    except FileNotFoundError:
        raise
    except OSError as e:
        raise CheckpointError(f"cannot read {path}: {e.strerror or e}") from None
    except pickle.UnpicklingError as e:
        if "weights only" in str(e).lower() and zipfile.is_zipfile(path):  # a torch file, with objects inside
            raise CheckpointError(f"{path.name} holds Python objects other than tensors and plain values; "
                                  "they are never loaded (loading them could run code): retrain the model") from None
        raise CheckpointError(f"{path.name} is not a checkpoint (damaged, or another kind of file)") from None
    except Exception:  # torch raises RuntimeError, EOFError, ValueError, ... for damaged files
        raise CheckpointError(f"{path.name} is not a checkpoint (empty, truncated, damaged, or another "
                              "kind of file): retrain the model") from None


def _checked_structure(raw: Any, name: str) -> dict:
    """The hyperparameters of a checkpoint dictionary, after checking its keys, alphabet, labels and ranges."""
    if not isinstance(raw, dict):
        raise CheckpointError(f"{name} holds a {type(raw).__name__}, not a checkpoint dictionary")
    missing = [k for k in REQUIRED_KEYS if k not in raw]
    unknown = sorted(str(k) for k in raw if k not in REQUIRED_KEYS + OPTIONAL_KEYS)
    if missing or unknown:
        raise CheckpointError(f"{name} is not a checkpoint of this package (missing {missing}, unknown {unknown})")
    if not isinstance(raw["alphabet"], str) or raw["alphabet"] != ALPHABET:
        raise CheckpointError(f"{name} was trained on another alphabet ({str(raw['alphabet'])[:80]!r}); "
                              "letters would be mis-mapped: retrain it")
    labels = raw["labels"]
    if not isinstance(labels, (list, tuple)) or not all(isinstance(x, str) for x in labels) \
            or tuple(labels) != LANGUAGES:
        raise CheckpointError(f"{name} has labels {str(raw['labels'])[:200]}, the code expects {list(LANGUAGES)}; "
                              "predictions would be mis-named: retrain it")
    if not isinstance(raw["info"], dict) or not isinstance(raw["state_dict"], dict):
        raise CheckpointError(f"{name}: 'info' and 'state_dict' must be dictionaries")
    return _checked_hparams(raw["hparams"], name)


def _checked_hparams(hparams: Any, name: str) -> dict:
    """`hparams` if it has exactly the known keys with values in range; CheckpointError naming the first bad one."""
    if not isinstance(hparams, dict) or set(hparams) != set(HPARAMS):
        keys = sorted(map(str, hparams)) if isinstance(hparams, dict) else type(hparams).__name__
        raise CheckpointError(f"{name} has hyperparameters {keys}; this code knows exactly {sorted(HPARAMS)}")
    size, dropout = hparams["hidden_size"], hparams["dropout"]
    checks = [
        (type(size) is int and 1 <= size <= MAX_HIDDEN_SIZE, f"hidden_size {size!r} is not in 1..{MAX_HIDDEN_SIZE}"),
        (hparams["core"] in CORES, f"core {hparams['core']!r} is not one of {CORES}"),
        (hparams["readout"] in READOUTS, f"readout {hparams['readout']!r} is not one of {READOUTS}"),
        (type(dropout) in (int, float) and 0 <= dropout < 1, f"dropout {dropout!r} is not in [0, 1)"),
    ]
    for ok, message in checks:
        if not ok:
            raise CheckpointError(f"{name}: {message}")
    return hparams


def _checked_model(state_dict: dict, hparams: dict, name: str) -> NameClassifier:
    """Compare `state_dict` with a memory-free ("meta") model of `hparams`, then build the real one."""
    with torch.device("meta"):
        shell = NameClassifier(labels=LANGUAGES, **hparams)
    expected = {key: tuple(value.shape) for key, value in shell.state_dict().items()}
    if set(state_dict) != set(expected) or not all(isinstance(v, torch.Tensor) for v in state_dict.values()):
        raise CheckpointError(f"{name} has weights {sorted(map(str, state_dict))[:8]}, a {hparams['core']} "
                              f"model has {sorted(expected)}")
    for key, shape in expected.items():
        tensor = state_dict[key]
        if tuple(tensor.shape) != shape:
            raise CheckpointError(f"{name}: weight {key} has shape {tuple(tensor.shape)}, "
                                  f"hidden size {hparams['hidden_size']} needs {shape}")
        if not tensor.is_floating_point() or not bool(torch.isfinite(tensor).all()):
            raise CheckpointError(f"{name}: weight {key} is not all finite floating-point numbers "
                                  "(NaN or infinity: the training diverged?)")
    model = NameClassifier(labels=LANGUAGES, **hparams)
    model.load_state_dict(state_dict)
    return model


def _checked_prior(prior: Any, name: str) -> torch.Tensor:
    """(n_labels,) float tensor of positive shares summing to 1; CheckpointError otherwise."""
    try:
        tensor = torch.as_tensor(prior, dtype=torch.float32)
    except (TypeError, ValueError, RuntimeError):
        raise CheckpointError(f"{name}: the class prior is not a list of numbers") from None
    ok = (tensor.shape == (len(LANGUAGES),) and bool(torch.isfinite(tensor).all())
          and bool((tensor > 0).all()) and abs(tensor.sum().item() - 1) < 1e-4)
    if not ok:
        raise CheckpointError(f"{name}: the class prior must be {len(LANGUAGES)} positive shares summing to 1")
    return tensor
