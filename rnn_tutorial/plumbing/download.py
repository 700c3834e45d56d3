"""Fetch the PyTorch tutorial's surnames (`data/names/*.txt`) once, safely, and check them.

Plumbing: used by every notebook through `rnn_tutorial.data`, never imported by a notebook.
Every failure is a `DataError` whose message says how to put the data in place by hand.
Nothing the project did not write is ever deleted: files of your own in `names/` are left alone,
and an invalid `names/` is moved aside (the message says where), never removed.
"""
from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Iterator, NamedTuple

from .paths import DATA_DIR_ENV, DATA_URL_ENV, data_dir, open_regular

OFFICIAL_URL = "https://download.pytorch.org/tutorial/data.zip"
MEMBER_DIR = "data/names/"
LOCK_NAME = ".fetch.lock"  # kept in the data folder: serialises fetches of that folder
TEMP_PREFIX = ".download-"  # temporary folders; one left by a killed run is removed by the next fetch
TEMP_MARK = ".rnn-tutorial-temporary"  # inside each of them: only a folder holding it is ever removed
MAX_DOWNLOAD_BYTES = 64 * 2**20  # the official archive (surnames plus an English-French corpus) is about 3 MB
DOWNLOAD_SECONDS = 600.0  # a download still running after this is abandoned (an endless or trickling response)
TIMEOUT_SECONDS = 60.0  # per network operation; a fetch waits at most both for another fetch of its folder


class Expected(NamedTuple):
    """What the official archive's `<Language>.txt` holds."""
    lines: int  # non-empty lines
    size: int  # bytes
    sha256: str


# language -> what its file holds, from the official archive
EXPECTED: dict[str, Expected] = {
    "Arabic": Expected(2000, 13190, "6f424a8dbe51cbbbabab7a57d38b617210125e4e3991f3c657cb79b8f104bafc"),
    "Chinese": Expected(268, 1247, "49263ef55a8cb1740e841d65cad8214b2f9b5b869bc534c811746422496fa91e"),
    "Czech": Expected(519, 3919, "145bbbd6d0816578f03388e92c264d39ef1c60df920b081d371fa5c5cc055a8e"),
    "Dutch": Expected(297, 2351, "924f32b635170eae561f84538632138fc07d4c8bbd70ba3fb980de1ecc4d2af3"),
    "English": Expected(3668, 27125, "9cca037066d3d5989e24bc01801416162de506b5e28e15b7c092a47905d29bf2"),
    "French": Expected(277, 2178, "81e65b36c60ed5b89a17422f6edcadbb89546f38ad69e960e64e7ba682012a95"),
    "German": Expected(724, 5610, "7449cd590b97a733e18d613a4155decd77ec35dc5f8aadd7a82204dce4f051db"),
    "Greek": Expected(203, 1981, "3555b5186de7f401e6d991b088e9e644ca3099116477818c25ab5793801389e6"),
    "Irish": Expected(232, 1858, "cf8c7013256252a88d2503127b87282a11f21b2ff6db1bded68834c19a1ec058"),
    "Italian": Expected(709, 5657, "f88414c27d0606a11a678b4859277828c2565d6cc4d9ee932deef6e94f3b35e4"),
    "Japanese": Expected(991, 7622, "e0e717e114fec3e7eade4d9dabe0067c475f43147e36a22b47902ee76ad9e67f"),
    "Korean": Expected(94, 423, "cd54221ccb362a6cba4c78828838cf3268a0e59744767a37cf6ec4b74036b136"),
    "Polish": Expected(139, 1165, "45bab898af2f60ed3a728bbf6980e28821011a7caa53227553b5785903a40826"),
    "Portuguese": Expected(74, 554, "50a8735f41f4f73757c8ce5b16cb0275cd86b2b214bcbc8c9805f508cb131c53"),
    "Russian": Expected(9408, 85605, "43b3e64ce351f77f1ac9e0cdf7566012d127f4371875fd25208845b5c9d6f7c3"),
    "Scottish": Expected(100, 752, "78d0252711d87d948ea86fe34826c51d2d794a8e52d15b5d6f7b6244d45d62dd"),
    "Spanish": Expected(298, 2284, "1bcb462ed3316756a85781d68232bddae04498fdddd5d9219c53fd1fbdeba7a7"),
    "Vietnamese": Expected(73, 339, "f3f9e4164ab47601178a6e45b216464a64122f49d05541f24bf18a757253281d"),
}


class DataError(RuntimeError):
    """The surnames could not be fetched, unpacked or verified; the message says what to do."""


def manual_fix(root: Path) -> str:
    """The sentence every DataError ends with: how to put the data in place by hand."""
    return (f"Download {OFFICIAL_URL} yourself and save it as {root / 'data.zip'} "
            f"(or set {DATA_URL_ENV} to a file:// URL of a copy), then run again.")


def download_names(root: str | Path | None = None, url: str | None = None) -> Path:
    """Return `<root>/names` holding the 18 verified `<Language>.txt` files, fetching them if needed.

    The source is a `data.zip` placed by hand in `root`, else `url`, else `$RNN_TUTORIAL_DATA_URL`,
    else the official archive. Fetches of one folder take turns (a lock file); `<root>/names`
    appears only once the whole archive arrived and every file checks out.
    """
    root = Path(root) if root is not None else data_dir()
    names_dir = root / "names"
    if root.exists() and not root.is_dir():
        raise DataError(f"the data folder {root} is a file: move it away or set {DATA_DIR_ENV} to a folder")
    if _ready(names_dir):
        _clean_up_if_idle(root)
        return names_dir
    try:
        root.mkdir(parents=True, exist_ok=True)
        with _locked(root):
            _remove_stale_temporaries(root)
            if not _ready(names_dir):  # another process may have fetched it while we waited
                _install(root, names_dir, url)
    except OSError as e:
        raise DataError(f"cannot write to the data folder {root}: {e.strerror or e}. Make it a writable "
                        f"folder (or set {DATA_DIR_ENV} to one). {manual_fix(root)}") from e
    return names_dir


def verify_names(names_dir: Path) -> list[str]:
    """Problems with the 18 official files in `names_dir` (missing, unreadable, altered); empty when all is well.

    Other entries (your own files or folders) are not the project's and are not checked.
    """
    problems = []
    for lang, expected in EXPECTED.items():
        try:
            with open_regular(names_dir / f"{lang}.txt", expected.size, "names file") as f:
                data = f.read()
        except FileNotFoundError:
            problems.append(f"{lang}.txt missing")
            continue
        except OSError as e:
            problems.append(f"{lang}.txt unreadable ({e.strerror or e})")
            continue
        except ValueError as e:  # a pipe, a device, or too large
            problems.append(f"{lang}.txt: {str(e).split(' is ', 1)[-1]}")
            continue
        lines = sum(1 for line in data.decode("utf-8", "replace").split("\n") if line.strip())
        if lines != expected.lines:
            problems.append(f"{lang}.txt has {lines} lines, expected {expected.lines}")
        elif hashlib.sha256(data).hexdigest() != expected.sha256:
            problems.append(f"{lang}.txt checksum differs")
    return problems


def _ready(names_dir: Path) -> bool:
    """True if `names_dir` holds the 18 verified files; DataError if something else has its name."""
    if names_dir.exists() and not names_dir.is_dir():
        raise DataError(f"{names_dir} exists but is not a folder: move it elsewhere, then run again")
    return names_dir.is_dir() and not verify_names(names_dir)


def _stale_temporaries(root: Path) -> list[Path]:
    """Temporary folders of earlier fetches (only ever present while a fetch runs, or after a killed one),
    recognised by the mark inside, not by name: a folder of yours with the same prefix is left alone."""
    found = root.glob(TEMP_PREFIX + "*") if root.is_dir() else []
    return sorted(p for p in found if not p.is_symlink() and (p / TEMP_MARK).is_file())


def _clean_up_if_idle(root: Path) -> None:
    """Remove stale temporary folders if there are any and no fetch is running; never fails (read-only is fine)."""
    if not _stale_temporaries(root):
        return
    try:
        with _locked(root, wait=False):
            _remove_stale_temporaries(root)
    except OSError:
        pass  # a fetch is running (it will clean up), or the folder is read-only


def _remove_stale_temporaries(root: Path) -> None:
    """Delete what killed fetches left behind; called with the lock held, so no fetch is using them."""
    for path in _stale_temporaries(root):
        shutil.rmtree(path, ignore_errors=True)


@contextmanager
def _locked(root: Path, wait: bool = True) -> Iterator[None]:
    """Hold an exclusive lock on `<root>/.fetch.lock`: a second fetch says so and waits for the first to
    finish, at most DOWNLOAD_SECONDS + TIMEOUT_SECONDS (then DataError).

    With `wait=False`, OSError at once if another process holds it.
    """
    with open(root / LOCK_NAME, "a+b") as lock:
        if not _lock(lock):
            if not wait:
                raise BlockingIOError(f"another fetch of {root} is running")
            print(f"rnn_tutorial: waiting for another fetch of {root}", file=sys.stderr)
            cap = DOWNLOAD_SECONDS + TIMEOUT_SECONDS
            deadline = time.monotonic() + cap
            while not _lock(lock):
                if time.monotonic() > deadline:
                    raise DataError(f"another fetch of {root} has held it for more than {cap:.0f} s: "
                                    "let it finish or stop it, then run again")
                time.sleep(0.25)
        try:
            yield
        finally:  # closing the file releases the lock too; unlock explicitly for clarity
            _lock(lock, unlock=True)


def _lock(lock: BinaryIO, unlock: bool = False) -> bool:
    """Take (without waiting) or release the lock on the open file `lock` -> whether it is now as asked."""
    try:
        if os.name == "nt":
            import msvcrt
            lock.seek(0)
            msvcrt.locking(lock.fileno(), msvcrt.LK_UNLCK if unlock else msvcrt.LK_NBLCK, 1)
        else:
            import fcntl
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN if unlock else fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except (BlockingIOError, PermissionError):  # another process holds it (msvcrt: PermissionError)
        return False


def _install(root: Path, names_dir: Path, url: str | None) -> None:
    """Fetch, unpack and verify into a temporary folder, then rename it to `names_dir` in one step."""
    with tempfile.TemporaryDirectory(dir=root, prefix=TEMP_PREFIX) as tmp:
        (Path(tmp) / TEMP_MARK).touch()
        by_hand = root / "data.zip"
        archive = by_hand if by_hand.is_file() else Path(tmp) / "data.zip"
        if archive != by_hand:
            _fetch(url or os.environ.get(DATA_URL_ENV) or OFFICIAL_URL, archive, root)
        staged = Path(tmp) / "names"
        try:
            _extract_names(archive, staged)
            problems = verify_names(staged)
            if problems:
                raise DataError(f"{archive.name} is not the expected surnames data: " + "; ".join(problems))
        except DataError as e:
            if archive == by_hand:
                raise DataError(f"{e}. This is the data.zip placed by hand in {root}: delete it (or replace "
                                f"it with a good copy), then run again") from e
            raise DataError(f"{e}. {manual_fix(root)}") from e
        if names_dir.exists():
            _move_aside(names_dir)
        os.replace(staged, names_dir)  # one rename: readers see no names/ or a complete one


def _move_aside(names_dir: Path) -> Path:
    """Rename an invalid `names_dir` to `names.invalid-<time>` (never delete it) and say so on stderr."""
    problems = verify_names(names_dir)
    aside = names_dir.with_name(f"names.invalid-{time.strftime('%Y%m%d-%H%M%S')}")
    while aside.exists():
        aside = aside.with_name(aside.name + "-1")
    os.replace(names_dir, aside)
    print(f"rnn_tutorial: {names_dir} was not the official data ({'; '.join(problems[:3])}"
          f"{'; ...' if len(problems) > 3 else ''}); moved it to {aside}", file=sys.stderr)
    return aside


def _fetch(url: str, dest: Path, root: Path) -> None:
    """Copy `url` (http, https or file) to `dest`, capped in size and time; a failure explains the manual route."""
    manual = manual_fix(root)
    try:
        scheme = urllib.parse.urlsplit(url).scheme
    except ValueError:
        scheme = ""
    if scheme not in ("http", "https", "file"):
        raise DataError(f"{url!r} is not an http://, https:// or file:// URL. {manual}")
    try:
        if scheme == "file":  # a regular file only (a named pipe would block, a device never end)
            source = open_regular(urllib.request.url2pathname(urllib.parse.urlsplit(url).path),
                                  MAX_DOWNLOAD_BYTES, "data.zip")
        else:
            source = urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS)
        with source as response, open(dest, "wb") as out:
            expected = _content_length(getattr(response, "headers", {}).get("Content-Length"))
            size = _copy_capped(response, out)
    except urllib.error.HTTPError as e:
        raise DataError(f"could not download {url}: HTTP {e.code} {e.reason}. {manual}") from e
    except (DataError, urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as e:
        raise DataError(f"could not download {url}: {_one_line(e)}. {manual}") from e
    if expected is not None and size != expected:
        raise DataError(f"download of {url} was cut short: {size} of {expected} bytes. {manual}")


def _content_length(header: str | None) -> int | None:
    """The announced size in bytes (None if not announced); DataError if malformed or over the cap."""
    if header is None:
        return None
    if not header.strip().isdigit():
        raise DataError(f"the server sent a malformed Content-Length header {header[:40]!r}")
    size = int(header)
    if size > MAX_DOWNLOAD_BYTES:
        raise DataError(f"the server announces {size} bytes, more than the {MAX_DOWNLOAD_BYTES} expected at most")
    return size


def _copy_capped(source: BinaryIO, out: BinaryIO, chunk: int = 2**20) -> int:
    """Copy `source` to `out` in chunks; DataError past MAX_DOWNLOAD_BYTES or DOWNLOAD_SECONDS. -> bytes copied.

    read1 returns whatever has arrived, so the time is checked after every chunk, however small.
    """
    start, size = time.monotonic(), 0
    while block := source.read1(chunk):
        size += len(block)
        if size > MAX_DOWNLOAD_BYTES:
            raise DataError(f"the response is larger than {MAX_DOWNLOAD_BYTES} bytes (not the surnames archive)")
        if time.monotonic() - start > DOWNLOAD_SECONDS:
            raise DataError(f"the download took more than {DOWNLOAD_SECONDS:.0f} s")
        out.write(block)
    return size


def _extract_names(archive: Path, dest: Path) -> None:
    """Unpack the 18 official `data/names/<Language>.txt` from `archive` into `dest`; nothing else is inflated.

    Each member's declared size must equal the official file's size before a byte is inflated,
    so a compression bomb is refused up front; the CRC check catches a member that lies about it.
    """
    if not zipfile.is_zipfile(archive):
        raise DataError(f"{archive.name} is not a zip archive (a truncated download or an error page?)")
    try:
        with zipfile.ZipFile(archive) as zf:
            unsafe = [m for m in zf.namelist() if _is_unsafe(m)]
            if unsafe:
                raise DataError(f"{archive.name} has members that escape the target folder: {unsafe[:5]}")
            dest.mkdir(parents=True)
            for lang, info in _official_members(zf, archive.name).items():
                with zf.open(info) as member:
                    data = member.read(EXPECTED[lang].size + 1)
                (dest / f"{lang}.txt").write_bytes(data)
    except DataError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError) as e:
        raise DataError(f"{archive.name} is corrupted: {_one_line(e)}") from e
    except (NotImplementedError, RuntimeError, ValueError) as e:  # encryption, unknown compression, ...
        raise DataError(f"{archive.name} uses a zip feature Python cannot unpack ({_one_line(e)})") from e


def _official_members(zf: zipfile.ZipFile, archive_name: str) -> dict[str, zipfile.ZipInfo]:
    """{language: member} for the official files present; DataError if one declares an unexpected size."""
    members = {}
    for lang, expected in EXPECTED.items():
        try:
            info = zf.getinfo(f"{MEMBER_DIR}{lang}.txt")
        except KeyError:
            continue  # reported as missing by verify_names
        if info.file_size != expected.size:
            raise DataError(f"{archive_name}: {lang}.txt declares {info.file_size} bytes, "
                            f"the official file has {expected.size}")
        members[lang] = info
    return members


def _one_line(error: BaseException, width: int = 300) -> str:
    """An exception's message on one line (a server's bad status line may hold line breaks), cut to `width`."""
    return " ".join(str(error).split())[:width]


def _is_unsafe(member: str) -> bool:
    """True for absolute paths, drive letters and any `..` component (zip-slip)."""
    path = PurePosixPath(member.replace("\\", "/"))
    if not path.parts:
        return False
    return path.is_absolute() or ".." in path.parts or ":" in path.parts[0]
