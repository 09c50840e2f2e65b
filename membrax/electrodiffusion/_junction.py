"""Liquid-junction potentials from a Nernst–Planck solution of the junction."""

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .. import constants
from .._validation import (
    _is_traced,
    check_array,
    check_condition,
    check_ions,
    check_scalar,
    check_some_positive,
)
from ..physics._checks import TEMP_FIX, Z_FIX
from ._discretisation import POISSON_SCALE
from ._grid import refined_grid
from ._steady import open_circuit_state
from ._system import Bath, PNPSystem

# The junction is a layer of this many Debye lengths (of the more dilute solution) resolved
# by _CELLS cells clustered towards both faces: thick enough that space-charge corrections,
# ~ (λ_D/L)², are < 1e-8 of the potential; the discretisation error converges at second order
# and is ~2e-4 mV for a 20-fold concentration step (against the exact single-salt result).
_DEBYE_LENGTHS = 1e4
_CELLS = 400
# Only ratios of diffusion coefficients matter; they are rescaled to a typical 1e-5 cm²/s.
_D_SCALE = 1e-5
_WATER_PERMITTIVITY = 78.4


def _neutral(where, name, c, z):
    if _is_traced(c) or _is_traced(z):
        return c
    cn, zn = np.asarray(c), np.asarray(z)
    charge = float(np.sum(zn * cn))
    return check_condition(
        where,
        f"{name} (Σ z·c)",
        jnp.asarray(charge),
        abs(charge) > 1e-9 * float(np.sum(np.abs(zn * cn))),
        "0 (an electroneutral solution)",
        f"Balance the charges of {name}: e.g. 100 mM NaCl + 100 mM MgCl₂ holds 300 mM Cl⁻.",
    )


def junction_potential(
    c_first: ArrayLike,
    c_second: ArrayLike,
    z: ArrayLike,
    d: ArrayLike,
    temperature: ArrayLike,
) -> Float[Array, ""]:
    r"""The liquid-junction potential between two electrolyte solutions, φ(second) − φ(first),
    in mV, from the steady Nernst–Planck–Poisson equations of the junction.

    The junction is a layer, much thicker than the Debye length, with the first solution
    held at one face and the second at the other; the steady state at which no current
    flows (see [`membrax.electrodiffusion.open_circuit_state`][]) is solved with the full
    Nernst–Planck fluxes and Poisson's equation, so concentrations are *not* assumed to mix
    linearly as in Henderson's formula (Planck's and Henderson's assumptions give the same
    result for a single salt or for two salts of one common ion at equal concentration, and
    differ by up to a few tenths of a mV otherwise). Its gradient with respect to every
    argument comes from the implicit function theorem.

    **Arguments:** per-ion arrays, 1-D and of equal length (one entry per ion, same order):

    - `c_first`, `c_second`: concentrations of each ion in the two solutions, mM (any common
      unit: only ratios matter), ≥ 0, each solution electroneutral.
    - `z`: valences, nonzero.
    - `d`: diffusion coefficients, > 0, in any consistent unit (only their ratios matter; for
      limiting equivalent conductances λ, $D \propto \lambda/|z|$).
    - `temperature`: K, a scalar > 0.

    **Returns:** the junction potential φ(second) − φ(first), mV, a scalar. (Patch-clamp
    practice often quotes the potential of the bath relative to the pipette solution.)

    **Example:** 50 mM NaCl (first) against 50 mM KCl (second) at 25 °C gives about −4.3 mV:
    K⁺ is more mobile than Na⁺, so the second solution's side charges negatively.

    **Reference:** M. Planck (1890), Ann. Phys. 276:161; P. Henderson (1907), Z. Phys. Chem.
    59:118; B. Ng & P. H. Barry (1995), J. Neurosci. Methods 56:37; M. Marino, L. Misuri &
    D. Brogioli (2014), arXiv:1403.3640 (stationary Nernst–Planck junctions, LJPcalc).
    """
    where = "junction_potential"
    fix = "Concentrations are >= 0 (mM); an ion absent from one solution has 0 there."
    c_first = check_array(where, "c_first", c_first, unit="mM", nonnegative=True, fix=fix)
    c_second = check_array(where, "c_second", c_second, unit="mM", nonnegative=True, fix=fix)
    z = check_array(where, "z", z, nonzero=True, fix=Z_FIX)
    d = check_array(
        where,
        "d",
        d,
        positive=True,
        fix="Diffusion coefficients are > 0, in any consistent unit (only ratios matter).",
    )
    temperature = check_array(
        where, "temperature", temperature, unit="K", positive=True, fix=TEMP_FIX
    )
    check_scalar(where, "temperature", temperature)
    n = check_ions(where, c_first=c_first, c_second=c_second, z=z, d=d)
    c_first, c_second, z, d = (jnp.broadcast_to(a, (n,)) for a in (c_first, c_second, z, d))
    for name, c in (("c_first", c_first), ("c_second", c_second)):
        check_some_positive(where, name, c, fix=f"{name} needs at least one ion > 0 mM.")
        _neutral(where, name, c, z)
    return _junction(c_first, c_second, z, d, temperature)


# jit so that eager calls reuse one compiled solver per ion count (inside a user's jit this is
# simply inlined).
@jax.jit
def _junction(c_first, c_second, z, d, temperature):
    # Debye length of the more dilute solution (by ionic strength), nm:
    # λ² = ε0εr·RT/(F²·Σz²c) = POISSON_SCALE·εr·V_T / Σ z²c with c in mM and V_T in mV.
    vt = constants.THERMAL_VOLTAGE_PER_KELVIN * temperature
    strength = jnp.minimum(jnp.sum(z * z * c_first), jnp.sum(z * z * c_second))
    debye = jnp.sqrt(POISSON_SCALE * _WATER_PERMITTIVITY * vt / strength)
    # The grid must be static: it is laid out in units of the Debye length, and the
    # permittivity is scaled to match (only L/λ_D enters the dimensionless equations).
    grid = refined_grid([0.0, _DEBYE_LENGTHS], _CELLS, clustering=2.0)
    permittivity = _WATER_PERMITTIVITY / debye**2  # makes λ_D = 1 "nm" on this grid
    system = PNPSystem(
        grid,
        valence=z,
        diffusion=d / jnp.max(d) * _D_SCALE,
        left=Bath(c_first),
        right=Bath(c_second),
        temperature=temperature,
        relative_permittivity=permittivity,
    )
    return -open_circuit_state(system).voltage
