"""Character n-grams: the listing both models share, the scikit-learn baseline, the n-gram bag."""
from __future__ import annotations

import pytest
import torch

from dataclasses import replace

from rnn_tutorial.batching import collate_names
from rnn_tutorial.checkpoints import CheckpointError, load_checkpoint, save_checkpoint
from rnn_tutorial.config import FINAL_MODEL
from rnn_tutorial.data import LANGUAGES, name_to_indices, targets_of
from rnn_tutorial.metrics import majority_baseline, score
from rnn_tutorial.ngrams import (NgramBag, NgramBagClassifier, baseline_log_probs, char_ngrams, decode,
                                 evaluate_baseline, ngram_baseline, ngram_vocabulary)
from rnn_tutorial.rnn import SequenceClassifier

POLISH, RUSSIAN, IRISH = (LANGUAGES.index(lang) for lang in ("Polish", "Russian", "Irish"))
STEMS = ["Kowal", "Nowak", "Petr", "Ivan", "Smirn", "Bren", "Dunn", "Malin", "Karp", "Lew", "Sokol", "Grab",
         "Wolk", "Zar", "Bel", "Kozl", "Orl", "Pop", "Step", "Vas"]


def fixture_names(stems: list[str]) -> list[tuple[str, int]]:
    """Made-up surnames whose language shows only in a prefix or suffix: -ski/-wicz, -ov/-enko, O'/Mc."""
    return ([(s + end, POLISH) for s in stems for end in ("ski", "wicz")]
            + [(s + end, RUSSIAN) for s in stems for end in ("ov", "enko")]
            + [(start + s, IRISH) for s in stems for start in ("O'", "Mc")])


TRAIN, TEST = fixture_names(STEMS[:14]), fixture_names(STEMS[14:])


# ---- the listing -----------------------------------------------------------------------------

def test_ngrams_of_a_short_name_between_marks():
    assert char_ngrams("Li") == ["^", "L", "i", "$", "^L", "Li", "i$", "^Li", "Li$", "^Li$"]


@pytest.mark.parametrize("name", ["A", "Li", "Nowak", "O'Neill", "De la Cruz"])
@pytest.mark.parametrize("max_n", [1, 2, 4])
def test_a_name_of_length_L_has_L_plus_3_minus_n_ngrams_of_each_length(name, max_n):
    grams = char_ngrams(name, max_n)
    marked = len(name) + 2
    for n in range(1, max_n + 1):
        assert sum(len(g) == n for g in grams) == max(0, marked - n + 1)
    assert max(map(len, grams)) == min(max_n, marked)


def test_case_and_position_are_kept():
    """'Mc' at the start and 'mc' inside are different features: the start mark and the capital say where."""
    assert "^Mc" in char_ngrams("McLeod") and "^Mc" not in char_ngrams("Amcott")
    assert "ski$" in char_ngrams("Kowalski") and "ski$" not in char_ngrams("Skidmore")


def test_vocabulary_is_sorted_and_counts_names_not_occurrences():
    names = ["Anna", "Ann", "Bo"]
    assert ngram_vocabulary(names) == sorted(set(char_ngrams("Anna") + char_ngrams("Ann") + char_ngrams("Bo")))
    twice = ngram_vocabulary(names, min_count=2)
    assert "nn" in twice and "Bo" not in twice
    assert "nna" not in twice  # twice in no name but "Anna": one name, counted once


# ---- the baseline ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def baseline():
    return ngram_baseline(TRAIN)


def test_the_baseline_reads_exactly_the_ngrams_of_the_listing(baseline):
    tfidf = baseline.steps[0][1]
    assert sorted(tfidf.vocabulary_) == ngram_vocabulary([n for n, _ in TRAIN])


def test_the_baseline_beats_the_majority_on_unseen_stems(baseline):
    s = evaluate_baseline(baseline, TEST)
    majority = score(majority_baseline(TRAIN, TEST), targets_of(TEST))
    assert majority.accuracy == pytest.approx(1 / 3)  # three balanced languages
    assert s.accuracy >= 0.9 > majority.accuracy + 0.5


def test_baseline_log_probs_cover_every_label(baseline):
    log_probs = baseline_log_probs(baseline, TEST)
    assert log_probs.shape == (len(TEST), len(LANGUAGES))
    torch.testing.assert_close(log_probs.exp().sum(1), torch.ones(len(TEST)))
    absent = [i for i in range(len(LANGUAGES)) if i not in (POLISH, RUSSIAN, IRISH)]
    assert torch.isneginf(log_probs[:, absent]).all()  # never trained on: probability 0


def test_evaluate_baseline_is_score_of_its_log_probs(baseline):
    s = evaluate_baseline(baseline, TEST)
    expected = score(baseline_log_probs(baseline, TEST), targets_of(TEST))
    assert (s.accuracy, s.macro_f1, s.top3) == (expected.accuracy, expected.macro_f1, expected.top3)


# ---- the bag ---------------------------------------------------------------------------------

def test_decode_inverts_the_letter_indices_of_a_padded_batch():
    names = ["O'Neill", "Li", "De la Cruz"]
    x, lengths, _ = collate_names([(name_to_indices(n), 0) for n in names])
    assert decode(x, lengths) == names


def test_a_new_bag_gives_zero_logits_of_shape_batch_by_labels():
    bag = NgramBag(ngram_vocabulary(["Nowak", "Ivanov"]))
    logits = bag(["Nowak", "Ivanov", "Zzz"])
    assert logits.shape == (3, len(LANGUAGES))
    assert torch.equal(logits, torch.zeros(3, len(LANGUAGES)))


def test_bag_logits_are_the_sum_of_the_known_ngrams_rows():
    vocabulary = ngram_vocabulary(["Anna", "Nowak"])
    bag = NgramBag(vocabulary, n_labels=5)
    torch.manual_seed(0)
    torch.nn.init.normal_(bag.weights.weight)
    W = bag.weights.weight.detach()
    for name in ["Anna", "Annabel", "Xyz"]:
        known = [vocabulary.index(g) for g in char_ngrams(name) if g in vocabulary]  # 'n' in 'Anna' twice
        expected = W[known].sum(0) if known else torch.zeros(5)
        torch.testing.assert_close(bag([name])[0], expected)
    assert not any(g in vocabulary for g in char_ngrams("Xyz")[1:4])  # X, y, z are all unknown


def test_only_a_names_ngrams_receive_gradient():
    vocabulary = ngram_vocabulary(["Anna", "Bo"])
    bag = NgramBag(vocabulary)
    bag(["Bo"]).sum().backward()
    touched = bag.weights.weight.grad.abs().sum(1).nonzero().flatten().tolist()
    assert [vocabulary[i] for i in touched] == sorted(set(char_ngrams("Bo")))


# ---- the final model: a recurrent core plus the bag, in one classifier -------------------------

def small_final(vocabulary: list[str]) -> SequenceClassifier:
    """FINAL_MODEL's structure at a small size."""
    torch.manual_seed(0)
    return SequenceClassifier(replace(FINAL_MODEL, hidden_size=6, embedding_size=4), ngram_vocabulary=vocabulary)


def batch_of(names: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    x, lengths, _ = collate_names([(name_to_indices(n), 0) for n in names])
    return x, lengths


def test_the_final_model_adds_the_bags_logits_to_the_cores():
    names = ["Kowalski", "Li", "O'Neill"]
    model = small_final(ngram_vocabulary(names)).eval()
    x, lengths = batch_of(names)
    with torch.no_grad():
        torch.nn.init.normal_(model.bag.weights.weight)
        core_logits = model.h2o(model.features(x, lengths))
        expected = torch.log_softmax(core_logits + model.bag(names), dim=1)
        torch.testing.assert_close(model(x, lengths), expected)
    assert model(x, lengths).shape == (3, len(LANGUAGES))


def test_a_final_model_needs_its_vocabulary():
    with pytest.raises(ValueError, match="ngram_vocabulary"):
        SequenceClassifier(FINAL_MODEL)


def test_the_final_model_round_trips_through_a_checkpoint(tmp_path):
    names = [n for n, _ in TRAIN]
    model = small_final(ngram_vocabulary(names)).eval()
    with torch.no_grad():
        torch.nn.init.normal_(model.bag.weights.weight)
    path = save_checkpoint(model, tmp_path / "final.pt")
    raw = torch.load(path, weights_only=True)
    assert raw["ngrams"] == ngram_vocabulary(names) and raw["hparams"]["ngrams"] is True  # a readable dict
    loaded = load_checkpoint(path).model
    x, lengths = batch_of(names[:5] + ["Zyx"])
    torch.testing.assert_close(loaded(x, lengths), model(x, lengths))


def test_a_checkpoint_without_its_vocabulary_is_refused(tmp_path):
    model = small_final(ngram_vocabulary(["Li", "Wu"]))
    path = save_checkpoint(model, tmp_path / "final.pt")
    raw = torch.load(path, weights_only=True)
    del raw["ngrams"]
    torch.save(raw, path)
    with pytest.raises(CheckpointError, match="vocabulary is missing"):
        load_checkpoint(path)


def test_the_bag_classifier_gives_the_bags_log_probabilities_for_the_names_spelled():
    names = ["Rossi", "Li"]
    model = NgramBagClassifier(ngram_vocabulary(["Rossi", "Lin", "Nowak"]))
    torch.nn.init.normal_(model.bag.weights.weight)
    x, lengths, _ = collate_names([(name_to_indices(n), 0) for n in names])
    log_probs = model(x, lengths)
    assert log_probs.shape == (2, len(LANGUAGES))
    torch.testing.assert_close(log_probs, torch.log_softmax(model.bag(names), dim=1))
    torch.testing.assert_close(log_probs.exp().sum(1), torch.ones(2))
