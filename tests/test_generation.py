"""The character-level language model of rnn_tutorial.generation: shifted targets, the loss at every step,
sampling, and that it can learn at all."""
from __future__ import annotations

import math

import pytest
import torch

from rnn_tutorial.data import ALPHABET, LANGUAGES
from rnn_tutorial.generation import (BOUNDARY, IGNORE, N_TOKENS, NameGenerator, evaluate_generator,
                                     mean_step_loss, name_log_probs, next_token_probs, sample, shifted,
                                     shifted_batch, step_losses, train_generator)

GERMAN, ITALIAN = LANGUAGES.index("German"), LANGUAGES.index("Italian")


def untrained(seed: int = 0, hidden_size: int = 8) -> NameGenerator:
    torch.manual_seed(seed)
    return NameGenerator(hidden_size)


def test_targets_are_the_inputs_shifted_by_one_step():
    x, y = shifted("Li")
    assert x.tolist() == [BOUNDARY, ALPHABET.index("L"), ALPHABET.index("i")]
    assert y.tolist() == [ALPHABET.index("L"), ALPHABET.index("i"), BOUNDARY]


def test_a_batch_pads_inputs_with_the_boundary_and_targets_with_ignore():
    x, y, language = shifted_batch([("Li", ITALIAN), ("Bach", GERMAN)])
    assert x.shape == y.shape == (2, 5)
    assert x[0, 3:].tolist() == [BOUNDARY, BOUNDARY] and y[0, 3:].tolist() == [IGNORE, IGNORE]
    assert language.tolist() == [ITALIAN, GERMAN]


def test_the_model_gives_next_token_logits_at_every_step():
    x, _, language = shifted_batch([("Li", ITALIAN), ("Bach", GERMAN)])
    assert untrained()(x, language).shape == (2, 5, N_TOKENS)


def test_the_loss_at_every_step_is_the_cross_entropy_computed_by_hand():
    model = untrained()
    x, y, language = shifted_batch([("Li", ITALIAN), ("Bach", GERMAN)])
    logits = model(x, language)
    by_hand = torch.zeros(2, 5)
    for b in range(2):
        for t in range(5):
            if y[b, t] != IGNORE:
                p = logits[b, t].exp() / logits[b, t].exp().sum()
                by_hand[b, t] = -math.log(p[y[b, t]].item())
    assert torch.allclose(step_losses(logits, y), by_hand, atol=1e-5)
    assert math.isclose(mean_step_loss(logits, y).item(), by_hand.sum().item() / 8, rel_tol=1e-5)  # 3 + 5 steps


def test_padding_does_not_change_a_names_probability():
    model = untrained()
    alone = name_log_probs(model, [("Li", ITALIAN)])
    padded = name_log_probs(model, [("Li", ITALIAN), ("Bachmann", GERMAN)])
    assert torch.allclose(alone[0], padded[0], atol=1e-6)


def test_the_next_token_probabilities_sum_to_one_and_follow_the_prefix():
    model = untrained()
    probs = next_token_probs(model, "Ba", "German")
    assert probs.shape == (N_TOKENS,) and math.isclose(probs.sum().item(), 1.0, rel_tol=1e-6)
    x, _, language = shifted_batch([("Bach", GERMAN)])
    with torch.no_grad():
        after_ba = model(x, language)[0, 2].softmax(dim=0)  # steps: <start>, B, a
    assert torch.allclose(probs, after_ba, atol=1e-6)
    assert not torch.allclose(probs, next_token_probs(model, "Ba", "Italian"))  # the language is an input


def test_the_probability_of_a_name_is_the_product_of_its_next_token_probabilities():
    model = untrained()
    by_steps = sum(math.log(next_token_probs(model, "Bach"[:k], "German")[token].item())
                   for k, token in enumerate(shifted("Bach")[1].tolist()))
    assert math.isclose(name_log_probs(model, [("Bach", GERMAN)]).item(), by_steps, rel_tol=1e-5)


def test_sampling_repeats_with_a_seeded_generator():
    model = untrained(hidden_size=16)
    first = [sample(model, "Russian", g) for g in [torch.Generator().manual_seed(3)] for _ in range(8)]
    again = [sample(model, "Russian", g) for g in [torch.Generator().manual_seed(3)] for _ in range(8)]
    other = [sample(model, "Russian", g) for g in [torch.Generator().manual_seed(4)] for _ in range(8)]
    assert first == again and first != other
    assert all(len(name) <= 20 and set(name) <= set(ALPHABET) for name in first)


def test_an_unknown_language_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="language must be one of"):
        sample(untrained(), "Klingon", torch.Generator())


def test_a_tiny_model_memorises_two_names():
    fixture = [("Bach", GERMAN), ("Rossi", ITALIAN)]
    torch.manual_seed(0)
    model = NameGenerator(hidden_size=32)
    before = evaluate_generator(model, fixture)
    history = train_generator(model, fixture, epochs=150, lr=1e-2, generator=torch.Generator().manual_seed(0))
    assert before > math.log(N_TOKENS) - 0.5 and history[-1] < 0.05  # from about uniform to almost certain
    assert sample(model, "German", torch.Generator(), temperature=0) == "Bach"
    assert sample(model, "Italian", torch.Generator(), temperature=0) == "Rossi"
