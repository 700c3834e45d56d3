"""Seeding, threads and project paths, shared by every notebook and the CLI."""
from __future__ import annotations

import os
import random
from pathlib import Path

import torch

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    """Where the surnames live: `$RNN_TUTORIAL_DATA_DIR`, else `<project>/data`."""
    return Path(os.environ.get("RNN_TUTORIAL_DATA_DIR", PROJECT_ROOT / "data"))


def models_dir() -> Path:
    """Where trained checkpoints go: `$RNN_TUTORIAL_MODELS_DIR`, else `<project>/models`."""
    return Path(os.environ.get("RNN_TUTORIAL_MODELS_DIR", PROJECT_ROOT / "models"))


def set_seed(seed: int, threads: int = 1) -> torch.Generator:
    """Seed Python and torch, pin torch to `threads` threads, return a seeded CPU generator.

    One thread keeps results identical run to run (the thread count changes the last
    digits of a sum) and keeps a busy second core from slowing training many-fold.
    """
    random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    return torch.Generator().manual_seed(seed)
