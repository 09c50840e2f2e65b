"""Ionic strength and single-ion activity coefficients (Debye–Hückel, Davies)."""

import math
from typing import NamedTuple

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from .. import constants
from .._numerics import safe_sqrt
from .._validation import check_array, check_broadcast, check_condition
from ._checks import Z_FIX, check_temperature

_I_FIX = "Ionic strength is in mM (150 mM NaCl has I = 150 mM) and must be >= 0."
_EPS_FIX = "relative_permittivity is the dimensionless εr of the solvent (water ≈ 78.3 at 25 °C)."
_SIZE_FIX = "ion_size is the effective hydrated diameter in nm (Kielland's å in Å divided by 10)."

# Malmberg & Maryott measured water between 0 and 100 °C; their cubic is a fit to that range.
_WATER_T_MIN = constants.ZERO_CELSIUS
_WATER_T_MAX = constants.ZERO_CELSIUS + 100.0

# Bjerrum length l_B = e²/(4π ε0 εr k_B T) = _BJERRUM_SI / (εr T), in m.
_BJERRUM_SI = constants.ELEMENTARY_CHARGE**2 / (
    4 * math.pi * constants.VACUUM_PERMITTIVITY * constants.BOLTZMANN
)
# Inverse Debye length κ = √(8π l_B N_A I) with I in mol/m³ (= mM); 1 mol/L = 1e3 mol/m³.
_KAPPA_SI = math.sqrt(8 * math.pi * constants.AVOGADRO * constants.MILLIMOLAR_PER_MOLAR)
_METRES_PER_NM = 1e-9


class DebyeHuckelParameters(NamedTuple):
    """The Debye–Hückel constants of a solvent, for ionic strengths in mol/L.

    **Fields:**

    - `a`: A, the limiting-law slope of $\\log_{10}\\gamma$, in L^½·mol^−½ (≈ 0.5116 for water
      at 25 °C).
    - `b`: B, the inverse Debye length per √I, in nm⁻¹·L^½·mol^−½ (≈ 3.291 for water at
      25 °C); multiplied by an ion size in nm it gives the extended-law denominator.
    """

    a: Float[Array, "..."]
    b: Float[Array, "..."]


def _water_permittivity_checked(where, temperature, fix):
    """εr of water at `temperature`, refusing temperatures outside the fit's range (eagerly
    with the value quoted, or at run time under jit) rather than extrapolating the cubic."""
    outside = (temperature < _WATER_T_MIN) | (temperature > _WATER_T_MAX)
    temperature = check_condition(
        where,
        "temperature",
        temperature,
        outside,
        f"within {_WATER_T_MIN} to {_WATER_T_MAX} K (0 to 100 °C, the range of Malmberg & "
        "Maryott's fit for the permittivity of water)",
        f"Temperature is in kelvin (37 °C = 310.15 K).{fix}",
    )
    return _water_relative_permittivity(temperature)


def _water_relative_permittivity(temperature):
    t = temperature - constants.ZERO_CELSIUS
    return 87.740 + t * (-0.40008 + t * (9.398e-4 + t * -1.410e-6))


def water_relative_permittivity(temperature: ArrayLike) -> Float[Array, "..."]:
    r"""The static relative permittivity (dielectric constant) of liquid water.

    $$\varepsilon_r = 87.740 - 0.40008\,t + 9.398\times10^{-4}\,t^2 - 1.410\times10^{-6}\,t^3,
      \qquad t = T - 273.15\ \text{K in °C},$$

    the fit of Malmberg & Maryott to their measurements between 0 and 100 °C (78.30 at 25 °C,
    74.15 at 37 °C). Temperatures outside 273.15–373.15 K are rejected (a `ValueError`,
    raised at run time when traced under `jit`): the cubic is not physics, and a temperature in °C
    passed as kelvin would otherwise give nonsense silently.

    **Arguments:**

    - `temperature`: K, within 273.15–373.15 K.

    **Returns:** εr (dimensionless), the shape of `temperature`.

    **Reference:** C. G. Malmberg & A. A. Maryott (1956), J. Res. Natl. Bur. Stand. 56:1.
    """
    where = "water_relative_permittivity"
    temperature = check_temperature(where, temperature)
    return _water_permittivity_checked(where, temperature, "")


def _debye_huckel_parameters(temperature, relative_permittivity):
    eps_t = relative_permittivity * temperature
    bjerrum = _BJERRUM_SI / eps_t  # m
    kappa_per_sqrt_molar = _KAPPA_SI * jnp.sqrt(bjerrum)  # m⁻¹·L^½·mol^−½
    # ln γ = −z² l_B κ / 2; A is its coefficient of √I (mol/L) in log10.
    a = bjerrum * kappa_per_sqrt_molar / (2 * math.log(10))
    b = kappa_per_sqrt_molar * _METRES_PER_NM
    return DebyeHuckelParameters(a, b)


def _check_temperature_and_permittivity(where, temperature, relative_permittivity):
    temperature = check_temperature(where, temperature)
    if relative_permittivity is None:
        relative_permittivity = _water_permittivity_checked(
            where, temperature, " For other temperatures or solvents pass relative_permittivity."
        )
    else:
        relative_permittivity = check_array(
            where, "relative_permittivity", relative_permittivity, positive=True, fix=_EPS_FIX
        )
    return temperature, relative_permittivity


def debye_huckel_parameters(
    temperature: ArrayLike, *, relative_permittivity: ArrayLike | None = None
) -> DebyeHuckelParameters:
    r"""The Debye–Hückel constants A and B from first principles, for I in mol/L.

    With the Bjerrum length $l_B = e^2/(4\pi\varepsilon_0\varepsilon_r k_B T)$ and the inverse
    Debye length $\kappa = \sqrt{8\pi l_B N_A I}$ ($I$ in mol/m³ $= 10^3 \times$ mol/L),

    $$B = \frac{\kappa}{\sqrt{I}} = \sqrt{8\pi l_B N_A \cdot 10^3},\qquad
      A = \frac{l_B B}{2\ln 10},$$

    so that $\log_{10}\gamma = -A z^2\sqrt{I}/(1 + B a\sqrt{I})$. For water at 25 °C,
    A ≈ 0.5116 L^½·mol^−½ and B ≈ 3.291 nm⁻¹·L^½·mol^−½ (equivalently A = 1.8248×10⁶
    (εr T)^−3/2, B = 502.9 (εr T)^−1/2 nm⁻¹). These are molar-scale (mol/L) constants: the
    molal-scale A is smaller by √ρ_water (0.15 % at 25 °C). The often-quoted 0.509 belongs to
    the older permittivity 78.54.

    **Arguments:** (broadcast together)

    - `temperature`: K, > 0; within 273.15–373.15 K when `relative_permittivity` is None (see
      [`membrax.water_relative_permittivity`][]).
    - `relative_permittivity`: εr of the solvent, > 0; default
      [`membrax.water_relative_permittivity`][]`(temperature)`.

    **Returns:** a [`membrax.DebyeHuckelParameters`][] `(a, b)`: A in L^½·mol^−½ (for
    log10), B in nm⁻¹·L^½·mol^−½.

    **Reference:** P. Debye & E. Hückel (1923), Phys. Z. 24:185; R. A. Robinson &
    R. H. Stokes, *Electrolyte Solutions*, 2nd ed. (1959), ch. 4 and appendix 7.1.
    """
    where = "debye_huckel_parameters"
    temperature, relative_permittivity = _check_temperature_and_permittivity(
        where, temperature, relative_permittivity
    )
    check_broadcast(where, temperature=temperature, relative_permittivity=relative_permittivity)
    return _debye_huckel_parameters(temperature, relative_permittivity)


def _ionic_strength(c, z):
    return 0.5 * jnp.sum(c * z**2, axis=-1)


def ionic_strength(c: ArrayLike, z: ArrayLike) -> Float[Array, "..."]:
    r"""The ionic strength of a solution, in mM.

    $$I = \tfrac12\sum_i c_i z_i^2,$$

    summed over the last axis (the ions). membrax keeps concentrations in mM everywhere, so
    I is in mM too (150 mM NaCl: I = 150 mM); the activity-coefficient functions take it in
    mM and convert to mol/L themselves.

    **Arguments:** (broadcast together; the last axis indexes the ions)

    - `c`: concentrations, mM, ≥ 0.
    - `z`: valences (0 is allowed: a neutral solute adds nothing).

    **Returns:** I in mM, the broadcast shape without its last axis (a scalar for 1-D input).

    **Reference:** G. N. Lewis & M. Randall (1921), J. Am. Chem. Soc. 43:1112.
    """
    where = "ionic_strength"
    c = check_array(
        where, "c", c, unit="mM", nonnegative=True, fix="Concentrations are in mM and must be >= 0."
    )
    z = check_array(where, "z", z, fix=Z_FIX)
    shape = check_broadcast(where, c=c, z=z)
    if len(shape) == 0:
        c, z = jnp.atleast_1d(c), jnp.atleast_1d(z)
    return _ionic_strength(c, z)


def _debye_huckel_log10(z, ionic_strength, temperature, ion_size, relative_permittivity):
    a, b = _debye_huckel_parameters(temperature, relative_permittivity)
    sqrt_i = safe_sqrt(ionic_strength / constants.MILLIMOLAR_PER_MOLAR)
    limiting = -a * z**2 * sqrt_i
    if ion_size is None:
        return limiting
    return limiting / (1 + b * ion_size * sqrt_i)


def _davies_log10(z, ionic_strength, temperature, relative_permittivity):
    a, _ = _debye_huckel_parameters(temperature, relative_permittivity)
    i_molar = ionic_strength / constants.MILLIMOLAR_PER_MOLAR
    sqrt_i = safe_sqrt(i_molar)
    return -a * z**2 * (sqrt_i / (1 + sqrt_i) - 0.3 * i_molar)


def _gamma(log10_gamma):
    # exp(0) is exactly 1, so γ(I = 0) = 1 exactly.
    return jnp.exp(math.log(10) * log10_gamma)


def _check_activity_args(where, z, ionic_strength, temperature, relative_permittivity, **extra):
    """Check the arguments every activity-coefficient law takes, and that they broadcast
    together with any already-checked `extra` arrays (e.g. `ion_size`)."""
    z = check_array(where, "z", z, fix=Z_FIX)
    ionic_strength = check_array(
        where, "ionic_strength", ionic_strength, unit="mM", nonnegative=True, fix=_I_FIX
    )
    temperature, relative_permittivity = _check_temperature_and_permittivity(
        where, temperature, relative_permittivity
    )
    check_broadcast(
        where,
        z=z,
        ionic_strength=ionic_strength,
        temperature=temperature,
        relative_permittivity=relative_permittivity,
        **extra,
    )
    return z, ionic_strength, temperature, relative_permittivity


def debye_huckel_activity_coefficient(
    z: ArrayLike,
    ionic_strength: ArrayLike,
    temperature: ArrayLike,
    *,
    ion_size: ArrayLike | None = None,
    relative_permittivity: ArrayLike | None = None,
) -> Float[Array, "..."]:
    r"""The single-ion activity coefficient γ of the Debye–Hückel theory.

    With $I$ converted to mol/L and A, B from [`membrax.debye_huckel_parameters`][],

    $$\log_{10}\gamma = -A z^2\sqrt{I}\quad\text{(limiting law, `ion_size=None`)},\qquad
      \log_{10}\gamma = -\frac{A z^2\sqrt{I}}{1 + B a\sqrt{I}}\quad\text{(extended law)}.$$

    The limiting law is exact as I → 0 and good to a few per cent below ~1 mM; the extended law
    with Kielland's ion sizes to ~100 mM. For physiological ionic strengths (~150–300 mM)
    prefer [`membrax.davies_activity_coefficient`][] or the extended law, and mind that no
    single-ion activity coefficient is measurable on its own.

    γ(I = 0) = 1 exactly. The derivative of √I is infinite at I = 0; there the √I term
    contributes 0 to the derivative with respect to `ionic_strength` (a finite stand-in, so
    gradients never become NaN), and the derivative is exact for every I > 0.

    **Arguments:** (all broadcast together)

    - `z`: valence (0 gives γ = 1).
    - `ionic_strength`: I in mM, ≥ 0 (see [`membrax.ionic_strength`][]).
    - `temperature`: K, > 0; within 273.15–373.15 K when `relative_permittivity` is None (see
      [`membrax.water_relative_permittivity`][]).
    - `ion_size`: a, the effective ion diameter in nm, > 0 (Kielland's å in Å divided by 10:
      K⁺ 0.3, Na⁺ 0.45, Ca²⁺ 0.6, H⁺ 0.9). None for the limiting law.
    - `relative_permittivity`: εr of the solvent, > 0; default water at `temperature`.

    **Returns:** γ (dimensionless, in (0, 1]).

    **Reference:** P. Debye & E. Hückel (1923), Phys. Z. 24:185; J. Kielland (1937),
    J. Am. Chem. Soc. 59:1675 (ion sizes).
    """
    where = "debye_huckel_activity_coefficient"
    if ion_size is not None:
        ion_size = check_array(where, "ion_size", ion_size, unit="nm", positive=True, fix=_SIZE_FIX)
    z, ionic_strength, temperature, relative_permittivity = _check_activity_args(
        where,
        z,
        ionic_strength,
        temperature,
        relative_permittivity,
        **({} if ion_size is None else {"ion_size": ion_size}),
    )
    return _gamma(
        _debye_huckel_log10(z, ionic_strength, temperature, ion_size, relative_permittivity)
    )


def davies_activity_coefficient(
    z: ArrayLike,
    ionic_strength: ArrayLike,
    temperature: ArrayLike,
    *,
    relative_permittivity: ArrayLike | None = None,
) -> Float[Array, "..."]:
    r"""The single-ion activity coefficient γ of the Davies equation.

    With $I$ converted to mol/L and A(T) from [`membrax.debye_huckel_parameters`][],

    $$\log_{10}\gamma = -A z^2\left(\frac{\sqrt{I}}{1 + \sqrt{I}} - 0.3\,I\right).$$

    An empirical extension of Debye–Hückel, good to a few per cent up to I ≈ 0.1–0.5 M, which
    covers physiological solutions (γ ≈ 0.75 for z = 1 and 0.32 for z = 2 at I = 150 mM and
    37 °C). Above I ≈ 1.9 M the bracket turns negative and γ exceeds 1: far outside its range.

    γ(I = 0) = 1 exactly. At I = 0 the √I terms contribute 0 to the derivative with respect
    to `ionic_strength` (their true derivative is infinite), so the gradient there is the
    finite $+0.3\,A z^2\ln 10 \times 10^{-3}$ per mM of the linear term; it is exact for I > 0.

    **Arguments:** (all broadcast together)

    - `z`: valence (0 gives γ = 1).
    - `ionic_strength`: I in mM, ≥ 0 (see [`membrax.ionic_strength`][]).
    - `temperature`: K, > 0; within 273.15–373.15 K when `relative_permittivity` is None (see
      [`membrax.water_relative_permittivity`][]).
    - `relative_permittivity`: εr of the solvent, > 0; default water at `temperature`.

    **Returns:** γ (dimensionless).

    **Reference:** C. W. Davies (1938), J. Chem. Soc. 2093; C. W. Davies, *Ion Association*
    (Butterworths, 1962), p. 41.
    """
    where = "davies_activity_coefficient"
    z, ionic_strength, temperature, relative_permittivity = _check_activity_args(
        where, z, ionic_strength, temperature, relative_permittivity
    )
    return _gamma(_davies_log10(z, ionic_strength, temperature, relative_permittivity))
