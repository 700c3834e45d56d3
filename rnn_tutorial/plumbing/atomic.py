"""Write a file so that a crash, a full disk or Ctrl-C never leaves half of it: temporary file, fsync, rename."""
from __future__ import annotations

import os
import secrets
from contextlib import suppress
from pathlib import Path
from typing import BinaryIO, Callable


def check_writable(path: str | Path, example_name: str) -> Path:
    """Make sure a file can be written at `path` (call it before a long job); ValueError if not."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path} is a folder; give a file name, e.g. {path / example_name}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, probe = _create_temporary(path)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise ValueError(f"cannot write a checkpoint at {path}: {e.strerror or e}") from None
    return path


def write_atomically(path: str | Path, write: Callable[[BinaryIO], None]) -> Path:
    """Call `write(out)` on a temporary file beside `path`, flush it to disk, then rename it over `path`.

    A failed or interrupted write leaves the previous file as it was, and a reader sees either the old
    file or the new one, never half of one. A failed write is an OSError saying so.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _create_temporary(path)
    try:
        with os.fdopen(fd, "wb") as out:
            write(out)
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


def _create_temporary(path: Path) -> tuple[int, Path]:
    """A new empty file beside `path` (same folder, so os.replace is one atomic rename) -> (fd, its path).

    Created with mode 0o666 minus the umask, like any new file, so the result keeps the usual permissions.
    """
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    return os.open(tmp, flags, 0o666), tmp


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
