"""Populations of 10⁴–10⁶ Hodgkin–Huxley point neurons on a GPU (float32 by default).

Each cell: `membrax.models.hh1952_cell` with its own g_Na (uniform 100–140 mS/cm²), a
10 µA/cm² step from t = 0, 100 ms at dt = 0.025 ms (4000 steps) with `membrax.RushLarsen`,
recording spike counts and the first 16 spike times per cell (`SaveSpikes`; `--spike-slots 0`
keeps counts only). Reported:
compile time (first call minus a warm call), the best of `--repeats` warm runs, throughput in
neuron-steps/s, the peak device memory, and the mean firing rate (a sanity check).

    PYTHONPATH=. python3 benchmarks/bench_population_gpu.py --sizes 1e4 1e5 1e6 --out results.json

Options: `--dtype float64`, `--unroll 1 4 10` (scan unrolling, one row per value), `--trace`
(also record V every 1 ms), `--grad N` (time per-cell gradients of the spike count surrogate
w.r.t. (g_Na, g_K, g_L) at N cells, forward mode).
"""

import argparse
import json
import os
import platform
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=float, default=[1e4, 1e5, 1e6])
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--unroll", nargs="+", type=int, default=[1])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--spike-slots", nargs="+", type=int, default=[16], help="SaveSpikes.max_spikes values"
    )
    parser.add_argument("--t1", type=float, default=100.0)
    parser.add_argument("--dt", type=float, default=0.025)
    parser.add_argument("--trace", action="store_true", help="also record V every 1 ms")
    parser.add_argument("--grad", type=float, default=0, help="cells for a gradient timing")
    parser.add_argument("--out", default=None, help="write the results as JSON here")
    args = parser.parse_args()

    import jax

    if args.dtype == "float64":
        jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    import membrax
    from membrax.models import hh1952_cell

    dtype = jnp.dtype(args.dtype)
    device = jax.devices()[0]
    print(f"device: {device.device_kind} ({jax.default_backend()}), jax {jax.__version__}")

    def population(n):
        def cell(g_na):
            f = lambda x: jnp.asarray(x, dtype)  # noqa: E731
            return hh1952_cell(
                g_na=g_na,
                g_k=f(36.0),
                g_leak=f(0.3),
                e_na=f(50.0),
                e_k=f(-77.0),
                e_leak=f(-54.387),
                capacitance=f(1.0),
                temperature=f(279.45),
                q10=f(3.0),
                v_init=f(-65.0),
            )

        return jax.vmap(cell)(jnp.linspace(100.0, 140.0, n, dtype=dtype))

    stimulus = membrax.CurrentStep(
        jnp.asarray(10.0, dtype), jnp.asarray(0.0, dtype), jnp.asarray(jnp.inf, dtype)
    )
    steps = round(args.t1 / args.dt)

    def saving(slots):
        save = membrax.SaveSpikes(threshold=jnp.asarray(0.0, dtype), max_spikes=slots)
        if args.trace:
            save = (save, membrax.SaveTrace(every=max(1, round(1.0 / args.dt))))
        return save

    def peak_bytes():
        stats = device.memory_stats() or {}
        return stats.get("peak_bytes_in_use", float("nan"))

    rows = []
    for size in args.sizes:
        n = int(size)
        cells = jax.block_until_ready(population(n))
        for unroll, slots in [(u, s) for u in args.unroll for s in args.spike_slots]:
            solver = membrax.RushLarsen(unroll=unroll)
            save = saving(slots)

            def run(c, solver=solver, save=save):
                return membrax.simulate_population(
                    c, stimulus, t1=args.t1, dt=args.dt, solver=solver, save=save
                )

            t = time.perf_counter()
            record = jax.block_until_ready(run(cells))
            first = time.perf_counter() - t
            times = []
            for _ in range(args.repeats):
                t = time.perf_counter()
                record = jax.block_until_ready(run(cells))
                times.append(time.perf_counter() - t)
            best = min(times)
            spikes = record[0] if isinstance(record, tuple) else record
            rate = float(jnp.mean(spikes.spike_count)) / (args.t1 / 1000.0)
            row = {
                "cells": n,
                "dtype": args.dtype,
                "unroll": unroll,
                "spike_slots": slots,
                "steps": steps,
                "compile_s": first - best,
                "best_s": best,
                "median_s": sorted(times)[len(times) // 2],
                "neuron_steps_per_s": n * steps / best,
                "peak_device_bytes": peak_bytes(),
                "mean_rate_hz": rate,
            }
            rows.append(row)
            print(
                f"N={n:>8d} {args.dtype} unroll={unroll:<3d} slots={slots:<3d}"
                f" compile {row['compile_s']:6.2f} s"
                f"  run {best * 1e3:8.1f} ms (median {row['median_s'] * 1e3:8.1f})"
                f"  {row['neuron_steps_per_s']:.3e} neuron-steps/s"
                f"  peak {row['peak_device_bytes'] / 2**20:8.1f} MiB  rate {rate:.1f} Hz",
                flush=True,
            )
        del cells

    grad_row = None
    if args.grad:
        n = int(args.grad)
        base = population(n)

        def losses(p):
            def one(q):
                cell = hh1952_cell(
                    g_na=q[0],
                    g_k=q[1],
                    g_leak=q[2],
                    e_na=jnp.asarray(50.0, dtype),
                    e_k=jnp.asarray(-77.0, dtype),
                    e_leak=jnp.asarray(-54.387, dtype),
                    capacitance=jnp.asarray(1.0, dtype),
                    temperature=jnp.asarray(279.45, dtype),
                    q10=jnp.asarray(3.0, dtype),
                    v_init=jnp.asarray(-65.0, dtype),
                )
                r = membrax.current_clamp(
                    cell, stimulus, t1=args.t1, dt=args.dt, save=membrax.SaveTrace(every=40)
                )
                # A smooth firing surrogate: mean of sigmoid(V / 5 mV) over the run.
                return jnp.mean(jax.nn.sigmoid(r.v / 5.0))

            return jax.vmap(one)(p)

        params = jnp.stack(
            [
                base.channels[0].permeation.g_max,
                base.channels[1].permeation.g_max,
                base.channels[2].permeation.g_max,
            ],
            axis=1,
        )
        grad = jax.jit(lambda p: membrax.simulate.per_cell_grad(losses, p, forward=True))
        t = time.perf_counter()
        jax.block_until_ready(grad(params))
        first = time.perf_counter() - t
        times = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            jax.block_until_ready(grad(params))
            times.append(time.perf_counter() - t)
        grad_row = {"cells": n, "compile_s": first - min(times), "best_s": min(times)}
        print(f"per-cell gradient (g_Na, g_K, g_L), forward mode, N={n}: {grad_row}")

    if args.out:
        meta = {
            "device": device.device_kind,
            "backend": jax.default_backend(),
            "jax": jax.__version__,
            "host": platform.node(),
            "xla_flags": os.environ.get("XLA_FLAGS", ""),
            "t1_ms": args.t1,
            "dt_ms": args.dt,
        }
        with open(args.out, "w") as f:
            json.dump({"meta": meta, "rows": rows, "grad": grad_row}, f, indent=1)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
