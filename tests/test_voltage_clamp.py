"""simulate.voltage_clamp: exact piecewise solutions against diffrax, closed forms, published
data (HH 1952 Fig. 3, Beattie et al. 2018) and finite-difference gradients."""

import csv
import io
import pathlib

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import membrax
from membrax import constants
from membrax.models import (
    BoltzmannGate,
    Channel,
    ConstantRate,
    ExponentialRate,
    Gate,
    MarkovScheme,
    Ohmic,
)
from membrax.protocols import PiecewiseProtocol, Ramp, SampledProtocol, Sines, Step

DATA = pathlib.Path(__file__).parent / "data"
TIGHT = membrax.DiffraxClamp(rtol=1e-11, atol=1e-13)


def _hh_membrane():
    return (
        membrax.models.hh1952_sodium(),
        membrax.models.hh1952_potassium(),
        membrax.models.hh1952_leak(),
    )


def _markov_channel():
    # A 4-state hERG-like cycle C ⇌ O ⇌ I ⇌ IC ⇌ C with k = exp(a + bV) rates, gating charge.
    forward = ExponentialRate(
        jnp.array([0.2, 0.5, 0.05, 0.02]), jnp.array([0.03, 0.02, -0.01, -0.02])
    )
    backward = ExponentialRate(
        jnp.array([0.01, 0.1, 0.04, 0.3]), jnp.array([-0.04, -0.01, 0.02, 0.01])
    )
    scheme = MarkovScheme(
        4,
        [(0, 1), (1, 2), (2, 3), (3, 0)],
        forward,
        backward,
        conducting=1,
        state_charges=jnp.array([0.0, 2.0, 2.5, 0.5]),
    )
    return Channel(scheme, Ohmic(0.1, -85.0), n_channels=1e4)


def _mixed_protocol():
    return PiecewiseProtocol(
        [
            Step(-80.0, 20.0),
            Step(20.0, 30.0),
            Ramp(20.0, -100.0, 25.0),
            Sines(-40.0, (30.0, 10.0), (0.2, 0.9), 40.0),
            Step(-120.0, 20.0),
        ],
        dt=0.1,
    )


# --- closed forms ----------------------------------------------------------------------------


def test_single_gate_step_matches_closed_form():
    gate = Gate(ExponentialRate(0.3, 0.02), ExponentialRate(0.1, -0.03), initial=0.05)
    channel = Channel(gate, Ohmic(2.0, -90.0))
    protocol = PiecewiseProtocol([Step(-80.0, 5.0), Step(10.0, 15.0)], dt=0.05)
    record = membrax.voltage_clamp(channel, protocol)
    t = record.ts
    x_inf, rate = (float(a) for a in gate.relaxation(-80.0))
    x_hold = x_inf + (0.05 - x_inf) * jnp.exp(-rate * jnp.minimum(t, 5.0))
    x_inf2, rate2 = (float(a) for a in gate.relaxation(10.0))
    x5 = x_inf + (0.05 - x_inf) * np.exp(-rate * 5.0)
    expected = jnp.where(t <= 5.0, x_hold, x_inf2 + (x5 - x_inf2) * jnp.exp(-rate2 * (t - 5.0)))
    np.testing.assert_allclose(record.states[:, 0], expected, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(record.current, 2.0 * expected * (record.voltage + 90.0), 1e-12)


def test_markov_step_matches_matrix_exponential():
    channel = _markov_channel()
    protocol = PiecewiseProtocol([Step(-80.0, 10.0), Step(30.0, 10.0)], dt=0.5)
    record = membrax.voltage_clamp(channel, protocol)
    p0 = channel.gating.steady_state(-80.0)
    q = channel.gating.q_matrix(30.0)
    for k in (25, 33, 39):  # samples after the step at 10 ms
        t = float(record.ts[k]) - 10.0
        expected = p0 @ jax.scipy.linalg.expm(q * t)
        np.testing.assert_allclose(record.states[k], expected, rtol=1e-11, atol=1e-14)


# --- exact against diffrax -------------------------------------------------------------------


def test_exact_and_diffrax_agree_for_hh_membrane_family():
    family = membrax.protocols.activation_family(
        jnp.array([-60.0, -30.0, 0.0, 40.0]),
        holding=-80.0,
        holding_duration=5.0,
        test_duration=10.0,
        tail_voltage=-70.0,
        tail_duration=5.0,
        dt=0.02,
    )
    model = _hh_membrane()
    exact = jax.vmap(lambda p: membrax.voltage_clamp(model, p).current)(family)
    tight = jax.vmap(lambda p: membrax.voltage_clamp(model, p, solver=TIGHT).current)(family)
    scale = jnp.max(jnp.abs(tight))
    np.testing.assert_allclose(exact, tight, atol=1e-8 * float(scale))


def test_exact_and_diffrax_agree_for_markov_on_continuous_protocol():
    channel = _markov_channel()
    protocol = _mixed_protocol()
    tight = membrax.voltage_clamp(channel, protocol, solver=TIGHT)
    errors = []
    for substeps in (1, 2, 4):
        exact = membrax.voltage_clamp(channel, protocol, solver=membrax.ExactClamp(substeps))
        errors.append(float(jnp.max(jnp.abs(exact.states - tight.states))))
    # The exponential midpoint rule is second order: each halving of the hold cuts the error
    # by ~4 (the steps are exact; only ramp and sine holds approximate).
    assert errors[0] < 3e-5  # measured 1.2e-5 (fastest sine: ω·dt = 0.09)
    assert 3.0 < errors[0] / errors[1] < 5.0 and 3.0 < errors[1] / errors[2] < 5.0
    np.testing.assert_allclose(
        exact.gating_current,
        tight.gating_current,
        atol=1e-4 * float(jnp.abs(tight.gating_current).max()),
    )
    assert tight.result == diffrax.RESULTS.successful


def test_probability_is_conserved():
    channel = _markov_channel()
    protocol = SampledProtocol(_mixed_protocol().sample_voltages, 0.1)
    record = membrax.voltage_clamp(channel, protocol)
    assert float(jnp.max(jnp.abs(record.states.sum(axis=1) - 1.0))) < 1e-12
    assert float(record.states.min()) >= 0.0


def test_parallel_and_sequential_scans_agree():
    channel = membrax.models.hh1952_sodium()
    protocol = SampledProtocol(_mixed_protocol().sample_voltages, 0.1)
    seq = membrax.voltage_clamp(channel, protocol, solver=membrax.ExactClamp(parallel=False))
    par = membrax.voltage_clamp(channel, protocol, solver=membrax.ExactClamp(parallel=True))
    np.testing.assert_allclose(seq.states, par.states, rtol=1e-12, atol=1e-15)


# --- gating charge ----------------------------------------------------------------------------


def _integrate(y, dx):
    return float(jnp.sum(0.5 * (y[1:] + y[:-1])) * dx)


def test_boltzmann_gating_current_integrates_to_delta_q():
    gate = BoltzmannGate(v_half=-30.0, z=4.0, temperature=293.15, tau=0.8)
    channel = Channel(gate, Ohmic(0.0, 0.0), n_channels=1.0)
    protocol = PiecewiseProtocol([Step(-100.0, 5.0), Step(20.0, 15.0)], dt=0.001)
    record = membrax.voltage_clamp(channel, protocol)
    charge = _integrate(record.gating_current[record.ts >= 5.0], 0.001)  # fC, from the step on
    delta_q = float(gate.gating_charge(20.0) - gate.gating_charge(-100.0))  # e
    # Trapezoid error on an exponential with τ = 0.8 ms at 1 µs: ~(dt/τ)²/12 ≈ 1e-7.
    assert charge == pytest.approx(delta_q * constants.ELEMENTARY_CHARGE_FC, rel=1e-6)


def test_markov_gating_charge_matches_sequential_boltzmann():
    v_halves, charges, temperature = jnp.array([-70.0, -40.0]), jnp.array([1.5, 2.5]), 290.0
    vt = constants.THERMAL_VOLTAGE_PER_KELVIN * temperature
    scheme = MarkovScheme(
        3,
        [(0, 1), (1, 2)],
        ExponentialRate(jnp.array([2.0, 3.0]), 0.5 * charges / vt, v_halves),
        ExponentialRate(jnp.array([2.0, 3.0]), -0.5 * charges / vt, v_halves),
        conducting=2,
        state_charges=jnp.array([0.0, 1.5, 4.0]),
    )
    channel = Channel(scheme, Ohmic(0.0, 0.0))
    protocol = PiecewiseProtocol([Step(-120.0, 1.0), Step(-45.0, 10.0)], dt=0.001)
    record = membrax.voltage_clamp(channel, protocol)
    charge = _integrate(record.gating_current[record.ts >= 1.0], 0.001)
    mean = membrax.sequential_boltzmann_occupancy(
        jnp.array([-120.0, -45.0]), v_halves, charges, temperature
    ).mean_charge
    expected = float(mean[1] - mean[0]) * constants.ELEMENTARY_CHARGE_FC
    assert charge == pytest.approx(expected, rel=1e-5)


# --- gradients, jit, vmap -----------------------------------------------------------------------


def test_gradients_match_central_differences():
    channel = _markov_channel()
    protocol = _mixed_protocol()

    def loss(scale):
        model = eqx.tree_at(
            lambda c: c.gating.forward.rate, channel, channel.gating.forward.rate * scale
        )
        return jnp.sum(membrax.voltage_clamp(model, protocol).current ** 2)

    scale = jnp.ones(4)
    loss = jax.jit(loss)
    grad = jax.grad(loss)(scale)
    h = 1e-6
    for k in range(4):
        e = jnp.zeros(4).at[k].set(h)
        fd = (loss(scale + e) - loss(scale - e)) / (2 * h)
        assert float(grad[k]) == pytest.approx(float(fd), rel=1e-6)


def test_beattie_gradient_matches_central_differences():
    cell = membrax.io.load_beattie2018(1)
    protocol = SampledProtocol(cell.protocol.voltages[:20000], 0.1)
    data = cell.current[:20000]

    def loss(log_params):
        q = jnp.exp(log_params)
        model = membrax.models.beattie2018_ikr(q[:8], q[8], temperature=cell.temperature)
        return jnp.sum((membrax.voltage_clamp(model, protocol).current - data) ** 2)

    x = jnp.log(jnp.append(cell.p, cell.g))
    loss = jax.jit(loss)
    grad = jax.grad(loss)(x)
    h = 1e-5
    for k in range(9):
        e = jnp.zeros(9).at[k].set(h)
        fd = (loss(x + e) - loss(x - e)) / (2 * h)
        assert float(grad[k]) == pytest.approx(float(fd), rel=1e-5, abs=1e-9)


def test_beattie_forward_mode_jacobian_and_curvature_match_central_differences():
    # The fit's Levenberg–Marquardt steps differentiate the current in forward mode (jacfwd),
    # through the custom JVP of the sequential scan (the tangents run as their own linear
    # recurrence). Its Jacobian, and the derivative of that Jacobian (forward over forward),
    # against central differences of the current and of the Jacobian itself.
    cell = membrax.io.load_beattie2018(1)
    protocol = SampledProtocol(cell.protocol.voltages[:5000], 0.1)

    def current(log_params):
        q = jnp.exp(log_params)
        model = membrax.models.beattie2018_ikr(q[:8], q[8], temperature=cell.temperature)
        return membrax.voltage_clamp(model, protocol).current

    x = jnp.log(jnp.append(cell.p, cell.g))
    current = jax.jit(current)
    jacobian = jax.jit(jax.jacfwd(current))
    jac = jacobian(x)
    curvature = jax.jit(jax.jacfwd(jax.jacfwd(current)))(x)
    h = 1e-5
    scale = float(jnp.max(jnp.abs(jac)))
    for k in range(9):
        e = jnp.zeros(9).at[k].set(h)
        fd = (current(x + e) - current(x - e)) / (2 * h)
        np.testing.assert_allclose(jac[:, k], fd, rtol=1e-5, atol=1e-7 * scale)
        fd2 = (jacobian(x + e) - jacobian(x - e)) / (2 * h)
        np.testing.assert_allclose(
            curvature[:, :, k], fd2, rtol=1e-4, atol=1e-6 * float(jnp.max(jnp.abs(curvature)))
        )
    # And forward mode agrees with reverse mode on a scalar of the current.
    weights = jnp.sin(jnp.arange(5000.0))
    reverse = jax.grad(lambda y: jnp.sum(weights * current(y)))(x)
    np.testing.assert_allclose(weights @ jac, reverse, rtol=1e-10, atol=1e-12 * scale)


def test_jit_and_vmap_invariance():
    protocol = _mixed_protocol()
    gs = jnp.array([0.05, 0.1, 0.2])

    def current(g):
        model = membrax.models.beattie2018_ikr(jnp.full(8, 0.02), g, temperature=295.0)
        return membrax.voltage_clamp(model, protocol).current

    batched = jax.jit(jax.vmap(current))(gs)
    for k, g in enumerate(gs):
        np.testing.assert_allclose(batched[k], current(g), rtol=1e-11)


# --- published data ----------------------------------------------------------------------------


def _hh_fig3():
    folder = DATA / "hh1952"
    rows = list(csv.DictReader(io.StringIO((folder / "hh1952_fig3_gK_digitized.csv").read_text())))
    table_text = (folder / "hh1952_table1_alpha_beta_n.csv").read_text()
    table = {r["panel"]: r for r in csv.DictReader(io.StringIO(table_text))}
    for panel in sorted(table):
        t = np.array([float(r["t_ms"]) for r in rows if r["panel"] == panel])
        g = np.array([float(r["gK_mS_per_cm2"]) for r in rows if r["panel"] == panel])
        yield panel, table[panel], t, g


def _n4_after_step(channel, depolarization, t, n0):
    # The step starts at t = 0 from rest (−65 mV, modern convention V = −65 + d); sampling
    # the exact solution at the digitised times themselves.
    times = jnp.concatenate([jnp.zeros(1), jnp.asarray(t)])
    protocol = SampledProtocol(jnp.full(times.shape, -65.0 + depolarization), times=times)
    record = membrax.voltage_clamp(channel, protocol, y0=jnp.array([n0]))
    return channel.open_probability(record.states)[1:]


def test_hh1952_fig3_with_table1_rate_constants():
    # HH 1952 Table 1: α_n, β_n fitted by HH to each panel of Fig. 3 (digitised, Daly et al.
    # 2015); g_K∞ per panel from the data (the least-squares ḡ of g = ḡ n⁴), n starting from
    # its resting value n∞(−65 mV) = 0.3177 of the HH rate functions.
    rest = membrax.hodgkin_huxley_rates(-65.0, 279.45).n
    n0 = float(rest.alpha / (rest.alpha + rest.beta))
    for panel, row, t, g in _hh_fig3():
        alpha, beta = float(row["alpha_n_per_ms"]), float(row["beta_n_per_ms"])
        channel = Channel(Gate(ConstantRate(alpha), ConstantRate(beta), power=4), Ohmic(1.0, 0.0))
        p = np.asarray(_n4_after_step(channel, float(row["depolarization_mV"]), t, n0))
        g_bar = np.sum(p * g) / np.sum(p * p)
        rms = np.sqrt(np.mean((g_bar * p - g) ** 2))
        # Measured: 0.10–0.69 mS/cm² per panel (largest in panel A, 21 mS/cm² peak).
        assert rms < 0.75, panel


def test_hh1952_fig3_with_the_rate_functions():
    # The HH rate functions (6.3 °C) with one ḡ_K for all panels. HH drew Fig. 3 with
    # ḡ_K = 24.31 mS/cm² for this axon; the least-squares ḡ from the data must agree.
    rest = membrax.hodgkin_huxley_rates(-65.0, 279.45).n
    n0 = float(rest.alpha / (rest.alpha + rest.beta))
    channel = membrax.models.hh1952_potassium(g_max=1.0)
    panels = [
        (panel, np.asarray(_n4_after_step(channel, float(row["depolarization_mV"]), t, n0)), g)
        for panel, row, t, g in _hh_fig3()
    ]
    p_all = np.concatenate([p for _, p, _ in panels])
    g_all = np.concatenate([g for _, _, g in panels])
    g_bar = np.sum(p_all * g_all) / np.sum(p_all**2)
    assert g_bar == pytest.approx(24.31, rel=0.05)  # measured 23.55
    for panel, p, g in panels:
        rms = np.sqrt(np.mean((24.31 * p - g) ** 2))
        # The scatter HH accepted between their rate functions and Fig. 3: measured RMS
        # 0.16–1.02 mS/cm² per panel (≤ 16 % of the panel's peak, at small depolarisations).
        assert rms < 1.1 and rms < 0.16 * g.max(), panel


def _log_likelihood(current, cell):
    residual = jnp.where(cell.mask, current - cell.current, 0.0)
    n = jnp.sum(cell.mask)
    return -0.5 * n * jnp.log(2 * jnp.pi * cell.sigma**2) - jnp.sum(residual**2) / (
        2 * cell.sigma**2
    )


def _beattie_model(cell, log_params=None):
    q = jnp.append(cell.p, cell.g) if log_params is None else jnp.exp(log_params)
    return membrax.models.beattie2018_ikr(q[:8], q[8], temperature=cell.temperature)


def test_beattie_analytic_protocol_exact_agrees_with_tight_ode_solve():
    # The exact solver on the analytic sine-wave protocol against diffrax at rtol 1e-11. The
    # log-likelihood (σ ≈ 0.007 nA makes it very sensitive) converges at second order in the
    # hold: measured relative errors 1.1e-6 (default, 1 hold per sample), 6.7e-8 (4 holds).
    cell = membrax.io.load_beattie2018(1)
    analytic = membrax.protocols.beattie2018_sine_wave_protocol()
    model = _beattie_model(cell)
    tight = membrax.voltage_clamp(model, analytic, solver=TIGHT)
    # Current at the sample times with the sampled voltage, as in the paper.
    ll_tight = float(_log_likelihood(model.current(tight.states, cell.protocol.voltages), cell))
    for substeps, tolerance in ((1, 2e-6), (4, 1.5e-7)):
        exact = membrax.voltage_clamp(model, analytic, solver=membrax.ExactClamp(substeps))
        ll_exact = _log_likelihood(model.current(exact.states, cell.protocol.voltages), cell)
        assert float(ll_exact) == pytest.approx(ll_tight, rel=tolerance)


@pytest.mark.parametrize("cell_number", [1, 2, 3])
def test_beattie_published_parameters(cell_number):
    cell = membrax.io.load_beattie2018(cell_number)
    analytic = membrax.protocols.beattie2018_sine_wave_protocol()

    def log_likelihood(log_params, protocol):
        model = _beattie_model(cell, log_params)
        states = membrax.voltage_clamp(model, protocol).states
        return _log_likelihood(model.current(states, cell.protocol.voltages), cell)

    x = jnp.log(jnp.append(cell.p, cell.g))
    ll_analytic = float(log_likelihood(x, analytic))
    ll_sampled = float(log_likelihood(x, cell.protocol))
    published = cell.published_log_likelihood
    # Measured, relative to the published maximum log-likelihood (cells 1, 2, 3):
    #   analytic protocol, exact solver: −9.0e-4, −7.0e-3, −7.2e-5;
    #   sampled file, zero-order hold:   +6.7e-5, +1.3e-2, +4.8e-4.
    # An independent SciPy LSODA solve of the analytic protocol gives our analytic values to
    # 1e-9, so the offsets are not a solver error; they do not depend on the parameters
    # (below), so they come from how the published numbers were evaluated. Bounds: 1e-2 and
    # 2e-2 (see the issue-3 closing note).
    assert abs(ll_analytic - published) < 1e-2 * abs(published)
    assert abs(ll_sampled - published) < 2e-2 * abs(published)
    # The published parameters maximise our analytic likelihood: a full Newton step from
    # them gains less than one log-likelihood unit (measured 0.58, 0.15, 0.07).
    grad = jax.grad(log_likelihood)(x, analytic)
    hessian = jax.hessian(log_likelihood)(x, analytic)
    gain = 0.5 * grad @ jnp.linalg.solve(-hessian, grad)
    assert 0.0 <= float(gain) < 1.0


# --- bad input ------------------------------------------------------------------------------------


def test_bad_input():
    protocol = _mixed_protocol()
    channel = membrax.models.hh1952_potassium()
    with pytest.raises(TypeError, match=r"model must be a membrax\.models\.Channel"):
        membrax.voltage_clamp(channel.gating, protocol)
    with pytest.raises(TypeError, match="protocol must be a membrax protocol"):
        membrax.voltage_clamp(channel, jnp.zeros(10))
    with pytest.raises(TypeError, match=r"solver must be membrax.ExactClamp\(\)"):
        membrax.voltage_clamp(channel, protocol, solver=diffrax.Tsit5())
    with pytest.raises(ValueError, match=r"y0 has shape \(2,\) for a channel with 1 states"):
        membrax.voltage_clamp(channel, protocol, y0=jnp.zeros(2))
    with pytest.raises(ValueError, match="substeps must be an int >= 1"):
        membrax.ExactClamp(substeps=0)
