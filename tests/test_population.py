"""Populations: vmap over cells equals a loop, simulate_population (chunked, padded, sharded
over two host devices in a subprocess) equals vmap, per-cell gradients in forward and
reverse mode against central differences, and reverse-mode memory growing like √T."""

import json
import os
import pathlib
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import membrax
from membrax.models import hh1952_cell

STIM = membrax.CurrentStep(10.0, 2.0, 40.0)
SAVE = (membrax.SaveTrace(every=10), membrax.SaveSpikes(max_spikes=8))
G_NA = jnp.array([100.0, 115.0, 120.0, 130.0, 150.0])


def _cells(g_na=G_NA):
    return jax.vmap(lambda g: hh1952_cell(g_na=g, g_k=36.0 - 0.05 * (g - 120.0)))(g_na)


def _one(cell):
    return membrax.current_clamp(cell, STIM, t1=45.0, save=SAVE)


@pytest.fixture(scope="module")
def vmapped():
    return jax.jit(jax.vmap(_one))(_cells())


def test_vmap_equals_a_loop(vmapped):
    single = jax.jit(_one)
    for k, g in enumerate(G_NA):
        r = single(hh1952_cell(g_na=g, g_k=36.0 - 0.05 * (g - 120.0)))
        np.testing.assert_allclose(vmapped.v[k], r.v, rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(vmapped.spike_count[k], r.spike_count)
        np.testing.assert_allclose(vmapped.spike_times[k], r.spike_times, rtol=1e-12)
    # The population really differs from cell to cell.
    assert len(set(np.asarray(vmapped.spike_count).tolist())) > 1


def test_simulate_population_chunks_and_pads_like_vmap(vmapped):
    # 5 cells in chunks of 2: cells 0–1, 2–3 and 3–4 (the last chunk overlaps).
    record = membrax.simulate_population(_cells(), STIM, t1=45.0, save=SAVE, chunk_size=2)
    assert record.v.shape == vmapped.v.shape == (5, 226)
    # The sample times are stored once, not once per cell.
    assert record.ts.shape == (226,)
    np.testing.assert_array_equal(record.ts, vmapped.ts[0])
    # Equal up to rounding: XLA vectorises a different number of cells at once, so the last
    # bits of some transcendental functions differ (then grow to ~1e-10 mV through spikes).
    for name in ("v", "spike_times", "spike_count", "final"):
        pairs = zip(jax.tree.leaves(getattr(record, name)), jax.tree.leaves(getattr(vmapped, name)))
        for a, b in pairs:
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-8)


def test_simulate_population_chunks_of_whole_vectors_overlap():
    # 20 cells in chunks of at most 16: two chunks of 16 cells (whole 512-bit vectors of
    # float32), cells 0–15 and 4–19; cells 4–15 are simulated twice, written once.
    g_na = jnp.linspace(100.0, 150.0, 20)
    record = membrax.simulate_population(_cells(g_na), STIM, t1=45.0, save=SAVE, chunk_size=16)
    reference = jax.jit(jax.vmap(_one))(_cells(g_na))
    assert record.v.shape == reference.v.shape == (20, 226)
    np.testing.assert_array_equal(record.spike_count, reference.spike_count)
    np.testing.assert_allclose(record.spike_times, reference.spike_times, rtol=1e-9)
    np.testing.assert_allclose(record.v, reference.v, rtol=1e-9, atol=1e-8)


def test_cpu_compiler_options(monkeypatch):
    from membrax.simulate import _population

    class FakeDevice:
        def __init__(self, platform):
            self.platform = platform

    monkeypatch.delenv("XLA_FLAGS", raising=False)
    monkeypatch.setattr(_population, "_has_avx512", lambda: True)
    wide = {"xla_cpu_prefer_vector_width": 512}
    assert membrax.simulate.cpu_compiler_options([FakeDevice("cpu")] * 2) == wide
    # Not for accelerators, not for a mixed set, and never over the user's own XLA_FLAGS.
    assert membrax.simulate.cpu_compiler_options([FakeDevice("gpu")]) == {}
    assert membrax.simulate.cpu_compiler_options([FakeDevice("cpu"), FakeDevice("gpu")]) == {}
    monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_prefer_vector_width=256")
    assert membrax.simulate.cpu_compiler_options([FakeDevice("cpu")]) == {}
    monkeypatch.delenv("XLA_FLAGS")
    monkeypatch.setattr(_population, "_has_avx512", lambda: False)
    assert membrax.simulate.cpu_compiler_options([FakeDevice("cpu")]) == {}


@pytest.mark.parametrize("avx512", [True, False])
def test_simulate_population_with_and_without_wide_vectors(vmapped, monkeypatch, avx512):
    # Both compile settings run everywhere (LLVM caps the preferred width at what the CPU
    # has) and agree with the plain vmap up to rounding.
    from membrax.simulate import _population

    monkeypatch.delenv("XLA_FLAGS", raising=False)
    monkeypatch.setattr(_population, "_has_avx512", lambda: avx512)
    record = membrax.simulate_population(_cells(), STIM, t1=45.0, save=SAVE)
    np.testing.assert_array_equal(record.spike_count, vmapped.spike_count)
    # Inside a jit (JAX rejects compile options on a nested jit) it compiles without them.
    traced = jax.jit(lambda c: membrax.simulate_population(c, STIM, t1=45.0, save=SAVE))
    np.testing.assert_allclose(traced(_cells()).spike_times, vmapped.spike_times, rtol=1e-9)
    np.testing.assert_allclose(record.spike_times, vmapped.spike_times, rtol=1e-9)
    np.testing.assert_allclose(record.v, vmapped.v, rtol=1e-9, atol=1e-8)


def test_batched_stimuli():
    amps = jnp.array([0.0, 5.0, 30.0])
    stimuli = jax.vmap(lambda a: membrax.CurrentStep(a, 2.0, 40.0))(amps)
    cells = _cells(jnp.full(3, 120.0))
    record = membrax.simulate_population(
        cells, stimuli, t1=45.0, save=membrax.SaveSpikes(), batched_stimulus=True
    )
    counts = np.asarray(record.spike_count)
    assert counts[0] == 0 and counts[2] > counts[1] >= 1
    # In chunks of 2 (cells 0–1, then 1–2): each cell keeps its own stimulus.
    chunked = membrax.simulate_population(
        cells, stimuli, t1=45.0, save=membrax.SaveSpikes(), batched_stimulus=True, chunk_size=2
    )
    np.testing.assert_array_equal(chunked.spike_count, counts)
    np.testing.assert_allclose(chunked.spike_times, record.spike_times, rtol=1e-9)


SHARDED_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import membrax
    from membrax.models import hh1952_cell

    g = jnp.array([100.0, 115.0, 120.0, 130.0, 150.0])
    cells = jax.vmap(lambda g: hh1952_cell(g_na=g, g_k=36.0 - 0.05 * (g - 120.0)))(g)
    stim = membrax.CurrentStep(10.0, 2.0, 40.0)
    save = (membrax.SaveTrace(every=10), membrax.SaveSpikes(max_spikes=8))
    # An explicit mesh over both devices (by default so few cells would stay on one).
    mesh = membrax.simulate.population_mesh()
    record = membrax.simulate_population(cells, stim, t1=45.0, save=save, mesh=mesh)
    json.dump({
        "devices": len(jax.devices()),
        "shard_devices": len(record.v.sharding.device_set),
        "v": jax.device_get(record.v).tolist(),
        "spike_times": jax.device_get(record.spike_times).tolist(),
    }, sys.stdout)
    """
)


def test_sharded_over_two_host_devices_equals_unsharded(vmapped):
    # Two host CPU devices, also on a machine with a GPU (which would otherwise be the default).
    env = dict(
        os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2", JAX_PLATFORMS="cpu"
    )
    root = pathlib.Path(__file__).resolve().parents[1]
    env["PYTHONPATH"] = str(root) + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run(
        [sys.executable, "-c", SHARDED_SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    result = json.loads(out.stdout)
    assert result["devices"] == 2
    assert result["shard_devices"] == 2  # the cells really were split over both devices
    # Up to rounding, as in test_simulate_population_chunks_and_pads_like_vmap.
    np.testing.assert_allclose(result["v"], vmapped.v, rtol=1e-9, atol=1e-8)
    np.testing.assert_allclose(result["spike_times"], vmapped.spike_times, rtol=1e-9)


# --- gradients ----------------------------------------------------------------------------------


def _losses(params):
    """One loss per cell: a smooth function of the trace and the second spike time."""

    def one(p):
        cell = hh1952_cell(g_na=p[0], g_k=p[1], g_leak=p[2])
        r = membrax.current_clamp(cell, STIM, t1=25.0, save=SAVE)
        return jnp.mean((r.v + 60.0) ** 2) / 100.0 + r.spike_times[1]

    return jax.vmap(one)(params)


PARAMS = jnp.array([[120.0, 36.0, 0.3], [110.0, 30.0, 0.25], [135.0, 40.0, 0.35]])


def test_per_cell_gradients_forward_and_reverse_match_central_differences():
    fwd = jax.jit(lambda p: membrax.simulate.per_cell_grad(_losses, p, forward=True))
    rev = jax.jit(lambda p: membrax.simulate.per_cell_grad(_losses, p, forward=False))
    loss_f, grad_f = fwd(PARAMS)
    loss_r, grad_r = rev(PARAMS)
    np.testing.assert_allclose(loss_f, loss_r, rtol=1e-14)
    np.testing.assert_allclose(grad_f, grad_r, rtol=1e-10)
    # Central differences on every parameter of every cell at once (cells are independent);
    # h = 1e-6 relative: the O(h²) error is ~1e-9 (see test_current_clamp).
    losses = jax.jit(_losses)
    fd = np.zeros(PARAMS.shape)
    for j in range(3):
        h = 1e-6 * PARAMS[:, j]
        up = losses(PARAMS.at[:, j].add(h))
        down = losses(PARAMS.at[:, j].add(-h))
        fd[:, j] = (up - down) / (2 * h)
    np.testing.assert_allclose(grad_f, fd, rtol=1e-7)


def test_reverse_mode_memory_grows_like_the_square_root_of_time():
    def temp_bytes(t1, solver=None):
        def final_v(g):
            r = membrax.current_clamp(
                hh1952_cell(g_na=g), STIM, t1=t1, solver=solver, save=membrax.SaveSpikes(0)
            )
            return r.final.v

        compiled = jax.jit(jax.grad(final_v)).lower(120.0).compile()
        return compiled.memory_analysis().temp_size_in_bytes

    short, long = temp_bytes(40.0), temp_bytes(160.0)
    # 4× the steps: √4 = 2× the memory with √T checkpoint blocks (measured 1.84×) …
    assert long / short < 2.3, (short, long)
    # … where storing every step costs 4× (here ~80× more than the checkpointed run).
    no_checkpoint = temp_bytes(160.0, membrax.RushLarsen(checkpoint_every=10**9))
    assert no_checkpoint > 20 * long


# --- bad input ----------------------------------------------------------------------------------


def test_population_errors():
    with pytest.raises(ValueError, match=r"every array of a population must have the same"):
        membrax.simulate_population(hh1952_cell(), STIM, t1=10.0)
    with pytest.raises(ValueError, match=r"chunk_size must be an int >= 1 or None, got 0"):
        membrax.simulate_population(_cells(), STIM, t1=10.0, chunk_size=0)
    with pytest.raises(ValueError, match=r"a batched stimulus needs one stimulus per cell"):
        stimuli = jax.vmap(lambda a: membrax.CurrentStep(a, 2.0, 40.0))(jnp.ones(2))
        membrax.simulate_population(_cells(), stimuli, t1=10.0, batched_stimulus=True)
    with pytest.raises(ValueError, match=r"per_cell_grad: fn must return one loss per cell"):
        membrax.simulate.per_cell_grad(lambda p: jnp.sum(p), PARAMS, forward=False)
