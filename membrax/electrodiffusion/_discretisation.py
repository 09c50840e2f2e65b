"""Box-method (vertex-centred finite-volume) discretisation of Poisson–Nernst–Planck.

Unknowns are stored as one (nodes, 1 + species) array y: column 0 is the potential in units
of the thermal voltage, ψ = φ/V_T, and the others are concentrations in units of a reference
concentration, ĉ = c/c_ref. Both scalings only condition Newton's method and its stopping
test; they are held out of differentiation (a rescaled residual has the same root).
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from .. import constants
from .._numerics import exprel
from ._scharfetter_gummel import scharfetter_gummel_flux
from ._system import Bath, PNPSystem

# ε0·φ/x² with φ in mV and x in nm is a charge density ε0·1e-3/1e-18 C/m³; divided by F it is
# in mol/m³ = mM. So ε0εr ∂²φ [mM] = POISSON_SCALE·εr·∂²φ [mV/nm²].
POISSON_SCALE = constants.VACUUM_PERMITTIVITY * 1e15 / constants.FARADAY  # mM·nm²/mV
# A surface charge σ in C/m² is σ/F mol/m² = σ/F·1e9 mM·nm (1 m = 1e9 nm).
SURFACE_SCALE = 1e9 / constants.FARADAY  # mM·nm per C/m²
# D·c/h with D in cm²/s, c in mM (= µmol/cm³) and h in nm (= 1e-7 cm) is 1e7 µmol/(cm²·s).
FLUX_SCALE = 1e7
# D/h² with D in cm²/s and h in nm: 1e14 nm²/cm² per s, i.e. 1e11 per ms.
RATE_SCALE = 1e11
# A current density in µA/cm² times an area in nm² (1e-14 cm²) is 1e-14 µA = 1e-8 pA.
CURRENT_SCALE = 1e-8


class Scales(NamedTuple):
    vt: Float[Array, ""]  # mV
    c_ref: Float[Array, ""]  # mM
    d_ref: Float[Array, ""]  # cm²/s


def scales(system: PNPSystem) -> Scales:
    vt = constants.THERMAL_VOLTAGE_PER_KELVIN * system.temperature
    sizes = [jnp.max(jnp.abs(system.fixed_charge))]
    for boundary in (system.left, system.right):
        if isinstance(boundary, Bath):
            sizes.append(jnp.max(boundary.concentrations))
    c_ref = jnp.max(jnp.stack(sizes))
    c_ref = jnp.where(c_ref > 0, c_ref, 1.0)
    d_ref = jnp.max(system.diffusion)
    # Scales condition the problem; they are constants for differentiation (see above).
    return Scales(vt, jax.lax.stop_gradient(c_ref), jax.lax.stop_gradient(d_ref))


def boundary_values(system: PNPSystem, voltage, s: Scales):
    """(ψ, ĉ) Dirichlet values of each side, or None for a wall. `voltage` is added to the
    left boundary's potential."""
    out = []
    for boundary, extra in ((system.left, voltage), (system.right, 0.0)):
        if isinstance(boundary, Bath):
            psi = (boundary.potential + extra) / s.vt
            out.append((psi, boundary.concentrations / s.c_ref))
        else:
            out.append(None)
    return out


class Coefficients(NamedTuple):
    """Per-cell and per-node coefficients of the scaled equations."""

    z: Float[Array, " species"]
    displacement: Float[Array, " cells"]  # κA/h, nm³ / nm²: Poisson coupling of a cell
    transport: Float[Array, "cells species"]  # A·D̂/h, nm
    dmu: Float[Array, "cells species"]  # μ(right) − μ(left)
    volume: Float[Array, " nodes"]  # nm³
    fixed: Float[Array, " nodes"]  # node fixed charge (incl. wall surface charge)/c_ref, nm³


def coefficients(system: PNPSystem, s: Scales) -> Coefficients:
    grid = system.grid
    kappa = POISSON_SCALE * system.relative_permittivity * s.vt / s.c_ref  # nm²
    over_h = grid.cell_areas / grid.cell_lengths
    fixed = node_fixed_charge(system) / s.c_ref
    for index, boundary in ((0, system.left), (-1, system.right)):
        if not isinstance(boundary, Bath):
            sigma = boundary.surface_charge * SURFACE_SCALE / s.c_ref * grid.area[index]
            fixed = fixed.at[index].add(sigma)
    mu = system.excess_potential
    return Coefficients(
        z=system.valence,
        displacement=kappa * over_h,
        transport=(system.diffusion / s.d_ref * over_h).T,
        dmu=(mu[:, 1:] - mu[:, :-1]).T,
        volume=grid.node_volumes,
        fixed=fixed,
    )


def cell_term(y_left, y_right, z, displacement, transport, dmu):
    """What one cell sends from its left node to its right node, (1 + species,): the
    displacement κA(ψ_l − ψ_r)/h and the area-weighted Scharfetter–Gummel fluxes A·J/d_ref."""
    drift = z * (y_right[0] - y_left[0]) + dmu
    flux = scharfetter_gummel_flux(y_left[1:], y_right[1:], drift, transport)
    return jnp.concatenate([(displacement * (y_left[0] - y_right[0]))[None], flux])


def node_term(y, x, z, volume, fixed, system: PNPSystem, s: Scales):
    """What a node's control volume adds to its rows, (1 + species,): minus its charge (Gauss)
    and minus its sources (continuity)."""
    charge = volume * jnp.sum(z * y[1:]) + fixed
    if system.source is None:
        sources = jnp.zeros_like(y[1:])
    else:
        rate = system.source.rate(
            x[None], y[1:, None] * s.c_ref, y[None, 0] * s.vt, system.temperature
        )[:, 0]
        sources = volume * rate / (s.c_ref * s.d_ref * RATE_SCALE)
    return -jnp.concatenate([charge[None], sources])


def node_fixed_charge(system: PNPSystem):
    """Fixed charge of each node's control volume, mM·nm³: half of each adjacent cell's."""
    half = system.fixed_charge * system.grid.cell_lengths * system.grid.cell_areas / 2
    return jnp.pad(half, (0, 1)) + jnp.pad(half, (1, 0))


_cell_terms = jax.vmap(cell_term, in_axes=(0, 0, None, 0, 0, 0))
_node_terms = jax.vmap(node_term, in_axes=(0, 0, None, 0, 0, None, None))


def cell_fluxes(y, system: PNPSystem, s: Scales):
    """Scaled Scharfetter–Gummel fluxes per unit area, (species, cells), in d_ref·c_ref/nm."""
    k = coefficients(system, s)
    terms = _cell_terms(y[:-1], y[1:], k.z, k.displacement, k.transport, k.dmu)
    return (terms[:, 1:] / system.grid.cell_areas[:, None]).T


def gross_fluxes(y, system: PNPSystem, s: Scales):
    """|B(u) ĉ_l| + |B(−u) ĉ_r| per cell times A·D̂/h, (species, cells): the two one-way
    Scharfetter–Gummel fluxes whose difference is the net flow A·J (same units as the
    area-weighted cell terms). Their size over |A·J| is the cancellation in the net flow."""
    k = coefficients(system, s)
    psi, c = y[:, 0], y[:, 1:]
    drift = k.z * (psi[1:] - psi[:-1])[:, None] + k.dmu
    gross = k.transport * (jnp.abs(exprel(drift) * c[:-1]) + jnp.abs(exprel(-drift) * c[1:]))
    return gross.T


def interior_rows(y, system: PNPSystem, s: Scales):
    """The balance of every node's control volume, (nodes, 1 + species): Gauss's law
    (Σ displacement out − charge) and continuity (net outflow − production)."""
    k = coefficients(system, s)
    q = _cell_terms(y[:-1], y[1:], k.z, k.displacement, k.transport, k.dmu)
    nodes = _node_terms(y, system.grid.nodes, k.z, k.volume, k.fixed, system, s)
    return jnp.pad(q, ((0, 1), (0, 0))) - jnp.pad(q, ((1, 0), (0, 0))) + nodes


def _boundary_rows(y, system, voltage, open_circuit, s, current_row):
    left, right = boundary_values(system, voltage, s)
    rows = {}
    if left is not None:
        rows[0] = jnp.concatenate([(y[0, 0] - left[0])[None], y[0, 1:] - left[1]])
    if right is not None:
        first = jnp.where(open_circuit, current_row, (y[-1, 0] - right[0])[None])
        rows[-1] = jnp.concatenate([first, y[-1, 1:] - right[1]])
    return rows


def residual(y, system: PNPSystem, voltage, open_circuit):
    """The steady-state residual, (nodes, 1 + species): zero at the solution.

    Bath nodes carry Dirichlet rows. Where `open_circuit` (a bool, may be traced) is true, the
    right bath's potential is an unknown and its potential row says instead that no current
    crosses the last cell.
    """
    s = scales(system)
    k = coefficients(system, s)
    q = _cell_terms(y[:-1], y[1:], k.z, k.displacement, k.transport, k.dmu)
    nodes = _node_terms(y, system.grid.nodes, k.z, k.volume, k.fixed, system, s)
    rows = jnp.pad(q, ((0, 1), (0, 0))) - jnp.pad(q, ((1, 0), (0, 0))) + nodes
    current = jnp.sum(k.z * q[-1, 1:])[None]
    for index, row in _boundary_rows(y, system, voltage, open_circuit, s, current).items():
        rows = rows.at[index].set(row)
    return rows


def residual_and_blocks(y, system: PNPSystem, voltage, open_circuit):
    """The residual and its Jacobian as block-tridiagonal (lower, diagonal, upper) blocks,
    each (nodes, 1 + species, 1 + species), from forward-mode derivatives of the cell and
    node terms (each depends on one or two nodes only, so this costs a few local Jacobians,
    not a global one)."""
    s = scales(system)
    k = coefficients(system, s)
    cell_args = (k.z, k.displacement, k.transport, k.dmu)
    q, (dq_left, dq_right) = jax.vmap(
        lambda yl, yr, *a: (cell_term(yl, yr, *a), jax.jacfwd(cell_term, (0, 1))(yl, yr, *a)),
        in_axes=(0, 0, None, 0, 0, 0),
    )(y[:-1], y[1:], *cell_args)
    node_args = (system.grid.nodes, k.z, k.volume, k.fixed)
    nodes, d_nodes = jax.vmap(
        lambda yi, *a: (node_term(yi, *a, system, s), jax.jacfwd(node_term)(yi, *a, system, s)),
        in_axes=(0, 0, None, 0, 0),
    )(y, *node_args)
    rows = jnp.pad(q, ((0, 1), (0, 0))) - jnp.pad(q, ((1, 0), (0, 0))) + nodes
    # Row i gets +q_i (it is cell i's left node) and −q_{i−1} (cell i − 1's right node).
    pad_end, pad_start = ((0, 1), (0, 0), (0, 0)), ((1, 0), (0, 0), (0, 0))
    diagonal = d_nodes + jnp.pad(dq_left, pad_end) - jnp.pad(dq_right, pad_start)
    upper = jnp.pad(dq_right, pad_end)
    lower = -jnp.pad(dq_left, pad_start)
    current = jnp.sum(k.z * q[-1, 1:])[None]
    identity = jnp.eye(y.shape[1], dtype=y.dtype)
    for index, row in _boundary_rows(y, system, voltage, open_circuit, s, current).items():
        rows = rows.at[index].set(row)
        diagonal = diagonal.at[index].set(identity)
        upper = upper.at[index].set(0.0)
        lower = lower.at[index].set(0.0)
    if isinstance(system.right, Bath):
        # ∂(Σ z q_k)/∂y of the last cell, in the right node's potential row.
        lower = lower.at[-1, 0].set(
            jnp.where(open_circuit, jnp.sum(k.z[:, None] * dq_left[-1, 1:], axis=0), 0.0)
        )
        diagonal = diagonal.at[-1, 0].set(
            jnp.where(
                open_circuit, jnp.sum(k.z[:, None] * dq_right[-1, 1:], axis=0), diagonal[-1, 0]
            )
        )
    return rows, (lower, diagonal, upper)


def donnan_guess(system: PNPSystem, voltage) -> Float[Array, "nodes columns"]:
    """A starting point for Newton: locally electroneutral, Boltzmann-distributed species.

    Between the boundaries, reference concentrations are interpolated (geometrically where
    both sides are > 0, which keeps products such as n·p = n_i² exact in a semiconductor;
    linearly otherwise) along with the potential; at each node the reference is then shifted
    by the Donnan potential u that neutralises the local fixed charge,
    Σ z c_ref e^{−z u − Δμ} + ρ = 0 (a few vectorised Newton iterations).
    """
    s = scales(system)
    grid = system.grid
    left, right = boundary_values(system, voltage, s)
    dirichlet = (left is not None, right is not None)
    if left is None and right is None:
        raise ValueError(
            "PNPSystem: a steady state needs a Bath on at least one side; with walls on both "
            "sides the amounts of each species are not fixed (use transient)."
        )
    left = right if left is None else left
    right = left if right is None else right
    t = (grid.nodes - grid.nodes[0]) / (grid.nodes[-1] - grid.nodes[0])
    c_l, c_r = left[1][:, None], right[1][:, None]
    both = (c_l > 0) & (c_r > 0)
    geometric = jnp.exp(
        (1 - t) * jnp.log(jnp.where(both, c_l, 1.0)) + t * jnp.log(jnp.where(both, c_r, 1.0))
    )
    c_ref = jnp.where(both, geometric, (1 - t) * c_l + t * c_r)  # (species, nodes)
    psi_ref = (1 - t) * left[0] + t * right[0]
    mu = system.excess_potential
    mu_ref = (1 - t) * mu[:, :1] + t * mu[:, -1:]
    c_ref = c_ref * jnp.exp(-(mu - mu_ref))
    rho = node_fixed_charge(system) / grid.node_volumes / s.c_ref
    z = system.valence

    # Σ z c_ref e^{−z u} + ρ = 0 is solved by damped Newton in u from the 1:1-salt closed form
    # asinh(ρ/Σ|z|c): a fixed number of vectorised iterations (this is only a starting point,
    # so no convergence test or bracketing is needed; the clips keep e^{−z u} finite where a
    # node has no counter-ion to its fixed charge).
    zc = z[:, None] * c_ref
    scale = jnp.sum(jnp.abs(zc), axis=0)
    has_ions = scale > 0
    u = jnp.arcsinh(rho / jnp.where(has_ions, scale, 1.0))

    def newton(_, u):
        boltzmann = jnp.exp(jnp.clip(-z[:, None] * u, -60.0, 60.0))
        charge = jnp.sum(zc * boltzmann, axis=0) + rho
        slope = -jnp.sum(z[:, None] * zc * boltzmann, axis=0)  # < 0 where ions exist
        step = charge / jnp.where(slope < 0, slope, -1.0)
        return jnp.clip(u - jnp.clip(step, -2.0, 2.0), -60.0, 60.0)

    u = jax.lax.fori_loop(0, 40, newton, u)
    u = jnp.where(has_ions, u, 0.0)
    # Boundary nodes keep their Dirichlet values.
    if dirichlet[0]:
        u = u.at[0].set(0.0)
    if dirichlet[1]:
        u = u.at[-1].set(0.0)
    c = c_ref * jnp.exp(jnp.clip(-z[:, None] * u[None, :], -60.0, 60.0))
    return jnp.concatenate([(psi_ref + u)[:, None], c.T], axis=1)
