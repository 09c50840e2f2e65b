"""PNP transients (implicit diffrax solve): mass conservation and relaxation to steady state."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import membrax.electrodiffusion as ed

T = 298.15
D_K, D_CL = 1.957e-5, 2.032e-5  # cm²/s
CELLS = 30


def _box(left, right):
    # 30 nm of KCl with −20 mM fixed charge in the middle third.
    grid = ed.refined_grid([0.0, 10.0, 20.0, 30.0], 10, clustering=1.0)
    xc = grid.cell_centres
    return ed.PNPSystem(
        grid,
        valence=[1.0, -1.0],
        diffusion=[D_K, D_CL],
        left=left,
        right=right,
        temperature=T,
        fixed_charge=jnp.where((xc > 10) & (xc < 20), -20.0, 0.0),
    )


def _initial(system):
    # Out of equilibrium: a salt step, neutral everywhere (K⁺ = Cl⁻ + 20 in the charged third).
    x = system.grid.nodes
    salt = jnp.where(x < 15.0, 40.0, 10.0)
    charged = (x > 10) & (x < 20)
    return jnp.stack([salt + jnp.where(charged, 20.0, 0.0), salt])


def test_closed_box_conserves_mass_and_relaxes_to_equilibrium():
    system = _box(ed.Wall(), ed.Wall(0.0))
    # Slowest relaxation ≈ L²/(π²D) ≈ 5e-5 ms; follow 200 of them.
    ts = jnp.linspace(0.0, 1e-2, 6)
    run = jax.jit(ed.transient)(system, _initial(system), ts)
    amount = np.asarray(run.amount)
    # The finite-volume fluxes cancel pairwise and the walls are tight, so each species'
    # amount (Σ V_i c_i) is constant; Runge–Kutta steps preserve such linear invariants, so
    # to rounding (measured 1e-15), well inside the required 1e-10.
    np.testing.assert_allclose(amount, amount[:1].repeat(6, axis=0), rtol=1e-10)
    # Final state: equilibrium. No flux, and Boltzmann: c₊c₋ is the same everywhere (the
    # Gibbs–Donnan product e^{−φ}·e^{+φ}).
    final = run.states.concentrations[-1]
    product = np.asarray(final[0] * final[1])
    np.testing.assert_allclose(product, product.mean(), rtol=1e-6)
    # Net fluxes have died out to the time-step tolerance (initial ~1e3 µmol cm⁻² s⁻¹).
    assert np.max(np.abs(np.asarray(run.states.flux[-1]))) < 1e-9 * np.max(
        np.abs(np.asarray(run.states.flux[0]))
    )


@pytest.mark.slow
def test_transient_with_baths_reaches_the_steady_state_under_voltage():
    # Two baths (50 | 10 mM KCl) and 40 mV: the transient from the step profile settles on the
    # state found directly by Newton (an independent path to the same discrete equations).
    system = _box(ed.Bath(jnp.array([50.0, 50.0])), ed.Bath(jnp.array([10.0, 10.0])))
    ts = jnp.array([0.0, 2e-6, 1e-2])
    run = jax.jit(lambda s, c, t: ed.transient(s, c, t, voltage=40.0))(system, _initial(system), ts)
    direct = jax.jit(ed.steady_state)(system, 40.0)
    np.testing.assert_allclose(
        np.asarray(run.states.concentrations[-1]), np.asarray(direct.concentrations), rtol=1e-6
    )
    np.testing.assert_allclose(
        np.asarray(run.states.potential[-1]), np.asarray(direct.potential), atol=1e-6
    )
    assert float(run.states.current_density[-1, 0]) == pytest.approx(
        float(direct.current_density[0]), rel=1e-5
    )
    # Early on (2e-6 ms, 1/25 of the slowest relaxation) the current still differs along the
    # domain: charge is being redistributed.
    early = np.asarray(run.states.current_density[1])
    assert np.ptp(early) > 1e-3 * np.max(np.abs(early))


def test_transient_rejects_bad_initial_state():
    system = _box(ed.Wall(), ed.Wall())
    with pytest.raises(ValueError, match=r"initial must be >= 0 mM, got -1.0"):
        ed.transient(system, -jnp.ones((2, CELLS + 1)), jnp.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"initial must have shape \(species, nodes\) = \(2, 31\)"):
        ed.transient(system, jnp.ones((2, 5)), jnp.array([0.0, 1.0]))
