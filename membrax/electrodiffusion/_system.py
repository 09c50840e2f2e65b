"""The description of an electrodiffusion problem: species, profiles, boundaries, sources."""

import abc

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .. import constants
from .._custom_types import float_array
from .._validation import _is_traced, check_array, check_condition, check_scalar
from ..physics._checks import TEMP_FIX
from ._grid import Grid

_CONC_FIX = "Concentrations are in mM and must be >= 0."
_D_FIX = "Diffusion coefficients are in cm²/s and must be > 0 (e.g. 1.96e-5 for K⁺ in water)."


def einstein_diffusion(mobility: ArrayLike, temperature: ArrayLike) -> Float[Array, "..."]:
    r"""The diffusion coefficient of a charge carrier from its mobility (Einstein relation).

    $$D = \mu\,\frac{k_B T}{q} = \mu\,V_T,$$

    with μ the magnitude of the electrical mobility per unit charge $q = |z| e$ (for ions, the
    mobility of a z-valent ion per elementary charge is $|z|$ times smaller; pass
    $\mu = u/|z|$ when u is tabulated per ion).

    **Arguments:**

    - `mobility`: μ in cm²/(V·s), > 0 (electrons in silicon ≈ 1400, K⁺ in water ≈ 7.6e-4).
    - `temperature`: K, > 0.

    **Returns:** D in cm²/s.

    **Reference:** A. Einstein (1905), Ann. Phys. 17:549.
    """
    where = "einstein_diffusion"
    mobility = check_array(where, "mobility", mobility, unit="cm²/(V·s)", positive=True)
    temperature = check_array(
        where, "temperature", temperature, unit="K", positive=True, fix=TEMP_FIX
    )
    return mobility * constants.THERMAL_VOLTAGE_PER_KELVIN * temperature * 1e-3


class Bath(eqx.Module):
    """A boundary in contact with a well-stirred bath (or an Ohmic contact): Dirichlet values
    for every concentration and for the potential.

    **Fields:**

    - `concentrations`: one per species, mM, ≥ 0; electroneutral together with the fixed
      charge of the adjacent cell (checked when concrete).
    - `potential`: the bath's potential, mV (default 0). The applied voltage of a solve is
      added to the *left* boundary's potential.
    """

    concentrations: Float[Array, " species"] = eqx.field(converter=float_array)
    potential: Float[Array, ""] = eqx.field(converter=float_array, default=0.0)


class Wall(eqx.Module):
    """An impermeable boundary: zero flux of every species, and a surface charge that sets the
    normal electric field (Gauss's law, $-\\varepsilon\\,\\partial_n\\phi = \\sigma$).

    **Fields:**

    - `surface_charge`: σ, C/m² (default 0: an uncharged, insulating wall; 1 e/nm² =
      0.1602 C/m²).
    """

    surface_charge: Float[Array, ""] = eqx.field(converter=float_array, default=0.0)


class AbstractSource(eqx.Module):
    """Volume source terms feeding the continuum: production rates of each species.

    Subclasses implement `rate`, which must act node by node (the rate at a node may depend on
    the concentrations and potential at that node only), so that Newton's Jacobian stays
    block-tridiagonal. Membrane transport, chemical reactions or carrier generation and
    recombination are all sources.
    """

    @abc.abstractmethod
    def rate(
        self,
        x: Float[Array, " nodes"],
        concentrations: Float[Array, "species nodes"],
        potential: Float[Array, " nodes"],
        temperature: Float[Array, ""],
    ) -> Float[Array, "species nodes"]:
        """Production rate of each species at each node, mM/ms (negative for consumption),
        given the node positions (nm), concentrations (mM), potential (mV) and temperature
        (K)."""


class ConstantSource(AbstractSource):
    """A fixed production rate profile (e.g. a pump or a release site).

    **Fields:**

    - `production`: mM/ms, shape (species, nodes), or broadcastable to it.
    """

    production: Float[Array, "species nodes"] = eqx.field(converter=float_array)

    def rate(self, x, concentrations, potential, temperature):
        return jnp.broadcast_to(self.production, concentrations.shape)


def strong(x: Array) -> Array:
    """`x` without JAX's weak type: a Python float becomes a weakly typed array, and jit
    compiles separately for weak and strong inputs; problems built from floats or from arrays
    should share compiled solvers."""
    return jnp.asarray(x, dtype=x.dtype)


def _per_species_profile(where, name, value, m, n, unit, **checks):
    value = check_array(where, name, value, unit=unit, **checks)
    if value.ndim == 1 and value.shape[0] == m:
        value = value[:, None]
    try:
        return strong(jnp.broadcast_to(value, (m, n)))
    except ValueError:
        raise ValueError(
            f"{where}: {name} must be a scalar, one value per species ({m}), or a "
            f"(species, {n}) profile, got shape {value.shape}."
        ) from None


def _profile(where, name, value, n, unit, what, **checks):
    value = check_array(where, name, value, unit=unit, **checks)
    if value.ndim > 1 or (value.ndim == 1 and value.shape[0] != n):
        raise ValueError(
            f"{where}: {name} must be a scalar or one value per {what} ({n}), got shape "
            f"{value.shape}."
        )
    return strong(jnp.broadcast_to(value, (n,)))


class PNPSystem(eqx.Module):
    r"""A Poisson–Nernst–Planck problem on a 1D grid: mobile species moving by diffusion and
    migration in the potential they create together with a fixed charge.

    For each species k (valence $z_k$, diffusion coefficient $D_k$, dimensionless excess
    chemical potential $\mu_k$ in units of $k_BT$) and the potential φ,

    $$J_k = -D_k\Bigl(\partial_x c_k + c_k\,\partial_x\bigl(z_k\tfrac{\phi}{V_T} + \mu_k\bigr)
        \Bigr),\qquad
      \partial_t (A c_k) = -\partial_x (A J_k) + A S_k,$$
    $$-\partial_x\bigl(\varepsilon_0\varepsilon_r A\,\partial_x\phi\bigr)
        = F A\Bigl(\sum_k z_k c_k + \rho_\text{fixed}\Bigr),\qquad V_T = \frac{RT}{F},$$

    with A(x) the cross-section (from the grid). Discretised by the box method with
    Scharfetter–Gummel fluxes (see [`membrax.electrodiffusion.scharfetter_gummel_flux`][]).

    **Fields:** (profiles broadcast from scalars; cells = grid.cells, nodes = cells + 1)

    - `grid`: a [`membrax.electrodiffusion.Grid`][] (positions in nm, areas in nm²).
    - `valence`: $z_k$, one per species (0 for a neutral solute).
    - `diffusion`: $D_k$, cm²/s, > 0: per species, or (species, cells) per cell (e.g. slower
      in a pore). See [`membrax.electrodiffusion.einstein_diffusion`][] for mobilities.
    - `relative_permittivity`: $\varepsilon_r$, > 0, per cell (default 78.4, water at 25 °C).
    - `fixed_charge`: $\rho_\text{fixed}$, mM of elementary charge, signed, per cell (default
      0): ionised groups of a pore wall or membrane, or net doping $N_D - N_A$.
    - `excess_potential`: $\mu_k$, dimensionless ($k_BT$), per species and node (default 0):
      a potential of mean force such as a Born (dehydration) barrier, giving equilibrium
      partition coefficients $e^{-\mu_k}$; it makes interfaces selective.
    - `left`, `right`: a [`membrax.electrodiffusion.Bath`][] (Dirichlet concentrations and
      potential) or a [`membrax.electrodiffusion.Wall`][] (zero flux, surface charge).
    - `temperature`: K, > 0.
    - `source`: an [`membrax.electrodiffusion.AbstractSource`][] or None.
    """

    grid: Grid
    valence: Float[Array, " species"] = eqx.field(converter=float_array)
    diffusion: Float[Array, "species cells"] = eqx.field(converter=float_array)
    relative_permittivity: Float[Array, " cells"] = eqx.field(converter=float_array)
    fixed_charge: Float[Array, " cells"] = eqx.field(converter=float_array)
    excess_potential: Float[Array, "species nodes"] = eqx.field(converter=float_array)
    left: Bath | Wall
    right: Bath | Wall
    temperature: Float[Array, ""] = eqx.field(converter=float_array)
    source: AbstractSource | None

    def __init__(
        self,
        grid: Grid,
        *,
        valence: ArrayLike,
        diffusion: ArrayLike,
        left: Bath | Wall,
        right: Bath | Wall,
        temperature: ArrayLike,
        relative_permittivity: ArrayLike = 78.4,
        fixed_charge: ArrayLike = 0.0,
        excess_potential: ArrayLike = 0.0,
        source: AbstractSource | None = None,
    ):
        where = "PNPSystem"
        if not isinstance(grid, Grid):
            raise TypeError(f"{where}: grid must be a Grid, got {type(grid).__name__}.")
        cells, nodes = grid.cells, grid.cells + 1
        valence = check_array(where, "valence", valence)
        if valence.ndim != 1 or valence.shape[0] == 0:
            raise ValueError(
                f"{where}: valence must be 1-D with one entry per species, got shape "
                f"{valence.shape}."
            )
        m = valence.shape[0]
        self.grid = Grid(strong(grid.nodes), strong(grid.area))
        self.valence = strong(valence)
        self.diffusion = _per_species_profile(
            where, "diffusion", diffusion, m, cells, "cm²/s", positive=True, fix=_D_FIX
        )
        self.relative_permittivity = _profile(
            where,
            "relative_permittivity",
            relative_permittivity,
            cells,
            "",
            "cell",
            positive=True,
            fix="εr is dimensionless (water ≈ 78, lipid ≈ 2, silicon 11.7).",
        )
        self.fixed_charge = _profile(
            where,
            "fixed_charge",
            fixed_charge,
            cells,
            "mM",
            "cell",
            fix="fixed_charge is signed, in mM of elementary charge.",
        )
        self.excess_potential = _per_species_profile(
            where, "excess_potential", excess_potential, m, nodes, "kT"
        )
        for side, boundary in (("left", left), ("right", right)):
            if isinstance(boundary, Bath):
                c = check_array(
                    where, f"{side}.concentrations", boundary.concentrations, unit="mM",
                    nonnegative=True, fix=_CONC_FIX,
                )  # fmt: skip
                if c.shape != (m,):
                    raise ValueError(
                        f"{where}: {side}.concentrations must have one entry per species "
                        f"({m}), got shape {c.shape}."
                    )
                check_array(where, f"{side}.potential", boundary.potential, unit="mV")
                check_scalar(where, f"{side}.potential", boundary.potential)
            elif isinstance(boundary, Wall):
                check_array(where, f"{side}.surface_charge", boundary.surface_charge, unit="C/m²")
                check_scalar(where, f"{side}.surface_charge", boundary.surface_charge)
            else:
                raise TypeError(
                    f"{where}: {side} must be a Bath or a Wall, got {type(boundary).__name__}."
                )
        self.left, self.right = (
            Bath(strong(float_array(b.concentrations)), strong(float_array(b.potential)))
            if isinstance(b, Bath)
            else Wall(strong(float_array(b.surface_charge)))
            for b in (left, right)
        )
        temperature = check_array(
            where, "temperature", temperature, unit="K", positive=True, fix=TEMP_FIX
        )
        check_scalar(where, "temperature", temperature)
        self.temperature = strong(temperature)
        if source is not None and not isinstance(source, AbstractSource):
            raise TypeError(
                f"{where}: source must be an AbstractSource or None, got {type(source).__name__}."
            )
        self.source = source
        self._check_neutral_baths(where)

    def _check_neutral_baths(self, where):
        # A bath is either an electroneutral reservoir (Σ z c = 0; a Donnan layer then forms
        # where fixed charge begins) or, like an Ohmic contact to a doped semiconductor,
        # neutral together with the fixed charge of the adjacent cell (Σ z c + ρ = 0).
        for side, boundary, cell in (("left", self.left, 0), ("right", self.right, -1)):
            if not isinstance(boundary, Bath):
                continue
            c, z, x = boundary.concentrations, self.valence, self.fixed_charge[cell]
            if any(_is_traced(a) for a in (c, z, x)):
                continue
            zc = np.asarray(z) * np.asarray(c)
            charge, fixed = float(np.sum(zc)), float(np.asarray(x))
            scale = max(float(np.sum(np.abs(zc))) + abs(fixed), 1e-300)
            bad = min(abs(charge), abs(charge + fixed)) > 1e-9 * scale
            check_condition(
                where,
                f"{side}.concentrations",
                jnp.asarray(charge),
                bad,
                "electroneutral (Σ z·c = 0 mM, or Σ z·c + fixed_charge = 0 for a contact to a "
                "charged region), Σ z·c",
                "A charged bath would drive a spurious boundary layer: balance its ions (e.g. "
                "100 mM Na⁺ + 1 mM Ca²⁺ needs 102 mM Cl⁻).",
            )

    @property
    def species(self) -> int:
        """The number of mobile species."""
        return self.valence.shape[0]
