"""Benchmark: the hERG sine-wave protocol of Beattie et al. (2018), forward and gradient.

Cell 1 of `membrax.io.load_beattie2018` at its published parameters: the 8 s sine-wave
protocol, 80 000 samples at 0.1 ms. Two tasks are timed:

1. **forward**: the current (nA) at the 80 000 sample times;
2. **value and gradient** of the paper's Gaussian log-likelihood (σ from the first 2000
   samples, the paper's mask) with respect to the 9 parameters (P1..P8, G) in log space.

Compared in the same run:

- membrax: `membrax.voltage_clamp` with the default exact solver (`membrax.ExactClamp()`) on
  the sampled protocol (zero-order hold: every 0.1 ms hold solved in closed form), under
  `jax.jit`, float64; the gradient by `jax.value_and_grad`. An extra row runs the analytic
  protocol (`membrax.protocols.beattie2018_sine_wave_protocol()`, exponential midpoint rule on
  the sines, one hold per sample).
- diffrax: the same `voltage_clamp` with `membrax.DiffraxClamp(rtol, atol)` (Tsit5, PID
  controller stopping at every protocol discontinuity, `RecursiveCheckpointAdjoint`), forward
  and `jax.value_and_grad` through the solve, on the analytic protocol (8 jumps) and on the
  sampled one (a jump at each of the 79 999 sample boundaries; diffrax's jump clipping tests
  every jump time at every step, so this row costs minutes; `--skip-diffrax-sampled` drops
  it).
- Myokit (benchmark-only dependency, `pip install myokit`): the same model written in .mmt
  text, `myokit.lib.hh.HHModel` + `myokit.lib.hh.AnalyticalSimulation` driven by a
  `myokit.Protocol` holding the sampled voltages as consecutive steps (runs of equal samples
  merged: 35 008 steps). Myokit's `Protocol.clone()` re-inserts every event into a linked list
  (quadratic in the number of events; the script times it on a subset), and
  `AnalyticalSimulation` clones its protocol in `__init__`, in its `PacingSystem` and on every
  `reset()`; the protocol is therefore a `myokit.Protocol` subclass whose only change is a
  linear-time `clone()` (same events, same simulation). A second Myokit row calls the
  analytical solution `HHModel.function()` directly in a Python loop over the holds (no
  protocol machinery): the fastest Myokit-based forward simulation found. Myokit has no
  gradients.

Results are checked to agree before timing: membrax against Myokit and against diffrax on the
sampled protocol (both exact up to rounding or solver tolerance), and on the analytic protocol
membrax and diffrax against a tight diffrax reference (`--reference-rtol`). membrax and diffrax
are compiled ahead of time (compile time reported apart), with the protocol as an argument;
every method is called once to warm up (that call's output is the one checked), then timed as
best of `--repeats` (membrax) or `--slow-repeats` (diffrax, Myokit) with
`jax.block_until_ready`, stopping early once the timed calls of a row exceed `--budget` s. A
row whose warm-up call alone exceeds the budget reports that call (marked †).

Run from the repository root:

    python benchmarks/bench_herg.py [--repeats 20] [--slow-repeats 3] [--skip-diffrax-sampled]
"""

import argparse
import math
import os
import platform
import time
from collections.abc import Callable
from functools import partial

import diffrax
import jax
import jax.numpy as jnp
import numpy as np

import membrax

# The library never touches jax.config; a script may. Everything below is float64.
jax.config.update("jax_enable_x64", True)

PARAMETER_NAMES = ("P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8", "G")
# Agreement required before timing. Sampled protocol: membrax and Myokit are both exact
# (rounding only); diffrax at rtol 1e-6 agrees with the exact ZOH solution to ~1e-7.
MYOKIT_TOLERANCE = 1e-6  # max|ΔI| / max|I|
SAMPLED_DIFFRAX_TOLERANCE = 1e-5  # max|ΔI| / max|I| and max|Δgrad| / max|grad|
# Analytic protocol, against the tight reference: the exponential midpoint rule (one hold per
# sample) and diffrax at rtol 1e-6 both move the log-likelihood by ~1e-6 relative, and, because
# σ ≈ 0.007 nA makes it steep, its gradient by up to ~1e-3 of max|grad|.
ANALYTIC_TOLERANCE = 2e-3


# --- membrax and diffrax ----------------------------------------------------------------------


def make_forward(cell, solver) -> Callable:
    def forward(log_params, protocol):
        q = jnp.exp(log_params)
        model = membrax.models.beattie2018_ikr(q[:8], q[8], temperature=cell.temperature)
        return membrax.voltage_clamp(model, protocol, solver=solver).current

    return forward


def make_log_likelihood(cell, solver) -> Callable:
    """The paper's Gaussian log-likelihood over the masked samples, of the log parameters."""
    n = jnp.sum(cell.mask)
    forward = make_forward(cell, solver)

    def log_likelihood(log_params, protocol):
        residual = jnp.where(cell.mask, forward(log_params, protocol) - cell.current, 0.0)
        return -0.5 * n * jnp.log(2 * jnp.pi * cell.sigma**2) - jnp.sum(residual**2) / (
            2 * cell.sigma**2
        )

    return log_likelihood


def compile_jax(fn: Callable, *args):
    """Ahead-of-time compile `fn` at `args`; returns (compiled, compile seconds)."""
    start = time.perf_counter()
    compiled = jax.jit(fn).lower(*args).compile()
    return compiled, time.perf_counter() - start


# --- Myokit -----------------------------------------------------------------------------------


def myokit_mmt(cell) -> str:
    """The Beattie model in Myokit's .mmt syntax, with membrax's exact R and F."""
    p = [float(x) for x in np.asarray(cell.p)]
    params = "\n".join(f"p{k + 1} = {v!r}" for k, v in enumerate(p))
    return f"""[[model]]
ikr.a = 0
ikr.r = 1

[engine]
time = 0 [ms] bind time
pace = 0 bind pace

[membrane]
V = engine.pace
    label membrane_potential

[phys]
T = {float(cell.temperature)!r}
R = {membrax.constants.GAS_CONSTANT * 1e3!r}
F = {membrax.constants.FARADAY!r}
Ko = 4.0
Ki = 130.0
EK = R * T / F * log(Ko / Ki)

[ikr]
use membrane.V as V
{params}
g = {float(cell.g)!r}
k1 = p1 * exp(p2 * V)
k2 = p3 * exp(-p4 * V)
k3 = p5 * exp(p6 * V)
k4 = p7 * exp(-p8 * V)
dot(a) = k1 * (1 - a) - k2 * a
dot(r) = k4 * (1 - r) - k3 * r
IKr = g * a * r * (V - phys.EK)
"""


def holds(voltages: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Runs of equal consecutive samples: (first sample index, voltage, number of samples)."""
    starts = np.flatnonzero(np.concatenate([[True], np.diff(voltages) != 0]))
    lengths = np.diff(np.append(starts, voltages.size))
    return starts, voltages[starts], lengths


def make_myokit(cell, dt: float):
    """(HHModel, linear-clone Protocol, stock Protocol class, holds) for the sampled command."""
    import myokit
    import myokit.lib.hh as hh

    class LinearCloneProtocol(myokit.Protocol):
        """A `myokit.Protocol` whose `clone()` links the copied events in one pass.

        Stock `clone()` re-`add()`s every event, and `add()` walks the list from its head:
        O(n²) for n events. The events, their order and everything else are unchanged.
        """

        def clone(self):
            copy = LinearCloneProtocol()
            tail, event = None, self._head
            while event is not None:
                new = event.clone()
                if tail is None:
                    copy._head = new
                else:
                    tail._next = new
                tail, event = new, event._next
            return copy

    model = myokit.parse_model(myokit_mmt(cell))
    names = [f"ikr.p{k}" for k in range(1, 9)] + ["ikr.g"]
    hh_model = hh.HHModel(model, ["ikr.a", "ikr.r"], parameters=names, current="ikr.IKr")
    voltages = np.asarray(cell.protocol.voltages)
    starts, levels, lengths = holds(voltages)
    protocol = LinearCloneProtocol()
    # Scheduled last-first: each event goes in at the head, O(1) (first-first is O(n²)).
    for k, level, n in zip(starts[::-1], levels[::-1], lengths[::-1]):
        protocol.schedule(float(level), float(k) * dt, float(n) * dt)
    return hh_model, protocol, myokit.Protocol, (levels, lengths)


def stock_clone_seconds(protocol_class, levels, lengths, dt: float, n_events: int) -> float:
    """Time of one stock `myokit.Protocol.clone()` of the first `n_events` holds."""
    protocol = protocol_class()
    starts = np.concatenate([[0], np.cumsum(lengths)])
    for k in reversed(range(n_events)):
        protocol.schedule(float(levels[k]), float(starts[k]) * dt, float(lengths[k]) * dt)
    start = time.perf_counter()
    protocol.clone()
    return time.perf_counter() - start


def myokit_function_loop(hh_model, levels, lengths, dt: float) -> np.ndarray:
    """The current at the sample times from Myokit's analytical solution, one call per hold."""
    f = hh_model.function()
    params = hh_model.default_parameters()
    y = np.asarray(hh_model.default_state(), dtype=float)
    out = np.empty(int(np.sum(lengths)))
    i = 0
    for v, n in zip(levels.tolist(), lengths.tolist()):
        states, current = f(y, np.arange(n + 1) * dt, v, *params)
        out[i : i + n] = current[:n]
        y = np.array([states[0][-1], states[1][-1]])
        i += n
    return out


# --- timing -----------------------------------------------------------------------------------


def call_jax(fn: Callable, *args):
    return jax.block_until_ready(fn(*args))


def timed(fn: Callable):
    """(seconds, output) of one call of `fn()`."""
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def best_of(fn: Callable, repeats: int, budget: float, warm_up_s: float) -> tuple[float, str]:
    """Best time of up to `repeats` calls, stopping once they add up to `budget` seconds.

    If the warm-up call alone took longer than `budget`, report it instead (marked †).
    """
    if warm_up_s > budget:
        return warm_up_s, "1†"
    best, spent, n = math.inf, 0.0, 0
    while n < repeats and (n == 0 or spent < budget):
        seconds, _ = timed(fn)
        best, spent, n = min(best, seconds), spent + seconds, n + 1
    return best, str(n)


def fmt_s(seconds: float) -> str:
    if math.isnan(seconds):
        return "—"
    return f"{seconds:.3g}" if seconds >= 1e-3 else f"{seconds:.2e}"


def relative_differences(ours, peer) -> tuple[float, float, float]:
    """max|ΔI|/max|I|, |Δ log-likelihood|/|log-likelihood|, max|Δgrad|/max|grad|."""
    (i0, ll0, g0), (i1, ll1, g1) = ours, peer
    return (
        float(np.max(np.abs(i1 - i0)) / np.max(np.abs(i0))),
        abs(ll1 - ll0) / abs(ll0),
        float(np.max(np.abs(g1 - g0)) / np.max(np.abs(g0))),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cell", type=int, default=1, help="Beattie cell 1, 2 or 3")
    parser.add_argument("--repeats", type=int, default=20, help="membrax: best of this many")
    parser.add_argument(
        "--slow-repeats", type=int, default=3, help="diffrax and Myokit: best of this many"
    )
    parser.add_argument(
        "--budget", type=float, default=60.0, help="seconds of timed calls per row, at most"
    )
    parser.add_argument("--rtol", type=float, default=1e-6, help="diffrax rtol")
    parser.add_argument("--atol", type=float, default=1e-8, help="diffrax atol")
    parser.add_argument(
        "--reference-rtol",
        type=float,
        default=1e-11,
        help="rtol of the diffrax reference on the analytic protocol (atol = rtol / 100)",
    )
    parser.add_argument("--skip-diffrax-sampled", action="store_true")
    parser.add_argument("--no-myokit", action="store_true", help="skip the Myokit rows")
    parser.add_argument(
        "--stock-clone-check",
        type=int,
        default=4000,
        help="time Myokit's stock Protocol.clone() on this many steps (0: skip)",
    )
    args = parser.parse_args()

    cell = membrax.io.load_beattie2018(args.cell)
    protocols = {
        "sampled": cell.protocol,
        "analytic": membrax.protocols.beattie2018_sine_wave_protocol(),
    }
    dt = float(cell.protocol.times[1] - cell.protocol.times[0])
    n_samples = int(cell.protocol.voltages.size)
    x = jnp.log(jnp.append(cell.p, cell.g))
    exact = membrax.ExactClamp()
    dfx = membrax.DiffraxClamp(rtol=args.rtol, atol=args.atol)
    reference = membrax.DiffraxClamp(rtol=args.reference_rtol, atol=args.reference_rtol / 100)

    myokit = None
    if not args.no_myokit:
        try:
            import myokit
            import myokit.lib.hh
        except ImportError as error:
            print(f"Myokit: skipped (cannot import myokit: {error})")

    versions = (
        f"Python {platform.python_version()}, jax {jax.__version__}, "
        f"diffrax {diffrax.__version__}, numpy {np.__version__}, membrax {membrax.__version__}"
    )
    if myokit is not None:
        versions += f", Myokit {myokit.__version__}"
    print(f"# Beattie 2018 hERG sine wave (cell {args.cell}): forward and value-and-gradient\n")
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    print(
        f"- CPU: {platform.machine()}, {os.cpu_count()} logical cores; {platform.platform()}; "
        f"load average at start {load} (other processes share these cores)"
    )
    print(f"- {versions}")
    devices = ", ".join(str(d) for d in jax.devices())
    print(f"- JAX devices: {devices}; x64 {jax.config.jax_enable_x64}")
    print(
        f"- protocol: {n_samples} samples at {dt} ms; gradient w.r.t. log "
        f"({', '.join(PARAMETER_NAMES)}); diffrax Tsit5 rtol {args.rtol:g}, atol {args.atol:g}, "
        "RecursiveCheckpointAdjoint"
    )
    print(
        f"- after AOT compile and 1 warm-up call: best of {args.repeats} (membrax) or "
        f"{args.slow_repeats} (diffrax, Myokit), at most {args.budget:g} s of timed calls per "
        "row\n"
    )

    # --- compile, warm up, check agreement ---
    cases = [
        ("membrax exact, sampled (ZOH)", "sampled", exact, args.repeats),
        ("membrax exact, analytic protocol", "analytic", exact, args.repeats),
        ("diffrax Tsit5, analytic protocol", "analytic", dfx, args.slow_repeats),
    ]
    if not args.skip_diffrax_sampled:
        cases.append(("diffrax Tsit5, sampled (ZOH)", "sampled", dfx, args.slow_repeats))
    compiles, runs, outputs = [], [], {}
    for name, key, solver, repeats in cases:
        protocol = protocols[key]
        fwd, c_fwd = compile_jax(make_forward(cell, solver), x, protocol)
        vag, c_vag = compile_jax(jax.value_and_grad(make_log_likelihood(cell, solver)), x, protocol)
        compiles.append((name, c_fwd, c_vag))
        w_fwd, current = timed(partial(call_jax, fwd, x, protocol))
        w_vag, (value, grad) = timed(partial(call_jax, vag, x, protocol))
        outputs[name] = (np.asarray(current), float(value), np.asarray(grad))
        for task, fn, warm in (("forward", fwd, w_fwd), ("grad", vag, w_vag)):
            runs.append((name, task, partial(call_jax, fn, x, protocol), repeats, warm))

    checks = []
    name_mx = "membrax exact, sampled (ZOH)"
    if not args.skip_diffrax_sampled:
        name_dfx = "diffrax Tsit5, sampled (ZOH)"
        di, dll, dg = relative_differences(outputs[name_mx], outputs[name_dfx])
        ok = max(di, dll, dg) < SAMPLED_DIFFRAX_TOLERANCE
        checks.append(
            f"- {name_dfx} vs {name_mx}: max|ΔI|/max|I| {di:.1e}, log-likelihood rel Δ "
            f"{dll:.1e}, max|Δgrad|/max|grad| {dg:.1e} — {'OK' if ok else 'MISMATCH'}"
        )
    ref_fwd = jax.jit(make_forward(cell, reference))
    ref_vag = jax.jit(jax.value_and_grad(make_log_likelihood(cell, reference)))
    ref_value, ref_grad = ref_vag(x, protocols["analytic"])
    ref = (np.asarray(ref_fwd(x, protocols["analytic"])), float(ref_value), np.asarray(ref_grad))
    for name in ("membrax exact, analytic protocol", "diffrax Tsit5, analytic protocol"):
        di, dll, dg = relative_differences(ref, outputs[name])
        ok = max(di, dll, dg) < ANALYTIC_TOLERANCE
        checks.append(
            f"- {name} vs diffrax reference (rtol {args.reference_rtol:g}): max|ΔI|/max|I| "
            f"{di:.1e}, log-likelihood rel Δ {dll:.1e}, max|Δgrad|/max|grad| {dg:.1e} — "
            f"{'OK' if ok else 'MISMATCH'}"
        )
    ll_values = "; ".join(f"{name} {ll:.4f}" for name, (_, ll, _) in outputs.items())
    checks.append(
        f"- log-likelihoods: {ll_values}; reference (analytic) {ref[1]:.4f}; published "
        f"{cell.published_log_likelihood:.4f}"
    )

    notes = []
    if myokit is not None:
        i_ref = outputs[name_mx][0]
        scale = float(np.max(np.abs(i_ref)))
        start = time.perf_counter()
        hh_model, protocol, stock_class, (levels, lengths) = make_myokit(cell, dt)
        sim = myokit.lib.hh.AnalyticalSimulation(hh_model, protocol)
        setup_s = time.perf_counter() - start
        log_times = np.arange(n_samples) * dt

        def run_analytical():
            sim.reset()
            return np.asarray(sim.run(n_samples * dt, log_times=log_times)["ikr.IKr"])

        def run_loop():
            return myokit_function_loop(hh_model, levels, lengths, dt)

        for name, fn in (
            (f"Myokit AnalyticalSimulation + Protocol ({levels.size} steps)", run_analytical),
            (f"Myokit HHModel.function() loop over {levels.size} holds", run_loop),
        ):
            warm, current = timed(fn)
            di = float(np.max(np.abs(current - i_ref)))
            ok = di / scale < MYOKIT_TOLERANCE
            checks.append(
                f"- {name} vs {name_mx}: max|ΔI| {di:.1e} nA (max|I| {scale:.3f} nA, rel "
                f"{di / scale:.1e}) — {'OK' if ok else 'MISMATCH'}"
            )
            runs.append((name, "forward", fn, args.slow_repeats, warm))
        notes.append(
            f"- Myokit setup (parse .mmt, HHModel, Protocol of {levels.size} steps, "
            f"AnalyticalSimulation): {setup_s:.3g} s"
        )
        if args.stock_clone_check:
            n = min(args.stock_clone_check, levels.size)
            t_stock = stock_clone_seconds(stock_class, levels, lengths, dt, n)
            t_full = t_stock * (levels.size / n) ** 2
            notes.append(
                f"- Myokit stock Protocol.clone() of the first {n} steps: {t_stock:.3g} s; "
                f"quadratic extrapolation to all {levels.size}: ≈{t_full:.0f} s per clone, "
                "three clones per AnalyticalSimulation + reset() (hence the linear-clone "
                "subclass)"
            )

    # --- timing ---
    table: dict[str, dict[str, tuple[float, str]]] = {}
    for name, task, fn, repeats, warm in runs:
        table.setdefault(name, {})[task] = best_of(fn, repeats, args.budget, warm)

    def seconds(name: str, task: str) -> float:
        return table.get(name, {}).get(task, (math.nan, ""))[0]

    ours = {"sampled": name_mx, "analytic": "membrax exact, analytic protocol"}
    print("| method | forward (s) | value+grad (s) | runs | forward ratio | grad ratio |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, row in table.items():
        base = ours["analytic" if "analytic" in name else "sampled"]
        cells = []
        for task in ("forward", "grad"):
            t = seconds(name, task)
            cells.append("—" if math.isnan(t) else f"{t / seconds(base, task):.3g}")
        n_runs = " / ".join(r for _, r in row.values())
        print(
            f"| {name} | {fmt_s(seconds(name, 'forward'))} | {fmt_s(seconds(name, 'grad'))} | "
            f"{n_runs} | {cells[0]} | {cells[1]} |"
        )
    print(
        "\nRatio = peer time / membrax exact time on the same protocol (> 1: membrax is "
        "faster). value+grad: the masked Gaussian log-likelihood and its gradient w.r.t. the 9 "
        "log parameters. runs: timed calls (forward / value+grad); † a single call (the "
        "warm-up) because one call exceeds --budget. Myokit has no gradient.\n"
    )
    print("| method | compile, forward (s) | compile, value+grad (s) |")
    print("|---|---:|---:|")
    for name, c_fwd, c_vag in compiles:
        print(f"| {name} | {c_fwd:.3g} | {c_vag:.3g} |")
    if notes:
        print()
        print("\n".join(notes))

    print("\nAgreement (checked on the warm-up outputs, before timing):")
    print("\n".join(checks))

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    print("\nTargets:")
    t_fwd, t_vag = seconds(name_mx, "forward"), seconds(name_mx, "grad")
    print(f"- forward {t_fwd * 1e3:.3g} ms ≤ 1.5 ms: {verdict(t_fwd <= 1.5e-3)}")
    for name in table:
        if name.startswith("Myokit AnalyticalSimulation"):
            ratio = seconds(name, "forward") / t_fwd
            print(f"- forward {ratio:.3g}× faster than {name} (≥ 2.5×): {verdict(ratio >= 2.5)}")
    print(f"- value+grad {t_vag * 1e3:.3g} ms ≤ 15 ms: {verdict(t_vag <= 15e-3)}")
    pairs = [
        (name_mx, "diffrax Tsit5, sampled (ZOH)"),  # same protocol
        (ours["analytic"], "diffrax Tsit5, analytic protocol"),  # same protocol
        (name_mx, "diffrax Tsit5, analytic protocol"),  # each on its natural protocol
    ]
    for base, name in pairs:
        if name in table:
            ratio = seconds(name, "grad") / seconds(base, "grad")
            print(
                f"- value+grad of {base}: {ratio:.3g}× faster than {name} (≥ 9×): "
                f"{verdict(ratio >= 9)}"
            )
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"\nLoad average at the end: {load}")


if __name__ == "__main__":
    main()
