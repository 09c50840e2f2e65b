r"""A population of Hodgkin–Huxley cells sharded over several processes with `jax.distributed`.

Every process runs this same script. Together they build one global population of
[`membrax.models.hh1952_cell`][]s with varied g_Na and g_K (deterministic from a seed),
shard it over the devices of all processes, simulate it with
[`membrax.simulate_population`][] under a current step, and count each cell's spikes.
Process 0 gathers the per-cell results, writes them to an `.npz` file and prints a summary.

Two processes on one machine, two CPU devices each (four shards):

```bash
for k in 0 1; do
  python examples/distributed_population.py --process-id $k --num-processes 2 \
      --coordinator localhost:12355 --local-devices 2 --cells 4096 --out spikes.npz &
done; wait
```

The same population in one process without `jax.distributed`, for comparison:

```bash
python examples/distributed_population.py --reference --cells 4096 --out reference.npz
```

On a cluster, leave out `--coordinator`, `--num-processes` and `--process-id`:
`jax.distributed.initialize()` then reads them from SLURM or Open MPI (see
`docs/distributed.md`); pass `--platform gpu` to use the GPUs.

The population is built shard by shard: cell i's conductances come from
`jax.random.fold_in(key, i)`, so each process makes only its own cells, and the population is
the same whatever the number of processes (and in `--reference` mode).

Output (`--out`, written by process 0): `g_na`, `g_k` (mS/cm²), `spike_count` (per cell),
`first_spike` (ms, +inf if none), `v_final` (mV at `t_final`), `v_sample` (mV, every
`--sample-every` steps, shape (cells, samples); not with `--sample-every 0`) and its times
`ts` (ms), and `processes`, `devices`;
with `--grad` also `dfirst_dg_na`, `dfirst_dg_k`: the derivatives of each cell's first spike
time with respect to its g_Na and g_K (ms per mS/cm², 0 for cells that do not fire).
"""

import argparse
import os
import sys
import time

# Fixed parameters of the experiment (HH 1952 defaults: g_Na = 120, g_K = 36 mS/cm²).
G_NA = 120.0  # mS/cm², the centre of the g_Na range
G_K = 36.0  # mS/cm², the centre of the g_K range
SPREAD = 0.3  # conductances are drawn uniformly within ±30 % of the centre
STIM_START = 2.0  # ms


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Simulate a population of HH cells sharded over several processes.",
    )
    cluster = parser.add_argument_group("jax.distributed (omit all three to autodetect)")
    cluster.add_argument("--coordinator", help="host:port of process 0, e.g. localhost:12355")
    cluster.add_argument("--num-processes", type=int, help="how many processes in all")
    cluster.add_argument("--process-id", type=int, help="this process, 0 … num_processes-1")
    parser.add_argument(
        "--reference",
        action="store_true",
        help="one process, no jax.distributed, the whole population on one device",
    )
    parser.add_argument("--cells", type=int, default=4096, help="population size (4096)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the conductances (0)")
    parser.add_argument("--t1", type=float, default=100.0, help="simulated time, ms (100)")
    parser.add_argument("--dt", type=float, default=0.02, help="time step, ms (0.02)")
    parser.add_argument(
        "--amplitude", type=float, default=10.0, help="current step from 2 ms on, µA/cm² (10)"
    )
    parser.add_argument(
        "--sample-every",
        type=int,
        default=250,
        help="keep V every this many steps; 0: no trace, spikes only (250)",
    )
    parser.add_argument(
        "--platform",
        choices=("cpu", "gpu", "auto"),
        default="cpu",
        help="cpu (default): host devices, --local-devices per process; gpu: the GPUs "
        "visible to the process; auto: whatever JAX finds",
    )
    parser.add_argument(
        "--local-devices",
        type=int,
        default=1,
        help="CPU devices per process (--platform cpu only; at most one per core) (1)",
    )
    parser.add_argument(
        "--grad",
        action="store_true",
        help="also the per-cell gradient of the first spike time w.r.t. g_Na and g_K",
    )
    parser.add_argument("--x64", action="store_true", help="simulate in float64")
    parser.add_argument("--out", default="spikes.npz", help="output file (spikes.npz)")
    args = parser.parse_args(argv)

    given = [args.coordinator, args.num_processes, args.process_id]
    if args.reference and any(x is not None for x in given):
        parser.error(
            "--reference runs a single process: drop --coordinator/--num-processes/--process-id."
        )
    if any(x is None for x in given) and any(x is not None for x in given):
        parser.error(
            "give all of --coordinator, --num-processes and --process-id, or none of them "
            "(then jax.distributed.initialize() reads them from SLURM or Open MPI)."
        )
    for name in ("cells", "local_devices"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}.")
    if args.sample_every < 0:
        parser.error(f"--sample-every must be >= 0 (0: no trace), got {args.sample_every}.")
    if args.platform != "cpu" and args.local_devices != 1:
        parser.error("--local-devices applies to --platform cpu only.")
    return args


def configure(args):
    """Set up JAX before it touches a device: platform, CPU device count, dtype, and the
    cluster. Returns the `jax` module."""
    if args.platform == "cpu":
        # Before JAX starts: a CPU-only run must not try (and wait for) a GPU plugin.
        os.environ["JAX_PLATFORMS"] = "cpu"
    elif args.platform == "gpu":
        os.environ["JAX_PLATFORMS"] = "cuda"
    import jax

    if args.x64:
        jax.config.update("jax_enable_x64", True)
    if args.platform == "cpu":
        # One XLA device per core, as XLA_FLAGS=--xla_force_host_platform_device_count=D does.
        jax.config.update("jax_num_cpu_devices", args.local_devices)
        # Cross-process collectives on CPU (gathering results, global reductions) go through
        # gloo; it is the default in jax 0.10, set here so older versions behave the same.
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
    if not args.reference:
        # Must come before any other JAX call that touches a device. With no arguments it
        # reads the coordinator, process count and id from SLURM or Open MPI.
        # Given explicitly, the three arguments are used as they are ("deactivate": a SLURM
        # or MPI environment around the run must not override them, nor pick the devices).
        explicit = args.coordinator is not None
        jax.distributed.initialize(
            coordinator_address=args.coordinator,
            num_processes=args.num_processes,
            process_id=args.process_id,
            cluster_detection_method="deactivate" if explicit else None,
        )
    return jax


def conductances(indices, seed):
    """(g_Na, g_K) of the cells with these global indices, mS/cm², uniform within ±30 % of
    120 and 36. A counter-based draw: cell i gets the same values on any process, in any
    shard layout, without any process making the whole population."""
    import jax
    import jax.numpy as jnp

    key = jax.random.key(seed)

    def one(i):
        u = jax.random.uniform(jax.random.fold_in(key, i), (2,), dtype=jnp.result_type(float))
        scale = 1.0 + SPREAD * (2.0 * u - 1.0)
        return G_NA * scale[0], G_K * scale[1]

    return jax.jit(jax.vmap(one))(jnp.asarray(indices))


def make_population(indices, seed):
    """The cells of these global indices: `{"cells": PointCell, "g_na": …, "g_k": …}`, every
    leaf with a leading cell axis."""
    import jax

    from membrax.models import hh1952_cell

    g_na, g_k = conductances(indices, seed)
    cells = jax.vmap(lambda a, b: hh1952_cell(g_na=a, g_k=b))(g_na, g_k)
    return {"cells": cells, "g_na": g_na, "g_k": g_k}


def local_block(sharding, n):
    """The contiguous range [start, stop) of global cell indices that this process's
    devices hold under `sharding`."""
    import jax

    slices = sharding.addressable_devices_indices_map((n,)).values()
    bounds = sorted((s[0].indices(n)[0], s[0].indices(n)[1]) for s in slices)
    start, stop = bounds[0][0], bounds[-1][1]
    if sum(b - a for a, b in bounds) != stop - start:
        raise ValueError(
            f"the devices of process {jax.process_index()} hold cells {bounds}, not one "
            "contiguous block; build the mesh with membrax.simulate.population_mesh(), "
            "which orders the devices by process."
        )
    return start, stop


def simulate(cells, mesh, args):
    import membrax

    save = membrax.SaveSpikes(max_spikes=1)
    if args.sample_every:
        save = (membrax.SaveTrace(every=args.sample_every), save)
    stimulus = membrax.CurrentStep(args.amplitude, STIM_START, args.t1)
    # mesh=None: under jax.distributed the default mesh is every device of every process,
    # the same as `mesh` (passed explicitly to the gradient below, to show both).
    del mesh
    return membrax.simulate_population(cells, stimulus, t1=args.t1, dt=args.dt, save=save)


def first_spike_gradients(g_na, g_k, mesh, args):
    """d(first spike time)/d(g_Na, g_K) of every cell, ms per mS/cm² (0 where a cell does not
    fire): [`membrax.simulate.per_cell_grad`][] in forward mode (two parameters per cell)
    through a sharded `simulate_population`. Each device differentiates its own cells; no
    cell's data leave its device."""
    import jax
    import jax.numpy as jnp

    import membrax
    from membrax.models import hh1952_cell

    stimulus = membrax.CurrentStep(args.amplitude, STIM_START, args.t1)

    def first_spike(g):
        cells = jax.vmap(lambda a, b: hh1952_cell(g_na=a, g_k=b))(*g)
        record = membrax.simulate_population(
            cells,
            stimulus,
            t1=args.t1,
            dt=args.dt,
            save=membrax.SaveSpikes(max_spikes=1),
            mesh=mesh,
        )
        t = record.spike_times[:, 0]
        # No spike: the slot holds +inf (a constant, so its derivative is 0, not NaN).
        return jnp.where(jnp.isfinite(t), t, 0.0)

    _, grads = jax.jit(lambda g: membrax.simulate.per_cell_grad(first_spike, g))((g_na, g_k))
    return {"dfirst_dg_na": grads[0], "dfirst_dg_k": grads[1]}


def per_cell_outputs(record, g_na, g_k):
    outputs = {
        "g_na": g_na,
        "g_k": g_k,
        "spike_count": record.spike_count,
        "first_spike": record.spike_times[:, 0],
        "v_final": record.final.v,
    }
    if record.v is not None:
        outputs["v_sample"] = record.v
    return outputs


def run_distributed(jax, args):
    import numpy as np
    from jax.experimental import multihost_utils
    from jax.sharding import NamedSharding, PartitionSpec

    import membrax

    n = args.cells
    # Every device of every process, in one 1-D mesh: process k's devices are one block.
    mesh = membrax.simulate.population_mesh(jax.devices())
    k = mesh.devices.size
    if n % k:
        raise SystemExit(
            f"--cells {n} does not split over {k} devices; give a multiple of {k} "
            "(processes × local devices)."
        )
    sharding = NamedSharding(mesh, PartitionSpec(mesh.axis_names[0]))
    start, stop = local_block(sharding, n)

    # This process makes only its own cells, then every leaf becomes a global array of n cells
    # of which this process holds [start, stop): no process ever holds the whole population.
    local = make_population(np.arange(start, stop), args.seed)
    population = jax.tree.map(
        lambda x: jax.make_array_from_process_local_data(
            sharding, np.asarray(x), (n, *x.shape[1:])
        ),
        local,
    )
    cells, g_na, g_k = population["cells"], population["g_na"], population["g_k"]

    tic = time.perf_counter()
    record = simulate(cells, mesh, args)
    # A reduction on the devices (cells never leave their process): the global spike total.
    total = jax.jit(lambda c: c.sum(), out_shardings=NamedSharding(mesh, PartitionSpec()))(
        record.spike_count
    )
    total = int(total.addressable_data(0))
    wall = time.perf_counter() - tic

    results = per_cell_outputs(record, g_na, g_k)
    if args.grad:
        results.update(first_spike_gradients(g_na, g_k, mesh, args))

    # Gather every cell's results onto every process (small here: a few numbers per cell; for
    # big traces write each process's `addressable_shards` to its own file instead).
    outputs = multihost_utils.process_allgather(results, tiled=True)
    if record.ts is not None:
        outputs["ts"] = np.asarray(record.ts)  # the same for every cell: replicated
    if jax.process_index() == 0:
        finish(outputs, total, wall, jax.process_count(), k, args)


def run_reference(jax, args):
    import numpy as np

    import membrax

    n = args.cells
    population = make_population(np.arange(n), args.seed)
    cells, g_na, g_k = population["cells"], population["g_na"], population["g_k"]
    mesh = membrax.simulate.population_mesh(jax.devices()[:1])
    tic = time.perf_counter()
    record = simulate(cells, mesh, args)
    total = int(record.spike_count.sum())
    wall = time.perf_counter() - tic
    results = per_cell_outputs(record, g_na, g_k)
    if args.grad:
        results.update(first_spike_gradients(g_na, g_k, mesh, args))
    outputs = jax.tree.map(np.asarray, results)
    if record.ts is not None:
        outputs["ts"] = np.asarray(record.ts)  # the same for every cell: replicated
    finish(outputs, total, wall, 1, 1, args)


def finish(outputs, total, wall, processes, devices, args):
    import numpy as np

    counts = outputs["spike_count"]
    if int(counts.sum()) != total:
        raise RuntimeError(
            f"the gathered spike counts sum to {int(counts.sum())}, the on-device total is {total}."
        )
    np.savez(args.out, processes=processes, devices=devices, **outputs)
    rate = 1000.0 * counts.mean() / (args.t1 - STIM_START)  # Hz
    print(
        f"{len(counts)} cells on {devices} device(s) in {processes} process(es): "
        f"{total} spikes, {np.mean(counts > 0):.1%} of cells fired, mean rate {rate:.1f} Hz "
        f"during the step; simulated in {wall:.2f} s (with compilation). Wrote {args.out}."
    )


def main(argv=None):
    args = parse_args(argv)
    jax = configure(args)
    if args.reference:
        run_reference(jax, args)
    else:
        run_distributed(jax, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
