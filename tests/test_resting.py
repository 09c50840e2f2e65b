"""Chord-conductance steady state and non-selective reversal potentials."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import membrax

# Exact SI products, typed in independently of membrax.constants.
R, F = 1.380649e-23 * 6.02214076e23, 1.602176634e-19 * 6.02214076e23


# jit and vmap may fuse or reorder the floating-point operations: equal to a few ulps.
RTOL = 1e-13


def vt(t):
    return 1e3 * R * t / F


def test_chord_two_and_three_conductances_by_hand():
    # Two conductances: (1·(-90) + 0.05·60)/1.05 = -87/1.05 = -82.857142... mV.
    v2 = float(membrax.chord_conductance_potential([1.0, 0.05], [-90.0, 60.0]))
    assert v2 == pytest.approx(-87.0 / 1.05, rel=1e-14)
    # Three (K, Na, Cl): (0.5·(-95) + 0.02·65 + 0.2·(-60))/0.72 = -58.2/0.72 = -80.8333... mV.
    v3 = float(membrax.chord_conductance_potential([0.5, 0.02, 0.2], [-95.0, 65.0, -60.0]))
    assert v3 == pytest.approx(-58.2 / 0.72, rel=1e-14)


def test_chord_only_potassium_gives_e_k():
    # Only g_K > 0: V = E_K exactly, whatever the other reversal potentials.
    e_k = membrax.nernst_potential(5.0, 140.0, 1, 310.0)
    e = jnp.stack([e_k, 55.0, -70.0])
    v = float(membrax.chord_conductance_potential([0.3, 0.0, 0.0], e))
    assert v == pytest.approx(float(e_k), rel=1e-15)


def test_chord_pump_current_shifts_by_minus_i_over_total_g():
    # Seed chapter (membrane potential): V = (Σ g_i E_i - I_pump)/Σ g_i; an outward pump current
    # hyperpolarises by I_pump/Σg: 0.5 µA/cm² over 0.72 mS/cm² is -0.6944 mV.
    g, e = [0.5, 0.02, 0.2], [-95.0, 65.0, -60.0]
    v0 = float(membrax.chord_conductance_potential(g, e))
    v1 = float(membrax.chord_conductance_potential(g, e, i_pump=0.5))
    assert v1 - v0 == pytest.approx(-0.5 / 0.72, rel=1e-12)
    # The net current at that V is zero: Σ g(V - E) + I_pump.
    assert float(np.dot(g, np.subtract(v1, e)) + 0.5) == pytest.approx(0.0, abs=1e-13)
    # Whole-cell units: 10 nS, 2 nS with a 20 pA pump: (10·(-90) + 2·50 - 20)/12 = -68.33 mV.
    assert float(
        membrax.chord_conductance_potential([10.0, 2.0], [-90.0, 50.0], i_pump=20.0)
    ) == pytest.approx(-820.0 / 12.0, rel=1e-14)


def test_chord_gradient_wrt_g_k_matches_closed_form_and_fd():
    # dV/dg_i = (E_i - V)/Σg.
    e = jnp.array([-95.0, 65.0, -60.0])

    def f(g_k):
        return membrax.chord_conductance_potential(jnp.stack([g_k, 0.02, 0.2]), e, i_pump=0.3)

    g_k = 0.5
    grad = float(jax.grad(f)(g_k))
    assert grad == pytest.approx((-95.0 - float(f(g_k))) / 0.72, rel=1e-12)
    h = 1e-5
    assert grad == pytest.approx(float((f(g_k + h) - f(g_k - h)) / (2 * h)), rel=1e-8)


def test_chord_gradient_wrt_external_potassium_through_nernst():
    # dV/d[K]o = (g_K/Σg)·dE_K/d[K]o = (g_K/Σg)·V_T/[K]o, through nernst_potential.
    t = 310.0
    g = jnp.array([0.5, 0.02, 0.2])

    def f(k_out):
        e = jnp.stack(
            [
                membrax.nernst_potential(k_out, 140.0, 1, t),
                membrax.nernst_potential(145.0, 12.0, 1, t),
                membrax.nernst_potential(110.0, 10.0, -1, t),
            ]
        )
        return membrax.chord_conductance_potential(g, e, i_pump=0.4)

    k_out = 4.0
    grad = float(jax.grad(f)(k_out))
    assert grad == pytest.approx(0.5 / 0.72 * vt(t) / k_out, rel=1e-12)
    h = 1e-4
    assert grad == pytest.approx(float((f(k_out + h) - f(k_out - h)) / (2 * h)), rel=1e-8)


def test_nonselective_reversal_through_nernst():
    # Seed chapter (ion channels): E_rev = (g_Na E_Na + g_K E_K)/(g_Na + g_K) for the nicotinic
    # AChR. Equal conductances, Na⁺ 12/145 mM, K⁺ 140/5 mM at 310 K: the mean of E_Na, E_K.
    args = ([1.0, 1.0], [12.0, 140.0], [145.0, 5.0], [1, 1], 310.0)
    e_rev = float(membrax.nonselective_reversal_potential(*args))
    e_na = vt(310.0) * np.log(145.0 / 12.0)
    e_k = vt(310.0) * np.log(5.0 / 140.0)
    assert e_rev == pytest.approx((e_na + e_k) / 2, rel=1e-12)
    assert e_rev == pytest.approx(-11.22, abs=0.01)  # (66.56 - 89.00)/2 by hand
    # g_K > g_Na puts it nearer E_K (seed); it equals the chord potential of the Nernst
    # potentials, and relative conductances are scale-free.
    skewed = float(membrax.nonselective_reversal_potential([1.0, 3.0], *args[1:]))
    assert skewed == pytest.approx((e_na + 3 * e_k) / 4, rel=1e-12)
    assert abs(skewed - e_k) < abs(skewed - e_na)
    scaled = float(membrax.nonselective_reversal_potential([2e-3, 6e-3], *args[1:]))
    assert scaled == pytest.approx(skewed, rel=1e-14)


def test_nonselective_divalent_and_anion():
    # Na⁺, Ca²⁺ and Cl⁻ with 1 : 0.1 : 0.5: each E_i from its own valence.
    t = 300.0
    g = np.array([1.0, 0.1, 0.5])
    e = np.array(
        [vt(t) * np.log(145 / 12), vt(t) / 2 * np.log(2 / 1e-4), -vt(t) * np.log(110 / 10)]
    )
    got = membrax.nonselective_reversal_potential(
        g, [12.0, 1e-4, 10.0], [145.0, 2.0, 110.0], [1, 2, -1], t
    )
    assert float(got) == pytest.approx(np.dot(g, e) / g.sum(), rel=1e-12)


def test_nonselective_gradient_matches_finite_differences():
    def f(k_out):
        return membrax.nonselective_reversal_potential(
            [1.0, 1.2], [12.0, 140.0], jnp.stack([145.0, k_out]), [1, 1], 310.0
        )

    grad = float(jax.grad(f)(5.0))
    assert grad == pytest.approx(1.2 / 2.2 * vt(310.0) / 5.0, rel=1e-12)
    h = 1e-4
    assert grad == pytest.approx(float((f(5.0 + h) - f(5.0 - h)) / (2 * h)), rel=1e-8)


def test_vmap_equals_loop_and_jit_equals_eager():
    e = jnp.array([-95.0, 65.0, -60.0])
    gs = jnp.array([[0.5, 0.02, 0.2], [1.0, 0.0, 0.1], [0.1, 0.3, 0.0], [0.2, 0.2, 0.2]])
    pumps = jnp.array([0.0, 0.5, -0.2, 1.0])

    def f(g, e, i):
        return membrax.chord_conductance_potential(g, e, i_pump=i)

    batched = jax.vmap(f, in_axes=(0, None, 0))(gs, e, pumps)
    looped = jnp.stack([f(g, e, i) for g, i in zip(gs, pumps, strict=True)])
    np.testing.assert_allclose(batched, looped, rtol=RTOL)
    np.testing.assert_allclose(jax.jit(f)(gs[0], e, 0.3), f(gs[0], e, 0.3), rtol=RTOL)

    def h(k_out):
        return membrax.nonselective_reversal_potential(
            [1.0, 1.0], [12.0, 140.0], jnp.stack([145.0, k_out]), [1, 1], 310.0
        )

    ks = jnp.linspace(2.0, 20.0, 5)
    np.testing.assert_allclose(jax.vmap(h)(ks), jnp.stack([h(k) for k in ks]), rtol=RTOL)
    np.testing.assert_allclose(jax.jit(h)(5.0), h(5.0), rtol=RTOL)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"g": [0.0, 0.0]}, "g are all zero"),
        ({"g": [1.0, -0.1]}, "g must be >= 0"),
        ({"g": [1.0, 0.1, 0.2]}, r"g has 3, e_rev has 2"),
        ({"g": [1.0, float("nan")]}, "g must be finite"),
        ({"e_rev": [-90.0, float("nan")]}, "e_rev must be finite"),
        ({"i_pump": float("inf")}, "i_pump must be finite"),
        ({"i_pump": [0.1, 0.2]}, "i_pump must be a scalar"),
        ({"g": [[1.0, 0.1]]}, "g must be 1-D"),
    ],
)
def test_chord_bad_input(kwargs, match):
    args = {"g": [1.0, 0.05], "e_rev": [-90.0, 60.0]} | kwargs
    i_pump = args.pop("i_pump", 0.0)
    with pytest.raises(ValueError, match=match):
        membrax.chord_conductance_potential(args["g"], args["e_rev"], i_pump=i_pump)


def test_chord_all_zero_under_jit():
    f = jax.jit(lambda g: membrax.chord_conductance_potential(g, jnp.array([-90.0, 60.0])))
    with pytest.raises(Exception, match="g are all zero"):
        jax.block_until_ready(f(jnp.zeros(2)))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"relative_conductances": [0.0, 0.0]}, "relative_conductances are all zero"),
        ({"relative_conductances": [1.0, -1.0]}, "relative_conductances must be >= 0"),
        ({"c_in": [12.0, 0.0]}, "c_in must be > 0 mM"),
        ({"z": [1, 0]}, "z must be nonzero"),
        ({"c_out": [145.0, 5.0, 2.0]}, r"c_out has 3"),
        ({"temperature": [300.0, 310.0]}, "temperature must be a scalar"),
        ({"temperature": float("nan")}, "temperature must be finite"),
    ],
)
def test_nonselective_bad_input(kwargs, match):
    args = {
        "relative_conductances": [1.0, 1.0],
        "c_in": [12.0, 140.0],
        "c_out": [145.0, 5.0],
        "z": [1, 1],
        "temperature": 310.0,
    } | kwargs
    with pytest.raises(ValueError, match=match):
        membrax.nonselective_reversal_potential(**args)
