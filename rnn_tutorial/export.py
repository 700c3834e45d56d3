"""Export a hand-written-RNN checkpoint to the one JSON file the live demo runs in the browser.

`python -m rnn_tutorial.export [CHECKPOINT] [-o OUT.json]` (the `make demo` target), by default from
models/notebook3.pt (`config.NOTEBOOK_CHECKPOINT`, the single model notebook 3 saves) to site/demo/model.json,
both relative to the checkout root. The JSON holds the weights
(float32, little-endian, base64, row-major, with their shapes), the label order, the alphabet, the training
prior, the checkpoint it came from (file name, SHA-256, hyperparameters, info), and Python's own clean-up
data so that the page reads a name exactly as `data.letter_indices` does:

- `whitespace`: every character Python's `str.split()` and `str.strip()` treat as whitespace;
- `fold`: what `data.fold_to_ascii` makes of every character whose folding contains a letter of the alphabet,
  a space or a hyphen, or nothing at all (combining marks); any other character folds to characters outside
  the alphabet, which the model never reads (one such character stands for any number of them: they are
  dropped at the end and only keep spaces apart);
- the length cap and the characters trimmed at the ends.

The page's JavaScript uses these tables and nothing of its own Unicode data. PyTorch remains the only
definition of the model: tests/test_demo.py loads this JSON back into `SequenceClassifier`.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import platform
import sys
import unicodedata
from dataclasses import asdict
from functools import cache
from pathlib import Path

import numpy as np
import torch

from .checkpoints import load_checkpoint
from .config import NOTEBOOK_CHECKPOINT, ModelConfig
from .data import ALPHABET, fold_to_ascii
from .inference import MAX_NAME_LENGTH
from .rnn import SequenceClassifier

FORMAT = 1  # bump when the JSON's layout changes; the page refuses another
WEIGHTS = {  # JSON name -> state_dict key of a hand-core SequenceClassifier
    "W_xh": "core.cell.W_xh", "W_hh": "core.cell.W_hh", "b_h": "core.cell.b_h",
    "W_out": "h2o.weight", "b_out": "h2o.bias",
}
DEFAULT_CHECKPOINT = Path("models") / NOTEBOOK_CHECKPOINT
DEFAULT_OUT = Path("site") / "demo" / "model.json"
STRIPPED = " ,;"  # what `data.normalize_name` trims at both ends
LAST_CODE_POINT = 0x10FFFF


def _characters() -> list[str]:
    """Every Unicode code point that is a character (surrogates excluded)."""
    return [chr(c) for c in range(LAST_CODE_POINT + 1) if not 0xD800 <= c <= 0xDFFF]


@cache
def whitespace_set() -> list[int]:
    """The code points Python's str.split() splits on (the same set str.isspace() and str.strip() use)."""
    return [ord(c) for c in _characters() if c.isspace()]


@cache
def fold_table() -> dict[str, str]:
    """{code point: fold_to_ascii(character)} for every character whose folding reaches the model: it
    contains a letter of the alphabet, whitespace or a hyphen, or is empty. Characters left out fold, like
    themselves, to characters outside the alphabet, the only thing the page needs to know about them."""
    table = {}
    for c in _characters():
        folded = fold_to_ascii(c)
        if folded == c:
            continue
        if folded == "" or any(x in ALPHABET or x.isspace() or x == "-" for x in folded):
            table[str(ord(c))] = folded
        elif c in ALPHABET or c.isspace() or c == "-":  # no such character in Python 3.11's Unicode 14.0
            table[str(ord(c))] = folded
    return table


def _tensor_json(tensor: torch.Tensor) -> dict:
    """{"shape": [...], "float32": base64 of the values, little-endian, row-major}."""
    values = tensor.detach().to(torch.float32).contiguous().numpy().astype("<f4")
    return {"shape": list(values.shape), "float32": base64.b64encode(values.tobytes()).decode("ascii")}


def demo_json(checkpoint_path: str | Path) -> dict:
    """The demo's JSON for a hand-core checkpoint; ValueError for another core or a checkpoint without a prior."""
    path = Path(checkpoint_path)
    loaded = load_checkpoint(path)
    model = loaded.model
    state = model.state_dict()
    if model.config.core != "hand" or model.config.readout not in ("max", "last") or set(state) != set(WEIGHTS.values()):
        raise ValueError(f"the demo runs the hand-written RNN on one-hot letters with a max or last readout and no "
                         f"other part; {path.name} holds {model.config}")
    if loaded.class_prior is None:
        raise ValueError(f"{path.name} has no training prior (saved by an older version): the demo's "
                         "uniform-prior switch needs it")
    return {
        "format": FORMAT,
        "model": "rnn_tutorial.rnn.SequenceClassifier with the hand-written RNN core",
        "checkpoint": {
            "file": path.name,
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "config": asdict(model.config),
            "info": loaded.info,
        },
        "labels": list(model.labels),
        "alphabet": ALPHABET,
        "class_prior": [float(p) for p in loaded.class_prior.tolist()],
        "weights": {name: _tensor_json(state[key]) for name, key in WEIGHTS.items()},
        "cleanup": {
            "unicode_version": unicodedata.unidata_version,
            "python": platform.python_version(),
            "max_length": MAX_NAME_LENGTH,
            "hyphen": "-",
            "stripped": STRIPPED,
            "whitespace": list(whitespace_set()),
            "fold": dict(fold_table()),
        },
    }


def model_from_json(data: dict, dtype: torch.dtype = torch.float32) -> SequenceClassifier:
    """The package's `SequenceClassifier` with the weights of a demo JSON (in `dtype`), in eval mode."""
    model = SequenceClassifier(ModelConfig(**data["checkpoint"]["config"]), tuple(data["labels"]))
    state = {}
    for name, key in WEIGHTS.items():
        entry = data["weights"][name]
        values = np.frombuffer(base64.b64decode(entry["float32"]), dtype="<f4").reshape(entry["shape"])
        state[key] = torch.from_numpy(values.copy())
    model.load_state_dict(state)
    return model.to(dtype).eval()


def write_demo_json(checkpoint_path: str | Path, out: str | Path) -> Path:
    """Write `demo_json(checkpoint_path)` to `out` (sorted keys, one line per top-level entry)."""
    data = demo_json(checkpoint_path)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"{json.dumps(k)}: {json.dumps(data[k], sort_keys=True, ensure_ascii=True)}" for k in sorted(data)]
    out.write_text("{\n" + ",\n".join(lines) + "\n}\n", encoding="utf-8")
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m rnn_tutorial.export",
                                     description="Export a hand-written-RNN checkpoint to the live demo's JSON.")
    parser.add_argument("checkpoint", nargs="?", default=DEFAULT_CHECKPOINT,
                        help=f"a hand-written-RNN checkpoint (default: {DEFAULT_CHECKPOINT}, notebook 3's model)")
    parser.add_argument("-o", "--out", default=DEFAULT_OUT, help=f"the JSON file to write (default: {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    try:
        out = write_demo_json(args.checkpoint, args.out)
    except FileNotFoundError:
        sys.exit(f"{parser.prog}: there is no {args.checkpoint}: execute notebook 3 first (it saves its model "
                 f"to models/{NOTEBOOK_CHECKPOINT}), or name another checkpoint")
    except (OSError, ValueError) as e:
        sys.exit(f"{parser.prog}: {e}")
    print(f"wrote {out} ({out.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
