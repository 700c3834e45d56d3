"""Fetch the PyTorch tutorial's surnames (`data/names/*.txt`) once, safely, and check them.

Used by every notebook through `rnn_tutorial.data`; notebook 3 shows what arrives.
"""
from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from .utils import data_dir

OFFICIAL_URL = "https://download.pytorch.org/tutorial/data.zip"
URL_ENV = "RNN_TUTORIAL_DATA_URL"
MEMBER_DIR = "data/names/"

# language -> (non-empty lines, sha256 of the file), from the official archive
EXPECTED: dict[str, tuple[int, str]] = {
    "Arabic": (2000, "6f424a8dbe51cbbbabab7a57d38b617210125e4e3991f3c657cb79b8f104bafc"),
    "Chinese": (268, "49263ef55a8cb1740e841d65cad8214b2f9b5b869bc534c811746422496fa91e"),
    "Czech": (519, "145bbbd6d0816578f03388e92c264d39ef1c60df920b081d371fa5c5cc055a8e"),
    "Dutch": (297, "924f32b635170eae561f84538632138fc07d4c8bbd70ba3fb980de1ecc4d2af3"),
    "English": (3668, "9cca037066d3d5989e24bc01801416162de506b5e28e15b7c092a47905d29bf2"),
    "French": (277, "81e65b36c60ed5b89a17422f6edcadbb89546f38ad69e960e64e7ba682012a95"),
    "German": (724, "7449cd590b97a733e18d613a4155decd77ec35dc5f8aadd7a82204dce4f051db"),
    "Greek": (203, "3555b5186de7f401e6d991b088e9e644ca3099116477818c25ab5793801389e6"),
    "Irish": (232, "cf8c7013256252a88d2503127b87282a11f21b2ff6db1bded68834c19a1ec058"),
    "Italian": (709, "f88414c27d0606a11a678b4859277828c2565d6cc4d9ee932deef6e94f3b35e4"),
    "Japanese": (991, "e0e717e114fec3e7eade4d9dabe0067c475f43147e36a22b47902ee76ad9e67f"),
    "Korean": (94, "cd54221ccb362a6cba4c78828838cf3268a0e59744767a37cf6ec4b74036b136"),
    "Polish": (139, "45bab898af2f60ed3a728bbf6980e28821011a7caa53227553b5785903a40826"),
    "Portuguese": (74, "50a8735f41f4f73757c8ce5b16cb0275cd86b2b214bcbc8c9805f508cb131c53"),
    "Russian": (9408, "43b3e64ce351f77f1ac9e0cdf7566012d127f4371875fd25208845b5c9d6f7c3"),
    "Scottish": (100, "78d0252711d87d948ea86fe34826c51d2d794a8e52d15b5d6f7b6244d45d62dd"),
    "Spanish": (298, "1bcb462ed3316756a85781d68232bddae04498fdddd5d9219c53fd1fbdeba7a7"),
    "Vietnamese": (73, "f3f9e4164ab47601178a6e45b216464a64122f49d05541f24bf18a757253281d"),
}


class DataError(RuntimeError):
    """The surnames could not be fetched, unpacked or verified; the message says what to do."""


def download_names(root: str | Path | None = None, url: str | None = None) -> Path:
    """Return `<root>/names` holding the 18 verified `<Language>.txt` files, fetching them if needed.

    The source is `url`, else `$RNN_TUTORIAL_DATA_URL`, else the official archive; a `data.zip`
    placed by hand in `root` is used before any network. Nothing is written to `<root>/names`
    unless the whole archive arrived and every file checks out.
    """
    root = Path(root) if root is not None else data_dir()
    names_dir = root / "names"
    if names_dir.is_dir() and not verify_names(names_dir):
        return names_dir
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root, prefix=".download-") as tmp:
        archive = root / "data.zip"
        if not archive.is_file():
            archive = Path(tmp) / "data.zip"
            _fetch(url or os.environ.get(URL_ENV) or OFFICIAL_URL, archive, root)
        staged = Path(tmp) / "names"
        _extract_names(archive, staged)
        problems = verify_names(staged)
        if problems:
            raise DataError(f"{archive.name} is not the expected surnames data: " + "; ".join(problems))
        if names_dir.exists():  # an invalid copy: move it aside, it is deleted with tmp
            os.replace(names_dir, Path(tmp) / "invalid-names")
        os.replace(staged, names_dir)
    return names_dir


def verify_names(names_dir: Path) -> list[str]:
    """Problems found in `names_dir` (missing, extra or altered files); empty when all is well."""
    problems = []
    found = sorted(p.stem for p in names_dir.glob("*.txt"))
    problems += [f"{lang}.txt missing" for lang in sorted(set(EXPECTED) - set(found))]
    problems += [f"{lang}.txt unexpected" for lang in sorted(set(found) - set(EXPECTED))]
    for lang in sorted(set(EXPECTED) & set(found)):
        data = (names_dir / f"{lang}.txt").read_bytes()
        lines = sum(1 for line in data.decode("utf-8", "replace").split("\n") if line.strip())
        n_expected, sha_expected = EXPECTED[lang]
        if lines != n_expected:
            problems.append(f"{lang}.txt has {lines} lines, expected {n_expected}")
        elif hashlib.sha256(data).hexdigest() != sha_expected:
            problems.append(f"{lang}.txt checksum differs")
    return problems


def _fetch(url: str, dest: Path, root: Path) -> None:
    """Copy `url` (http, https or file) to `dest`; a failure explains the manual route."""
    manual = (f"Download {OFFICIAL_URL} yourself and save it as {root / 'data.zip'} "
              f"(or set {URL_ENV} to a file:// URL of a copy), then run again.")
    try:
        with urllib.request.urlopen(url, timeout=60) as response, open(dest, "wb") as out:
            expected = response.headers.get("Content-Length")
            shutil.copyfileobj(response, out)
    except urllib.error.HTTPError as e:
        raise DataError(f"could not download {url}: HTTP {e.code} {e.reason}. {manual}") from e
    except (urllib.error.URLError, http.client.HTTPException, OSError) as e:
        raise DataError(f"could not download {url}: {e}. {manual}") from e
    size = dest.stat().st_size
    if expected is not None and size != int(expected):
        raise DataError(f"download of {url} was cut short: {size} of {expected} bytes. {manual}")


def _extract_names(archive: Path, dest: Path) -> None:
    """Unpack only `data/names/*.txt` from `archive` into `dest`, refusing unsafe member paths."""
    if not zipfile.is_zipfile(archive):
        raise DataError(f"{archive.name} is not a zip archive (a truncated download or an error page?)")
    try:
        with zipfile.ZipFile(archive) as zf:
            unsafe = [m for m in zf.namelist() if _is_unsafe(m)]
            if unsafe:
                raise DataError(f"{archive.name} has members that escape the target folder: {unsafe}")
            dest.mkdir(parents=True)
            for member in sorted(zf.namelist()):
                path = PurePosixPath(member)
                if str(path.parent) + "/" == MEMBER_DIR and path.suffix == ".txt":
                    (dest / path.name).write_bytes(zf.read(member))
    except (zipfile.BadZipFile, zlib.error, EOFError) as e:
        raise DataError(f"{archive.name} is corrupted: {e}") from e


def _is_unsafe(member: str) -> bool:
    """True for absolute paths, drive letters and any `..` component (zip-slip)."""
    path = PurePosixPath(member.replace("\\", "/"))
    if not path.parts:
        return False
    return path.is_absolute() or ".." in path.parts or ":" in path.parts[0]
