"""The input checks physics functions share, with one wording for each kind of quantity."""

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike

from .._validation import check_array, check_ions, check_scalar, check_some_positive

CONC_FIX = "Concentrations are in mM and must be positive (use e.g. 1e-4 mM, not 0)."
TEMP_FIX = "Temperature is in kelvin (37 °C = 310.15 K)."
Z_FIX = "z is the ion's valence (e.g. +1 for K⁺, +2 for Ca²⁺, -1 for Cl⁻)."


def check_concentration(where: str, name: str, c: ArrayLike) -> Array:
    """A concentration in mM that must be > 0 (it enters a logarithm)."""
    return check_array(where, name, c, unit="mM", positive=True, fix=CONC_FIX)


def check_temperature(where: str, temperature: ArrayLike) -> Array:
    """An absolute temperature in K, > 0."""
    return check_array(where, "temperature", temperature, unit="K", positive=True, fix=TEMP_FIX)


def check_membrane(
    where: str, weight_name: str, weights: ArrayLike, c_in, c_out, z, temperature, *, unit=""
):
    """Checks for a membrane of several permeant ions: per-ion weights (permeabilities or
    conductances, ≥ 0 and not all zero), concentrations > 0, nonzero valences, one scalar
    temperature. Returns the per-ion arrays broadcast to one length, and the temperature."""
    weights = check_array(
        where, weight_name, weights, unit=unit, nonnegative=True, fix=f"{weight_name} are >= 0."
    )
    c_in = check_concentration(where, "c_in", c_in)
    c_out = check_concentration(where, "c_out", c_out)
    z = check_array(
        where,
        "z",
        z,
        nonzero=True,
        fix=Z_FIX + " A neutral species carries no current: leave it out.",
    )
    temperature = check_temperature(where, temperature)
    check_scalar(where, "temperature", temperature)
    n = check_ions(where, **{weight_name: weights}, c_in=c_in, c_out=c_out, z=z)
    weights, c_in, c_out, z = (jnp.broadcast_to(a, (n,)) for a in (weights, c_in, c_out, z))
    weights = check_some_positive(
        where,
        weight_name,
        weights,
        fix=f"No ion sets the potential; give at least one ion positive {weight_name}.",
    )
    return weights, c_in, c_out, z, temperature
