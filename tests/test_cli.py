"""`python -m rnn_tutorial train` then `predict`: the original tutorial's two scripts, end to end, and the
The contract: every mistake is one line on stderr and a non-zero exit code, never a traceback.

Subprocesses where the real exit code, stderr or a signal matters; `main([...])` in-process for the
table of usage errors (the same code path, without a torch import per case).
"""
from __future__ import annotations

import dataclasses
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
import torch

from rnn_tutorial.__main__ import main, parse, train_setup
from rnn_tutorial.checkpoints import load_checkpoint, save_checkpoint
from rnn_tutorial.config import (CHECKPOINT_NAME, FINAL_MODEL, FINAL_RECIPE, FINAL_SEEDS, SIMPLE_MODEL, SIMPLE_RECIPE,
                                 ModelConfig)
from rnn_tutorial.rnn import SequenceClassifier
from rnn_tutorial.plumbing.paths import MODELS_DIR_ENV


def run(*args: str, models_dir) -> subprocess.CompletedProcess:
    env = {**os.environ, MODELS_DIR_ENV: str(models_dir)}
    return subprocess.run([sys.executable, "-m", "rnn_tutorial", *args], capture_output=True, text=True,
                          env=env, timeout=300)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A models folder holding a tiny merged model trained by `train` (hand core, 1 epoch, 2 seeds, hidden 8), in-process."""
    models = tmp_path_factory.mktemp("models")
    main(["train", "--epochs", "1", "--hidden-size", "8", "--core", "hand", "--seeds", "2",
          "--model", str(models / CHECKPOINT_NAME)])
    return models


def test_train_then_predict_prints_three_languages(trained):
    assert (trained / CHECKPOINT_NAME).is_file()
    predicted = run("predict", "Hinton", "42", "Ng", models_dir=trained)
    assert predicted.returncode == 1  # one name failed
    hinton, ng = predicted.stdout.splitlines()
    assert hinton.startswith("Hinton:") and len(hinton.split()) == 1 + 2 * 3  # three (language, probability)
    assert ng.startswith("Ng:")
    assert predicted.stderr.splitlines() == ["42: name contains no letters from the alphabet: '42'"]


def test_the_checkpoint_stores_the_training_prior(trained):
    checkpoint = load_checkpoint(trained / CHECKPOINT_NAME)
    prior = checkpoint.class_prior
    assert prior is not None and prior.sum().item() == pytest.approx(1, abs=1e-5)
    assert checkpoint.model.labels[prior.argmax()] == "Russian"  # the commonest language of the training split


def test_names_from_stdin_and_from_a_file_in_every_format(trained, tmp_path, monkeypatch, capsys):
    model = str(trained / CHECKPOINT_NAME)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"Hinton\n\nNg\r\n")))
    main(["predict", "-", "--format", "json", "-k", "2", "--model", model])
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["name"] for r in rows] == ["Hinton", "Ng"] and all(len(r["predictions"]) == 2 for r in rows)
    names = tmp_path / "names.txt"
    names.write_text("Hinton\nSchmidhuber\n")
    main(["predict", "--file", str(names), "--format", "tsv", "--model", model])
    header, *body = capsys.readouterr().out.splitlines()
    assert header == "name\trank\tlanguage\tprobability" and len(body) == 2 * 3
    assert [row.split("\t")[:2] for row in body[:3]] == [["Hinton", "1"], ["Hinton", "2"], ["Hinton", "3"]]
    with pytest.raises(SystemExit, match="No such file"):
        main(["predict", "--file", str(tmp_path / "absent.txt"), "--model", model])


def test_prior_uniform_moves_probability_away_from_the_commonest_language(trained, capsys):
    """--prior train is the default output exactly; --prior uniform lowers Russian, the commonest training language."""
    model = str(trained / CHECKPOINT_NAME)

    def probabilities(*flags: str) -> dict[str, float]:
        main(["predict", "Ivanov", "--model", model, "--format", "json", "-k", "18", *flags])
        (row,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        return {p["language"]: p["probability"] for p in row["predictions"]}

    default = probabilities()
    assert probabilities("--prior", "train") == default
    uniform = probabilities("--prior", "uniform")
    assert uniform["Russian"] < default["Russian"]
    assert uniform["Vietnamese"] > default["Vietnamese"]  # a rare one gains
    main(["predict", "Ivanov", "--model", model])
    text = capsys.readouterr().out  # the readable format, as before the flags existed
    assert text.startswith("Ivanov:  ") and text.count(" 0.") + text.count(" 1.") == 3


def test_an_old_checkpoint_without_a_prior(tmp_path, capsys):
    old = save_checkpoint(SequenceClassifier(ModelConfig(8, readout="last")), tmp_path / "old.pt")  # no class_prior
    main(["predict", "Ivanov", "--model", str(old)])  # tau 0 still works
    assert capsys.readouterr().out.startswith("Ivanov:")
    with pytest.raises(SystemExit, match="without its training prior .* retrain"):
        main(["predict", "Ivanov", "--model", str(old), "--prior", "uniform"])


def test_predict_without_a_model_says_what_to_do(tmp_path):
    with pytest.raises(SystemExit) as excinfo:
        main(["predict", "Hinton", "--model", str(tmp_path / CHECKPOINT_NAME)])
    assert excinfo.value.code == (f"error: no model at {tmp_path / CHECKPOINT_NAME}: "
                                  "run `python -m rnn_tutorial train` first")


def test_a_model_worse_than_chance_does_not_replace_a_saved_one(trained, tmp_path, capsys):
    path = tmp_path / CHECKPOINT_NAME
    shutil.copy(trained / CHECKPOINT_NAME, path)
    before = path.read_bytes()
    with pytest.raises(SystemExit) as excinfo:
        main(["train", "--epochs", "1", "--hidden-size", "8", "--core", "hand", "--seeds", "1", "--lr", "10",
              "--model", str(path)])
    message = str(excinfo.value.code)
    assert "no better than chance" in message and "--force" in message and "\n" not in message
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_a_closed_pipe_is_quiet(trained, tmp_path):
    names = tmp_path / "many.txt"
    names.write_text("Hinton\nSchmidhuber\nLi\n" * 20000)  # far more output than a pipe buffers
    env = {**os.environ, MODELS_DIR_ENV: str(trained)}
    process = subprocess.Popen([sys.executable, "-m", "rnn_tutorial", "predict", "--file", str(names)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout.readline().startswith(b"Hinton:")
    process.stdout.close()  # what `| head -1` does
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == 1
    assert stderr == ""


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
def test_ctrl_c_is_one_line(trained):
    env = {**os.environ, MODELS_DIR_ENV: str(trained)}
    process = subprocess.Popen([sys.executable, "-m", "rnn_tutorial", "predict", "-", "--format", "tsv"], env=env,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout.readline() == "name\trank\tlanguage\tprobability\n"  # the model is loaded, stdin read next
    time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130 and stderr == "interrupted\n"


def test_train_defaults_are_the_final_model_and_recipe():
    args = parse(["train"])
    assert train_setup(args) == (FINAL_MODEL, FINAL_RECIPE) and args.seeds == len(FINAL_SEEDS)


def test_train_with_the_hand_core_is_notebook_3s_simple_model():
    assert train_setup(parse(["train", "--core", "hand"])) == (SIMPLE_MODEL, SIMPLE_RECIPE)
    config, recipe = train_setup(parse(["train", "--core", "hand", "--hidden-size", "8", "--epochs", "2"]))
    assert (config, recipe) == (dataclasses.replace(SIMPLE_MODEL, hidden_size=8), dataclasses.replace(SIMPLE_RECIPE, epochs=2))


def test_train_trains_the_final_model_and_predict_serves_it(tmp_path, capsys):
    """FINAL_MODEL's structure (bidirectional GRU, n-gram bag) at hidden size 4 for one epoch: saved with its
    n-gram vocabulary, loaded, and served with the uniform prior too."""
    path = tmp_path / CHECKPOINT_NAME
    main(["train", "--epochs", "1", "--hidden-size", "4", "--model", str(path)])
    checkpoint = load_checkpoint(path)
    assert checkpoint.model.config == dataclasses.replace(FINAL_MODEL, hidden_size=4)
    assert checkpoint.model.bag is not None and "ski$" in checkpoint.model.bag.vocabulary
    capsys.readouterr()
    for prior in ("train", "uniform"):
        main(["predict", "Kowalski", "--prior", prior, "--model", str(path)])
        assert capsys.readouterr().out.startswith("Kowalski:")


# ---- usage errors: one line, exit code 2, before any work -------------------------------------------

@pytest.mark.parametrize("argv, message", [
    ("train --epochs 0", "--epochs: must be in 1..10000, got 0"),
    ("train --epochs -3", "--epochs: must be in 1..10000, got -3"),
    ("train --epochs two", "--epochs: expected an integer, got 'two'"),
    ("train --seeds 0", "--seeds: must be in 1..64, got 0"),
    ("train --hidden-size 0", "--hidden-size: must be in 1..8192, got 0"),
    ("train --hidden-size -5", "--hidden-size: must be in 1..8192, got -5"),
    ("train --lr nan", "--lr: must be a finite number in (0, 10], got nan"),
    ("train --lr inf", "--lr: must be a finite number in (0, 10], got inf"),
    ("train --lr -0.1", "--lr: must be a finite number in (0, 10], got -0.1"),
    ("train --lr 0", "--lr: must be a finite number in (0, 10], got 0"),
    ("train --lr 1e6", "--lr: must be a finite number in (0, 10], got 1e6"),
    ("train --dropout 1", "--dropout: must be a finite number in [0, 1), got 1"),
    ("train --dropout -0.5", "--dropout: must be a finite number in [0, 1), got -0.5"),
    ("train --core gru --seeds 2", "merging several seeds needs --core hand"),
    ("predict -k 0 Hinton", "-k: must be at least 1, got 0"),
    ("predict -k x Hinton", "-k: expected an integer, got 'x'"),
    ("predict", "give names as arguments, or --file"),
    ("predict --tau 1 Hinton", "unrecognized arguments: --tau"),  # one knob: --prior
    ("predict --format xml Hinton", "invalid choice: 'xml'"),
    ("teach", "invalid choice: 'teach'"),
])
def test_usage_errors_are_one_line(argv, message, capsys):
    with pytest.raises(SystemExit) as excinfo:
        main(argv.split())
    assert excinfo.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err


@pytest.mark.parametrize("where, message", [("folder", "is a folder"), ("under-a-file", "cannot write a checkpoint")])
def test_an_unusable_model_path_is_refused_before_training(tmp_path, where, message):
    (tmp_path / "file").write_text("x")
    model = tmp_path if where == "folder" else tmp_path / "file" / "m.pt"
    started = time.monotonic()
    with pytest.raises(SystemExit, match=message) as excinfo:
        main(["train", "--model", str(model)])
    assert "\n" not in str(excinfo.value.code)
    assert time.monotonic() - started < 5  # refused up front, not after 20 epochs


@pytest.mark.parametrize("content, message", [
    (None, "is a folder"), (b"", "not a checkpoint"), (b"\x80\x02garbage" * 100, "not a checkpoint"),
])
def test_a_bad_checkpoint_is_one_line_for_predict(tmp_path, content, message):
    path = tmp_path / "m.pt"
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    with pytest.raises(SystemExit, match=message) as excinfo:
        main(["predict", "Hinton", "--model", str(path)])
    assert "\n" not in str(excinfo.value.code) and "weights_only" not in str(excinfo.value.code)


def test_a_diverging_training_is_one_line(tmp_path, monkeypatch):
    """fit's FloatingPointError mentions a `clip` option the command line does not have: it is reworded."""
    import rnn_tutorial.__main__ as cli

    def diverge(*args, **kwargs):
        raise FloatingPointError("loss became nan: lower the learning rate or set clip")

    monkeypatch.setattr(cli, "train_final_model", diverge)
    with pytest.raises(SystemExit, match="diverged .* lower --lr") as excinfo:
        main(["train", "--model", str(tmp_path / "m.pt"), "--seeds", "1"])
    assert "clip" not in str(excinfo.value.code) and not (tmp_path / "m.pt").exists()


def test_force_saves_a_model_worse_than_chance(monkeypatch):
    """The refusal rule itself, on a model that ignores the name (it answers the training mix)."""
    from rnn_tutorial.__main__ import refuse_if_no_better_than_chance
    prior = torch.tensor([0.5] + [0.5 / 17] * 17)
    model = SequenceClassifier(ModelConfig(8, readout="last"))
    with torch.no_grad():
        model.h2o.weight.zero_()
        model.h2o.bias.copy_(prior.log())
    val = [("Hinton", 4), ("Abadi", 0), ("Ivanov", 14)]
    with pytest.raises(ValueError, match="no better than chance"):
        refuse_if_no_better_than_chance(model, val, prior, force=False)
    assert refuse_if_no_better_than_chance(model, val, prior, force=True) == pytest.approx(
        -prior.log()[[4, 0, 14]].mean().item(), rel=1e-5)


def test_a_merged_size_over_the_limit_is_refused_before_training(tmp_path):
    result = subprocess.run([sys.executable, "-m", "rnn_tutorial", "train", "--hidden-size", "4096",
                             "--core", "hand", "--seeds", "3", "--model", str(tmp_path / "m.pt")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "merge into one of 12288" in result.stderr
    assert len(result.stderr.splitlines()) == 1 and not (tmp_path / "m.pt").exists()
