"""Benchmark: the article's per-name loop against batched training of the hand-written RNN and torch's RNN, GRU, LSTM.

`make bench` (or `.venv/bin/python benchmarks/bench.py [--quick]`) prints a markdown table of medians and
ratios and writes it to benchmarks/results.md (--quick: benchmarks/results/quick.md, not committed);
benchmarks/README.md says what is measured and how to read it.
Every measurement runs in its own subprocess, so peak RSS is per run; repeats are interleaved round by round.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
HIDDEN = 128
CORES = ("hand", "rnn", "gru", "lstm")
BATCHED = {core: (core, False) for core in CORES} | {"hand-buckets": ("hand", True), "rnn-buckets": ("rnn", True)}
CORE_NAMES = {"hand": "hand-written RNN (`RNNCell`)", "rnn": "`nn.RNN`", "gru": "`nn.GRU`", "lstm": "`nn.LSTM`"}
TARGETS = {"match_speedup": 50.0, "hand_vs_rnn": 1.25, "inference_speedup": 10.0}


# ---- children: one measurement each, result as one JSON line on stdout ------------------------

class Clock:
    """Wall and CPU seconds since start, minus the time spent in `pause(fn)` calls (evaluation)."""

    def __init__(self):
        self.start_wall, self.start_cpu, self.excluded_wall, self.excluded_cpu = time.perf_counter(), time.process_time(), 0.0, 0.0

    def now(self) -> tuple[float, float]:
        return (time.perf_counter() - self.start_wall - self.excluded_wall,
                time.process_time() - self.start_cpu - self.excluded_cpu)

    def pause(self, fn):
        wall, cpu = time.perf_counter(), time.process_time()
        out = fn()
        self.excluded_wall += time.perf_counter() - wall
        self.excluded_cpu += time.process_time() - cpu
        return out


def rss_mb() -> float:
    """Current resident set size (MB), from /proc/self/status."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (MB); ru_maxrss is in KB on Linux."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def scores_on(model, test_loader) -> tuple[float, float]:
    from rnn_tutorial.metrics import score
    from rnn_tutorial.training import predict_log_probs
    log_probs, targets = predict_log_probs(model, test_loader)
    s = score(log_probs, targets)
    return s.accuracy, s.macro_f1


def child_article(seed: int, iters: int) -> dict:
    """The article's loop: RNNDemo(57, 128, 18), per-name SGD lr 0.005, language sampled uniformly."""
    from rnn_tutorial.data import LANGUAGES, N_LETTERS, load_names, make_split
    from rnn_tutorial.metrics import score, targets_of
    from rnn_tutorial.rnn import RNNDemo
    from rnn_tutorial.training import article_log_probs, train_article
    from rnn_tutorial.utils import set_seed
    split = make_split(load_names(), seed=0)
    set_seed(seed)
    model = RNNDemo(N_LETTERS, HIDDEN, len(LANGUAGES))
    baseline = rss_mb()
    clock = Clock()
    train_article(model, split.train, n_iters=iters, lr=0.005, print_every=iters,
                  plot_every=min(1000, iters), seed=seed, uniform=True, log=lambda line: None)
    wall, cpu = clock.now()
    s = score(article_log_probs(model, split.test), targets_of(split.test))
    return {"wall": wall, "cpu": cpu, "accuracy": s.accuracy, "macro_f1": s.macro_f1,
            "baseline_rss": baseline, "peak_rss": peak_rss_mb()}


def child_batched(core: str, seed: int, epochs: int, batch_size: int, lr: float,
                  dense_epochs: int, check_every: int, sampling: str = "natural", buckets: bool = False) -> dict:
    """NameClassifier(128, core), Adam on the package's `train_loader` batches via `train_epoch`; test
    scores are taken every `check_every` batches for the first `dense_epochs` epochs, then after each
    epoch, with the clock paused."""
    import torch
    from rnn_tutorial.data import load_names, make_loader, make_split
    from rnn_tutorial.rnn import NameClassifier
    from rnn_tutorial.training import train_epoch, train_loader
    from rnn_tutorial.utils import set_seed
    split = make_split(load_names(), seed=0)
    g = set_seed(seed)
    model = NameClassifier(HIDDEN, core)
    loader = train_loader(split.train, batch_size, g, sampling, buckets)
    test_loader = make_loader(split.test, batch_size=512)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    baseline = rss_mb()
    clock, checks, epoch_wall, epoch_cpu = Clock(), [], [], []

    def check(epoch: float):
        def evaluate():
            acc, f1 = scores_on(model, test_loader)
            model.train()  # predict_log_probs switched to eval mode; train_epoch will not switch back
            return acc, f1
        acc, f1 = clock.pause(evaluate)
        wall, cpu = clock.now()
        checks.append({"epoch": epoch, "wall": wall, "cpu": cpu, "accuracy": acc, "macro_f1": f1})

    def batches(epoch: int):
        n = len(loader)
        for i, batch in enumerate(loader):
            if epoch <= dense_epochs and i > 0 and i % check_every == 0:
                check(epoch - 1 + i / n)  # batch i-1 is done: train_epoch asked for the next one
            yield batch

    for epoch in range(1, epochs + 1):
        wall0, cpu0 = clock.now()
        train_epoch(model, batches(epoch), optimizer)
        wall1, cpu1 = clock.now()
        epoch_wall.append(wall1 - wall0)
        epoch_cpu.append(cpu1 - cpu0)
        check(float(epoch))
    return {"epoch_wall": epoch_wall, "epoch_cpu": epoch_cpu, "checks": checks,
            "baseline_rss": baseline, "peak_rss": peak_rss_mb()}


def child_inference(seed: int, inner: int) -> dict:
    """Names per second for the hand-written NameClassifier (untrained: speed does not depend on the
    weights): `predict` one name at a time vs `predict_many` over the test split, both from strings to top-3."""
    from rnn_tutorial.data import load_names, make_split
    from rnn_tutorial.inference import predict, predict_many
    from rnn_tutorial.rnn import NameClassifier
    from rnn_tutorial.utils import set_seed
    split = make_split(load_names(), seed=0)
    set_seed(seed)
    model = NameClassifier(HIDDEN, "hand").eval()
    names = [name for name, _ in split.test]
    baseline = rss_mb()

    def one_at_a_time():
        for name in names:
            predict(model, name)

    def batched():  # one padded batch of the whole split
        predict_many(model, names, k=3, batch_size=len(names))

    def sorted_batches(size: int = 256):  # predict_many's default: batches of similar length
        predict_many(model, names, k=3, batch_size=size)

    out = {"n_names": len(names)}
    for key, fn in (("one", one_at_a_time), ("batched", batched), ("sorted", sorted_batches)):
        fn()  # warm-up
        walls, cpus = [], []
        for _ in range(inner):
            wall, cpu = time.perf_counter(), time.process_time()
            fn()
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
        out[f"{key}_wall"], out[f"{key}_cpu"] = statistics.median(walls), statistics.median(cpus)
    out.update(baseline_rss=baseline, peak_rss=peak_rss_mb())
    return out


def run_child(spec: dict) -> dict:
    import torch
    torch.set_num_threads(1)  # set_seed pins it too; inference has no training seed to hide behind
    kind = spec.pop("kind")
    result = {"article": child_article, "batched": child_batched, "inference": child_inference}[kind](**spec)
    result["threads"] = torch.get_num_threads()
    return result


# ---- parent: schedule rounds, collect, summarize ----------------------------------------------

def spawn(spec: dict) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    mirror = HERE.parent.parent / "shared" / "data" / "data.zip"  # the tests' offline copy, if there is one
    if "RNN_TUTORIAL_DATA_URL" not in env and mirror.is_file():
        env["RNN_TUTORIAL_DATA_URL"] = mirror.as_uri()
    proc = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)], env=env,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark child {spec} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def machine() -> dict:
    import torch
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {"cpu": cpu, "cores": os.cpu_count(), "usable_cores": len(os.sched_getaffinity(0)),
            "torch": torch.__version__, "python": platform.python_version(), "load": os.getloadavg()}


def med(values) -> float:
    return statistics.median(values)


def first_match(checks: list[dict], accuracy: float, macro_f1: float) -> dict | None:
    """The first test check at or above both targets."""
    return next((c for c in checks if c["accuracy"] >= accuracy and c["macro_f1"] >= macro_f1), None)


def rss(rs: list[dict]) -> str:
    """Median peak RSS and, in brackets, the RSS before the measured work started."""
    return f"{med([r['peak_rss'] for r in rs]):.0f} ({med([r['baseline_rss'] for r in rs]):.0f} at start)"


def fmt(x: float, digits: int = 2) -> str:
    return "n/a" if x is None or x != x else f"{x:.{digits}f}"


def spread(values, digits: int = 2) -> str:
    return f"{min(values):.{digits}f}-{max(values):.{digits}f}" if len(values) > 1 else "one run"


def summarize(args, runs: dict, before: dict, after: dict, minutes: float) -> str:
    art = runs["article"]
    target_acc, target_f1 = med([r["accuracy"] for r in art]), med([r["macro_f1"] for r in art])
    art_wall, art_cpu = med([r["wall"] for r in art]), med([r["cpu"] for r in art])
    lines = []
    mode = "QUICK MODE (fewer iterations and epochs: not comparable with the targets)" if args.quick else "full run"
    lines += [f"# Benchmark results ({mode})", "",
              f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC by `benchmarks/bench.py` in {minutes:.1f} min. "
              f"Machine: {before['cpu']}, {before['cores']} cores ({before['usable_cores']} usable), "
              f"Python {before['python']}, torch {before['torch']}, **1 thread** per run "
              f"(`torch.set_num_threads(1)`, `OMP_NUM_THREADS=1`).",
              f"Load average (1/5/15 min) at start {'/'.join(f'{x:.1f}' for x in before['load'])}, "
              f"at end {'/'.join(f'{x:.1f}' for x in after['load'])}"
              + (" (the machine was shared with other jobs: timings are noisy, ratios from the same run are "
                 "what to read; CPU time counts only this process's own time)." if max(before["load"] + after["load"]) > 1.2
                 else "."), "",
              f"Split: `make_split(load_names(), seed=0)` (leakage-free), test = {runs['inference'][0]['n_names']} names. "
              f"{args.repeats} interleaved round(s), seeds 0..{args.repeats - 1}; every figure is a median over rounds "
              "(range over rounds in brackets). Evaluation time is excluded from every clock. "
              "Peak RSS is `ru_maxrss` of the run's own process; in brackets, its RSS once Python, torch, the data "
              "and the model were loaded, before the measured work.", ""]

    # training table
    lines += ["## Training", "",
              "| run | time per epoch, wall s | per epoch, CPU s | time to the result, wall s | CPU s | test accuracy | test macro-F1 | peak RSS MB |",
              "|---|---|---|---|---|---|---|---|"]
    lines.append(f"| article's loop, {args.iters:,} iterations (RNNDemo, SGD lr 0.005, one name per step) | | | "
                 f"{fmt(art_wall)} ({spread([r['wall'] for r in art])}) | {fmt(art_cpu)} | "
                 f"{fmt(target_acc, 3)} | {fmt(target_f1, 3)} | {rss(art)} |")
    epoch, match = {}, {}
    for key, (core, buckets) in BATCHED.items():
        rs = runs[key]
        per_run_wall = [med(r["epoch_wall"]) for r in rs]
        per_run_cpu = [med(r["epoch_cpu"]) for r in rs]
        epoch[key] = (med(per_run_wall), med(per_run_cpu))
        best = [max(r["checks"], key=lambda c: c["accuracy"]) for r in rs]
        result = (f"best of {args.epochs} epochs: accuracy {fmt(med([b['accuracy'] for b in best]), 3)}"
                  f" / macro-F1 {fmt(med([b['macro_f1'] for b in best]), 3)}")
        batching = f"batch {args.batch_size}, {args.sampling} sampling" + (", length buckets" if buckets else "")
        lines.append(f"| {CORE_NAMES[core]}, {batching}, Adam lr {args.lr:g} | "
                     f"{fmt(epoch[key][0])} ({spread(per_run_wall)}) | {fmt(epoch[key][1])} | | | "
                     f"{result} | | {rss(rs)} |")
        if core == "hand":
            hits = [first_match(r["checks"], target_acc, target_f1) for r in rs]
            reached = [h for h in hits if h is not None]
            if len(reached) * 2 > len(hits):  # the median exists only if most rounds reached it
                pad = [float("inf")] * (len(hits) - len(reached))
                match[key] = {"wall": med([h["wall"] for h in reached] + pad), "cpu": med([h["cpu"] for h in reached] + pad),
                         "epoch": med([h["epoch"] for h in reached] + pad),
                         "accuracy": med([h["accuracy"] for h in reached]), "macro_f1": med([h["macro_f1"] for h in reached]),
                         "range": spread([h["wall"] for h in reached])}
                m = match[key]
                lines.append(f"| the same: until it first matches the article's loop on both test accuracy "
                             f"and macro-F1 ({len(reached)}/{len(hits)} rounds) | | | {fmt(m['wall'])} ({m['range']}) | "
                             f"{fmt(m['cpu'])} | {fmt(m['accuracy'], 3)} | {fmt(m['macro_f1'], 3)} "
                             f"(after {fmt(m['epoch'])} epochs) | |")
            else:
                lines.append(f"| the same: did not match the article's loop within {args.epochs} epochs "
                             f"in most rounds ({len(reached)}/{len(hits)}) | | | n/a | | | | |")

    # inference table
    inf = runs["inference"]
    one_rate = med([r["n_names"] / r["one_wall"] for r in inf])
    batch_rate = med([r["n_names"] / r["batched_wall"] for r in inf])
    one_rate_cpu = med([r["n_names"] / r["one_cpu"] for r in inf])
    batch_rate_cpu = med([r["n_names"] / r["batched_cpu"] for r in inf])
    sorted_rate = med([r["n_names"] / r["sorted_wall"] for r in inf])
    sorted_rate_cpu = med([r["n_names"] / r["sorted_cpu"] for r in inf])
    lines += ["", "## Inference (hand-written `NameClassifier`, from strings to top-3)", "",
              "| mode | names per second, wall | names per second, CPU | peak RSS MB |", "|---|---|---|---|",
              f"| one at a time (`inference.predict` per name) | {one_rate:,.0f} | {one_rate_cpu:,.0f} | "
              f"{rss(inf)}, all three modes |",
              f"| `predict_many`, the whole test split as one padded batch | {batch_rate:,.0f} | {batch_rate_cpu:,.0f} | |",
              f"| `predict_many`, length-sorted batches of 256 (its default) | {sorted_rate:,.0f} | {sorted_rate_cpu:,.0f} | |"]

    # ratios
    inf_ratio = batch_rate / one_rate
    ok = lambda good: "met" if good else "**not met**"  # noqa: E731
    lines += ["", "## Ratios and targets", "",
              "| ratio | wall | CPU | target | |", "|---|---|---|---|---|"]
    for key, label in (("hand", "random batches"), ("hand-buckets", "length buckets")):
        m = match.get(key, {"wall": float("nan"), "cpu": float("nan")})
        speedup, speedup_cpu = art_wall / m["wall"], art_cpu / m["cpu"]
        lines.append(f"| article's loop time / batched hand-written RNN's time to match it ({label}) | {fmt(speedup, 1)}x | "
                     f"{fmt(speedup_cpu, 1)}x | >= {TARGETS['match_speedup']:g}x | {ok(speedup >= TARGETS['match_speedup'])} |")
    for key, label in (("hand", "random batches"), ("hand-buckets", "length buckets")):
        rnn_key = key.replace("hand", "rnn")
        hand_rnn, hand_rnn_cpu = epoch[key][0] / epoch[rnn_key][0], epoch[key][1] / epoch[rnn_key][1]
        lines.append(f"| hand-written RNN / `nn.RNN`, time per epoch ({label}) | {fmt(hand_rnn)}x | {fmt(hand_rnn_cpu)}x | "
                     f"<= {TARGETS['hand_vs_rnn']:g}x | {ok(hand_rnn <= TARGETS['hand_vs_rnn'])} |")
    lines += [f"| batched / one-at-a-time inference rate | {fmt(inf_ratio, 1)}x | {fmt(batch_rate_cpu / one_rate_cpu, 1)}x | "
              f">= {TARGETS['inference_speedup']:g}x | {ok(inf_ratio >= TARGETS['inference_speedup'])} |",
              f"| length-sorted batches / one-at-a-time inference rate | {fmt(sorted_rate / one_rate, 1)}x | "
              f"{fmt(sorted_rate_cpu / one_rate_cpu, 1)}x | >= {TARGETS['inference_speedup']:g}x | "
              f"{ok(sorted_rate / one_rate >= TARGETS['inference_speedup'])} |"]
    for core in ("gru", "lstm"):
        lines.append(f"| {CORE_NAMES[core]} / `nn.RNN`, time per epoch | {fmt(epoch[core][0] / epoch['rnn'][0])}x | "
                     f"{fmt(epoch[core][1] / epoch['rnn'][1])}x | | |")
    if args.quick:
        lines += ["", f"Quick mode: {args.iters:,} iterations of the article's loop instead of 100,000 and "
                      f"{args.epochs} epochs; the targets refer to the full run."]
    return "\n".join(lines) + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="5,000 article iterations, 2 epochs, 1 round")
    p.add_argument("--repeats", type=int, help="interleaved rounds (default 3, quick 1)")
    p.add_argument("--iters", type=int, help="iterations of the article's loop (default 100,000, quick 5,000)")
    p.add_argument("--epochs", type=int, help="epochs of each batched run (default 8, quick 2)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=3e-3, help="Adam's learning rate for the batched runs")
    p.add_argument("--sampling", choices=("natural", "uniform"), default="natural",
                   help="batched runs: every name once an epoch (`fit`'s default) or languages equally often (the article's)")
    p.add_argument("--out", type=Path, help="where to write the table (default benchmarks/results.md)")
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(run_child(json.loads(args.child))))
        return
    args.repeats = args.repeats or (1 if args.quick else 3)
    args.iters = args.iters or (5_000 if args.quick else 100_000)
    args.epochs = args.epochs or (2 if args.quick else 8)
    out = args.out or (HERE / "results" / "quick.md" if args.quick else HERE / "results.md")
    before, start = machine(), time.perf_counter()
    runs = {k: [] for k in ("article", *BATCHED, "inference")}
    batched = dict(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, dense_epochs=4, check_every=10,
                   sampling=args.sampling)
    for r in range(args.repeats):
        schedule = [("article", {"kind": "article", "seed": r, "iters": args.iters})]
        schedule += [(key, {"kind": "batched", "core": core, "buckets": buckets, "seed": r, **batched})
                     for key, (core, buckets) in BATCHED.items()]
        schedule += [("inference", {"kind": "inference", "seed": r, "inner": 3})]
        for key, spec in schedule:
            t = time.perf_counter()
            runs[key].append(spawn(spec))
            print(f"round {r + 1}/{args.repeats}  {key:12s} {time.perf_counter() - t:6.1f} s", file=sys.stderr)
    table = summarize(args, runs, before, machine(), (time.perf_counter() - start) / 60)
    print(table)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(table)
    raw = HERE / "results" / f"{out.stem}.json"  # every run's figures, for a closer look (not committed)
    raw.parent.mkdir(parents=True, exist_ok=True)
    raw.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "machine": before, "runs": runs}))
    print(f"written to {out} (raw figures: {raw})", file=sys.stderr)


if __name__ == "__main__":
    main()
