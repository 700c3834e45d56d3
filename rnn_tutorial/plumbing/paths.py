"""Where files go, and the names of the environment variables that move them (all of them, here)."""
from __future__ import annotations

import os
from pathlib import Path

import platformdirs

DATA_URL_ENV = "RNN_TUTORIAL_DATA_URL"  # where the downloader takes data.zip from (CI: a file:// mirror)
DATA_DIR_ENV = "RNN_TUTORIAL_DATA_DIR"  # the data folder, instead of <checkout>/data
MODELS_DIR_ENV = "RNN_TUTORIAL_MODELS_DIR"  # the command line's models folder, instead of <checkout>/models
_PACKAGE_PARENT = Path(__file__).resolve().parent.parent.parent


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
    return Path(os.environ.get(DATA_DIR_ENV) or _home("data"))


def models_dir() -> Path:
    """Where the command line keeps its model: `$RNN_TUTORIAL_MODELS_DIR`, else `<checkout>/models`, else a
    per-user folder."""
    return Path(os.environ.get(MODELS_DIR_ENV) or _home("models"))
