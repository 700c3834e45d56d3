"""Re-run every notebook with shifted training seeds and CPU-portable numerics; report each failing assert.

    python tools/claims.py                      # shifts 1 2 3, native and portable numerics (`make claims`)
    python tools/claims.py --shifts 1,2 --numerics portable notebooks/04_gradient_problems.ipynb

A notebook's prose may only claim what its asserts check, and an assert may only check what holds
on other seeds and other CPUs. `rnn_tutorial.utils.set_seed` adds `$RNN_TUTORIAL_SEED_SHIFT` to every
training seed (the data split does not use it, so it stays fixed); `ATEN_CPU_CAPABILITY=default` and
`MKL_CBWR=COMPATIBLE` make torch and MKL take the code paths another CPU would. Nothing is written
back to the notebooks; each run gets its own models folder.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parent.parent
NUMERICS = {
    "native": {},
    "portable": {"ATEN_CPU_CAPABILITY": "default", "MKL_CBWR": "COMPATIBLE"},
}


def run_notebook(path: Path, shift: int, numerics: str) -> tuple[str, float, list[str]]:
    """Execute `path` in a fresh kernel under the given seed shift and numerics -> (label, seconds, failures)."""
    label = f"{path.stem} shift {shift} {numerics}"
    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory(prefix="claims-models-") as models:
        os.environ.update({"RNN_TUTORIAL_SEED_SHIFT": str(shift), "RNN_TUTORIAL_MODELS_DIR": models,
                           "OMP_NUM_THREADS": "1", **NUMERICS[numerics]})
        for name in NUMERICS["portable"]:
            if name not in NUMERICS[numerics]:
                os.environ.pop(name, None)
        start = time.perf_counter()
        NotebookClient(nb, timeout=1800, allow_errors=True,
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    failures = []
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    for number, cell in enumerate(code_cells, start=1):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                first_line = next((line for line in cell.source.splitlines() if line.strip()), "")
                failures.append(f"code cell {number} ({first_line[:60]!r}): {out['ename']}: {out['evalue'][:300]}")
    return label, time.perf_counter() - start, failures


def comma_list(kind: type, choices: dict | None = None):
    """An argparse type: "1,2,3" -> [1, 2, 3], each item checked against `choices` if given."""
    def parse(text: str) -> list:
        items = [kind(item) for item in text.split(",") if item]
        bad = [item for item in items if choices is not None and item not in choices]
        if bad or not items:
            raise argparse.ArgumentTypeError(f"expected a comma-separated list from {sorted(choices or [])}, got {text!r}")
        return items
    return parse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/*.ipynb")
    parser.add_argument("--shifts", type=comma_list(int), default=[1, 2, 3], help="e.g. 1,2,3 (the default)")
    parser.add_argument("--numerics", type=comma_list(str, choices=NUMERICS), default=["native", "portable"],
                        help="native, portable or both, comma-separated (default both)")
    parser.add_argument("--jobs", type=int, default=2, help="notebooks executed at once (one core each)")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted((REPO / "notebooks").glob("*.ipynb"))
    runs = [(nb, shift, numerics) for shift in args.shifts for numerics in args.numerics for nb in notebooks]
    runs.sort(key=lambda run: -run[0].stat().st_size)  # the longest first, so the pool ends together
    failed = 0
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for label, seconds, failures in pool.map(run_notebook, *zip(*runs)):
            print(f"{'FAIL' if failures else 'ok  '} {label} ({seconds:.0f} s)", flush=True)
            for failure in failures:
                print(f"     {failure}", flush=True)
            failed += bool(failures)
    print(f"{len(runs) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
