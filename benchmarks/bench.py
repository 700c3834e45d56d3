"""Benchmark: the article's per-name loop against batched training of the hand-written RNN and torch's RNN, GRU, LSTM.

`make bench` (or `.venv/bin/python benchmarks/bench.py [--quick]`) prints a markdown table of medians and
ratios and writes it to benchmarks/results.md (--quick: benchmarks/results/quick.md, not committed);
benchmarks/README.md says what is measured and how to read it.
Every measurement (measure.py) runs in its own subprocess, so peak RSS is per run; repeats are interleaved
round by round; report.py turns the results into the table.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import measure
import report
from rnn_tutorial.config import ARTICLE_ITERS, SAMPLINGS, SIMPLE_RECIPE

HERE = Path(__file__).resolve().parent
# (full run, --quick): interleaved rounds, iterations of the article's loop, epochs of each batched run
DEFAULTS = {"repeats": (3, 1), "iters": (ARTICLE_ITERS, 5_000), "epochs": (8, 2), "tutorial_epochs": (2, 1)}
DENSE_EPOCHS, CHECK_EVERY = 4, 10  # test scores every 10 batches over the first 4 epochs, then once an epoch
INFERENCE_REPEATS = 3  # timed passes over the test split per inference mode (median)


def spawn(spec: dict) -> dict:
    """`measure.run(spec)` in a fresh process with one thread; its result dict."""
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")  # the data URL, if set, is inherited
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


def round_schedule(args, seed: int) -> list[tuple[str, dict]]:
    """One round: the article's loop, every batched run (measure.BATCHED), inference; all with `seed`."""
    batched = dict(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, dense_epochs=DENSE_EPOCHS,
                   check_every=CHECK_EVERY, sampling=args.sampling)
    return ([("article", {"kind": "article", "seed": seed, "iters": args.iters})]
            + [(key, {"kind": "batched", "core": core, "buckets": buckets, "seed": seed, **batched})
               for key, (core, buckets) in measure.BATCHED.items()]
            + [("inference", {"kind": "inference", "seed": seed, "inner": INFERENCE_REPEATS})]
            + [("tutorial", {"kind": "tutorial", "seed": seed, "epochs": args.tutorial_epochs}),
               ("ngram", {"kind": "ngram", "seed": seed}),
               ("final", {"kind": "final", "seed": seed, "epochs": args.epochs if args.quick else None})])


def run_rounds(args) -> dict:
    """Round r runs everything with seed r; -> {key: [result of round 0, round 1, ...]}."""
    runs = {key: [] for key in ("article", *measure.BATCHED, "inference", "tutorial", "ngram", "final")}
    for r in range(args.repeats):
        for key, spec in round_schedule(args, r):
            t = time.perf_counter()
            runs[key].append(spawn(spec))
            print(f"round {r + 1}/{args.repeats}  {key:12s} {time.perf_counter() - t:6.1f} s", file=sys.stderr)
    return runs


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="5,000 article iterations, 2 epochs, 1 round")
    p.add_argument("--repeats", type=int, help="interleaved rounds (default 3, quick 1)")
    p.add_argument("--iters", type=int, help="iterations of the article's loop (default 100,000, quick 5,000)")
    p.add_argument("--epochs", type=int, help="epochs of each batched run (default 8, quick 2)")
    p.add_argument("--tutorial-epochs", type=int,
                   help="epochs of the official tutorial's recipe timed (its 55 are extrapolated; default 2, quick 1)")
    p.add_argument("--batch-size", type=int, default=SIMPLE_RECIPE.batch_size)
    p.add_argument("--lr", type=float, default=SIMPLE_RECIPE.lr, help="Adam's learning rate for the batched runs")
    p.add_argument("--sampling", choices=SAMPLINGS, default=SIMPLE_RECIPE.sampling,
                   help="batched runs: every name once an epoch (`fit`'s default) or languages equally often (the article's)")
    p.add_argument("--out", type=Path, help="where to write the table (default benchmarks/results.md)")
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    for name, (full, quick) in DEFAULTS.items():
        setattr(args, name, getattr(args, name) or (quick if args.quick else full))
    return args


def write(args, table: str, runs: dict, before: dict) -> None:
    """The table to --out (default results.md, or results/quick.md), every run's figures to results/*.json."""
    out = args.out or (HERE / "results" / "quick.md" if args.quick else HERE / "results.md")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(table)
    raw = HERE / "results" / f"{out.stem}.json"  # every run's figures, for a closer look (not committed)
    raw.parent.mkdir(parents=True, exist_ok=True)
    raw.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "machine": before, "runs": runs}))
    print(f"written to {out} (raw figures: {raw})", file=sys.stderr)


def main(argv=None):
    args = parse_args(argv)
    if args.child:
        print(json.dumps(measure.run(json.loads(args.child))))
        return
    before, start = machine(), time.perf_counter()
    runs = run_rounds(args)
    table = report.render(args, report.summarize(runs), before, machine(), (time.perf_counter() - start) / 60)
    print(table)
    write(args, table, runs, before)


if __name__ == "__main__":
    main()
