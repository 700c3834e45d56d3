"""Shared fixtures. The archive comes from where the package itself would take it: `$RNN_TUTORIAL_DATA_URL`
if set (CI points it at a local mirror), else a `data.zip` placed by hand in the data folder; else, once the
names are on disk and verified, those 18 files zipped as the archive holds them (so the tests run offline after
one download); else the official URL."""
from __future__ import annotations

import io
import os
import urllib.request
import zipfile

import pytest
import torch

from rnn_tutorial.plumbing.download import EXPECTED, MEMBER_DIR, OFFICIAL_URL, verify_names
from rnn_tutorial.plumbing.paths import DATA_URL_ENV as URL_ENV
from rnn_tutorial.plumbing.paths import data_dir

torch.set_num_threads(1)  # as the notebooks and the command line do: results repeat run to run


def archive_url() -> str | None:
    """The URL the package would read the archive from if it had to (None: only the official one is left)."""
    by_hand = data_dir() / "data.zip"
    return os.environ.get(URL_ENV) or (by_hand.resolve().as_uri() if by_hand.is_file() else None)


def zipped_names_on_disk() -> bytes | None:
    """data/names zipped under the archive's member names, if every file there matches EXPECTED; else None."""
    names_dir = data_dir() / "names"
    if not names_dir.is_dir() or verify_names(names_dir):
        return None
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for lang in sorted(EXPECTED):
            archive.writestr(f"{MEMBER_DIR}{lang}.txt", (names_dir / f"{lang}.txt").read_bytes())
    return out.getvalue()


@pytest.fixture(scope="session")
def archive_bytes() -> bytes:
    """The bytes of the official data.zip (its names part: the 18 files the package checks)."""
    url = archive_url()
    on_disk = None if url else zipped_names_on_disk()
    if on_disk is not None:
        return on_disk
    with urllib.request.urlopen(url or OFFICIAL_URL, timeout=60) as response:
        return response.read()


@pytest.fixture(scope="session")
def names() -> dict[str, list[str]]:
    from rnn_tutorial.data import load_names
    return load_names()


@pytest.fixture(scope="session")
def split():
    """The split the notebooks and the command line share (`data.load_split`)."""
    from rnn_tutorial.data import load_split
    return load_split()
