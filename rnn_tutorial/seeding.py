"""Seeding: `set_seed(s)` makes a run repeat exactly; every notebook calls it (with its SEED parameter)."""
from __future__ import annotations

import random

import torch


def set_seed(seed: int) -> torch.Generator:
    """Seed Python's and torch's global generators with `seed`; return a new torch generator seeded the
    same way, for code that takes one (a DataLoader's order, a task's data).

    It does not touch the thread count: the notebooks call `torch.set_num_threads(1)` themselves (one
    thread repeats results run to run and is not slowed many-fold by a busy second core).
    """
    random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)
