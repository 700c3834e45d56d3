"""Checkpoints: every bad file is one CheckpointError (a ValueError) saying what is wrong, checked
before a model is built; saving is atomic, so a failed save or a concurrent reader never sees half a file."""
from __future__ import annotations

import dataclasses
import os
import threading
from pathlib import Path

import pytest
import torch

from rnn_tutorial import checkpoints
from rnn_tutorial.batching import collate_names
from rnn_tutorial.checkpoints import (CheckpointError, check_output_path, load_checkpoint,
                                      save_checkpoint)
from rnn_tutorial.config import FINAL_MODEL, MAX_HIDDEN_SIZE, ModelConfig
from rnn_tutorial.data import LANGUAGES, name_to_indices
from rnn_tutorial.inference import predict
from rnn_tutorial.rnn import SequenceClassifier

SMALL = ModelConfig(8, "hand", readout="last")


@pytest.fixture
def model():
    torch.manual_seed(0)
    return SequenceClassifier(SMALL).eval()


@pytest.fixture
def good(model, tmp_path):
    """A valid checkpoint file."""
    return save_checkpoint(model, tmp_path / "good.pt")


def edited(path, edit) -> None:
    """Load the checkpoint at `path`, apply `edit` to the dictionary, save it back (plain torch.save)."""
    checkpoint = torch.load(path, weights_only=True)
    edit(checkpoint)
    torch.save(checkpoint, path)


def set_hparam(key, value):
    return lambda c: c["hparams"].__setitem__(key, value)


def set_weight(key, tensor):
    return lambda c: c["state_dict"].__setitem__(key, tensor)


def nan_weight(c):
    c["state_dict"]["core.cell.W_hh"][0, 0] = float("nan")


class NotAWeight:
    pass


BAD_FILES = {  # name -> (how to spoil a good checkpoint, what the error must say)
    "empty": (lambda p: p.write_bytes(b""), "not a checkpoint"),
    "truncated": (lambda p: p.write_bytes(p.read_bytes()[:3000]), "not a checkpoint"),
    "random-bytes": (lambda p: p.write_bytes(os.urandom(6000)), "not a checkpoint"),
    "text": (lambda p: p.write_text("weights: none\n"), "not a checkpoint"),
    "a-list": (lambda p: torch.save([1, 2, 3], p), "holds a list"),
    "missing-key": (lambda p: edited(p, lambda c: c.pop("hparams")), "missing \\['hparams'\\]"),
    "unknown-key": (lambda p: edited(p, lambda c: c.__setitem__("extra", 1)), "unknown \\['extra'\\]"),
    "unknown-hparam": (lambda p: edited(p, set_hparam("layers", 2)), "hyperparameters"),
    "hidden-20000": (lambda p: edited(p, set_hparam("hidden_size", 20000)), "hidden_size 20000 is not in"),
    "hidden-0": (lambda p: edited(p, set_hparam("hidden_size", 0)), "hidden_size 0"),
    "hidden-float": (lambda p: edited(p, set_hparam("hidden_size", 8.0)), "hidden_size 8.0"),
    "bad-core": (lambda p: edited(p, set_hparam("core", "transformer")), "core 'transformer'"),
    "bad-readout": (lambda p: edited(p, set_hparam("readout", "mean")), "readout 'mean'"),
    "bad-dropout": (lambda p: edited(p, set_hparam("dropout", 1.5)), "dropout 1.5"),
    "wrong-shape": (lambda p: edited(p, set_weight("core.cell.W_hh", torch.zeros(9, 9))), "shape \\(9, 9\\)"),
    "bigger-than-weights": (lambda p: edited(p, set_hparam("hidden_size", 4000)), "hidden size 4000 needs"),
    "missing-weight": (lambda p: edited(p, lambda c: c["state_dict"].pop("h2o.bias")), "has weights"),
    "integer-weight": (lambda p: edited(p, set_weight("h2o.bias", torch.zeros(18, dtype=torch.long))), "float tensors"),
    "nan-weight": (lambda p: edited(p, nan_weight), "NaN"),
    "labels": (lambda p: edited(p, lambda c: c.__setitem__("labels", ["Russian"])), "labels"),
    "labels-two": (lambda p: edited(p, lambda c: c.__setitem__("labels", ["Russian", "Arabic"])), "labels"),
    "labels-reordered": (lambda p: edited(p, lambda c: c.__setitem__("labels", sorted(LANGUAGES, reverse=True))),
                         "labels"),
    "python-object": (lambda p: edited(p, lambda c: c.__setitem__("info", {"payload": NotAWeight()})),
                      "never loaded"),  # weights_only=True: no code runs while loading
    "alphabet": (lambda p: edited(p, lambda c: c.__setitem__("alphabet", "abc")), "another alphabet"),
    "prior-zero": (lambda p: edited(p, lambda c: c.__setitem__("class_prior", [1.0] + [0.0] * 17)), "prior"),
    "prior-length": (lambda p: edited(p, lambda c: c.__setitem__("class_prior", [0.5, 0.5])), "prior"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_a_bad_checkpoint_is_one_clear_error(good, case):
    spoil, message = BAD_FILES[case]
    spoil(good)
    with pytest.raises(CheckpointError, match=message) as excinfo:
        load_checkpoint(good)
    text = str(excinfo.value)
    assert "\n" not in text and "weights_only" not in text  # one line; never the advice to load unsafely
    error = excinfo.value
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)  # no torch chain


@pytest.mark.parametrize("config", [ModelConfig(16, "hand", "last", 0.1), ModelConfig(8, "gru", "max", 0.25),
                                    FINAL_MODEL], ids=["hand-last-dropout", "gru-max", "final"])
def test_a_checkpoint_round_trips_the_config_and_the_predictions(config, tmp_path):
    torch.manual_seed(0)
    vocabulary = ["^H", "Li", "er$"] if config.ngrams else None  # the final model's bag has n-gram rows
    model = SequenceClassifier(config, ngram_vocabulary=vocabulary).eval()
    path = save_checkpoint(model, tmp_path / "m.pt", test_accuracy=0.5)
    assert torch.load(path, weights_only=True)["hparams"] == dataclasses.asdict(model.config)
    assert load_checkpoint(path).info == {"test_accuracy": 0.5}
    loaded = load_checkpoint(path).model
    assert loaded.config == config and not loaded.training
    x, lengths, _ = collate_names([(name_to_indices(n), 0) for n in ("Hinton", "Li", "Schmidhuber")])
    assert torch.equal(loaded(x, lengths), model(x, lengths))
    for name in ("Hinton", "Schmidhuber", "Satoshi"):
        assert predict(loaded, name) == predict(model, name)


def test_a_folder_is_not_a_checkpoint(tmp_path):
    with pytest.raises(CheckpointError, match="is a folder"):
        load_checkpoint(tmp_path)


def test_a_missing_file_stays_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "nothing.pt")


@pytest.mark.skipif(os.name != "posix", reason="resource.getrusage is POSIX")
def test_a_file_claiming_a_huge_model_is_refused_without_building_it(good):
    """hidden_size 8192 with 8-wide weights: refused before the 256 MiB W_hh of a real model is filled."""
    import subprocess
    import sys
    edited(good, set_hparam("hidden_size", MAX_HIDDEN_SIZE))
    script = ("import resource, sys\n"
              "from rnn_tutorial.checkpoints import CheckpointError, load_checkpoint\n"
              "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
              "try:\n    load_checkpoint(sys.argv[1])\nexcept CheckpointError as e:\n    print('refused', e)\n"
              "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)\n")  # KiB on Linux
    result = subprocess.run([sys.executable, "-c", script, str(good)], capture_output=True, text=True, timeout=120)
    refused, grown = result.stdout.splitlines()
    assert refused.startswith("refused") and "needs" in refused, result.stderr
    assert int(grown) < 64 * 1024  # far below the 256 MiB one real W_hh would take


def test_the_prior_round_trips_and_old_files_have_none(model, tmp_path):
    prior = torch.full((len(LANGUAGES),), 1 / len(LANGUAGES))
    assert torch.equal(load_checkpoint(save_checkpoint(model, tmp_path / "a.pt", class_prior=prior)).class_prior,
                       prior)
    assert load_checkpoint(save_checkpoint(model, tmp_path / "b.pt")).class_prior is None
    with pytest.raises(ValueError, match="prior"):
        save_checkpoint(model, tmp_path / "c.pt", class_prior=torch.zeros(len(LANGUAGES)))
    assert not (tmp_path / "c.pt").exists()


# ---- atomic saving ------------------------------------------------------------------------------

def test_a_failed_save_keeps_the_previous_checkpoint(model, good, monkeypatch):
    before = good.read_bytes()

    def disk_full(obj, f):
        f.write(b"half a checkpoint")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(checkpoints.torch, "save", disk_full)
    with pytest.raises(OSError, match="No space"):
        save_checkpoint(SequenceClassifier(ModelConfig(16, readout="last")), good)
    assert good.read_bytes() == before
    assert sorted(p.name for p in good.parent.iterdir()) == ["good.pt"]  # the temporary file is gone


@pytest.mark.skipif(os.name != "posix", reason="RLIMIT_FSIZE is POSIX")
def test_a_save_cut_by_a_file_size_limit_keeps_the_previous_checkpoint(good, tmp_path):
    """A real write that fails halfway (EFBIG, a file-size limit), in a child process."""
    import subprocess
    import sys
    script = ("import resource, sys, torch\n"
              "from rnn_tutorial.checkpoints import save_checkpoint\n"
              "from rnn_tutorial.config import ModelConfig\n"
              "from rnn_tutorial.rnn import SequenceClassifier\n"
              "resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))\n"
              "try:\n    save_checkpoint(SequenceClassifier(ModelConfig(64, readout='last')), sys.argv[1])\n"
              "except OSError as e:\n    print(type(e).__name__, e)\n")
    before = good.read_bytes()
    result = subprocess.run([sys.executable, "-c", script, str(good)], capture_output=True, text=True, timeout=120)
    assert result.stdout.startswith("OSError could not save"), result.stderr  # the write really failed
    assert good.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.pt"]


def test_a_reader_never_sees_half_a_checkpoint(tmp_path):
    path = tmp_path / "m.pt"
    models = [SequenceClassifier(SMALL), SequenceClassifier(ModelConfig(64, readout="last"))]
    save_checkpoint(models[0], path)
    failures, done = [], threading.Event()

    def reader():
        while not done.is_set():
            try:
                load_checkpoint(path)
            except Exception as e:  # noqa: BLE001 (collected and asserted below)
                failures.append(repr(e))

    thread = threading.Thread(target=reader)
    thread.start()
    for i in range(40):
        save_checkpoint(models[i % 2], path)
    done.set()
    thread.join()
    assert failures == []


def test_saving_keeps_the_usual_file_permissions(model, tmp_path):
    if os.name != "posix":
        pytest.skip("POSIX permissions")
    umask = os.umask(0o022)
    try:
        path = save_checkpoint(model, tmp_path / "m.pt")
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize("where, message", [("folder", "is a folder"), ("under-a-file", "cannot write")])
def test_an_unusable_output_path_is_refused_up_front(tmp_path, where, message):
    (tmp_path / "file").write_text("x")
    path = tmp_path if where == "folder" else tmp_path / "file" / "m.pt"
    with pytest.raises(ValueError, match=message):
        check_output_path(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]  # the probe left nothing behind


def test_a_checkpoint_written_by_the_previous_package_still_loads():
    """tests/fixtures/checkpoint_2026_12.pt: hidden 8, hand core, max readout, uniform prior, saved by the
    package before its classifier was renamed (NameClassifier) and its cell rewritten."""
    checkpoint = load_checkpoint(Path(__file__).parent / "fixtures" / "checkpoint_2026_12.pt")
    assert checkpoint.model.config == ModelConfig(8) and checkpoint.info == {"test_accuracy": 0.5}
    assert torch.allclose(checkpoint.class_prior, torch.full((len(LANGUAGES),), 1 / len(LANGUAGES)))
    guesses = predict(checkpoint.model, "Hinton")  # what the previous package answered, to float32 rounding
    assert [language for language, _ in guesses] == ["Irish", "Dutch", "Portuguese"]
    assert [p for _, p in guesses] == pytest.approx([0.08092249929904938, 0.07511252164840698, 0.0702323168516159],
                                                    abs=1e-6)


def test_a_checkpoint_saved_before_the_final_models_fields_still_loads(tmp_path):
    """Files written before embedding_size, bidirectional and ngrams existed hold four hyperparameters."""
    torch.manual_seed(0)
    model = SequenceClassifier(ModelConfig(8, "hand", "max")).eval()
    path = save_checkpoint(model, tmp_path / "old.pt")
    raw = torch.load(path, weights_only=True)
    raw["hparams"] = {k: raw["hparams"][k] for k in ("hidden_size", "core", "readout", "dropout")}
    torch.save(raw, path)
    loaded = load_checkpoint(path).model
    assert loaded.config == ModelConfig(8, "hand", "max") and loaded.bag is None and loaded.embedding is None
    x, lengths, _ = collate_names([(name_to_indices(n), 0) for n in ("Hinton", "Li")])
    assert torch.equal(loaded(x, lengths), model(x, lengths))


# ---- hostile files and saves (checked as a real process where a hang or a signal is the point) ----------

def cli(*args, timeout=90):
    import subprocess
    import sys
    return subprocess.run([sys.executable, "-m", "rnn_tutorial", *args], capture_output=True, text=True,
                          timeout=timeout)


def assert_one_error(result, word):
    lines = result.stderr.splitlines()
    assert result.returncode == 1 and len(lines) == 1 and word in lines[0], lines


def shared(depth):
    x = ["a"]
    for _ in range(depth):
        x = [x, x]
    return x


def nested(depth):
    x = ["a"]
    for _ in range(depth):
        x = [x]
    return x


@pytest.mark.parametrize("labels", [shared(40), nested(5000)], ids=["shared-references", "5000-deep"])
def test_hostile_labels_are_refused_at_once(good, labels):
    import sys
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(20_000)  # so that pickle can write the deep one
    try:
        edited(good, lambda c: c.__setitem__("labels", labels))
    finally:
        sys.setrecursionlimit(limit)
    assert_one_error(cli("predict", "Hinton", "--model", str(good)), "labels")


@pytest.mark.parametrize("kind", ["float8", "sparse", "meta", "complex"])
def test_weights_of_other_tensor_kinds_are_refused(good, kind):
    def spoil(c):
        w = c["state_dict"]["h2o.bias"]
        c["state_dict"]["h2o.bias"] = {"float8": lambda: w.to(torch.float8_e4m3fn), "sparse": w.to_sparse,
                                       "meta": lambda: w.to("meta"), "complex": lambda: w.to(torch.complex64)}[kind]()
    edited(good, spoil)
    with pytest.raises(CheckpointError, match="float tensors|not a checkpoint"):
        load_checkpoint(good)


def test_a_weight_finite_in_float64_but_not_in_float32_is_refused(good):
    edited(good, set_weight("h2o.bias", torch.full((18,), 1e300, dtype=torch.float64)))
    with pytest.raises(CheckpointError, match="finite"):
        load_checkpoint(good)


def test_a_complex_prior_is_refused(good):
    edited(good, lambda c: c.__setitem__("class_prior", torch.full((18,), 1 / 18, dtype=torch.complex64)))
    with pytest.raises(CheckpointError, match="prior"):
        load_checkpoint(good)


def test_weights_that_overflow_in_the_model_give_no_answer(good):
    edited(good, lambda c: c.__setitem__("state_dict", {k: torch.full_like(v, 3e38) for k, v in c["state_dict"].items()}))
    for fmt in ("text", "json"):
        result = cli("predict", "Hinton", "--format", fmt, "--model", str(good))
        assert_one_error(result, "not numbers")
        assert "NaN" not in result.stdout and "nan" not in result.stdout


@pytest.mark.parametrize("info", [{"score": __import__("numpy").float64(0.5)}, {"where": Path("x")},
                                  {"seeds": range(3)}, {"scores": __import__("numpy").zeros(3)}],
                         ids=["numpy-float", "path", "range", "array"])
def test_a_save_the_loader_would_refuse_keeps_the_good_file(model, good, info):
    before = good.read_bytes()
    with pytest.raises(ValueError, match="not saved"):
        save_checkpoint(model, good, **info)
    assert good.read_bytes() == before and load_checkpoint(good).model is not None


def test_a_model_with_other_labels_does_not_replace_a_good_file(good):
    before = good.read_bytes()
    other = SequenceClassifier(SMALL, labels=tuple(reversed(LANGUAGES)))
    with pytest.raises(ValueError, match="not saved"):
        save_checkpoint(other, good)
    assert good.read_bytes() == before


def test_sigterm_inside_the_writer_is_exit_143_not_a_full_disk(good):
    import subprocess
    import sys
    # torch's zip writer, stopped by SIGTERM, can raise from its clean-up and so hide the SystemExit: mimicked here
    child = ("import os, signal, sys, time\nfrom rnn_tutorial.__main__ import _terminate\n"
             "from rnn_tutorial.plumbing.atomic import write_atomically\n"
             "signal.signal(signal.SIGTERM, _terminate)\n"
             "def write(out):\n    out.write(b'partial')\n    try:\n"
             "        os.kill(os.getpid(), signal.SIGTERM); time.sleep(5)\n    finally:\n"
             "        raise RuntimeError('PytorchStreamWriter failed writing central directory')\n"
             "write_atomically(sys.argv[1], write)\n")
    before = good.read_bytes()
    result = subprocess.run([sys.executable, "-c", child, str(good)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 143 and "disk full" not in result.stderr and "Traceback" not in result.stderr
    assert good.read_bytes() == before and [p.name for p in good.parent.iterdir()] == [good.name]
