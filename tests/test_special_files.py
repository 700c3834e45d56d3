"""Named pipes, devices, read-only files and folders or temporaries that are not the project's, met by the
command line as a real process: refused in one line at once (never waited on or read for ever), and nothing
the user owns is deleted or replaced."""
from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys

import pytest
import torch

from rnn_tutorial.checkpoints import save_checkpoint
from rnn_tutorial.config import ModelConfig
from rnn_tutorial.plumbing.paths import DATA_DIR_ENV, DATA_URL_ENV
from rnn_tutorial.rnn import SequenceClassifier

COMMAND = [sys.executable, "-m", "rnn_tutorial"]


def run(*args, env=None, timeout=60) -> subprocess.CompletedProcess:
    return subprocess.run([*COMMAND, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def one_error(result, *words) -> None:
    lines = result.stderr.splitlines()
    assert result.returncode != 0 and len(lines) == 1 and all(w in lines[0] for w in words), lines


def fifo(path):
    try:
        os.mkfifo(path)
    except (AttributeError, OSError):
        pytest.skip("this file system cannot hold a named pipe")
    return path


@pytest.fixture
def model(tmp_path):
    path = tmp_path / "m.pt"
    save_checkpoint(SequenceClassifier(ModelConfig(hidden_size=8)), path)
    return path


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "dev-urandom"])
def test_a_model_that_is_not_a_regular_file_is_refused_at_once(tmp_path, kind):
    path = tmp_path / "model.pt"
    if kind == "fifo":
        fifo(path)
    else:
        path.symlink_to("/dev/" + kind.split("-")[1])
    one_error(run("predict", "Hinton", "--model", str(path), timeout=90), "not a regular")


@pytest.fixture
def fetched(tmp_path, archive_bytes):
    root = tmp_path / "data"
    root.mkdir()
    (root / "data.zip").write_bytes(archive_bytes)  # placed by hand: fetch unpacks it, no network
    assert run("fetch", env={DATA_DIR_ENV: str(root)}).returncode == 0
    return root


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_an_official_names_file_replaced_by_a_special_file_is_moved_aside(fetched, kind):
    arabic = fetched / "names" / "Arabic.txt"
    arabic.unlink()
    fifo(arabic) if kind == "fifo" else arabic.symlink_to("/dev/zero")
    result = run("fetch", env={DATA_DIR_ENV: str(fetched)}, timeout=90)
    assert result.returncode == 0 and "not a regular" in result.stderr and "moved it to" in result.stderr
    aside, = fetched.glob("names.invalid-*")  # kept, not deleted
    assert (aside / "Arabic.txt").is_symlink() or stat.S_ISFIFO((aside / "Arabic.txt").lstat().st_mode)


def test_a_file_url_naming_a_pipe_is_refused_at_once(tmp_path):
    pipe = fifo(tmp_path / "data.zip")
    result = run("fetch", env={DATA_DIR_ENV: str(tmp_path / "data"), DATA_URL_ENV: pipe.as_uri()}, timeout=90)
    one_error(result, "not a regular")


def test_a_read_only_checkpoint_is_never_replaced(model):
    before = model.read_bytes()
    model.chmod(0o444)
    result = run("train", "--epochs", "1", "--hidden-size", "8", "--seeds", "1", "--model", str(model), timeout=90)
    one_error(result, "read-only")
    assert model.read_bytes() == before and stat.S_IMODE(model.stat().st_mode) == 0o444


def test_a_device_node_is_never_replaced(tmp_path):
    node = tmp_path / "null"
    try:
        os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # /dev/null's numbers
    except (AttributeError, PermissionError, OSError):
        pytest.skip("creating a device node needs root")
    result = run("train", "--epochs", "1", "--hidden-size", "8", "--seeds", "1", "--model", str(node), timeout=90)
    one_error(result, "not a regular file")
    assert stat.S_ISCHR(node.lstat().st_mode)


def test_a_folder_of_yours_named_like_a_temporary_is_kept(fetched):
    mine = fetched / ".download-mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    assert run("fetch", env={DATA_DIR_ENV: str(fetched)}).returncode == 0
    assert (mine / "notes.txt").read_text() == "mine"


def test_a_temporary_left_by_a_killed_save_goes_at_the_next_save(model):
    killed = ("import os, signal, sys, torch\nfrom rnn_tutorial.plumbing.atomic import write_atomically\n"
              "def write(out):\n    out.write(b'x' * 100000); out.flush(); os.kill(os.getpid(), signal.SIGKILL)\n"
              "write_atomically(sys.argv[1], write)\n")
    result = subprocess.run([sys.executable, "-c", killed, str(model)], timeout=60)
    assert result.returncode == -signal.SIGKILL
    left = [p for p in model.parent.iterdir() if p.name.endswith(".tmp")]
    assert len(left) == 1  # what SIGKILL leaves behind
    (model.parent / f".{model.name}.notes.tmp").write_text("mine")  # not a name the project gives
    save_checkpoint(SequenceClassifier(ModelConfig(hidden_size=8)), model)
    assert sorted(p.name for p in model.parent.iterdir()) == sorted([model.name, f".{model.name}.notes.tmp"])
