"""Ion concentration dynamics of a PointCell: a restricted extracellular shell (closed forms,
conservation, K⁺ accumulation during a spike train), a CycleTransporter as a pump that
follows the cell's concentrations (the non-equilibrium steady state, its gradient), and
input errors."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jaxtyping import Array, Float

import membrax
from membrax import constants
from membrax._custom_types import float_array
from membrax.models import (
    AbstractPump,
    Channel,
    Ion,
    Ohmic,
    PointCell,
    TransporterPump,
    hh1952_cell,
    sodium_potassium_atpase,
)

NO_STIMULUS = membrax.CurrentStep(0.0, 0.0, 0.0)
BODY_T = 310.0  # K, the transporter factories' default temperature
SQUID_T = 279.45  # K, 6.3 °C (Hodgkin & Huxley 1952)
F = constants.FARADAY
K_DENSITY = constants.FLUX_SCALE_DENSITY  # mM/ms per µA/cm² / (C/mol · µm)


class ConstantPump(AbstractPump):
    """A test pump: a constant outward current carried by one ion (a source of exactly
    known flux)."""

    i: Float[Array, ""] = eqx.field(converter=float_array)
    ion: str = eqx.field(static=True, default="K")

    @property
    def species(self):
        return (self.ion,)

    def current(self, v, concentrations):
        return jnp.broadcast_to(self.i, jnp.shape(v)).astype(jnp.result_type(self.i, v))

    def ion_currents(self, v, concentrations):
        return {self.ion: self.current(v, concentrations)}


def _pumped_shell_cell(*, i=5.0, volume=None, shell_volume=0.03, shell_tau=None):
    """A leak (not tracked) and a constant K⁺ pump current: the ion current is exactly i."""
    return PointCell(
        1.0,
        (Channel((), Ohmic(0.1, -60.0)),),
        pumps=(ConstantPump(i),),
        ions=(
            Ion(
                "K",
                1.0,
                140.0,
                5.0,
                BODY_T,
                volume=volume,
                shell_volume=shell_volume,
                shell_tau=shell_tau,
            ),
        ),
        v_init=-60.0,
    )


SOLVERS = [
    pytest.param(membrax.RushLarsen(), id="rush-larsen"),
    pytest.param(membrax.DiffraxClamp(rtol=1e-10, atol=1e-12), id="diffrax"),
]


# --- the extracellular shell -----------------------------------------------------------------


@pytest.mark.parametrize("solver", SOLVERS)
def test_sealed_shell_fills_by_the_integrated_current_and_conserves_the_ion(solver):
    # Constant outward K⁺ current I into a sealed shell from a cell of volume 𝒱_i:
    # c_o(t) = c_o(0) + k I t/(zF𝒱_o), c_i(t) = c_i(0) − k I t/(zF𝒱_i) (closed form), and
    # c_i𝒱_i + c_o𝒱_o is constant. Forward Euler (Rush–Larsen path) and Runge–Kutta steps
    # are exact for constant rates and keep linear invariants to rounding.
    i, v_in, v_out = 5.0, 0.1, 0.03
    cell = _pumped_shell_cell(i=i, volume=v_in, shell_volume=v_out)
    record = membrax.current_clamp(
        cell, NO_STIMULUS, t1=40.0, dt=0.5, solver=solver, save=membrax.SaveTrace(states=True)
    )
    t = record.ts
    c_in, c_out = record.states.ions[0], record.states.ions_out[0]
    np.testing.assert_allclose(c_out, 5.0 + K_DENSITY * i * t / (F * v_out), rtol=1e-12)
    np.testing.assert_allclose(c_in, 140.0 - K_DENSITY * i * t / (F * v_in), rtol=1e-12)
    # The shell gained ≈ 0.69 mM: a real change, not a no-op.
    assert float(c_out[-1] - c_out[0]) > 0.5
    content = c_in * v_in + c_out * v_out
    np.testing.assert_allclose(content, content[0], rtol=1e-10)


@pytest.mark.parametrize("solver", SOLVERS)
def test_relaxing_shell_follows_the_closed_form(solver):
    # dc_o/dt = kI/(zF𝒱_o) − (c_o − c_bath)/τ with constant I:
    # c_o(t) = c∞ + (c_bath − c∞)e^{−t/τ}, c∞ = c_bath + kτI/(zF𝒱_o).
    i, v_out, tau = 5.0, 0.03, 20.0
    cell = _pumped_shell_cell(i=i, shell_volume=v_out, shell_tau=tau)
    record = membrax.current_clamp(
        cell, NO_STIMULUS, t1=100.0, dt=1.0, solver=solver, save=membrax.SaveTrace(states=True)
    )
    c_inf = 5.0 + K_DENSITY * tau * i / (F * v_out)
    expected = c_inf + (5.0 - c_inf) * jnp.exp(-record.ts / tau)
    # The Rush–Larsen path steps the shell exactly at a frozen current (rounding only);
    # diffrax to its tolerance.
    np.testing.assert_allclose(record.states.ions_out[0], expected, rtol=1e-10)
    assert float(c_inf - 5.0) > 0.3  # ≈ 0.35 mM above the bath
    # The steady state is the closed form c∞, and V the leak's chord potential with the pump.
    rest = membrax.steady_state(cell)
    np.testing.assert_allclose(rest.ions_out[0], c_inf, rtol=1e-12)
    np.testing.assert_allclose(rest.v, -60.0 - i / 0.1, rtol=1e-12)


def test_shell_steady_state_with_a_channel_matches_the_closed_form():
    # A K⁺ channel into a relaxing shell, c_in fixed: at steady state the shell sits at
    # c_bath + kτI_K/(zF𝒱_o) with I_K = g(V − E_K(c_o)) — an implicit equation in c_o and V
    # that steady_state solves; check it, and that it is the long-time current-clamp state.
    v_out, tau = 0.03, 30.0
    cell = PointCell(
        1.0,
        (Channel((), Ohmic(0.5, 0.0)), Channel((), Ohmic(0.05, 0.0))),
        ions=(
            Ion("K", 1.0, 140.0, 4.0, BODY_T, channels=(0,), shell_volume=v_out, shell_tau=tau),
            Ion("Na", 1.0, 15.0, 145.0, BODY_T, channels=(1,)),
        ),
        v_init=-80.0,
    )
    rest = membrax.steady_state(cell)
    c_o = rest.ions_out[0]
    assert rest.ions_out[1] is None
    e_k = membrax.nernst_potential(c_o, 140.0, 1, BODY_T)
    e_na = membrax.nernst_potential(145.0, 15.0, 1, BODY_T)
    i_k = 0.5 * (rest.v - e_k)
    np.testing.assert_allclose(c_o, 4.0 + K_DENSITY * tau * i_k / (F * v_out), rtol=1e-12)
    np.testing.assert_allclose(
        rest.v, membrax.chord_conductance_potential(jnp.array([0.5, 0.05]), [e_k, e_na])
    )
    # K⁺ flows out at rest (Na⁺ leak depolarises above E_K), so the shell is above the bath.
    assert float(c_o) > 4.05
    record = membrax.current_clamp(
        cell, NO_STIMULUS, t1=600.0, dt=0.5, save=membrax.SaveSpikes(max_spikes=0)
    )
    # 600 ms is 20 τ: what remains is the fixed-step error.
    np.testing.assert_allclose(record.final.ions_out[0], c_o, rtol=1e-7)
    np.testing.assert_allclose(record.final.v, rest.v, rtol=1e-7)


def test_sealed_shell_steady_state_keeps_the_ion_content():
    # K⁺ in a cell of volume 𝒱_i and a sealed shell 𝒱_o, Na⁺ fixed: at steady state no K⁺
    # flows, so the Na⁺ channel carries no current either: V = E_Na = E_K, i.e.
    # c_o/c_i = [Na]o/[Na]i, with c_i𝒱_i + c_o𝒱_o kept from the start (closed form).
    v_in, v_out = 0.1, 0.03
    cell = PointCell(
        1.0,
        (Channel((), Ohmic(0.5, 0.0)), Channel((), Ohmic(0.05, 0.0))),
        ions=(
            Ion("K", 1.0, 140.0, 4.0, BODY_T, channels=(0,), volume=v_in, shell_volume=v_out),
            Ion("Na", 1.0, 15.0, 145.0, BODY_T, channels=(1,)),
        ),
        v_init=-80.0,
    )
    rest = membrax.steady_state(cell)
    content = 140.0 * v_in + 4.0 * v_out
    c_in = content / (v_in + v_out * 145.0 / 15.0)
    np.testing.assert_allclose(rest.ions[0], c_in, rtol=1e-10)
    np.testing.assert_allclose(rest.ions_out[0], c_in * 145.0 / 15.0, rtol=1e-10)
    np.testing.assert_allclose(rest.v, membrax.nernst_potential(145.0, 15.0, 1, BODY_T), rtol=1e-10)


def _squid_with_periaxonal_space():
    # HH 1952 with E_K from [K]i = 400 mM and a 30 nm periaxonal space (Frankenhaeuser &
    # Hodgkin 1956) starting at the bath's 20 mM.
    base = hh1952_cell()
    return PointCell(
        base.capacitance,
        base.channels,
        ions=(Ion("K", 1.0, 400.0, 20.0, SQUID_T, channels=(1,), shell_volume=0.03),),
    )


def test_potassium_accumulates_in_the_periaxonal_space_during_a_spike_train():
    cell = _squid_with_periaxonal_space()
    stimulus = membrax.CurrentStep(10.0, 1.0, 50.0)
    dt = 0.01
    record = membrax.current_clamp(
        cell,
        stimulus,
        t1=60.0,
        dt=dt,
        solver=membrax.DiffraxClamp(rtol=1e-9, atol=1e-11),
        save=(membrax.SaveTrace(states=True), membrax.SaveSpikes()),
    )
    c_out = record.states.ions_out[0]
    # E_K seen by the K⁺ channel at every sample is the Nernst potential of the simulated
    # shell concentration, (RT/F) ln(c_o/c_i) (computed here from R, F and T directly).
    e_k = jax.vmap(lambda s: cell.resolved_channels(s)[1].permeation.e_rev)(record.states)
    rt_f = 1e3 * constants.GAS_CONSTANT * SQUID_T / constants.FARADAY
    np.testing.assert_allclose(e_k, rt_f * jnp.log(c_out / 400.0), rtol=1e-12)
    # The sealed shell holds all K⁺ that left: Δc_o = k∫I_K dt/(zF𝒱_o), the integral of the
    # recorded I_K by the trapezoid rule (its error, O(dt²·d²I/dt²), peaks at the spikes'
    # upstrokes: ~3e-5 mM at dt = 0.01 ms, on an increment of ~19 mM).
    i_k = jax.vmap(lambda s: cell.ion_currents(s)[0])(record.states)
    charge = jnp.concatenate([jnp.zeros(1), jnp.cumsum(0.5 * dt * (i_k[1:] + i_k[:-1]))])
    np.testing.assert_allclose(c_out - 20.0, K_DENSITY * charge / (F * 0.03), rtol=0, atol=1e-4)
    # Order of magnitude only: Frankenhaeuser & Hodgkin (1956, J. Physiol. 131:341) inferred
    # a rise of ~1.6 mM per impulse in the ~300 Å periaxonal space of the squid axon. The HH
    # membrane action potential at 6.3 °C is broader than their spikes and loses more K⁺
    # (here ~4–5 mM per impulse, the resting efflux included).
    n = int(record.spike_count)
    assert n >= 4
    per_spike = float(c_out[-1] - 20.0) / n
    assert 1.6 / 10 < per_spike < 1.6 * 10
    # E_K depolarises during the train by several mV.
    assert float(e_k[-1] - e_k[0]) > 2.0


def test_rush_larsen_and_diffrax_agree_on_shell_accumulation():
    cell = _squid_with_periaxonal_space()
    stimulus = membrax.CurrentStep(10.0, 1.0, 30.0)
    rl = membrax.current_clamp(cell, stimulus, t1=40.0, dt=0.01)
    dx = membrax.current_clamp(
        cell, stimulus, t1=40.0, dt=0.01, solver=membrax.DiffraxClamp(rtol=1e-9, atol=1e-11)
    )
    gain_rl = rl.final.ions_out[0] - 20.0
    gain_dx = dx.final.ions_out[0] - 20.0
    # Second-order fixed step at dt = 0.01 ms vs adaptive to 1e-9: the accumulated K⁺ agrees
    # to the fixed-step error (spike times to ~0.01 ms).
    np.testing.assert_allclose(gain_rl, gain_dx, rtol=1e-3)
    assert float(gain_dx) > 2.0


def test_cells_without_shells_keep_their_state_layout():
    # No shell: the state has no extracellular entries (the same PyTree as before shells),
    # and current_clamp's Rush–Larsen program carries nothing more.
    cell = hh1952_cell()
    assert cell.initial_state().ions_out == ()
    k_cell = _pumped_shell_cell(shell_volume=None, volume=0.1)
    assert k_cell.initial_state().ions_out == ()
    shell_cell = _pumped_shell_cell()
    assert shell_cell.initial_state().ions_out[0] == 5.0


def test_vmap_over_bath_concentration_matches_a_loop():
    def final(c_bath):
        cell = _squid_with_periaxonal_space()
        cell = eqx.tree_at(lambda c: c.ions[0].c_out, cell, c_bath)
        stim = membrax.CurrentStep(10.0, 1.0, 10.0)
        return membrax.current_clamp(cell, stim, t1=15.0, dt=0.025).final.ions_out[0]

    baths = jnp.array([10.0, 20.0, 40.0])
    np.testing.assert_allclose(
        jax.vmap(final)(baths), jnp.stack([final(b) for b in baths]), rtol=1e-12
    )


# --- a transporter as the cell's pump ------------------------------------------------------


def _ness_cell(k_bath=5.0, shell=False, density=1000.0):
    """Na⁺ and K⁺ leaks, both ions tracked in a thin intracellular volume, and a Na⁺/K⁺-ATPase
    cycle model (1000 per µm²) whose concentrations follow the cell's: a closed cell."""
    return PointCell(
        1.0,
        (Channel((), Ohmic(0.002, 0.0)), Channel((), Ohmic(0.05, 0.0))),
        pumps=(TransporterPump(sodium_potassium_atpase(), ("Na", "K"), density=density),),
        ions=(
            Ion("Na", 1.0, 15.0, 145.0, BODY_T, channels=(0,), volume=1e-3),
            Ion(
                "K",
                1.0,
                140.0,
                k_bath,
                BODY_T,
                channels=(1,),
                volume=1e-3,
                shell_volume=0.03 if shell else None,
                shell_tau=50.0 if shell else None,
            ),
        ),
        v_init=-80.0,
    )


def test_transporter_pump_units_and_concentrations():
    cell = _ness_cell()
    state = eqx.tree_at(lambda s: s.ions, cell.initial_state(), (jnp.array(20.0), jnp.array(130.0)))
    (pump,) = cell.pumps
    conc = cell.concentrations(state)
    # Independent computation: the transporter with the cell's concentrations, J cycles/ms
    # per transporter; I = q·e·N·J with N = 1000 µm⁻² = 1e11 cm⁻², in µA/cm².
    t = sodium_potassium_atpase(c_in=(20.0, 130.0), c_out=(145.0, 5.0))
    j = t.turnover(-70.0)
    amp_per_cm2 = constants.ELEMENTARY_CHARGE * 1000.0 * 1e8 * j * 1e3
    np.testing.assert_allclose(pump.current(-70.0, conc), amp_per_cm2 * 1e6, rtol=1e-12)
    parts = pump.ion_currents(-70.0, conc)
    np.testing.assert_allclose(parts["Na"], 3 * amp_per_cm2 * 1e6, rtol=1e-12)
    np.testing.assert_allclose(parts["K"], -2 * amp_per_cm2 * 1e6, rtol=1e-12)
    # Batched concentrations (e.g. recorded states) give one current per element.
    na_in = jnp.array([20.0, 25.0])
    batch = {"Na": conc["Na"]._replace(c_in=na_in), "K": conc["K"]._replace(c_in=130.0 + 0 * na_in)}
    v = jnp.array([-70.0, -50.0])
    looped = [
        pump.current(v[k], {"Na": conc["Na"]._replace(c_in=na_in[k]), "K": conc["K"]})
        for k in range(2)
    ]
    np.testing.assert_allclose(pump.current(v, batch), jnp.stack(looped), rtol=1e-12)
    # Without a density the transporter's own n_transporters sets the scale (pA per cycle/ms).
    bare = TransporterPump(sodium_potassium_atpase(n_transporters=3.0), ("Na", "K"))
    expected = 3.0 * constants.ELEMENTARY_CHARGE_FC * j
    np.testing.assert_allclose(bare.current(-70.0, conc), expected, rtol=1e-12)


def test_transporter_pump_reaches_the_non_equilibrium_steady_state():
    cell = _ness_cell()
    assert cell.closed
    rest = membrax.steady_state(cell)
    # Zero net flux of each ion: each leak balanced by the pump's share.
    (pump,) = cell.pumps
    i_na, i_k = cell.channel_currents(rest)
    parts = pump.ion_currents(rest.v, cell.concentrations(rest))
    np.testing.assert_allclose(i_na, -parts["Na"], rtol=1e-9)
    np.testing.assert_allclose(i_k, -parts["K"], rtol=1e-9)
    assert float(parts["Na"]) > 0.1  # the pump is running (≈ 0.3 µA/cm² of Na⁺)
    # V_rest from the parallel-conductance (chord) formula with the pump current, at the
    # Nernst potentials of the steady-state concentrations.
    e = jnp.stack([ion.reversal_potential(c) for ion, c in zip(cell.ions, rest.ions)])
    (i_pump,) = cell.pump_currents(rest)
    chord = membrax.chord_conductance_potential(jnp.array([0.002, 0.05]), e, i_pump=i_pump)
    np.testing.assert_allclose(rest.v, chord, rtol=1e-10)
    # The long-time current-clamp state: concentrations relax with τ ≈ 0.3 s, 5 s leave the
    # fixed-step error (the leaks are ohmic, the pump linearised over dt = 0.5 ms).
    record = membrax.current_clamp(
        cell, NO_STIMULUS, t1=5000.0, dt=0.5, save=membrax.SaveSpikes(max_spikes=0)
    )
    np.testing.assert_allclose(record.final.v, rest.v, rtol=1e-6)
    for c_sim, c_rest in zip(record.final.ions, rest.ions):
        np.testing.assert_allclose(c_sim, c_rest, rtol=1e-6)


def _as_float32(tree):
    return jax.tree.map(
        lambda x: x.astype(jnp.float32) if jnp.issubdtype(jnp.result_type(x), jnp.floating) else x,
        tree,
    )


@pytest.mark.parametrize("shell", [False, True])
def test_float32_steady_state_converges_to_the_float64_one(shell):
    # A closed cell whose charge content (~20× C·V here) used to hide the Newton residual
    # below its rounding in float32: Newton cycled at the content's ulp and hit max_steps.
    cell = _ness_cell(shell=shell)
    rest64 = membrax.steady_state(cell)
    rest32 = membrax.steady_state(_as_float32(cell), guess=_as_float32(cell.initial_state()))
    assert rest32.v.dtype == jnp.float32
    # float32 carries ~7 digits: V to ~1e-5 mV, concentrations to ~1e-6 relative.
    np.testing.assert_allclose(rest32.v, rest64.v, atol=1e-4)
    for c32, c64 in zip(rest32.ions, rest64.ions):
        np.testing.assert_allclose(c32, c64, rtol=1e-5)


def test_resting_potential_gradient_wrt_bath_potassium():
    # Through steady_state (implicit differentiation), with K⁺ in a relaxing shell so the
    # bath enters through the shell's exchange: at the NESS the K⁺ current vanishes, so the
    # shell equals the bath.
    def rest(k_bath):
        return membrax.steady_state(_ness_cell(k_bath, shell=True))

    k0 = 5.0
    state = rest(k0)
    np.testing.assert_allclose(state.ions_out[1], k0, rtol=1e-10)
    np.testing.assert_allclose(state.v, membrax.steady_state(_ness_cell(k0)).v, rtol=1e-10)
    grad = jax.grad(lambda k: rest(k).v)(k0)
    h = 1e-3
    fd = (rest(k0 + h).v - rest(k0 - h).v) / (2 * h)
    # Central differences: truncation O(h²) and Newton's 1e-10 tolerance, ≲ 1e-7 relative.
    np.testing.assert_allclose(grad, fd, rtol=1e-6)
    assert float(grad) > 0  # raising [K]o depolarises


# --- bad input -------------------------------------------------------------------------------


def test_shell_parameters_are_checked():
    with pytest.raises(
        ValueError, match=r"Ion\('K'\): shell_volume must be > 0, got -0\.03\. It is the"
    ):
        Ion("K", 1.0, 140.0, 4.0, BODY_T, shell_volume=-0.03)
    with pytest.raises(ValueError, match=r"Ion\('K'\): shell_tau must be > 0 ms, got 0\.0\. It"):
        Ion("K", 1.0, 140.0, 4.0, BODY_T, shell_volume=0.03, shell_tau=0.0)
    with pytest.raises(ValueError, match=r"shell_tau = 10\.0 ms needs a shell_volume"):
        Ion("K", 1.0, 140.0, 4.0, BODY_T, shell_tau=10.0)


def test_state_without_shell_concentrations_is_refused():
    cell = _pumped_shell_cell()
    state = cell.initial_state()
    bare = membrax.models.CellState(state.v, state.channels, state.ions)
    with pytest.raises(ValueError, match=r"y0.ions_out must hold a shell concentration"):
        membrax.current_clamp(cell, NO_STIMULUS, t1=1.0, y0=bare)
    with pytest.raises(ValueError, match=r"guess.ions_out must hold a shell concentration"):
        membrax.steady_state(cell, guess=bare)


def test_transporter_pump_errors():
    with pytest.raises(ValueError, match=r"TransporterPump: species must name one cell ion"):
        TransporterPump(sodium_potassium_atpase(), "Na")
    with pytest.raises(TypeError, match=r"transporter must be a membrax.models.CycleTransporter"):
        TransporterPump(3.0, ("Na", "K"))
    with pytest.raises(ValueError, match=r"TransporterPump: density must be >= 0, got -1\.0"):
        TransporterPump(sodium_potassium_atpase(), ("Na", "K"), density=-1.0)
    with pytest.raises(ValueError, match=r"needs the ions \['K'\]"):
        PointCell(
            1.0,
            (Channel((), Ohmic(0.1, 0.0)),),
            pumps=(TransporterPump(sodium_potassium_atpase(), ("Na", "K")),),
            ions=(Ion("Na", 1.0, 15.0, 145.0, BODY_T, channels=(0,)),),
        )
