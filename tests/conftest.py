"""Shared fixtures. The archive comes from where the package itself would take it: `$RNN_TUTORIAL_DATA_URL`
if set (CI points it at a local mirror), else a `data.zip` placed by hand in the data folder, else the
official URL."""
from __future__ import annotations

import os
import urllib.request

import pytest
import torch

from rnn_tutorial.plumbing.download import OFFICIAL_URL
from rnn_tutorial.plumbing.paths import DATA_URL_ENV as URL_ENV
from rnn_tutorial.plumbing.paths import data_dir

torch.set_num_threads(1)  # as the notebooks and the command line do: results repeat run to run


def archive_url() -> str:
    """The URL the tests read the official archive from, by the package's own order of preference."""
    by_hand = data_dir() / "data.zip"
    return os.environ.get(URL_ENV) or (by_hand.resolve().as_uri() if by_hand.is_file() else OFFICIAL_URL)


@pytest.fixture(scope="session")
def archive_bytes() -> bytes:
    """The bytes of the official data.zip."""
    with urllib.request.urlopen(archive_url(), timeout=60) as response:
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
