"""Re-run notebooks with other training seeds and CPU-portable numerics; report each failing assert.

    python tools/claims.py                      # seeds 1 2 3, native and portable numerics (`make claims`)
    python tools/claims.py --shifts 1,2 --numerics portable notebooks/04_gradient_problems.ipynb
    python tools/claims.py --quick solutions/*.ipynb   # solutions with QUICK = True, seed 0, native

A notebook's prose may only claim what its asserts check, and an assert may only check what holds
on other seeds and other CPUs. Each notebook's first code cell (tag `parameters`) holds the line
`SEED = 0`, from which every training seed derives; this tool executes a copy of the notebook with that
line rewritten to `SEED = <shift>` (`--quick` also rewrites `QUICK = False` to `QUICK = True`, the small
training budget of the solution notebooks). `ATEN_CPU_CAPABILITY=default` and `MKL_CBWR=COMPATIBLE` make
torch and MKL take the code paths another CPU would. Each run executes in its own temporary folder laid
out like the checkout (`<tmp>/notebooks/<name>.ipynb`), so whatever a notebook writes (`../models/...`)
stays there; nothing is written back to the notebooks.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from rnn_tutorial.plumbing.paths import MODELS_DIR_ENV  # the command line's models folder

REPO = Path(__file__).resolve().parent.parent
NUMERICS = {
    "native": {},
    "portable": {"ATEN_CPU_CAPABILITY": "default", "MKL_CBWR": "COMPATIBLE"},
}


def parameters_cell(nb: nbformat.NotebookNode) -> nbformat.NotebookNode | None:
    """The notebook's first code cell if it carries the `parameters` tag, else None."""
    first = next((cell for cell in nb.cells if cell.cell_type == "code"), None)
    return first if first is not None and "parameters" in first.metadata.get("tags", []) else None


def set_parameter(nb: nbformat.NotebookNode, name: str, old: str, new: str) -> None:
    """Rewrite the line `<name> = <old>` of the parameters cell to `<name> = <new>` (comments kept).

    Raises ValueError, saying what to add, when the notebook has no such line.
    """
    cell = parameters_cell(nb)
    pattern = re.compile(rf"^(\s*{re.escape(name)}\s*=\s*){re.escape(old)}(\s*(#.*)?)$", re.MULTILINE)
    if cell is None or len(pattern.findall(cell.source)) != 1:
        raise ValueError(f"the first code cell must carry the tag `parameters` and hold one line "
                         f"`{name} = {old}`: cannot set {name} = {new}")
    cell.source = pattern.sub(lambda m: f"{m.group(1)}{new}{m.group(2)}", cell.source)


def prepare(nb: nbformat.NotebookNode, shift: int, quick: bool) -> None:
    """Rewrite the parameters cell for one run: SEED = shift (unless 0), QUICK = True if `quick`."""
    if shift != 0:
        set_parameter(nb, "SEED", "0", str(shift))
    if quick:
        set_parameter(nb, "QUICK", "False", "True")


def run_notebook(path: Path, shift: int, numerics: str, quick: bool = False) -> tuple[str, float, list[str]]:
    """Execute a copy of `path` in a fresh kernel with SEED = `shift` and the given numerics
    -> (label, seconds, failures)."""
    label = f"{path.parent.name}/{path.stem} seed {shift} {numerics}" + (" quick" if quick else "")
    nb = nbformat.read(path, as_version=4)
    try:
        prepare(nb, shift, quick)
    except ValueError as e:
        return label, 0.0, [str(e)]
    with tempfile.TemporaryDirectory(prefix="claims-") as tmp:
        folder = Path(tmp) / path.parent.name  # `../models` from here is <tmp>/models, never the checkout's
        folder.mkdir()
        nbformat.write(nb, folder / path.name)
        saved = dict(os.environ)  # the kernel inherits this process's environment; restored below
        os.environ.update({"OMP_NUM_THREADS": "1", MODELS_DIR_ENV: str(Path(tmp) / "models"), **NUMERICS[numerics]})
        for name in NUMERICS["portable"]:
            if name not in NUMERICS[numerics]:
                os.environ.pop(name, None)
        start = time.perf_counter()
        try:
            NotebookClient(nb, timeout=1800, allow_errors=True,
                           resources={"metadata": {"path": str(folder)}}).execute()
        finally:
            os.environ.clear()
            os.environ.update(saved)
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
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="default: notebooks/*.ipynb (with --quick: solutions/*.ipynb)")
    parser.add_argument("--shifts", type=comma_list(int), default=None,
                        help="the values SEED takes, e.g. 1,2,3 (the default; with --quick: 0)")
    parser.add_argument("--numerics", type=comma_list(str, choices=NUMERICS), default=None,
                        help="native, portable or both, comma-separated (default both; with --quick: native)")
    parser.add_argument("--quick", action="store_true",
                        help="rewrite QUICK = False to QUICK = True (the solution notebooks' small budget)")
    parser.add_argument("--jobs", type=int, default=2, help="notebooks executed at once (one core each)")
    args = parser.parse_args(argv)
    shifts = args.shifts or ([0] if args.quick else [1, 2, 3])
    numerics_list = args.numerics or (["native"] if args.quick else ["native", "portable"])
    notebooks = args.notebooks or sorted((REPO / ("solutions" if args.quick else "notebooks")).glob("*.ipynb"))
    if not notebooks:
        print("no notebooks to run", file=sys.stderr)
        return 1
    runs = [(nb, shift, numerics, args.quick) for shift in shifts for numerics in numerics_list for nb in notebooks]
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
