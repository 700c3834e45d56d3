"""The name classifier's settings, each written once: the model, the training recipe, the final choices.

`ModelConfig` is what a checkpoint needs to rebuild a `SequenceClassifier` (stored in it as "hparams");
`Recipe` is how `training.fit` trains one. Their defaults are notebook 3's final model (section 5,
"The fast way: batches, Adam, a readout over every state"); notebook 3, the command line and the benchmark
all import them from here.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

CORES = ("hand", "rnn", "gru", "lstm")  # our RNN, then torch's nn.RNN, nn.GRU, nn.LSTM
READOUTS = ("last", "max", "max+last")  # the state after the last letter, the maximum over all states, both
SAMPLINGS = ("natural", "uniform")  # each training name once per epoch, or every language equally often
SCHEDULES = ("constant", "cosine")  # the learning rate over the epochs
MAX_HIDDEN_SIZE = 8192  # a hand-core W_hh of 8192 x 8192 floats is 256 MiB

ARTICLE_HIDDEN_SIZE, ARTICLE_LR, ARTICLE_ITERS = 128, 0.005, 100_000  # the article's n_hidden, SGD step, iterations

SPLIT_SEED = 0  # the one train/val/test split every notebook, test and command uses
MERGED_SEEDS = 3  # the final model merges this many seeds (notebook 3's appendix)
CHECKPOINT_NAME = "name_classifier.pt"  # the final model, written only by the command line in its models folder
NOTEBOOK_CHECKPOINT = "notebook3.pt"  # notebook 3's single simple model, in models/ (the web demo exports it)


@dataclass(frozen=True)
class ModelConfig:
    """What a `SequenceClassifier` is: hidden size, recurrent core, readout, dropout before the output layer.

    ValueError for a value out of range, so a bad command line or checkpoint is refused before any weights exist.
    """
    hidden_size: int = 128
    core: str = "hand"
    readout: str = "max"
    dropout: float = 0.0
    embedding_size: int = 0  # 0: letters enter as one-hot rows; n: as learned vectors of n numbers (nn.Embedding)
    bidirectional: bool = False  # torch's cores only: a second core reads the name from its end
    ngrams: bool = False  # add the logits of a bag of the name's character 1-4-grams (`ngrams.NgramBag`)

    def __post_init__(self) -> None:
        size, dropout = self.hidden_size, self.dropout
        checks = [
            (type(size) is int and 1 <= size <= MAX_HIDDEN_SIZE,
             f"hidden_size {size!r} is not in 1..{MAX_HIDDEN_SIZE}"),
            (self.core in CORES, f"core {self.core!r} is not one of {CORES}"),
            (self.readout in READOUTS, f"readout {self.readout!r} is not one of {READOUTS}"),
            (type(dropout) in (int, float) and 0 <= dropout < 1, f"dropout {dropout!r} is not in [0, 1)"),
            (type(self.embedding_size) is int and 0 <= self.embedding_size <= MAX_HIDDEN_SIZE,
             f"embedding_size {self.embedding_size!r} is not in 0..{MAX_HIDDEN_SIZE}"),
            (type(self.bidirectional) is bool, f"bidirectional {self.bidirectional!r} is not True or False"),
            (not (self.bidirectional and self.core == "hand"), "bidirectional needs one of torch's cores, not 'hand'"),
            (type(self.ngrams) is bool, f"ngrams {self.ngrams!r} is not True or False"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)


@dataclass(frozen=True)
class Recipe:
    """How `fit` trains: Adam at `lr` on batches of `batch_size`, for at most `epochs` passes, stopping
    after `patience` epochs without a better validation loss.

    `sampling`: "natural" shows every training name once per epoch, "uniform" draws every language
    equally often (as the article's loop does). `schedule`: "cosine" lowers the learning rate from `lr`
    to 0 along half a cosine over `epochs`, "constant" keeps it. `buckets`: batch names of similar length
    together (less padding, about a third faster). `clip`: rescale the gradient to at most this norm.
    `label_smoothing`: train towards 1 - s on the true language and s / 18 spread over all of them.
    """
    epochs: int = 20
    lr: float = 3e-3
    batch_size: int = 64
    patience: int = 5
    sampling: str = "natural"
    schedule: str = "cosine"
    buckets: bool = True
    clip: float | None = None
    label_smoothing: float = 0.0

    def __post_init__(self) -> None:
        for name, ok in (("epochs", type(self.epochs) is int and self.epochs >= 1),
                         ("lr", isinstance(self.lr, (int, float)) and 0 < self.lr < math.inf),
                         ("batch_size", type(self.batch_size) is int and self.batch_size >= 1),
                         ("patience", type(self.patience) is int and self.patience >= 0),
                         ("clip", self.clip is None or isinstance(self.clip, (int, float)) and self.clip > 0)):
            if not ok:
                raise ValueError(f"Recipe: {name} {getattr(self, name)!r} is out of range (epochs, batch_size >= 1; "
                                 "lr, clip > 0; patience >= 0)")
        if self.sampling not in SAMPLINGS:
            raise ValueError(f"sampling must be one of {SAMPLINGS}, got {self.sampling!r}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got {self.schedule!r}")
        if not (type(self.label_smoothing) in (int, float) and 0 <= self.label_smoothing < 1):
            raise ValueError(f"label_smoothing must be in [0, 1), got {self.label_smoothing!r}")


SIMPLE_MODEL = ModelConfig()  # notebook 3's main line (and the web demo): hidden 128, our hand-written RNN, max readout
SIMPLE_RECIPE = Recipe()  # 20 epochs of Adam at 3e-3 with a cosine schedule, length buckets of 64
# The command line's model (notebook 3, section 10; "Going deeper: what each part of the final model adds" trains
# its parts alone), every choice made on the validation part:
# a bidirectional GRU over learned letter vectors, read by the maximum and the last states, plus a bag of the
# name's character 1-4-grams whose logits are added; trained jointly, one seed (FINAL_SEEDS).
FINAL_MODEL = ModelConfig(hidden_size=64, core="gru", readout="max+last", dropout=0.2, embedding_size=32,
                          bidirectional=True, ngrams=True)
FINAL_RECIPE = Recipe(epochs=10, label_smoothing=0.1)  # otherwise SIMPLE_RECIPE's: Adam 3e-3, cosine, patience 5
FINAL_SEEDS = (0,)  # one model: merging needs hand cores, and three seeds would triple the training time
