"""physics._binding: binding polynomials, two-site saturation, anomalous mole fraction."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from membrax import physics

# Two-site pore in a mixture of A and B (states A, B, AA, AB, BB), constants in mM^-n.
COUNTS = [[1, 0], [0, 1], [2, 0], [1, 1], [0, 2]]
BETA = np.array([1 / 50, 1 / 50, 1 / 500, 1 / 50, 1 / 500])
# Singly occupied states conduct little; AA and BB conduct well; the mixed AB state is stable
# (β_AB = 10·√(β_AA β_BB)) and slow: the ingredients of the anomalous mole-fraction effect.
G_STATES = np.array([0.1, 0.1, 1.0, 0.02, 0.8])
LOG_BETA = np.log(BETA)


def conductance_at(x, c_total=100.0, log_beta=LOG_BETA, g=G_STATES):
    return physics.pore_conductance(
        jnp.stack([x * c_total, (1 - x) * c_total]), COUNTS, log_beta, g
    )


def test_occupancies_match_the_binding_polynomial_by_hand():
    a, b = 10.0, 20.0
    weights = np.array([a, b, a * a, a * b, b * b]) * BETA
    z_poly = 1 + weights.sum()
    expected = np.concatenate([[1 / z_poly], weights / z_poly])
    got = physics.binding_occupancies([a, b], COUNTS, np.log(BETA))
    np.testing.assert_allclose(got, expected, rtol=1e-14)
    assert float(jnp.sum(got)) == pytest.approx(1.0, rel=1e-15)
    # Two independent sites K1, K2 for one ion: β1 = K1 + K2, β2 = K1·K2, so that
    # P(double) = K1K2c²/((1 + K1c)(1 + K2c)) (Wyman & Gill 1990).
    k1, k2, c = 0.05, 0.2, 7.0
    p = physics.binding_occupancies(c, [[1], [2]], np.log([k1 + k2, k1 * k2]))
    assert float(p[2]) == pytest.approx(k1 * k2 * c * c / ((1 + k1 * c) * (1 + k2 * c)), rel=1e-14)


def test_two_site_current_closed_form_and_binding_polynomial():
    c = np.array([0.0, 1.0, 10.0, 100.0, 1e6])
    i_max, a, b = -12.0, 0.02, 0.1
    got = physics.two_site_current(c, i_max, a, b)
    np.testing.assert_allclose(got, i_max * a * b * c**2 / (1 + a * c + a * b * c**2), rtol=1e-14)
    assert float(got[-1]) == pytest.approx(i_max, rel=1e-4)  # saturates at I_max
    # It is the occupancy of the doubly occupied state of 1 + ac + abc²: a binding-site pore
    # that conducts only when doubly occupied.
    g = jax.vmap(lambda x: physics.pore_conductance(x, [[1], [2]], np.log([a, a * b]), [0, 1]))(c)
    np.testing.assert_allclose(i_max * g, got, rtol=1e-14)


def test_two_site_form_is_the_pre_equilibrium_limit_of_the_kinetic_scheme():
    # Scheme 0 ⇌ 1 ⇌ 2 (binding: k_on c, k_off) plus conduction 2 → 1 at rate κ (one ion
    # leaves to the far side). As κ/k_off → 0 the binding steps equilibrate and the flux
    # κπ₂ → κ·abc²/(1 + ac + abc²) (Hille 2001, ch. 15).
    a, b, c, k_off = 0.02, 0.1, 30.0, 1.0
    sources, targets = [0, 1, 2], [1, 2, 1]

    def flux(kappa):
        forward = jnp.array([a * k_off * c, b * k_off * c, kappa])
        backward = jnp.array([k_off, k_off, 0.0])
        q = physics.transition_matrix(3, sources, targets, forward, backward)
        return kappa * physics.markov_steady_state(q)[2]

    expected = physics.two_site_current(c, 1.0, a, b)
    assert float(flux(1e-7) / 1e-7) == pytest.approx(float(expected), rel=1e-6)
    # Fast conduction spoils the pre-equilibrium: ≥ 10% below the two-site form at κ = k_off.
    assert float(flux(1.0)) < 0.9 * float(expected)


def test_anomalous_mole_fraction_minimum_analytic_and_numeric():
    result = physics.mole_fraction_minimum(100.0, COUNTS, np.log(BETA), G_STATES)
    assert bool(result.anomalous)
    # Independent numerical minimum of g(x) = Σ g_k p_k(x) (bounded Brent on the curve).
    numeric = minimize_scalar(
        lambda x: float(conductance_at(x)),
        bounds=(0.0, 1.0),
        method="bounded",
        options={"xatol": 1e-12},
    )
    # Brent's tolerance on a smooth minimum: x to ~1e-8 (g is flat there, error ∝ √eps).
    assert float(result.mole_fraction) == pytest.approx(numeric.x, abs=1e-7)
    assert float(result.mole_fraction) == pytest.approx(0.46536, abs=1e-5)
    assert float(result.conductance) == pytest.approx(
        float(conductance_at(result.mole_fraction)), rel=1e-13
    )
    # Below both pure solutions (the anomaly): 0.161 vs 0.704 (pure B) and 0.878 (pure A).
    g0, g1 = float(conductance_at(0.0)), float(conductance_at(1.0))
    assert float(result.conductance) < min(g0, g1)
    assert g0 == pytest.approx((0.1 * 2 + 0.8 * 20) / (1 + 2 + 20), rel=1e-14)  # x = 0, hand
    # At x* the slope of g vanishes.
    slope = jax.grad(conductance_at)(result.mole_fraction)
    assert abs(float(slope)) < 1e-12


def test_no_anomaly_without_a_slow_mixed_state():
    # A mixed state that conducts like the mean of the pure ones: g(x) is monotonic.
    g = G_STATES.copy()
    g[3] = 0.9
    result = physics.mole_fraction_minimum(100.0, COUNTS, np.log(BETA), g)
    assert not bool(result.anomalous)
    xs = np.linspace(0, 1, 51)
    curve = np.array(jax.vmap(lambda x: conductance_at(x, g=g))(xs))
    assert np.all(curve > min(curve[0], curve[-1]) - 1e-12)


def test_minimum_gradient_matches_central_differences():
    def x_star(log_beta):
        return physics.mole_fraction_minimum(100.0, COUNTS, log_beta, G_STATES).mole_fraction

    log_beta = jnp.log(jnp.asarray(BETA))
    grad = jax.grad(x_star)(log_beta)
    h = 1e-5
    for k in range(len(BETA)):
        fd = (x_star(log_beta.at[k].add(h)) - x_star(log_beta.at[k].add(-h))) / (2 * h)
        # Central differences of a smooth closed form: O(h²) ≈ 1e-10 truncation.
        assert float(grad[k]) == pytest.approx(float(fd), rel=1e-6, abs=1e-10)


def test_vmap_over_concentrations_matches_loop_and_jit():
    cs = jnp.array([[1.0, 2.0], [10.0, 0.0], [50.0, 50.0], [0.0, 200.0]])
    f = lambda c: physics.binding_occupancies(c, COUNTS, np.log(BETA))  # noqa: E731
    batched = jax.vmap(f)(cs)
    looped = np.stack([np.asarray(f(c)) for c in cs])
    # vmap/jit may reorder floating-point operations: equal to a few ulps.
    np.testing.assert_allclose(batched, looped, rtol=1e-14)
    np.testing.assert_allclose(jax.jit(jax.vmap(f))(cs), looped, rtol=1e-14)
    # Gradient at c = 0 (a pure solution) is finite: integer powers, not exp(n ln c).
    grad = jax.grad(lambda c: f(c)[4])(jnp.array([0.0, 10.0]))
    assert np.all(np.isfinite(grad))


def test_binding_bad_input():
    with pytest.raises(ValueError, match="counts row 1 holds no ion"):
        physics.binding_occupancies([1.0], [[1], [0]], [0.0, 0.0])
    with pytest.raises(ValueError, match="counts must be whole numbers >= 0"):
        physics.binding_occupancies([1.0], [[1], [-1]], [0.0, 0.0])
    with pytest.raises(ValueError, match="counts must be a 2-D integer array"):
        physics.binding_occupancies([1.0], [1, 2], [0.0, 0.0])
    with pytest.raises(ValueError, match=r"log_association must have shape \(2,\)"):
        physics.binding_occupancies([1.0], [[1], [2]], [0.0])
    with pytest.raises(ValueError, match="concentrations has 2 species but counts has 1"):
        physics.binding_occupancies([1.0, 2.0], [[1], [2]], [0.0, 0.0])
    with pytest.raises(
        ValueError, match=r"binding_occupancies: concentrations must be >= 0 mM, got -1\.0"
    ):
        physics.binding_occupancies([-1.0], [[1], [2]], [0.0, 0.0])
    with pytest.raises(ValueError, match="at most two ions"):
        physics.mole_fraction_minimum(100.0, [[3, 0], [1, 1]], [0.0, 0.0], [1.0, 1.0])
    with pytest.raises(ValueError, match="two_site_current: a must be > 0 1/mM"):
        physics.two_site_current(1.0, 1.0, 0.0, 1.0)
