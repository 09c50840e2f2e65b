"""exprel and the bracketed root finder."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import optimize

from membrax._numerics import exprel, increasing_root, solve_spd


def _exprel_reference(x):
    # x/(e^x - 1) evaluated in NumPy float64 by the textbook formula, rewritten as
    # x·e^{-x}/(1 - e^{-x}) for x > 0 only to avoid overflow (same value, no cancellation).
    x = np.atleast_1d(np.asarray(x, dtype=np.float64))
    out = np.ones_like(x)
    neg, pos = x < 0, x > 0
    out[neg] = x[neg] / np.expm1(x[neg])
    out[pos] = x[pos] * np.exp(-x[pos]) / -np.expm1(-x[pos])
    return out


@pytest.mark.parametrize(
    "x", [-700.0, -50.0, -1.0, -1e-3, -1e-7, 0.0, 1e-7, 1e-3, 1.0, 50.0, 700.0, 1e4, -1e4]
)
def test_exprel_values(x):
    assert float(exprel(x)) == pytest.approx(_exprel_reference(x)[0], rel=1e-13)


def test_exprel_is_accurate_across_the_series_switch():
    """Around |x| = 0.1, where the Taylor series hands over to a/(1 − e^{−a}), both branches
    keep full precision: float64 to 1e-14, float32 to 1e-6 (≈ 10 ulp), and the values join
    continuously (no step at the switch larger than rounding)."""
    x = np.concatenate([-np.logspace(-8, 0.5, 400), np.logspace(-8, 0.5, 400)])
    x = np.concatenate([x, [0.1 - 1e-15, 0.1, 0.1 + 1e-15, -0.1, -(0.1 + 1e-15)]])
    reference = _exprel_reference(x)
    np.testing.assert_allclose(np.asarray(exprel(x)), reference, rtol=1e-14)
    x32 = x.astype(np.float32)
    np.testing.assert_allclose(
        np.asarray(exprel(jnp.asarray(x32))), _exprel_reference(x32.astype(np.float64)), rtol=1e-6
    )
    below, above = exprel(np.nextafter(0.1, 0.0)), exprel(0.1)
    assert abs(float(above) - float(below)) < 1e-15


def test_exprel_at_zero_value_and_gradients():
    # Taylor: 1 - x/2 + x²/12 - x⁴/720: value 1, first derivative -1/2, second 1/6.
    assert float(exprel(0.0)) == 1.0
    assert float(jax.grad(exprel)(0.0)) == pytest.approx(-0.5, rel=1e-15)
    assert float(jax.grad(jax.grad(exprel))(0.0)) == pytest.approx(1 / 6, rel=1e-12)


@pytest.mark.parametrize("x", [-1e4, -700.0, -30.0, -2e-6, -5e-7, 5e-7, 2e-6, 0.3, 30.0, 1e4])
def test_exprel_gradient_matches_finite_differences(x):
    h = 1e-6 * max(1.0, abs(x))
    fd = (float(exprel(x + h)) - float(exprel(x - h))) / (2 * h)
    grad = float(jax.grad(exprel)(x))
    assert np.isfinite(grad)
    assert grad == pytest.approx(fd, rel=1e-6, abs=1e-12)


def test_exprel_float32_and_int_inputs():
    x32 = jnp.linspace(-100, 100, 2001, dtype=jnp.float32)
    y = exprel(x32)
    assert y.dtype == jnp.float32
    assert bool(jnp.all(jnp.isfinite(y)))
    assert bool(jnp.all(jnp.isfinite(jax.vmap(jax.grad(exprel))(x32))))
    # float32 resolution; beyond x ≈ 87 the true value (< 1e-36) underflows to 0 in float32.
    np.testing.assert_allclose(
        np.asarray(y), _exprel_reference(np.asarray(x32)), rtol=2e-6, atol=1e-35
    )
    assert exprel(2).dtype == jnp.float64  # an int becomes the default float, not int32


def test_increasing_root_matches_brentq_and_implicit_gradient():
    def f(x, a, b):
        return jnp.exp(a * x) + b * x**3 - 4.0

    a, b = 0.7, 0.2
    root = increasing_root(lambda x: f(x, a, b), -1.0, 1.0)  # bracket must widen to reach it
    expected = optimize.brentq(lambda x: np.exp(a * x) + b * x**3 - 4.0, -10, 10, xtol=1e-15)
    assert float(root) == pytest.approx(expected, rel=1e-13)

    # Implicit function theorem: dx*/da = -(∂f/∂a)/(∂f/∂x) at the root.
    grad_a = jax.grad(lambda a: increasing_root(lambda x: f(x, a, b), -1.0, 1.0))(a)
    x = expected
    assert float(grad_a) == pytest.approx(
        -(x * np.exp(a * x)) / (a * np.exp(a * x) + 3 * b * x**2), rel=1e-10
    )


def test_increasing_root_vmap_equals_loop():
    targets = jnp.array([-3.0, 0.5, 10.0, 1e3])
    roots = jax.vmap(lambda t: increasing_root(lambda x: x**3 + x - t, 0.0, 1.0))(targets)
    loop = [float(increasing_root(lambda x, t=t: x**3 + x - t, 0.0, 1.0)) for t in targets]
    np.testing.assert_allclose(np.asarray(roots), loop, rtol=1e-14)
    np.testing.assert_allclose(np.asarray(roots) ** 3 + np.asarray(roots), targets, rtol=1e-12)


@pytest.mark.parametrize("n", [1, 2, 9, 40])
def test_solve_spd_matches_lapack_on_ill_conditioned_normal_equations(n):
    # Levenberg–Marquardt's normal equations JᵀJ + λD: columns scaled over six decades, as
    # rate constants and slopes are. Against LAPACK (NumPy's LU with pivoting).
    rng = np.random.default_rng(n)
    jac = rng.normal(size=(3 * n, n)) * np.logspace(-3, 3, n)
    a = jac.T @ jac + 1e-6 * np.diag(np.diag(jac.T @ jac))
    b = rng.normal(size=n)
    x = np.asarray(solve_spd(a, b))
    expected = np.linalg.solve(a, b)
    np.testing.assert_allclose(x, expected, rtol=1e-9 * np.linalg.cond(a) ** 0.5, atol=0)
    assert np.max(np.abs(a @ x - b)) <= 1e-12 * np.max(np.abs(a)) * np.max(np.abs(x))
    # Batched under vmap, as over multi-start fits.
    xs = jax.vmap(solve_spd)(jnp.stack([a, 2.0 * a]), jnp.stack([b, b]))
    np.testing.assert_allclose(np.asarray(xs[1]), expected / 2.0, rtol=1e-9 * np.linalg.cond(a))


def test_solve_spd_of_an_indefinite_matrix_is_nan_not_a_wrong_answer():
    # Eigenvalues 3 and −1: no Cholesky factor. The documented contract is NaN, which the
    # solver treats as a rejected step.
    x = solve_spd(jnp.array([[1.0, 2.0], [2.0, 1.0]]), jnp.array([1.0, 1.0]))
    assert np.all(np.isnan(np.asarray(x)))
