"""Checkpoints of a `NameClassifier`, written atomically and checked before use (notebook 3, section 7,
"Saving, loading, predicting").

A checkpoint holds the weights, the alphabet, the label order, the model's `ModelConfig` (as "hparams"),
optionally the training prior, and free-form "info" (e.g. the recipe and test scores). Loading refuses a
file with a `CheckpointError` (a ValueError) naming what is wrong: not a checkpoint, another alphabet or
label order, unknown or out-of-range hyperparameters, weights of the wrong shape, non-finite weights. The
shapes are checked against a model built on torch's "meta" device (no memory), so a file claiming a huge
hidden size allocates nothing.
"""
from __future__ import annotations

import os
import pickle
import secrets
import zipfile
from contextlib import suppress
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import torch

from .config import CHECKPOINT_NAME, ModelConfig
from .data import ALPHABET, LANGUAGES
from .rnn import NameClassifier

HPARAMS = tuple(f.name for f in fields(ModelConfig))
REQUIRED_KEYS = ("state_dict", "alphabet", "labels", "hparams", "info")
OPTIONAL_KEYS = ("class_prior",)


class CheckpointError(ValueError):
    """A file that cannot be used as a checkpoint; the message says why and what to do."""


# ---- saving ----------------------------------------------------------------------------------

def check_output_path(path: str | Path) -> Path:
    """Make sure a checkpoint can be written at `path` (call it before a long training); ValueError if not."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path} is a folder; give a file name, e.g. {path / CHECKPOINT_NAME}")
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
        "hparams": asdict(model.config),
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
    config = _checked_structure(raw, path.name)
    model = _checked_model(raw["state_dict"], config, path.name)
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


def _checked_structure(raw: Any, name: str) -> ModelConfig:
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


def _checked_hparams(hparams: Any, name: str) -> ModelConfig:
    """The `ModelConfig` of `hparams` if it has exactly its fields with values in range; CheckpointError if not."""
    if not isinstance(hparams, dict) or set(hparams) != set(HPARAMS):
        keys = sorted(map(str, hparams)) if isinstance(hparams, dict) else type(hparams).__name__
        raise CheckpointError(f"{name} has hyperparameters {keys}; this code knows exactly {sorted(HPARAMS)}")
    try:
        return ModelConfig(**hparams)
    except ValueError as e:
        raise CheckpointError(f"{name}: {e}") from None


def _checked_model(state_dict: dict, config: ModelConfig, name: str) -> NameClassifier:
    """Compare `state_dict` with a memory-free ("meta") model of `config`, then build the real one."""
    with torch.device("meta"):
        shell = NameClassifier(config)
    expected = {key: tuple(value.shape) for key, value in shell.state_dict().items()}
    if set(state_dict) != set(expected) or not all(isinstance(v, torch.Tensor) for v in state_dict.values()):
        raise CheckpointError(f"{name} has weights {sorted(map(str, state_dict))[:8]}, a {config.core} "
                              f"model has {sorted(expected)}")
    for key, shape in expected.items():
        tensor = state_dict[key]
        if tuple(tensor.shape) != shape:
            raise CheckpointError(f"{name}: weight {key} has shape {tuple(tensor.shape)}, "
                                  f"hidden size {config.hidden_size} needs {shape}")
        if not tensor.is_floating_point() or not bool(torch.isfinite(tensor).all()):
            raise CheckpointError(f"{name}: weight {key} is not all finite floating-point numbers "
                                  "(NaN or infinity: the training diverged?)")
    model = NameClassifier(config)
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
