"""Benchmark: GHK resting potentials and dV_rest/d[K]o of a population of membranes.

Each of N membranes is permeable to K⁺, Na⁺, Cl⁻ and Ca²⁺ with randomly varied concentrations
and permeabilities (fixed seed). Because Ca²⁺ is divalent there is no Goldman closed form: the
resting potential is the root of the summed GHK currents, and `membrax.ghk_voltage` takes its
bracketed safeguarded-Newton path with implicit-differentiation gradients.

Compared in the same run:

- membrax: `jax.jit(jax.vmap(ghk_voltage))` and `jax.jit(jax.vmap(jax.grad(...)))`, float64.
  Compile time (ahead-of-time `lower().compile()`) is reported apart from run time.
- SciPy: `scipy.optimize.brentq` per membrane on the summed NumPy GHK currents; the sensitivity
  by central finite differences (two more brentq solves per membrane). A second SciPy variant
  evaluates the currents with the `math` module (no NumPy call overhead per evaluation).
- NumPy: a vectorised bisection over all membranes at once, finite differences likewise.
- NEURON (if importable): NEURON's built-in `ghk()` function inside brentq, per membrane.

Accuracy is checked in the same run: membrax against each peer's roots and finite
differences, and membrax's gradient against an implicit-function reference whose partial
derivatives are taken by complex step (exact to rounding).

Python loops (SciPy, NEURON) cost the same per membrane at every N, so above `--loop-max`
membranes they run on the first `--loop-max` and their time is extrapolated linearly (marked).

Run from the repository root:

    python benchmarks/bench_electrochemistry.py [--sizes 1000 10000 100000] [--repeats 5]
"""

import argparse
import math
import os
import platform
import time
from collections.abc import Callable
from functools import partial

import jax
import numpy as np
import scipy
from scipy.optimize import brentq

import membrax

# The library never touches jax.config; a script may. Everything below is float64.
jax.config.update("jax_enable_x64", True)

ION_NAMES = ("K", "Na", "Cl", "Ca")
K_INDEX = 0
Z = np.array([1.0, 1.0, -1.0, 2.0])
# Mammalian-like baseline (mM) and permeabilities (cm/s), P_K : P_Na : P_Cl : P_Ca
# = 1 : 0.04 : 0.45 : 0.02; each membrane scales them by log-normal factors.
C_IN_0 = np.array([140.0, 12.0, 10.0, 1e-4])
C_OUT_0 = np.array([5.0, 145.0, 110.0, 2.0])
P_0 = np.array([1e-6, 4e-8, 4.5e-7, 2e-8])
CONC_SPREAD = 0.2  # standard deviation of log(concentration)
P_SPREAD = 0.5  # standard deviation of log(permeability)
TEMPERATURE = 310.15  # K (37 °C)
VT = membrax.constants.THERMAL_VOLTAGE_PER_KELVIN * TEMPERATURE  # RT/F, mV

# brentq stops within 2·(xtol + rtol·|V|) of the root: ~1e-13 mV here.
BRENTQ_XTOL = 1e-13
# Central-difference step relative to [K]o: truncation error ~δ²/3 ≈ 3e-9 relative, root
# error ~1e-13 mV / (2δ[K]o) ≈ 1e-10 mV/mM; δ = 1e-4 balances the two near 1e-9.
FD_RELATIVE_STEP = 1e-4


def population(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Permeabilities (cm/s), c_in, c_out (mM), each of shape (n, 4)."""
    rng = np.random.default_rng(seed)
    p = P_0 * np.exp(P_SPREAD * rng.standard_normal((n, 4)))
    c_in = C_IN_0 * np.exp(CONC_SPREAD * rng.standard_normal((n, 4)))
    c_out = C_OUT_0 * np.exp(CONC_SPREAD * rng.standard_normal((n, 4)))
    return p, c_in, c_out


def with_k_out(c_out: np.ndarray, factor: float) -> np.ndarray:
    shifted = c_out.copy()
    shifted[..., K_INDEX] *= factor
    return shifted


# --- membrax --------------------------------------------------------------------------------


def membrax_v_rest(p, c_in, c_out):
    return membrax.ghk_voltage(p, c_in, c_out, Z, TEMPERATURE)


def membrax_dv_dk_out(p, c_in, c_out):
    return jax.grad(membrax_v_rest, argnums=2)(p, c_in, c_out)[K_INDEX]


# --- NumPy / SciPy --------------------------------------------------------------------------


def exprel_np(x: np.ndarray) -> np.ndarray:
    """x / (eˣ − 1) with its removable singularity at 0 filled (Taylor series there)."""
    small = np.abs(x) < 1e-6
    safe = np.where(small, 1.0, x)
    return np.where(small, 1.0 - x / 2, safe / np.expm1(safe))


def total_current_np(v, p, c_in, c_out):
    """Σ I_GHK / F in µA/cm² per (C/mol) at v mV; broadcasts over leading membrane axes."""
    w = Z * np.asarray(v)[..., None] / VT
    return np.sum(Z * p * (c_in * exprel_np(-w) - c_out * exprel_np(w)), axis=-1)


def nernst_bracket(c_in, c_out):
    e = VT * np.log(c_out / c_in) / Z
    return e.min(axis=-1), e.max(axis=-1)


def scipy_v_rest(p, c_in, c_out) -> np.ndarray:
    lo, hi = nernst_bracket(c_in, c_out)
    v = np.empty(len(p))
    for i in range(len(p)):
        v[i] = brentq(
            total_current_np, lo[i], hi[i], args=(p[i], c_in[i], c_out[i]), xtol=BRENTQ_XTOL
        )
    return v


def total_current_math(v: float, ions) -> float:
    """`total_current_np` for one membrane in plain Python floats (no NumPy per call)."""
    total = 0.0
    for z, p, c_in, c_out in ions:
        w = z * v / VT
        if w == 0.0:  # exprel(0) = 1: plain diffusion
            total += z * p * (c_in - c_out)
        else:
            total += z * p * (c_in * -w / math.expm1(-w) - c_out * w / math.expm1(w))
    return total


def scipy_math_v_rest(p, c_in, c_out) -> np.ndarray:
    lo, hi = nernst_bracket(c_in, c_out)
    z = Z.tolist()
    v = np.empty(len(p))
    for i in range(len(p)):
        ions = list(zip(z, p[i].tolist(), c_in[i].tolist(), c_out[i].tolist(), strict=True))
        v[i] = brentq(total_current_math, lo[i], hi[i], args=(ions,), xtol=BRENTQ_XTOL)
    return v


def central_difference(v_rest: Callable, p, c_in, c_out) -> np.ndarray:
    h = FD_RELATIVE_STEP * c_out[:, K_INDEX]
    v_plus = v_rest(p, c_in, with_k_out(c_out, 1 + FD_RELATIVE_STEP))
    v_minus = v_rest(p, c_in, with_k_out(c_out, 1 - FD_RELATIVE_STEP))
    return (v_plus - v_minus) / (2 * h)


def implicit_reference(v, p, c_in, c_out) -> np.ndarray:
    """dV/d[K]o = −(∂I/∂[K]o)/(∂I/∂V) at the roots `v`, with both partials by complex step.

    Complex-step derivatives have no subtractive cancellation, so this reference is exact to
    rounding given an accurate root: it separates membrax's gradient error from the ~1e-9
    truncation error of the central differences.
    """
    step = 1e-30
    di_dv = total_current_np(v + 1j * step, p, c_in, c_out).imag / step
    c_out_k = c_out.astype(complex)
    c_out_k[:, K_INDEX] += 1j * step
    di_dk = total_current_np(v, p, c_in, c_out_k).imag / step
    return -di_dk / di_dv


def numpy_bisection_v_rest(p, c_in, c_out) -> np.ndarray:
    """Vectorised bisection inside the Nernst bracket until every bracket is a few ulps."""
    lo, hi = nernst_bracket(c_in, c_out)
    tol = 4 * np.finfo(float).eps
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        positive = total_current_np(mid, p, c_in, c_out) > 0
        hi = np.where(positive, mid, hi)
        lo = np.where(positive, lo, mid)
        if np.all(hi - lo <= tol * np.maximum(np.abs(mid), 1.0)):
            break
    return 0.5 * (lo + hi)


# --- NEURON ---------------------------------------------------------------------------------


def load_neuron():
    """NEURON's hoc interpreter with `celsius` set, or None (printed) if unavailable."""
    try:
        from neuron import h
    except ImportError as error:
        print(f"NEURON: skipped (cannot import neuron: {error})")
        return None
    if not hasattr(h, "ghk"):
        print("NEURON: skipped (this NEURON exposes no ghk function)")
        return None
    h.celsius = TEMPERATURE - membrax.constants.ZERO_CELSIUS
    return h


def neuron_v_rest(h, p, c_in, c_out) -> np.ndarray:
    """brentq on Σ P·ghk(v, ci, co, z); NEURON's ghk × P (cm/s) is a current in mA/cm²."""
    lo, hi = nernst_bracket(c_in, c_out)
    z = [float(x) for x in Z]
    ghk = h.ghk
    v = np.empty(len(p))
    for i in range(len(p)):
        ions = list(zip(p[i].tolist(), c_in[i].tolist(), c_out[i].tolist(), z, strict=True))

        def total(v, ions=ions):
            return sum(pi * ghk(v, ci, co, zi) for pi, ci, co, zi in ions)

        v[i] = brentq(total, lo[i], hi[i], xtol=BRENTQ_XTOL)
    return v


def neuron_current_check(h) -> float:
    """Max relative difference between 1e3·P·h.ghk (µA/cm²) and membrax.ghk_current."""
    worst = 0.0
    for v in np.linspace(-120.0, 80.0, 41) + 0.37:  # offset: avoid NEURON's |w|<1e-4 series
        for zi, ci, co, pi in zip(Z, C_IN_0, C_OUT_0, P_0, strict=True):
            ours = float(membrax.ghk_current(v, ci, co, pi, zi, TEMPERATURE))
            theirs = 1e3 * pi * h.ghk(float(v), float(ci), float(co), float(zi))
            worst = max(worst, abs(theirs - ours) / abs(ours))
    return worst


# --- timing ---------------------------------------------------------------------------------


def best_of(fn: Callable, repeats: int):
    """Best wall time of `repeats` calls of `fn()`, and the last call's output."""
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def time_membrax(fn, args, repeats):
    """Compile ahead of time, warm up once, then best-of-`repeats` run time."""
    start = time.perf_counter()
    compiled = jax.jit(jax.vmap(fn)).lower(*args).compile()
    compile_s = time.perf_counter() - start
    compiled(*args).block_until_ready()
    run_s, out = best_of(lambda: compiled(*args).block_until_ready(), repeats)
    return np.asarray(out), compile_s, run_s


def fmt_s(seconds: float) -> str:
    return f"{seconds:.3g}" if seconds >= 1e-3 else f"{seconds:.2e}"


def peers(h) -> list[tuple[str, Callable, bool]]:
    """(name, v_rest(p, c_in, c_out) on NumPy arrays, is a per-membrane Python loop)."""
    found = [
        ("NumPy vectorised bisection + central FD", numpy_bisection_v_rest, False),
        ("SciPy brentq loop, NumPy GHK + central FD", scipy_v_rest, True),
        ("SciPy brentq loop, math-module GHK + central FD", scipy_math_v_rest, True),
    ]
    if h is not None:
        found.append(("NEURON h.ghk in brentq loop + central FD", partial(neuron_v_rest, h), True))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--repeats", type=int, default=5, help="membrax: best of this many runs")
    parser.add_argument("--peer-repeats", type=int, default=2, help="peers: best of this many runs")
    parser.add_argument(
        "--loop-max",
        type=int,
        default=1_000,
        help="most membranes solved by a per-membrane Python loop (SciPy, NEURON); at larger "
        "N its time is this subsample's, scaled by N / loop-max",
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    h = load_neuron()
    versions = (
        f"Python {platform.python_version()}, jax {jax.__version__}, numpy {np.__version__}, "
        f"scipy {scipy.__version__}, membrax {membrax.__version__}"
    )
    if h is not None:
        import neuron

        versions += f", NEURON {neuron.__version__}"
    print("# GHK resting potential (K, Na, Cl, Ca²⁺) of N membranes, and dV_rest/d[K]o\n")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"- CPU: {platform.machine()}, {os.cpu_count()} logical cores; {platform.platform()}; "
        f"load average at start {load} (other processes share these cores)"
    )
    print(f"- {versions}")
    devices = ", ".join(str(d) for d in jax.devices())
    print(f"- JAX devices: {devices}; x64 {jax.config.jax_enable_x64}")
    print(
        f"- membrax: best of {args.repeats} after compile + 1 warm-up; peers: best of "
        f"{args.peer_repeats}; Python loops on at most {args.loop_max} membranes (*)\n"
    )

    p_all, c_in_all, c_out_all = population(max(args.sizes), args.seed)
    rows, accuracy, compiles = [], [], []
    for n in args.sizes:
        p, c_in, c_out = p_all[:n], c_in_all[:n], c_out_all[:n]
        jargs = tuple(jax.device_put(a) for a in (p, c_in, c_out))
        v_mx, compile_v, t_v = time_membrax(membrax_v_rest, jargs, args.repeats)
        g_mx, compile_g, t_g = time_membrax(membrax_dv_dk_out, jargs, args.repeats)
        compiles.append((n, compile_v, compile_g))
        nonfinite = int(np.sum(~np.isfinite(v_mx)) + np.sum(~np.isfinite(g_mx)))
        accuracy.append(
            f"- N={n}: membrax non-finite outputs {nonfinite}; V_rest {v_mx.min():.2f} … "
            f"{v_mx.max():.2f} mV, dV/d[K]o {g_mx.min():.3f} … {g_mx.max():.3f} mV/mM"
        )
        rows.append((n, "membrax jit(vmap), Newton + implicit grad", t_v, t_g, "", ""))
        for name, v_rest, is_loop in peers(h):
            m = min(n, args.loop_max) if is_loop else n
            mark = "*" if m < n else ""
            sub = (p[:m], c_in[:m], c_out[:m])
            t_pv, v_peer = best_of(lambda v_rest=v_rest, sub=sub: v_rest(*sub), args.peer_repeats)
            t_pg, g_peer = best_of(
                lambda v_rest=v_rest, sub=sub: central_difference(v_rest, *sub),
                args.peer_repeats,
            )
            t_pv, t_pg = t_pv * n / m, t_pg * n / m
            rows.append((n, name, t_pv, t_pg, mark, f"{t_pv / t_v:.3g} | {t_pg / t_g:.3g}"))
            if not is_loop:
                g_ref = implicit_reference(v_peer, *sub)
                accuracy.append(
                    "  - membrax grad vs implicit-function reference (complex-step partials at "
                    f"the NumPy roots, {m} membranes): max rel Δ "
                    f"{np.max(np.abs(g_mx[:m] - g_ref) / np.abs(g_ref)):.1e}"
                )
            dv = np.max(np.abs(v_mx[:m] - v_peer))
            dg = np.max(np.abs(g_mx[:m] - g_peer) / np.abs(g_peer))
            accuracy.append(
                f"  - vs {name.split(' +')[0]} ({m} membranes): max|ΔV| {dv:.1e} mV, "
                f"max rel Δ(dV/d[K]o) {dg:.1e}"
            )

    print("| N | method | V_rest (s) | dV/d[K]o (s) | V ratio | dV ratio |")
    print("|---:|---|---:|---:|---:|---:|")
    for n, name, t_pv, t_pg, mark, ratios in rows:
        ratios = ratios or "1 | 1"
        print(f"| {n} | {name} | {fmt_s(t_pv)}{mark} | {fmt_s(t_pg)}{mark} | {ratios} |")
    print(
        "\nRatio = peer time / membrax time for the same task (> 1: membrax is faster). "
        "dV/d[K]o: membrax by jax.grad (implicit differentiation through the root), peers by "
        "central differences (two more root solves per membrane).\n"
        "(*) measured on the first --loop-max membranes and scaled by N / loop-max.\n"
    )
    print("| N | membrax compile, V (s) | membrax compile, grad (s) |")
    print("|---:|---:|---:|")
    for n, compile_v, compile_g in compiles:
        print(f"| {n} | {compile_v:.3g} | {compile_g:.3g} |")

    print("\nAccuracy (same membranes; peers' gradients are central differences):")
    print("\n".join(accuracy))
    if h is not None:
        print(
            "- NEURON current check: max relative |1e3·P·h.ghk(v, ci, co, z) − "
            f"membrax.ghk_current| = {neuron_current_check(h):.1e} (41 voltages × 4 ions)"
        )

    # One membrane without a user jit: what an interactive user sees per call.
    one = (p[0], c_in[0], c_out[0])
    grad_one = jax.grad(membrax_v_rest, argnums=2)
    membrax_v_rest(*one).block_until_ready()
    grad_one(*one).block_until_ready()
    t_eager_v, _ = best_of(lambda: membrax_v_rest(*one).block_until_ready(), args.repeats)
    t_eager_g, _ = best_of(lambda: grad_one(*one).block_until_ready(), args.repeats)
    t_sp_one, _ = best_of(lambda: scipy_v_rest(p[:1], c_in[:1], c_out[:1]), args.repeats)
    print(
        f"- one membrane, eager (no user jit, after a first call): membrax V "
        f"{t_eager_v * 1e3:.2f} ms, grad {t_eager_g * 1e3:.2f} ms; SciPy brentq V "
        f"{t_sp_one * 1e3:.3f} ms"
    )


if __name__ == "__main__":
    main()
