"""Populations of Hodgkin–Huxley point neurons on a CPU: membrax against Jaxley, NEURON (and
CoreNEURON where it runs) and Brian2 C++ standalone, in the same run.

The run: N identical HH 1952 cells (6.3 °C, g_Na/g_K/g_L = 120/36/0.3 mS/cm², E_L = −54.387
mV), a 10 µA/cm² step for the whole 100 ms, fixed dt = 0.025 ms (4000 steps), from −65 mV.
Every simulator runs in its own fresh process (so peak memory is its own); times are the best
of `--repeats` warm runs, compile (or build) time is the first run minus the best one.

    .venv/bin/python benchmarks/bench_population.py --out results.json
    .venv/bin/python benchmarks/bench_population.py --peer-python /path/to/python-with-peers

Jaxley and Brian2 are benchmark-only dependencies (not membrax ones); `--peer-python` names
an interpreter that has them (and NEURON). Reported per row: neuron-steps per second, compile
time, peak resident memory of the process (`ru_maxrss`) and its growth over the process's
baseline after setup (≈ the simulation's own memory), and the size of the recorded output.

membrax runs with `XLA_FLAGS=--xla_force_host_platform_device_count=<--devices>`, sharding the
population over that many host devices (one per core) with `membrax.simulate_population`.
Recording: `spikes` (spike times, `SaveSpikes(max_spikes=64)`), `count` (counts only) or
`trace` (V at every step, as Jaxley records). `--grad` also times per-cell gradients w.r.t.
(g_Na, g_K, g_L) at N = 1000, forward and reverse mode.

Peer `jaxley-wide` runs Jaxley again with `XLA_FLAGS=--xla_cpu_prefer_vector_width=512`, the
compile setting membrax's `simulate_population` uses by itself on AVX-512 CPUs
(`membrax.simulate.cpu_compiler_options`): the same XLA code generation for both. An
`XLA_FLAGS` set for this script is passed on to every JAX worker, e.g.
`XLA_FLAGS=--xla_cpu_prefer_vector_width=256` measures membrax (and Jaxley) without it.

Timings on a shared machine are noisy: repeat and take the best (as done here).
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

T1, DT, AMP = 100.0, 0.025, 10.0
STEPS = round(T1 / DT)


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def timed(fn, repeats):
    t = time.perf_counter()
    fn()
    first = time.perf_counter() - t
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return first, min(times)


# --- workers (each runs in a fresh process) ------------------------------------------------


def work_membrax(n, dtype_name, record, repeats, grad=False):
    import jax

    if dtype_name == "float64":
        jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    import membrax
    from membrax.models import hh1952_cell

    dtype = jnp.dtype(dtype_name)
    f = lambda x: jnp.asarray(x, dtype)  # noqa: E731

    def cell(g_na, g_k, g_leak):
        return hh1952_cell(
            g_na=g_na,
            g_k=g_k,
            g_leak=g_leak,
            e_na=f(50.0),
            e_k=f(-77.0),
            e_leak=f(-54.387),
            capacitance=f(1.0),
            temperature=f(279.45),
            q10=f(3.0),
            v_init=f(-65.0),
        )

    stimulus = membrax.CurrentStep(f(AMP), f(0.0), f(T1))
    ones = jnp.ones(n, dtype)
    cells = jax.vmap(cell)(120.0 * ones, 36.0 * ones, 0.3 * ones)
    if grad:
        params = jnp.stack([120.0 * ones, 36.0 * ones, 0.3 * ones], axis=1)

        def losses(p):
            def one(q):
                r = membrax.current_clamp(
                    cell(q[0], q[1], q[2]),
                    stimulus,
                    t1=T1,
                    dt=DT,
                    save=membrax.SaveTrace(every=40),
                )
                return jnp.mean(jax.nn.sigmoid(r.v / 5.0))  # a smooth activity surrogate

            return jax.vmap(one)(p)

        out = {}
        for mode in ("forward", "reverse"):
            g = jax.jit(
                lambda p, m=mode: membrax.simulate.per_cell_grad(losses, p, forward=m == "forward")
            )
            base = rss_mb()
            first, best = timed(lambda g=g: jax.block_until_ready(g(params)), repeats)
            out[mode] = {
                "compile_s": first - best,
                "best_s": best,
                "rss_growth_mb": rss_mb() - base,
            }
        return out
    save = {
        "spikes": membrax.SaveSpikes(threshold=f(0.0), max_spikes=64),
        "count": membrax.SaveSpikes(threshold=f(0.0), max_spikes=0),
        "trace": membrax.SaveTrace(),
    }[record]

    def run():
        r = membrax.simulate_population(cells, stimulus, t1=T1, dt=DT, save=save)
        return jax.block_until_ready(r)

    base = rss_mb()
    first, best = timed(run, repeats)
    r = run()
    peak = rss_mb()  # before any analysis of the output below allocates more
    out_bytes = sum(x.nbytes for x in jax.tree.leaves(r))
    spikes = (
        float(jnp.mean(r.spike_count))
        if r.spike_count is not None
        else float(jnp.mean(jnp.sum((r.v[:, :-1] < 0) & (r.v[:, 1:] >= 0), axis=1)))
    )
    return {
        "compile_s": first - best,
        "best_s": best,
        "rss_peak_mb": peak,
        "rss_growth_mb": peak - base,
        "output_mb": out_bytes / 2**20,
        "spikes_per_cell": spikes,
        "devices": len(jax.devices()),
        "devices_used": len(jax.tree.leaves(r)[0].sharding.device_set),
    }


def work_jaxley(n, dtype_name, repeats):
    import jax

    if dtype_name == "float64":
        jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import jaxley as jx
    import numpy as np
    from jaxley.channels import HH

    comp = jx.Compartment()
    comp.insert(HH())
    comp.set("HH_eLeak", -54.387)
    comp.set("v", -65.0)
    comp.init_states()
    area_cm2 = 2 * np.pi * comp.nodes["radius"].iloc[0] * comp.nodes["length"].iloc[0] * 1e-8
    amp_na = AMP * area_cm2 * 1e3  # µA/cm² × cm² = µA → nA
    comp.stimulate(jx.step_current(0.0, T1, amp_na, DT, T1))
    comp.record("v", verbose=False)
    comp.make_trainable("HH_gNa", verbose=False)

    def sim(g):
        return jx.integrate(comp, params=[{"HH_gNa": g[None]}], delta_t=DT)

    run_jit = jax.jit(jax.vmap(sim))
    gs = jnp.full((n,), 0.12, dtype=jnp.dtype(dtype_name))
    base = rss_mb()
    first, best = timed(lambda: run_jit(gs).block_until_ready(), repeats)
    v = run_jit(gs).block_until_ready()
    peak = rss_mb()
    v = np.asarray(v)
    spikes = float(np.mean(np.sum((v[..., :-1] < 0) & (v[..., 1:] >= 0), axis=-1)))
    return {
        "compile_s": first - best,
        "best_s": best,
        "rss_peak_mb": peak,
        "rss_growth_mb": peak - base,
        "output_mb": v.nbytes / 2**20,
        "spikes_per_cell": spikes,
        "dtype_seen": str(v.dtype),
    }


def work_neuron(n, threads, repeats, coreneuron=False):
    import numpy as np
    from neuron import h

    h.load_file("stdrun.hoc")
    h.celsius = 6.3
    pc = h.ParallelContext()
    secs, stims, ncs = [], [], []
    spike_t, spike_id = h.Vector(), h.Vector()
    for i in range(n):
        s = h.Section(name=f"c{i}")
        s.L, s.diam, s.nseg = 100.0, 100.0 / np.pi, 1  # area 1e-4 cm²: 1 nA = 10 µA/cm²
        s.insert("hh")
        s(0.5).hh.el = -54.387
        st = h.IClamp(s(0.5))
        st.delay, st.dur, st.amp = 0.0, T1, AMP / 10.0
        pc.set_gid2node(i, pc.id())  # gids: CoreNEURON needs them, NEURON accepts them
        nc = h.NetCon(s(0.5)._ref_v, None, sec=s)
        nc.threshold = 0.0
        pc.cell(i, nc)
        secs.append(s)
        stims.append(st)
        ncs.append(nc)
    pc.spike_record(-1, spike_t, spike_id)
    pc.nthread(threads)
    h.dt = DT
    h.cvode_active(0)
    if coreneuron:
        from neuron import coreneuron as cn

        h.cvode.cache_efficient(1)
        cn.enable = True
        cn.verbose = 0
    pc.set_maxstep(10)

    def run():
        h.finitialize(-65.0)
        pc.psolve(T1)

    base = rss_mb()
    first, best = timed(run, repeats)
    return {
        "compile_s": first - best,
        "best_s": best,
        "rss_peak_mb": rss_mb(),
        "rss_growth_mb": rss_mb() - base,
        "output_mb": spike_t.size() * 16 / 2**20,
        "spikes_per_cell": spike_t.size() / n,
        "threads": threads,
    }


def work_brian2(n, threads, dtype_name, repeats):
    import numpy as np
    from brian2 import (
        NeuronGroup,
        SpikeMonitor,
        cm,
        defaultclock,
        device,
        mS,
        ms,
        mV,
        prefs,
        run,
        set_device,
        uA,
        uF,
    )

    workdir = f"/tmp/membrax_bench_brian2_{os.getpid()}"
    set_device("cpp_standalone", directory=workdir, build_on_run=False)
    prefs.devices.cpp_standalone.openmp_threads = threads
    prefs.core.default_float_dtype = np.float64 if dtype_name == "float64" else np.float32
    defaultclock.dt = DT * ms
    eqs = """
    dv/dt = (I - gna*m**3*h*(v-ENa) - gk*n**4*(v-EK) - gl*(v-El))/Cm : volt
    dm/dt = alpham*(1-m) - betam*m : 1
    dh/dt = alphah*(1-h) - betah*h : 1
    dn/dt = alphan*(1-n) - betan*n : 1
    alpham = 1/exprel(-(v+40*mV)/(10*mV))/ms : Hz
    betam = 4*exp(-(v+65*mV)/(18*mV))/ms : Hz
    alphah = 0.07*exp(-(v+65*mV)/(20*mV))/ms : Hz
    betah = 1/(exp(-(v+35*mV)/(10*mV))+1)/ms : Hz
    alphan = 0.1/exprel(-(v+55*mV)/(10*mV))/ms : Hz
    betan = 0.125*exp(-(v+65*mV)/(80*mV))/ms : Hz
    """
    ns = {
        "Cm": 1 * uF / cm**2,
        "ENa": 50 * mV,
        "EK": -77 * mV,
        "El": -54.387 * mV,
        "gna": 120 * mS / cm**2,
        "gk": 36 * mS / cm**2,
        "gl": 0.3 * mS / cm**2,
        "I": AMP * uA / cm**2,
    }
    group = NeuronGroup(
        n,
        eqs,
        method="exponential_euler",
        threshold="v > 0*mV",
        refractory="v > 0*mV",
        namespace=ns,
    )
    group.v = -65 * mV
    group.m, group.h, group.n = 0.05293, 0.5961, 0.3177  # steady state at −65 mV
    monitor = SpikeMonitor(group)
    run(T1 * ms)
    t = time.perf_counter()
    device.build(directory=workdir, compile=True, run=False)
    build = time.perf_counter() - t
    loop_times, walls = [], []
    for _ in range(repeats):
        t = time.perf_counter()
        device.run(directory=workdir, with_output=False, run_args=[])
        walls.append(time.perf_counter() - t)
        loop_times.append(device._last_run_time)
    return {
        "compile_s": build,
        "best_s": min(loop_times),
        "best_wall_incl_process_s": min(walls),
        "rss_peak_mb": float("nan"),  # the simulation runs in its own C++ process
        "output_mb": monitor.num_spikes * 12 / 2**20,
        "spikes_per_cell": monitor.num_spikes / n,
        "threads": threads,
    }


# --- driver ------------------------------------------------------------------------------------


#: XLA:CPU's setting for 512-bit vectors (membrax.simulate.cpu_compiler_options).
WIDE = "--xla_cpu_prefer_vector_width=512"


def _xla_flags(flags):
    """XLA_FLAGS for a worker: this process's own XLA_FLAGS (e.g. a vector width to compare
    with) and then `flags`."""
    return {"XLA_FLAGS": f"{os.environ.get('XLA_FLAGS', '')} {flags}".strip()}


def spawn(python, args, env=None, timeout=1800):
    cmd = [python, os.path.abspath(__file__), "--worker", json.dumps(args)]
    full_env = dict(os.environ, **(env or {}))
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    full_env["PYTHONPATH"] = root + os.pathsep + full_env.get("PYTHONPATH", "")
    try:
        out = subprocess.run(
            cmd, env=full_env, capture_output=True, text=True, timeout=timeout, check=True
        )
    except subprocess.CalledProcessError as e:
        return {"error": (e.stderr or "")[-400:]}
    except subprocess.TimeoutExpired:
        return {"error": "timeout"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_round(args, report, xla):
    """One pass over every size, dtype, recording and peer."""
    for size in args.sizes:
        n = int(size)
        for dtype in args.dtypes:
            for record in args.records:
                job = {"kind": "membrax", "n": n, "dtype_name": dtype, "record": record}
                res = spawn(sys.executable, {**job, "repeats": args.repeats}, xla)
                report(
                    {
                        "simulator": f"membrax[{record}]",
                        "cells": n,
                        "dtype": dtype,
                        "result": res,
                    }
                )
            # "jaxley-wide": Jaxley compiled for 512-bit vectors too, as membrax's
            # simulate_population is on AVX-512 CPUs (the same XLA setting for both).
            jaxleys = (
                ("jaxley", "jaxley[trace]", None),
                ("jaxley-wide", "jaxley-512bit[trace]", WIDE),
            )
            for peer, name, flags in jaxleys:
                if peer not in args.peers:
                    continue
                job = {"kind": "jaxley", "n": n, "dtype_name": dtype, "repeats": args.repeats}
                env = None if flags is None else _xla_flags(flags)
                report(
                    {
                        "simulator": name,
                        "cells": n,
                        "dtype": dtype,
                        "result": spawn(args.peer_python, job, env),
                    }
                )
            if "brian2" in args.peers:
                job = {
                    "kind": "brian2",
                    "n": n,
                    "threads": args.threads,
                    "dtype_name": dtype,
                    "repeats": min(args.repeats, 3),
                }
                report(
                    {
                        "simulator": f"brian2-cpp[{args.threads}thr]",
                        "cells": n,
                        "dtype": dtype,
                        "result": spawn(args.peer_python, job),
                    }
                )
        if "neuron" in args.peers:
            for core in [False, True] if args.coreneuron else [False]:
                job = {
                    "kind": "neuron",
                    "n": n,
                    "threads": args.threads,
                    "repeats": args.repeats,
                    "coreneuron": core,
                }
                name = "coreneuron" if core else "neuron"
                report(
                    {
                        "simulator": f"{name}[{args.threads}thr]",
                        "cells": n,
                        "dtype": "float64",
                        "result": spawn(args.peer_python, job),
                    }
                )


def print_ratios(rows):
    """Per size and dtype: membrax's speed-up over each peer in every round, and the median."""
    ratios = {}
    for row in rows:
        if "error" in row["result"] or not row["simulator"].startswith("membrax"):
            continue
        for peer in rows:
            same = (peer["round"], peer["cells"], peer["dtype"]) == (
                row["round"],
                row["cells"],
                row["dtype"],
            )
            if not same or peer["simulator"].startswith("membrax") or "error" in peer["result"]:
                continue
            key = (row["cells"], row["dtype"], row["simulator"], peer["simulator"])
            ratios.setdefault(key, []).append(peer["result"]["best_s"] / row["result"]["best_s"])
    for (n, dtype, ours, theirs), values in sorted(ratios.items()):
        rounds = " ".join(f"{v:.2f}" for v in values)
        median = (
            sorted(values)[len(values) // 2]
            if len(values) % 2
            else (sum(sorted(values)[len(values) // 2 - 1 : len(values) // 2 + 1]) / 2)
        )
        print(f"N={n:>6d} {dtype:7s} {ours:>16s} vs {theirs:<18s} {rounds}  median {median:.2f}x")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--sizes", nargs="+", type=float, default=[1, 1e2, 1e3, 1e4])
    parser.add_argument("--dtypes", nargs="+", default=["float64", "float32"])
    parser.add_argument("--records", nargs="+", default=["spikes", "trace"])
    parser.add_argument("--peers", nargs="*", default=["jaxley", "neuron", "brian2"])
    parser.add_argument("--peer-python", default=sys.executable)
    parser.add_argument("--devices", type=int, default=2, help="XLA host devices for membrax")
    parser.add_argument("--threads", type=int, default=2, help="NEURON / Brian2 threads")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--grad", action="store_true", help="time per-cell gradients, N=1000")
    parser.add_argument("--coreneuron", action="store_true", help="also try CoreNEURON")
    parser.add_argument("--out", default=None)
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="repeat every simulator this many times, interleaved, and report the ratios of "
        "each round and their median (this machine's speed drifts over minutes)",
    )
    args = parser.parse_args()

    if args.worker:
        w = json.loads(args.worker)
        kind = w.pop("kind")
        result = {
            "membrax": work_membrax,
            "jaxley": work_jaxley,
            "neuron": work_neuron,
            "brian2": work_brian2,
        }[kind](**w)
        print(json.dumps(result))
        return

    xla = _xla_flags(f"--xla_force_host_platform_device_count={args.devices}")
    rows = []

    def report(row):
        row["round"] = current_round
        rows.append(row)
        r = row["result"]
        if "error" in r:
            print(f"{row['simulator']:>22s} N={row['cells']:>6d} {row['dtype']}: {r['error']!r}")
            return
        rate = row["cells"] * STEPS / r["best_s"]
        row["neuron_steps_per_s"] = rate
        print(
            f"{row['simulator']:>22s} N={row['cells']:>6d} {row['dtype']:7s} "
            f"run {r['best_s']:8.4f} s  {rate:10.3e} neuron-steps/s  "
            f"compile {r['compile_s']:6.2f} s  peak RSS {r.get('rss_peak_mb', float('nan')):7.0f}"
            f" MB (+{r.get('rss_growth_mb', float('nan')):6.0f})  "
            f"output {r['output_mb']:8.2f} MB  spikes/cell {r['spikes_per_cell']:.1f}"
            + (f"  devices {r['devices_used']}" if "devices_used" in r else ""),
            flush=True,
        )

    for current_round in range(args.rounds):
        if args.rounds > 1:
            print(f"--- round {current_round + 1} of {args.rounds}", flush=True)
        run_round(args, report, xla)
    if args.rounds > 1:
        print_ratios(rows)
    grad = None
    if args.grad:
        job = {
            "kind": "membrax",
            "n": 1000,
            "dtype_name": "float64",
            "record": "trace",
            "repeats": args.repeats,
            "grad": True,
        }
        grad = spawn(sys.executable, job, xla)
        print(f"per-cell gradient w.r.t. (g_Na, g_K, g_L), N=1000, float64: {grad}")
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"args": vars(args), "rows": rows, "grad": grad}, f, indent=1)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
