"""A population sharded over two processes with `jax.distributed` (examples/
distributed_population.py, two local CPU processes with two devices each) gives exactly the
per-cell results and per-cell gradients of the same population simulated in one process on
one device; they agree with membrax.current_clamp run cell by cell, the gradients with
central differences."""

import importlib.util
import os
import pathlib
import socket
import subprocess
import sys
import time

import jax
import numpy as np
import pytest

import membrax
from membrax.models import hh1952_cell

ROOT = pathlib.Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "examples" / "distributed_population.py"
# 64 cells over 2 processes × 2 devices: 16 cells per device. 20 ms with a 10 µA/cm² step
# from 2 ms: one or two spikes per cell, depending on its g_Na and g_K.
SETTINGS = ["--cells", "64", "--t1", "20", "--amplitude", "10", "--sample-every", "100"]
SETTINGS += ["--seed", "3", "--grad", "--x64"]
TIMEOUT = 120  # s, for all processes of one run together


def _free_port():
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def _env():
    env = dict(os.environ, JAX_ENABLE_X64="1", JAX_PLATFORMS="cpu")
    env.pop("XLA_FLAGS", None)  # the script sets its device count itself
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _run(argv_per_process, cwd):
    """Start every process, wait for all; on a failure or the timeout kill the rest (SIGKILL:
    JAX's preemption handler catches SIGTERM, and a process whose peer died waits minutes in
    a shutdown barrier)."""
    procs = [
        subprocess.Popen(
            [sys.executable, str(SCRIPT), *argv],
            cwd=cwd,
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for argv in argv_per_process
    ]
    deadline = time.monotonic() + TIMEOUT
    try:
        while any(p.poll() is None for p in procs):
            failed = [p for p in procs if p.returncode not in (None, 0)]
            if failed or time.monotonic() > deadline:
                break
            time.sleep(0.1)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    outputs = [p.communicate() for p in procs]
    if any(p.returncode != 0 for p in procs):
        report = "\n".join(
            f"--- process {k} (rc {p.returncode})\n{out}\n{err[-3000:]}"
            for k, (p, (out, err)) in enumerate(zip(procs, outputs))
        )
        pytest.fail(f"a process failed or timed out after {TIMEOUT} s:\n{report}")
    return [out for out, _ in outputs]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("distributed")
    port = _free_port()
    dist = [
        [
            *SETTINGS,
            *("--coordinator", f"localhost:{port}", "--num-processes", "2"),
            *("--process-id", str(k), "--local-devices", "2", "--out", "dist.npz"),
        ]
        for k in range(2)
    ]
    stdout = _run(dist, tmp)
    _run([[*SETTINGS, "--reference", "--out", "ref.npz"]], tmp)
    return np.load(tmp / "dist.npz"), np.load(tmp / "ref.npz"), stdout


def test_two_processes_equal_one_process_exactly(results):
    dist, ref, stdout = results
    assert int(dist["processes"]) == 2 and int(dist["devices"]) == 4
    assert int(ref["processes"]) == 1 and int(ref["devices"]) == 1
    # Only process 0 reports (gloo's own connection messages aside).
    assert "64 cells on 4 device(s) in 2 process(es)" in stdout[0]
    assert "cells on" not in stdout[1]
    assert dist["v_sample"].shape == ref["v_sample"].shape == (64, 11)
    assert dist["v_sample"].dtype == np.float64
    # Same cells (cell i's conductances depend only on the seed and i, not on the layout)...
    np.testing.assert_array_equal(dist["g_na"], ref["g_na"])
    np.testing.assert_array_equal(dist["g_k"], ref["g_k"])
    # ... and the same float64 arithmetic per cell (XLA:CPU gave identical bits for 16 cells
    # per device and 64 on one device), so equal to 1e-12 — in practice bit for bit.
    np.testing.assert_array_equal(dist["spike_count"], ref["spike_count"])
    for name in ("first_spike", "v_final", "v_sample", "ts", "dfirst_dg_na", "dfirst_dg_k"):
        np.testing.assert_allclose(dist[name], ref[name], rtol=1e-12, atol=1e-12, err_msg=name)
    # The population really varies (a shuffled gather would show): ±30 % around 120 and 36
    # mS/cm², and both one and two spikes occur.
    assert 84.0 <= dist["g_na"].min() < 100.0 and 140.0 < dist["g_na"].max() <= 156.0
    assert 25.2 <= dist["g_k"].min() < 30.0 and 42.0 < dist["g_k"].max() <= 46.8
    assert set(dist["spike_count"].tolist()) == {1, 2}


@pytest.mark.parametrize("i", [0, 21, 42, 63])
def test_gathered_cells_equal_single_cell_runs(results, i):
    # An independent check of the gathered arrays: cell i alone through current_clamp, with
    # the conductances the script reports for it. Same scheme, one cell instead of a
    # vectorised batch: the last bits of transcendental functions may differ, growing to
    # ~1e-10 mV through a spike (see test_population), hence rtol 1e-9.
    dist, _, _ = results
    cell = hh1952_cell(g_na=dist["g_na"][i], g_k=dist["g_k"][i])
    save = (membrax.SaveTrace(every=100), membrax.SaveSpikes(max_spikes=1))
    stim = membrax.CurrentStep(10.0, 2.0, 20.0)
    record = jax.jit(lambda c: membrax.current_clamp(c, stim, t1=20.0, save=save))(cell)
    assert int(record.spike_count) == dist["spike_count"][i]
    np.testing.assert_allclose(record.spike_times[0], dist["first_spike"][i], rtol=1e-9)
    np.testing.assert_allclose(record.final.v, dist["v_final"][i], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(record.v, dist["v_sample"][i], rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("i", [5, 50])
def test_sharded_gradients_match_central_differences(results, i):
    # d(first spike time)/d(g_Na, g_K) from per_cell_grad through the sharded simulation,
    # against central differences of the single-cell first spike time; h = 1e-6 relative:
    # the O(h²) error is ~1e-9 (see test_population), far below rtol 1e-6.
    dist, _, _ = results
    stim = membrax.CurrentStep(10.0, 2.0, 20.0)
    save = membrax.SaveSpikes(max_spikes=1)

    @jax.jit
    def first_spike(g_na, g_k):
        cell = hh1952_cell(g_na=g_na, g_k=g_k)
        return membrax.current_clamp(cell, stim, t1=20.0, save=save).spike_times[0]

    g_na, g_k = dist["g_na"][i], dist["g_k"][i]
    h_na, h_k = 1e-6 * g_na, 1e-6 * g_k
    fd_na = (first_spike(g_na + h_na, g_k) - first_spike(g_na - h_na, g_k)) / (2 * h_na)
    fd_k = (first_spike(g_na, g_k + h_k) - first_spike(g_na, g_k - h_k)) / (2 * h_k)
    np.testing.assert_allclose(dist["dfirst_dg_na"][i], fd_na, rtol=1e-6)
    np.testing.assert_allclose(dist["dfirst_dg_k"][i], fd_k, rtol=1e-6)
    # A faster sodium current fires earlier, a stronger potassium current later.
    assert dist["dfirst_dg_na"][i] < 0 < dist["dfirst_dg_k"][i]


def _example():
    spec = importlib.util.spec_from_file_location("distributed_population", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "argv",
    [
        ["--coordinator", "localhost:1"],  # the cluster needs all three or none
        ["--reference", "--num-processes", "2", "--process-id", "0", "--coordinator", "h:1"],
        ["--cells", "0"],
        ["--sample-every", "-1"],
        ["--platform", "gpu", "--local-devices", "2"],
    ],
)
def test_bad_arguments_are_refused(argv, capsys):
    with pytest.raises(SystemExit) as info:
        _example().parse_args(argv)
    assert info.value.code == 2
    assert "error:" in capsys.readouterr().err
