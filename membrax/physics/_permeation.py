"""Permeation through the pore: Eyring rate-theory barrier models (one-ion and multi-ion
single-file pores), selectivity from transfer free energies, and diffusion-limited access.

**Energies** here are molar free energies in **J/mol** (as in
[`membrax.transport_free_energy`][]; 1 kcal/mol = 4184 J/mol). Barrier and well energies are
measured at V = 0 from the ion in solution at the standard concentration of 1 M.

**Electrical distances** are fractions of the membrane field measured **from the inside**:
0 is the inner solution, 1 the outer one. At membrane potential V (inside − outside) an ion of
valence z at distance δ has electrical energy $zFV(1 - \\delta)$.
"""

import functools
import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .. import constants
from .._validation import (
    check_array,
    check_broadcast,
    check_condition,
    check_ions,
    check_scalar,
)
from ._checks import Z_FIX, check_temperature
from ._markov import _markov_steady_state, _transition_matrix
from ._nernst import _thermal_voltage

# The standard state of barrier energies: 1 M = 1000 mM.
STANDARD_CONCENTRATION = 1000.0

_E_FIX = "Energies are molar free energies in J/mol (1 kcal/mol = 4184 J/mol)."
_C_FIX = "Concentrations are in mM and must be >= 0."
_DIST_FIX = (
    "Electrical distances are fractions of the field from the inside (0) to the outside (1), "
    "in the order barrier 0, site 0, barrier 1, site 1, ..., last barrier."
)


def _rt(temperature):
    return constants.GAS_CONSTANT * temperature


def _eyring_frequency(temperature):
    # k_B·T/h in 1/s, times 1e-3 for 1/ms (≈ 6.46e9 /ms at 310 K).
    return constants.BOLTZMANN * temperature / constants.PLANCK * 1e-3


def eyring_rate(
    barrier: ArrayLike,
    temperature: ArrayLike,
    *,
    attempt_frequency: ArrayLike | None = None,
) -> Float[Array, "..."]:
    r"""The Eyring (transition-state theory) rate of crossing a free-energy barrier, in 1/ms.

    $$k = \nu\,e^{-\Delta G^\ddagger/RT}, \qquad \nu = \frac{k_B T}{h}
      \approx 6.46\times10^{9}\ \text{ms}^{-1}\ \text{at 310 K}.$$

    Every conductance of a barrier model is proportional to such a factor in the linear
    regime, so lowering a barrier by ΔΔG multiplies the conductance by $e^{\Delta\Delta G/RT}$:
    2 kcal/mol (8368 J/mol) at 310 K gives ≈ 25.7×.

    **Arguments:** (broadcast together)

    - `barrier`: ΔG‡, J/mol.
    - `temperature`: K, > 0.
    - `attempt_frequency`: ν in 1/ms, > 0; default $k_BT/h$.

    **Returns:** k in 1/ms.

    **Reference:** H. Eyring (1935), J. Chem. Phys. 3:107; B. Hille, *Ion Channels of
    Excitable Membranes*, 3rd ed. (2001), ch. 14.
    """
    where = "eyring_rate"
    barrier = check_array(where, "barrier", barrier, unit="J/mol", fix=_E_FIX)
    temperature = check_temperature(where, temperature)
    nu = _attempt_frequency(where, attempt_frequency, temperature)
    check_broadcast(where, barrier=barrier, temperature=temperature, attempt_frequency=nu)
    return nu * jnp.exp(-barrier / _rt(temperature))


def _attempt_frequency(where, attempt_frequency, temperature):
    if attempt_frequency is None:
        return _eyring_frequency(temperature)
    return check_array(
        where,
        "attempt_frequency",
        attempt_frequency,
        unit="1/ms",
        positive=True,
        fix="It is the prefactor ν of the Eyring rate (default k_B·T/h).",
    )


# --- barrier models ---------------------------------------------------------------------------


class _PoreStates:
    """The occupancy states of a single-file pore and its elementary transitions (static).

    A state gives each of the m sites a species 1..S or 0 (vacant); at most `max_ions` sites
    are occupied. Every transition moves one ion of species s outward across barrier j (its
    backward direction moves it inward): from the inner solution (origin -1) or site j-1, to
    site j or the outer solution (destination m).
    """

    def __init__(self, n_sites, n_species, max_ions):
        states = [
            s
            for s in itertools.product(range(n_species + 1), repeat=n_sites)
            if sum(x > 0 for x in s) <= max_ions
        ]
        index = {s: i for i, s in enumerate(states)}
        src, dst, species, barrier, origin, dest = [], [], [], [], [], []
        for s in states:
            for j in range(n_sites + 1):
                # Across barrier j: from site j-1 (or inside) to site j (or outside).
                for sp in range(1, n_species + 1):
                    if j > 0 and s[j - 1] != sp:
                        continue
                    if j < n_sites and s[j] != 0:
                        continue
                    new = list(s)
                    if j > 0:
                        new[j - 1] = 0
                    if j < n_sites:
                        new[j] = sp
                    t = tuple(new)
                    if t not in index:
                        continue  # an entry that would exceed max_ions
                    src.append(index[s])
                    dst.append(index[t])
                    species.append(sp - 1)
                    barrier.append(j)
                    origin.append(j - 1)
                    dest.append(j)
        self.n_states = len(states)
        self.states = np.array(states, dtype=int).reshape(len(states), n_sites)
        self.src, self.dst = np.array(src), np.array(dst)
        self.species, self.barrier = np.array(species), np.array(barrier)
        self.origin, self.dest = np.array(origin), np.array(dest)
        occupied = self.states > 0
        # Nearest-neighbour pairs of occupied sites in each state (for the repulsion).
        self.pairs = np.sum(occupied[:, 1:] & occupied[:, :-1], axis=1).astype(float)
        # flux_matrix[j, t, s] = 1 where transition t moves species s across barrier j: at
        # steady state every barrier carries the same net flux of each species.
        self.flux_matrix = np.zeros((n_sites + 1, len(src), n_species))
        self.flux_matrix[self.barrier, np.arange(len(src)), self.species] = 1.0


@functools.lru_cache(maxsize=64)
def _pore_states(n_sites, n_species, max_ions):
    return _PoreStates(n_sites, n_species, max_ions)


def _check_barrier_model(
    where,
    v,
    c_in,
    c_out,
    z,
    temperature,
    barriers,
    wells,
    barrier_distances,
    well_distances,
    repulsion,
    max_ions,
    attempt_frequency,
):
    v = check_array(where, "v", v, unit="mV")
    c_in = check_array(where, "c_in", c_in, unit="mM", nonnegative=True, fix=_C_FIX)
    c_out = check_array(where, "c_out", c_out, unit="mM", nonnegative=True, fix=_C_FIX)
    z = check_array(where, "z", z, nonzero=True, fix=Z_FIX)
    temperature = check_temperature(where, temperature)
    check_scalar(where, "temperature", temperature)
    barriers = check_array(where, "barriers", barriers, unit="J/mol", fix=_E_FIX)
    wells = check_array(where, "wells", wells, unit="J/mol", fix=_E_FIX)
    repulsion = check_array(where, "repulsion", repulsion, unit="J/mol", fix=_E_FIX)
    check_scalar(where, "repulsion", repulsion)
    barrier_distances = check_array(where, "barrier_distances", barrier_distances, fix=_DIST_FIX)
    well_distances = check_array(where, "well_distances", well_distances, fix=_DIST_FIX)
    if barrier_distances.ndim != 1 or well_distances.ndim != 1:
        raise ValueError(
            f"{where}: barrier_distances and well_distances must be 1-D, got shapes "
            f"{barrier_distances.shape} and {well_distances.shape}. {_DIST_FIX}"
        )
    n_sites = well_distances.shape[0]
    if barrier_distances.shape[0] != n_sites + 1:
        raise ValueError(
            f"{where}: a pore with {n_sites} sites (well_distances) has {n_sites + 1} "
            f"barriers, but barrier_distances has {barrier_distances.shape[0]} entries. "
            "Give one barrier more than sites: the entry barrier, one between each pair of "
            "sites, and the exit barrier."
        )
    if barriers.ndim not in (1, 2) or barriers.shape[-1] != n_sites + 1:
        raise ValueError(
            f"{where}: barriers must have shape ({n_sites + 1},) or (species, {n_sites + 1}): "
            f"one energy per barrier (per species), got shape {barriers.shape}."
        )
    if wells.ndim not in (1, 2) or wells.shape[-1] != n_sites:
        raise ValueError(
            f"{where}: wells must have shape ({n_sites},) or (species, {n_sites}): one energy "
            f"per binding site (per species), got shape {wells.shape}."
        )
    sizes = {"c_in/c_out/z": check_ions(where, c_in=c_in, c_out=c_out, z=z)}
    sizes.update(
        {name: a.shape[0] for name, a in (("barriers", barriers), ("wells", wells)) if a.ndim == 2}
    )
    if len(set(sizes.values()) - {1}) > 1:
        listed = ", ".join(f"{name} {k}" for name, k in sizes.items())
        raise ValueError(
            f"{where}: the number of species differs between arguments ({listed}). Give one "
            "row of barriers and of wells, one concentration and one valence per species."
        )
    n_species = max(sizes.values())
    c_in, c_out, z = (jnp.broadcast_to(a, (n_species,)) for a in (c_in, c_out, z))
    barriers = jnp.broadcast_to(barriers, (n_species, n_sites + 1))
    wells = jnp.broadcast_to(wells, (n_species, n_sites))
    # Positions must run inside → outside: barrier 0, site 0, barrier 1, ..., last barrier.
    # Concrete values are checked in NumPy (an eager jnp op compiles per shape).
    traced = any(isinstance(a, jax.core.Tracer) for a in (barrier_distances, well_distances))
    xp = jnp if traced else np
    order = xp.stack(
        [
            barrier_distances[0],
            *[d for pair in zip(well_distances, barrier_distances[1:]) for d in pair],
        ]
    )
    bad = (order < 0) | (order > 1) | xp.concatenate([xp.zeros(1, bool), xp.diff(order) < 0])
    barrier_distances = check_condition(
        where,
        "barrier_distances",
        barrier_distances,
        xp.any(bad),
        "in [0, 1] and interleaved in order with well_distances",
        _DIST_FIX,
    )
    if max_ions is None:
        max_ions = n_sites
    if not isinstance(max_ions, int) or isinstance(max_ions, bool) or max_ions < 1:
        raise ValueError(
            f"{where}: max_ions must be a whole number >= 1 (a Python int), got {max_ions!r}. "
            "It caps how many ions the pore holds at once (1: a one-ion pore)."
        )
    nu = _attempt_frequency(where, attempt_frequency, temperature)
    check_scalar(where, "attempt_frequency", nu)
    return (
        v,
        c_in,
        c_out,
        z,
        temperature,
        barriers,
        wells,
        barrier_distances,
        well_distances,
        repulsion,
        min(max_ions, max(n_sites, 1)),
        nu,
    )


def _barrier_model(
    v,
    c_in,
    c_out,
    z,
    temperature,
    barriers,
    wells,
    barrier_distances,
    well_distances,
    repulsion,
    max_ions,
    nu,
):
    """Outward fluxes (ions/ms per channel), shape v.shape + (S,), and the occupancies."""
    v = jnp.asarray(v)[..., None]
    u = v / _thermal_voltage(temperature)  # (..., 1)
    rt = _rt(temperature)
    g = barriers / rt  # (S, m+1), in units of RT
    w = wells / rt  # (S, m)
    n_sites = w.shape[1]
    log_nu = jnp.log(nu)
    x_in, x_out = c_in / STANDARD_CONCENTRATION, c_out / STANDARD_CONCENTRATION
    if n_sites == 0:
        # One barrier, no site: the pore never holds an ion, J = k_in·c_in − k_out·c_out.
        top = g[:, 0] + z * u * (1 - barrier_distances[0])
        k_in = jnp.exp(log_nu - (top - z * u))
        k_out = jnp.exp(log_nu - top)
        return k_in * x_in - k_out * x_out, jnp.ones((*u.shape[:-1], 1), u.dtype)

    p = _pore_states(n_sites, z.shape[0], max_ions)
    s, j = p.species, p.barrier
    # Energy (in RT) of the moving ion before and after, and at the barrier top.
    site_energy = w + z[:, None] * u[..., None] * (1 - well_distances)  # (..., S, m)
    origin_site = np.maximum(p.origin, 0)
    dest_site = np.minimum(p.dest, n_sites - 1)
    from_inside = p.origin < 0
    to_outside = p.dest >= n_sites
    e_from = jnp.where(from_inside, z[s] * u, site_energy[..., s, origin_site])
    e_to = jnp.where(to_outside, 0.0, site_energy[..., s, dest_site])
    top = g[s, j] + z[s] * u * (1 - barrier_distances[j])
    # The nearest-neighbour repulsion raises each state by W per occupied pair; the barrier
    # between two states takes the mean of theirs (so detailed balance holds), which lowers
    # the barrier for leaving a crowded state: knock-on.
    d_w = repulsion / rt * (p.pairs[p.dst] - p.pairs[p.src])
    forward = jnp.exp(log_nu - (top - e_from) - d_w / 2)
    backward = jnp.exp(log_nu - (top - e_to) + d_w / 2)
    # Ions enter from solution at a rate proportional to their concentration (mole fraction
    # of the 1 M standard state); multiplied, not added in log space, so c = 0 is allowed.
    forward = forward * jnp.where(from_inside, x_in[s], 1.0)
    backward = backward * jnp.where(to_outside, x_out[s], 1.0)
    q = _transition_matrix(p.n_states, p.src, p.dst, forward, backward)
    pi = _markov_steady_state(q)
    one_way_out = pi[..., p.src] * forward
    one_way_in = pi[..., p.dst] * backward
    # Net flux per barrier and species, shape (m+1, ..., S). Read it where the one-way fluxes
    # are smallest: across a fast barrier it is a small difference of two large numbers, and
    # would lose digits to cancellation (the slow, rate-limiting barrier loses none).
    m = p.flux_matrix.reshape(
        p.flux_matrix.shape[0], *([1] * (pi.ndim - 1)), *p.flux_matrix.shape[1:]
    )
    net = jnp.sum((one_way_out - one_way_in)[..., :, None] * m, axis=-2)
    gross = jnp.sum((one_way_out + one_way_in)[..., :, None] * m, axis=-2)
    best = jnp.argmin(gross, axis=0)[None]
    return jnp.take_along_axis(net, best, axis=0)[0], pi


# Eager calls reuse one compiled kernel per shape instead of dispatching (and compiling) each
# small op; inside a user's jit this is simply inlined. max_ions is structure (static).
_barrier_model_jit = jax.jit(_barrier_model, static_argnums=10)


def barrier_model_fluxes(
    v: ArrayLike,
    c_in: ArrayLike,
    c_out: ArrayLike,
    z: ArrayLike,
    temperature: ArrayLike,
    barriers: ArrayLike,
    wells: ArrayLike,
    barrier_distances: ArrayLike,
    well_distances: ArrayLike,
    *,
    repulsion: ArrayLike = 0.0,
    max_ions: int | None = 1,
    attempt_frequency: ArrayLike | None = None,
) -> Float[Array, "... species"]:
    r"""Steady-state outward flux of each permeant species through one Eyring barrier-model
    pore, in ions per ms per channel.

    The pore is a sequence of m binding sites (wells) separated by m + 1 barriers. Each site
    holds one ion or is vacant; the pore holds at most `max_ions` ions (1: a one-ion pore in
    the sense of Läuger 1973; m: a multi-ion single-file pore as in Hille & Schwarz 1978).
    The occupancy configurations are the states of a Markov scheme whose transitions each
    move one ion across one barrier, with Eyring rates

    $$k = \nu\,\exp\!\left(-\frac{G^\ddagger - G_\text{from}}{RT}\right)
      \times \frac{c}{1\,\text{M}}\ \text{(entry from solution only)},$$

    where an ion of valence z at electrical distance δ (from the inside) has energy
    $U + zFV(1 - \delta)$ (well U, barrier top $G^\ddagger$), an ion in the inner solution
    $zFV$ and in the outer solution 0. Adjacent occupied sites repel with energy `repulsion`
    W per pair; a barrier between two states takes the mean of their repulsion energies, so
    leaving a doubly occupied pore is faster by $e^{W/2RT}$ (the knock-on mechanism). The net
    flux is read from the steady state of the scheme
    ([`membrax.physics.markov_steady_state`][]). Around every cycle the rates obey detailed
    balance, so with one permeant species the flux vanishes exactly at its Nernst potential.

    With no site (`wells` empty) the pore is one barrier and
    $J = \nu[x_\text{in}e^{-(G^\ddagger - zFV\delta^\ddagger)/RT}
    - x_\text{out}e^{-(G^\ddagger + zFV(1-\delta^\ddagger))/RT}]$ (x = c/1 M).

    **Arguments:**

    - `v`: membrane potential (inside − outside), mV, any shape (the result gets a trailing
      species axis).
    - `c_in`, `c_out`: concentrations per species, mM, ≥ 0, shape (S,) or scalar.
    - `z`: valences per species, nonzero.
    - `temperature`: K, a scalar > 0.
    - `barriers`: barrier peaks $G^\ddagger$, J/mol, shape (m + 1,) (shared by all species) or
      (S, m + 1); barrier 0 is the entry from the inside.
    - `wells`: site energies U, J/mol, shape (m,) or (S, m); negative = binding.
    - `barrier_distances`, `well_distances`: electrical distances from the inside, shapes
      (m + 1,) and (m,), interleaved in order (barrier 0 ≤ site 0 ≤ barrier 1 ≤ …), in [0, 1].
    - `repulsion`: W, J/mol, the interaction of two ions on adjacent sites (default 0).
    - `max_ions`: the most ions the pore holds (a Python int, default 1); None for m.
    - `attempt_frequency`: ν in 1/ms; default $k_BT/h$.

    **Returns:** J, ions/ms per channel, outward positive, shape `v.shape + (S,)`. The
    single-channel current is [`membrax.physics.barrier_model_current`][].

    **Reference:** P. Läuger (1973), Biochim. Biophys. Acta 311:423; B. Hille & W. Schwarz
    (1978), J. Gen. Physiol. 72:409; B. Hille, *Ion Channels of Excitable Membranes*, 3rd ed.
    (2001), ch. 14–15.
    """
    args = _check_barrier_model(
        "barrier_model_fluxes",
        v,
        c_in,
        c_out,
        z,
        temperature,
        barriers,
        wells,
        barrier_distances,
        well_distances,
        repulsion,
        max_ions,
        attempt_frequency,
    )
    return _barrier_model_jit(*args)[0]


def barrier_model_current(
    v: ArrayLike,
    c_in: ArrayLike,
    c_out: ArrayLike,
    z: ArrayLike,
    temperature: ArrayLike,
    barriers: ArrayLike,
    wells: ArrayLike,
    barrier_distances: ArrayLike,
    well_distances: ArrayLike,
    *,
    repulsion: ArrayLike = 0.0,
    max_ions: int | None = 1,
    attempt_frequency: ArrayLike | None = None,
) -> Float[Array, "..."]:
    r"""The single-channel current of an Eyring barrier-model pore, in pA, outward positive.

    $$i = e\sum_s z_s J_s$$

    with $J_s$ from [`membrax.physics.barrier_model_fluxes`][] (ions/ms) and e in fC
    (1 fC/ms = 1 pA). Arguments as there.

    **Returns:** i in pA per channel, the shape of `v` (for a population, multiply by the
    number of open channels; for a density in channels/cm², by 1e-6 more for µA/cm²).

    **Example:** a one-barrier pore, 100 mM on both sides, $G^\ddagger$ = 30 kJ/mol at 310 K,
    conducts $g = z^2 e\,\nu\,(0.1)\,e^{-G^\ddagger/RT}/V_T$ ≈ 34 pS near 0 mV; a barrier
    2 kcal/mol lower conducts 25.7× more.
    """
    args = _check_barrier_model(
        "barrier_model_current",
        v,
        c_in,
        c_out,
        z,
        temperature,
        barriers,
        wells,
        barrier_distances,
        well_distances,
        repulsion,
        max_ions,
        attempt_frequency,
    )
    fluxes = _barrier_model_jit(*args)[0]
    return constants.ELEMENTARY_CHARGE_FC * jnp.sum(args[3] * fluxes, axis=-1)


# --- selectivity --------------------------------------------------------------------------------


def permeability_ratio(delta_delta_g: ArrayLike, temperature: ArrayLike) -> Float[Array, "..."]:
    r"""The permeability ratio of two ions from the difference of their transfer free
    energies into the selectivity filter.

    $$\frac{P_X}{P_Y} = e^{-\Delta\Delta G/RT}, \qquad
      \Delta\Delta G = \Delta G_X - \Delta G_Y,$$

    with $\Delta G$ the free energy of moving the ion from water into the filter (its
    dehydration cost minus its coordination by the pore). The ratio enters
    [`membrax.ghk_voltage`][] directly; in bi-ionic conditions it shifts the reversal potential
    by $-\Delta\Delta G/zF$.

    **Arguments:** (broadcast together)

    - `delta_delta_g`: ΔΔG, J/mol.
    - `temperature`: K, > 0.

    **Returns:** $P_X/P_Y$, dimensionless.

    **Reference:** G. Eisenman (1962), Biophys. J. 2:259; B. Hille, *Ion Channels of Excitable
    Membranes*, 3rd ed. (2001), ch. 14.
    """
    where = "permeability_ratio"
    delta_delta_g = check_array(where, "delta_delta_g", delta_delta_g, unit="J/mol", fix=_E_FIX)
    temperature = check_temperature(where, temperature)
    check_broadcast(where, delta_delta_g=delta_delta_g, temperature=temperature)
    return jnp.exp(-delta_delta_g / _rt(temperature))


def relative_permeabilities(
    dehydration_energy: ArrayLike, coordination_energy: ArrayLike, temperature: ArrayLike
) -> Float[Array, " ions"]:
    r"""Permeabilities of several ions relative to the first, from the free energy of
    transferring each from water into the selectivity filter.

    $$\Delta G_i = \Delta G_{\text{dehydration},i} - \Delta G_{\text{coordination},i},
      \qquad \frac{P_i}{P_0} = e^{-(\Delta G_i - \Delta G_0)/RT}.$$

    **Arguments:** one entry per ion, 1-D of equal length (scalars broadcast):

    - `dehydration_energy`: the cost of stripping the ion's hydration shell, J/mol (> 0 for
      a cost; e.g. the magnitudes of hydration free energies, Na⁺ ≈ 365 and K⁺ ≈ 295 kJ/mol).
    - `coordination_energy`: the free energy gained from coordination by the pore, J/mol
      (> 0 for a gain).
    - `temperature`: K, a scalar > 0.

    **Returns:** $P_i/P_0$, shape (ions,), usable as `permeabilities` in
    [`membrax.ghk_voltage`][].

    **Reference:** G. Eisenman (1962), Biophys. J. 2:259; Y. Marcus (1991), J. Chem. Soc.
    Faraday Trans. 87:2995 (hydration free energies).
    """
    where = "relative_permeabilities"
    dehydration_energy = check_array(
        where, "dehydration_energy", dehydration_energy, unit="J/mol", fix=_E_FIX
    )
    coordination_energy = check_array(
        where, "coordination_energy", coordination_energy, unit="J/mol", fix=_E_FIX
    )
    temperature = check_temperature(where, temperature)
    check_scalar(where, "temperature", temperature)
    n = check_ions(where, dehydration_energy=dehydration_energy, coordination=coordination_energy)
    transfer = jnp.broadcast_to(dehydration_energy - coordination_energy, (n,))
    return jnp.exp(-(transfer - transfer[0]) / _rt(temperature))


# --- diffusion-limited access ----------------------------------------------------------------

_VISCOSITY_FIX = "Viscosity is in mPa·s (water: 0.89 at 25 °C, 0.69 at 37 °C) and must be > 0."
_RADIUS_FIX = "Radii are in nm and must be > 0 (K⁺ Stokes radius ≈ 0.125 nm)."


def stokes_einstein_diffusion(
    radius: ArrayLike, viscosity: ArrayLike, temperature: ArrayLike
) -> Float[Array, "..."]:
    r"""The Stokes–Einstein diffusion coefficient of a sphere in a viscous solvent, in cm²/s.

    $$D = \frac{k_B T}{6\pi\eta r}.$$

    **Arguments:** (broadcast together)

    - `radius`: the hydrodynamic (Stokes) radius r, nm, > 0.
    - `viscosity`: η, mPa·s (= cP), > 0.
    - `temperature`: K, > 0.

    **Returns:** D in cm²/s (K⁺, r ≈ 0.125 nm in water at 25 °C: ≈ 1.96e-5 cm²/s).

    **Reference:** A. Einstein (1905), Ann. Phys. 17:549; R. A. Robinson & R. H. Stokes,
    *Electrolyte Solutions*, 2nd ed. (1959).
    """
    where = "stokes_einstein_diffusion"
    radius = check_array(where, "radius", radius, unit="nm", positive=True, fix=_RADIUS_FIX)
    viscosity = check_array(
        where, "viscosity", viscosity, unit="mPa·s", positive=True, fix=_VISCOSITY_FIX
    )
    temperature = check_temperature(where, temperature)
    check_broadcast(where, radius=radius, viscosity=viscosity, temperature=temperature)
    return _stokes_einstein(radius, viscosity, temperature)


def _stokes_einstein(radius, viscosity, temperature):
    # SI: η in Pa·s (1e-3 per mPa·s), r in m (1e-9 per nm), D in m²/s (1e4 cm² per m²).
    d_si = constants.BOLTZMANN * temperature / (6 * math.pi * viscosity * 1e-3 * radius * 1e-9)
    return d_si * 1e4


def _diffusion_limited_current(c, diffusion_coefficient, capture_radius, z):
    # 2π·D·r·c with D in cm²/s, r in cm (1e-7 per nm), c in mol/cm³ (1e-6 per mM) is mol/s;
    # × F is A, × 1e12 is pA: a net factor of 1e-7 · 1e-6 · 1e12 = 0.1.
    return (
        2
        * math.pi
        * jnp.abs(z)
        * constants.FARADAY
        * diffusion_coefficient
        * capture_radius
        * c
        * 0.1
    )


def diffusion_limited_current(
    c: ArrayLike, diffusion_coefficient: ArrayLike, capture_radius: ArrayLike, z: ArrayLike
) -> Float[Array, "..."]:
    r"""The largest current that diffusion can feed into a channel mouth: the flux into a
    perfectly absorbing hemisphere of capture radius r, in pA (a magnitude, ≥ 0).

    $$i_D = 2\pi\,|z|\,F\,D\,r\,c.$$

    **Arguments:** (broadcast together)

    - `c`: the concentration on the side the ions come from, mM, ≥ 0.
    - `diffusion_coefficient`: D, cm²/s, > 0 (e.g. [`membrax.physics.stokes_einstein_diffusion`][]).
    - `capture_radius`: r, nm, > 0.
    - `z`: the ion's valence, nonzero.

    **Returns:** $i_D$ in pA per channel mouth (K⁺, D = 2e-5 cm²/s, r = 0.3 nm, 100 mM:
    ≈ 36 pA).

    **Reference:** P. Läuger (1976), Biochim. Biophys. Acta 455:493; B. Hille, *Ion Channels
    of Excitable Membranes*, 3rd ed. (2001), ch. 11.
    """
    where = "diffusion_limited_current"
    c = check_array(where, "c", c, unit="mM", nonnegative=True, fix=_C_FIX)
    diffusion_coefficient = check_array(
        where,
        "diffusion_coefficient",
        diffusion_coefficient,
        unit="cm²/s",
        positive=True,
        fix="Diffusion coefficients are in cm²/s (K⁺ in water ≈ 2e-5).",
    )
    capture_radius = check_array(
        where, "capture_radius", capture_radius, unit="nm", positive=True, fix=_RADIUS_FIX
    )
    z = check_array(where, "z", z, nonzero=True, fix=Z_FIX)
    check_broadcast(
        where, c=c, diffusion_coefficient=diffusion_coefficient, capture_radius=capture_radius, z=z
    )
    return _diffusion_limited_current(c, diffusion_coefficient, capture_radius, z)


def _access_limited_current(i_pore, i_limit_outward, i_limit_inward):
    # Two steps in series, each direction limited by the side that supplies the ions:
    # 1/|i| = 1/|i_pore| + 1/i_D. Written as i_pore·i_D/(|i_pore| + i_D): continuous with
    # slope 1 at i_pore = 0 from both sides.
    i_limit = jnp.where(i_pore >= 0, i_limit_outward, i_limit_inward)
    return i_pore * i_limit / (jnp.abs(i_pore) + i_limit)


def access_limited_current(
    i_pore: ArrayLike, i_limit_outward: ArrayLike, i_limit_inward: ArrayLike
) -> Float[Array, "..."]:
    r"""The current of a pore in series with diffusional access to its mouths, in pA.

    $$i = \frac{i_\text{pore}\,i_D}{|i_\text{pore}| + i_D},\qquad
      i_D = \begin{cases} i_{D,\text{out}} & i_\text{pore} \ge 0\\
      i_{D,\text{in}} & i_\text{pore} < 0\end{cases}$$

    (the two steps in series, $1/|i| = 1/|i_\text{pore}| + 1/i_D$). When the pore is fast
    ($|i_\text{pore}| \gg i_D$) the current saturates at the diffusion limit, proportional to
    D and so to 1/viscosity; when the pore (a barrier, or gating) is rate limiting it does not
    depend on viscosity.

    **Arguments:** (broadcast together)

    - `i_pore`: the current the pore would pass with ideal access, pA, outward positive.
    - `i_limit_outward`: the diffusion limit of outward current, pA, > 0 (from the
      concentration that supplies it: `c_in` for cations, `c_out` for anions).
    - `i_limit_inward`: the diffusion limit of inward current, pA, > 0.

    **Returns:** i in pA, outward positive.

    **Reference:** P. Läuger (1976), Biochim. Biophys. Acta 455:493.
    """
    where = "access_limited_current"
    i_pore = check_array(where, "i_pore", i_pore, unit="pA")
    fix = "Diffusion limits are magnitudes in pA (see diffusion_limited_current)."
    i_limit_outward = check_array(
        where, "i_limit_outward", i_limit_outward, unit="pA", positive=True, fix=fix
    )
    i_limit_inward = check_array(
        where, "i_limit_inward", i_limit_inward, unit="pA", positive=True, fix=fix
    )
    check_broadcast(
        where, i_pore=i_pore, i_limit_outward=i_limit_outward, i_limit_inward=i_limit_inward
    )
    return _access_limited_current(i_pore, i_limit_outward, i_limit_inward)
