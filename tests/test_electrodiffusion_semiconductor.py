"""Semiconductor mode: a silicon p–n junction (electrons, holes, doping, SRH)."""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import membrax.electrodiffusion as ed

R, F = 1.380649e-23 * 6.02214076e23, 1.602176634e-19 * 6.02214076e23
T = 300.0
VT = 1e3 * R * T / F  # mV
NA, ND, NI = 1e17, 1e16, 1e10  # cm⁻³: p side, n side, silicon's intrinsic density


def _diode(recombination=None):
    # 1 µm of p-type against 1 µm of n-type silicon, cells clustered at the junction and
    # contacts (Sze & Ng 2007: μ_n = 1400, μ_p = 450 cm²/(V·s), εr = 11.7).
    # 48 cells: the structure of tests/test_electrodiffusion.py's two-species systems, so that
    # the compiled solvers are shared.
    grid = ed.refined_grid([0.0, 1000.0, 2000.0], 24, clustering=1.5)
    doping = jnp.where(grid.cell_centres < 1000.0, -NA, ND)
    return ed.semiconductor(
        grid,
        doping,
        intrinsic_density=NI,
        electron_mobility=1400.0,
        hole_mobility=450.0,
        temperature=T,
        recombination=recombination,
    )


def test_pn_junction_built_in_potential():
    # Ground both contacts (potential 0) so that nothing imposes the built-in potential: at
    # zero current the solver must find it from the carriers' equilibrium. Closed form
    # (Sze & Ng 2007, eq. 2.6 / 2.11): V_bi = V_T·ln(N_A N_D / n_i²) for N ≫ n_i; with
    # Boltzmann statistics exactly V_T[asinh(N_A/2n_i) + asinh(N_D/2n_i)] (differs by 1e-13).
    diode = _diode()
    grounded = eqx.tree_at(
        lambda s: (s.left.potential, s.right.potential), diode, (jnp.zeros(()), jnp.zeros(()))
    )
    sol = jax.jit(ed.open_circuit_state)(grounded)
    v_bi = VT * math.log(NA * ND / NI**2)
    # voltage = φ(p contact) − φ(n contact) = −V_bi.
    assert float(sol.voltage) == pytest.approx(-v_bi, rel=1e-9)
    assert float(sol.potential[-1] - sol.potential[0]) == pytest.approx(v_bi, rel=1e-9)
    # Neutral bulk far from the junction: majority carriers equal the doping, n·p = n_i².
    # (Depletion widths 30 nm (p) and 300 nm (n); beyond them the space charge decays over a
    # Debye length, 13 nm (p) and 41 nm (n): e^{−600/41} ≈ 4e-7 at 1.9 µm.)
    n = np.asarray(ed.millimolar_to_density(sol.concentrations[0]))
    p = np.asarray(ed.millimolar_to_density(sol.concentrations[1]))
    x = np.asarray(grounded.grid.nodes)
    deep_p, deep_n = np.argmin(np.abs(x - 300.0)), np.argmin(np.abs(x - 1900.0))
    assert p[deep_p] == pytest.approx(NA, rel=1e-5)
    assert n[deep_n] == pytest.approx(ND, rel=1e-5)
    np.testing.assert_allclose(n * p, NI**2, rtol=1e-6)  # equilibrium everywhere
    # With the Ohmic-contact potentials of `semiconductor`, V = 0 is equilibrium already.
    assert float(jax.jit(ed.open_circuit_state)(diode).voltage) == pytest.approx(0.0, abs=1e-9)


def test_pn_junction_rectifies_with_diode_law():
    # Forward bias (p contact positive) conducts; in the exponential regime the current grows
    # e-fold per V_T (ideal diode, Shockley 1949): ratio over 50 mV within 5 % of e^{50/V_T}.
    voltages = jnp.array([-300.0, 0.0, 250.0, 300.0, 350.0])
    iv = jax.jit(ed.current_voltage)(_diode(), voltages)
    i = np.asarray(iv.current)
    assert i[2] > 0 and i[4] > i[3] > i[2]
    assert i[4] / i[3] == pytest.approx(math.exp(50.0 / VT), rel=0.05)
    assert abs(i[0]) < 1e-5 * i[4] and abs(i[1]) < 1e-12 * i[4]


@pytest.mark.slow
def test_pn_junction_with_srh_recombination():
    # With SRH recombination (τ = 1 µs) a reverse bias draws a small generation current.
    voltages = jnp.array([-300.0, 0.0, 250.0, 300.0, 350.0])
    srh = ed.SRHRecombination(1e-3, 1e-3, NI)
    iv_srh = jax.jit(ed.current_voltage)(_diode(srh), voltages)
    assert float(iv_srh.current[4]) > float(iv_srh.current[3]) > 0
    assert float(iv_srh.current[0]) < 0  # generation in the depletion region
    # Recombination removes electrons and holes in pairs, so the total current is the same
    # through every cell even though each carrier's flux is not.
    density = np.asarray(iv_srh.current_density[-1])
    assert np.max(np.abs(density - density[0])) < 1e-6 * abs(density[0])
    flux = np.asarray(iv_srh.flux[-1])
    assert np.ptp(flux[0]) > 1e-3 * np.max(np.abs(flux[0]))
