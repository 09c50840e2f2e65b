"""Semiconductor mode: electrons and holes with a doping profile, Ohmic contacts, SRH."""

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from .. import constants
from .._custom_types import float_array
from .._validation import check_array, check_scalar
from ..physics._checks import TEMP_FIX
from ._grid import Grid
from ._system import AbstractSource, Bath, PNPSystem, einstein_diffusion

#: Carriers per cm³ in 1 mM: 1 mM = 1 mol/m³ = N_A per 10⁶ cm³.
PER_CM3_PER_MILLIMOLAR = constants.AVOGADRO * 1e-6


def density_to_millimolar(density: ArrayLike) -> Float[Array, "..."]:
    """A number density in cm⁻³ as a concentration in mM (1 mM = 6.022×10¹⁷ cm⁻³)."""
    return float_array(density) / PER_CM3_PER_MILLIMOLAR


def millimolar_to_density(concentration: ArrayLike) -> Float[Array, "..."]:
    """A concentration in mM as a number density in cm⁻³."""
    return float_array(concentration) * PER_CM3_PER_MILLIMOLAR


class SRHRecombination(AbstractSource):
    r"""Shockley–Read–Hall recombination through mid-gap traps, for species 0 = electrons and
    1 = holes (the layout of [`membrax.electrodiffusion.semiconductor`][]):

    $$R = \frac{n p - n_i^2}{\tau_p (n + n_i) + \tau_n (p + n_i)},$$

    removing electrons and holes at the same rate R (generation where R < 0).

    **Fields:**

    - `electron_lifetime`, `hole_lifetime`: τ_n, τ_p, ms, > 0 (1 µs = 1e-3 ms).
    - `intrinsic_density`: n_i, cm⁻³, > 0.

    **Reference:** W. Shockley & W. T. Read (1952), Phys. Rev. 87:835; R. N. Hall (1952),
    Phys. Rev. 87:387.
    """

    electron_lifetime: Float[Array, ""] = eqx.field(converter=float_array)
    hole_lifetime: Float[Array, ""] = eqx.field(converter=float_array)
    intrinsic_density: Float[Array, ""] = eqx.field(converter=float_array)

    def rate(self, x, concentrations, potential, temperature):
        n, p = concentrations[0], concentrations[1]
        ni = density_to_millimolar(self.intrinsic_density)
        r = (n * p - ni * ni) / (self.hole_lifetime * (n + ni) + self.electron_lifetime * (p + ni))
        return jnp.concatenate([-r[None], -r[None], jnp.zeros_like(concentrations[2:])], axis=0)


def _ohmic(net_doping, ni, vt):
    """Equilibrium, charge-neutral carrier densities (n, p) and potential at a contact, with
    φ = 0 at the intrinsic level: n = N/2 + √(N²/4 + n_i²), p = n_i²/n, φ = V_T asinh(N/2n_i).
    Written so that neither n nor p is formed by cancellation."""
    half = net_doping / 2
    root = jnp.sqrt(half * half + ni * ni)
    majority = jnp.abs(half) + root
    minority = ni * ni / majority
    n = jnp.where(net_doping >= 0, majority, minority)
    p = jnp.where(net_doping >= 0, minority, majority)
    return n, p, vt * jnp.arcsinh(half / ni)


def semiconductor(
    grid: Grid,
    doping: ArrayLike,
    *,
    intrinsic_density: ArrayLike,
    electron_mobility: ArrayLike,
    hole_mobility: ArrayLike,
    temperature: ArrayLike,
    relative_permittivity: ArrayLike = 11.7,
    recombination: SRHRecombination | None = None,
) -> PNPSystem:
    r"""A semiconductor device (drift–diffusion model) as a PNP system: electrons (species 0,
    z = −1) and holes (species 1, z = +1) in the field of the ionised dopants, between two
    Ohmic contacts.

    The fixed charge is the net doping $N_D - N_A$. At each contact the carriers are in
    equilibrium and neutral with the doping of the adjacent cell, $n p = n_i^2$,
    $n - p = N_D - N_A$, and the potential (relative to the intrinsic level) is
    $V_T\operatorname{asinh}\bigl((N_D - N_A)/2n_i\bigr)$; an applied voltage adds to the left
    contact. At equilibrium the potential then rises across a p–n junction by the built-in
    potential $V_T\ln(N_A N_D/n_i^2)$.

    Densities are given in cm⁻³ (converted to mM internally: 1 mM = 6.022×10¹⁷ cm⁻³), so the
    solution's concentrations are in mM ([`membrax.electrodiffusion.millimolar_to_density`][]
    converts back) and its current densities in µA/cm².

    **Arguments:**

    - `grid`: a [`membrax.electrodiffusion.Grid`][], nm.
    - `doping`: net doping $N_D - N_A$ per cell, cm⁻³ (positive: n-type).
    - `intrinsic_density`: $n_i$, cm⁻³, > 0 (silicon at 300 K ≈ 1.0×10¹⁰).
    - `electron_mobility`, `hole_mobility`: cm²/(V·s), > 0 (silicon ≈ 1400 and 450); the
      diffusion coefficients follow from the Einstein relation.
    - `temperature`: K, > 0.
    - `relative_permittivity`: per cell or scalar (silicon 11.7).
    - `recombination`: a [`membrax.electrodiffusion.SRHRecombination`][] or None (no
      generation–recombination: each carrier is conserved).

    **Returns:** a [`membrax.electrodiffusion.PNPSystem`][].

    **Reference:** S. M. Sze & K. K. Ng, *Physics of Semiconductor Devices*, 3rd ed. (Wiley,
    2007), ch. 2; S. Selberherr (1984), *Analysis and Simulation of Semiconductor Devices*.
    """
    where = "semiconductor"
    doping = check_array(where, "doping", doping, unit="cm⁻³")
    ni = check_array(
        where,
        "intrinsic_density",
        intrinsic_density,
        unit="cm⁻³",
        positive=True,
        fix="n_i of silicon at 300 K is about 1e10 cm⁻³.",
    )
    check_scalar(where, "intrinsic_density", ni)
    temperature = check_array(
        where, "temperature", temperature, unit="K", positive=True, fix=TEMP_FIX
    )
    check_scalar(where, "temperature", temperature)
    d_n = einstein_diffusion(electron_mobility, temperature)
    d_p = einstein_diffusion(hole_mobility, temperature)
    net = density_to_millimolar(jnp.broadcast_to(doping, (grid.cells,)))
    ni_mm = density_to_millimolar(ni)
    vt = constants.THERMAL_VOLTAGE_PER_KELVIN * temperature
    contacts = []
    for cell in (0, -1):
        n, p, phi = _ohmic(net[cell], ni_mm, vt)
        contacts.append(Bath(jnp.stack([n, p]), phi))
    return PNPSystem(
        grid,
        valence=jnp.array([-1.0, 1.0], dtype=net.dtype),
        diffusion=jnp.stack([d_n, d_p]),
        left=contacts[0],
        right=contacts[1],
        temperature=temperature,
        relative_permittivity=relative_permittivity,
        fixed_charge=net,
        source=recombination,
    )
