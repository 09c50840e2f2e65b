"""Goldman–Hodgkin–Katz constant-field flux, current and reversal potential."""

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .. import constants
from .._numerics import exprel, increasing_root
from .._validation import (
    check_array,
    check_broadcast,
)
from ._checks import check_membrane, check_temperature
from ._nernst import _thermal_voltage

_P_FIX = "Permeabilities are in cm/s and must be >= 0."


def _ghk_flux(v, c_in, c_out, permeability, z, temperature):
    # With w = zFV/RT the textbook form P·w·(c_in − c_out·e^{−w})/(1 − e^{−w}) splits into
    # two exprel terms, each finite with finite gradients at w = 0 and at large |w|.
    w = z * v / _thermal_voltage(temperature)
    return permeability * (c_in * exprel(-w) - c_out * exprel(w))


def _ghk_current(v, c_in, c_out, permeability, z, temperature):
    flux = _ghk_flux(v, c_in, c_out, permeability, z, temperature)
    return z * constants.FARADAY * constants.PERMEABILITY_CURRENT_SCALE * flux


def _check_ghk_args(where, v, c_in, c_out, permeability, z, temperature):
    v = check_array(where, "v", v, unit="mV")
    fix = "Concentrations are in mM and must be >= 0."
    c_in = check_array(where, "c_in", c_in, unit="mM", nonnegative=True, fix=fix)
    c_out = check_array(where, "c_out", c_out, unit="mM", nonnegative=True, fix=fix)
    permeability = check_array(
        where, "permeability", permeability, unit="cm/s", nonnegative=True, fix=_P_FIX
    )
    z = check_array(where, "z", z)
    temperature = check_temperature(where, temperature)
    check_broadcast(
        where, v=v, c_in=c_in, c_out=c_out, permeability=permeability, z=z, temperature=temperature
    )
    return v, c_in, c_out, permeability, z, temperature


def ghk_flux(
    v: ArrayLike,
    c_in: ArrayLike,
    c_out: ArrayLike,
    permeability: ArrayLike,
    z: ArrayLike,
    temperature: ArrayLike,
) -> Float[Array, "..."]:
    r"""The Goldman–Hodgkin–Katz (constant-field) flux of one ion, outward positive.

    With $w = zFV/RT$ and $\operatorname{exprel}(x) = x/(e^x-1)$,

    $$J = P\,\frac{w\,(c_\text{in} - c_\text{out}e^{-w})}{1 - e^{-w}}
        = P\,\bigl[c_\text{in}\operatorname{exprel}(-w)
                   - c_\text{out}\operatorname{exprel}(w)\bigr],$$

    which is finite, with finite gradients, at V = 0 (where $J = P(c_\text{in} - c_\text{out})$,
    plain diffusion) and for any valence, including z = 0 (a neutral solute).

    **Arguments:** (all broadcast together)

    - `v`: membrane potential (inside − outside), mV.
    - `c_in`, `c_out`: concentrations, mM, ≥ 0.
    - `permeability`: P, cm/s, ≥ 0.
    - `z`: valence.
    - `temperature`: K, > 0.

    **Returns:** J in µmol·cm⁻²·s⁻¹ (= nmol·cm⁻²·ms⁻¹), outward positive.

    **Reference:** D. E. Goldman (1943), J. Gen. Physiol. 27:37; A. L. Hodgkin & B. Katz (1949),
    J. Physiol. 108:37.
    """
    args = _check_ghk_args("ghk_flux", v, c_in, c_out, permeability, z, temperature)
    return _ghk_flux(*args)


def ghk_current(
    v: ArrayLike,
    c_in: ArrayLike,
    c_out: ArrayLike,
    permeability: ArrayLike,
    z: ArrayLike,
    temperature: ArrayLike,
) -> Float[Array, "..."]:
    r"""The Goldman–Hodgkin–Katz current density of one ion, outward positive.

    $$I = zF\,J = P\,z^2\frac{F^2 V}{RT}\,\frac{c_\text{in} - c_\text{out}e^{-zFV/RT}}
        {1 - e^{-zFV/RT}},$$

    evaluated through `exprel` (see [`membrax.ghk_flux`][]), so it is finite with finite
    gradients at V = 0 for every valence. It rectifies: outward current is carried by
    `c_in`, inward by `c_out`, and it vanishes at the Nernst potential.

    **Arguments:** as [`membrax.ghk_flux`][]: `v` mV, `c_in`/`c_out` mM, `permeability` cm/s,
    `z` valence, `temperature` K.

    **Returns:** I in µA/cm² (for a whole cell, multiply by the membrane area in cm² for µA,
    and by 1e6 more for pA).

    **Reference:** D. E. Goldman (1943), J. Gen. Physiol. 27:37; A. L. Hodgkin & B. Katz (1949),
    J. Physiol. 108:37.
    """
    args = _check_ghk_args("ghk_current", v, c_in, c_out, permeability, z, temperature)
    return _ghk_current(*args)


def _concrete_monovalent(z) -> bool:
    if isinstance(z, jax.core.Tracer):
        return False
    return bool(np.all(np.abs(np.asarray(z)) == 1))


def _ghk_voltage(permeabilities, c_in, c_out, z, temperature, monovalent):
    vt = _thermal_voltage(temperature)
    if monovalent:
        # All |z| = 1: anions swap sides in the Goldman equation.
        cation = z > 0
        num = jnp.sum(permeabilities * jnp.where(cation, c_out, c_in))
        den = jnp.sum(permeabilities * jnp.where(cation, c_in, c_out))
        return vt * jnp.log(num / den)

    return vt * _ghk_root(permeabilities, c_in, c_out, z)


# jit so that eager calls reuse one compiled root-finder per ion count instead of re-tracing
# its loops every call (inside a user's jit this is simply inlined).
@jax.jit
def _ghk_root(permeabilities, c_in, c_out, z):
    def total_current(u):
        # Σ z·J in units of F·cm/s·mM; only its sign and zero matter, and the root is in the
        # dimensionless u = FV/RT so that it does not depend on temperature.
        w = z * u
        return jnp.sum(z * permeabilities * (c_in * exprel(-w) - c_out * exprel(w)))

    # Every ion's GHK current is increasing in V and vanishes at its own Nernst potential,
    # so the summed current is increasing and changes sign between the extreme Nernst
    # potentials of the ions that are permeant: that is a bracket.
    u_nernst = jnp.log(c_out / c_in) / z
    permeant = permeabilities > 0
    lower = jnp.min(jnp.where(permeant, u_nernst, jnp.inf))
    upper = jnp.max(jnp.where(permeant, u_nernst, -jnp.inf))
    # Newton starts from the Goldman equation with each ion weighted by z²: exact when all
    # ions are monovalent and usually within a few mV otherwise.
    weight = z * z * permeabilities
    cation = z > 0
    guess = jnp.log(
        jnp.sum(weight * jnp.where(cation, c_out, c_in))
        / jnp.sum(weight * jnp.where(cation, c_in, c_out))
    )
    return increasing_root(total_current, lower, upper, guess=guess)


def ghk_voltage(
    permeabilities: ArrayLike,
    c_in: ArrayLike,
    c_out: ArrayLike,
    z: ArrayLike,
    temperature: ArrayLike,
) -> Float[Array, ""]:
    r"""The Goldman–Hodgkin–Katz reversal (resting) potential of a membrane permeable to
    several ions, in mV.

    It is the voltage at which the summed GHK currents vanish,
    $\sum_i I_\text{GHK}(V; P_i, c_{\text{in},i}, c_{\text{out},i}, z_i) = 0$.
    When every ion is monovalent this is the Goldman equation

    $$V = \frac{RT}{F}\ln\frac{\sum_\text{cations}P_i c_{\text{out},i}
          + \sum_\text{anions}P_j c_{\text{in},j}}
          {\sum_\text{cations}P_i c_{\text{in},i} + \sum_\text{anions}P_j c_{\text{out},j}},$$

    evaluated in closed form. With other valences (Ca²⁺, Mg²⁺, SO₄²⁻, ...) there is no general
    closed form and the root is found by safeguarded Newton iteration, bracketed by the ions'
    Nernst potentials (the summed current is strictly increasing in V, so the root is unique).
    Its gradients come from the implicit function theorem, not from unrolled iterations.

    **Arguments:** one entry per ion, 1-D of equal length (scalars broadcast):

    - `permeabilities`: P, cm/s (only ratios matter), ≥ 0, at least one > 0.
    - `c_in`, `c_out`: concentrations, mM, > 0.
    - `z`: valences, nonzero.
    - `temperature`: K, a scalar > 0.

    **Returns:** V in mV, a scalar. For many membranes, `jax.vmap` over the call.

    **Example:** squid axon, $P_K:P_{Na}:P_{Cl} = 1 : 0.04 : 0.45$ (Hodgkin & Katz 1949).

    **Reference:** D. E. Goldman (1943), J. Gen. Physiol. 27:37; A. L. Hodgkin & B. Katz (1949),
    J. Physiol. 108:37.
    """
    where = "ghk_voltage"
    monovalent = _concrete_monovalent(z)
    permeabilities, c_in, c_out, z, temperature = check_membrane(
        where, "permeabilities", permeabilities, c_in, c_out, z, temperature, unit="cm/s"
    )
    return _ghk_voltage(permeabilities, c_in, c_out, z, temperature, monovalent)
