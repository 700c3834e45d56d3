"""The command line with hostile standard streams, as a real process: endless lines, closed streams, Ctrl-C
while torch loads, an output that cannot encode a name, undecodable input. Each ends in answers for every
usable name and one stderr line per problem, never a traceback, a hang or unbounded memory."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from rnn_tutorial.checkpoints import save_checkpoint
from rnn_tutorial.config import ModelConfig
from rnn_tutorial.plumbing.paths import MODELS_DIR_ENV
from rnn_tutorial.rnn import SequenceClassifier

COMMAND = [sys.executable, "-m", "rnn_tutorial"]


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("models") / "m.pt"
    torch.manual_seed(0)
    save_checkpoint(SequenceClassifier(ModelConfig(hidden_size=8)), path, class_prior=torch.full((18,), 1 / 18))
    return str(path)


def run(*args, timeout=60, env=None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([*COMMAND, *args], capture_output=True, timeout=timeout, env={**os.environ, **(env or {})},
                          **kw)


def one_error(result, *words) -> None:
    """A non-zero exit, no traceback, and exactly one stderr line, holding `words`."""
    lines = result.stderr.decode(errors="replace").splitlines()
    assert result.returncode != 0 and len(lines) == 1 and all(w in lines[0] for w in words), lines


@pytest.mark.parametrize("source", ["--file", "stdin"])
def test_an_endless_line_is_one_bad_name_read_in_bounded_memory(model, tmp_path, source):
    big = tmp_path / "zeros"
    with open(big, "wb") as f:  # 400 MB of NUL bytes without a line end (a sparse file: no disk used), then a name
        f.truncate(400_000_000)
        f.seek(0, 2)
        f.write(b"\nHinton\n")
    peak = tmp_path / "peak"
    if not os.path.exists("/proc/self/status"):
        pytest.skip("needs /proc to measure the peak memory")
    wrapper = ("import runpy\ntry:\n    runpy.run_module('rnn_tutorial', run_name='__main__')\nfinally:\n"
               f"    open({str(peak)!r}, 'w').write([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0])")
    args = ["predict", "--file", str(big) if source == "--file" else "-", "--model", model]
    with open(big, "rb") as stdin:
        result = subprocess.run([sys.executable, "-c", wrapper, *args], stdin=stdin, capture_output=True, timeout=120)
    assert int(peak.read_text()) < 700_000  # KiB (this process's own peak): torch itself, not the 400 MB line (read a line's worth at a time)
    one_error(result, "longer than")
    assert result.stdout.decode().startswith("Hinton:")


@pytest.mark.parametrize("command, redirect, words", [
    (["where"], ">&-", "standard output is closed"),
    (["predict", "Hinton"], ">&-", "standard output is closed"),
    (["predict", "--file", "-"], "<&-", "standard input is closed"),
])
def test_a_closed_standard_stream_is_one_line(model, command, redirect, words):
    result = subprocess.run(["sh", "-c", f'exec "$@" {redirect}', "sh", *COMMAND, *command, "--model", model],
                            capture_output=redirect == "<&-", stderr=subprocess.PIPE if redirect == ">&-" else None,
                            timeout=60)
    one_error(result, words)


def test_ctrl_c_while_torch_loads_is_one_line():
    process = subprocess.Popen([*COMMAND, "where"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    maps = f"/proc/{process.pid}/maps"
    if not os.path.exists(maps):
        process.kill()
        pytest.skip("needs /proc to see when torch starts loading")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        with open(maps) as f:
            if "libtorch" in f.read():  # torch's import has begun: the first second of the command
                break
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert (process.returncode, err) == (130, b"interrupted\n")


def test_every_name_is_answered_whatever_the_output_encoding(model, tmp_path):
    for encoding in ("ascii", "cp1252"):
        result = run("predict", "Müller", "Łukasz", "Hinton", "--model", model, env={"PYTHONIOENCODING": encoding})
        assert result.returncode == 0 and result.stderr == b"", result.stderr
        answered = [line.split(b":")[0] for line in result.stdout.splitlines()]
        assert answered == [b"M\xfcller" if encoding == "cp1252" else b"M\\xfcller", b"\\u0141ukasz", b"Hinton"]
    odd = os.fsdecode(b"models-\xff")  # a folder name that is not UTF-8
    result = run("where", env={MODELS_DIR_ENV: str(tmp_path / odd)})
    assert result.returncode == 0 and b"trained model:" in result.stdout and result.stderr == b""


def test_json_output_is_strict_ascii_json(model):
    import json
    result = run("predict", "Müller", "--format", "json", "--model", model, env={"PYTHONIOENCODING": "ascii"})
    assert result.returncode == 0 and json.loads(result.stdout)["name"] == "Müller"


@pytest.mark.parametrize("source", ["--file", "stdin", "argument"])
def test_a_name_that_is_not_utf8_is_one_bad_name(model, tmp_path, source):
    latin1 = b"M\xfcller\nHinton\n"
    names = tmp_path / "names.txt"
    names.write_bytes(latin1)
    args = {"--file": ["--file", str(names)], "stdin": ["-"], "argument": [b"M\xfcller", "Hinton"]}[source]
    result = run("predict", *args, "--model", model, input=latin1 if source == "stdin" else None)
    one_error(result, "not valid UTF-8")
    assert [line.split(b":")[0] for line in result.stdout.splitlines()] == [b"Hinton"]


def test_stdin_and_a_file_split_lines_alike(model, tmp_path):
    text = b"Hinton\rNg\r\nSato\n"
    names = tmp_path / "names.txt"
    names.write_bytes(text)
    from_file = run("predict", "--file", str(names), "--model", model)
    from_stdin = run("predict", "-", "--model", model, input=text)
    assert from_file.returncode == from_stdin.returncode == 0
    assert from_file.stdout == from_stdin.stdout and len(from_stdin.stdout.splitlines()) == 3
