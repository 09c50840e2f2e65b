"""physics._block: Woodhull voltage-dependent block."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from membrax import physics

R, F = 1.380649e-23 * 6.02214076e23, 1.602176634e-19 * 6.02214076e23
T = 308.15
VT = 1e3 * R * T / F
V = np.linspace(-120.0, 60.0, 10)

# Kir2.1-like block (illustrative): internal spermine (z = 4, δ = 0.8, K_d(0) = 0.5 µM) and
# Mg²⁺ (z = 2, δ = 0.5, K_d(0) = 2 mM).
SPM, MG = (1e-2, 5e-4, 4.0, 0.8), (1.0, 2.0, 2.0, 0.5)  # (c mM, K_d(0) mM, z, δ)


def test_dissociation_constant_closed_form():
    # K_d(V) = K_d(0) e^{−zδFV/RT} for an internal blocker (Woodhull 1973), e^{+zδFV/RT} from
    # outside.
    kd = physics.woodhull_dissociation_constant(V, 0.5e-3, 4.0, 0.8, T)
    np.testing.assert_allclose(kd, 0.5e-3 * np.exp(-4 * 0.8 * V / VT), rtol=1e-13)
    kd_out = physics.woodhull_dissociation_constant(V, 3.57, 2.0, 0.4, T, from_outside=True)
    np.testing.assert_allclose(kd_out, 3.57 * np.exp(2 * 0.4 * V / VT), rtol=1e-13)
    # An e-fold per V_T/(zδ) mV: 26.55/3.2 = 8.3 mV for the spermine site at 35 °C.
    assert float(kd[0] / kd[1]) == pytest.approx(np.exp(3.2 * 20 / VT), rel=1e-13)


def test_nmda_magnesium_block_is_jahr_stevens():
    # Jahr & Stevens (1990): g(V) = 1/(1 + [Mg]/3.57 mM · e^{−0.062 V}) is Woodhull block by
    # external Mg²⁺ with K_d(0) = 3.57 mM and zδF/RT = 0.062/mV.
    delta = 0.062 * VT / 2.0  # ≈ 0.82 at 35 °C
    for mg in (0.1, 1.0, 2.0):
        f = physics.woodhull_unblocked_fraction(V, mg, 3.57, 2.0, delta, T, from_outside=True)
        np.testing.assert_allclose(f, 1 / (1 + mg / 3.57 * np.exp(-0.062 * V)), rtol=1e-13)


def test_kir_two_blockers_one_site_or_two_sites():
    c = np.array([SPM[0], MG[0]])
    kd0 = np.array([SPM[1], MG[1]])
    z = np.array([SPM[2], MG[2]])
    delta = np.array([SPM[3], MG[3]])
    r_spm = SPM[0] / (SPM[1] * np.exp(-SPM[2] * SPM[3] * V / VT))
    r_mg = MG[0] / (MG[1] * np.exp(-MG[2] * MG[3] * V / VT))
    # Competing for one site: f = 1/(1 + Σ c/K_d(V)).
    competitive = physics.woodhull_unblocked_fraction(V, c, kd0, z, delta, T)
    np.testing.assert_allclose(competitive, 1 / (1 + r_spm + r_mg), rtol=1e-13)
    # Independent sites: f = Π 1/(1 + c/K_d(V)).
    independent = physics.woodhull_unblocked_fraction(V, c, kd0, z, delta, T, sites=[0, 1])
    np.testing.assert_allclose(independent, 1 / ((1 + r_spm) * (1 + r_mg)), rtol=1e-13)
    # Inward rectification of an ohmic K⁺ current (E_K = −90 mV): inward current at −120 mV
    # nearly unblocked, outward current at 0 mV almost abolished.
    f = dict(zip(V.tolist(), np.asarray(competitive)))
    assert f[-120.0] > 0.95
    assert f[0.0] < 0.05


def test_gradients_vmap_and_jit():
    def f(params, v):
        return physics.woodhull_unblocked_fraction(
            v,
            params["c"],
            params["kd0"],
            jnp.array([4.0, 2.0]),
            params["delta"],
            T,
            sites=[0, 1],
        )

    params = {
        "c": jnp.array([1e-2, 1.0]),
        "kd0": jnp.array([5e-4, 2.0]),
        "delta": jnp.array([0.8, 0.5]),
    }
    v0 = -30.0
    grads = jax.grad(f)(params, v0)
    for name, value in params.items():
        for k in range(2):
            h = 1e-6 * float(value[k])
            up = dict(params, **{name: value.at[k].add(h)})
            down = dict(params, **{name: value.at[k].add(-h)})
            fd = (f(up, v0) - f(down, v0)) / (2 * h)
            # Central differences, relative step 1e-6: O(1e-12) truncation, 1e-10 rounding.
            assert float(grads[name][k]) == pytest.approx(float(fd), rel=1e-7)
    # vmap over blocker concentrations: a block surface (c × V) in one call.
    cs = jnp.array([[1e-3, 0.5], [1e-2, 1.0], [1e-1, 2.0]])
    surface = jax.vmap(lambda c: f(dict(params, c=c), jnp.asarray(V)))(cs)
    looped = np.stack([np.asarray(f(dict(params, c=c), jnp.asarray(V))) for c in cs])
    np.testing.assert_allclose(surface, looped, rtol=1e-14)  # a few ulps: op reordering
    np.testing.assert_allclose(jax.jit(f)(params, v0), f(params, v0), rtol=1e-14)


def test_block_bad_input():
    with pytest.raises(
        ValueError, match=r"woodhull_unblocked_fraction: kd_zero must be > 0 mM, got 0\.0"
    ):
        physics.woodhull_unblocked_fraction(0.0, 1.0, 0.0, 2.0, 0.5, T)
    with pytest.raises(ValueError, match="c_blocker must be >= 0 mM"):
        physics.woodhull_unblocked_fraction(0.0, -1.0, 1.0, 2.0, 0.5, T)
    with pytest.raises(ValueError, match="z must be nonzero"):
        physics.woodhull_dissociation_constant(0.0, 1.0, 0.0, 0.5, T)
    with pytest.raises(ValueError, match="sites must hold one whole number >= 0 per blocker"):
        physics.woodhull_unblocked_fraction(0.0, [1.0, 1.0], 1.0, 2.0, 0.5, T, sites=[0])
    with pytest.raises(ValueError, match="per-ion arrays differ in length"):
        physics.woodhull_unblocked_fraction(0.0, [1.0, 1.0], [1.0, 2.0, 3.0], 2.0, 0.5, T)
    with pytest.raises(Exception, match="woodhull_unblocked_fraction: kd_zero must be > 0 mM"):
        jax.block_until_ready(
            jax.jit(lambda k: physics.woodhull_unblocked_fraction(0.0, 1.0, k, 2.0, 0.5, T))(-1.0)
        )
