"""Woodhull voltage-dependent block of open channels by charged blockers."""

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .._validation import check_array, check_broadcast, check_ions, check_scalar
from ._checks import Z_FIX, check_temperature
from ._nernst import _thermal_voltage

_KD_FIX = "Dissociation constants are in mM and must be > 0 (1 µM = 1e-3 mM)."
_DELTA_FIX = (
    "delta is the fraction of the membrane field the blocker crosses to reach its site, "
    "measured from the side it comes from (0 to 1; effective values above 1 mean coupled "
    "movement of permeant ions)."
)


def _side_sign(from_outside):
    # +1 for a blocker from the inside, −1 from the outside (a static or traced boolean).
    return jnp.where(jnp.asarray(from_outside, bool), -1.0, 1.0)


def _woodhull_kd(v, kd_zero, z, delta, temperature, from_outside):
    u = v / _thermal_voltage(temperature)
    return kd_zero * jnp.exp(-_side_sign(from_outside) * z * delta * u)


def woodhull_dissociation_constant(
    v: ArrayLike,
    kd_zero: ArrayLike,
    z: ArrayLike,
    delta: ArrayLike,
    temperature: ArrayLike,
    *,
    from_outside: ArrayLike = False,
) -> Float[Array, "..."]:
    r"""The voltage-dependent dissociation constant of a blocker that binds a site at
    electrical distance δ within the pore (the Woodhull model), in mM.

    For a blocker entering from the **inside** (spermine and Mg²⁺ in Kir channels), with V
    the membrane potential (inside − outside),

    $$K_d(V) = K_d(0)\,e^{-z\delta FV/RT},$$

    so depolarisation drives the blocker in and strengthens block; for a blocker from the
    **outside** (Mg²⁺ in NMDA receptors) the sign of the exponent flips,
    $K_d(V) = K_d(0)\,e^{+z\delta FV/RT}$, and depolarisation relieves block.

    **Arguments:** (broadcast together)

    - `v`: membrane potential, mV.
    - `kd_zero`: $K_d(0)$, mM, > 0.
    - `z`: the blocker's valence, nonzero (+4 for spermine, +2 for Mg²⁺).
    - `delta`: electrical distance of the site from the blocker's side (dimensionless).
    - `temperature`: K, > 0.
    - `from_outside`: True for an external blocker (default False: internal).

    **Returns:** $K_d(V)$ in mM.

    **Reference:** A. M. Woodhull (1973), J. Gen. Physiol. 61:687.
    """
    where = "woodhull_dissociation_constant"
    v = check_array(where, "v", v, unit="mV")
    kd_zero = check_array(where, "kd_zero", kd_zero, unit="mM", positive=True, fix=_KD_FIX)
    z = check_array(where, "z", z, nonzero=True, fix=Z_FIX)
    delta = check_array(where, "delta", delta, fix=_DELTA_FIX)
    temperature = check_temperature(where, temperature)
    check_broadcast(
        where,
        v=v,
        kd_zero=kd_zero,
        z=z,
        delta=delta,
        temperature=temperature,
        from_outside=jnp.asarray(from_outside),
    )
    return _woodhull_kd(v, kd_zero, z, delta, temperature, from_outside)


def _site_matrix(where, sites, n_blockers):
    if sites is None:
        sites = np.zeros(n_blockers, int)
    sites = np.asarray(sites)
    if (
        sites.shape != (n_blockers,)
        or not np.issubdtype(sites.dtype, np.integer)
        or np.any(sites < 0)
    ):
        raise ValueError(
            f"{where}: sites must hold one whole number >= 0 per blocker ({n_blockers}), "
            f"got {sites.tolist()}. Blockers with the same number compete for one site; "
            "different numbers are independent sites."
        )
    # One row per site in use: blockers sharing a site compete, sites block independently.
    used = np.unique(sites)
    return (sites[None, :] == used[:, None]).astype(float)


# jit: eager calls reuse one compiled kernel per shape (inlined inside a user's jit).
@jax.jit
def _woodhull_unblocked(v, c_blocker, kd_zero, z, delta, temperature, from_outside, site_matrix):
    v = jnp.asarray(v)[..., None]
    u = v / _thermal_voltage(temperature)
    # c/K_d(V) = (c/K_d(0))·e^{±zδu}, formed as a product so that c = 0 is exact.
    ratio = c_blocker / kd_zero * jnp.exp(_side_sign(from_outside) * z * delta * u)
    per_site = jnp.sum(ratio[..., None, :] * site_matrix, axis=-1)
    return jnp.exp(-jnp.sum(jnp.log1p(per_site), axis=-1))


def woodhull_unblocked_fraction(
    v: ArrayLike,
    c_blocker: ArrayLike,
    kd_zero: ArrayLike,
    z: ArrayLike,
    delta: ArrayLike,
    temperature: ArrayLike,
    *,
    from_outside: ArrayLike = False,
    sites: ArrayLike | None = None,
) -> Float[Array, "..."]:
    r"""The fraction of open channels not blocked, for one or several Woodhull blockers at
    one or several sites.

    Blockers sharing a site compete for it; distinct sites block independently:

    $$f(V) = \prod_\text{sites}\frac{1}{1 + \sum_{j\in\text{site}} c_j/K_{d,j}(V)},$$

    with $K_{d,j}(V)$ from [`membrax.physics.woodhull_dissociation_constant`][]. Multiplying
    an open-channel current by f gives the rectification of Kir channels (internal spermine
    and Mg²⁺) or the Mg²⁺ block of NMDA receptors; with one external blocker this is
    $1/(1 + [\text{Mg}]/K_d(0)\,e^{-z\delta FV/RT})$, the form of Jahr & Stevens (1990).

    **Arguments:**

    - `v`: membrane potential, mV, any shape.
    - `c_blocker`: blocker concentrations, mM, ≥ 0, one per blocker, shape (B,) or scalar.
    - `kd_zero`, `z`, `delta`: per blocker (shape (B,) or scalar): $K_d(0)$ in mM (> 0),
      valence (nonzero), electrical distance from the blocker's side.
    - `temperature`: K, a scalar > 0.
    - `from_outside`: per blocker, True for an external blocker (default False).
    - `sites`: per blocker, the (static) index of the site it binds; default all 0 (one
      site, competitive).

    **Returns:** f in [0, 1], the shape of `v`.

    **Reference:** A. M. Woodhull (1973), J. Gen. Physiol. 61:687; A. N. Lopatin, E. N.
    Makhina & C. G. Nichols (1994), Nature 372:366 (Kir polyamine block); C. E. Jahr &
    C. F. Stevens (1990), J. Neurosci. 10:3178 (NMDA Mg²⁺ block).
    """
    where = "woodhull_unblocked_fraction"
    v = check_array(where, "v", v, unit="mV")
    c_blocker = check_array(
        where, "c_blocker", c_blocker, unit="mM", nonnegative=True, fix="Concentrations >= 0."
    )
    kd_zero = check_array(where, "kd_zero", kd_zero, unit="mM", positive=True, fix=_KD_FIX)
    z = check_array(where, "z", z, nonzero=True, fix=Z_FIX)
    delta = check_array(where, "delta", delta, fix=_DELTA_FIX)
    temperature = check_temperature(where, temperature)
    check_scalar(where, "temperature", temperature)
    from_outside = jnp.asarray(from_outside, bool)
    n = check_ions(
        where, c_blocker=c_blocker, kd_zero=kd_zero, z=z, delta=delta, from_outside=from_outside
    )
    c_blocker, kd_zero, z, delta, from_outside = (
        jnp.broadcast_to(a, (n,)) for a in (c_blocker, kd_zero, z, delta, from_outside)
    )
    site_matrix = _site_matrix(where, sites, n)
    return _woodhull_unblocked(
        v, c_blocker, kd_zero, z, delta, temperature, from_outside, site_matrix
    )
