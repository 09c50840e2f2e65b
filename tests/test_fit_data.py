"""Data kinds for fitting (I–V, activation, Q–V and steady-state curves), Boltzmann fits,
and hierarchical fits of several cells with shared and per-cell parameters."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import membrax
from membrax import constants
from membrax.fit import Boltzmann, IVCurve, SteadyStateCurve, Trace, fit, fit_boltzmann
from membrax.models import BoltzmannGate, Channel, Ohmic, hh1952_potassium
from membrax.protocols import PiecewiseProtocol, Step, activation_family

# --- closed forms ---------------------------------------------------------------------------

TEMPERATURE = 279.45  # HH's 6.3 °C: no Q10 scaling


def _hh_n_rates(v):
    """HH (1952) α_n, β_n in 1/ms, modern convention, written out independently."""
    u = v + 55.0
    alpha = 0.01 * u / (1.0 - np.exp(-u / 10.0))
    beta = 0.125 * np.exp(-(v + 65.0) / 80.0)
    return alpha, beta


def _hh_k_current(v_hold, v_test, t, g=36.0, e_k=-77.0):
    """I_K(t) after a step from v_hold to v_test at t = 0: n relaxes exponentially."""
    a0, b0 = _hh_n_rates(v_hold)
    a, b = _hh_n_rates(v_test)
    n0, n_inf, tau = a0 / (a0 + b0), a / (a + b), 1.0 / (a + b)
    n = n_inf - (n_inf - n0) * np.exp(-t / tau)
    return g * n**4 * (v_test - e_k)


TEST_VOLTAGES = np.arange(-60.0, 41.0, 20.0)
HOLD, HOLD_MS, TEST_MS, DT = -80.0, 5.0, 20.0, 0.1


@pytest.fixture(scope="module")
def family():
    return activation_family(
        TEST_VOLTAGES, holding=HOLD, holding_duration=HOLD_MS, test_duration=TEST_MS, dt=DT
    )


def _window_samples():
    """Sample times inside the test step, relative to its start (the closed form's t)."""
    ts = np.arange(round((HOLD_MS + TEST_MS) / DT)) * DT
    inside = (ts >= HOLD_MS - 1e-9) & (ts < HOLD_MS + TEST_MS - 1e-9)
    return ts[inside] - HOLD_MS


def test_iv_curve_measures_match_closed_form(family):
    channel = hh1952_potassium()
    t = _window_samples()
    traces = np.array([_hh_k_current(HOLD, v, t) for v in TEST_VOLTAGES])
    tail = t.size // 10
    expected = {
        "peak": traces[np.arange(traces.shape[0]), np.argmax(np.abs(traces), axis=1)],
        "steady": traces[:, -tail:].mean(axis=1),
        "mean": traces.mean(axis=1),
        "integral": DT * (traces.sum(axis=1) - 0.5 * (traces[:, 0] + traces[:, -1])),
    }
    for measure, values in expected.items():
        curve = IVCurve(family, values, measure=measure)
        predicted = np.asarray(curve.predict(channel, membrax.ExactClamp()))
        # The exact clamp of one exponential gate is exact: agreement to rounding.
        np.testing.assert_allclose(predicted, values, rtol=1e-10, atol=1e-10, err_msg=measure)
    np.testing.assert_allclose(np.asarray(curve.voltages), TEST_VOLTAGES, atol=1e-12)


def test_iv_curve_normalised_and_explicit_window(family):
    channel = hh1952_potassium()
    t = _window_samples()
    traces = np.array([_hh_k_current(HOLD, v, t) for v in TEST_VOLTAGES])
    peaks = traces.max(axis=1)
    curve = IVCurve(family, peaks / peaks.max(), normalise="max")
    np.testing.assert_allclose(
        np.asarray(curve.predict(channel, membrax.ExactClamp())), peaks / peaks.max(), rtol=1e-10
    )
    # An explicit window: the first 2 ms of the step only.
    early = t < 2.0 - 1e-9
    curve = IVCurve(family, traces[:, early].mean(axis=1), measure="mean", window=(5.0, 7.0))
    np.testing.assert_allclose(
        np.asarray(curve.predict(channel, membrax.ExactClamp())),
        traces[:, early].mean(axis=1),
        rtol=1e-10,
    )


def test_fit_kinetics_to_an_iv_curve(family):
    """Recover the scale of α_n and ḡ from peak and steady I–V curves (noise-free)."""
    truth = hh1952_potassium(g_max=30.0)
    truth = eqx.tree_at(lambda m: m.gating.gates[0].alpha.rate, truth, 0.13)
    clamp = membrax.ExactClamp()
    steady = IVCurve(family, np.zeros(6), measure="steady")
    steady = IVCurve(family, steady.predict(truth, clamp), measure="steady")
    early = IVCurve(family, np.zeros(6), measure="mean", window=(5.0, 7.0))
    early = IVCurve(family, early.predict(truth, clamp), measure="mean", window=(5.0, 7.0))
    start = hh1952_potassium(g_max=20.0)

    def trainable(m):
        return m.permeation.g_max, m.gating.gates[0].alpha.rate

    result = fit(start, [steady, early], trainable=trainable)
    values = dict(zip(result.names, np.asarray(result.values)))
    assert values[".permeation.g_max"] == pytest.approx(30.0, rel=1e-7)
    assert values[".gating.gates[0].alpha.rate"] == pytest.approx(0.13, rel=1e-7)


def test_qv_curve_from_gating_current_integral():
    """∫I_g dt over a step from −100 mV to V is N·z·e·(x∞(V) − x∞(−100)) (fC)."""
    gate = BoltzmannGate(v_half=-30.0, z=4.0, temperature=293.15, tau=0.8)
    channel = Channel(gate, Ohmic(0.0, 0.0), n_channels=1000.0)
    volts = np.array([-80.0, -50.0, -30.0, -10.0, 20.0])
    fam = membrax.protocols.step_family(
        np.stack([np.full(5, -100.0), volts], 1), [5.0, 15.0], dt=0.001
    )
    vt = constants.THERMAL_VOLTAGE_PER_KELVIN * 293.15

    def x_inf(v):
        return 1.0 / (1.0 + np.exp(-4.0 * (v + 30.0) / vt))

    expected = 1000.0 * 4.0 * constants.ELEMENTARY_CHARGE_FC * (x_inf(volts) - x_inf(-100.0))
    curve = IVCurve(fam, expected, measure="integral", observable=lambda r: r.gating_current)
    predicted = np.asarray(curve.predict(channel, membrax.ExactClamp()))
    # Trapezoid error on an exponential with τ = 0.8 ms at 1 µs: ~(dt/τ)²/12 ≈ 1e-7.
    np.testing.assert_allclose(predicted, expected, rtol=2e-6)


def test_fit_gating_charge_to_a_qv_curve():
    """A normalised steady-state Q–V curve determines z and V½ of a Boltzmann gate."""
    truth = Channel(BoltzmannGate(-35.0, 3.2, 293.15, 1.0), Ohmic(0.0, 0.0))
    volts = np.linspace(-100.0, 30.0, 14)
    vt = constants.THERMAL_VOLTAGE_PER_KELVIN * 293.15
    q = 1.0 / (1.0 + np.exp(-3.2 * (volts + 35.0) / vt))
    q = (q - q.min()) / (q.max() - q.min())
    data = SteadyStateCurve(volts, q, quantity="charge", normalise="range")
    np.testing.assert_allclose(np.asarray(data.predict(truth, None)), q, rtol=1e-12, atol=1e-15)
    start = Channel(BoltzmannGate(-20.0, 2.0, 293.15, 1.0), Ohmic(0.0, 0.0))
    start = eqx.tree_at(lambda m: m.gating.gates[0].v_half, start, replace_fn=membrax.fit.Free)
    result = fit(start, data, trainable=lambda m: (m.gating.gates[0].v_half, m.gating.gates[0].z))
    gate = result.model.gating.gates[0]
    assert float(gate.v_half) == pytest.approx(-35.0, abs=1e-6)
    assert float(gate.z) == pytest.approx(3.2, rel=1e-7)


def test_steady_state_open_probability_is_n_inf_to_the_fourth():
    volts = np.linspace(-90.0, 30.0, 9)
    a, b = _hh_n_rates(volts)
    po = (a / (a + b)) ** 4
    curve = SteadyStateCurve(volts, po)
    np.testing.assert_allclose(np.asarray(curve.predict(hh1952_potassium(), None)), po, rtol=1e-12)


# --- Boltzmann fits ---------------------------------------------------------------------------


def test_fit_boltzmann_recovers_activation_and_inactivation():
    v = np.arange(-100.0, 41.0, 10.0)
    act = fit_boltzmann(v, 1.0 / (1.0 + np.exp(-(v + 25.3) / 7.4)))
    assert act.v_half == pytest.approx(-25.3, abs=1e-8)
    assert act.slope == pytest.approx(7.4, rel=1e-9)
    assert act.amplitude == 1.0 and act.amplitude_se == 0.0
    inact = fit_boltzmann(v, 2.5 / (1.0 + np.exp((v + 61.0) / 6.2)), amplitude=None)
    assert inact.v_half == pytest.approx(-61.0, abs=1e-8)
    assert inact.slope == pytest.approx(-6.2, rel=1e-9)
    assert inact.amplitude == pytest.approx(2.5, rel=1e-10)
    assert float(inact.curve(-61.0)) == pytest.approx(1.25, rel=1e-10)


def test_fit_boltzmann_errors_cover_the_truth():
    """With known σ, (estimate − truth)/SE is standard normal: of 200 estimates (V½ and s of
    100 noisy curves) about 95 % lie within 1.96 SE — at least 180 with probability 0.999
    (binomial, mean 190, sd 3.1)."""
    v = np.arange(-100.0, 41.0, 5.0)
    truth = 1.0 / (1.0 + np.exp(-(v + 30.0) / 8.0))
    rng = np.random.default_rng(1)
    inside = 0
    for _ in range(100):
        y = truth + rng.normal(0.0, 0.02, v.size)
        r = fit_boltzmann(v, y, sigma=0.02)
        inside += abs(r.v_half + 30.0) < 1.96 * r.v_half_se
        inside += abs(r.slope - 8.0) < 1.96 * r.slope_se
    assert inside >= 180  # of 200


def test_fit_boltzmann_rejects_bad_input():
    v = np.linspace(-80, 20, 6)
    with pytest.raises(ValueError, match=r"values has 1 NaN/inf values"):
        fit_boltzmann(v, np.where(v > 0, np.nan, 0.5 + v / 200))
    with pytest.raises(ValueError, match=r"values has shape \(5,\); it needs shape \(6,\)"):
        fit_boltzmann(v, np.ones(5))
    with pytest.raises(ValueError, match=r"every value is 0.5"):
        fit_boltzmann(v, np.full(6, 0.5))
    with pytest.raises(ValueError, match=r"2 points cannot determine"):
        fit_boltzmann(v[:2], np.array([0.1, 0.9]))
    with pytest.raises(ValueError, match=r"amplitude must be a nonzero number"):
        fit_boltzmann(v, 0.5 + v / 200, amplitude=0.0)


def test_curve_data_errors(family):
    single = jax.tree.map(lambda x: x[0], family)
    with pytest.raises(ValueError, match=r"family of sweeps stacked"):
        IVCurve(single, np.zeros(6))
    with pytest.raises(ValueError, match=r"measure must be one of"):
        IVCurve(family, np.zeros(6), measure="max")
    with pytest.raises(ValueError, match=r"values has shape \(5,\); it needs shape \(6,\)"):
        IVCurve(family, np.zeros(5))
    with pytest.raises(ValueError, match=r"window \(100.0, 200.0\) ms holds no sample"):
        IVCurve(family, np.zeros(6), window=(100.0, 200.0))
    with pytest.raises(ValueError, match=r"normalise must be None, 'max'"):
        IVCurve(family, np.zeros(6), normalise="peak")
    with pytest.warns(UserWarning, match=r"open probabilities should lie in 0..1"):
        SteadyStateCurve([-50.0, 0.0], [3.0, 40.0])
    with pytest.raises(ValueError, match=r"quantity must be 'open_probability', 'charge'"):
        SteadyStateCurve([-50.0, 0.0], [0.1, 0.9], quantity="conductance")
    same = PiecewiseProtocol([Step(-80.0, 5.0), Step(0.0, 5.0)], dt=0.1)
    stacked = jax.tree.map(lambda *x: jnp.stack(x), same, same)
    with pytest.raises(ValueError, match=r"every sweep has the same voltages"):
        IVCurve(stacked, np.zeros(2))
    # The data are never modified.
    values = np.array([1.0, np.nan, 3.0, 4.0, 5.0, 6.0])
    with pytest.raises(ValueError):
        IVCurve(family, values)
    assert np.isnan(values[1])


# --- hierarchical fits ------------------------------------------------------------------------


def _cell_data(family, g_values, sweeps, sigma=None, rng=None):
    cells = []
    for g, k in zip(g_values, sweeps):
        protocol = jax.tree.map(lambda x, k=k: x[k], family)
        current = membrax.voltage_clamp(_truth(g), protocol).current
        if rng is not None:
            current = current + rng.normal(0.0, sigma, current.shape)
        cells.append(Trace(protocol, current, sigma=sigma))
    return cells


def _truth(g):
    model = hh1952_potassium(g_max=g)
    return eqx.tree_at(lambda m: m.gating.gates[0].alpha.rate, model, 0.12)


def _trainable(m):
    return m.permeation.g_max, m.gating.gates[0].alpha.rate


def _per_cell(m):
    return m.permeation.g_max


@pytest.mark.parametrize("sweeps", [(4, 4, 4), (4, 3, 5)], ids=["vmapped", "looped"])
def test_hierarchical_fit_recovers_shared_and_per_cell(family, sweeps):
    """Three cells with their own ḡ and shared kinetics; noise-free data. Same-shape data
    are vmapped, different-shape data looped: both reach the truth."""
    g_values = (30.0, 36.0, 42.0)
    cells = _cell_data(family, g_values, sweeps, sigma=1.0)
    result = fit(hh1952_potassium(g_max=20.0), cells, trainable=_trainable, per_cell=_per_cell)
    assert result.n_cells == 3
    assert result.names == (
        ".gating.gates[0].alpha.rate",
        ".permeation.g_max[cell 0]",
        ".permeation.g_max[cell 1]",
        ".permeation.g_max[cell 2]",
    )
    np.testing.assert_allclose(np.asarray(result.values), [0.12, *g_values], rtol=1e-7)
    for k, g in enumerate(g_values):
        model = result.cell_model(k)
        assert float(model.permeation.g_max) == pytest.approx(g, rel=1e-7)
        assert float(model.gating.gates[0].alpha.rate) == pytest.approx(0.12, rel=1e-7)
    with pytest.raises(ValueError, match=r"k = 3, but the fit has 3 cells"):
        result.cell_model(3)


def test_hierarchical_fit_equals_pooled_likelihood(family):
    """With noise, the hierarchical optimum is a stationary point of the summed per-cell
    log-likelihood: its Gauss–Newton errors equal those from the stacked Jacobian computed
    independently here with jax.jacfwd over the per-cell models."""
    rng = np.random.default_rng(3)
    cells = _cell_data(family, (30.0, 40.0), (4, 4), sigma=2.0, rng=rng)
    result = fit(hh1952_potassium(g_max=25.0), cells, trainable=_trainable, per_cell=_per_cell)

    def residuals(theta):
        rate, g0, g1 = theta
        out = []
        for g, cell in zip((g0, g1), cells):
            model = eqx.tree_at(lambda m: m.gating.gates[0].alpha.rate, _truth(g), rate)
            r = membrax.voltage_clamp(model, cell.protocol).current - cell.current
            out.append(r / 2.0)
        return jnp.concatenate(out)

    theta = result.values
    jac = jax.jacfwd(residuals)(theta)
    gradient = jac.T @ residuals(theta)
    assert float(jnp.max(jnp.abs(gradient))) < 1e-6 * float(jnp.max(jnp.abs(jac)))
    expected_se = np.sqrt(np.diag(np.linalg.inv(np.asarray(jac.T @ jac))))
    np.testing.assert_allclose(np.asarray(result.standard_errors), expected_se, rtol=1e-6)
    ll = sum(-0.5 * c.current.size * np.log(2 * np.pi * 4.0) for c in cells) - 0.5 * float(
        jnp.sum(residuals(theta) ** 2)
    )
    assert float(result.log_likelihood) == pytest.approx(ll, rel=1e-10)


def test_hierarchical_fit_errors(family):
    cells = _cell_data(family, (30.0, 36.0), (4, 4), sigma=1.0)
    model = hh1952_potassium()
    with pytest.raises(ValueError, match=r"one entry per cell \(at least two cells\)"):
        fit(model, cells[0], per_cell=_per_cell)
    with pytest.raises(ValueError, match=r"per_cell selects no trained float parameter"):
        fit(model, cells, trainable=lambda m: m.gating, per_cell=_per_cell)
    with pytest.raises(TypeError, match=r"data\[1\] must be membrax.fit data"):
        fit(model, [cells[0], "cell 2"], per_cell=_per_cell)


def test_boltzmann_model_matches_physics():
    """The Boltzmann curve's slope s is RT/(zF): x∞ equals boltzmann_open_probability."""
    z, temperature = 2.5, 295.0
    slope = constants.THERMAL_VOLTAGE_PER_KELVIN * temperature / z
    v = np.linspace(-90.0, 30.0, 7)
    np.testing.assert_allclose(
        np.asarray(Boltzmann(-20.0, slope)(v)),
        np.asarray(membrax.boltzmann_open_probability(v, -20.0, z, temperature)),
        rtol=1e-12,
    )


# --- the Levenberg–Marquardt solver -------------------------------------------------------------


def test_levenberg_marquardt_solves_rosenbrock_with_optimistix():
    """As an optimistix solver: the Rosenbrock residuals (10(y₁ − y₀²), 1 − y₀) vanish only at
    (1, 1), reached from the classic start (−1.2, 1)."""
    import optimistix as optx

    def residuals(y, args):
        del args
        return jnp.stack([10.0 * (y[1] - y[0] ** 2), 1.0 - y[0]])

    solver = membrax.fit.LevenbergMarquardt(rtol=1e-12, atol=1e-12)
    solution = optx.least_squares(residuals, solver, jnp.array([-1.2, 1.0]), max_steps=200)
    np.testing.assert_allclose(np.asarray(solution.value), [1.0, 1.0], atol=1e-10)
    with pytest.raises(ValueError, match=r"y must be a 1-D array"):
        optx.least_squares(residuals, solver, jnp.ones((1, 2)), max_steps=5)


def test_levenberg_marquardt_agrees_with_optimistix_on_a_channel_fit(family):
    """The same fit with membrax's and optimistix's Levenberg–Marquardt: same optimum."""
    import optimistix as optx

    rng = np.random.default_rng(5)
    protocol = jax.tree.map(lambda x: x[4], family)
    current = membrax.voltage_clamp(_truth(33.0), protocol).current
    trace = Trace(protocol, current + rng.normal(0.0, 5.0, current.shape))
    start = hh1952_potassium(g_max=20.0)
    ours = fit(start, trace, trainable=_trainable)
    theirs = fit(start, trace, trainable=_trainable, solver=optx.LevenbergMarquardt(1e-10, 1e-10))
    np.testing.assert_allclose(np.asarray(ours.values), np.asarray(theirs.values), rtol=1e-6)
    assert float(ours.log_likelihood) == pytest.approx(float(theirs.log_likelihood), abs=1e-6)


# --- prediction on new data -------------------------------------------------------------------


def test_evaluate_scores_predictions(family):
    """evaluate: at a fit's optimum its log-likelihood is the fit's own; on another protocol a
    model with ḡ 10 % too high leaves residuals of exactly 0.1·I (closed form RMS)."""
    rng = np.random.default_rng(7)
    fitted_on = jax.tree.map(lambda x: x[4], family)
    current = membrax.voltage_clamp(_truth(33.0), fitted_on).current
    trace = Trace(fitted_on, current + rng.normal(0.0, 5.0, current.shape))
    result = fit(hh1952_potassium(g_max=20.0), trace, trainable=_trainable)
    score = membrax.fit.evaluate(result.model, trace)
    assert score.log_likelihood == pytest.approx(float(result.log_likelihood), rel=1e-12)
    assert score.sigma[0] == pytest.approx(result.sigma[0], rel=1e-12)

    new = jax.tree.map(lambda x: x[1], family)
    true_current = np.asarray(membrax.voltage_clamp(_truth(33.0), new).current)
    mask = np.asarray(membrax.fit.mask_after_steps(new, 1.0))
    held_out = [
        Trace(new, true_current, mask=mask, sigma=2.0),
        IVCurve(family, IVCurve(family, np.zeros(6)).predict(_truth(33.0), None)),
    ]
    score = membrax.fit.evaluate(_truth(36.3), held_out)
    expected_rms = 0.1 * np.sqrt(np.mean(true_current[mask] ** 2))
    assert score.rms[0] == pytest.approx(expected_rms, rel=1e-10)
    np.testing.assert_allclose(
        np.asarray(score.residuals[1]), 0.1 * np.asarray(held_out[1].values), rtol=1e-10
    )
    m = int(mask.sum())
    ll_trace = -0.5 * m * np.log(2 * np.pi * 4.0) - m * expected_rms**2 / 8.0
    ll_curve = -3.0 * np.log(2 * np.pi * score.rms[1] ** 2) - 3.0
    assert score.log_likelihood == pytest.approx(ll_trace + ll_curve, rel=1e-10)
