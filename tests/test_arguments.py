"""The lesson functions a notebook calls refuse a bad argument with a ValueError naming it, before any work."""
from __future__ import annotations

import pytest
import torch

from rnn_tutorial.config import ModelConfig, Recipe
from rnn_tutorial.data import class_prior, make_split
from rnn_tutorial.inference import predict_many
from rnn_tutorial.rnn import SequenceClassifier

NAMES = {"English": [f"Smith{i}" for i in range(50)], "German": [f"Muller{i}" for i in range(50)]}


@pytest.mark.parametrize("kwargs, word", [({"val": -0.1}, "val"), ({"val": 0.6, "test": 0.6}, "test"),
                                          ({"test": 1.0}, "test")])
def test_make_split_refuses_shares_that_are_not_shares(kwargs, word):
    with pytest.raises(ValueError, match=word):
        make_split(NAMES, **kwargs)


def test_class_prior_refuses_labels_out_of_range():
    for bad in (18, -1):
        with pytest.raises(ValueError, match="labels"):
            class_prior([("Hinton", 0), ("Ng", bad)])


def test_predict_many_refuses_one_string():
    with pytest.raises(ValueError, match="names"):
        predict_many(SequenceClassifier(ModelConfig(hidden_size=4)), "Hinton")


@pytest.mark.parametrize("kwargs, word", [({"epochs": 0}, "epochs"), ({"lr": -1}, "lr"), ({"batch_size": 0}, "batch_size"),
                                          ({"patience": -1}, "patience"), ({"lr": float("nan")}, "lr")])
def test_recipe_refuses_values_out_of_range(kwargs, word):
    with pytest.raises(ValueError, match=word):
        Recipe(**kwargs)
