"""Goldman–Hodgkin–Katz flux, current and voltage."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import optimize

import membrax

# Exact SI products, typed in independently of membrax.constants.
R, F = 1.380649e-23 * 6.02214076e23, 1.602176634e-19 * 6.02214076e23


def vt(t):
    return 1e3 * R * t / F


def ghk_current_reference(v, c_in, c_out, p, z, t):
    """The textbook formula, in NumPy, µA/cm² for P in cm/s and c in mM (valid for v != 0)."""
    u = z * v / vt(t)
    return p * z * F * u * (c_in - c_out * np.exp(-u)) / (1 - np.exp(-u))


@pytest.mark.parametrize("z", [1.0, -1.0, 2.0, 0.5, -2.0])
@pytest.mark.parametrize("v", [-120.0, -30.0, -0.1, 0.1, 45.0, 150.0])
def test_ghk_current_matches_textbook_formula(v, z):
    args = (v, 12.0, 145.0, 2e-6, z, 306.0)
    assert float(membrax.ghk_current(*args)) == pytest.approx(
        ghk_current_reference(*args), rel=1e-11
    )


def test_ghk_at_zero_voltage():
    # V → 0: J = P(c_in - c_out) (Fick), dI/dV = z²F·P·(c_in + c_out)/(2 V_T).
    p, c_in, c_out, z, t = 3e-6, 1e-4, 2.0, 2.0, 310.0
    assert float(membrax.ghk_flux(0.0, c_in, c_out, p, z, t)) == pytest.approx(
        p * (c_in - c_out), rel=1e-14
    )
    slope = float(jax.grad(membrax.ghk_current)(0.0, c_in, c_out, p, z, t))
    assert slope == pytest.approx(z**2 * F * p * (c_in + c_out) / (2 * vt(t)), rel=1e-12)
    h = 1e-3
    fd = (
        ghk_current_reference(h, c_in, c_out, p, z, t)
        - ghk_current_reference(-h, c_in, c_out, p, z, t)
    ) / (2 * h)
    assert slope == pytest.approx(fd, rel=1e-7)


def test_ghk_neutral_solute_and_nernst_zero():
    # z = 0: plain diffusion, no current.
    assert float(membrax.ghk_flux(-60.0, 10.0, 1.0, 1e-5, 0, 300.0)) == pytest.approx(9e-5)
    assert float(membrax.ghk_current(-60.0, 10.0, 1.0, 1e-5, 0, 300.0)) == 0.0
    # The current vanishes at the Nernst potential, for every valence.
    for z, c_in, c_out in [(1, 140.0, 5.0), (2, 1e-4, 2.0), (-1, 10.0, 110.0)]:
        e = membrax.nernst_potential(c_out, c_in, z, 310.0)
        i = float(membrax.ghk_current(e, c_in, c_out, 1e-6, z, 310.0))
        scale = float(membrax.ghk_current(e + 10.0, c_in, c_out, 1e-6, z, 310.0))
        assert abs(i) < 1e-12 * abs(scale)


def test_ghk_rectification_limits():
    # Far from 0 the GHK current is linear in V with slopes set by one side's concentration:
    # I → z²F²P·c_in·V/RT (outward, large V) and z²F²P·c_out·V/RT (inward, large -V).
    p, c_in, c_out, t = 1e-6, 140.0, 5.0, 300.0
    v = 2000.0
    assert float(membrax.ghk_current(v, c_in, c_out, p, 1, t)) == pytest.approx(
        F * p * c_in * v / vt(t), rel=1e-12
    )
    assert float(membrax.ghk_current(-v, c_in, c_out, p, 1, t)) == pytest.approx(
        -F * p * c_out * v / vt(t), rel=1e-12
    )


def test_ghk_no_nan_over_physiological_range_and_beyond():
    v = jnp.concatenate([jnp.linspace(-300, 300, 121), jnp.array([0.0, 1e-12, -1e-12])])
    c = jnp.logspace(-9, 4, 14)
    grid = jnp.meshgrid(v, c, c, indexing="ij")
    for z in (1.0, -1.0, 2.0, 3.0):
        i = membrax.ghk_current(*grid, 1e-6, z, 310.0)
        assert bool(jnp.all(jnp.isfinite(i)))
        grad = jax.vmap(
            jax.grad(membrax.ghk_current, argnums=(0, 1, 2, 3, 4)),
            in_axes=(0, 0, 0, None, None, None),
        )
        for g in grad(grid[0].ravel(), grid[1].ravel(), grid[2].ravel(), 1e-6, z, 310.0):
            assert bool(jnp.all(jnp.isfinite(g)))


def test_ghk_current_vmap_jit_equal_loop():
    vs = jnp.linspace(-100, 60, 9)
    batched = jax.vmap(membrax.ghk_current, in_axes=(0, None, None, None, None, None))(
        vs, 0.1e-3, 2.0, 1e-6, 2.0, 295.0
    )
    jitted = jax.jit(membrax.ghk_current)(vs, 0.1e-3, 2.0, 1e-6, 2.0, 295.0)
    loop = [float(membrax.ghk_current(v, 0.1e-3, 2.0, 1e-6, 2.0, 295.0)) for v in vs]
    np.testing.assert_allclose(np.asarray(batched), loop, rtol=1e-14)
    np.testing.assert_allclose(np.asarray(jitted), loop, rtol=1e-13)


# --- ghk_voltage -------------------------------------------------------------------------------

# Squid axon at rest: P_K : P_Na : P_Cl = 1 : 0.04 : 0.45 (Hodgkin & Katz 1949, J Physiol
# 108:37); concentrations K 400/20, Na 50/440, Cl 40/560 mM (in/out), 6.3 °C.
SQUID_P = np.array([1.0, 0.04, 0.45])
SQUID_IN = np.array([400.0, 50.0, 40.0])
SQUID_OUT = np.array([20.0, 440.0, 560.0])
SQUID_Z = np.array([1.0, 1.0, -1.0])
SQUID_T = 279.45


def summed_ghk_root(p, c_in, c_out, z, t):
    """Independent reference: brentq on the summed NumPy GHK currents."""

    def total(v):
        v = v if v != 0 else 1e-9
        return sum(ghk_current_reference(v, *args, t) for args in zip(c_in, c_out, p, z))

    return optimize.brentq(total, -400.0, 400.0, xtol=1e-13, rtol=1e-15)


def test_ghk_voltage_goldman_closed_form():
    v = float(membrax.ghk_voltage(SQUID_P, SQUID_IN, SQUID_OUT, SQUID_Z, SQUID_T))
    num = 1.0 * 20 + 0.04 * 440 + 0.45 * 40
    den = 1.0 * 400 + 0.04 * 50 + 0.45 * 560
    assert v == pytest.approx(vt(SQUID_T) * np.log(num / den), rel=1e-13)
    assert v == pytest.approx(
        summed_ghk_root(SQUID_P, SQUID_IN, SQUID_OUT, SQUID_Z, SQUID_T), abs=1e-9
    )


def test_ghk_voltage_single_ion_is_nernst():
    for z, c_in, c_out in [(1, 140.0, 5.0), (2, 1e-4, 2.0), (-1, 10.0, 110.0), (-2, 1.0, 7.0)]:
        v = float(membrax.ghk_voltage([1e-6], [c_in], [c_out], [z], 310.0))
        assert v == pytest.approx(float(membrax.nernst_potential(c_out, c_in, z, 310.0)), rel=1e-12)


def test_ghk_voltage_with_calcium_matches_quadratic_closed_form():
    # Monovalent cations plus Ca²⁺: with x = e^{-FV/RT} the zero-current condition is the
    # quadratic -(B + 4C_o)x² + (A - B)x + (A + 4C_i) = 0, A = ΣP·c_in, B = ΣP·c_out over the
    # monovalent cations, C = P_Ca·[Ca] (e.g. Lewis 1979, J Physiol 286:417).
    p = np.array([1.0, 0.05, 0.3])
    c_in = np.array([140.0, 12.0, 1e-4])
    c_out = np.array([4.0, 145.0, 2.0])
    z = np.array([1.0, 1.0, 2.0])
    t = 310.0
    a, b = p[:2] @ c_in[:2], p[:2] @ c_out[:2]
    ci, co = p[2] * c_in[2], p[2] * c_out[2]
    qa, qb, qc = -(b + 4 * co), a - b, a + 4 * ci
    x = (-qb - np.sqrt(qb**2 - 4 * qa * qc)) / (2 * qa)
    expected = -vt(t) * np.log(x)
    v = float(membrax.ghk_voltage(p, c_in, c_out, z, t))
    assert v == pytest.approx(expected, abs=1e-10)
    assert v == pytest.approx(summed_ghk_root(p, c_in, c_out, z, t), abs=1e-9)


def test_ghk_voltage_mixed_valences_matches_brentq():
    rng = np.random.default_rng(0)
    for _ in range(5):
        p = rng.uniform(0.01, 1.0, 5)
        c_in = 10 ** rng.uniform(-4, 2.5, 5)
        c_out = 10 ** rng.uniform(-1, 2.5, 5)
        z = np.array([1.0, 2.0, -1.0, -2.0, 3.0])
        v = float(membrax.ghk_voltage(p, c_in, c_out, z, 300.0))
        assert v == pytest.approx(summed_ghk_root(p, c_in, c_out, z, 300.0), abs=1e-8)


def test_ghk_voltage_root_path_equals_closed_form():
    # Under jit the valences are traced, so the general root finder runs even for monovalent
    # ions: both paths must agree to rounding, in value and gradient.
    args = (SQUID_P, SQUID_IN, SQUID_OUT, SQUID_Z, SQUID_T)
    closed = membrax.ghk_voltage(*args)
    rooted = jax.jit(membrax.ghk_voltage)(*args)
    assert float(rooted) == pytest.approx(float(closed), abs=1e-10)
    g_closed = jax.grad(membrax.ghk_voltage, argnums=2)(*args)
    g_root = jax.jit(jax.grad(membrax.ghk_voltage, argnums=2))(*args)
    np.testing.assert_allclose(np.asarray(g_root), np.asarray(g_closed), rtol=1e-9)


def test_ghk_voltage_gradients_against_finite_differences():
    # dV_rest/d[K]o, for the Goldman form (closed form: V_T·P_K / numerator) and with Ca²⁺.
    def v_rest(k_out, z):
        p = jnp.array([1.0, 0.04, 0.45, 0.2])
        c_in = jnp.array([140.0, 12.0, 10.0, 1e-4])
        c_out = jnp.stack([k_out, 145.0, 110.0, 2.0])
        return membrax.ghk_voltage(p[: len(z)], c_in[: len(z)], c_out[: len(z)], z, 310.0)

    mono = jnp.array([1.0, 1.0, -1.0])
    mixed = jnp.array([1.0, 1.0, -1.0, 2.0])
    g = float(jax.grad(v_rest)(4.0, mono))
    assert g == pytest.approx(vt(310.0) * 1.0 / (4.0 + 0.04 * 145 + 0.45 * 10), rel=1e-12)
    for z in (mono, mixed):
        h = 1e-4
        fd = (float(v_rest(4.0 + h, z)) - float(v_rest(4.0 - h, z))) / (2 * h)
        assert float(jax.grad(v_rest)(4.0, z)) == pytest.approx(fd, rel=1e-8)
    # Temperature enters only through V_T: dV/dT = V/T.
    args = (
        jnp.array([1.0, 0.2]),
        jnp.array([140.0, 1e-4]),
        jnp.array([4.0, 2.0]),
        jnp.array([1.0, 2.0]),
    )
    v = float(membrax.ghk_voltage(*args, 300.0))
    assert float(jax.grad(membrax.ghk_voltage, argnums=4)(*args, 300.0)) == pytest.approx(
        v / 300.0, rel=1e-10
    )


def test_ghk_voltage_vmap_equals_loop():
    k_out = jnp.array([2.0, 4.0, 10.0, 40.0, 140.0])
    p = jnp.array([1.0, 0.04, 0.45, 0.1])
    c_in = jnp.array([140.0, 12.0, 10.0, 1e-4])
    z = jnp.array([1.0, 1.0, -1.0, 2.0])

    def f(k):
        return membrax.ghk_voltage(p, c_in, jnp.stack([k, 145.0, 110.0, 2.0]), z, 310.0)

    batched = jax.vmap(f)(k_out)
    loop = [float(f(k)) for k in k_out]
    np.testing.assert_allclose(np.asarray(batched), loop, rtol=1e-12)


def test_ghk_voltage_extreme_concentrations_finite():
    c = np.logspace(-9, 4, 8)
    for ci in c:
        for co in c:
            v = membrax.ghk_voltage([1.0, 0.1], [ci, 1.0], [co, 1.0], [2.0, -1.0], 310.0)
            assert np.isfinite(float(v))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"permeabilities": [0.0, 0.0]}, r"permeabilities are all zero"),
        ({"permeabilities": [1.0, -0.1]}, r"permeabilities must be >= 0 cm/s, got -0\.1 at"),
        ({"c_in": [140.0, 0.0]}, r"ghk_voltage: c_in must be > 0 mM, got 0\.0 at index 1"),
        ({"z": [1.0, 0.0]}, r"z must be nonzero.*neutral species"),
        ({"c_out": [5.0, 145.0, 1.0]}, r"per-ion arrays differ in length"),
        ({"c_out": [[5.0, 145.0]]}, r"c_out must be 1-D .* jax.vmap"),
        ({"temperature": [300.0, 310.0]}, r"temperature must be a scalar"),
        ({"temperature": float("nan")}, r"temperature must be finite"),
    ],
)
def test_ghk_voltage_bad_input(kwargs, match):
    args = {
        "permeabilities": [1.0, 0.05],
        "c_in": [140.0, 12.0],
        "c_out": [5.0, 145.0],
        "z": [1.0, 1.0],
        "temperature": 310.0,
    } | kwargs
    with pytest.raises(ValueError, match=match):
        membrax.ghk_voltage(**args)


def test_ghk_current_bad_input():
    with pytest.raises(ValueError, match=r"ghk_current: c_out must be >= 0 mM, got -1\.0"):
        membrax.ghk_current(0.0, 1.0, -1.0, 1e-6, 1, 300.0)
    with pytest.raises(ValueError, match=r"ghk_flux: permeability must be >= 0 cm/s"):
        membrax.ghk_flux(0.0, 1.0, 1.0, -1e-6, 1, 300.0)
    with pytest.raises(ValueError, match=r"ghk_current: argument shapes do not broadcast"):
        membrax.ghk_current(jnp.zeros(3), jnp.ones(2), 1.0, 1e-6, 1, 300.0)
    with pytest.raises(Exception, match=r"ghk_current: v must be finite"):
        jax.jit(membrax.ghk_current)(jnp.nan, 1.0, 1.0, 1e-6, 1.0, 300.0).block_until_ready()
