"""models: rate laws, gates, Markov schemes, permeation, channels and published models."""

import itertools
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import membrax
from membrax import constants
from membrax.models import (
    BellTime,
    BoltzmannCurve,
    BoltzmannGate,
    Channel,
    ConstantRate,
    ConstantTime,
    ExponentialRate,
    Gate,
    GHKPermeation,
    IndependentGates,
    LinoidRate,
    MarkovScheme,
    Ohmic,
    ReversibleMarkovScheme,
    SigmoidRate,
    TauInfGate,
)

T_HH = 279.45
VOLTAGES = jnp.array([-120.0, -65.0, -55.0, -40.0, -35.0, 0.0, 30.0, 60.0])


def _vt(temperature):
    return constants.THERMAL_VOLTAGE_PER_KELVIN * temperature


# --- rate laws ------------------------------------------------------------------------------


def test_rate_laws_closed_forms():
    v = jnp.array([-80.0, -40.0, 0.0, 25.0])
    np.testing.assert_allclose(ExponentialRate(2.0, 0.05, -10.0)(v), 2.0 * np.exp(0.05 * (v + 10)))
    # α_n of HH at V ≠ −55: 0.01(V + 55)/(1 − exp(−(V + 55)/10)).
    expected = 0.01 * (v + 55) / (1 - np.exp(-(v + 55) / 10))
    np.testing.assert_allclose(LinoidRate(0.1, -55.0, 10.0)(v), expected, rtol=1e-13)
    np.testing.assert_allclose(SigmoidRate(1.0, -35.0, 10.0)(v), 1 / (1 + np.exp(-(v + 35) / 10)))
    np.testing.assert_allclose(ConstantRate(0.3)(v), 0.3)
    np.testing.assert_allclose(BoltzmannCurve(-20.0, 7.0)(v), 1 / (1 + np.exp(-(v + 20) / 7)))
    np.testing.assert_allclose(ConstantTime(4.0)(v), 4.0)
    np.testing.assert_allclose(
        BellTime(1.0, 5.0, -30.0, 20.0)(v), 1.0 + 5.0 * np.exp(-(((v + 30) / 20) ** 2))
    )


def test_linoid_rate_singular_point_value_and_gradient():
    law = LinoidRate(0.1, -55.0, 10.0)
    # Limit (V − V½)/(1 − e^{−(V−V½)/s}) → s: k(V½) = rate; dk/dV there = rate/(2s).
    assert float(law(-55.0)) == pytest.approx(0.1, rel=1e-15)
    assert float(jax.grad(law)(-55.0)) == pytest.approx(0.1 / 20.0, rel=1e-9)


def test_hh_published_channels_match_the_physics_rates():
    for temperature in (T_HH, 291.15):
        rates = membrax.hodgkin_huxley_rates(VOLTAGES, temperature)
        na = membrax.models.hh1952_sodium(temperature=temperature)
        k = membrax.models.hh1952_potassium(temperature=temperature)
        m, h = na.gating.gates
        (n,) = k.gating.gates
        for gate, expected in ((m, rates.m), (h, rates.h), (n, rates.n)):
            np.testing.assert_allclose(gate.alpha(VOLTAGES), expected.alpha, rtol=1e-14)
            np.testing.assert_allclose(gate.beta(VOLTAGES), expected.beta, rtol=1e-14)
    assert (m.power, h.power, n.power) == (3, 1, 4)


def test_hh_channels_finite_value_and_gradient_at_singular_voltages():
    na = membrax.models.hh1952_sodium()
    k = membrax.models.hh1952_potassium()
    for v in (-40.0, -55.0, 0.0):
        for channel in (na, k):
            x_inf = channel.gating.steady_state(v)
            assert jnp.isfinite(x_inf).all()
            grad = jax.grad(lambda v, c=channel: c.current(c.gating.steady_state(v), v))(v)
            assert jnp.isfinite(grad)


def test_hh_resting_state():
    # HH 1952 resting values at −65 mV, 6.3 °C: m∞ ≈ 0.0529, h∞ ≈ 0.5961, n∞ ≈ 0.3177.
    na = membrax.models.hh1952_sodium()
    k = membrax.models.hh1952_potassium()
    np.testing.assert_allclose(na.gating.steady_state(-65.0), [0.05293, 0.59612], atol=5e-5)
    np.testing.assert_allclose(k.gating.steady_state(-65.0), [0.31768], atol=5e-5)


# --- gates ------------------------------------------------------------------------------------


def test_gate_relaxation_is_alpha_beta():
    gate = Gate(ExponentialRate(0.2, 0.03), ExponentialRate(0.1, -0.02))
    x_inf, rate = gate.relaxation(VOLTAGES)
    expected = membrax.steady_state_from_rates(gate.alpha(VOLTAGES), gate.beta(VOLTAGES))
    np.testing.assert_allclose(x_inf, expected.steady_state, rtol=1e-14)
    np.testing.assert_allclose(1.0 / rate, expected.tau, rtol=1e-14)


def test_tau_inf_gate():
    gate = TauInfGate(BoltzmannCurve(-30.0, 8.0), BellTime(0.5, 4.0, -40.0, 25.0), power=2)
    x_inf, rate = gate.relaxation(VOLTAGES)
    np.testing.assert_allclose(x_inf, gate.steady_state(VOLTAGES))
    np.testing.assert_allclose(rate, 1.0 / gate.time_constant(VOLTAGES))


def test_boltzmann_gate_charge_and_capacitance():
    gate = BoltzmannGate(v_half=-25.0, z=3.5, temperature=295.15, tau=2.0)
    np.testing.assert_allclose(
        gate.open_probability(VOLTAGES),
        membrax.boltzmann_open_probability(VOLTAGES, -25.0, 3.5, 295.15),
        rtol=1e-14,
    )
    np.testing.assert_allclose(
        gate.gating_charge(VOLTAGES), membrax.gating_charge(VOLTAGES, -25.0, 3.5, 295.15)
    )
    # C_g = dQ/dV: the closed form against automatic differentiation of Q(V).
    np.testing.assert_allclose(
        gate.gating_capacitance(VOLTAGES), jax.vmap(jax.grad(gate.gating_charge))(VOLTAGES)
    )
    # Maximum z²/(4 V_T) at V½.
    assert float(gate.gating_capacitance(-25.0)) == pytest.approx(3.5**2 / (4 * _vt(295.15)))


def test_independent_gates_propagator_is_exponential_relaxation():
    gating = membrax.models.hh1952_sodium().gating
    v, dt = -20.0, 0.37
    x0 = jnp.array([0.1, 0.8])
    m, c = gating.propagator(v, dt)
    x_inf, rate = gating.relaxation(v)
    expected = x_inf + (x0 - x_inf) * jnp.exp(-rate * dt)
    np.testing.assert_allclose(x0 * m + c, expected, rtol=1e-14)
    # m³h
    assert float(gating.open_probability(x0)) == pytest.approx(0.1**3 * 0.8)
    np.testing.assert_allclose(gating.derivative(x0, v), (x_inf - x0) * rate)


def test_gate_initial_values_override_steady_state():
    model = membrax.models.beattie2018_ikr(jnp.full(8, 0.01), 0.1, temperature=294.45)
    np.testing.assert_array_equal(model.gating.initial_state(-80.0), [0.0, 1.0])


# --- Markov schemes -----------------------------------------------------------------------------


def _chain_scheme(v_halves, charges, temperature, rate=1.0):
    """C0 ⇌ C1 ⇌ … with equilibrium constant exp(z_i (V − V_i)/V_T), split symmetrically."""
    v_halves, charges = jnp.asarray(v_halves), jnp.asarray(charges)
    n = v_halves.size
    vt = _vt(temperature)
    slope = 0.5 * charges / vt
    forward = ExponentialRate(jnp.full(n, rate), slope, v_halves)
    backward = ExponentialRate(jnp.full(n, rate), -slope, v_halves)
    state_charges = jnp.concatenate([jnp.zeros(1), jnp.cumsum(charges)])
    return MarkovScheme(
        n + 1,
        [(i, i + 1) for i in range(n)],
        forward,
        backward,
        conducting=n,
        state_charges=state_charges,
    )


def test_markov_chain_equilibrium_matches_sequential_boltzmann():
    v_halves, charges, temperature = [-60.0, -40.0, -10.0], [1.2, 2.0, 0.8], 293.15
    scheme = _chain_scheme(v_halves, charges, temperature)
    expected = membrax.sequential_boltzmann_occupancy(VOLTAGES, v_halves, charges, temperature)
    np.testing.assert_allclose(scheme.steady_state(VOLTAGES), expected.occupancy, atol=1e-13)
    np.testing.assert_allclose(
        scheme.charge(scheme.steady_state(VOLTAGES)), expected.mean_charge, atol=1e-12
    )
    assert scheme.q_matrix(0.0).shape == (4, 4)


def _random_cycle_scheme(key, temperature=290.0):
    k = jax.random.split(key, 4)
    return ReversibleMarkovScheme(
        4,
        [(0, 1), (1, 2), (2, 3), (3, 0), (1, 3)],
        state_energy=jax.random.normal(k[0], (4,)) * 3,
        state_charge=jax.random.normal(k[1], (4,)),
        barrier_energy=jax.random.normal(k[2], (5,)) * 2 + 5,
        barrier_charge=jax.random.normal(k[3], (5,)),
        attempt_rate=2.0,
        temperature=temperature,
        conducting=(2,),
    )


def test_reversible_scheme_obeys_detailed_balance_around_every_cycle():
    scheme = _random_cycle_scheme(jax.random.PRNGKey(0))
    for v in (-100.0, -12.3, 0.0, 47.0):
        q = scheme.q_matrix(v)
        # Kolmogorov's criterion on both independent cycles 0→1→2→3→0 and 1→2→3→1:
        # Π forward = Π backward.
        for cycle in ([0, 1, 2, 3, 0], [1, 2, 3, 1]):
            fwd = math.prod(float(q[a, b]) for a, b in itertools.pairwise(cycle))
            bwd = math.prod(float(q[b, a]) for a, b in itertools.pairwise(cycle))
            assert fwd == pytest.approx(bwd, rel=1e-13)
        # The equilibrium is the Boltzmann distribution over state energies.
        energy = scheme.state_energy - scheme.state_charge * v / _vt(290.0)
        boltzmann = jax.nn.softmax(-energy)
        np.testing.assert_allclose(scheme.steady_state(v), boltzmann, rtol=1e-11)
        # Detailed balance: zero net flux over every edge at equilibrium.
        p = scheme.steady_state(v)
        flux = p[:, None] * q - (p[:, None] * q).T
        np.testing.assert_allclose(flux - jnp.diag(jnp.diag(flux)), 0.0, atol=1e-13)


def test_free_rate_cycle_can_violate_detailed_balance():
    # The same graph with free rates: the cycle product differs, so the equilibrium carries
    # a net circulating flux — which the reversible parametrisation rules out.
    scheme = MarkovScheme(
        3,
        [(0, 1), (1, 2), (2, 0)],
        ConstantRate(jnp.array([1.0, 1.0, 1.0])),
        ConstantRate(jnp.array([0.5, 0.5, 0.5])),
        conducting=2,
    )
    p = scheme.steady_state(0.0)
    q = scheme.q_matrix(0.0)
    circulation = p[0] * q[0, 1] - p[1] * q[1, 0]
    assert float(circulation) == pytest.approx(0.5 / 3.0, rel=1e-12)  # (1 − 0.5)·(1/3)


def _mwc_scheme(l0, z_l, v_half_sensor, z_sensor, coupling, n, temperature):
    """The Horrigan–Aldrich scheme: states (open, k activated sensors), with the binomial
    degeneracy of k sensors as an entropy −ln C(n, k)."""
    vt = _vt(temperature)
    states = [(o, k) for o in (0, 1) for k in range(n + 1)]
    index = {s: i for i, s in enumerate(states)}
    energy, charge = [], []
    for o, k in states:
        energy.append(
            -math.log(math.comb(n, k))
            + k * z_sensor * v_half_sensor / vt
            - o * math.log(l0)
            - o * k * math.log(coupling)
        )
        charge.append(k * z_sensor + o * z_l)
    edges = [(index[(o, k)], index[(o, k + 1)]) for o in (0, 1) for k in range(n)]
    edges += [(index[(0, k)], index[(1, k)]) for k in range(n + 1)]
    energy, charge = jnp.array(energy), jnp.array(charge)
    src, dst = np.array(edges).T
    return ReversibleMarkovScheme(
        len(states),
        edges,
        state_energy=energy,
        state_charge=charge,
        barrier_energy=jnp.maximum(energy[src], energy[dst]) + 2.0,
        barrier_charge=0.5 * (charge[src] + charge[dst]),
        attempt_rate=5.0,
        temperature=temperature,
        conducting=[index[(1, k)] for k in range(n + 1)],
    )


def test_mwc_markov_scheme_equilibrium_matches_closed_form():
    args = dict(l0=2e-6, z_l=0.3, v_half_sensor=150.0, z_sensor=0.58, coupling=25.0, n=4)
    scheme = _mwc_scheme(**args, temperature=295.0)
    v = jnp.linspace(-150.0, 250.0, 9)
    p_open = scheme.open_probability(scheme.steady_state(v))
    expected = membrax.mwc_open_probability(
        v,
        args["l0"],
        args["z_l"],
        args["v_half_sensor"],
        args["z_sensor"],
        args["coupling"],
        args["n"],
        295.0,
    )
    np.testing.assert_allclose(p_open, expected, rtol=1e-9)


# --- channels and permeation ---------------------------------------------------------------------


def test_channel_current_and_leak():
    channel = membrax.models.hh1952_potassium(g_max=36.0, e_rev=-77.0)
    x = jnp.array([0.4])
    assert float(channel.current(x, -20.0)) == pytest.approx(36.0 * 0.4**4 * 57.0)
    leak = membrax.models.hh1952_leak()
    assert leak.n_states == 0
    assert float(leak.current(jnp.zeros(0), -65.0)) == pytest.approx(0.3 * (-65.0 + 54.387))


def test_ghk_permeation():
    law = GHKPermeation(1e-5, 140.0, 5.0, 1.0, 310.0)
    channel = Channel(BoltzmannGate(-20.0, 4.0, 310.0, 1.0), law)
    x = jnp.array([0.25])
    expected = 0.25 * membrax.ghk_current(30.0, 140.0, 5.0, 1e-5, 1.0, 310.0)
    assert float(channel.current(x, 30.0)) == pytest.approx(float(expected), rel=1e-14)


def test_gating_current_units():
    # One channel moving charge z·dx/dt e/ms: z = 2 e, dx/dt = (x∞ − x)/τ.
    gate = BoltzmannGate(-40.0, 2.0, 293.15, 0.5)
    channel = Channel(gate, Ohmic(1.0, 0.0), n_channels=1000.0)
    x = jnp.array([0.1])
    x_inf = float(gate.open_probability(0.0))
    expected = 1000.0 * constants.ELEMENTARY_CHARGE_FC * 2.0 * (x_inf - 0.1) / 0.5
    assert float(channel.gating_current(x, 0.0)) == pytest.approx(expected, rel=1e-13)
    assert float(membrax.models.hh1952_sodium().gating_current(jnp.ones(2), 0.0)) == 0.0


def test_beattie_model_reversal_and_structure():
    p = jnp.arange(1.0, 9.0) * 1e-2
    model = membrax.models.beattie2018_ikr(p, 0.15, temperature=294.45)
    assert float(model.permeation.e_rev) == pytest.approx(
        float(membrax.nernst_potential(4.0, 130.0, 1.0, 294.45)), rel=1e-14
    )
    a, r = model.gating.gates
    v = jnp.array([-80.0, 20.0])
    np.testing.assert_allclose(a.alpha(v), p[0] * jnp.exp(p[1] * v))
    np.testing.assert_allclose(a.beta(v), p[2] * jnp.exp(-p[3] * v))
    np.testing.assert_allclose(r.beta(v), p[4] * jnp.exp(p[5] * v))
    np.testing.assert_allclose(r.alpha(v), p[6] * jnp.exp(-p[7] * v))


def test_models_are_pytrees_of_arrays():
    model = membrax.models.hh1952_sodium()
    changed = eqx.tree_at(lambda c: c.permeation.g_max, model, jnp.asarray(60.0))
    assert float(changed.current(jnp.array([0.5, 0.5]), 0.0)) == pytest.approx(
        0.5 * float(model.current(jnp.array([0.5, 0.5]), 0.0))
    )
    grads = jax.grad(lambda m: m.current(jnp.array([0.5, 0.5]), 0.0))(model)
    assert float(grads.permeation.g_max) == pytest.approx(0.125 * 0.5 * -50.0)


# --- bad input -----------------------------------------------------------------------------


def test_construction_errors():
    with pytest.raises(ValueError, match=r"ExponentialRate: rate must be > 0 1/ms, got -0.1"):
        ExponentialRate(-0.1, 0.02)
    with pytest.raises(ValueError, match=r"LinoidRate: slope must be nonzero mV"):
        LinoidRate(0.1, -55.0, 0.0)
    with pytest.raises(ValueError, match=r"Gate: power must be a whole number >= 1"):
        Gate(ConstantRate(1.0), ConstantRate(1.0), power=0)
    with pytest.raises(ValueError, match=r"initial must be between 0 and 1, got 1.5"):
        Gate(ConstantRate(1.0), ConstantRate(1.0), initial=1.5)
    with pytest.raises(ValueError, match=r"Ohmic: g_max must be >= 0, got -3.0"):
        Ohmic(-3.0, 0.0)
    with pytest.raises(ValueError, match=r"GHKPermeation: z must be nonzero"):
        GHKPermeation(1e-5, 140.0, 5.0, 0.0, 310.0)
    with pytest.raises(ValueError, match=r"transition 1 target state 3 does not exist"):
        MarkovScheme(3, [(0, 1), (1, 3)], ConstantRate(jnp.ones(2)), ConstantRate(jnp.ones(2)), 2)
    with pytest.raises(ValueError, match=r"forward gives rates of shape \(3,\).*\(2,\)"):
        MarkovScheme(3, [(0, 1), (1, 2)], ConstantRate(jnp.ones(3)), ConstantRate(jnp.ones(2)), 2)
    with pytest.raises(ValueError, match=r"conducting state 4 does not exist"):
        MarkovScheme(3, [(0, 1), (1, 2)], ConstantRate(jnp.ones(2)), ConstantRate(jnp.ones(2)), 4)
    with pytest.raises(ValueError, match=r"initial occupancies must sum to 1, got 0.9"):
        MarkovScheme(
            2,
            [(0, 1)],
            ConstantRate(jnp.ones(1)),
            ConstantRate(jnp.ones(1)),
            1,
            initial=jnp.array([0.5, 0.4]),
        )
    with pytest.raises(ValueError, match=r"attempt_rate must be > 0"):
        ReversibleMarkovScheme(
            2,
            [(0, 1)],
            state_energy=jnp.zeros(2),
            state_charge=jnp.zeros(2),
            barrier_energy=jnp.ones(1),
            barrier_charge=jnp.zeros(1),
            attempt_rate=-1.0,
            temperature=300.0,
            conducting=1,
        )
    with pytest.raises(TypeError, match=r"IndependentGates: gates\[0\] must be a gate"):
        IndependentGates((ConstantRate(1.0),))
    with pytest.raises(ValueError, match=r"beattie2018_ikr: p must hold the 8 kinetic"):
        membrax.models.beattie2018_ikr(jnp.ones(9), 0.1, temperature=294.0)
    with pytest.raises(ValueError, match=r"p\[2\] \(P3\) must be > 0 1/ms, got -1.0"):
        membrax.models.beattie2018_ikr(jnp.ones(8).at[2].set(-1.0), 0.1, temperature=294.0)
