r"""Populations of cells: one cell model `vmap`ped over parameters and stimuli, spread over
every available device, and per-cell gradients of a population loss.

**Every core on a CPU.** XLA runs one program on about one core. Split the host into
several XLA devices *before JAX is imported* and shard the population over them:

```bash
XLA_FLAGS=--xla_force_host_platform_device_count=2 python my_script.py   # 2 cores
```

then `membrax.simulate_population(cells, stimulus, t1=100.0)` puts one shard of cells on
each device (each runs on its own thread). On GPUs and TPUs the same call uses every
accelerator of the process.

On x86-64 CPUs with AVX-512 the population program is compiled for 512-bit vectors
(`cpu_compiler_options`), ~1.2× faster than XLA's default 256.

**Several hosts.** Call `jax.distributed.initialize()` at the start of the script on every
host (the coordinator address, process count and id come from the cluster environment or as
arguments); `jax.devices()` then lists the devices of all hosts, `population_mesh()` spans
them, and `simulate_population` runs each host's shard where it lives. Each host builds the
same `cells` (e.g. from a shared seed); read back only the addressable shards
(`record.v.addressable_shards`) or reduce on device (e.g. a mean firing rate) before
fetching.
"""

import dataclasses
import functools
import math
import os
import platform

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec
from jaxtyping import Array, PyTree

from ..models._cell import PointCell
from ..protocols._current import AbstractStimulus
from ._current_clamp import CurrentClampRecord, current_clamp

#: The name of the population axis of the meshes built here.
CELL_AXIS = "cells"
#: simulate_population's default mesh gives each device at least this many cells.
_MIN_CELLS = 256
#: CPU chunks hold a multiple of this many cells: one 512-bit vector of float32.
_ALIGN = 16


def population_mesh(devices=None) -> Mesh:
    """A 1-D device mesh over `devices` (default: every device, `jax.devices()`), its one
    axis named "cells": the layout for sharding a population of independent cells."""
    devices = jax.devices() if devices is None else list(devices)
    if not devices:
        raise ValueError("population_mesh: devices is empty; give at least one device.")
    return Mesh(np.asarray(devices), (CELL_AXIS,))


def _leading_size(tree, where):
    sizes = {jnp.shape(x)[0] for x in jax.tree.leaves(tree) if jnp.ndim(x) >= 1}
    scalars = [x for x in jax.tree.leaves(tree) if jnp.ndim(x) == 0]
    if len(sizes) != 1 or scalars:
        raise ValueError(
            f"{where}: every array of a population must have the same leading (cell) axis, got "
            f"leading sizes {sorted(sizes)}" + (" and scalars" if scalars else "") + ". Build "
            "the population with jax.vmap over a constructor, e.g. "
            "jax.vmap(lambda g: membrax.models.hh1952_cell(g_na=g))(g_values)."
        )
    return sizes.pop()


def shard_population(tree: PyTree, mesh: Mesh | None = None) -> PyTree:
    """Place every array of `tree` on `mesh` (default `population_mesh()`), split along its
    leading (cell) axis: cell i lives on one device, and `jit`ted computations on it run
    where the data are. The leading size must be a multiple of the device count (see
    `simulate_population`, which pads)."""
    mesh = population_mesh() if mesh is None else mesh
    n = _leading_size(tree, "shard_population")
    k = mesh.devices.size
    if n % k:
        raise ValueError(
            f"shard_population: {n} cells do not split evenly over {k} devices; pad the "
            f"population to a multiple of {k} (simulate_population does this for you)."
        )
    sharding = NamedSharding(mesh, PartitionSpec(CELL_AXIS))
    return jax.device_put(tree, sharding)  # one batched transfer for every leaf


def _pad(tree, pad):
    if not pad:
        return tree
    return jax.tree.map(
        lambda x: jnp.concatenate([x, jnp.repeat(x[-1:], pad, axis=0)], axis=0), tree
    )


def _default_chunk():
    # XLA:CPU materialises intermediate arrays between fusions, so a step's working set
    # (~40 arrays) should stay in cache: 10⁵ HH cells on 2 cores took 3.5 s in chunks of
    # ≤ 2048, 3.7 s in chunks of ≤ 1024 and 4.2 s unchunked (AVX-512, float64).
    # Accelerators want every cell in one kernel.
    return 2048 if jax.default_backend() == "cpu" else None


def _split_record(record):
    """(per-cell part, shared part): the sample times, end time and solver result are the
    same for every cell, and are kept once rather than once per cell."""
    shared = (record.ts, record.t_final, record.result)
    return dataclasses.replace(record, ts=None, t_final=None, result=None), shared


@functools.cache
def _has_avx512() -> bool:
    """Whether this x86-64 CPU has AVX-512 (read once from /proc/cpuinfo; False elsewhere)."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return False
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return "avx512f" in line.split()
    except OSError:
        pass
    return False


def cpu_compiler_options(devices=None) -> dict:
    """The XLA compile options membrax uses for its own CPU programs, for `jax.jit(...,
    compiler_options=...)` around your own membrax code: `{"xla_cpu_prefer_vector_width":
    512}` on x86-64 CPUs with AVX-512, otherwise `{}`.

    XLA:CPU vectorises with 256-bit registers by default, also where 512-bit ones exist. A
    Hodgkin–Huxley population step is elementwise arithmetic and `exp` on every cell, and
    runs ~1.2× faster with 512-bit vectors (AMD EPYC, Zen 4; see benchmarks/README.md).
    Results agree to rounding. Returns `{}` when `devices` (default: `jax.devices()`) are
    not all CPUs, or when `XLA_FLAGS` already sets `xla_cpu_prefer_vector_width` (your
    setting wins; `--xla_cpu_prefer_vector_width=256` turns this off).
    """
    devices = jax.devices() if devices is None else list(devices)
    if not devices or any(d.platform != "cpu" for d in devices):
        return {}
    if "xla_cpu_prefer_vector_width" in os.environ.get("XLA_FLAGS", ""):
        return {}
    return {"xla_cpu_prefer_vector_width": 512} if _has_avx512() else {}


def _untraced() -> bool:
    """Whether no JAX transformation (jit, grad, vmap, …) is tracing the current call: JAX
    takes compile options only on a top-level `jit`, and rejects them on a nested one."""
    try:
        from jax._src.core import trace_state_clean
    except ImportError:  # a later JAX moved it: assume traced, compile without options
        return False
    return trace_state_clean()


@functools.cache
def _population_program(options: tuple):
    """The jitted population run for these compile options (a sorted tuple of items)."""
    return eqx.filter_jit(_run_population, compiler_options=dict(options) or None)


def _run_population(cells, stimulus, t1, dt, solver, save, batched_stimulus, mesh, size):
    def one(cell, stim):
        record = current_clamp(cell, stim, t1=t1, dt=dt, solver=solver, save=save)
        return _split_record(record)

    in_axes = (0, 0 if batched_stimulus else None)
    batch = jax.vmap(one, in_axes=in_axes, out_axes=(0, None))

    def local(cells, stimulus):
        # This device's cells, in chunks of `size` simulated one after another. The last
        # chunk ends at the last cell, overlapping the one before it where `size` does not
        # divide the count: no padding cells, and each chunk's record is written in place
        # into the device's output (the overlap twice, with the same values).
        n = _leading_size(cells, "simulate_population")
        if size >= n:
            return batch(cells, stimulus)
        starts = np.minimum(np.arange(-(-n // size)) * size, n - size).astype(np.int32)

        def take(tree, start):
            return jax.tree.map(lambda x: jax.lax.dynamic_slice_in_dim(x, start, size), tree)

        def chunk(start):
            return batch(
                take(cells, start), take(stimulus, start) if batched_stimulus else stimulus
            )

        shapes, _ = jax.eval_shape(chunk, starts[0])
        out = jax.tree.map(lambda x: jnp.zeros((n, *x.shape[1:]), x.dtype), shapes)

        def body(out, start):
            per_cell, shared = chunk(start)
            out = jax.tree.map(
                lambda o, y: jax.lax.dynamic_update_slice_in_dim(o, y, start, axis=0),
                out,
                per_cell,
            )
            return out, shared

        out, shared = jax.lax.scan(body, out, starts)
        return out, jax.tree.map(lambda x: x[0], shared)

    spec = PartitionSpec(CELL_AXIS)
    sharded = jax.shard_map(
        local,
        mesh=mesh,
        in_specs=(spec, spec if batched_stimulus else PartitionSpec()),
        out_specs=(spec, PartitionSpec()),
        # The simulation creates fresh per-cell carries (counters, buffers) inside; cells
        # never communicate, so the varying-axis bookkeeping has nothing to check.
        check_vma=False,
    )
    return sharded(cells, stimulus)


def simulate_population(
    cells: PointCell,
    stimulus: AbstractStimulus,
    *,
    t1: float,
    dt: float | None = None,
    solver=None,
    save=None,
    batched_stimulus: bool = False,
    mesh: Mesh | None = None,
    chunk_size: int | None = None,
) -> CurrentClampRecord:
    """Simulate a population of cells under current clamp, sharded over every device.

    Equivalent to `jax.jit(jax.vmap(lambda c: current_clamp(c, stimulus, ...)))(cells)`, with
    the cells split over the devices of `mesh` (each device simulates its own cells, with no
    communication) and, on CPUs, in cache-sized chunks. The population is padded only to
    give every device the same number of cells (the padding is dropped from the result);
    within a device the last chunk overlaps the one before it instead. On a CPU, run
    with `XLA_FLAGS=--xla_force_host_platform_device_count=<cores>` to use every core (see
    the module docstring); on AVX-512 CPUs the program is compiled with
    [`membrax.simulate.cpu_compiler_options`][].

    **Arguments:**

    - `cells`: a [`membrax.models.PointCell`][] whose every array has a leading cell axis
      (build it with `jax.vmap` over a constructor).
    - `stimulus`: one stimulus for all cells, or (with `batched_stimulus=True`) a stacked
      family with the same leading axis.
    - `t1`, `dt`, `solver`, `save`: as for [`membrax.current_clamp`][].
    - `mesh`: a 1-D mesh (default: all devices, `population_mesh()`, but at least 256 cells
      per device — smaller shards cost more in synchronisation than they save; with several
      processes under `jax.distributed`, every device of every process).
    - `chunk_size`: at most this many cells per vectorised chunk on each device (default:
      2048 on CPU, where it keeps a step's working set in cache; unlimited on accelerators).
      Chunks hold a multiple of 16 cells (whole vectors) where that stays within
      `chunk_size`.

    **Returns:** a [`membrax.CurrentClampRecord`][] whose per-cell arrays have a leading cell
    axis (e.g. `.v` of shape (cells, samples)), sharded over the devices; `.ts`, `.t_final`
    and `.result`, the same for every cell, are stored once (`.ts` of shape (samples,)).
    """
    n = _leading_size(cells, "simulate_population")
    if mesh is None and jax.process_count() > 1:
        # Several processes (jax.distributed): every process must take part, so every
        # device of every process gets cells, however few.
        mesh = population_mesh()
    elif mesh is None:
        # Below a few hundred cells per device, synchronising the devices every run costs
        # more than splitting saves: use only as many devices as the population fills.
        devices = jax.devices()
        mesh = population_mesh(devices[: max(1, min(len(devices), n // _MIN_CELLS))])
    if len(mesh.axis_names) != 1:
        raise ValueError(
            f"simulate_population: mesh must be 1-D (see population_mesh), got axes "
            f"{mesh.axis_names}."
        )
    if mesh.axis_names != (CELL_AXIS,):
        mesh = Mesh(mesh.devices, (CELL_AXIS,))
    if batched_stimulus and _leading_size(stimulus, "simulate_population (stimulus)") != n:
        raise ValueError(
            "simulate_population: a batched stimulus needs one stimulus per cell "
            f"({n}), got {_leading_size(stimulus, 'simulate_population')}."
        )
    chunk_size = _default_chunk() if chunk_size is None else chunk_size
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size < 1):
        raise ValueError(
            f"simulate_population: chunk_size must be an int >= 1 or None, got {chunk_size!r}."
        )
    k = mesh.devices.size
    per_device = -(-n // k)
    chunks = 1 if chunk_size is None else -(-per_device // chunk_size)
    size = -(-per_device // chunks)
    aligned = -(-size // _ALIGN) * _ALIGN
    if chunks > 1 and aligned <= chunk_size:
        # Whole vectors per chunk: a chunk of 1021 cells took 1.2× longer than one of 1024
        # (the remainder loop of every fusion costs more than recomputing a few cells
        # where the last chunk overlaps the one before it).
        size = aligned
    # Padding only to share the cells evenly between devices.
    pad = k * per_device - n
    cells = shard_population(_pad(cells, pad), mesh)
    if batched_stimulus:
        stimulus = shard_population(_pad(stimulus, pad), mesh)
    options = cpu_compiler_options(mesh.devices.flat) if _untraced() else {}
    options = tuple(sorted(options.items()))
    per_cell, (ts, t_final, result) = _population_program(options)(
        cells, stimulus, t1, dt, solver, save, batched_stimulus, mesh, size
    )
    if pad:
        per_cell = jax.tree.map(lambda x: x[:n], per_cell)
    return dataclasses.replace(per_cell, ts=ts, t_final=t_final, result=result)


def per_cell_grad(fn, params: PyTree, *, forward: bool | None = None) -> tuple[Array, PyTree]:
    r"""Values and per-cell gradients of a population of independent cell losses.

    `fn(params)` returns one loss per cell, shape (N,), where cell i depends only on
    `params` slice i (every leaf has the leading cell axis). Then
    $\partial \ell_i/\partial\theta_i$ for all i comes from one sweep:

    - reverse mode (`forward=False`): one vector–Jacobian product with cotangent 1 (the
      gradient of $\sum_i \ell_i$). Through [`membrax.current_clamp`][]'s fixed-step path
      the steps are checkpointed in blocks, so memory grows like √T.
    - forward mode (`forward=True`): one Jacobian–vector product per parameter *per cell*
      (P of them, all cells at once), carried alongside the simulation: no stored
      trajectory at all, best when each cell has few parameters.

    Default (None): forward mode when P ≤ 4.

    **Returns:** `(losses, grads)`, `grads` shaped like `params`.
    """
    n = _leading_size(params, "per_cell_grad")
    leaves, treedef = jax.tree.flatten(params)
    sizes = [math.prod(jnp.shape(x)[1:]) for x in leaves]
    p = sum(sizes)
    if forward is None:
        forward = p <= 4
    if not forward:
        losses, vjp = jax.vjp(fn, params)
        if jnp.shape(losses) != (n,):
            raise ValueError(
                f"per_cell_grad: fn must return one loss per cell, shape ({n},), got "
                f"{jnp.shape(losses)}."
            )
        (grads,) = vjp(jnp.ones_like(losses))
        return losses, grads

    def tangent(j):
        # Parameter component j of every cell set to 1, everything else 0.
        out, offset = [], 0
        for x, size in zip(leaves, sizes):
            local = jnp.arange(size).reshape(jnp.shape(x)[1:]) + offset
            out.append(jnp.broadcast_to(local == j, jnp.shape(x)).astype(jnp.result_type(x)))
            offset += size
        return jax.tree.unflatten(treedef, out)

    def jvp(j):
        return jax.jvp(fn, (params,), (tangent(j),))

    losses, derivs = jax.vmap(jvp, out_axes=(None, 0))(jnp.arange(p))
    if jnp.shape(losses) != (n,):
        raise ValueError(
            f"per_cell_grad: fn must return one loss per cell, shape ({n},), got "
            f"{jnp.shape(losses)}."
        )
    # derivs[j, i] = dℓ_i/dθ_{i, j}: scatter the P rows back into the leaves.
    grads, offset = [], 0
    for x, size in zip(leaves, sizes):
        block = derivs[offset : offset + size].T.reshape(jnp.shape(x))
        grads.append(block.astype(jnp.result_type(x)))
        offset += size
    return losses, jax.tree.unflatten(treedef, grads)
