"""Poisson–Nernst–Planck electrodiffusion: equilibria, double layers, GHK, junctions, I–V."""

import csv
import json
import math
import pathlib

import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx
import numpy as np
import pytest

import membrax
import membrax.electrodiffusion as ed

# Exact SI products, typed in independently of membrax.constants.
E0 = 8.8541878188e-12  # F/m, CODATA 2022
F = 1.602176634e-19 * 6.02214076e23  # C/mol
R = 1.380649e-23 * 6.02214076e23  # J/(mol·K)
T = 298.15
VT = 1e3 * R * T / F  # mV

DATA = pathlib.Path(__file__).parent / "data" / "ljp"
CELLS_3 = 50  # cells of every three-species test (one compiled solver each for them all)
D_K, D_NA, D_CL = 1.957e-5, 1.334e-5, 2.032e-5  # cm²/s, 25 °C (CRC Handbook)

# Compiling a solver takes seconds, so the tests share a few compiled programs: jax.jit of the
# same function with inputs of the same structure and shapes hits the same cache (also across
# test files). Two-species tests use `_slab` (48 cells), three-species ones CELLS_3 cells, and
# I–V sweeps 5 voltages.
steady = jax.jit(ed.steady_state)
open_circuit = jax.jit(ed.open_circuit_state)
current_voltage = jax.jit(ed.current_voltage)


# --- Scharfetter–Gummel and the block-tridiagonal solver -----------------------------------


def test_scharfetter_gummel_over_one_cell_is_the_ghk_flux():
    # SG is exact for constant flux and field: over one cell of length h with D/h = P it is
    # the GHK flux (Goldman 1943) with V = φ_left − φ_right; D in cm²/s over h in cm is cm/s.
    d, h_nm, c_l, c_r = 1.9e-5, 4.0, 140.0, 5.0
    p = d / (h_nm * 1e-7)
    for v, z in [(-80.0, 1.0), (0.0, 1.0), (35.0, -1.0), (60.0, 2.0), (1e-9, 1.0)]:
        u = z * (-v) / VT  # drift from left to right: z(φ_right − φ_left)/V_T
        sg = ed.scharfetter_gummel_flux(c_l, c_r, u, d / (h_nm * 1e-7))
        ghk = membrax.ghk_flux(v, c_l, c_r, p, z, T)
        assert float(sg) == pytest.approx(float(ghk), rel=1e-12)
    # Boltzmann-distributed concentrations carry no flux, for any drift (to rounding of the
    # one-way fluxes, ~|u| for u ≪ 0).
    for u in (-30.0, -1e-8, 0.0, 2.5, 45.0):
        net = float(ed.scharfetter_gummel_flux(1.0, math.exp(-u), u, 1.0))
        assert abs(net) < 1e-15 * (1 + abs(u))


def test_block_tridiagonal_solver_against_dense():
    # lineax solve (and its transpose, used by reverse-mode implicit gradients) against NumPy.
    rng = np.random.default_rng(0)
    n, m = 30, 3
    blocks = rng.normal(size=(3, n, m, m))
    blocks[1] += 6 * np.eye(m)  # block diagonally dominant, as PNP Jacobians are
    dense = np.zeros((n * m, n * m))
    for i in range(n):
        dense[i * m : (i + 1) * m, i * m : (i + 1) * m] = blocks[1, i]
        if i > 0:
            dense[i * m : (i + 1) * m, (i - 1) * m : i * m] = blocks[0, i]
        if i < n - 1:
            dense[i * m : (i + 1) * m, (i + 1) * m : (i + 2) * m] = blocks[2, i]
    operator = lx.FunctionLinearOperator(
        lambda x: (jnp.asarray(dense) @ x.ravel()).reshape(n, m),
        jax.ShapeDtypeStruct((n, m), jnp.float64),
    )
    b = rng.normal(size=(n, m))

    @jax.jit
    def solve(b):
        x = lx.linear_solve(operator, b, ed.BlockTridiagonal()).value
        solver = ed.BlockTridiagonal()
        state_t, _ = solver.transpose(solver.init(operator, {}), {})
        return x, solver.compute(state_t, b, {})[0]

    x, x_t = solve(jnp.asarray(b))
    np.testing.assert_allclose(np.asarray(x).ravel(), np.linalg.solve(dense, b.ravel()), rtol=1e-12)
    np.testing.assert_allclose(
        np.asarray(x_t).ravel(), np.linalg.solve(dense.T, b.ravel()), rtol=1e-12
    )


def test_grids():
    grid = ed.refined_grid([0.0, 10.0, 30.0], (20, 40), clustering=2.0, area=3.0)
    x = np.asarray(grid.nodes)
    assert x[0] == 0.0 and x[-1] == 30.0 and 10.0 in x and grid.cells == 60
    h = np.diff(x)
    # Cells shrink towards each breakpoint (by ~cosh²β ≈ 14 for β = 2; 11.5 with 20 cells)
    # and vary smoothly (neighbour ratio ≤ 1.46 here, → 1 as cells are added).
    assert h[0] < h[10] / 10 and h[19] < h[10] / 10
    assert np.max(h[1:] / h[:-1]) < 1.5 and np.min(h[1:] / h[:-1]) > 1 / 1.5
    # The control volumes tile the domain: Σ V_i = A·L.
    assert float(jnp.sum(grid.node_volumes)) == pytest.approx(3.0 * 30.0, rel=1e-14)
    # Einstein: D = μ·k_BT/q, cm²/(V·s) × V = cm²/s (36.2 cm²/s for electrons in Si).
    assert float(ed.einstein_diffusion(1400.0, 300.0)) == pytest.approx(
        1400.0 * R * 300.0 / F, rel=1e-14
    )


# --- Equilibrium ---------------------------------------------------------------------------


def _slab(rho=-50.0, mu_cl=0.0, c_left=100.0, c_right=100.0, ramp=False, eps=78.4, d_scale=1.0):
    """KCl baths at 0 and 100 nm around a charged region (20–80 nm): fixed charge ρ (uniform,
    or ramping linearly from ρ at 20 nm to 0 at 80 nm: an asymmetric, rectifying pore) and a
    Cl⁻ barrier μ (kT). One grid and structure for all tests below, so that they share one
    compiled solver (48 cells clustered towards the interfaces)."""
    grid = ed.refined_grid([0.0, 20.0, 80.0, 100.0], (12, 24, 12), clustering=1.5)
    xc = grid.cell_centres
    inside = (xc > 20) & (xc < 80)
    shape = (80.0 - xc) / 60.0 if ramp else 1.0
    xn = grid.nodes
    barrier = jnp.where((xn >= 20) & (xn <= 80), mu_cl, 0.0)
    return ed.PNPSystem(
        grid,
        valence=[1.0, -1.0],
        diffusion=jnp.array([D_K, D_CL]) * d_scale,
        left=ed.Bath(jnp.stack([c_left, c_left])),
        right=ed.Bath(jnp.stack([c_right, c_right])),
        temperature=T,
        relative_permittivity=eps,
        fixed_charge=jnp.where(inside, rho * shape, 0.0),
        excess_potential=jnp.stack([jnp.zeros_like(barrier), barrier]),
    )


def test_equilibrium_boltzmann_donnan_and_electroneutral_bulk():
    system = _slab(mu_cl=1.5)
    sol = steady(system, 0.0)
    x = np.asarray(system.grid.nodes)
    phi = np.asarray(sol.potential)
    c = np.asarray(sol.concentrations)
    mu = np.asarray(system.excess_potential)
    # No applied voltage, equal baths: zero net flux and current (to rounding of fluxes
    # D·c/h ~ 1e3 µmol cm⁻² s⁻¹).
    assert np.max(np.abs(np.asarray(sol.flux))) < 1e-9
    assert abs(float(sol.current)) < 1e-12
    # Boltzmann at every node: c = c_bath·exp(−zφ/V_T − μ). The SG fluxes vanish exactly for
    # Boltzmann profiles, so this holds to Newton's precision, not just to O(h²).
    for k, z in enumerate((1.0, -1.0)):
        np.testing.assert_allclose(c[k], 100.0 * np.exp(-z * phi / VT - mu[k]), rtol=1e-10)
    # Bulk of the slab (30 Debye lengths from its faces): electroneutral, at the Donnan
    # potential (with the Cl⁻ partition e^{−μ} folded into an effective bath for Cl⁻).
    mid = np.argmin(np.abs(x - 50.0))
    # Discrete bulk neutrality holds to 6e-10 relative (measured) on this coarse mid-slab grid.
    assert abs(c[0, mid] - c[1, mid] - 50.0) < 1e-8 * 50.0
    c_eff = np.array([100.0, 100.0 * math.exp(-1.5)])
    # Neutrality c₊e^{−u} − c₋e^{u} + ρ = 0 with ρ = −50 mM is a quadratic in w = e^{−u}.
    a, b = c_eff
    w = (50.0 + math.sqrt(50.0**2 + 4 * a * b)) / (2 * a)  # w = e^{−u}
    assert phi[mid] == pytest.approx(-VT * math.log(w), rel=1e-8)
    # Without the barrier this is membrax.donnan_equilibrium (an independent root-finder).
    plain = steady(_slab(mu_cl=0.0), 0.0)
    donnan = membrax.donnan_equilibrium(np.array([100.0, 100.0]), np.array([1.0, -1.0]), -50.0, T)
    assert float(plain.potential[mid]) == pytest.approx(float(donnan.potential), rel=1e-8)
    np.testing.assert_allclose(
        np.asarray(plain.concentrations[:, mid]), np.asarray(donnan.c_in), rtol=1e-8
    )


def test_nernst_potential_across_a_selective_membrane():
    # A cation exchanger (−1 M fixed charge, Cl⁻ barrier of 30 kT) between 100 and 10 mM KCl.
    # At zero current K⁺ is at equilibrium across it: V = φ_left − φ_right is the Nernst
    # potential of K⁺ with left = inside (Cl⁻ leaks at ~e⁻³⁰, far below the tolerance).
    system = _slab(mu_cl=30.0, c_left=100.0, c_right=10.0, rho=-1000.0)
    sol = open_circuit(system)
    nernst = membrax.nernst_potential(10.0, 100.0, 1.0, T)  # c_out = right, c_in = left
    assert float(sol.voltage) == pytest.approx(float(nernst), abs=1e-6)
    assert float(sol.voltage) == pytest.approx(VT * math.log(0.1), abs=1e-6)
    assert abs(float(sol.current)) < 1e-12


# --- Gouy–Chapman double layer -------------------------------------------------------------

C_GC, SIGMA, EPS_GC = 100.0, -0.05, 78.4  # mM, C/m², εr


def _gouy_chapman(cells):
    grid = ed.uniform_grid(12.0, cells)
    system = ed.PNPSystem(
        grid,
        valence=[1.0, -1.0],
        diffusion=[D_NA, D_CL],
        left=ed.Wall(SIGMA),
        right=ed.Bath(jnp.array([C_GC, C_GC])),
        temperature=T,
        relative_permittivity=EPS_GC,
    )
    return np.asarray(grid.nodes), np.asarray(steady(system, 0.0).potential)


def test_gouy_chapman_profile_debye_length_and_second_order_convergence():
    # Closed forms (Gouy 1910, Chapman 1913; Grahame 1947), SI units:
    # λ_D = √(ε0εr RT / (2F²c)), ζ = 2V_T asinh(σ / √(8ε0εr RT c)),
    # φ(x) = 4V_T artanh(tanh(ζ/4V_T)·e^{−x/λ_D}).
    c_si = C_GC  # mol/m³
    debye = 1e9 * math.sqrt(EPS_GC * E0 * R * T / (2 * F**2 * c_si))  # nm
    # Cross-check λ_D against membrax's Debye–Hückel B: κ = B·√I (I in mol/L), for εr.
    b = membrax.debye_huckel_parameters(T, relative_permittivity=EPS_GC).b
    assert debye == pytest.approx(1 / (float(b) * math.sqrt(C_GC / 1e3)), rel=1e-12)
    zeta = 2 * VT * math.asinh(SIGMA / math.sqrt(8 * EPS_GC * E0 * R * T * c_si))

    def exact(x):
        return 4 * VT * np.arctanh(math.tanh(zeta / (4 * VT)) * np.exp(-x / debye))

    errors = []
    for cells in (100, 200, 400):
        x, phi = _gouy_chapman(cells)
        errors.append(np.max(np.abs(phi - exact(x))))
    orders = np.log2(np.asarray(errors[:-1]) / np.asarray(errors[1:]))
    # The box method is second order: observed orders 2.00 ± 0.05 (measured 1.97, 1.99).
    np.testing.assert_allclose(orders, 2.0, atol=0.05)
    # h = 0.03 nm = λ_D/32: |φ − φ_GC| = 0.020 mV of a −57 mV ζ-potential (measured).
    assert errors[-1] < 0.025
    # The decay length of the far field is the Debye length (fit over x ∈ [4, 8] nm, where
    # φ ∝ e^{−x/λ} up to (tanh ζ/4V_T)² e^{−2x/λ} ≈ 1e-4 relative).
    far = (x > 4) & (x < 8)
    slope = np.polyfit(x[far], np.log(-phi[far]), 1)[0]
    assert -1 / slope == pytest.approx(debye, rel=2e-3)


# --- Constant-field (GHK) limit ------------------------------------------------------------


def test_thin_dilute_membrane_reproduces_ghk():
    # 5 nm membrane, 1e-6 mM ions: λ_D ≈ 10 µm ≫ L, so space charge cannot bend the field
    # (relative deviation ~ (L/λ_D)² ≈ 3e-7) and the SG fluxes are exact for a constant field:
    # each ion's flux is the GHK flux with P = D/L (Goldman 1943; Hodgkin & Katz 1949).
    # K⁺, Cl⁻, Ca²⁺; each bath electroneutral.
    length, c_in, c_out = 5.0, np.array([2e-6, 4e-6, 1e-6]), np.array([0.5e-6, 3.5e-6, 1.5e-6])
    z, d = np.array([1.0, -1.0, 2.0]), np.array([D_K, D_CL, 0.79e-5])
    system = ed.PNPSystem(
        ed.uniform_grid(length, CELLS_3),
        valence=z,
        diffusion=d,
        left=ed.Bath(jnp.asarray(c_in)),
        right=ed.Bath(jnp.asarray(c_out)),
        temperature=T,
        relative_permittivity=78.4,
    )
    voltages = jnp.array([-120.0, -40.0, 0.0, 25.0, 90.0])
    sols = current_voltage(system, voltages)
    p = d / (length * 1e-7)  # cm/s
    for i, v in enumerate(np.asarray(voltages)):
        for k in range(3):
            ghk = float(membrax.ghk_flux(v, c_in[k], c_out[k], p[k], z[k], T))
            np.testing.assert_allclose(np.asarray(sols.flux[i, k]), ghk, rtol=1e-6)
        ghk_i = sum(
            float(membrax.ghk_current(v, c_in[k], c_out[k], p[k], z[k], T)) for k in range(3)
        )
        np.testing.assert_allclose(np.asarray(sols.current_density[i]), ghk_i, rtol=1e-6)


# --- Liquid-junction potentials ------------------------------------------------------------


def _ljp_cases():
    with open(DATA / "ion_limiting_equivalent_conductances.csv") as f:
        table = {r["ion"]: r for r in csv.DictReader(f)}
    with open(DATA / "ljp_reference_cases.csv") as f:
        rows = list(csv.DictReader(f))
    cases = []
    for row in rows:
        ions = json.loads(row["ions_json_c0_cL"])
        scale = 1e3 if row["conc_unit"] == "M" else 1.0
        z = np.array([float(table[i]["charge"]) for i in ions])
        lam = np.array([float(table[i]["lambda_S_cm2_per_equiv_25C"]) for i in ions])
        c1 = np.array([ions[i][0] for i in ions], float) * scale
        c2 = np.array([ions[i][1] for i in ions], float) * scale
        t = 273.15 + float(row["temperature_C"])
        cases.append(
            pytest.param(
                c1, c2, z, lam / np.abs(z), t,  # D = (RT/F²)·λ/|z| ∝ λ/|z|
                float(row["published_ljp_mV"]), float(row["tolerance_mV"]),
                id=row["case_id"],
            )
        )  # fmt: skip
    return cases


def _henderson(c1, c2, z, d, t):
    # Henderson (1907) with mobilities ∝ D: φ2 − φ1 = −V_T·Σz D Δc / Σz² D Δc · ln(Σz²Dc2/Σz²Dc1).
    vt = 1e3 * R * t / F
    dc = c2 - c1
    return (
        -vt
        * np.sum(z * d * dc)
        / np.sum(z * z * d * dc)
        * math.log(np.sum(z * z * d * c2) / np.sum(z * z * d * c1))
    )


@pytest.mark.parametrize(("c1", "c2", "z", "d", "t", "published", "tolerance"), _ljp_cases())
def test_liquid_junction_potentials_match_published(c1, c2, z, d, t, published, tolerance):
    # Ng & Barry (1995) Table 2 and Harper (1985) Table I (tests/data/ljp/SOURCE.md), with
    # their published tolerance, from the steady Nernst–Planck–Poisson junction.
    ljp = float(ed.junction_potential(c1, c2, z, d, t))
    assert abs(ljp - published) <= tolerance
    # Swapping the solutions flips the sign.
    assert float(ed.junction_potential(c2, c1, z, d, t)) == pytest.approx(-ljp, abs=1e-9)
    # Planck's steady junction and Henderson's linear mixing agree exactly for one salt
    # (Harper) and for two salts of a common ion at equal concentration (NaCl:KCl), here to
    # the discretisation error (~2e-4 mV); they differ slightly otherwise (NaCl:MgCl2,
    # measured 0.08 mV; Henderson's assumption is not a solution of the steady equations).
    henderson = _henderson(c1, c2, z, d, t)
    single_or_biionic = len(z) == 2 or np.all(c1[z < 0] == c2[z < 0])
    assert abs(ljp - henderson) < (1e-3 if single_or_biionic else 0.15)


@pytest.mark.slow
def test_junction_potential_gradient():
    c1 = np.array([99.5, 99.5])
    z, d = np.array([1.0, -1.0]), np.array([50.11, 76.31])
    # Single salt: φ2 − φ1 = −(t₊ − t₋)·V_T·ln(c2/c1), t± = D±/(D₊ + D₋), so
    # ∂/∂c2 = −(t₊ − t₋)·V_T/c2 for a salt concentration c2 (both ions together).
    grad = jax.grad(lambda s: ed.junction_potential(c1, jnp.array([s, s]), z, d, T))(4.99)
    t_diff = (d[0] - d[1]) / (d[0] + d[1])
    assert float(grad) == pytest.approx(-t_diff * VT / 4.99, rel=1e-3)  # O(h²) grid error


# --- Supporting electrolyte ----------------------------------------------------------------


def _trace_system(support, c_trace_left=1.0, c_trace_right=1.0):
    # Trace K⁺ with NaCl support; Cl⁻ balances both. 200 nm of bulk electrolyte.
    c_left = jnp.array([c_trace_left, support, c_trace_left + support])
    c_right = jnp.array([c_trace_right, support, c_trace_right + support])
    return ed.PNPSystem(
        ed.uniform_grid(200.0, CELLS_3),
        valence=[1.0, 1.0, -1.0],
        diffusion=[D_K, D_NA, D_CL],
        left=ed.Bath(c_left),
        right=ed.Bath(c_right),
        temperature=T,
    )


@pytest.mark.parametrize("support", [1.0, 10.0, 100.0])
def test_supporting_electrolyte_transference_number(support):
    # Uniform electrolyte under a voltage: Ohmic conduction, every ion's share of the current
    # is its transference number t_i = z_i² D_i c_i / Σ z_j² D_j c_j (exact).
    sweep = current_voltage(_trace_system(support), jnp.array([-40.0, -20.0, 0.0, 20.0, 40.0]))
    flux = np.asarray(sweep.flux[3, :, 25])
    t_k = F * flux[0] / float(sweep.current_density[3, 25])
    d = np.array([D_K, D_NA, D_CL])
    c = np.array([1.0, support, 1.0 + support])
    assert t_k == pytest.approx(d[0] * c[0] / np.sum(d * c), rel=1e-9)
    if support == 100.0:
        assert t_k < 0.006  # 100-fold support: the trace ion carries < 0.6 % of the current


def test_supporting_electrolyte_leaves_trace_ion_to_fick_diffusion():
    # A K⁺ gradient (1 → 0.1 mM) at zero current. Alone (KCl), K⁺ diffuses with the ambipolar
    # coefficient 2D_K D_Cl/(D_K + D_Cl) (migration in the diffusion potential); under 100-fold
    # NaCl the diffusion potential vanishes and K⁺ follows Fick's law with D_K.
    fick = D_K * 0.9 / (200.0 * 1e-7)  # µmol cm⁻² s⁻¹
    supported = open_circuit(_trace_system(100.0, 1.0, 0.1))
    alone = open_circuit(_trace_system(1e-9, 1.0, 0.1))  # "no" support (1e-9 mM NaCl)
    j_supported = float(supported.flux[0, 0])
    j_alone = float(alone.flux[0, 0])
    ambipolar = 2 * D_K * D_CL / (D_K + D_CL) * 0.9 / (200.0 * 1e-7)
    assert j_alone == pytest.approx(ambipolar, rel=1e-4)
    # With support the diffusion potential, and so the migration of K⁺, nearly vanishes: the
    # flux is Fick's to 1.2e-4 (measured), against 1.9 % without support.
    assert j_supported == pytest.approx(fick, rel=1e-3)
    assert abs(j_supported / fick - 1) < abs(j_alone / fick - 1) / 2


# --- I–V curves, jit/vmap, gradients -------------------------------------------------------


def test_current_voltage_equals_vmapped_steady_states_and_jit():
    system = _slab(rho=-150.0, c_right=20.0, ramp=True)
    voltages = jnp.array([150.0, -60.0, 0.0, 20.0, -150.0])
    sweep = current_voltage(system, voltages)
    vmapped = jax.jit(jax.vmap(ed.steady_state, in_axes=(None, 0)))(system, voltages)
    looped = [float(steady(system, float(v)).current) for v in voltages]
    np.testing.assert_allclose(np.asarray(sweep.current), looped, rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(np.asarray(vmapped.current), looped, rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(
        np.asarray(sweep.potential), np.asarray(vmapped.potential), rtol=1e-9, atol=1e-9
    )
    np.testing.assert_allclose(np.asarray(sweep.voltage), np.asarray(voltages), atol=1e-9)
    # Current conservation: at a steady state without sources every cell carries the same
    # current (to Newton's precision).
    density = np.asarray(sweep.current_density)
    assert np.max(np.abs(density - density[:, :1])) < 1e-8 * np.max(np.abs(density))
    # The ramp of negative charge rectifies: |I(+150)| ≠ |I(−150)| (a cation-selective diode).
    assert abs(float(sweep.current[0]) / float(sweep.current[4])) > 1.2


def test_gradients_match_central_differences():
    # d I(V = 60 mV)/d(bath concentration, fixed charge, D, permittivity) by implicit
    # differentiation against central differences (step 1e-5 relative: truncation ~1e-10,
    # Newton precision ~1e-13 → agreement to ~1e-7).
    def system(p):
        return _slab(rho=p[1], c_left=p[0], c_right=20.0, ramp=True, eps=p[3], d_scale=p[2])

    params = jnp.array([100.0, -150.0, 1.0, 78.4])
    grad = jax.jit(jax.grad(lambda p: ed.steady_state(system(p), 60.0).current))(params)
    for i in range(4):
        h = 1e-5 * abs(float(params[i]))
        up = float(steady(system(params.at[i].add(h)), 60.0).current)
        down = float(steady(system(params.at[i].add(-h)), 60.0).current)
        assert float(grad[i]) == pytest.approx((up - down) / (2 * h), rel=1e-6), i


@pytest.mark.slow
def test_gradient_of_an_iv_curve():
    # (By default the notebook test differentiates a sweep; this one checks a small one.)
    # The whole sweep differentiates too: d Σ I(V)/d c_left against a central difference.
    voltages = jnp.array([-80.0, -40.0, 0.0, 40.0, 80.0])

    def system(c):
        return _slab(rho=-150.0, c_left=c, c_right=20.0, ramp=True)

    g = jax.jit(jax.grad(lambda c: jnp.sum(ed.current_voltage(system(c), voltages).current)))
    up = np.sum(np.asarray(current_voltage(system(100.0 + 1e-3), voltages).current))
    down = np.sum(np.asarray(current_voltage(system(100.0 - 1e-3), voltages).current))
    fd = (up - down) / 2e-3
    g = float(g(100.0))
    assert g == pytest.approx(fd, rel=1e-6)


# --- Sources -------------------------------------------------------------------------------


def test_constant_source_balances_outflow():
    # A neutral solute produced uniformly at S (mM/ms) between two baths held at 0: the steady
    # profile is the parabola S·x(L − x)/(2D), and the outflow equals the production
    # (mass balance). SG with z = 0 is the centred 3-point Laplacian: exact for a parabola.
    length, cells, d, s = 20.0, 40, 1e-5, 1e3  # nm, cm²/s, mM/ms
    grid = ed.uniform_grid(length, cells)
    system = ed.PNPSystem(
        grid,
        valence=[0.0, 1.0, -1.0],
        diffusion=[d, D_K, D_CL],
        left=ed.Bath(jnp.array([0.0, 10.0, 10.0])),
        right=ed.Bath(jnp.array([0.0, 10.0, 10.0])),
        temperature=T,
        source=ed.ConstantSource(jnp.array([s, 0.0, 0.0])[:, None]),
    )
    sol = steady(system, 0.0)
    x = np.asarray(grid.nodes)
    d_nm2_per_ms = d * 1e14 * 1e-3  # cm²/s → nm²/ms
    np.testing.assert_allclose(
        np.asarray(sol.concentrations[0]), s * x * (length - x) / (2 * d_nm2_per_ms), rtol=1e-10
    )
    # Mass balance: the interior nodes produce S·(L − h) per unit area (the bath nodes' half
    # cells belong to the baths), half leaving through each end; mM·nm/ms → µmol cm⁻² s⁻¹ is
    # 1e-7 cm/nm × 1e3 ms/s.
    out = s * (length - length / cells) / 2 * 1e-7 * 1e3
    assert float(sol.flux[0, -1]) == pytest.approx(out, rel=1e-10)
    assert float(sol.flux[0, 0]) == pytest.approx(-out, rel=1e-10)


# --- Bad input -----------------------------------------------------------------------------


def test_bad_input_errors_name_argument_value_and_fix():
    grid = ed.uniform_grid(10.0, 10)
    good = dict(
        valence=[1.0, -1.0],
        diffusion=[D_K, D_CL],
        left=ed.Bath(jnp.array([10.0, 10.0])),
        right=ed.Bath(jnp.array([10.0, 10.0])),
        temperature=T,
    )
    with pytest.raises(ValueError, match=r"diffusion must be > 0 cm²/s, got -1e-05.*cm²/s"):
        ed.PNPSystem(grid, **{**good, "diffusion": [D_K, -1e-5]})
    with pytest.raises(ValueError, match=r"left.concentrations must be >= 0 mM, got -1.0"):
        ed.PNPSystem(grid, **{**good, "left": ed.Bath(jnp.array([-1.0, 10.0]))})
    with pytest.raises(ValueError, match=r"right.concentrations must be electroneutral.*balance"):
        ed.PNPSystem(grid, **{**good, "right": ed.Bath(jnp.array([10.0, 5.0]))})
    with pytest.raises(ValueError, match=r"temperature must be > 0 K, got -3.0.*kelvin"):
        ed.PNPSystem(grid, **{**good, "temperature": -3.0})
    with pytest.raises(ValueError, match=r"relative_permittivity must be .*one value per cell"):
        ed.PNPSystem(grid, **{**good, "relative_permittivity": np.ones(7)})
    with pytest.raises(ValueError, match=r"nodes must be strictly increasing.*x\[1\] = 1.0"):
        ed.Grid([0.0, 1.0, 1.0, 2.0])
    with pytest.raises(ValueError, match=r"area must be > 0 nm², got 0.0"):
        ed.Grid([0.0, 1.0, 2.0], area=[1.0, 0.0, 1.0])
    closed = ed.PNPSystem(grid, **{**good, "left": ed.Wall(), "right": ed.Wall()})
    with pytest.raises(ValueError, match=r"walls on both sides.*Make one side a Bath"):
        ed.steady_state(closed)
    with pytest.raises(ValueError, match=r"voltage must be finite, got nan"):
        ed.steady_state(ed.PNPSystem(grid, **good), float("nan"))
    with pytest.raises(ValueError, match=r"z must be nonzero, got 0.0 at index 1"):
        ed.junction_potential([10.0, 10.0], [1.0, 1.0], [1.0, 0.0], [1.0, 1.0], T)
    with pytest.raises(ValueError, match=r"c_second \(Σ z·c\) must be 0.*got 1.0.*Balance"):
        ed.junction_potential([10.0, 10.0], [2.0, 1.0], [1.0, -1.0], [1.0, 1.0], T)
    with pytest.raises(ValueError, match=r"per-ion arrays differ in length"):
        ed.junction_potential([10.0, 10.0], [1.0, 1.0, 1.0], [1.0, -1.0], [1.0, 1.0], T)
    # Under jit, a negative diffusion coefficient is caught at run time (equinox.error_if).
    with pytest.raises(Exception, match="diffusion must be > 0"):
        jax.block_until_ready(
            jax.jit(lambda d: ed.PNPSystem(grid, **{**good, "diffusion": d}).diffusion)(
                jnp.array([D_K, -1.0])
            )
        )


def test_newton_failure_is_reported_not_nan():
    # Four Newton iterations (4 × max_steps at zero voltage) cannot reach the equilibrium of a
    # 1 M fixed charge from the neutral guess: a clear error, never NaN.
    solve = jax.jit(lambda s: ed.steady_state(s, 0.0, max_steps=1))
    with pytest.raises(Exception, match=r"Newton's method did not converge.*max_steps"):
        solve(_slab(rho=-1000.0, mu_cl=30.0)).current.block_until_ready()


def test_system_is_a_pytree_of_float_arrays():
    # Integer inputs become floats (so they carry gradients); tree_at makes a new system.
    system = _slab()
    assert all(
        jnp.issubdtype(leaf.dtype, jnp.floating) for leaf in jax.tree_util.tree_leaves(system)
    )
    hotter = eqx.tree_at(lambda s: s.temperature, system, jnp.asarray(310.0))
    assert float(hotter.temperature) == 310.0 and float(system.temperature) == T
