"""physics._permeation: Eyring barrier models, selectivity, diffusion-limited access."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import membrax
from membrax import physics

# Exact SI constants, typed in independently of membrax.constants.
K_B, H, E_CHARGE, N_A = 1.380649e-23, 6.62607015e-34, 1.602176634e-19, 6.02214076e23
R, F = K_B * N_A, E_CHARGE * N_A
T = 310.0
VT = 1e3 * R * T / F  # mV
NU = K_B * T / H * 1e-3  # k_B T / h in 1/ms
E_FC = E_CHARGE * 1e15  # e in fC: ions/ms × fC = pA


def one_barrier(g, delta, c_in, c_out, z, v):
    """Single-barrier Eyring flux by hand (ions/ms): Hille (2001) ch. 14, x = c / 1 M."""
    u = v / VT
    k_in = NU * np.exp(-(g / (R * T)) + z * u * delta)
    k_out = NU * np.exp(-(g / (R * T)) - z * u * (1 - delta))
    return k_in * c_in / 1000 - k_out * c_out / 1000


def test_eyring_rate_and_two_kcal_per_mol():
    # k = (k_B T/h) e^{-ΔG/RT}; k_B T/h at 310 K = 6.4593e12 /s.
    assert float(physics.eyring_rate(0.0, T)) == pytest.approx(6.4593e9, rel=1e-4)
    assert float(physics.eyring_rate(40e3, T)) == pytest.approx(
        NU * np.exp(-40e3 / (R * T)), rel=1e-13
    )
    # The example: a barrier 2 kcal/mol (8368 J/mol) lower at 310 K gives ≈ 25×.
    ratio = physics.eyring_rate(40e3 - 2 * 4184, T) / physics.eyring_rate(40e3, T)
    assert float(ratio) == pytest.approx(np.exp(8368 / (R * T)), rel=1e-13)
    assert float(ratio) == pytest.approx(25.7, abs=0.05)  # exp(3.2469) = 25.71


def test_single_barrier_closed_form_and_linear_conductance():
    v = np.array([-100.0, -30.0, 0.0, 15.0, 80.0])
    for z, delta in ((1.0, 0.5), (2.0, 0.3), (-1.0, 0.7)):
        got = physics.barrier_model_fluxes(v, 50.0, 120.0, z, T, [35e3], [], [delta], [])
        expected = one_barrier(35e3, delta, 50.0, 120.0, z, v)
        np.testing.assert_allclose(got[:, 0], expected, rtol=1e-12)

    # Linear regime, symmetric 100 mM: g = z² e ν (0.1) e^{-G/RT} / V_T (pA/mV = nS).
    def current(v, g):
        return physics.barrier_model_current(v, 100.0, 100.0, 1.0, T, [g], [], [0.5], [])

    g30 = jax.grad(current)(0.0, 30e3)
    assert float(g30) == pytest.approx(E_FC * NU * 0.1 * np.exp(-30e3 / (R * T)) / VT, rel=1e-12)
    assert float(g30) * 1e3 == pytest.approx(34.1, abs=0.05)  # ≈ 34 pS (docstring example)
    # 2 kcal/mol lower: 25.7× the conductance (exp(ΔΔG/RT), the example).
    ratio = jax.grad(current)(0.0, 30e3 - 8368.0) / g30
    assert float(ratio) == pytest.approx(np.exp(8368.0 / (R * T)), rel=1e-12)


def one_site_rates(v, z, g0, u1, g1, d0, d1, d2):
    """Rates of the one-site, two-barrier, one-ion pore (Läuger 1973), by hand: entry from
    inside (per mM), back to inside, on to outside, entry from outside (per mM), in 1/ms."""
    u = v / VT
    rt = R * T
    k1 = NU * np.exp(-(g0 / rt) + z * u * d0) / 1000
    km1 = NU * np.exp(-(g0 - u1) / rt - z * u * (1 - d0) + z * u * (1 - d1))
    k2 = NU * np.exp(-(g1 - u1) / rt - z * u * (1 - d2) + z * u * (1 - d1))
    km2 = NU * np.exp(-(g1 / rt) - z * u * (1 - d2)) / 1000
    return k1, km1, k2, km2


def test_one_site_pore_matches_laeuger_closed_form():
    # A two-state cycle E ⇌ S: J = (k1 c_in k2 − k₋1 k₋2 c_out)/(k1 c_in + k₋2 c_out + k₋1 + k2).
    profile = ([38e3, 42e3], [-8e3], [0.2, 0.9], [0.6])
    v = np.linspace(-120.0, 80.0, 9)
    for z in (1.0, 2.0):
        got = physics.barrier_model_fluxes(v, 30.0, 150.0, z, T, *profile)[:, 0]
        k1, km1, k2, km2 = one_site_rates(v, z, 38e3, -8e3, 42e3, 0.2, 0.6, 0.9)
        expected = (k1 * 30.0 * k2 - km1 * km2 * 150.0) / (k1 * 30.0 + km2 * 150.0 + km1 + k2)
        np.testing.assert_allclose(got, expected, rtol=1e-11)
    # Saturation: in symmetric solutions J(c) = J_max c/(K + c) (Michaelis–Menten) with
    # J_max = (k1 k2 − k₋1 k₋2)/(k1 + k₋2) and K = (k₋1 + k2)/(k1 + k₋2).
    k1, km1, k2, km2 = one_site_rates(-50.0, 1.0, 38e3, -8e3, 42e3, 0.2, 0.6, 0.9)
    j_max = (k1 * k2 - km1 * km2) / (k1 + km2)
    k_half = (km1 + k2) / (k1 + km2)
    for c in (0.1 * k_half, k_half, 10 * k_half):
        j = physics.barrier_model_fluxes(-50.0, c, c, 1.0, T, *profile)[0]
        assert float(j) == pytest.approx(j_max * c / (k_half + c), rel=1e-11)


PORES = [
    # (barriers, wells, barrier_distances, well_distances, repulsion, max_ions)
    ([40e3], [], [0.4], [], 0.0, 1),
    ([35e3, 38e3], [-6e3], [0.25, 0.8], [0.5], 0.0, 1),
    ([33e3, 36e3, 34e3], [-9e3, -7e3], [0.1, 0.5, 0.85], [0.3, 0.7], 0.0, 1),
    ([33e3, 36e3, 34e3], [-9e3, -7e3], [0.1, 0.5, 0.85], [0.3, 0.7], 4e3, None),
    ([33e3, 34e3, 35e3, 33e3], [-9e3, -8e3, -9e3], [0.1, 0.35, 0.6, 0.9], [0.2, 0.5, 0.8], 3e3, 2),
]


@pytest.mark.parametrize("pore", PORES, ids=lambda p: f"{len(p[1])}sites-max{p[5]}")
@pytest.mark.parametrize("z", [1.0, 2.0, -1.0])
def test_nernst_reversal_in_every_barrier_model(pore, z):
    # One permeant species: detailed balance around every cycle makes the current vanish at
    # E = (RT/zF) ln(c_out/c_in), whatever the profile (Hille 2001, ch. 14).
    barriers, wells, bd, wd, w, max_ions = pore
    c_in, c_out = 12.0, 140.0
    e_rev = VT / z * np.log(c_out / c_in)

    def current(v):
        return physics.barrier_model_current(
            v, c_in, c_out, z, T, barriers, wells, bd, wd, repulsion=w, max_ions=max_ions
        )

    scale = abs(float(current(e_rev + 20.0))) + abs(float(current(e_rev - 20.0)))
    assert scale > 0
    assert abs(float(current(e_rev))) < 1e-12 * scale
    # Outward above E, inward below (for any valence, outward current positive).
    assert float(current(e_rev + 20.0)) > 0 > float(current(e_rev - 20.0))


def test_symmetric_pore_is_ohmic_at_small_voltage():
    # A symmetric profile in symmetric solutions has I(−V) = −I(V) exactly, so I = gV + O(V³).
    args = (100.0, 100.0, 1.0, T, [35e3, 37e3, 35e3], [-5e3, -5e3], [0.1, 0.5, 0.9], [0.3, 0.7])
    v = np.array([0.01, 0.1, 1.0])
    i_pos = physics.barrier_model_current(v, *args, repulsion=2e3, max_ions=2)
    i_neg = physics.barrier_model_current(-v, *args, repulsion=2e3, max_ions=2)
    np.testing.assert_allclose(i_neg, -i_pos, rtol=1e-11)
    g = float(
        jax.grad(lambda x: physics.barrier_model_current(x, *args, max_ions=2, repulsion=2e3))(0.0)
    )
    # The relative deviation from ohmic grows as V²: below 1e-4 at 1 mV (V_T ≈ 26.7 mV).
    rel = np.abs(np.asarray(i_pos) / (g * v) - 1)
    assert rel[2] < 1e-3 and rel[0] < 1e-8
    assert rel[1] / rel[2] == pytest.approx(1e-2, rel=0.05)  # ∝ V²


def test_multi_ion_pore_pre_equilibrium_and_knock_on():
    # Two sites, one species, no ions outside, fast entry and slow exit: the sites equilibrate
    # with the inner solution (binding polynomial with interaction W) and the exit rate is
    # ν e^{-(G_exit − U_1)/RT} from the singly occupied 0X and e^{W/2RT} faster from XX (the
    # knock-on: repulsion lowers the exit barrier by W/2). At V = 0:
    #   J = k_exit [P(0X) + e^{W/2RT} P(XX)],  weights X0: x e^{-U0}, 0X: x e^{-U1},
    #   XX: x² e^{-(U0 + U1 + W)},  x = c/1 M.
    rt = R * T
    u0, u1, g_exit = -10e3, -12e3, 75e3
    barriers, wells = [20e3, 20e3, g_exit], [u0, u1]
    for w in (0.0, 5e3):
        for c in (50.0, 500.0):
            j = physics.barrier_model_fluxes(
                0.0,
                c,
                0.0,
                1.0,
                T,
                barriers,
                wells,
                [0.2, 0.5, 0.8],
                [0.35, 0.65],
                repulsion=w,
                max_ions=2,
            )[0]
            x = c / 1000
            wx0, w0x, wxx = (
                x * np.exp(-u0 / rt),
                x * np.exp(-u1 / rt),
                x * x * np.exp(-(u0 + u1 + w) / rt),
            )
            z_poly = 1 + wx0 + w0x + wxx
            k_exit = NU * np.exp(-(g_exit - u1) / rt)
            expected = k_exit * (w0x + np.exp(w / (2 * rt)) * wxx) / z_poly
            # Exit is 1e-8 of the binding rates: the pre-equilibrium error is of that order.
            assert float(j) == pytest.approx(expected, rel=1e-6)


def test_two_species_barrier_model_selectivity_follows_barrier_difference():
    # Linear-regime conductances of two species through one barrier differ by exp(−ΔΔG/RT):
    # the same ratio as physics.permeability_ratio.
    def g(species):
        f = lambda v: physics.barrier_model_fluxes(  # noqa: E731
            v, [100.0, 100.0], [100.0, 100.0], [1.0, 1.0], T, [[36e3], [40e3]], [[], []], [0.5], []
        )[species]
        return jax.grad(f)(0.0)

    ratio = g(1) / g(0)
    assert float(ratio) == pytest.approx(float(physics.permeability_ratio(4e3, T)), rel=1e-12)


def test_gradients_match_central_differences():
    def current(params):
        return physics.barrier_model_current(
            params["v"],
            params["c_in"],
            140.0,
            1.0,
            T,
            params["barriers"],
            params["wells"],
            [0.1, 0.5, 0.9],
            [0.3, 0.7],
            repulsion=params["w"],
            max_ions=2,
        )

    params = {
        "v": jnp.asarray(-40.0),
        "c_in": jnp.asarray(20.0),
        "barriers": jnp.array([34e3, 36e3, 35e3]),
        "wells": jnp.array([-8e3, -9e3]),
        "w": jnp.asarray(3e3),
    }
    grads = jax.grad(current)(params)
    steps = {"v": 1e-4, "c_in": 1e-5, "barriers": 1e-1, "wells": 1e-1, "w": 1e-1}
    for name, h in steps.items():
        value = params[name]
        for idx in np.ndindex(value.shape):
            up = dict(params, **{name: value.at[idx].add(h)})
            down = dict(params, **{name: value.at[idx].add(-h)})
            fd = (current(up) - current(down)) / (2 * h)
            # Central differences: O(h²) truncation, far below 1e-6 relative at these steps.
            assert float(grads[name][idx]) == pytest.approx(float(fd), rel=1e-6, abs=1e-14)


def test_vmap_iv_c_surface_and_jit_invariance():
    profile = ([35e3, 37e3, 35e3], [-7e3, -7e3], [0.1, 0.5, 0.9], [0.3, 0.7])
    v = jnp.linspace(-100.0, 60.0, 9)
    c_out = jnp.array([5.0, 20.0, 80.0, 300.0])

    def iv(c):
        return physics.barrier_model_current(
            v, 140.0, c, 1.0, T, *profile, repulsion=2e3, max_ions=2
        )

    surface = jax.jit(jax.vmap(iv))(c_out)
    assert surface.shape == (4, 9)
    looped = np.stack([np.asarray(iv(c)) for c in c_out])
    # vmap/jit may reorder floating-point operations: equal to a few ulps of the scale.
    np.testing.assert_allclose(surface, looped, rtol=1e-12, atol=1e-15)


def test_barrier_model_bad_input():
    base = dict(
        c_in=10.0,
        c_out=100.0,
        z=1.0,
        temperature=T,
        barriers=[35e3, 36e3],
        wells=[-5e3],
        barrier_distances=[0.2, 0.8],
        well_distances=[0.5],
    )
    f = physics.barrier_model_current
    with pytest.raises(ValueError, match=r"barrier_model_current: c_in must be >= 0 mM, got -1\.0"):
        f(0.0, **dict(base, c_in=-1.0))
    with pytest.raises(ValueError, match="barrier_distances must be in \\[0, 1\\] and interleaved"):
        f(0.0, **dict(base, barrier_distances=[0.6, 0.8]))
    with pytest.raises(ValueError, match="has 2 barriers, but barrier_distances has 3"):
        f(0.0, **dict(base, barrier_distances=[0.1, 0.5, 0.9]))
    with pytest.raises(ValueError, match="wells must have shape"):
        f(0.0, **dict(base, wells=[-5e3, -5e3]))
    with pytest.raises(ValueError, match="max_ions must be a whole number >= 1"):
        f(0.0, **base, max_ions=0)
    with pytest.raises(ValueError, match=r"z must be nonzero, got 0\.0"):
        f(0.0, **dict(base, z=0.0))
    with pytest.raises(ValueError, match="number of species differs"):
        f(
            0.0,
            **dict(
                base,
                c_in=[10.0, 20.0],
                c_out=[1.0, 2.0],
                z=[1.0, 1.0],
                barriers=[[35e3, 36e3]] * 3,
                wells=[[-5e3]] * 3,
            ),
        )
    with pytest.raises(ValueError, match="eyring_rate: temperature must be > 0 K"):
        physics.eyring_rate(1e3, -5.0)
    # Under jit the value is traced: the message still names the function and argument.
    with pytest.raises(Exception, match="barrier_model_current: c_in must be >= 0 mM"):
        jax.block_until_ready(jax.jit(lambda c: f(0.0, **dict(base, c_in=c)))(-1.0))


# --- selectivity --------------------------------------------------------------------------------


def test_permeability_ratio_and_bi_ionic_reversal():
    # P_X/P_Y = exp(−ΔΔG/RT): 5.9 kJ/mol at 310 K ≈ 0.1.
    assert float(physics.permeability_ratio(5.9e3, T)) == pytest.approx(
        np.exp(-5.9e3 / (R * T)), rel=1e-13
    )
    # Transfer energies: ΔG = dehydration − coordination, relative to the first ion.
    p = physics.relative_permeabilities([295e3, 365e3], [290e3, 350e3], T)
    np.testing.assert_allclose(p, [1.0, np.exp(-(15e3 - 5e3) / (R * T))], rtol=1e-13)
    # Usable in GHK: bi-ionic, X 100 mM outside only, Y 100 mM inside only → the Goldman
    # potential is V_T ln(P_X/P_Y) = −ΔΔG/F, ΔΔG = ΔG_X − ΔG_Y = −10 kJ/mol (Hille 2001,
    # ch. 14): +103.6 mV.
    v = membrax.ghk_voltage(p, [1e-9, 100.0], [100.0, 1e-9], [1, 1], T)
    assert float(v) == pytest.approx(10e3 / F * 1e3, rel=1e-6)  # 1e-9 mM traces: 1e-11 rel


# --- diffusion-limited access -----------------------------------------------------------------


def test_stokes_einstein_and_diffusion_limit():
    # K⁺, Stokes radius 0.125 nm, water at 25 °C (0.890 mPa·s): D = k_B T/(6πηr) ≈ 1.96e-5
    # cm²/s (the measured 1.957e-5, Robinson & Stokes 1959).
    d = physics.stokes_einstein_diffusion(0.125, 0.890, 298.15)
    assert float(d) == pytest.approx(
        K_B * 298.15 / (6 * np.pi * 0.890e-3 * 0.125e-9) * 1e4, rel=1e-13
    )
    assert float(d) == pytest.approx(1.957e-5, rel=0.01)
    # Twice the viscosity, half the diffusion coefficient (Walden's rule).
    assert float(physics.stokes_einstein_diffusion(0.125, 1.78, 298.15)) == pytest.approx(
        float(d) / 2
    )
    # i_D = 2π z F D r c: D = 2e-5 cm²/s, r = 0.3 nm, 100 mM → 36.4 pA (Hille 2001, ch. 11).
    i_d = physics.diffusion_limited_current(100.0, 2e-5, 0.3, 1.0)
    assert float(i_d) == pytest.approx(2 * np.pi * F * 2e-5 * 0.3e-7 * 100e-6 * 1e12, rel=1e-13)
    assert float(i_d) == pytest.approx(36.4, abs=0.05)


def test_access_limit_scales_with_viscosity_but_pore_limit_does_not():
    def conductance(g_pore, viscosity):
        # Chord conductance at −50 mV of a pore of g_pore nS reversing at 0 mV, in series
        # with diffusional access (150 mM, K⁺ Stokes radius, capture radius 0.3 nm).
        d = physics.stokes_einstein_diffusion(0.125, viscosity, T)
        i_d = physics.diffusion_limited_current(150.0, d, 0.3, 1.0)
        return float(physics.access_limited_current(g_pore * -50.0, i_d, i_d)) / -50.0

    # Access-limited (pore 1000× faster than diffusion): the conductance halves when the
    # viscosity doubles, to within the pore's share (i_D/|i_pore| ≈ 1e-3).
    fast = conductance(1e3, 0.69) / conductance(1e3, 1.38)
    assert fast == pytest.approx(2.0, rel=5e-3)
    # Pore- (barrier- or gating-) limited: independent of viscosity to 1e-4.
    slow = conductance(1e-4, 0.69) / conductance(1e-4, 1.38)
    assert slow == pytest.approx(1.0, abs=1e-4)
    # The series law is continuous with slope one through zero current.
    grad0 = jax.grad(lambda i: physics.access_limited_current(i, 10.0, 20.0))(0.0)
    assert float(grad0) == 1.0
    assert float(physics.access_limited_current(30.0, 10.0, 20.0)) == pytest.approx(7.5)
    assert float(physics.access_limited_current(-20.0, 10.0, 20.0)) == pytest.approx(-10.0)


def test_access_bad_input():
    with pytest.raises(ValueError, match="stokes_einstein_diffusion: viscosity must be > 0 mPa·s"):
        physics.stokes_einstein_diffusion(0.125, 0.0, T)
    with pytest.raises(ValueError, match="access_limited_current: i_limit_inward must be > 0 pA"):
        physics.access_limited_current(1.0, 1.0, -2.0)
    with pytest.raises(
        ValueError, match="diffusion_limited_current: capture_radius must be > 0 nm"
    ):
        physics.diffusion_limited_current(1.0, 2e-5, 0.0, 1.0)
