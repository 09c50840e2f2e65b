"""Scharfetter–Gummel fluxes: exact for constant flux and constant field across a cell."""

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from .._numerics import exprel


def scharfetter_gummel_flux(
    c_left: ArrayLike, c_right: ArrayLike, drift: ArrayLike, conductance: ArrayLike
) -> Float[Array, "..."]:
    r"""The Scharfetter–Gummel flux across one cell, from its left node to its right node.

    With the dimensionless drop of electrochemical driving potential across the cell
    $u = z(\phi_\text{right}-\phi_\text{left})/V_T + (\mu_\text{right}-\mu_\text{left})$ and
    the Bernoulli function $B(u) = u/(e^u-1)$ (`membrax.exprel`),

    $$J = \frac{D}{h}\bigl[B(u)\,c_\text{left} - B(-u)\,c_\text{right}\bigr],$$

    which is the exact flux of the 1D Nernst–Planck equation when J and the field are
    constant across the cell. It reduces to Fick's law $D(c_\text{left}-c_\text{right})/h$ at
    u = 0, to upwinded drift for |u| ≫ 1, vanishes exactly for Boltzmann-distributed
    concentrations $c_\text{right} = c_\text{left}e^{-u}$, and over one cell it *is* the
    Goldman–Hodgkin–Katz flux with permeability D/h. `exprel` keeps it finite, with finite
    gradients, at u = 0 and for any |u|.

    **Arguments:** (broadcast together)

    - `c_left`, `c_right`: concentrations at the two nodes (any unit; J has the same unit ×
      the unit of `conductance`).
    - `drift`: u, dimensionless.
    - `conductance`: D/h (for example cm²/s ÷ nm).

    **Returns:** J, positive from left to right.

    **Reference:** D. L. Scharfetter & H. K. Gummel (1969), IEEE Trans. Electron Devices
    16:64.
    """
    drift = jnp.asarray(drift)
    return conductance * (exprel(drift) * c_left - exprel(-drift) * c_right)
