"""The name classifier's settings: `ModelConfig` and `Recipe` refuse values out of range, and notebook 3's
simple model is what the bare configs give."""
from __future__ import annotations

import dataclasses

import pytest

from rnn_tutorial.config import (CORES, FINAL_MODEL, FINAL_RECIPE, MAX_HIDDEN_SIZE, READOUTS, SIMPLE_MODEL,
                                 SIMPLE_RECIPE, ModelConfig, Recipe)
from rnn_tutorial.rnn import SequenceClassifier


@pytest.mark.parametrize("field, value, message", [
    ("hidden_size", 0, "hidden_size 0 is not in"),
    ("hidden_size", MAX_HIDDEN_SIZE + 1, f"hidden_size {MAX_HIDDEN_SIZE + 1} is not in"),
    ("hidden_size", 8.0, "hidden_size 8.0"),
    ("core", "transformer", "core 'transformer' is not one of"),
    ("readout", "mean", "readout 'mean' is not one of"),
    ("dropout", 1.0, "dropout 1.0 is not in"),
    ("dropout", -0.1, "dropout -0.1 is not in"),
])
def test_model_config_refuses_values_out_of_range(field, value, message):
    with pytest.raises(ValueError, match=message):
        ModelConfig(**{field: value})


@pytest.mark.parametrize("values", [
    dict(hidden_size=1), dict(hidden_size=MAX_HIDDEN_SIZE), dict(dropout=0.0), dict(dropout=0.99),
    *(dict(core=core) for core in CORES), *(dict(readout=readout) for readout in READOUTS),
])
def test_model_config_accepts_the_ends_of_each_range(values):
    assert dataclasses.asdict(ModelConfig(**values)).items() >= values.items()  # no weights are built


@pytest.mark.parametrize("field, value", [("sampling", "balanced"), ("schedule", "step")])
def test_recipe_refuses_unknown_sampling_and_schedule(field, value):
    with pytest.raises(ValueError, match=field):
        Recipe(**{field: value})


def test_notebook_3s_simple_model_is_what_the_bare_configs_give():
    assert SIMPLE_MODEL == ModelConfig() and SIMPLE_RECIPE == Recipe()
    assert SequenceClassifier().config == SIMPLE_MODEL


def test_configs_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        FINAL_MODEL.hidden_size = 1  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        FINAL_RECIPE.epochs = 1  # type: ignore[misc]
