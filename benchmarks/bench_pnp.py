"""Benchmark: the I–V curve of a charged pore by Poisson–Nernst–Planck, membrax vs DEVSIM.

The problem (the same discrete equations in both codes):

- a 100 nm, 1D electrolyte domain of 400 equal cells (401 nodes), εr = 78.4, 25 °C;
- three mobile species, K⁺, Cl⁻, Ca²⁺ (D = 1.957, 2.032, 0.792 × 10⁻⁵ cm²/s);
- baths: left 100 mM KCl + 1 mM CaCl₂, right 10 mM KCl + 1 mM CaCl₂ (Dirichlet);
- a "pore" from 20 to 80 nm whose negative fixed charge ramps from −200 mM to 0 (it
  rectifies);
- 50 applied voltages from −400 to +400 mV (left relative to right).

Both codes use the box method (vertex-centred finite volumes) with Scharfetter–Gummel fluxes
and Newton's method on (φ, c₁, c₂, c₃), converged to ~1e-10:

- membrax: `jax.jit(membrax.electrodiffusion.current_voltage)`: damped Newton with
  block-tridiagonal linear algebra, continuation along the sweep in two branches (up from
  0 mV, down from 0 mV) run together under `vmap`, float64. Compiled ahead of time
  (`lower().compile()`, timed separately), then timed as the best of `--repeats` runs.
- DEVSIM (`pip install devsim`; with `pip install devsim-openblas` if no system BLAS): the
  same model written with DEVSIM's symbolic node/edge models (its built-in Bernoulli function
  `B`), UMFPACK direct solves; the sweep by continuation from 0 mV up and from 0 mV down, as
  DEVSIM scripts do, with its console output sent to /dev/null while timed. Best of
  `--peer-repeats`.

The two I–V curves are compared in the same run (they solve the same discrete equations,
so they should agree to the Newton tolerance).

Run from the repository root:

    python benchmarks/bench_pnp.py [--repeats 5] [--peer-repeats 2]
"""

import argparse
import contextlib
import os
import platform
import time

import jax
import jax.numpy as jnp
import numpy as np

import membrax
import membrax.electrodiffusion as ed

# The library never touches jax.config; a script may. Everything below is float64.
jax.config.update("jax_enable_x64", True)

TEMPERATURE = 298.15  # K
VT = membrax.constants.THERMAL_VOLTAGE_PER_KELVIN * TEMPERATURE  # mV
LENGTH, CELLS = 100.0, 400  # nm
EPS_R = 78.4
Z = np.array([1.0, -1.0, 2.0])  # K⁺, Cl⁻, Ca²⁺
D = np.array([1.957e-5, 2.032e-5, 0.792e-5])  # cm²/s
C_LEFT = np.array([100.0, 102.0, 1.0])  # mM
C_RIGHT = np.array([10.0, 12.0, 1.0])
VOLTAGES = np.linspace(-400.0, 400.0, 50)  # mV
# ε0·φ/x² with φ in mV, x in nm, over F, is in mM (see membrax/electrodiffusion).
POISSON_SCALE = membrax.constants.VACUUM_PERMITTIVITY * 1e15 / membrax.constants.FARADAY


def fixed_charge(x):
    """mM of elementary charge at position x (nm): −200 → 0 mM across 20–80 nm."""
    return np.where((x > 20.0) & (x < 80.0), -200.0 * (80.0 - x) / 60.0, 0.0)


def membrax_system():
    grid = ed.uniform_grid(LENGTH, CELLS)
    return ed.PNPSystem(
        grid,
        valence=Z,
        diffusion=D,
        left=ed.Bath(jnp.asarray(C_LEFT)),
        right=ed.Bath(jnp.asarray(C_RIGHT)),
        temperature=TEMPERATURE,
        relative_permittivity=EPS_R,
        fixed_charge=fixed_charge(np.asarray(grid.cell_centres)),
    )


def run_membrax(repeats):
    system = membrax_system()
    voltages = jnp.asarray(VOLTAGES)

    def iv(s, v):
        return ed.current_voltage(s, v).current_density[:, CELLS // 2]

    t0 = time.perf_counter()
    compiled = jax.jit(iv).lower(system, voltages).compile()
    compile_time = time.perf_counter() - t0
    currents = compiled(system, voltages).block_until_ready()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        currents = compiled(system, voltages).block_until_ready()
        times.append(time.perf_counter() - t0)
    # The same curve by vmapping steady_state over the voltages (each from 0 mV).
    vmapped = jax.jit(jax.vmap(lambda v: ed.steady_state(system, v).current_density[0]))
    t0 = time.perf_counter()
    vmapped = vmapped.lower(voltages).compile()
    vmapped_compile = time.perf_counter() - t0
    vmapped(voltages).block_until_ready()
    t0 = time.perf_counter()
    currents_vmapped = vmapped(voltages).block_until_ready()
    vmapped_time = time.perf_counter() - t0
    return {
        "currents": np.asarray(currents),
        "currents_vmapped": np.asarray(currents_vmapped),
        "compile": compile_time,
        "time": min(times),
        "vmapped_compile": vmapped_compile,
        "vmapped_time": vmapped_time,
    }


@contextlib.contextmanager
def _quiet_stdout():
    """Send file descriptor 1 (DEVSIM's C++ console output) to /dev/null."""
    import sys

    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(devnull)
        os.close(saved)


def import_devsim():
    try:
        import devsim_openblas

        devsim_openblas.configure()
    except ImportError:
        pass
    with _quiet_stdout():
        import devsim
    return devsim


def run_devsim(ds, repeats):
    with _quiet_stdout():  # DEVSIM reports every mesh and model it creates
        return _run_devsim(ds, repeats)


def _run_devsim(ds, repeats):
    x = np.asarray(ed.uniform_grid(LENGTH, CELLS).nodes)
    device, region = "pore", "electrolyte"
    names = ["psi", "c0", "c1", "c2"]
    ds.create_1d_mesh(mesh="m")
    for i, xi in enumerate(x):
        tag = "left" if i == 0 else "right" if i == CELLS else ""
        ds.add_1d_mesh_line(mesh="m", pos=float(xi), ps=LENGTH / CELLS, tag=tag)
    ds.add_1d_contact(mesh="m", name="left", tag="left", material="metal")
    ds.add_1d_contact(mesh="m", name="right", tag="right", material="metal")
    ds.add_1d_region(mesh="m", material="water", region=region, tag1="left", tag2="right")
    ds.finalize_mesh(mesh="m")
    ds.create_device(mesh="m", device=device)
    xs = np.array(ds.get_node_model_values(device=device, region=region, name="x"))
    for name in [*names, "rho_fixed"]:
        ds.node_solution(device=device, region=region, name=name)
    # Node fixed charge as in membrax: each node gets half of each adjacent cell's charge
    # (uniform grid: the mean of the two cells' values; end nodes: their one cell's).
    cell_rho = fixed_charge((x[1:] + x[:-1]) / 2)
    node_rho = np.concatenate([[cell_rho[0]], (cell_rho[1:] + cell_rho[:-1]) / 2, [cell_rho[-1]]])
    ds.set_node_values(device=device, region=region, name="rho_fixed", values=list(node_rho))
    for k in range(3):
        start = C_LEFT[k] + (C_RIGHT[k] - C_LEFT[k]) * xs / LENGTH
        ds.set_node_values(device=device, region=region, name=f"c{k}", values=list(start))
    for name in names:
        ds.edge_from_node_model(device=device, region=region, node_model=name)
    ds.set_parameter(name="bias", value=0.0)

    def edge_model(name, expr):
        ds.edge_model(device=device, region=region, name=name, equation=expr)
        for v in names:
            for node in ("n0", "n1"):
                ds.edge_model(
                    device=device,
                    region=region,
                    name=f"{name}:{v}@{node}",
                    equation=f"diff({expr}, {v}@{node})",
                )

    def node_model(name, expr):
        ds.node_model(device=device, region=region, name=name, equation=expr)
        for v in names:
            ds.node_model(
                device=device, region=region, name=f"{name}:{v}", equation=f"diff({expr}, {v})"
            )

    # Unknowns: ψ = φ/V_T and c in mM; lengths in nm. Gauss: κ·Σ(ψ_i − ψ_j)/h = charge.
    kappa = POISSON_SCALE * EPS_R * VT
    edge_model("DisplacementFlux", f"{float(kappa)!r}*(psi@n0 - psi@n1)*EdgeInverseLength")
    node_model("Charge", "-(c0 - c1 + 2*c2 + rho_fixed)")
    ds.equation(
        device=device, region=region, name="Gauss", variable_name="psi",
        node_model="Charge", edge_model="DisplacementFlux",
    )  # fmt: skip
    for k in range(3):
        u = f"({float(Z[k])!r}*(psi@n1 - psi@n0))"
        edge_model(f"J{k}", f"{float(D[k])!r}*EdgeInverseLength*(B({u})*c{k}@n0 - B(-{u})*c{k}@n1)")
        ds.equation(
            device=device, region=region, name=f"Continuity{k}", variable_name=f"c{k}",
            edge_model=f"J{k}",
        )  # fmt: skip
    for side, conc in (("left", C_LEFT), ("right", C_RIGHT)):
        bias = f"bias/{float(VT)!r}" if side == "left" else "0"

        def contact_model(name, expr, side=side):
            ds.contact_node_model(device=device, contact=side, name=name, equation=expr)
            for v in names:
                ds.contact_node_model(
                    device=device, contact=side, name=f"{name}:{v}", equation=f"diff({expr}, {v})"
                )

        contact_model(f"{side}_psi", f"psi - {bias}")
        ds.contact_equation(device=device, contact=side, name="Gauss", node_model=f"{side}_psi")
        for k in range(3):
            contact_model(f"{side}_c{k}", f"c{k} - {float(conc[k])!r}")
            ds.contact_equation(
                device=device, contact=side, name=f"Continuity{k}", node_model=f"{side}_c{k}"
            )

    def solve():
        ds.solve(type="dc", absolute_error=1e-10, relative_error=1e-10, maximum_iterations=60)

    def current_density():
        # F·Σ z·J through the middle cell; J in D·c/h units (cm²/s·mM/nm) × 1e7 → µmol/(cm²·s).
        j = [ds.get_edge_model_values(device=device, region=region, name=f"J{k}") for k in range(3)]
        flux = np.array([jk[CELLS // 2] for jk in j]) * 1e7
        return membrax.constants.FARADAY * float(np.sum(Z * flux))

    def sweep():
        currents = np.empty(len(VOLTAGES))
        ds.set_parameter(name="bias", value=0.0)
        solve()
        equilibrium = {
            n: ds.get_node_model_values(device=device, region=region, name=n) for n in names
        }
        order = np.argsort(VOLTAGES)
        up = [i for i in order if VOLTAGES[i] >= 0]
        down = [i for i in order[::-1] if VOLTAGES[i] < 0]
        for branch in (up, down):
            for n, values in equilibrium.items():
                ds.set_node_values(device=device, region=region, name=n, values=values)
            for i in branch:
                ds.set_parameter(name="bias", value=float(VOLTAGES[i]))
                solve()
                currents[i] = current_density()
        return currents

    times = []
    for _ in range(repeats):
        for k in range(3):  # same starting point every repeat
            start = C_LEFT[k] + (C_RIGHT[k] - C_LEFT[k]) * xs / LENGTH
            ds.set_node_values(device=device, region=region, name=f"c{k}", values=list(start))
        ds.set_node_values(device=device, region=region, name="psi", values=[0.0] * len(xs))
        t0 = time.perf_counter()
        currents = sweep()
        times.append(time.perf_counter() - t0)
    return {"currents": currents, "time": min(times)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--peer-repeats", type=int, default=2)
    args = parser.parse_args()

    print(f"machine: {platform.machine()}, {os.cpu_count()} logical cores, {platform.platform()}")
    print(f"load average at start: {os.getloadavg()}")
    print(
        f"python {platform.python_version()}, jax {jax.__version__} on {jax.devices()[0]}, "
        f"numpy {np.__version__}, membrax {membrax.__version__}"
    )
    print(
        f"problem: {CELLS} cells, 3 species (+ potential: {4 * (CELLS + 1)} unknowns), "
        f"{len(VOLTAGES)} voltages from {VOLTAGES[0]:g} to {VOLTAGES[-1]:g} mV\n"
    )
    mx = run_membrax(args.repeats)
    try:
        ds = import_devsim()
    except Exception as error:  # ImportError, or DEVSIM failing to find BLAS/LAPACK
        ds = None
        print(f"DEVSIM skipped: {error!r}")
    rows = [("membrax current_voltage (jit, 2 vmapped branches)", mx["time"], mx["compile"])]
    rows.append(
        ("membrax vmap(steady_state) (each from 0 mV)", mx["vmapped_time"], mx["vmapped_compile"])
    )
    if ds is not None:
        version = getattr(ds, "__version__", "?")
        dv = run_devsim(ds, args.peer_repeats)
        rows.append((f"DEVSIM {version} (UMFPACK), continuation sweep", dv["time"], None))

    print("| method | I–V time (s) | compile (s) | DEVSIM time / time |")
    print("|---|---:|---:|---:|")
    for name, t, c in rows:
        ratio = f"{dv['time'] / t:.3g}" if ds is not None else "–"
        comp = f"{c:.3g}" if c is not None else "–"
        print(f"| {name} | {t:.4g} | {comp} | {ratio} |")

    i_mx = mx["currents"]
    scale = np.max(np.abs(i_mx))
    print(
        f"\nmembrax: I(−400 mV) = {i_mx[0]:.6g}, I(+400 mV) = {i_mx[-1]:.6g} µA/cm² "
        f"(rectification |I(+400)/I(−400)| = {abs(i_mx[-1] / i_mx[0]):.3g}); no NaN: "
        f"{bool(np.all(np.isfinite(i_mx)))}"
    )
    diff_vmap = np.max(np.abs(mx["currents_vmapped"] - i_mx)) / scale
    print(f"max |I_sweep − I_vmap| / max|I| = {diff_vmap:.2e}")
    if ds is not None:
        diff = np.max(np.abs(dv["currents"] - i_mx)) / scale
        print(f"max |I_membrax − I_DEVSIM| / max|I| = {diff:.2e}")
        agree = diff < 1e-6
        print("I–V curves agree (< 1e-6 of the largest current):", agree)
        if not agree:
            raise SystemExit("membrax and DEVSIM disagree")


if __name__ == "__main__":
    main()
