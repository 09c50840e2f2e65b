"""Thermodynamics of pumps, exchangers and cotransporters."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import membrax

# Exact SI products, typed in independently of membrax.constants.
R, F = 1.380649e-23 * 6.02214076e23, 1.602176634e-19 * 6.02214076e23
E_CHARGE, N_A = 1.602176634e-19, 6.02214076e23

# Seed chapter (pumps and transporters): a neuron at -65 mV, 310 K, Na⁺ 15 mM in / 145 mM out,
# K⁺ 140 mM in / 5 mM out, ΔG_ATP ≈ -50 kJ/mol.
T, V = 310.0, -65.0
NA_IN, NA_OUT, K_IN, K_OUT = 15.0, 145.0, 140.0, 5.0
NAK = {"stoichiometry": [3, -2], "c_in": [NA_IN, K_IN], "c_out": [NA_OUT, K_OUT], "z": [1, 1]}
DG_ATP = -50e3  # J/mol

# The seed's worked numbers carry rounding beyond their last digit: it quotes
# RT ln(15/145) ≈ -5.86 kJ/mol where the value is -5.847, so its Δμ̃_Na (-12.13, exact
# -12.119) is 0.011 kJ/mol off, tripled in the pump (-8.97 vs -9.009) and doubled in the
# symporter (-18.33 vs -18.303). Against the seed we allow 0.05 kJ/mol; against the exact
# hand computation below, rounding only.
SEED_TOL = 50.0  # J/mol


# jit and vmap may fuse or reorder the floating-point operations: equal to a few ulps.
RTOL = 1e-13


def delta_mu_in(c_in, c_out, z, v, t):
    """Textbook Δμ̃ for inward movement, J/mol (v in mV)."""
    return R * t * np.log(c_in / c_out) + z * F * v * 1e-3


def test_electrogenicity_seed_examples():
    # Seed chapter (electrogenicity): Na/K-ATPase +1, NCX (3 Na⁺ in, 1 Ca²⁺ out) -1, KCC2 0.
    assert float(membrax.electrogenicity([3, -2], [1, 1])) == 1.0
    assert float(membrax.electrogenicity([-3, 1], [1, 2])) == -1.0
    assert float(membrax.electrogenicity([1, 1], [1, -1])) == 0.0
    # NKCC1 (1 Na⁺, 1 K⁺, 2 Cl⁻ all inward) is electroneutral; 2Na⁺:S symport carries -2.
    assert float(membrax.electrogenicity([-1, -1, -2], [1, 1, -1])) == 0.0
    assert float(membrax.electrogenicity([-2, -1], [1, 0])) == -2.0


def test_sodium_potassium_pump_seed_numbers():
    # Seed chapter: ΔG_ions ≈ +41.03 kJ/mol, ΔG_cycle ≈ 41.03 - 50 = -8.97 kJ/mol.
    ions = float(membrax.transport_free_energy(**NAK, v=V, temperature=T))
    cycle = float(membrax.transport_free_energy(**NAK, v=V, temperature=T, delta_g_reaction=DG_ATP))
    assert ions == pytest.approx(41.03e3, abs=SEED_TOL)
    assert cycle == pytest.approx(-8.97e3, abs=SEED_TOL)
    # Exact: export 3 Na⁺ costs -3Δμ̃_Na, import 2 K⁺ costs 2Δμ̃_K (40.991 kJ/mol).
    exact = -3 * delta_mu_in(NA_IN, NA_OUT, 1, V, T) + 2 * delta_mu_in(K_IN, K_OUT, 1, V, T)
    assert ions == pytest.approx(exact, rel=1e-12)
    assert cycle - ions == pytest.approx(DG_ATP, rel=1e-12)


def test_sodium_solute_symporter_seed_numbers():
    # Seed chapter: 2 Na⁺ and a neutral S inward, S 10 mM in / 1 mM out:
    # ΔG = RT ln 10 + 2Δμ̃_Na ≈ 5.93 - 24.26 = -18.33 kJ/mol.
    args = {"stoichiometry": [-2, -1], "c_in": [NA_IN, 10.0], "c_out": [NA_OUT, 1.0], "z": [1, 0]}
    dg = float(membrax.transport_free_energy(**args, v=V, temperature=T))
    assert dg == pytest.approx(-18.33e3, abs=SEED_TOL)
    exact = R * T * np.log(10.0) + 2 * delta_mu_in(NA_IN, NA_OUT, 1, V, T)
    assert dg == pytest.approx(exact, rel=1e-12)
    # The neutral solute alone: ΔG_S = RT ln 10 ≈ +5.93 kJ/mol, independent of V.
    for v in (-100.0, 0.0, 40.0):
        ds = float(membrax.transport_free_energy([-1], [10.0], [1.0], [0], v, T))
        assert ds == pytest.approx(5.93e3, abs=5.0)  # seed quotes 2 decimals in kJ/mol


def test_free_energy_slope_is_minus_q_faraday():
    # ΔG is linear in V with slope -qF (J/mol per mV = F·1e-3).
    for stoich, z, q in [([3, -2], [1, 1], 1.0), ([-3, 1], [1, 2], -1.0), ([-2, -1], [1, 0], -2.0)]:
        args = (stoich, [12.0, 2.0], [140.0, 1.5], z)
        slope = float(jax.grad(membrax.transport_free_energy, argnums=4)(*args, -30.0, 300.0))
        assert slope == pytest.approx(-q * F * 1e-3, rel=1e-12)


@pytest.mark.parametrize(
    ("stoich", "c_in", "c_out", "z"),
    [
        ([1, 1], [140.0, 6.0], [5.0, 120.0], [1, -1]),  # KCC2: K⁺ and Cl⁻ out
        ([-1, -1, -2], [15.0, 140.0, 30.0], [145.0, 5.0, 120.0], [1, 1, -1]),  # NKCC1, inward
    ],
)
def test_electroneutral_free_energy_independent_of_voltage(stoich, c_in, c_out, z):
    # q = 0: the zF V terms cancel, ΔG = -RT Σ n ln(c_in/c_out) at any V.
    expected = -R * 310.0 * np.dot(stoich, np.log(np.array(c_in) / np.array(c_out)))
    for v in (-120.0, -65.0, 0.0, 50.0):
        dg = float(membrax.transport_free_energy(stoich, c_in, c_out, z, v, 310.0))
        assert dg == pytest.approx(expected, rel=1e-12)
    grad_v = jax.grad(membrax.transport_free_energy, argnums=4)(
        stoich, c_in, c_out, z, -40.0, 310.0
    )
    assert abs(float(grad_v)) < 1e-12


def test_ncx_reversal_is_three_e_na_minus_two_e_ca():
    # Closed form for 3Na⁺:1Ca²⁺ exchange (q = -1): V_rev = 3E_Na - 2E_Ca. Physiological
    # Na⁺ 10/140 mM, Ca²⁺ 100 nM / 2 mM at 310 K: 3·70.50 - 2·132.28 ≈ -53.06 mV.
    c_in, c_out = [10.0, 1e-4], [140.0, 2.0]
    v_rev = float(membrax.transporter_reversal_potential([-3, 1], c_in, c_out, [1, 2], 310.0))
    e_na = float(membrax.nernst_potential(140.0, 10.0, 1, 310.0))
    e_ca = float(membrax.nernst_potential(2.0, 1e-4, 2, 310.0))
    assert v_rev == pytest.approx(3 * e_na - 2 * e_ca, rel=1e-12)
    assert v_rev == pytest.approx(-53.06, abs=0.01)  # the hand computation in the comment
    # ΔG vanishes there, to rounding relative to the size of its terms (3|Δμ̃_Na| ≈ 20 kJ/mol).
    dg = float(membrax.transport_free_energy([-3, 1], c_in, c_out, [1, 2], v_rev, 310.0))
    assert abs(dg) < 1e-12 * 3 * abs(delta_mu_in(10.0, 140.0, 1, v_rev, 310.0))


def test_pump_reversal_potential():
    # Na/K-ATPase with ΔG_ATP: V_rev = 3E_Na - 2E_K + ΔG_ATP/F (Gadsby 2009) ≈ -158.4 mV.
    v_rev = float(
        membrax.transporter_reversal_potential(**NAK, temperature=T, delta_g_reaction=DG_ATP)
    )
    e_na = float(membrax.nernst_potential(NA_OUT, NA_IN, 1, T))
    e_k = float(membrax.nernst_potential(K_OUT, K_IN, 1, T))
    assert v_rev == pytest.approx(3 * e_na - 2 * e_k + DG_ATP / (F * 1e-3), rel=1e-12)
    # From the seed's ΔG(-65 mV) ≈ -8.97 kJ/mol and slope -qF: V_rev = -65 + ΔG/F ≈ -158.0 mV;
    # the seed's 0.04 kJ/mol rounding (see SEED_TOL) is 0.4 mV here.
    assert v_rev == pytest.approx(-65.0 + -8.97e3 / (F * 1e-3), abs=0.5)
    dg = float(
        membrax.transport_free_energy(**NAK, v=v_rev, temperature=T, delta_g_reaction=DG_ATP)
    )
    assert abs(dg) < 1e-12 * abs(DG_ATP)
    # Beyond V_rev the pump would run backward: ΔG > 0 at more negative V.
    dg_below = membrax.transport_free_energy(
        **NAK, v=v_rev - 10.0, temperature=T, delta_g_reaction=DG_ATP
    )
    assert float(dg_below) == pytest.approx(10.0 * F * 1e-3, rel=1e-9)


def test_reversal_with_neutral_solute():
    # 2Na⁺:S symport (q = -2), by hand from ΔG(V) = 0 with n = [-2, -1]:
    # V_rev = V_T·[-2 ln(145/15) - ln(1/10)]/(-2) = E_Na + (V_T/2)·ln(1/10).
    vt = 1e3 * R * T / F
    v_rev = float(
        membrax.transporter_reversal_potential([-2, -1], [NA_IN, 10.0], [NA_OUT, 1.0], [1, 0], T)
    )
    assert v_rev == pytest.approx(vt * np.log(NA_OUT / NA_IN) + vt / 2 * np.log(0.1), rel=1e-12)
    dg = float(
        membrax.transport_free_energy([-2, -1], [NA_IN, 10.0], [NA_OUT, 1.0], [1, 0], v_rev, T)
    )
    assert abs(dg) < 1e-12 * 2 * abs(delta_mu_in(NA_IN, NA_OUT, 1, v_rev, T))


def test_reversal_gradients_match_finite_differences():
    # dV_rev/d[Ca]o for NCX = -2·(V_T/2)/[Ca]o = -V_T/[Ca]o; and central FD in float64.
    def f(ca_out):
        return membrax.transporter_reversal_potential(
            [-3, 1], jnp.array([10.0, 1e-4]), jnp.stack([140.0, ca_out]), [1, 2], 310.0
        )

    g = float(jax.grad(f)(2.0))
    assert g == pytest.approx(-1e3 * R * 310.0 / F / 2.0, rel=1e-12)
    h = 1e-4
    assert g == pytest.approx(float((f(2.0 + h) - f(2.0 - h)) / (2 * h)), rel=1e-8)
    # dV_rev/dΔG_reaction = 1/(qF).
    dv = jax.grad(
        lambda dg: membrax.transporter_reversal_potential(**NAK, temperature=T, delta_g_reaction=dg)
    )(DG_ATP)
    assert float(dv) == pytest.approx(1 / (F * 1e-3), rel=1e-12)


def test_free_energy_gradient_matches_finite_differences():
    # dΔG/d[K]o for the pump: -n_K·(-RT/[K]o) = -2RT/[K]o, and central FD.
    def f(k_out):
        return membrax.transport_free_energy(
            [3, -2],
            [NA_IN, K_IN],
            jnp.stack([NA_OUT, k_out]),
            [1, 1],
            V,
            T,
            delta_g_reaction=DG_ATP,
        )

    g = float(jax.grad(f)(K_OUT))
    assert g == pytest.approx(-2 * R * T / K_OUT, rel=1e-12)
    h = 1e-4
    assert g == pytest.approx(float((f(K_OUT + h) - f(K_OUT - h)) / (2 * h)), rel=1e-8)


def test_transporter_current():
    # 1000 pumps/µm² = 1e11 /cm² cycling at 30 /s, one net charge each:
    # I = e·1e11·30 A/cm² = 0.4807 µA/cm², outward. NCX at the same rate: inward.
    rate = 1e11 * 30 / N_A * 1e6  # µmol/(cm²·s)
    expected = E_CHARGE * 1e11 * 30 * 1e6  # µA/cm²
    assert float(membrax.transporter_current([3, -2], [1, 1], rate)) == pytest.approx(
        expected, rel=1e-12
    )
    assert float(membrax.transporter_current([-3, 1], [1, 2], rate)) == pytest.approx(
        -expected, rel=1e-12
    )
    # Electroneutral: no current at any rate; the output follows turnover's shape.
    i = membrax.transporter_current([1, 1], [1, -1], jnp.array([[1.0, -2.0], [3.0, 0.5]]))
    assert i.shape == (2, 2)
    assert bool(jnp.all(i == 0))


def test_vmap_equals_loop_and_jit_equals_eager():
    # Over voltages and over Na⁺ concentrations: vmap == Python loop, jit == eager.
    vs = jnp.linspace(-150.0, 50.0, 7)
    f = lambda v: membrax.transport_free_energy(**NAK, v=v, temperature=T, delta_g_reaction=DG_ATP)  # noqa: E731
    batched = jax.vmap(f)(vs)
    looped = jnp.stack([f(v) for v in vs])
    np.testing.assert_allclose(batched, looped, rtol=RTOL)
    np.testing.assert_allclose(jax.jit(f)(-65.0), f(-65.0), rtol=RTOL)

    def rev(na_in):
        return membrax.transporter_reversal_potential(
            [-3, 1], jnp.stack([na_in, 1e-4]), [140.0, 2.0], [1, 2], 310.0
        )

    nas = jnp.linspace(5.0, 25.0, 5)
    np.testing.assert_allclose(jax.vmap(rev)(nas), jnp.stack([rev(x) for x in nas]), rtol=RTOL)
    np.testing.assert_allclose(jax.jit(rev)(12.0), rev(12.0), rtol=RTOL)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"stoichiometry": [1, 1], "z": [1, -1]}, "stoichiometry must be electrogenic"),
        ({"stoichiometry": [2, 1], "z": [0, 0]}, "electroneutral transporter has no reversal"),
        ({"stoichiometry": [1, 1], "z": [1, -1]}, r"q = Σ z·n nonzero\), got 0\.0"),
        ({"stoichiometry": [3, -2, 1]}, "stoichiometry has 3"),
        ({"c_in": [15.0, -1.0]}, "c_in must be > 0 mM"),
        ({"c_out": [145.0, float("nan")]}, "c_out must be finite"),
        ({"z": [1, float("inf")]}, "z must be finite"),
        ({"temperature": 0.0}, "temperature must be > 0 K"),
        ({"temperature": [300.0, 310.0]}, "temperature must be a scalar"),
        ({"delta_g_reaction": float("nan")}, "delta_g_reaction must be finite"),
        ({"stoichiometry": [[3, -2]]}, "stoichiometry must be 1-D"),
    ],
)
def test_reversal_bad_input(kwargs, match):
    args = NAK | {"temperature": T} | kwargs
    with pytest.raises(ValueError, match=match):
        membrax.transporter_reversal_potential(**args)


def test_electroneutral_error_under_jit():
    # Traced stoichiometry: the check runs through eqx.error_if and still names the argument.
    f = jax.jit(
        lambda n: membrax.transporter_reversal_potential(
            n, [140.0, 6.0], [5.0, 120.0], [1, -1], 310.0
        )
    )
    with pytest.raises(Exception, match="stoichiometry must be electrogenic"):
        jax.block_until_ready(f(jnp.array([1.0, 1.0])))
    assert np.isfinite(float(f(jnp.array([1.0, 2.0]))))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"v": float("nan")}, "v must be finite"),
        ({"v": [-65.0, 0.0]}, "v must be a scalar"),
        ({"stoichiometry": [3, float("nan")]}, "stoichiometry must be finite"),
        ({"c_out": [145.0]}, r"c_in has 2, c_out has 1"),
    ],
)
def test_free_energy_bad_input(kwargs, match):
    args = NAK | {"v": V, "temperature": T} | kwargs
    with pytest.raises(ValueError, match=match):
        membrax.transport_free_energy(**args)


def test_current_bad_input():
    with pytest.raises(ValueError, match="turnover must be finite"):
        membrax.transporter_current([3, -2], [1, 1], float("nan"))
    with pytest.raises(ValueError, match="z has 3"):
        membrax.transporter_current([3, -2], [1, 1, 1], 1.0)
