"""Time to first result of the `membrax` command (issue 8): how long a fresh process takes to
import membrax, to take the first optimiser step of `membrax fit` on the bundled cell, to
print the fitted parameters, and to exit (figures written), with

- `cold`: an empty cache folder (compilation and tracing both happen);
- `compile cache`: JAX's persistent compilation cache warm, fit's export cache turned off
  (every run traces and lowers the solver, then loads the compiled programs);
- `compile + export caches`: both warm (the default of the command from its second run on).

Each run is a fresh `python -c` process started by this script; times are wall clock from
the process start (`time.time()` on both sides, same machine), median and range over
`--runs` interleaved rounds (after one run that fills the caches).

    .venv/bin/python benchmarks/bench_startup.py --runs 5

There is no peer row: NEURON, Myokit+PINTS, Brian2 and Jaxley have no equivalent command
(`bench_fit.py` compares fitting itself with PINTS).
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

DRIVER = r"""
import json, sys, time
stamps = {}
import membrax
import membrax.fit
stamps["import"] = time.time()
import membrax.fit._fit as F
def progress(step, loss, started, enabled):
    if step == 0 and "first_step" not in stamps:
        stamps["first_step"] = time.time()
F._progress = progress
if "--no-export" in sys.argv:
    import contextlib
    import membrax._exported as E
    E.export_cache = lambda path: contextlib.nullcontext()  # the command imports it per run
import builtins
real_print = builtins.print
def print_(*args, **kwargs):
    if args and str(args[0]).startswith("log-likelihood") and "results" not in stamps:
        stamps["results"] = time.time()
    real_print(*args, **kwargs)
builtins.print = print_
from membrax._cli import main
main(["fit", "--out", sys.argv[1]])
stamps["exit"] = time.time()
sys.stderr.write("STAMPS " + json.dumps(stamps) + "\n")
"""


def run_once(cache, out, export):
    env = dict(os.environ, MEMBRAX_CACHE_DIR=str(cache), MPLBACKEND="Agg")
    argv = [sys.executable, "-c", DRIVER, str(out)] + ([] if export else ["--no-export"])
    start = time.time()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=True)
    line = next(x for x in done.stderr.splitlines() if x.startswith("STAMPS "))
    stamps = json.loads(line[len("STAMPS ") :])
    return {name: stamp - start for name, stamp in stamps.items()}


def summarise(runs):
    out = {}
    for name in ("import", "first_step", "results", "exit"):
        values = [r[name] for r in runs]
        out[name] = {
            "median": statistics.median(values),
            "min": min(values),
            "max": max(values),
        }
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", default=None, help="write the results as JSON here")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="membrax-startup-")
    out = os.path.join(work, "out")
    warm = {"compile cache": False, "compile + export caches": True}
    caches = {label: os.path.join(work, f"cache{k}") for k, label in enumerate(warm)}
    runs = {label: [] for label in ("cold", *warm)}
    try:
        for label, export in warm.items():
            run_once(caches[label], out, export)  # fill the caches
        # Interleaved rounds: the machine's speed drifts over minutes, as much as the
        # differences measured.
        for k in range(args.runs):
            runs["cold"].append(run_once(os.path.join(work, f"cold{k}"), out, export=True))
            for label, export in warm.items():
                runs[label].append(run_once(caches[label], out, export))
        results = {label: summarise(r) for label, r in runs.items()}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{'configuration':<26} {'import':>14} {'first step':>14} {'results':>14} {'exit':>14}")
    for label, row in results.items():
        cells = [
            f"{row[k]['median']:5.2f} ({row[k]['min']:.2f}–{row[k]['max']:.2f})"
            for k in ("import", "first_step", "results", "exit")
        ]
        print(f"{label:<26} " + " ".join(f"{c:>14}" for c in cells))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
