"""Refuse a checkpoint file that is damaged, foreign or unsafe, with a `CheckpointError` saying what is wrong.

Nothing here knows the model: `rnn_tutorial.checkpoints` passes what the file must match.
"""
from __future__ import annotations

import pickle
import reprlib
import zipfile
from pathlib import Path
from typing import Any, Callable

import torch

from .paths import open_regular

MAX_CHECKPOINT_BYTES = 2**31  # the largest model the code builds (hidden size 8192) is well under 1 GiB
FLOATS = (torch.float16, torch.bfloat16, torch.float32, torch.float64)  # weight kinds a checkpoint may hold
_show = reprlib.Repr()  # untrusted values in messages: bounded in length and depth, so no hang, no recursion
_show.maxlevel, _show.maxstring, _show.maxother = 2, 80, 80


def _name(key: Any) -> str:
    """A dictionary key for a message: a string as it is (cut to 80 characters), anything else as a short repr."""
    return key[:80] if isinstance(key, str) else _show.repr(key)


class CheckpointError(ValueError):
    """A file that cannot be used as a checkpoint; the message says why and what to do."""


def load_weights_only(path: str | Path) -> Any:
    """torch.load with weights_only=True (no code can run); every failure but a missing file -> CheckpointError.

    torch's own message is not relayed: it suggests weights_only=False, which would run any code in the file.
    """
    path = Path(path)
    try:
        file = open_regular(path, MAX_CHECKPOINT_BYTES, "checkpoint file")  # not a pipe, a device, a folder
    except FileNotFoundError:
        raise
    except OSError as e:
        raise CheckpointError(f"cannot read {path}: {e.strerror or e}") from None
    except ValueError as e:
        raise CheckpointError(str(e)) from None
    try:
        with file:
            return torch.load(file, weights_only=True, map_location="cpu")
    except pickle.UnpicklingError as e:
        if "weights only" in str(e).lower() and zipfile.is_zipfile(path):  # a torch file, with objects inside
            raise CheckpointError(f"{path.name} holds Python objects other than tensors and plain values; "
                                  "they are never loaded (loading them could run code): retrain the model") from None
        raise CheckpointError(f"{path.name} is not a checkpoint (damaged, or another kind of file)") from None
    except Exception:  # torch raises RuntimeError, EOFError, ValueError, ... for damaged files
        raise CheckpointError(f"{path.name} is not a checkpoint (empty, truncated, damaged, or another "
                              "kind of file): retrain the model") from None


def check_structure(raw: Any, name: str, required: tuple[str, ...], optional: tuple[str, ...],
                    alphabet: str, labels: tuple[str, ...]) -> None:
    """A checkpoint dictionary with exactly the expected keys, this alphabet and this label order."""
    if not isinstance(raw, dict):
        raise CheckpointError(f"{name} holds a {type(raw).__name__}, not a checkpoint dictionary")
    missing = [k for k in required if k not in raw]
    unknown = sorted(_name(k) for k in raw if k not in required + optional)
    if missing or unknown:
        raise CheckpointError(f"{name} is not a checkpoint of this package (missing {missing}, unknown {unknown})")
    if not isinstance(raw["alphabet"], str) or raw["alphabet"] != alphabet:
        raise CheckpointError(f"{name} was trained on another alphabet ({_show.repr(raw['alphabet'])}); "
                              "letters would be mis-mapped: retrain it")
    found = raw["labels"]
    if not isinstance(found, (list, tuple)) or not all(isinstance(x, str) for x in found) \
            or tuple(found) != tuple(labels):
        raise CheckpointError(f"{name} has labels {_show.repr(found)}, the code expects {list(labels)}; "
                              "predictions would be mis-named: retrain it")
    if not isinstance(raw["info"], dict) or not isinstance(raw["state_dict"], dict):
        raise CheckpointError(f"{name}: 'info' and 'state_dict' must be dictionaries")


def checked_config(hparams: Any, config_class: type, name: str) -> Any:
    """`config_class(**hparams)` if `hparams` has exactly its fields with values in range; CheckpointError if not."""
    fields = set(config_class.__dataclass_fields__)
    if not isinstance(hparams, dict) or set(hparams) != fields:
        keys = sorted(map(_name, hparams)) if isinstance(hparams, dict) else type(hparams).__name__
        raise CheckpointError(f"{name} has hyperparameters {keys}; this code knows exactly {sorted(fields)}")
    if not all(type(v) in (int, float, str, bool) for v in hparams.values()):
        raise CheckpointError(f"{name}: hyperparameters must be plain numbers and words")
    try:
        return config_class(**hparams)
    except ValueError as e:
        raise CheckpointError(f"{name}: {e}") from None


def check_weights(state_dict: dict, build: Callable[[], torch.nn.Module], name: str, what: str) -> None:
    """Compare `state_dict` with the model `build()` makes on torch's "meta" device (no memory is allocated,
    so a file claiming a huge size costs nothing): same keys, same shapes, finite floating-point values."""
    with torch.device("meta"):
        shell = build()
    expected = {key: tuple(value.shape) for key, value in shell.state_dict().items()}
    if set(state_dict) != set(expected) or not all(isinstance(v, torch.Tensor) for v in state_dict.values()):
        raise CheckpointError(f"{name} has weights {sorted(map(_name, state_dict))[:8]}, a {what} "
                              f"has {sorted(expected)}")
    for key, shape in expected.items():
        tensor = state_dict[key]
        if tensor.dtype not in FLOATS or tensor.layout != torch.strided or tensor.device.type != "cpu":
            raise CheckpointError(f"{name}: weight {key} is a {tensor.layout} {tensor.dtype} tensor on "
                                  f"{tensor.device.type}; a checkpoint holds dense 16-to-64-bit float tensors")
        if tuple(tensor.shape) != shape:
            raise CheckpointError(f"{name}: weight {key} has shape {tuple(tensor.shape)}, a {what} needs {shape}")
        if not bool(torch.isfinite(tensor.float()).all()):  # as the model will hold it: 1e300 is inf in float32
            raise CheckpointError(f"{name}: weight {key} is not all finite float32 numbers "
                                  "(NaN, infinity or too large: the training diverged?)")


def checked_prior(prior: Any, n_labels: int, name: str) -> torch.Tensor:
    """(n_labels,) float tensor of positive shares summing to 1; CheckpointError otherwise."""
    plain = isinstance(prior, (list, tuple)) and all(type(p) in (int, float) for p in prior)
    if not plain and not (isinstance(prior, torch.Tensor) and prior.dtype in FLOATS and prior.layout == torch.strided):
        raise CheckpointError(f"{name}: the class prior is not a list of real numbers")
    tensor = torch.as_tensor(prior, dtype=torch.float32, device="cpu")
    ok = (tensor.shape == (n_labels,) and bool(torch.isfinite(tensor).all())
          and bool((tensor > 0).all()) and abs(tensor.sum().item() - 1) < 1e-4)
    if not ok:
        raise CheckpointError(f"{name}: the class prior must be {n_labels} positive shares summing to 1")
    return tensor
