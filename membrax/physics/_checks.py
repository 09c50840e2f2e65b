"""The input checks physics functions share, with one wording for each kind of quantity."""

from jaxtyping import Array, ArrayLike

from .._validation import check_array

CONC_FIX = "Concentrations are in mM and must be positive (use e.g. 1e-4 mM, not 0)."
TEMP_FIX = "Temperature is in kelvin (37 °C = 310.15 K)."
Z_FIX = "z is the ion's valence (e.g. +1 for K⁺, +2 for Ca²⁺, -1 for Cl⁻)."


def check_concentration(where: str, name: str, c: ArrayLike) -> Array:
    """A concentration in mM that must be > 0 (it enters a logarithm)."""
    return check_array(where, name, c, unit="mM", positive=True, fix=CONC_FIX)


def check_temperature(where: str, temperature: ArrayLike) -> Array:
    """An absolute temperature in K, > 0."""
    return check_array(where, "temperature", temperature, unit="K", positive=True, fix=TEMP_FIX)
