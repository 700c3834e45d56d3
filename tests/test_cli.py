"""`python -m rnn_tutorial train` then `predict`: the original tutorial's two scripts, end to end."""
from __future__ import annotations

import os
import subprocess
import sys


def run(*args: str, models_dir) -> subprocess.CompletedProcess:
    env = {**os.environ, "RNN_TUTORIAL_MODELS_DIR": str(models_dir)}
    return subprocess.run([sys.executable, "-m", "rnn_tutorial", *args], capture_output=True, text=True,
                          env=env, timeout=300)


def test_train_then_predict_prints_three_languages(tmp_path):
    trained = run("train", "--epochs", "1", "--hidden-size", "16", "--seeds", "2", models_dir=tmp_path)
    assert trained.returncode == 0, trained.stderr
    assert "final model (2 seeds): test accuracy" in trained.stdout
    assert (tmp_path / "name_classifier.pt").is_file()
    predicted = run("predict", "Hinton", "42", models_dir=tmp_path)
    assert predicted.returncode == 0, predicted.stderr
    hinton, bad = predicted.stdout.splitlines()
    assert hinton.startswith("Hinton:") and len(hinton.split()) == 1 + 2 * 3  # three (language, probability)
    assert "no letters" in bad


def test_predict_without_a_model_says_what_to_do(tmp_path):
    result = run("predict", "Hinton", models_dir=tmp_path)
    assert result.returncode != 0 and "rnn_tutorial train" in result.stderr
