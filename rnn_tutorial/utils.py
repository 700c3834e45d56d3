"""Seeding and where files go, shared by every notebook and the command line."""
from __future__ import annotations

import os
import random
from pathlib import Path

import platformdirs
import torch

_PACKAGE_PARENT = Path(__file__).resolve().parent.parent


def checkout_root() -> Path | None:
    """The git checkout the package runs from (editable install or source tree), else None.

    An installed copy lives in site-packages, which has no `pyproject.toml` beside the package.
    """
    is_checkout = (_PACKAGE_PARENT / "pyproject.toml").is_file() and (_PACKAGE_PARENT / "notebooks").is_dir()
    return _PACKAGE_PARENT if is_checkout else None


def _home(kind: str) -> Path:
    """`<checkout>/<kind>` in a checkout, else the per-user data folder (never site-packages)."""
    root = checkout_root()
    return root / kind if root is not None else Path(platformdirs.user_data_dir("rnn-tutorial")) / kind


def data_dir() -> Path:
    """Where the surnames live: `$RNN_TUTORIAL_DATA_DIR`, else `<checkout>/data`, else a per-user folder."""
    return Path(os.environ.get("RNN_TUTORIAL_DATA_DIR") or _home("data"))


def models_dir() -> Path:
    """Where checkpoints go: `$RNN_TUTORIAL_MODELS_DIR`, else `<checkout>/models`, else a per-user folder."""
    return Path(os.environ.get("RNN_TUTORIAL_MODELS_DIR") or _home("models"))


def set_seed(seed: int) -> torch.Generator:
    """Seed Python's and torch's global generators with `seed`; return a new torch generator seeded the
    same way, for code that takes one (a DataLoader's order, a task's data).

    It does not touch the thread count: the notebooks call `torch.set_num_threads(1)` themselves (one
    thread repeats results run to run and is not slowed many-fold by a busy second core).
    """
    random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)
