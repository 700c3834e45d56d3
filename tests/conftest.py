"""Shared fixtures: the surnames mirror, served to the downloader through $RNN_TUTORIAL_DATA_URL."""
from __future__ import annotations

import os
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
MIRROR = REPO.parent / "shared" / "data" / "data.zip"  # CI's copy of the official archive

if "RNN_TUTORIAL_DATA_URL" not in os.environ and MIRROR.is_file():
    os.environ["RNN_TUTORIAL_DATA_URL"] = MIRROR.as_uri()


@pytest.fixture(scope="session")
def archive_bytes() -> bytes:
    """The bytes of the official data.zip, read from wherever $RNN_TUTORIAL_DATA_URL points."""
    url = os.environ.get("RNN_TUTORIAL_DATA_URL")
    assert url, "set RNN_TUTORIAL_DATA_URL to a copy of data.zip (file:// works) to run the tests"
    with urllib.request.urlopen(url) as response:
        return response.read()


@pytest.fixture(scope="session")
def names() -> dict[str, list[str]]:
    from rnn_tutorial.data import load_names
    return load_names()


@pytest.fixture(scope="session")
def split(names):
    from rnn_tutorial.data import make_split
    return make_split(names, seed=0)
