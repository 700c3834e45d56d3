"""How the benchmark reports: `summarize(runs)` turns the measurements into the summary numbers (medians
over rounds, time to match the article's loop, rates, ratios), `render(...)` writes them as markdown.

`runs` maps a measurement's key ("article", the keys of `measure.BATCHED`, "inference") to one result
dict per round, as `measure.run` returned them.
"""
from __future__ import annotations

import statistics
from datetime import datetime, timezone

from measure import BATCHED, INFERENCE_MODES, TUTORIAL_EPOCHS
from rnn_tutorial.config import ARTICLE_ITERS, ARTICLE_LR, SPLIT_SEED

CORE_NAMES = {"hand": "hand-written RNN (`RNNCell`)", "rnn": "`nn.RNN`", "gru": "`nn.GRU`", "lstm": "`nn.LSTM`"}
TARGETS = {"match_speedup": 50.0, "hand_vs_rnn": 1.25, "inference_speedup": 10.0, "final_vs_tutorial": 0.10}
HAND_RUNS = {"hand": "random batches", "hand-buckets": "length buckets"}  # the runs timed to the article's result
NAN = float("nan")


# ---- computing ---------------------------------------------------------------------------------

def med(values) -> float:
    return statistics.median(values)


def rss_of(rs: list[dict]) -> tuple[float, float]:
    """Median peak RSS and median RSS before the measured work started (MB)."""
    return med([r["peak_rss"] for r in rs]), med([r["baseline_rss"] for r in rs])


def article_summary(rs: list[dict]) -> dict:
    """The article's loop: its time and the test scores that the batched runs have to match."""
    walls = [r["wall"] for r in rs]
    return {"accuracy": med([r["accuracy"] for r in rs]), "macro_f1": med([r["macro_f1"] for r in rs]),
            "wall": med(walls), "cpu": med([r["cpu"] for r in rs]), "walls": walls, "rss": rss_of(rs)}


def batched_summary(rs: list[dict]) -> dict:
    """A batched run: time per epoch (median of each round's median epoch) and its best test check."""
    walls = [med(r["epoch_wall"]) for r in rs]
    best = [max(r["checks"], key=lambda c: c["accuracy"]) for r in rs]
    return {"wall": med(walls), "cpu": med([med(r["epoch_cpu"]) for r in rs]), "walls": walls,
            "accuracy": med([b["accuracy"] for b in best]), "macro_f1": med([b["macro_f1"] for b in best]),
            "rss": rss_of(rs)}


def first_match(checks: list[dict], accuracy: float, macro_f1: float) -> dict | None:
    """The first test check at or above both targets."""
    return next((c for c in checks if c["accuracy"] >= accuracy and c["macro_f1"] >= macro_f1), None)


def match_summary(rs: list[dict], target: dict) -> dict:
    """Time until a batched run first matches `target`'s accuracy and macro-F1. The medians exist only if
    most rounds matched (a round that never did counts as infinitely slow); otherwise wall and cpu are NaN."""
    hits = [first_match(r["checks"], target["accuracy"], target["macro_f1"]) for r in rs]
    reached = [h for h in hits if h is not None]
    out = {"reached": len(reached), "rounds": len(hits), "wall": NAN, "cpu": NAN}
    if len(reached) * 2 <= len(hits):
        return out
    pad = [float("inf")] * (len(hits) - len(reached))
    out.update({key: med([h[key] for h in reached] + pad) for key in ("wall", "cpu", "epoch")})
    out.update({key: med([h[key] for h in reached]) for key in ("accuracy", "macro_f1")})
    out["walls"] = [h["wall"] for h in reached]
    return out


def inference_summary(rs: list[dict]) -> dict:
    """Names per second of each mode, wall and CPU ("one_wall", "one_cpu", ...)."""
    rates = {f"{mode}_{clock}": med([r["n_names"] / r[f"{mode}_{clock}"] for r in rs])
             for mode in INFERENCE_MODES for clock in ("wall", "cpu")}
    return rates | {"n_names": rs[0]["n_names"], "sorted_batch_size": rs[0]["sorted_batch_size"], "rss": rss_of(rs)}


def ratio(label: str, wall: float, cpu: float, digits: int, target: tuple[str, float] | None = None) -> dict:
    """A row of the ratios table; `target` is (">=" or "<=", value), checked on the wall ratio."""
    met = None if target is None else (wall >= target[1] if target[0] == ">=" else wall <= target[1])
    return {"label": label, "wall": wall, "cpu": cpu, "digits": digits, "target": target, "met": met}


def ratios(s: dict) -> list[dict]:
    """The ratios table from the other summaries: speed-ups against the article's loop and one-at-a-time
    inference, the hand-written core against `nn.RNN`, GRU and LSTM against `nn.RNN`."""
    art, match, epoch, inf = s["article"], s["match"], s["batched"], s["inference"]
    rows = [ratio(f"article's loop time / batched hand-written RNN's time to match it ({label})",
                  art["wall"] / match[key]["wall"], art["cpu"] / match[key]["cpu"], 1,
                  (">=", TARGETS["match_speedup"])) for key, label in HAND_RUNS.items()]
    for key, label in HAND_RUNS.items():
        hand, rnn = epoch[key], epoch[key.replace("hand", "rnn")]
        rows.append(ratio(f"hand-written RNN / `nn.RNN`, time per epoch ({label})", hand["wall"] / rnn["wall"],
                          hand["cpu"] / rnn["cpu"], 2, ("<=", TARGETS["hand_vs_rnn"])))
    for mode, label in (("batched", "batched"), ("sorted", "length-sorted batches")):
        rows.append(ratio(f"{label} / one-at-a-time inference rate", inf[f"{mode}_wall"] / inf["one_wall"],
                          inf[f"{mode}_cpu"] / inf["one_cpu"], 1, (">=", TARGETS["inference_speedup"])))
    final, tutorial = s["peers"]["final"], s["peers"]["tutorial"]
    rows.append(ratio(f"final model's training time / the official tutorial's ({TUTORIAL_EPOCHS} epochs)",
                      final["wall"] / tutorial["wall"], final["cpu"] / tutorial["cpu"], 3,
                      ("<=", TARGETS["final_vs_tutorial"])))
    for core in ("gru", "lstm"):
        other, rnn = epoch[core], epoch["rnn"]
        rows.append(ratio(f"{CORE_NAMES[core]} / `nn.RNN`, time per epoch", other["wall"] / rnn["wall"],
                          other["cpu"] / rnn["cpu"], 2))
    return rows


# ---- the final model against the official tutorial's recipe and the n-gram baseline ---------------

def peers_summary(runs: dict) -> dict:
    """The tutorial's 55 epochs (55 x its median epoch), the n-gram baseline and the final model; medians over
    rounds. The final model's ratio is its training time over the tutorial's, from the same bench run."""
    tut = {clock: TUTORIAL_EPOCHS * med([med(r[f"epoch_{clock}"]) for r in runs["tutorial"]])
           for clock in ("wall", "cpu")}
    tut |= {"epochs_timed": len(runs["tutorial"][0]["epoch_wall"]), "n_train": runs["tutorial"][0]["n_train"],
            "rss": rss_of(runs["tutorial"])}
    summary = {"tutorial": tut}
    for key in ("ngram", "final"):
        rs = runs[key]
        summary[key] = {k: med([r[k] for r in rs]) for k in ("wall", "cpu", "accuracy", "macro_f1")}
        summary[key] |= {"accuracies": [r["accuracy"] for r in rs], "macro_f1s": [r["macro_f1"] for r in rs],
                         "rss": rss_of(rs)}
    summary["final"]["taus"] = [r["tau"] for r in runs["final"]]
    return summary


def summarize(runs: dict) -> dict:
    """Every number the report shows, from the runs of all rounds."""
    s = {"article": article_summary(runs["article"]),
         "batched": {key: batched_summary(runs[key]) for key in BATCHED},
         "inference": inference_summary(runs["inference"])}
    s["match"] = {key: match_summary(runs[key], s["article"]) for key in HAND_RUNS}
    s["peers"] = peers_summary(runs)
    s["ratios"] = ratios(s)
    return s


# ---- rendering ---------------------------------------------------------------------------------

def fmt(x: float | None, digits: int = 2) -> str:
    return "n/a" if x is None or x != x else f"{x:.{digits}f}"


def spread(values, digits: int = 2) -> str:
    return f"{min(values):.{digits}f}-{max(values):.{digits}f}" if len(values) > 1 else "one run"


def rss(pair: tuple[float, float]) -> str:
    """Peak RSS and, in brackets, the RSS before the measured work started."""
    return f"{pair[0]:.0f} ({pair[1]:.0f} at start)"


def row(*cells) -> str:
    return "|" + "|".join(f" {cell} " if cell != "" else " " for cell in cells) + "|"


def loads(machine: dict) -> str:
    return "/".join(f"{x:.1f}" for x in machine["load"])


def header(args, s: dict, before: dict, after: dict, minutes: float) -> list[str]:
    mode = "QUICK MODE (fewer iterations and epochs: not comparable with the targets)" if args.quick else "full run"
    busy = max(before["load"] + after["load"]) > 1.2
    return [f"# Benchmark results ({mode})", "",
            f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC by `benchmarks/bench.py` in {minutes:.1f} min. "
            f"Machine: {before['cpu']}, {before['cores']} cores ({before['usable_cores']} usable), "
            f"Python {before['python']}, torch {before['torch']}, **1 thread** per run "
            f"(`torch.set_num_threads(1)`, `OMP_NUM_THREADS=1`).",
            f"Load average (1/5/15 min) at start {loads(before)}, at end {loads(after)}"
            + (" (the machine was shared with other jobs: timings are noisy, ratios from the same run are "
               "what to read; CPU time counts only this process's own time)." if busy else "."), "",
            f"Split: `make_split(load_names(), seed={SPLIT_SEED})` (leakage-free), test = {s['inference']['n_names']} names. "
            f"{args.repeats} interleaved round(s), seeds 0..{args.repeats - 1}; every figure is a median over rounds "
            "(range over rounds in brackets). Evaluation time is excluded from every clock. "
            "Peak RSS is `ru_maxrss` of the run's own process; in brackets, its RSS once Python, torch, the data "
            "and the model were loaded, before the measured work.", ""]


def match_row(args, m: dict) -> str:
    if m["wall"] != m["wall"]:
        return row(f"the same: did not match the article's loop within {args.epochs} epochs in most rounds "
                   f"({m['reached']}/{m['rounds']})", "", "", "n/a", "", "", "", "")
    return row(f"the same: until it first matches the article's loop on both test accuracy and macro-F1 "
               f"({m['reached']}/{m['rounds']} rounds)", "", "", f"{fmt(m['wall'])} ({spread(m['walls'])})",
               fmt(m["cpu"]), fmt(m["accuracy"], 3), f"{fmt(m['macro_f1'], 3)} (after {fmt(m['epoch'])} epochs)", "")


def training_table(args, s: dict) -> list[str]:
    art = s["article"]
    lines = ["## Training", "",
             "| run | time per epoch, wall s | per epoch, CPU s | time to the result, wall s | CPU s | test accuracy | test macro-F1 | peak RSS MB |",
             "|---|---|---|---|---|---|---|---|",
             row(f"article's loop, {args.iters:,} iterations (RNNDemo, SGD lr {ARTICLE_LR:g}, one name per step)",
                 "", "", f"{fmt(art['wall'])} ({spread(art['walls'])})", fmt(art["cpu"]),
                 fmt(art["accuracy"], 3), fmt(art["macro_f1"], 3), rss(art["rss"]))]
    for key, (core, buckets) in BATCHED.items():
        b = s["batched"][key]
        batching = f"batch {args.batch_size}, {args.sampling} sampling" + (", length buckets" if buckets else "")
        best = (f"best of {args.epochs} epochs: accuracy {fmt(b['accuracy'], 3)}"
                f" / macro-F1 {fmt(b['macro_f1'], 3)}")
        lines.append(row(f"{CORE_NAMES[core]}, {batching}, Adam lr {args.lr:g}",
                         f"{fmt(b['wall'])} ({spread(b['walls'])})", fmt(b["cpu"]), "", "", best, "", rss(b["rss"])))
        if key in s["match"]:
            lines.append(match_row(args, s["match"][key]))
    return lines


def inference_table(s: dict) -> list[str]:
    inf = s["inference"]

    def rates(mode: str) -> tuple[str, str]:
        return f"{inf[mode + '_wall']:,.0f}", f"{inf[mode + '_cpu']:,.0f}"
    return ["", "## Inference (hand-written `SequenceClassifier`, from strings to top-3)", "",
            "| mode | names per second, wall | names per second, CPU | peak RSS MB |", "|---|---|---|---|",
            row("one at a time (`inference.predict` per name)", *rates("one"), f"{rss(inf['rss'])}, all three modes"),
            row("`predict_many`, the whole test split as one padded batch", *rates("batched"), ""),
            row(f"`predict_many`, length-sorted batches of {inf['sorted_batch_size']} (its default)", *rates("sorted"), "")]


def peers_table(s: dict) -> list[str]:
    p = s["peers"]
    tut, ng, fin = p["tutorial"], p["ngram"], p["final"]

    def scores(x: dict) -> tuple[str, str]:
        return (f"{fmt(x['accuracy'], 3)} ({spread(x['accuracies'], 3)})",
                f"{fmt(x['macro_f1'], 3)} ({spread(x['macro_f1s'], 3)})")
    return ["", "## The final model against the official tutorial and the n-gram baseline", "",
            "| run | training time, wall s | CPU s | test accuracy | test macro-F1 | peak RSS MB |",
            "|---|---|---|---|---|---|",
            row(f"official PyTorch tutorial's recipe (2024): `nn.RNN` 128, one name at a time, SGD lr 0.15, "
                f"batches of 64, {TUTORIAL_EPOCHS} epochs on {tut['n_train']:,} names (its 85% random split): "
                f"{TUTORIAL_EPOCHS} x the median of {tut['epochs_timed']} timed epoch(s)",
                fmt(tut["wall"], 0), fmt(tut["cpu"], 0), "not measured", "not measured", rss(tut["rss"])),
            row("n-gram baseline: TF-IDF of character 1-4-grams + logistic regression (C = 10), scikit-learn",
                fmt(ng["wall"], 1), fmt(ng["cpu"], 1), *scores(ng), rss(ng["rss"])),
            row("final model (`FINAL_MODEL`, `FINAL_RECIPE`, one seed per round): bidirectional GRU 64 + n-gram bag, "
                f"with its validation passes; tau chosen on validation ({', '.join(f'{t:g}' for t in fin['taus'])})",
                fmt(fin["wall"], 1), fmt(fin["cpu"], 1), *scores(fin), rss(fin["rss"]))]


def times(x: float, digits: int) -> str:
    return "n/a" if x != x else f"{x:.{digits}f}x"


def ratios_table(s: dict) -> list[str]:
    lines = ["", "## Ratios and targets", "", "| ratio | wall | CPU | target | |", "|---|---|---|---|---|"]
    for r in s["ratios"]:
        target = "" if r["target"] is None else f"{r['target'][0]} {r['target'][1]:g}x"
        verdict = {None: "", True: "met", False: "**not met**"}[r["met"]]
        lines.append(row(r["label"], times(r["wall"], r["digits"]), times(r["cpu"], r["digits"]), target, verdict))
    return lines


def render(args, s: dict, before: dict, after: dict, minutes: float) -> str:
    """The markdown of benchmarks/results.md. `args`: bench.py's options; `before`/`after`: `bench.machine()`."""
    lines = (header(args, s, before, after, minutes) + training_table(args, s) + peers_table(s) + inference_table(s)
             + ratios_table(s))
    if args.quick:
        lines += ["", f"Quick mode: {args.iters:,} iterations of the article's loop instead of {ARTICLE_ITERS:,} and "
                      f"{args.epochs} epochs; the targets refer to the full run."]
    return "\n".join(lines) + "\n"
