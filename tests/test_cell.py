"""PointCell: structure, currents, resting potentials (chord conductance, steady state, long
current-clamp runs), ion concentration dynamics with a Na⁺/K⁺ pump, and input errors."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import membrax
from membrax.models import (
    AbstractPump,
    CellState,
    Channel,
    GHKPermeation,
    Ion,
    Ohmic,
    PointCell,
    SodiumPotassiumPump,
    hh1952_cell,
    hh1952_leak,
    hh1952_potassium,
    hh1952_sodium,
)

NO_STIMULUS = membrax.CurrentStep(0.0, 0.0, 0.0)
BODY_T = 310.15  # K


def _rest_gated(cell, v):
    """Each channel's conductance g·P_open at V with its gates at steady state there."""
    gates = cell.steady_gating(v)
    return jnp.stack(
        [ch.permeation.g_max * ch.open_probability(x) for ch, x in zip(cell.channels, gates)]
    )


def test_hh1952_cell_is_the_squid_axon():
    cell = hh1952_cell()
    assert len(cell.channels) == 3
    assert float(cell.capacitance) == 1.0
    state = cell.initial_state()
    assert isinstance(state, CellState)
    assert [x.shape for x in state.channels] == [(2,), (1,), (0,)]
    # Gates start at their steady state at v_init = −65 mV: m∞, h∞, n∞ of HH 1952.
    rates = membrax.hodgkin_huxley_rates(-65.0, 279.45)
    m, n = rates.m, rates.n
    np.testing.assert_allclose(state.channels[0][0], m.alpha / (m.alpha + m.beta), rtol=1e-14)
    np.testing.assert_allclose(state.channels[1][0], n.alpha / (n.alpha + n.beta), rtol=1e-14)
    # The channels are the published ones.
    ref = (hh1952_sodium(), hh1952_potassium(), hh1952_leak())
    for ch, r in zip(cell.channels, ref):
        assert eqx.tree_equal(ch, r)


def test_hh1952_rests_at_minus_65_mv():
    # The modern convention puts HH's rest at −65 mV: E_L = −54.387 mV was chosen for it
    # (to 0.01 mV: −54.387 is itself rounded).
    rest = membrax.steady_state(hh1952_cell())
    assert abs(float(rest.v) + 65.0) < 0.01
    # Zero net current there, gates at their steady state.
    assert abs(float(hh1952_cell().membrane_current(rest))) < 1e-9


def test_chord_conductance_potential_equals_the_simulated_steady_state():
    cell = hh1952_cell(v_init=-60.0)
    record = membrax.current_clamp(cell, NO_STIMULUS, t1=400.0, save=membrax.SaveSpikes())
    v_end = record.final.v
    assert int(record.spike_count) == 0
    g = _rest_gated(cell, v_end)
    e_rev = jnp.stack([ch.permeation.e_rev for ch in cell.channels])
    chord = membrax.chord_conductance_potential(g, e_rev)
    # After 400 ms the slowest mode (τ ≈ 6 ms) has relaxed far below rounding.
    np.testing.assert_allclose(chord, v_end, atol=1e-9)
    np.testing.assert_allclose(membrax.steady_state(cell).v, v_end, atol=1e-9)


class _ConstantPump(AbstractPump):
    """An electrogenic pump of constant outward current (the extension point in action)."""

    i: jax.Array = eqx.field(converter=jnp.asarray)

    def current(self, v, concentrations):
        return jnp.broadcast_to(self.i, jnp.shape(v))


class _DuckPump(eqx.Module):
    """Anything with current(v) is accepted as a pump (e.g. a transporter)."""

    i: jax.Array = eqx.field(converter=jnp.asarray)

    def current(self, v):
        return jnp.broadcast_to(self.i, jnp.shape(v))


@pytest.mark.parametrize("pump", [_ConstantPump(0.5), _DuckPump(0.5)])
def test_steady_state_with_a_pump_is_the_chord_potential_with_i_pump(pump):
    cell = PointCell(
        1.0, (Channel((), Ohmic(0.3, -80.0)), Channel((), Ohmic(0.05, 50.0))), pumps=(pump,)
    )
    rest = membrax.steady_state(cell)
    chord = membrax.chord_conductance_potential(
        jnp.array([0.3, 0.05]), jnp.array([-80.0, 50.0]), i_pump=0.5
    )
    np.testing.assert_allclose(rest.v, chord, rtol=1e-12)


def _hh_with_potassium_ion(k_out):
    # HH's K⁺ channel with E_K from the Nernst equation; [K]i = 400 mM puts E_K near −77 mV
    # at 6.3 °C when [K]o = 20 mM.
    base = hh1952_cell()
    return PointCell(
        base.capacitance,
        base.channels,
        ions=(Ion("K", 1.0, 400.0, k_out, 279.45, channels=(1,)),),
    )


def test_resting_potential_gradient_wrt_external_potassium():
    def rest(k_out):
        return membrax.steady_state(_hh_with_potassium_ion(k_out)).v

    k0 = 20.0
    grad = jax.grad(rest)(k0)
    h = 1e-3
    fd = (rest(k0 + h) - rest(k0 - h)) / (2 * h)
    # Implicit differentiation vs central differences (error O(h²) ≈ 1e-8 relative).
    np.testing.assert_allclose(grad, fd, rtol=1e-6)
    # Raising [K]o depolarises, by less than E_K moves (other conductances share the rest).
    d_ek = 24.08 / k0  # dE_K/d[K]o = (RT/F)/[K]o at 6.3 °C
    assert 0 < float(grad) < d_ek
    # The Nernst E_K is what the channel sees.
    state = _hh_with_potassium_ion(k0).initial_state()
    e_k = _hh_with_potassium_ion(k0).resolved_channels(state)[1].permeation.e_rev
    np.testing.assert_allclose(e_k, membrax.nernst_potential(k0, 400.0, 1, 279.45))


def _pumped_cell(volume=1e-3, v_init=-80.0):
    """Na⁺ and K⁺ leaks whose every ion is tracked in a thin intracellular shell, with a
    Na⁺/K⁺ pump: a closed cell relaxing to a non-equilibrium steady state."""
    return PointCell(
        capacitance=1.0,
        channels=(Channel((), Ohmic(0.002, 0.0)), Channel((), Ohmic(0.05, 0.0))),
        pumps=(SodiumPotassiumPump(1.5),),
        ions=(
            Ion("Na", 1.0, 15.0, 145.0, BODY_T, channels=(0,), volume=volume),
            Ion("K", 1.0, 140.0, 4.0, BODY_T, channels=(1,), volume=volume),
        ),
        v_init=v_init,
    )


def test_concentration_dynamics_conserve_charge():
    # With every current carried by a tracked ion, C·V − Σ zF𝒱c/k is invariant (exactly in
    # the ODE; here to the solver tolerance).
    cell = _pumped_cell()
    assert cell.closed
    record = membrax.current_clamp(
        cell,
        NO_STIMULUS,
        t1=200.0,
        dt=10.0,
        solver=membrax.DiffraxClamp(rtol=1e-10, atol=1e-10),
        save=membrax.SaveTrace(states=True),
    )
    q = jax.vmap(cell.charge_content)(record.states)
    np.testing.assert_allclose(q, q[0], rtol=1e-11)
    # Concentrations did move: Na⁺ in, then out by the pump.
    assert abs(float(record.final.ions[0] - 15.0)) > 1e-3


def test_pumped_cell_reaches_the_non_equilibrium_steady_state():
    cell = _pumped_cell()
    rest = membrax.steady_state(cell)
    record = membrax.current_clamp(
        cell, NO_STIMULUS, t1=5000.0, dt=0.1, save=membrax.SaveSpikes(max_spikes=0)
    )
    # τ of the concentrations ≈ 300 ms: after 5 s only the fixed-step error is left.
    np.testing.assert_allclose(record.final.v, rest.v, atol=1e-5)
    for c_sim, c_rest in zip(record.final.ions, rest.ions):
        np.testing.assert_allclose(c_sim, c_rest, rtol=1e-6)
    # At the NESS the pump balances each leak: I_Na + 3 I_p = 0, I_K − 2 I_p = 0 …
    i_na, i_k = cell.ion_currents(rest)
    np.testing.assert_allclose([i_na, i_k], [0.0, 0.0], atol=1e-12)
    # … and V is the chord-conductance potential with the pump current, at the Nernst
    # potentials of the steady-state concentrations.
    e = jnp.stack([ion.reversal_potential(c) for ion, c in zip(cell.ions, rest.ions)])
    (i_pump,) = cell.pump_currents(rest)
    chord = membrax.chord_conductance_potential(jnp.array([0.002, 0.05]), e, i_pump=i_pump)
    np.testing.assert_allclose(rest.v, chord, rtol=1e-10)
    # The pump hyperpolarises below the pump-free potential.
    assert float(rest.v) < float(membrax.chord_conductance_potential(jnp.array([0.002, 0.05]), e))


def test_open_cell_with_one_dynamic_ion_has_the_analytic_steady_state():
    # An untracked leak breaks charge conservation: dV/dt = 0 then pins the steady state.
    # With no pump, K⁺ runs down until E_K = V (no K⁺ current), so V is set by the other
    # two conductances alone: V = (g_L E_L + g_Na E_Na)/(g_L + g_Na), [K]i = [K]o e^{−V/V_T}.
    cell = PointCell(
        1.0,
        (
            Channel((), Ohmic(0.5, 0.0)),
            Channel((), Ohmic(0.1, -70.0)),
            Channel((), Ohmic(0.01, 55.0)),
        ),
        ions=(Ion("K", 1.0, 140.0, 4.0, BODY_T, channels=(0,), volume=1e-3),),
        v_init=-80.0,
    )
    assert not cell.closed
    rest = membrax.steady_state(cell)
    v = (0.1 * -70.0 + 0.01 * 55.0) / 0.11
    np.testing.assert_allclose(rest.v, v, rtol=1e-10)
    k_in = 4.0 * np.exp(-v / float(membrax.thermal_voltage(BODY_T)))
    np.testing.assert_allclose(rest.ions[0], k_in, rtol=1e-10)


def test_ghk_channel_follows_the_ion_concentrations():
    cell = PointCell(
        1.0,
        (Channel((), GHKPermeation(1e-6, 140.0, 4.0, 1.0, BODY_T)), hh1952_leak()),
        ions=(Ion("K", 1.0, 100.0, 10.0, BODY_T, channels=(0,)),),
    )
    state = cell.initial_state()
    law = cell.resolved_channels(state)[0].permeation
    assert float(law.c_in) == 100.0 and float(law.c_out) == 10.0
    expected = 1e-6 * membrax.ghk_current(-65.0, 100.0, 10.0, 1.0, 1.0, BODY_T)
    np.testing.assert_allclose(cell.channel_currents(state)[0], expected, rtol=1e-12)


def test_derivative_matches_the_membrane_equation():
    cell = hh1952_cell()
    state = cell.initial_state()
    d = cell.derivative(state, 10.0)
    np.testing.assert_allclose(d.v, (10.0 - cell.membrane_current(state)) / 1.0)
    np.testing.assert_allclose(
        d.channels[0], cell.channels[0].gating.derivative(state.channels[0], -65.0)
    )


# --- bad input -------------------------------------------------------------------------------


def test_negative_capacitance_is_refused():
    with pytest.raises(ValueError, match=r"PointCell: capacitance must be > 0, got -1\.0"):
        hh1952_cell(capacitance=-1.0)


def test_a_channel_must_be_a_channel():
    with pytest.raises(TypeError, match=r"channels\[1\] must be a membrax.models.Channel"):
        PointCell(1.0, (hh1952_leak(), "leak"))


def test_pump_needs_its_ions():
    with pytest.raises(ValueError, match=r"needs the ions \['Na', 'K'\]"):
        PointCell(1.0, (hh1952_leak(),), pumps=(SodiumPotassiumPump(1.0),))


def test_pump_must_have_a_current_method():
    with pytest.raises(TypeError, match=r"pumps\[0\] must be a Module with a current"):
        PointCell(1.0, (hh1952_leak(),), pumps=(3.0,))


def test_ion_errors_name_the_problem():
    leak = hh1952_leak()
    with pytest.raises(ValueError, match=r"lists channel 3, but the cell has 1 channels"):
        PointCell(1.0, (leak,), ions=(Ion("K", 1.0, 140.0, 4.0, BODY_T, channels=(3,)),))
    with pytest.raises(ValueError, match=r"channel 0 is listed by both Ion\('K'\) and Ion\('Na'\)"):
        PointCell(
            1.0,
            (leak,),
            ions=(
                Ion("K", 1.0, 140.0, 4.0, BODY_T, channels=(0,)),
                Ion("Na", 1.0, 10.0, 145.0, BODY_T, channels=(0,)),
            ),
        )
    with pytest.raises(ValueError, match=r"Ion\('K'\): valence must be nonzero"):
        Ion("K", 0.0, 140.0, 4.0, BODY_T)
    with pytest.raises(ValueError, match=r"Ion\('K'\): c_out must be > 0 mM, got -4\.0"):
        Ion("K", 1.0, 140.0, -4.0, BODY_T)
    with pytest.raises(ValueError, match=r"Ion\('K'\): volume must be > 0, got 0\.0"):
        Ion("K", 1.0, 140.0, 4.0, BODY_T, volume=0.0)
    with pytest.raises(ValueError, match=r"ion names must be unique"):
        PointCell(
            1.0,
            (leak,),
            ions=(Ion("K", 1.0, 140.0, 4.0, BODY_T), Ion("K", 1.0, 140.0, 4.0, BODY_T)),
        )
