"""physics._pumps and models._transporters: thermodynamically consistent transporter cycles."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import membrax
from membrax import physics
from membrax.models import (
    CycleTransporter,
    alternating_access_transporter,
    kcc2,
    nkcc1,
    sodium_calcium_exchanger,
    sodium_potassium_atpase,
)

R, F = 1.380649e-23 * 6.02214076e23, 1.602176634e-19 * 6.02214076e23
E_FC = 1.602176634e-19 * 1e15  # e in fC (cycles/ms × fC = pA)
T = 310.0
VT = 1e3 * R * T / F


def ring(n):
    return np.arange(n), (np.arange(n) + 1) % n


def test_cycle_flux_matches_markov_steady_state():
    # Independent check: the steady state of the ring's Q matrix (dense solve) gives the net
    # flux p₀a₀ − p₁b₀ and the occupancies; King–Altman agrees to rounding.
    rng = np.random.default_rng(0)
    for n in (3, 6):
        a = rng.uniform(0.1, 50.0, n)
        b = rng.uniform(0.1, 50.0, n)
        p = physics.markov_steady_state(physics.transition_matrix(n, *ring(n), a, b))
        assert float(physics.cycle_flux(a, b)) == pytest.approx(
            float(p[0] * a[0] - p[1] * b[0]), rel=1e-11
        )
        np.testing.assert_allclose(physics.cycle_occupancy(a, b), p, rtol=1e-12)
    # Two states by hand (Hill 1989): J = (a0a1 − b0b1)/(a0 + a1 + b0 + b1).
    a, b = np.array([3.0, 5.0]), np.array([2.0, 0.5])
    assert float(physics.cycle_flux(a, b)) == pytest.approx((15 - 1) / 10.5, rel=1e-14)
    # Irreversible sequential cycle: J → 1/Σ(1/a_k) as the backward rates vanish.
    a = np.array([1.0, 4.0, 0.5, 10.0, 2.0, 3.0])
    j = physics.cycle_flux(a, np.full(6, 1e-12))
    assert float(j) == pytest.approx(1 / np.sum(1 / a), rel=1e-10)


NCX = {"c_in": [10.0, 1e-4], "c_out": [140.0, 2.0], "z": [1.0, 2.0]}


def ncx_structure():
    # 3Na:1Ca exchange, consecutive: release Ca out, bind 3 Na out, translocate (−1),
    # release 3 Na in, bind Ca in, translocate (0).
    uptake_in = [[0, 0], [0, 0], [0, 0], [-3, 0], [0, 1], [0, 0]]
    uptake_out = [[0, -1], [3, 0], [0, 0], [0, 0], [0, 0], [0, 0]]
    charges = [0.0, 0.0, -1.0, 0.0, 0.0, 0.0]
    return uptake_in, uptake_out, charges


def test_ncx_flux_vanishes_at_three_e_na_minus_two_e_ca():
    uptake_in, uptake_out, charges = ncx_structure()
    forward, backward = [50.0, 1e-3, 1.0, 50.0, 1e3, 1.0], [1e3, 50.0, 1.0, 1e-3, 50.0]
    e_na = VT * np.log(140.0 / 10.0)
    e_ca = VT / 2 * np.log(2.0 / 1e-4)
    v_rev = 3 * e_na - 2 * e_ca  # Blaustein & Lederer (1999): ≈ −53.06 mV here

    def turnover(v, **kw):
        return physics.transporter_turnover(
            v,
            NCX["c_in"],
            NCX["c_out"],
            NCX["z"],
            T,
            forward,
            backward,
            uptake_in,
            uptake_out,
            charges,
            **kw,
        )

    a, b = physics.transporter_cycle_rates(
        v_rev,
        NCX["c_in"],
        NCX["c_out"],
        NCX["z"],
        T,
        forward,
        backward,
        uptake_in,
        uptake_out,
        charges,
    )
    one_way = float(physics.cycle_occupancy(a, b)[0] * a[0])
    assert abs(float(turnover(v_rev))) <= 1e-12 * one_way
    # Forward (Ca²⁺ extrusion) below V_rev, reverse mode above.
    assert float(turnover(v_rev - 20.0)) > 0 > float(turnover(v_rev + 20.0))
    # Microscopic reversibility at any V: Πa/Πb = e^{−ΔG/RT} with ΔG of transport_free_energy.
    for v in (-100.0, -20.0, 30.0):
        a, b = physics.transporter_cycle_rates(
            v,
            NCX["c_in"],
            NCX["c_out"],
            NCX["z"],
            T,
            forward,
            backward,
            uptake_in,
            uptake_out,
            charges,
            load=0.3,
        )
        dg = membrax.transport_free_energy([-3, 1], NCX["c_in"], NCX["c_out"], NCX["z"], v, T)
        ratio = float(jnp.sum(jnp.log(a)) - jnp.sum(jnp.log(b)))
        assert ratio == pytest.approx(-float(dg) / (R * T), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize(
    "make", [sodium_potassium_atpase, sodium_calcium_exchanger], ids=lambda f: f.__name__
)
def test_electrogenic_transporters_reverse_at_the_thermodynamic_potential(make):
    t = make()
    v_rev = t.reversal_potential()
    n = t.stoichiometry.tolist()
    expected = membrax.transporter_reversal_potential(
        n, t.c_in, t.c_out, t.z, T, delta_g_reaction=t.delta_g_reaction
    )
    assert float(v_rev) == pytest.approx(float(expected), rel=1e-12)
    one_way = float(t.occupancy(v_rev)[0]) * float(jnp.exp(t._log_rates(v_rev)[0][0]))
    assert abs(float(t.turnover(v_rev))) <= 1e-12 * one_way
    assert abs(float(t.free_energy(v_rev))) < 1e-9  # J/mol, of terms ~ 1e4–1e5


def test_sodium_potassium_atpase_sign_and_magnitude():
    pump = sodium_potassium_atpase(n_transporters=1e6)
    # Reversal at 3E_Na − 2E_K + ΔG_ATP/F (Gadsby 2009): ≈ −158.4 mV.
    e_na, e_k = VT * np.log(145.0 / 15.0), VT * np.log(5.0 / 140.0)
    assert float(pump.reversal_potential()) == pytest.approx(
        3 * e_na - 2 * e_k - 50e3 / F * 1e3, rel=1e-12
    )
    v = jnp.array([-120.0, -65.0, 0.0])
    j = pump.turnover(v)
    # Forward (outward current) at physiological potentials, ≈ 25 cycles/s at −65 mV, rising
    # with depolarisation (Gadsby 2009: tens of cycles per second).
    assert np.all(np.asarray(j) > 0)
    assert float(j[1]) * 1e3 == pytest.approx(24.9, abs=0.1)
    assert float(j[0]) < float(j[1]) < float(j[2])
    # I = q e N J with q = +1: pA for a count of pumps.
    np.testing.assert_allclose(pump.current(v), E_FC * 1e6 * np.asarray(j), rtol=1e-14)
    np.testing.assert_allclose(
        pump.ion_fluxes(v), 1e6 * np.asarray(j)[:, None] * np.array([3.0, -2.0]), rtol=1e-14
    )
    # Without ATP the same gradients drive it backward (ΔG = +41 kJ/mol): inward current.
    no_atp = eqx.tree_at(lambda p: p.delta_g_reaction, pump, jnp.asarray(0.0))
    assert float(no_atp.current(-65.0)) < 0


def test_ncx_modes_and_current_sign():
    ncx = sodium_calcium_exchanger()
    v_rev = float(ncx.reversal_potential())
    assert v_rev == pytest.approx(
        -53.06, abs=0.01
    )  # 3·70.50 − 2·132.28 (Na 10/140, Ca 0.1 µM/2 mM)
    # q = −1: forward mode (Na⁺ in, Ca²⁺ out) below V_rev carries inward current.
    assert float(ncx.current(v_rev - 30.0)) < 0 < float(ncx.current(v_rev + 30.0))
    assert float(ncx.ion_fluxes(v_rev - 30.0)[1]) > 0  # Ca²⁺ extruded


@pytest.mark.parametrize(
    ("make", "c_in", "c_out"),
    [
        # KCC2 at equilibrium: [K]i[Cl]i = [K]o[Cl]o (140·6 = 5·168).
        (kcc2, (140.0, 6.0), (5.0, 168.0)),
        # NKCC1 at equilibrium: [Na][K][Cl]² equal on both sides.
        (nkcc1, (15.0, 140.0, 30.0), (150.0, 14.0, 30.0)),
    ],
    ids=["kcc2", "nkcc1"],
)
def test_electroneutral_transporters(make, c_in, c_out):
    t = make()
    v = jnp.array([-100.0, -65.0, 40.0])
    # No current at any V, a V-independent flux (no step moves charge).
    np.testing.assert_array_equal(t.current(v), 0.0)
    j = t.turnover(v)
    assert float(j[0]) != 0.0
    np.testing.assert_allclose(j, j[0], rtol=1e-13)
    # Exactly zero net flux at transporter equilibrium.
    eq = eqx.tree_at(lambda m: (m.c_in, m.c_out), t, (jnp.asarray(c_in), jnp.asarray(c_out)))
    assert float(eq.free_energy(-65.0)) == pytest.approx(0.0, abs=1e-9)
    assert abs(float(eq.turnover(-65.0))) <= 1e-12 * abs(float(j[0]))
    with pytest.raises(ValueError, match="electroneutral"):
        t.reversal_potential()


def test_pump_current_in_chord_conductance_resting_potential():
    # Density: 1e11 pumps/cm² (1000/µm²) × 1e-6 → µA/cm², with g in mS/cm². Iterate the
    # chord-conductance equation with the pump current at the current V to self-consistency,
    # then check Kirchhoff: Σ g(V − E) + I_pump(V) = 0.
    pump = sodium_potassium_atpase(n_transporters=1e11 * 1e-6)
    g = jnp.array([0.5, 0.02])
    e = jnp.array([VT * np.log(5 / 140), VT * np.log(145 / 15)])
    v = membrax.chord_conductance_potential(g, e)
    for _ in range(30):
        v = membrax.chord_conductance_potential(g, e, i_pump=pump.current(v))
    residual = jnp.sum(g * (v - e)) + pump.current(v)
    assert abs(float(residual)) < 1e-10
    # The outward pump current hyperpolarises: by I/Σg ≈ 0.4/0.52 mV.
    v0 = float(membrax.chord_conductance_potential(g, e))
    assert float(v) < v0
    assert v0 - float(v) == pytest.approx(float(pump.current(v)) / 0.52, rel=1e-10)


def test_gradients_vmap_jit_of_the_transporter():
    ncx = sodium_calcium_exchanger(n_transporters=1e3)

    def current(m, v):
        return m.current(v)

    grads = eqx.filter_grad(current)(ncx, -70.0)
    for name, idx in (("forward", 2), ("backward", 1), ("c_in", 0), ("c_out", 1)):
        value = getattr(ncx, name)
        h = 1e-6 * float(value[idx])
        where = lambda m, name=name: getattr(m, name)  # noqa: E731
        up = eqx.tree_at(where, ncx, value.at[idx].add(h))
        down = eqx.tree_at(where, ncx, value.at[idx].add(-h))
        fd = (current(up, -70.0) - current(down, -70.0)) / (2 * h)
        # Central differences at relative step 1e-6: truncation ~1e-12, rounding ~1e-10.
        assert float(getattr(grads, name)[idx]) == pytest.approx(float(fd), rel=1e-6)
    # d I / d V against central differences.
    dv = jax.grad(lambda v: ncx.current(v))(-70.0)
    fd = (ncx.current(-70.0 + 1e-4) - ncx.current(-70.0 - 1e-4)) / 2e-4
    assert float(dv) == pytest.approx(float(fd), rel=1e-6)
    # An I–V–[Ca]o surface in one call, and jit invariance.
    v = jnp.linspace(-120.0, 40.0, 5)
    ca_out = jnp.array([0.5, 1.0, 2.0])

    def iv(ca):
        m = eqx.tree_at(lambda m: m.c_out, ncx, ncx.c_out.at[1].set(ca))
        return m.current(v)

    # vmap and jit together against a loop of eager calls (op reordering: a few ulps).
    surface = jax.jit(jax.vmap(iv))(ca_out)
    looped = np.stack([np.asarray(iv(c)) for c in ca_out])
    np.testing.assert_allclose(surface, looped, rtol=1e-12, atol=1e-18)


def test_generic_symporter_and_physics_function_agree():
    # A 2Na⁺:glucose symporter (inward, q = −2) built generically, against the physics function.
    t = alternating_access_transporter(
        [-2, -1],
        [1.0, 0.0],
        [15.0, 5.0],
        [145.0, 0.5],
        T,
        kd_in=[50.0, 10.0],
        kd_out=[20.0, 1.0],
    )
    v = jnp.array([-80.0, 0.0])
    direct = physics.transporter_turnover(
        v, t.c_in, t.c_out, t.z, T, t.forward, t.backward, t.uptake_in, t.uptake_out, t.charges
    )
    np.testing.assert_allclose(t.turnover(v), direct, rtol=1e-14)
    assert float(t.electrogenicity()) == -2.0
    # Reversal at the thermodynamic potential, glucose entering only through its ratio.
    expected = VT * np.log(145 / 15) + VT / 2 * np.log(0.5 / 5.0)
    assert float(t.reversal_potential()) == pytest.approx(expected, rel=1e-12)


def test_transporter_bad_input():
    uptake_in, uptake_out, charges = ncx_structure()
    args = (0.0, NCX["c_in"], NCX["c_out"], NCX["z"], T, [1.0] * 6, [1.0] * 5)
    f = physics.transporter_turnover
    with pytest.raises(ValueError, match="every ion taken up on one side must be released"):
        f(*args, uptake_in, [[0, -1], [2, 0], [0, 0], [0, 0], [0, 0], [0, 0]], charges)
    with pytest.raises(ValueError, match="charges must be summing to the net charge"):
        f(*args, uptake_in, uptake_out, [0.0] * 6)
    with pytest.raises(ValueError, match=r"backward of shape \(5,\)"):
        f(*args[:-1], [1.0] * 6, uptake_in, uptake_out, charges)
    with pytest.raises(ValueError, match=r"transporter_turnover: forward must be > 0 1/ms"):
        f(*args[:-2], [0.0] + [1.0] * 5, [1.0] * 5, uptake_in, uptake_out, charges)
    with pytest.raises(ValueError, match=r"load must be in \[0, 1\]"):
        f(*args, uptake_in, uptake_out, charges, load=1.5)
    with pytest.raises(ValueError, match="c_in must be > 0 mM"):
        f(0.0, [0.0, 1e-4], *args[2:], uptake_in, uptake_out, charges)
    with pytest.raises(ValueError, match="CycleTransporter: charges must sum to the net charge"):
        CycleTransporter(
            [1.0] * 6,
            [1.0] * 5,
            [0.0] * 6,
            NCX["c_in"],
            NCX["c_out"],
            NCX["z"],
            T,
            uptake_in,
            uptake_out,
        )
    with pytest.raises(ValueError, match=r"CycleTransporter: backward must have shape \(5,\)"):
        CycleTransporter(
            [1.0] * 6,
            [1.0] * 4,
            charges,
            NCX["c_in"],
            NCX["c_out"],
            NCX["z"],
            T,
            uptake_in,
            uptake_out,
        )
    with pytest.raises(ValueError, match="CycleTransporter: c_out must be > 0 mM"):
        sodium_calcium_exchanger(c_out=(140.0, -2.0))
    with pytest.raises(ValueError, match="stoichiometry must be a 1-D list of whole numbers"):
        alternating_access_transporter([0, 0], [1, 1], 1.0, 1.0, T, kd_in=1.0, kd_out=1.0)
