"""Donnan equilibrium of a compartment with impermeant fixed charge."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import optimize

import membrax
from membrax import constants

T = 310.15  # K
VT = constants.THERMAL_VOLTAGE_PER_KELVIN * T  # mV
NACL = (np.array([150.0, 150.0]), np.array([1.0, -1.0]))
# 140 mM NaCl + 2 mM CaCl2 + 5 mM KCl: Cl⁻ = 140 + 4 + 5 = 149 mM.
MIXED = (np.array([140.0, 2.0, 5.0, 149.0]), np.array([1.0, 2.0, 1.0, -1.0]))


def _closed_form_1to1(c, rho):
    # Electroneutrality c₊ − c₋ + ρ = 0 with the Gibbs–Donnan product c₊c₋ = c² (Donnan 1911).
    c_plus = (-rho + math.sqrt(rho**2 + 4 * c**2)) / 2
    c_minus = c**2 / c_plus
    return VT * math.log(c / c_plus), c_plus, c_minus


@pytest.mark.parametrize("rho", [-500.0, -50.0, -1.0, -1e-6, 1e-6, 1.0, 50.0, 500.0])
def test_1to1_salt_closed_form(rho):
    eq = membrax.donnan_equilibrium(*NACL, rho, T)
    v, c_plus, c_minus = _closed_form_1to1(150.0, rho)
    # V_T ln(c/c₊) loses digits to cancellation when |ρ| ≪ c; the same V as V_T asinh(ρ/2c)
    # does not, and is the reference for the potential.
    assert v == pytest.approx(VT * math.asinh(rho / 300.0), rel=1e-6)
    assert float(eq.potential) == pytest.approx(VT * math.asinh(rho / 300.0), rel=1e-13)
    np.testing.assert_allclose(np.asarray(eq.c_in), [c_plus, c_minus], rtol=1e-12)
    # Gibbs–Donnan product and the mobile-ion osmotic excess c₊ + c₋ − 2c = √(ρ²+4c²) − 2c.
    assert float(eq.c_in[0] * eq.c_in[1]) == pytest.approx(150.0**2, rel=1e-12)
    excess = math.sqrt(rho**2 + 4 * 150.0**2) - 2 * 150.0
    assert float(eq.osmotic_excess) == pytest.approx(excess, rel=1e-9, abs=1e-12)
    # Negative fixed charge makes the compartment negative and attracts cations.
    assert math.copysign(1.0, float(eq.potential)) == math.copysign(1.0, rho)


@pytest.mark.parametrize("rho", [-80.0, -10.0, 10.0, 80.0])
def test_mixed_valence_bath_against_brentq(rho):
    c, z = MIXED

    def net_charge(u):
        return float(np.sum(z * c * np.exp(-z * u)) + rho)

    u = optimize.brentq(net_charge, -20.0, 20.0, xtol=1e-15, rtol=1e-15)
    eq = membrax.donnan_equilibrium(c, z, rho, T)
    assert float(eq.potential) == pytest.approx(VT * u, rel=1e-11)
    np.testing.assert_allclose(np.asarray(eq.c_in), c * np.exp(-z * u), rtol=1e-11)
    # The compartment is electroneutral, and every ion sees the same Donnan ratio r^z.
    c_in = np.asarray(eq.c_in)
    assert np.sum(z * c_in) + rho == pytest.approx(0.0, abs=1e-10)
    ratio = c_in / c
    assert ratio[1] == pytest.approx(ratio[0] ** 2, rel=1e-12)  # Ca²⁺ vs Na⁺
    assert ratio[3] == pytest.approx(1 / ratio[0], rel=1e-12)  # Cl⁻ vs Na⁺
    assert float(eq.osmotic_excess) == pytest.approx(c_in.sum() - c.sum(), rel=1e-12)
    assert float(eq.osmotic_excess) > 0  # Donnan always draws in osmoles


def test_divalent_counter_ion_needs_bracket_widening():
    # CaCl2 bath (1 mM Ca²⁺, 2 mM Cl⁻) against 10 M of negative charge: the first bracket is
    # asinh(ρ/Σ|z|c) ± 1 = −8.5 ± 1, but the root is near −½ ln(ρ/2c_Ca) ≈ −4.26, so the
    # bracket must move; the root must still match brentq.
    c, z, rho = np.array([1.0, 2.0]), np.array([2.0, -1.0]), -1e4
    u = optimize.brentq(
        lambda u: float(np.sum(z * c * np.exp(-z * u)) + rho), -50, 50, xtol=1e-15, rtol=1e-15
    )
    eq = membrax.donnan_equilibrium(c, z, rho, T)
    assert float(eq.potential) == pytest.approx(VT * u, rel=1e-11)


def test_zero_fixed_charge_is_no_potential():
    for c, z in (NACL, MIXED):
        eq = membrax.donnan_equilibrium(c, z, 0.0, T)
        assert float(eq.potential) == 0.0
        np.testing.assert_array_equal(np.asarray(eq.c_in), c)
        assert float(eq.osmotic_excess) == 0.0


def test_gradients_match_closed_form_and_finite_differences():
    c, z = MIXED

    def potential(c_bath, rho, temperature):
        return membrax.donnan_equilibrium(c_bath, z, rho, temperature).potential

    g_c, g_rho, g_t = jax.grad(potential, argnums=(0, 1, 2))(jnp.asarray(c), -30.0, T)
    # Central differences in float64; the step 1e-4 leaves errors ~1e-9 relative. Only
    # electroneutral directions of c_bath are valid inputs, so we test along added KCl and
    # added CaCl2 (the gradient itself is defined in every direction).
    h = 1e-4
    for direction in (np.array([0.0, 0.0, 1.0, 1.0]), np.array([0.0, 1.0, 0.0, 2.0])):
        v_plus = float(potential(c + h * direction, -30.0, T))
        v_minus = float(potential(c - h * direction, -30.0, T))
        fd = (v_plus - v_minus) / (2 * h)
        assert float(g_c @ direction) == pytest.approx(fd, rel=1e-7)
    fd_rho = (float(potential(c, -30.0 + h, T)) - float(potential(c, -30.0 - h, T))) / (2 * h)
    assert float(g_rho) == pytest.approx(fd_rho, rel=1e-7)
    # u = V/V_T does not depend on T, so dV/dT = V/T exactly.
    assert float(g_t) == pytest.approx(float(potential(c, -30.0, T)) / T, rel=1e-12)

    # 1:1 salt: V = V_T asinh(ρ/2c), so dV/dρ = V_T / √(ρ² + 4c²) and, scaling the salt
    # (both c's together), dV/dc = −V_T ρ / (c √(ρ² + 4c²)).
    rho, c0 = -50.0, 150.0
    g_c, g_rho = jax.grad(
        lambda cb, r: membrax.donnan_equilibrium(cb, NACL[1], r, T).potential, argnums=(0, 1)
    )(jnp.array([c0, c0]), rho)
    root = math.sqrt(rho**2 + 4 * c0**2)
    assert float(g_rho) == pytest.approx(VT / root, rel=1e-12)
    assert float(g_c.sum()) == pytest.approx(-VT * rho / (c0 * root), rel=1e-12)


def test_gradient_of_concentrations_inside():
    c, z = MIXED

    def ca_in(rho):
        return membrax.donnan_equilibrium(c, z, rho, T).c_in[1]

    g = jax.grad(ca_in)(-30.0)
    h = 1e-4
    fd = (float(ca_in(-30.0 + h)) - float(ca_in(-30.0 - h))) / (2 * h)
    assert float(g) == pytest.approx(fd, rel=1e-7)


def test_vmap_and_jit_equal_loop():
    c, z = MIXED
    rhos = jnp.array([-200.0, -30.0, 0.0, 15.0, 120.0])
    vmapped = jax.vmap(lambda r: membrax.donnan_equilibrium(c, z, r, T))(rhos)
    jitted = jax.jit(membrax.donnan_equilibrium)(c, z, rhos[1], T)
    loop = [membrax.donnan_equilibrium(c, z, float(r), T) for r in rhos]
    for field in ("potential", "c_in", "osmotic_excess"):
        expected = np.stack([np.asarray(getattr(e, field)) for e in loop])
        np.testing.assert_allclose(
            np.asarray(getattr(vmapped, field)), expected, rtol=1e-13, atol=1e-13
        )
        np.testing.assert_allclose(
            np.asarray(getattr(jitted, field)), expected[1], rtol=1e-13, atol=1e-13
        )
    # A batch of different (electroneutral) baths.
    scales = jnp.array([0.1, 1.0, 3.0])
    batch = jax.vmap(lambda s: membrax.donnan_equilibrium(s * c, z, -30.0, T).potential)(scales)
    loop = [float(membrax.donnan_equilibrium(float(s) * c, z, -30.0, T).potential) for s in scales]
    np.testing.assert_allclose(np.asarray(batch), loop, rtol=1e-13)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (
            (np.array([150.0, 140.0]), NACL[1], -50.0, T),
            r"the bath must be electroneutral.*got Σ z·c_bath = 10\.0 mM",
        ),
        (
            (np.array([10.0]), np.array([-1.0]), -50.0, T),
            r"fixed_charge must be neutralizable by a mobile counter-ion",
        ),
        (
            (np.array([10.0]), np.array([1.0]), 50.0, T),
            r"fixed_charge must be neutralizable by a mobile counter-ion",
        ),
        ((np.array([150.0, 0.0]), NACL[1], -50.0, T), r"c_bath must be > 0 mM, got 0\.0"),
        ((*NACL, -50.0, 0.0), r"temperature must be > 0 K, got 0\.0"),
        ((*NACL, np.nan, T), r"fixed_charge must be finite, got nan"),
        ((NACL[0], np.array([1.0, 0.0]), -50.0, T), r"z must be nonzero"),
        (
            (NACL[0], np.array([1.0, -1.0, 1.0]), -50.0, T),
            r"per-ion arrays differ in length \(c_bath has 2, z has 3\)",
        ),
        ((*NACL, np.array([-50.0, -20.0]), T), r"fixed_charge must be a scalar"),
        ((np.array([[150.0, 150.0]]), NACL[1], -50.0, T), r"c_bath must be 1-D"),
    ],
)
def test_bad_input_raises(args, match):
    with pytest.raises(ValueError, match="donnan_equilibrium: " + match):
        membrax.donnan_equilibrium(*args)


def test_bad_input_under_jit():
    # Traced inputs cannot be checked eagerly; the checks run inside the compiled program.
    solve = jax.jit(membrax.donnan_equilibrium)
    with pytest.raises(Exception, match=r"fixed_charge must be neutralizable"):
        solve(jnp.array([10.0]), jnp.array([-1.0]), -50.0, T).potential.block_until_ready()
    with pytest.raises(Exception, match="donnan_equilibrium: c_bath must be > 0 mM"):
        solve(np.array([150.0, -1.0]), NACL[1], -50.0, T).potential.block_until_ready()
