"""models._permeation_laws: barrier-model, binding-site, blocked and access-limited laws."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from membrax import physics
from membrax.models import (
    BindingSitePore,
    BlockedPermeation,
    BoltzmannGate,
    Channel,
    DiffusionLimitedPermeation,
    EyringPermeation,
    Ohmic,
)

R, F = 1.380649e-23 * 6.02214076e23, 1.602176634e-19 * 6.02214076e23
T = 310.0
VT = 1e3 * R * T / F
PROFILE = {
    "barriers": [35e3, 37e3, 35e3],
    "wells": [-7e3, -7e3],
    "barrier_distances": [0.1, 0.5, 0.9],
    "well_distances": [0.3, 0.7],
}


def eyring(**kw):
    fields = dict(PROFILE, c_in=140.0, c_out=5.0, z=1.0, temperature=T, repulsion=2e3)
    fields.update(kw)
    return EyringPermeation(**fields)


def test_eyring_permeation_in_a_channel():
    law = eyring(n_channels=200.0, max_ions=2)
    v = jnp.array([-120.0, -60.0, 0.0, 40.0])
    single = physics.barrier_model_current(
        v, 140.0, 5.0, 1.0, T, *PROFILE.values(), repulsion=2e3, max_ions=2
    )
    np.testing.assert_allclose(law.single_channel_current(v), single, rtol=1e-14)
    gate = BoltzmannGate(v_half=-30.0, z=3.0, temperature=T, tau=1.0)
    channel = Channel(gate, law)
    x = channel.gating.steady_state(v)
    p_open = 1 / (1 + np.exp(-3.0 * (np.asarray(v) + 30.0) / VT))
    np.testing.assert_allclose(channel.current(x, v), 200.0 * p_open * single, rtol=1e-12)
    # Reverses at E_K = V_T ln(5/140) (one permeant species), whatever the profile.
    e_k = VT * np.log(5.0 / 140.0)
    scale = abs(float(law.single_channel_current(e_k + 10.0)))
    assert abs(float(law.single_channel_current(e_k))) < 1e-12 * scale


def test_eyring_permeation_gradient():
    law = eyring()

    def current(m):
        return m.current(-50.0, 0.8)

    grads = eqx.filter_grad(current)(law)
    h = 0.1  # J/mol, on barriers of 3.5e4: O(h²) truncation far below 1e-7 relative
    for k in range(3):
        up = eqx.tree_at(lambda m: m.barriers, law, law.barriers.at[k].add(h))
        down = eqx.tree_at(lambda m: m.barriers, law, law.barriers.at[k].add(-h))
        fd = (current(up) - current(down)) / (2 * h)
        assert float(grads.barriers[k]) == pytest.approx(float(fd), rel=1e-6)


def test_blocked_permeation_is_woodhull_times_inner_law():
    inner = Ohmic(g_max=2.0, e_rev=VT * np.log(5.0 / 140.0))
    # Kir2.1-like: internal spermine and Mg²⁺ competing for one site.
    kir = BlockedPermeation(inner, [1e-2, 1.0], [5e-4, 2.0], [4.0, 2.0], [0.8, 0.5], T)
    v = jnp.linspace(-140.0, 40.0, 7)
    f = physics.woodhull_unblocked_fraction(v, [1e-2, 1.0], [5e-4, 2.0], [4.0, 2.0], [0.8, 0.5], T)
    np.testing.assert_allclose(kir.current(v, 0.7), inner.current(v, 0.7) * f, rtol=1e-14)
    # Inward rectification: the chord conductance at −140 mV exceeds that at 0 mV tenfold.
    i = np.asarray(kir.current(v, 1.0))
    g_chord = i / (np.asarray(v) - float(inner.e_rev))
    assert g_chord[0] > 10 * g_chord[5]
    # NMDA-type: one external Mg²⁺ blocker is the Jahr–Stevens (1990) form.
    nmda = BlockedPermeation(Ohmic(1.0, 0.0), 1.0, 3.57, 2.0, 0.062 * VT / 2, T, from_outside=True)
    expected = 1.0 * (v - 0.0) / (1 + 1.0 / 3.57 * np.exp(-0.062 * v))
    np.testing.assert_allclose(nmda.current(v, 1.0), expected, rtol=1e-13)
    # Fit-ready: gradient of the current with respect to K_d(0) against central differences.
    grad = eqx.filter_grad(lambda m: m.current(-20.0, 1.0))(kir).kd_zero
    for k in range(2):
        h = 1e-6 * float(kir.kd_zero[k])
        up = eqx.tree_at(lambda m: m.kd_zero, kir, kir.kd_zero.at[k].add(h))
        down = eqx.tree_at(lambda m: m.kd_zero, kir, kir.kd_zero.at[k].add(-h))
        fd = (up.current(-20.0, 1.0) - down.current(-20.0, 1.0)) / (2 * h)
        assert float(grad[k]) == pytest.approx(float(fd), rel=1e-7)


def test_binding_site_pore_two_site_form_and_mole_fraction():
    a, b = 0.02, 0.1
    pore = BindingSitePore(
        concentrations=[30.0],
        log_association=np.log([a, a * b]),
        state_conductances=[0.0, 25.0],
        e_rev=0.0,
        counts=[[1], [2]],
    )
    # g = g_max·abc²/(1 + ac + abc²): the two-site saturating form (pre-equilibrium).
    assert float(pore.conductance()) == pytest.approx(
        float(physics.two_site_current(30.0, 25.0, a, b)), rel=1e-14
    )
    assert float(pore.current(-50.0, 0.5)) == pytest.approx(
        -25.0 * float(pore.conductance()), rel=1e-14
    )
    # A mole-fraction curve by vmap over the mixture: minimum where the analytic result says.
    counts = [[1, 0], [0, 1], [2, 0], [1, 1], [0, 2]]
    log_beta = np.log([1 / 50, 1 / 50, 1 / 500, 1 / 50, 1 / 500])
    g_states = [0.1, 0.1, 1.0, 0.02, 0.8]
    mix = BindingSitePore([50.0, 50.0], log_beta, g_states, 0.0, counts)

    def g_of_x(x):
        m = eqx.tree_at(lambda p: p.concentrations, mix, jnp.stack([100 * x, 100 * (1 - x)]))
        return m.conductance()

    xs = jnp.linspace(0.0, 1.0, 401)
    curve = jax.vmap(g_of_x)(xs)
    x_star = physics.mole_fraction_minimum(100.0, counts, log_beta, g_states).mole_fraction
    assert float(xs[jnp.argmin(curve)]) == pytest.approx(float(x_star), abs=1.5 / 400)
    assert float(jnp.min(curve)) < float(min(curve[0], curve[-1]))
    np.testing.assert_allclose(jnp.sum(mix.occupancies()), 1.0, rtol=1e-15)


def test_diffusion_limited_permeation_viscosity():
    def law(g_single, viscosity):
        return DiffusionLimitedPermeation(
            Ohmic(g_single, 0.0),
            c_in=150.0,
            c_out=150.0,
            z=1.0,
            ion_radius=0.125,
            capture_radius=0.3,
            viscosity=viscosity,
            temperature=T,
            n_channels=10.0,
        )

    # D from Stokes–Einstein: k_BT/(6πηr).
    d = law(1.0, 0.69).diffusion_coefficient()
    assert float(d) == pytest.approx(
        1.380649e-23 * T / (6 * np.pi * 0.69e-3 * 0.125e-9) * 1e4, rel=1e-13
    )
    # Access-limited (1 µS pore): I ∝ 1/η; pore-limited (0.01 pS, 1e-5 of the access
    # limit): independent of η.
    fast = law(1e3, 0.69).current(-60.0, 1.0) / law(1e3, 1.38).current(-60.0, 1.0)
    slow = law(1e-5, 0.69).current(-60.0, 1.0) / law(1e-5, 1.38).current(-60.0, 1.0)
    assert float(fast) == pytest.approx(2.0, rel=5e-3)
    assert float(slow) == pytest.approx(1.0, abs=1e-4)
    # d ln I/d ln η → −1 in the access-limited regime (gradient through the Module).
    m = law(1e3, 0.69)
    dlog = eqx.filter_grad(lambda m: jnp.log(-m.current(-60.0, 1.0)))(m).viscosity * 0.69
    assert float(dlog) == pytest.approx(-1.0, abs=5e-3)
    # Anion: outward current is fed from outside.
    anion = eqx.tree_at(
        lambda m: (m.z, m.c_in), law(1e3, 0.69), (jnp.asarray(-1.0), jnp.asarray(15.0))
    )
    i_out = physics.diffusion_limited_current(150.0, d, 0.3, -1.0)
    assert float(anion.single_channel_current(60.0)) == pytest.approx(
        float(i_out) * 6e4 / (6e4 + float(i_out)), rel=1e-12
    )


def test_permeation_laws_bad_construction():
    with pytest.raises(ValueError, match=r"EyringPermeation: c_in must be >= 0 mM, got -1\.0"):
        eyring(c_in=-1.0)
    with pytest.raises(ValueError, match="EyringPermeation: z must be nonzero"):
        eyring(z=0.0)
    with pytest.raises(ValueError, match="electrical distances must lie in"):
        eyring(barrier_distances=[0.1, 0.2, 0.9])
    with pytest.raises(ValueError, match="max_ions must be a Python int"):
        eyring(max_ions=1.5)
    with pytest.raises(ValueError, match="number of species differs"):
        eyring(c_in=[1.0, 2.0], c_out=[1.0, 2.0], z=[1.0, 1.0], barriers=[PROFILE["barriers"]] * 3)
    with pytest.raises(TypeError, match="BlockedPermeation: inner must be a permeation law"):
        BlockedPermeation("ohmic", 1.0, 1.0, 2.0, 0.5, T)
    with pytest.raises(ValueError, match=r"BlockedPermeation: kd_zero must be > 0 mM"):
        BlockedPermeation(Ohmic(1.0, 0.0), 1.0, -1.0, 2.0, 0.5, T)
    with pytest.raises(ValueError, match="sites must hold one whole number"):
        BlockedPermeation(Ohmic(1.0, 0.0), [1.0, 1.0], 1.0, 2.0, 0.5, T, sites=(0, -1))
    with pytest.raises(ValueError, match="BindingSitePore: counts row 0 holds no ion"):
        BindingSitePore([1.0], [0.0], [1.0], 0.0, [[0]])
    with pytest.raises(
        ValueError, match=r"BindingSitePore: log_association must have shape \(2,\)"
    ):
        BindingSitePore([1.0], [0.0], [1.0, 1.0], 0.0, [[1], [2]])
    with pytest.raises(ValueError, match="DiffusionLimitedPermeation: viscosity must be > 0"):
        DiffusionLimitedPermeation(Ohmic(1.0, 0.0), 1.0, 1.0, 1.0, 0.1, 0.3, 0.0, T)
