"""Donnan equilibrium of a compartment holding impermeant fixed charge."""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .._numerics import increasing_root
from .._validation import _is_traced, check_array, check_condition, check_ions, check_scalar
from ._checks import Z_FIX, check_concentration, check_temperature
from ._nernst import _thermal_voltage

# The bath must satisfy |Σ z c| <= tol · Σ |z c|: tight in float64, a few ulps in float32.
_NEUTRALITY_RTOL = 1e-9


class DonnanEquilibrium(NamedTuple):
    """The Donnan equilibrium of a compartment against a bath.

    **Fields:**

    - `potential`: V = φ_compartment − φ_bath, mV, a scalar (negative for negative fixed
      charge).
    - `c_in`: the mobile-ion concentrations in the compartment, mM, one per ion.
    - `osmotic_excess`: $\\sum_i c_{\\text{in},i} - \\sum_i c_{\\text{bath},i}$, mM, a
      scalar ≥ 0: the excess osmolarity of the **mobile ions** only (ideal solution). The
      impermeant species that carry the fixed charge add their own particle concentration,
      which their charge does not determine; add it to get the total osmotic imbalance.
    """

    potential: Float[Array, ""]
    c_in: Float[Array, " ions"]
    osmotic_excess: Float[Array, ""]


# jit so that eager calls reuse one compiled root-finder per ion count instead of re-tracing
# and recompiling its loops every call (inside a user's jit this is simply inlined).
@jax.jit
def _donnan(c_bath, z, fixed_charge, temperature):
    def excess_charge(u):
        # −(net charge in the compartment), mM: increasing in u = V/V_T because every
        # mobile ion's charge z·c·e^{−z u} decreases in u.
        return -(jnp.sum(z * c_bath * jnp.exp(-z * u)) + fixed_charge)

    # For a 1:1 salt of concentration c the root is asinh(ρ/2c) exactly, and Σ|z|c = 2c; for
    # other baths this is a first guess, and increasing_root widens the bracket as needed.
    u0 = jnp.arcsinh(fixed_charge / jnp.sum(jnp.abs(z) * c_bath))
    u = increasing_root(excess_charge, u0 - 1.0, u0 + 1.0)
    c_in = c_bath * jnp.exp(-z * u)
    return DonnanEquilibrium(
        potential=_thermal_voltage(temperature) * u,
        c_in=c_in,
        osmotic_excess=jnp.sum(c_in) - jnp.sum(c_bath),
    )


def _check_bath(where, c_bath, z, fixed_charge):
    """Check there is a counter-ion to `fixed_charge` (eagerly, or at run time under jit) and,
    for concrete inputs, that the bath is electroneutral."""
    no_counter = ((fixed_charge < 0) & ~jnp.any(z > 0)) | ((fixed_charge > 0) & ~jnp.any(z < 0))
    fixed_charge = check_condition(
        where,
        "fixed_charge",
        fixed_charge,
        no_counter,
        "neutralizable by a mobile counter-ion in the bath",
        "Negative (positive) fixed charge needs at least one cation (anion) in c_bath and z; "
        "add the counter-ions, or check the sign of fixed_charge.",
    )
    if any(_is_traced(x) for x in (c_bath, z)):
        return fixed_charge
    zn, cn = np.asarray(z), np.asarray(c_bath)
    rtol = max(_NEUTRALITY_RTOL, 64 * float(np.finfo(cn.dtype).eps))
    charge = np.sum(zn * cn)
    if abs(charge) > rtol * np.sum(np.abs(zn * cn)):
        raise ValueError(
            f"{where}: the bath must be electroneutral, |Σ z·c_bath| <= {rtol:.0e}·Σ|z·c_bath|, "
            f"got Σ z·c_bath = {float(charge)!r} mM. Balance the bath's charges (e.g. 140 mM Na⁺ "
            "+ 2 mM Ca²⁺ needs 144 mM of Cl⁻); put fixed, impermeant charge in fixed_charge, not "
            "in c_bath."
        )
    return fixed_charge


def donnan_equilibrium(
    c_bath: ArrayLike,
    z: ArrayLike,
    fixed_charge: ArrayLike,
    temperature: ArrayLike,
) -> DonnanEquilibrium:
    r"""The Donnan equilibrium of a compartment holding impermeant fixed charge, in contact
    with an electroneutral bath through a boundary permeable to every mobile ion.

    Each mobile ion is Boltzmann distributed and the compartment is electroneutral:

    $$c_{\text{in},i} = c_{\text{bath},i}\,e^{-z_i V / V_T},\qquad
      \sum_i z_i c_{\text{in},i} + \rho = 0,\qquad V_T = \frac{RT}{F},$$

    with ρ the fixed charge and $V = \phi_\text{compartment} - \phi_\text{bath}$. The net
    charge is strictly decreasing in V, so the root is unique; it is found in u = V/V_T by
    safeguarded Newton iteration, with gradients from the implicit function theorem. For a
    1:1 salt of concentration c the closed form is $V = V_T\,\operatorname{asinh}(\rho/2c)$,
    $c_\pm = (\mp\rho + \sqrt{\rho^2 + 4c^2})/2$, and $c_+ c_- = c^2$ (the Gibbs–Donnan
    product); in general $c_{\text{in},i}/c_{\text{bath},i} = r^{z_i}$ with one Donnan ratio
    $r = e^{-V/V_T}$.

    **Arguments:**

    - `c_bath`: mobile-ion concentrations in the bath, mM, > 0, 1-D (one entry per ion). The
      bath must be electroneutral: $|\sum z c| \le 10^{-9}\sum|z c|$ (64 ulps in float32),
      checked when the inputs are concrete (under `jit`/`vmap`/`grad` the equations are
      solved as given).
    - `z`: their valences, nonzero, same length (scalars broadcast).
    - `fixed_charge`: ρ, the impermeant charge per volume of compartment, in mM of elementary
      charge, signed (−50 means 50 mM of negative charge, e.g. 25 mM of a protein of net
      charge −2), a scalar. The bath must hold at least one counter-ion to it (a `ValueError`
      for concrete inputs).
    - `temperature`: K, > 0, a scalar.

    **Returns:** a [`membrax.DonnanEquilibrium`][] with `potential` (mV), `c_in` (mM) and
    `osmotic_excess` (mM, mobile ions only). For many compartments, `jax.vmap` over the call.

    **Reference:** F. G. Donnan (1911), Z. Elektrochem. 17:572; B. Hille, *Ion Channels of
    Excitable Membranes*, 3rd ed. (2001), ch. 14.
    """
    where = "donnan_equilibrium"
    c_bath = check_concentration(where, "c_bath", c_bath)
    z = check_array(
        where,
        "z",
        z,
        nonzero=True,
        fix=Z_FIX + " A neutral solute has no Donnan distribution: leave it out.",
    )
    fixed_charge = check_array(
        where,
        "fixed_charge",
        fixed_charge,
        unit="mM",
        fix="fixed_charge is signed, in mM of elementary charge.",
    )
    temperature = check_temperature(where, temperature)
    check_scalar(where, "fixed_charge", fixed_charge)
    check_scalar(where, "temperature", temperature)
    n = check_ions(where, c_bath=c_bath, z=z)
    c_bath, z = (jnp.broadcast_to(a, (n,)) for a in (c_bath, z))
    fixed_charge = _check_bath(where, c_bath, z, fixed_charge)
    return _donnan(c_bath, z, fixed_charge, temperature)
