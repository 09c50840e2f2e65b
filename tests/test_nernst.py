"""Nernst potential, thermal voltage, electrochemical potential difference, driving force."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import membrax
from membrax import constants

# Exact SI products, typed in independently of membrax.constants.
R, F = 1.380649e-23 * 6.02214076e23, 1.602176634e-19 * 6.02214076e23


def fd(f, x, h):
    return (f(x + h) - f(x - h)) / (2 * h)


def test_thermal_voltage():
    # RT/F at 25 °C = 25.693 mV (textbook value); linear in T.
    assert float(membrax.thermal_voltage(298.15)) == pytest.approx(25.693, abs=5e-4)
    assert float(membrax.thermal_voltage(310.0)) == pytest.approx(1e3 * R * 310 / F, rel=1e-9)


def test_seed_potassium_examples():
    # Seed chapter (membrane potential): E_K ≈ -89 mV for 140/5 mM at 37 °C.
    assert float(membrax.nernst_potential(5.0, 140.0, 1, 310.15)) == pytest.approx(-89.0, abs=0.1)
    # Seed chapter (driving forces): E_K ≈ -95 mV for 140/4 mM at 310 K.
    assert float(membrax.nernst_potential(4.0, 140.0, 1, 310.0)) == pytest.approx(-95.0, abs=0.05)


def test_seed_activity_example():
    # Seed chapter (ion channels and potentials): X⁺ 150/15 mM at 310 K gives +61.5 mV with
    # concentrations and ≈ +64.0 mV with γ_out = 0.80, γ_in = 0.73 (values quoted to 0.1 mV).
    ideal = float(membrax.nernst_potential(150.0, 15.0, 1, 310.0))
    real = float(membrax.nernst_potential(150.0, 15.0, 1, 310.0, gamma_out=0.80, gamma_in=0.73))
    assert ideal == pytest.approx(61.5, abs=0.05)
    assert real == pytest.approx(64.0, abs=0.05)
    # The shift is exactly V_T·ln(0.80/0.73).
    assert real - ideal == pytest.approx(1e3 * R * 310 / F * np.log(0.80 / 0.73), rel=1e-10)


def test_nernst_valence_and_sign():
    # Ca²⁺ 2 mM / 100 nM at 37 °C: +132.3 mV by hand; Cl⁻ 110/10 mM: -64.1 mV.
    vt = 1e3 * R * 310.15 / F
    assert float(membrax.nernst_potential(2.0, 1e-4, 2, 310.15)) == pytest.approx(
        vt / 2 * np.log(2e4), rel=1e-10
    )
    assert float(membrax.nernst_potential(110.0, 10.0, -1, 310.15)) == pytest.approx(
        -vt * np.log(11.0), rel=1e-10
    )


def test_nernst_gradient_closed_form():
    # dE/dc_out = RT/(z F c_out), dE/dT = E/T.
    c_out, c_in, z, t = 5.0, 140.0, 2.0, 300.0
    g = jax.grad(membrax.nernst_potential, argnums=(0, 1, 3))(c_out, c_in, z, t)
    vt = 1e3 * R * t / F
    assert float(g[0]) == pytest.approx(vt / (z * c_out), rel=1e-12)
    assert float(g[1]) == pytest.approx(-vt / (z * c_in), rel=1e-12)
    e = float(membrax.nernst_potential(c_out, c_in, z, t))
    assert float(g[2]) == pytest.approx(e / t, rel=1e-12)
    h = 1e-5
    assert float(g[0]) == pytest.approx(
        fd(lambda c: float(membrax.nernst_potential(c, c_in, z, t)), c_out, h), rel=1e-8
    )


def test_nernst_extreme_concentrations_are_finite():
    c = jnp.logspace(-9, 4, 27)
    e = membrax.nernst_potential(c[:, None], c[None, :], 1, 310.0)
    assert bool(jnp.all(jnp.isfinite(e)))
    grads = jax.vmap(jax.grad(membrax.nernst_potential), in_axes=(0, None, None, None))(
        c, 1.0, 1.0, 310.0
    )
    assert bool(jnp.all(jnp.isfinite(grads)))


def test_nernst_vmap_jit_equal_loop():
    c_out = jnp.array([2.0, 5.0, 20.0, 145.0])
    c_in = jnp.array([140.0, 140.0, 10.0, 12.0])
    z = jnp.array([1.0, 1.0, -1.0, 1.0])
    batched = jax.vmap(membrax.nernst_potential, in_axes=(0, 0, 0, None))(c_out, c_in, z, 310.0)
    jitted = jax.jit(membrax.nernst_potential)(c_out, c_in, z, 310.0)
    loop = [float(membrax.nernst_potential(a, b, c, 310.0)) for a, b, c in zip(c_out, c_in, z)]
    np.testing.assert_allclose(np.asarray(batched), loop, rtol=1e-15)
    np.testing.assert_allclose(np.asarray(jitted), loop, rtol=1e-14)


def test_seed_sodium_electrochemical_potential():
    # Seed chapter (pumps and transporters): Na⁺ influx at 145/15 mM, -65 mV, 310 K:
    # RT ln(15/145) + F(-0.065 V) ≈ -5.86 - 6.27 = -12.13 kJ/mol (the seed rounds each term).
    dmu = float(membrax.electrochemical_potential_difference(15.0, 145.0, 1, -65.0, 310.0))
    assert dmu / 1e3 == pytest.approx(-12.13, abs=0.015)
    assert dmu == pytest.approx(R * 310 * np.log(15 / 145) - F * 0.065, rel=1e-9)


def test_electrochemical_potential_is_zf_times_driving_force():
    c_in, c_out, z, v, t = 0.1e-3, 1.8, 2.0, -40.0, 295.0
    dmu = float(membrax.electrochemical_potential_difference(c_in, c_out, z, v, t))
    df = float(membrax.driving_force(v, c_out, c_in, z, t))
    assert dmu == pytest.approx(z * constants.FARADAY_PER_MV * df, rel=1e-12)
    # At the Nernst potential there is no driving force.
    e = membrax.nernst_potential(c_out, c_in, z, t)
    assert float(membrax.electrochemical_potential_difference(c_in, c_out, z, e, t)) == (
        pytest.approx(0.0, abs=1e-9)
    )
    # A neutral solute: only the chemical term.
    assert float(membrax.electrochemical_potential_difference(10.0, 1.0, 0, -65.0, 310.0)) == (
        pytest.approx(R * 310 * np.log(10.0), rel=1e-9)
    )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"c_out": -5.0}, r"nernst_potential: c_out must be > 0 mM, got -5\.0"),
        ({"c_in": 0.0}, r"c_in must be > 0 mM, got 0\.0"),
        ({"temperature": -1.0}, r"temperature must be > 0 K"),
        ({"temperature": 0.0}, r"temperature must be > 0 K"),
        ({"z": 0}, r"z must be nonzero, got 0\.0"),
        ({"c_in": [140.0, float("nan")]}, r"c_in must be finite, got nan at index 1"),
        ({"gamma_out": -0.8}, r"gamma_out must be > 0"),
        ({"c_out": [1.0, 2.0], "c_in": [1.0, 2.0, 3.0]}, r"shapes do not broadcast: c_out \(2,\)"),
    ],
)
def test_nernst_bad_input(kwargs, match):
    args = {"c_out": 5.0, "c_in": 140.0, "z": 1, "temperature": 310.0} | kwargs
    gammas = {k: args.pop(k) for k in ("gamma_out", "gamma_in") if k in args}
    with pytest.raises(ValueError, match=match):
        membrax.nernst_potential(**args, **gammas)


def test_nernst_bad_input_under_jit():
    with pytest.raises(Exception, match="c_in must be > 0 mM"):
        jax.jit(membrax.nernst_potential)(5.0, -1.0, 1.0, 310.0).block_until_ready()


def test_driving_force_bad_input_names_the_function():
    with pytest.raises(ValueError, match=r"driving_force: c_out must be > 0 mM"):
        membrax.driving_force(-65.0, -5.0, 140.0, 1, 310.0)
    with pytest.raises(ValueError, match=r"driving_force: v must be finite"):
        membrax.driving_force(float("inf"), 5.0, 140.0, 1, 310.0)


def test_checks_accept_concrete_arrays_closed_over_inside_jit():
    # A concrete JAX array closed over by a jitted function is mixed with traced arguments;
    # validation must neither crash on it (TracerArrayConversionError) nor skip the tracers.
    z = jnp.array(1.0)
    f = jax.jit(lambda v: membrax.electrochemical_potential_difference(15.0, 145.0, z, v, 310.0))
    assert float(f(-65.0)) == pytest.approx(R * 310 * np.log(15 / 145) - F * 0.065, rel=1e-12)
    g = jax.jit(lambda c: membrax.nernst_potential(c, jnp.array(140.0), z, 310.0))
    with pytest.raises(Exception, match="c_out must be > 0 mM"):
        g(-1.0).block_until_ready()
