"""Write a file so that a crash, a full disk or Ctrl-C never leaves half of it: temporary file, fsync, rename."""
from __future__ import annotations

import os
import re
import secrets
import stat
from contextlib import suppress
from pathlib import Path
from typing import BinaryIO, Callable

from .paths import open_regular


def check_writable(path: str | Path, example_name: str) -> Path:
    """Make sure a file can be written at `path` (call it before a long job); ValueError if not."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path} is a folder; give a file name, e.g. {path / example_name}")
    _refuse_to_replace(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, probe = _create_temporary(path)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise ValueError(f"cannot write a checkpoint at {path}: {e.strerror or e}") from None
    return path


def write_atomically(path: str | Path, write: Callable[[BinaryIO], None],
                     check: Callable[[Path], object] = lambda tmp: None) -> Path:
    """Call `write(out)` on a temporary file beside `path`, flush it to disk, `check(temporary path)`, then
    rename it over `path`.

    A failed, refused or interrupted write leaves the previous file as it was, and a reader sees either the
    old file or the new one, never half of one. A failed write is an OSError saying so; what `check` raises
    is passed on. Temporaries left by killed saves of the same file are removed first.
    """
    path = Path(path)
    _refuse_to_replace(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(path)
    fd, tmp = _create_temporary(path)
    try:
        with os.fdopen(fd, "wb") as out:
            _lock(out.fileno())  # marks the temporary as in use (see _remove_stale_temporaries)
            write(out)
            out.flush()
            os.fsync(out.fileno())
            check(tmp)
        os.replace(tmp, path)
    except BaseException as e:
        with suppress(OSError):
            os.unlink(tmp)
        stop = e  # SIGTERM or Ctrl-C inside torch's writer can surface as its clean-up's RuntimeError
        while stop is not None and not isinstance(stop, (SystemExit, KeyboardInterrupt)):
            stop = stop.__context__
        if stop is not None:
            raise stop
        if isinstance(e, (OSError, RuntimeError)):  # torch reports a failed write (disk full) as RuntimeError
            raise OSError(f"could not save the checkpoint {path} (disk full, or a file-size limit?): "
                          f"{' '.join(str(e).split())[:200]}; any previous file there is unchanged") from e
        raise
    _sync_folder(path.parent)
    return path


def _refuse_to_replace(path: Path) -> None:
    """ValueError if `path` exists and is not a regular file, or was made read-only: it is never replaced."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return  # absent (or unreachable: creating the temporary will say why)
    if stat.S_ISDIR(mode):
        raise ValueError(f"{path} is a folder; give a file name, e.g. {path / 'model.pt'}")
    if not stat.S_ISREG(mode):
        raise ValueError(f"{path} is not a regular file (a device, pipe or socket); it is never replaced")
    if not mode & 0o222:
        raise ValueError(f"{path} is read-only, so it is kept: make it writable (chmod u+w) or choose another path")


def _temporaries(path: Path) -> list[Path]:
    """Temporaries of saves of `path`: `.<name>.<8 hex digits>.tmp`, as `_create_temporary` names them."""
    pattern = re.compile(re.escape(f".{path.name}.") + r"[0-9a-f]{8}\.tmp")
    return [p for p in path.parent.iterdir() if pattern.fullmatch(p.name)]


def _remove_stale_temporaries(path: Path) -> None:
    """Delete temporaries of `path` that no save holds locked (left by a killed save); POSIX only."""
    for tmp in _temporaries(path) if os.name == "posix" else []:
        with suppress(OSError, ValueError), open_regular(tmp, 2**62) as f:
            _lock(f.fileno())  # OSError if a running save holds it
            os.unlink(tmp)


def _lock(fd: int) -> None:
    """Take a non-blocking exclusive lock on `fd` (POSIX; elsewhere a no-op); OSError if another holds it."""
    if os.name == "posix":
        import fcntl
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


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
