"""Ionic strength, the permittivity of water, Debye–Hückel and Davies activity coefficients."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import membrax

T25 = 298.15  # K


def _davies_reference(z, i_molar, a):
    # Davies (1962) evaluated independently in NumPy float64.
    s = np.sqrt(i_molar)
    return 10.0 ** (-a * z**2 * (s / (1 + s) - 0.3 * i_molar))


# --- ionic strength -------------------------------------------------------------------------


def test_ionic_strength_of_salts():
    # I = ½Σcz²: 150 mM NaCl → ½(150 + 150) = 150 mM; 10 mM CaCl2 → ½(10·4 + 20) = 30 mM.
    assert float(membrax.ionic_strength([150.0, 150.0], [1, -1])) == pytest.approx(150.0)
    assert float(membrax.ionic_strength([10.0, 20.0], [2, -1])) == pytest.approx(30.0)
    # A neutral solute (z = 0) adds nothing; a scalar is one ion.
    assert float(membrax.ionic_strength([150.0, 150.0, 300.0], [1, -1, 0])) == 150.0
    assert float(membrax.ionic_strength(10.0, 2.0)) == 20.0


def test_ionic_strength_batches_over_leading_axes():
    # Ringer-like baths (Na, K, Ca, Cl), rows are different baths; last axis is the ions.
    c = np.array([[140.0, 5.0, 2.0, 149.0], [100.0, 10.0, 1.0, 112.0]])
    z = np.array([1.0, 1.0, 2.0, -1.0])
    expected = 0.5 * (c * z**2).sum(axis=-1)  # [151.0, 112.0] by hand: ½(140+5+8+149) = 151
    got = membrax.ionic_strength(c, z)
    assert got.shape == (2,)
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-15)
    assert float(got[0]) == 151.0


# --- permittivity of water ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("celsius", "expected"),
    # Malmberg & Maryott (1956), J. Res. NBS 56:1, tabulated: 87.74 at 0 °C, 78.30 at 25 °C,
    # 55.72 at 100 °C. Tabulated to 0.01, so the fit may differ by half a unit in the last digit.
    [(0.0, 87.74), (25.0, 78.30), (100.0, 55.72)],
)
def test_water_relative_permittivity_malmberg_maryott(celsius, expected):
    eps = membrax.water_relative_permittivity(273.15 + celsius)
    assert float(eps) == pytest.approx(expected, abs=0.005)


# --- Debye–Hückel constants -----------------------------------------------------------------


def test_debye_huckel_constants_at_25c_robinson_stokes():
    # Robinson & Stokes, Electrolyte Solutions, 2nd ed. (1959), appendix 7.1, 25 °C, c in
    # mol/L: A = 0.5115, B = 0.3291 Å⁻¹ = 3.291 nm⁻¹ (with εr = 78.30). They used 1950s values
    # of e, N_A, k; with the 2019 SI these shift A by ~1e-4, so we allow 2e-4 relative.
    a, b = membrax.debye_huckel_parameters(T25)
    assert float(a) == pytest.approx(0.5115, rel=2e-4)
    assert float(b) == pytest.approx(3.291, rel=2e-4)
    # The often-quoted 0.509 comes with the older permittivity 78.54 (Wyman 1930); A ∝ εr^-3/2.
    a_old, _ = membrax.debye_huckel_parameters(T25, relative_permittivity=78.54)
    assert float(a_old) == pytest.approx(0.509, abs=5e-4)


@pytest.mark.parametrize(("temperature", "eps"), [(273.15, None), (310.15, None), (T25, 30.0)])
def test_debye_huckel_constants_gaussian_units(temperature, eps):
    # An independent derivation in CGS-Gaussian units (Robinson & Stokes 1959, ch. 4):
    #   A = (2πN_A/1000)^½ (e²/εkT)^{3/2} / ln 10,  B = (8πN_A e²/(1000 εkT))^½ cm⁻¹ per √(mol/L),
    # with e in statcoulomb (= e·c/10) and k in erg/K. The SI and CGS routes differ only by
    # ε0 vs 1/(μ0c²) (CODATA 2022, ~1e-10 relative).
    e_esu = 1.602176634e-19 * 2.99792458e9
    k_erg = 1.380649e-16
    n_a = 6.02214076e23
    eps_r = float(membrax.water_relative_permittivity(temperature)) if eps is None else eps
    x = e_esu**2 / (eps_r * k_erg * temperature)
    a_ref = math.sqrt(2 * math.pi * n_a / 1000) * x**1.5 / math.log(10)
    b_ref = math.sqrt(8 * math.pi * n_a * x / 1000) * 1e-7  # cm⁻¹ → nm⁻¹
    a, b = membrax.debye_huckel_parameters(temperature, relative_permittivity=eps)
    assert float(a) == pytest.approx(a_ref, rel=1e-8)
    assert float(b) == pytest.approx(b_ref, rel=1e-8)


# --- activity coefficients ------------------------------------------------------------------


def test_davies_values_at_100mM():
    a = float(membrax.debye_huckel_parameters(T25).a)
    z = np.array([1.0, 2.0, 3.0])
    gamma = np.asarray(membrax.davies_activity_coefficient(z, 100.0, T25))
    np.testing.assert_allclose(gamma, _davies_reference(z, 0.1, a), rtol=1e-13)
    # By hand with A = 0.5116: γ = 0.781, 0.371, 0.108 for z = 1, 2, 3.
    np.testing.assert_allclose(gamma, [0.7806, 0.3713, 0.1076], atol=1e-4)
    # Measured mean activity coefficient of NaCl at 0.1 mol/kg, 25 °C: 0.778 (Robinson &
    # Stokes 1959, appendices; W. J. Hamer & Y.-C. Wu (1972), J. Phys. Chem. Ref. Data 1:1047).
    # Davies is good to ~1-2 % here (and molal differs from molar by 0.3 %).
    assert gamma[0] == pytest.approx(0.778, abs=0.01)
    # Davies' log γ scales with z²: log γ(z=2) = 4 log γ(z=1).
    assert math.log(gamma[1]) == pytest.approx(4 * math.log(gamma[0]), rel=1e-13)


@pytest.mark.parametrize(
    ("z", "size_angstrom", "i_molar", "expected"),
    # Kielland (1937), J. Am. Chem. Soc. 59:1675, as tabulated in D. C. Harris, Quantitative
    # Chemical Analysis (table "Activity coefficients for aqueous solutions at 25 °C").
    # Kielland used A, B of 1937 and rounded to 3 digits; the differences grow with z and I
    # (up to 0.006 for Ca²⁺ at 0.1 M), so we allow 0.008.
    [
        (1, 3.0, 0.01, 0.899),  # K⁺, Cl⁻
        (1, 3.0, 0.1, 0.755),
        (2, 6.0, 0.01, 0.675),  # Ca²⁺
        (2, 6.0, 0.1, 0.405),
        (1, 9.0, 0.1, 0.83),  # H⁺
    ],
)
def test_extended_debye_huckel_kielland_table(z, size_angstrom, i_molar, expected):
    gamma = membrax.debye_huckel_activity_coefficient(
        z, i_molar * 1e3, T25, ion_size=size_angstrom / 10
    )
    assert float(gamma) == pytest.approx(expected, abs=0.008)


def test_extended_law_closed_form():
    a, b = (float(x) for x in membrax.debye_huckel_parameters(310.15))
    z, i_mm, size = 2.0, 150.0, 0.6
    s = math.sqrt(i_mm / 1e3)
    expected = 10 ** (-a * z**2 * s / (1 + b * size * s))
    got = membrax.debye_huckel_activity_coefficient(z, i_mm, 310.15, ion_size=size)
    assert float(got) == pytest.approx(expected, rel=1e-13)


def test_limiting_law_is_extended_law_at_zero_size_and_unity_at_zero_strength():
    z = np.array([1.0, -1.0, 2.0, 3.0])
    limiting = membrax.debye_huckel_activity_coefficient(z, 50.0, T25)
    extended = membrax.debye_huckel_activity_coefficient(z, 50.0, T25, ion_size=1e-12)
    # The extended law differs by a factor 1/(1 + B a √I) ≈ 1 - 7e-13 in log γ.
    np.testing.assert_allclose(np.asarray(extended), np.asarray(limiting), rtol=1e-11)
    a = float(membrax.debye_huckel_parameters(T25).a)
    np.testing.assert_allclose(
        np.asarray(limiting), 10 ** (-a * z**2 * math.sqrt(0.05)), rtol=1e-13
    )
    # γ → 1 as I → 0, as 1 − ln10·A z²√I to first order; exactly 1 at I = 0.
    for fn in (
        lambda i: membrax.debye_huckel_activity_coefficient(z, i, T25),
        lambda i: membrax.debye_huckel_activity_coefficient(z, i, T25, ion_size=0.45),
        lambda i: membrax.davies_activity_coefficient(z, i, T25),
    ):
        assert np.all(np.asarray(fn(0.0)) == 1.0)
        tiny = np.asarray(fn(1e-9))  # 1e-12 M
        np.testing.assert_allclose(1 - tiny, math.log(10) * a * z**2 * 1e-6, rtol=1e-5)


@pytest.mark.parametrize("i_mm", [1e-3, 0.1, 1.0, 10.0])
def test_davies_approaches_limiting_law(i_mm):
    # log γ_Davies / log γ_limiting = 1/(1+√I) − 0.3√I = 1 − 1.3√I + O(I), I in mol/L.
    s = math.sqrt(i_mm / 1e3)
    davies = float(membrax.davies_activity_coefficient(2.0, i_mm, T25))
    limiting = float(membrax.debye_huckel_activity_coefficient(2.0, i_mm, T25))
    ratio = math.log(davies) / math.log(limiting)
    assert ratio == pytest.approx(1 / (1 + s) - 0.3 * s, rel=1e-11)
    assert abs(ratio - 1) <= 1.3 * s + 1e-12


# --- gradients ------------------------------------------------------------------------------

_LAWS = {
    "limiting": lambda z, i, t: membrax.debye_huckel_activity_coefficient(z, i, t),
    "extended": lambda z, i, t: membrax.debye_huckel_activity_coefficient(z, i, t, ion_size=0.45),
    "davies": lambda z, i, t: membrax.davies_activity_coefficient(z, i, t),
}


@pytest.mark.parametrize("law", sorted(_LAWS))
@pytest.mark.parametrize(("i_mm", "temperature"), [(0.5, 280.0), (20.0, T25), (150.0, 310.15)])
def test_gradients_match_finite_differences(law, i_mm, temperature):
    f = _LAWS[law]
    grad_i, grad_t = jax.grad(lambda i, t: f(2.0, i, t), argnums=(0, 1))(i_mm, temperature)
    # Central differences in float64: step ~1e-5 relative leaves truncation and rounding
    # errors near 1e-9 relative.
    h_i, h_t = 1e-5 * i_mm, 1e-3
    fd_i = (float(f(2.0, i_mm + h_i, temperature)) - float(f(2.0, i_mm - h_i, temperature))) / (
        2 * h_i
    )
    fd_t = (float(f(2.0, i_mm, temperature + h_t)) - float(f(2.0, i_mm, temperature - h_t))) / (
        2 * h_t
    )
    assert float(grad_i) == pytest.approx(fd_i, rel=1e-7)
    assert float(grad_t) == pytest.approx(fd_t, rel=1e-7)


def test_gradient_with_respect_to_ion_size_and_permittivity():
    def f(size, eps):
        return membrax.debye_huckel_activity_coefficient(
            1.0, 100.0, T25, ion_size=size, relative_permittivity=eps
        )

    g_size, g_eps = jax.grad(f, argnums=(0, 1))(0.45, 70.0)
    fd_size = (float(f(0.45 + 1e-6, 70.0)) - float(f(0.45 - 1e-6, 70.0))) / 2e-6
    fd_eps = (float(f(0.45, 70.0 + 1e-4)) - float(f(0.45, 70.0 - 1e-4))) / 2e-4
    assert float(g_size) == pytest.approx(fd_size, rel=1e-7)
    assert float(g_eps) == pytest.approx(fd_eps, rel=1e-7)


def test_gradients_at_zero_ionic_strength_are_finite_and_documented():
    # The √I terms contribute 0 at I = 0 (documented stand-in for −∞); Davies keeps its linear
    # term: dγ/dI = ln10 · 0.3 A z² / 1000 per mM at γ = 1.
    a = float(membrax.debye_huckel_parameters(T25).a)
    for law in ("limiting", "extended"):
        g = jax.grad(lambda i, law=law: _LAWS[law](2.0, i, T25))(0.0)
        assert float(g) == 0.0
    g = jax.grad(lambda i: _LAWS["davies"](2.0, i, T25))(0.0)
    assert float(g) == pytest.approx(math.log(10) * 0.3 * a * 4 / 1e3, rel=1e-13)
    # Temperature gradients at I = 0 vanish (γ ≡ 1 there) and are not NaN.
    for law in sorted(_LAWS):
        gt = jax.grad(lambda t, law=law: _LAWS[law](2.0, 0.0, t))(T25)
        assert float(gt) == 0.0


# --- jit / vmap -----------------------------------------------------------------------------


def test_vmap_and_jit_equal_loop():
    i_mm = jnp.array([0.0, 1.0, 10.0, 100.0, 300.0])
    temps = jnp.array([280.0, 290.0, 300.0, 310.0, 320.0])
    z = jnp.array([1.0, -2.0, 2.0, 3.0, -1.0])
    for law in sorted(_LAWS):
        f = _LAWS[law]
        vmapped = jax.vmap(f)(z, i_mm, temps)
        jitted = jax.jit(f)(z, i_mm, temps)
        loop = [float(f(zz, ii, tt)) for zz, ii, tt in zip(z, i_mm, temps, strict=True)]
        np.testing.assert_allclose(np.asarray(vmapped), loop, rtol=1e-14)
        np.testing.assert_allclose(np.asarray(jitted), loop, rtol=1e-14)
    grads = jax.vmap(jax.grad(_LAWS["davies"], argnums=1))(z, i_mm, temps)
    assert bool(jnp.all(jnp.isfinite(grads)))
    eps = jax.jit(membrax.water_relative_permittivity)(temps)
    loop = [float(membrax.water_relative_permittivity(t)) for t in temps]
    np.testing.assert_allclose(np.asarray(eps), loop, rtol=1e-14)


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda: membrax.davies_activity_coefficient(1, -1.0, T25),
            r"davies_activity_coefficient: ionic_strength must be >= 0 mM, got -1\.0",
        ),
        (
            lambda: membrax.davies_activity_coefficient(1, 10.0, 0.0),
            r"temperature must be > 0 K, got 0\.0",
        ),
        (
            lambda: membrax.davies_activity_coefficient(1, 10.0, 0.0, relative_permittivity=78.0),
            r"temperature must be > 0 K",
        ),
        (
            lambda: membrax.debye_huckel_activity_coefficient(1, np.nan, T25),
            r"ionic_strength must be finite, got nan",
        ),
        (
            lambda: membrax.debye_huckel_activity_coefficient(1, 10.0, T25, ion_size=0.0),
            r"ion_size must be > 0 nm, got 0\.0",
        ),
        (
            lambda: membrax.debye_huckel_activity_coefficient(
                1, 10.0, T25, relative_permittivity=-78.0
            ),
            r"relative_permittivity must be > 0, got -78\.0",
        ),
        (
            # 25 °C given as 25 K: outside Malmberg & Maryott's range.
            lambda: membrax.water_relative_permittivity(25.0),
            r"water_relative_permittivity: temperature must be within 273\.15 to 373\.15 K",
        ),
        (
            lambda: membrax.debye_huckel_parameters(400.0),
            r"temperature must be within .* pass relative_permittivity",
        ),
        (
            lambda: membrax.davies_activity_coefficient([1, 2, 3], [10.0, 20.0], T25),
            r"argument shapes do not broadcast: z \(3,\), ionic_strength \(2,\)",
        ),
        (
            lambda: membrax.ionic_strength([10.0, -1.0], [1, -1]),
            r"ionic_strength: c must be >= 0 mM, got -1\.0 at index 1",
        ),
        (
            lambda: membrax.ionic_strength([10.0, 10.0], [1, -1, 2]),
            r"ionic_strength: argument shapes do not broadcast",
        ),
    ],
)
def test_bad_input_raises(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_bad_input_under_jit():
    with pytest.raises(Exception, match="ionic_strength must be >= 0 mM"):
        jax.jit(membrax.davies_activity_coefficient)(1.0, -5.0, T25).block_until_ready()
    # Outside Malmberg & Maryott's range (here 25 K: °C passed as kelvin) a traced temperature
    # fails at run time instead of silently extrapolating the permittivity.
    with pytest.raises(Exception, match=r"temperature must be within 273\.15 to 373\.15 K"):
        jax.jit(membrax.water_relative_permittivity)(25.0).block_until_ready()
    with pytest.raises(Exception, match=r"temperature must be within 273\.15 to 373\.15 K"):
        jax.jit(membrax.davies_activity_coefficient)(1.0, 5.0, 25.0).block_until_ready()
    # The explicit-permittivity path accepts any positive temperature under jit.
    ok = jax.jit(
        lambda t: membrax.davies_activity_coefficient(1.0, 5.0, t, relative_permittivity=60.0)
    )(400.0)
    assert bool(jnp.isfinite(ok))
