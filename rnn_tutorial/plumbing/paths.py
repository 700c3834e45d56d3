"""Where files go, the names of the environment variables that move them (all of them, here), and how a
file the project reads is opened (regular files only)."""
from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

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


def open_regular(path: str | Path, max_bytes: int, what: str = "file") -> BinaryIO:
    """`path` opened for reading if it is a regular file of at most `max_bytes`; ValueError saying what it is if not.

    Opened without blocking and checked on the open file, so a named pipe, a device such as /dev/zero or a
    link to one is refused at once instead of waited on or read for ever.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    mode, size = os.fstat(fd).st_mode, os.fstat(fd).st_size
    if stat.S_ISREG(mode) and size <= max_bytes:
        return os.fdopen(fd, "rb")
    os.close(fd)
    kind = "a folder" if stat.S_ISDIR(mode) else "a named pipe" if stat.S_ISFIFO(mode) else "a device or socket"
    raise ValueError(f"{path} is {kind}, not a regular {what}" if not stat.S_ISREG(mode) else
                     f"{path} is {size} bytes, more than a {what} can be ({max_bytes})")
