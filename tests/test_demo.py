"""The live demo (site/demo/): its JSON is the package's model, and its JavaScript computes what PyTorch computes.

The JavaScript runs under Node (tests/demo_node.mjs, one process per check, JSON in and out); without Node
these checks are skipped. The browser check of the page itself is tests/browser/demo.mjs.
"""
from __future__ import annotations

import hashlib
import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest
import torch

from rnn_tutorial.checkpoints import save_checkpoint
from rnn_tutorial.config import NOTEBOOK_CHECKPOINT, SIMPLE_MODEL, ModelConfig
from rnn_tutorial.data import ALPHABET, LANGUAGES, read_lines
from rnn_tutorial.export import WEIGHTS, demo_json, model_from_json, write_demo_json
from rnn_tutorial.inference import MAX_NAME_LENGTH, adjust_logits, encode_name, predict
from rnn_tutorial.rnn import SequenceClassifier

ROOT = Path(__file__).resolve().parent.parent
DEMO_JSON = ROOT / "site" / "demo" / "model.json"
NODE_SCRIPT = ROOT / "tests" / "demo_node.mjs"
NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="Node.js is not installed: the demo's JavaScript is not checked")
RANDOM_STRINGS = 25_000


def run_js(names: list[str], forward: bool = False, model: Path = DEMO_JSON) -> list[dict]:
    """The demo's JavaScript on `names`: cleaned letters or error, and (forward) log-probs after every letter."""
    request = {"model": str(model), "names": names, "forward": forward, "taus": [0, 1]}
    done = subprocess.run([NODE, str(NODE_SCRIPT)], input=json.dumps(request), capture_output=True, text=True,
                          encoding="utf-8", timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def python_cleanup(name: str) -> tuple[str | None, str | None]:
    """(letters the model reads, None) or (None, why the name is refused), by the package's `encode_name`."""
    try:
        return "".join(ALPHABET[i] for i in encode_name(name)), None
    except ValueError:
        # encode_name checks in this order: the length cap, an empty name, a name with no letter
        return None, "long" if len(name) > MAX_NAME_LENGTH else "empty" if not name.strip() else "noletters"


@pytest.fixture(scope="module")
def exported() -> dict:
    return json.loads(DEMO_JSON.read_text(encoding="utf-8"))


# ---- the JSON -------------------------------------------------------------------------------

def test_committed_json_is_notebook_3s_single_model(exported):
    assert exported["labels"] == list(LANGUAGES) and exported["alphabet"] == ALPHABET
    assert exported["checkpoint"]["file"] == NOTEBOOK_CHECKPOINT  # `make demo` exports notebook 3's file
    assert ModelConfig(**exported["checkpoint"]["config"]) == SIMPLE_MODEL  # hidden 128, hand-written RNN, max readout
    assert len(exported["checkpoint"]["sha256"]) == 64
    prior = torch.tensor(exported["class_prior"])
    assert prior.shape == (len(LANGUAGES),) and bool((prior > 0).all()) and abs(prior.sum().item() - 1) < 1e-4
    assert DEMO_JSON.stat().st_size < 200_000


def test_committed_json_is_the_export_of_its_checkpoint_when_that_file_is_here(exported):
    checkpoint = ROOT / "models" / exported["checkpoint"]["file"]
    if not checkpoint.is_file() or hashlib.sha256(checkpoint.read_bytes()).hexdigest() != exported["checkpoint"]["sha256"]:
        pytest.skip(f"models/{checkpoint.name} is absent or from another training: `make demo` would export it anew")
    fresh = demo_json(checkpoint)
    assert {k: v for k, v in fresh.items() if k != "cleanup"} == {k: v for k, v in exported.items() if k != "cleanup"}


def test_export_round_trips_the_checkpoint_exactly(tmp_path):
    torch.manual_seed(1)
    model = SequenceClassifier(ModelConfig(hidden_size=16))
    prior = torch.full((len(LANGUAGES),), 1 / len(LANGUAGES))
    path = save_checkpoint(model, tmp_path / "small.pt", class_prior=prior, note="test")
    out = write_demo_json(path, tmp_path / "small.json")
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["checkpoint"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert data["checkpoint"]["info"] == {"note": "test"} and data["class_prior"] == prior.tolist()
    back = model_from_json(data).state_dict()
    assert all(torch.equal(back[key], model.state_dict()[key]) for key in WEIGHTS.values())
    assert write_demo_json(path, tmp_path / "again.json").read_bytes() == out.read_bytes()  # no timestamps


def test_export_refuses_a_model_the_page_cannot_run(tmp_path):
    gru = save_checkpoint(SequenceClassifier(ModelConfig(hidden_size=8, core="gru")), tmp_path / "gru.pt",
                          class_prior=torch.full((len(LANGUAGES),), 1 / len(LANGUAGES)))
    with pytest.raises(ValueError, match="hand-written"):
        demo_json(gru)
    both_readouts = save_checkpoint(SequenceClassifier(ModelConfig(hidden_size=8, readout="max+last")),
                                    tmp_path / "both.pt", class_prior=torch.full((len(LANGUAGES),), 1 / len(LANGUAGES)))
    with pytest.raises(ValueError, match="hand-written"):
        demo_json(both_readouts)
    no_prior = save_checkpoint(SequenceClassifier(ModelConfig(hidden_size=8)), tmp_path / "old.pt")
    with pytest.raises(ValueError, match="prior"):
        demo_json(no_prior)


# ---- the forward pass -------------------------------------------------------------------------

def pytorch_prefix_probs(model: SequenceClassifier, indices: list[list[int]], prior: torch.Tensor,
                         tau: float) -> list[torch.Tensor]:
    """For each name, (letters, labels) probabilities of every prefix read as a whole name, as `predict`
    computes them (log-probs, then `adjust_logits` unless tau is 0), all prefixes in one padded batch."""
    prefixes = [name[:k] for name in indices for k in range(1, len(name) + 1)]
    lengths = torch.tensor([len(p) for p in prefixes])
    x = torch.zeros(len(prefixes), int(lengths.max()), dtype=torch.long)
    for row, p in enumerate(prefixes):
        x[row, :len(p)] = torch.tensor(p)
    with torch.no_grad():
        log_probs = model(x, lengths)
        if tau:
            log_probs = adjust_logits(log_probs, prior.to(log_probs.dtype), tau)
    return list(log_probs.exp().split([len(name) for name in indices]))


@needs_node
def test_javascript_equals_pytorch_on_every_prefix_of_every_test_name(exported, split):
    names = sorted({name for name, _ in split.test})
    js = run_js(names, forward=True)
    indices = [encode_name(name) for name in names]
    assert [r["letters"] for r in js] == ["".join(ALPHABET[i] for i in ix) for ix in indices]
    prior = torch.tensor(exported["class_prior"], dtype=torch.float64)
    worst = {}
    for dtype in (torch.float32, torch.float64):
        model = model_from_json(exported, dtype)
        for tau in (0, 1):
            torch_probs = pytorch_prefix_probs(model, indices, prior, tau)
            js_probs = [torch.tensor(r["logProbs"][str(tau)], dtype=torch.float64).exp() for r in js]
            worst[dtype, tau] = max((t.double() - j).abs().max().item() for t, j in zip(torch_probs, js_probs))
    print(f"{len(names)} test names, {sum(map(len, indices))} prefixes; largest probability differences:",
          {f"{dtype} tau={tau}": f"{w:.2e}" for (dtype, tau), w in worst.items()})
    assert worst[torch.float32, 0] < 1e-5 and worst[torch.float32, 1] < 1e-5
    assert worst[torch.float64, 0] < 1e-9 and worst[torch.float64, 1] < 1e-9


@needs_node
def test_javascript_top_three_equals_predict(exported):
    model = model_from_json(exported)
    prior = torch.tensor(exported["class_prior"])
    names = ["Kowalski", "Nguyen", "O'Neill", "Müller-Lüdenscheidt", "Żółć", "K", "Abcdefghijklmnopqrst"]
    js = run_js(names, forward=True)
    for name, result in zip(names, js):
        for tau in (0, 1):
            expected = predict(model, name, k=3, prior=prior, tau=tau)
            probs = torch.tensor(result["logProbs"][str(tau)][-1], dtype=torch.float64).exp()
            top = probs.topk(3)
            got = [(LANGUAGES[i], p) for p, i in zip(top.values.tolist(), top.indices.tolist())]
            assert [label for label, _ in got] == [label for label, _ in expected], (name, tau)
            assert max(abs(p - q) for (_, p), (_, q) in zip(got, expected)) < 1e-5


# ---- the name clean-up --------------------------------------------------------------------------

def random_strings(n: int, seed: int = 0) -> list[str]:
    """Seeded random strings mixing what a user might type with what Unicode holds: accents precomposed and
    combining, hyphens, apostrophes, every Python and JavaScript whitespace, CJK, Hangul, fullwidth letters,
    singletons such as the Kelvin sign, emoji, and code points drawn from all of Unicode."""
    rng = random.Random(seed)
    whitespace = [chr(c) for c in range(0x3001) if chr(c).isspace()] + ["\u200b", "\ufeff", "\u180e", "\u2060"]
    pools = [
        ALPHABET, "-'’ʼ`´.,;:!?0123456789/()_", "".join(whitespace),
        "".join(map(chr, range(0xC0, 0x250))),  # Latin-1 and Latin Extended letters: é, ß, ø, ł, đ, ı, þ, ...
        "".join(map(chr, range(0x300, 0x370))) + "\u1ab0\u1dc0\u20d0\u0483\u0591\u093c\u3099",  # combining marks
        "".join(map(chr, range(0x370, 0x530))),  # Greek, Cyrillic
        "".join(map(chr, range(0x1E00, 0x1F00))) + "\u212a\u212b\u2126\u2000\u2001",  # Vietnamese letters, singletons
        "".join(map(chr, range(0x4E00, 0x4F00))) + "".join(map(chr, range(0xAC00, 0xAD00))),  # CJK, Hangul
        "".join(map(chr, range(0xFF01, 0xFF5F))) + "ﬁﬂǅǈǋ",  # fullwidth forms, ligatures, titlecase digraphs
        "😀👍🏽🇵🇱\U0001D400\U0001D49C",  # emoji, mathematical letters (astral)
    ]
    strings = []
    for i in range(n):
        length = rng.choice([0, 1, 2, 3, 5, 8, 12, 20, 40]) if i % 50 else rng.randint(95, 110)
        chars = []
        for _ in range(length):
            if rng.random() < 0.05:
                code = rng.randrange(0x110000)
                chars.append(chr(code if not 0xD800 <= code <= 0xDFFF else 0xFFFD))
            else:
                chars.append(rng.choice(rng.choice(pools)))
        strings.append("".join(chars))
    return strings


@needs_node
def test_javascript_cleanup_equals_python_on_data_lines_and_random_strings():
    lines = [line for lines in read_lines().values() for line in lines]
    strings = random_strings(RANDOM_STRINGS)
    inputs = lines + strings
    js = run_js(inputs)
    expected = [python_cleanup(s) for s in inputs]
    differ = [(s, e, (r["letters"], r["error"])) for s, e, r in zip(inputs, expected, js)
              if e != (r["letters"], r["error"])]
    print(f"{len(lines)} data lines, {len(strings)} random strings, {len(differ)} differences")
    assert not differ, differ[:5]
    kinds = [e[1] for e in expected[len(lines):]]
    assert {"long", "empty", "noletters", None} <= set(kinds)  # every branch was exercised
    assert any(letters != s for s, (letters, _) in zip(lines, expected[:len(lines)]))  # some lines were folded


@needs_node
def test_the_cleanup_check_sees_a_javascript_without_pythons_tables(exported, tmp_path):
    # JavaScript's own idea of whitespace (no U+001C..U+001F, U+0085) and no folding table: must be caught
    js_whitespace = [c for c in exported["cleanup"]["whitespace"] if c not in (0x1C, 0x1D, 0x1E, 0x1F, 0x85)]
    crippled = dict(exported, cleanup=dict(exported["cleanup"], whitespace=js_whitespace + [0xFEFF], fold={}))
    path = tmp_path / "model.json"
    path.write_text(json.dumps(crippled), encoding="utf-8")
    strings = random_strings(5_000, seed=1)
    js = run_js(strings, model=path)
    differ = sum(python_cleanup(s) != (r["letters"], r["error"]) for s, r in zip(strings, js))
    print(f"without Python's tables: {differ} of {len(strings)} random strings differ")
    assert differ > 100
