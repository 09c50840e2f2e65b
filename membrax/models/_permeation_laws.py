"""Permeation laws beyond Ohm and GHK: Eyring barrier-model pores, binding-site pores with
the anomalous mole-fraction effect, Woodhull block of any law, and diffusion-limited access.

Each is an [`membrax.models.AbstractPermeation`][], so any `Channel(gating, law)` can use it.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .. import constants
from .._custom_types import float_array
from ..physics._binding import _binding_occupancies, _check_counts, _pore_conductance
from ..physics._block import _site_matrix, _woodhull_unblocked
from ..physics._checks import CONC_FIX, TEMP_FIX, Z_FIX
from ..physics._permeation import (
    _access_limited_current,
    _barrier_model_jit,
    _diffusion_limited_current,
    _eyring_frequency,
    _stokes_einstein,
)
from ._checks import check_field
from ._permeation import AbstractPermeation

_E_FIX = "Energies are in J/mol (1 kcal/mol = 4184 J/mol)."
_C0_FIX = "Concentrations are in mM and must be >= 0."


def _check_nonzero(owner, name, value, fix):
    check_field(owner, name, value, fix=fix)
    if not isinstance(value, jax.core.Tracer) and (np.asarray(value) == 0).any():
        raise ValueError(f"{owner}: {name} must be nonzero, got 0.0. {fix}")


class EyringPermeation(AbstractPermeation):
    r"""Permeation through an Eyring barrier-model pore: m binding sites between m + 1
    barriers, one or several permeant species, single or multiple occupancy.

    $$I = N\,P_\text{open}\,i(V), \qquad i = e\sum_s z_sJ_s(V)$$

    with the steady-state fluxes $J_s$ of [`membrax.physics.barrier_model_fluxes`][]
    (ions/ms per channel) and e in fC, so $i$ is in pA. The current reverses at the Nernst
    potential when one species permeates, saturates with concentration, and conducts in
    proportion to $e^{-G^\ddagger/RT}$ in the linear regime.

    Whole cell: `n_channels` counts channels, I in pA. Density: channels per cm² times 1e-6
    gives I in µA/cm².

    **Fields:**

    - `barriers`: barrier peaks, J/mol, shape (S, m + 1) (or (m + 1,) for all species).
    - `wells`: site energies, J/mol, shape (S, m) (or (m,)); negative = binding.
    - `barrier_distances`, `well_distances`: electrical distances from the inside, (m + 1,)
      and (m,), interleaved in [0, 1].
    - `c_in`, `c_out`: per species, mM, ≥ 0.
    - `z`: valences per species, nonzero.
    - `temperature`: K, > 0.
    - `repulsion`: interaction of ions on adjacent sites, J/mol (default 0).
    - `n_channels`: number (or 1e-6 × density per cm²) of channels (default 1).
    - `max_ions`: static int, the most ions the pore holds (default 1: a one-ion pore).
    """

    barriers: Float[Array, "..."] = eqx.field(converter=float_array)
    wells: Float[Array, "..."] = eqx.field(converter=float_array)
    barrier_distances: Float[Array, " barriers"] = eqx.field(converter=float_array)
    well_distances: Float[Array, " sites"] = eqx.field(converter=float_array)
    c_in: Float[Array, "..."] = eqx.field(converter=float_array)
    c_out: Float[Array, "..."] = eqx.field(converter=float_array)
    z: Float[Array, "..."] = eqx.field(converter=float_array)
    temperature: Float[Array, ""] = eqx.field(converter=float_array)
    repulsion: Float[Array, ""] = eqx.field(converter=float_array, default=0.0)
    n_channels: Float[Array, ""] = eqx.field(converter=float_array, default=1.0)
    max_ions: int = eqx.field(static=True, default=1)

    def __check_init__(self):
        owner = "EyringPermeation"
        for name in ("barriers", "wells", "repulsion"):
            check_field(owner, name, getattr(self, name), unit="J/mol", fix=_E_FIX)
        for name in ("c_in", "c_out"):
            check_field(owner, name, getattr(self, name), unit="mM", nonnegative=True, fix=_C0_FIX)
        _check_nonzero(owner, "z", self.z, Z_FIX)
        check_field(owner, "temperature", self.temperature, unit="K", positive=True, fix=TEMP_FIX)
        check_field(owner, "n_channels", self.n_channels, nonnegative=True)
        m = self.well_distances.shape[0] if self.well_distances.ndim == 1 else -1
        if m < 0 or self.barrier_distances.shape != (m + 1,):
            raise ValueError(
                f"{owner}: well_distances must be 1-D (one per site) and barrier_distances "
                f"have one more entry, got shapes {self.well_distances.shape} and "
                f"{self.barrier_distances.shape}."
            )
        if self.barriers.shape[-1:] != (m + 1,) or self.wells.shape[-1:] != (m,):
            raise ValueError(
                f"{owner}: a pore with {m} sites needs barriers of shape (..., {m + 1}) and "
                f"wells of shape (..., {m}), got {self.barriers.shape} and {self.wells.shape}."
            )
        sizes = self._species_sizes()
        if len(set(sizes.values()) - {1}) > 1:
            raise ValueError(
                f"{owner}: the number of species differs between fields ({sizes}). Give one "
                "row of barriers and wells, one c_in, c_out and z per species."
            )
        if not isinstance(self.max_ions, int) or isinstance(self.max_ions, bool):
            raise ValueError(f"{owner}: max_ions must be a Python int, got {self.max_ions!r}.")
        if self.max_ions < 1:
            raise ValueError(f"{owner}: max_ions must be >= 1, got {self.max_ions}.")
        d = np.concatenate([[0.0], np.zeros(2 * m + 1), [1.0]])
        if not isinstance(self.barrier_distances, jax.core.Tracer) and not isinstance(
            self.well_distances, jax.core.Tracer
        ):
            d[1:-1:2] = np.asarray(self.barrier_distances)
            d[2:-1:2] = np.asarray(self.well_distances)
            if np.any(np.diff(d) < 0):
                raise ValueError(
                    f"{owner}: electrical distances must lie in [0, 1] and run inside → "
                    "outside in the order barrier 0, site 0, barrier 1, ..., got "
                    f"barrier_distances {d[1:-1:2].tolist()}, well_distances "
                    f"{d[2:-1:2].tolist()}."
                )

    def _species_sizes(self):
        # The species count each field implies (scalars and 1-D energy profiles broadcast).
        per_species = {"c_in": 1, "c_out": 1, "z": 1, "barriers": 2, "wells": 2}
        return {
            name: getattr(self, name).shape[0]
            for name, ndim in per_species.items()
            if getattr(self, name).ndim == ndim
        }

    def _species(self):
        n = max([*self._species_sizes().values(), 1])
        m = self.well_distances.shape[0]
        c_in, c_out, z = (jnp.broadcast_to(a, (n,)) for a in (self.c_in, self.c_out, self.z))
        barriers = jnp.broadcast_to(self.barriers, (n, m + 1))
        wells = jnp.broadcast_to(self.wells, (n, m))
        return c_in, c_out, z, barriers, wells

    def fluxes(self, v) -> Float[Array, "... species"]:
        """Outward flux of each species through one open channel at V (mV), ions/ms."""
        c_in, c_out, z, barriers, wells = self._species()
        m = self.well_distances.shape[0]
        return _barrier_model_jit(
            v,
            c_in,
            c_out,
            z,
            self.temperature,
            barriers,
            wells,
            self.barrier_distances,
            self.well_distances,
            self.repulsion,
            min(self.max_ions, max(m, 1)),
            _eyring_frequency(self.temperature),
        )[0]

    def single_channel_current(self, v) -> Float[Array, "..."]:
        """The current through one open channel at V (mV), pA, outward positive."""
        _, _, z, _, _ = self._species()
        return constants.ELEMENTARY_CHARGE_FC * jnp.sum(z * self.fluxes(v), axis=-1)

    def current(self, v, open_probability):
        return self.n_channels * open_probability * self.single_channel_current(v)


def _counts_tuple(counts):
    # A hashable static field; malformed input is left as is for __check_init__ to explain.
    try:
        return tuple(tuple(int(x) for x in row) for row in counts)
    except (TypeError, ValueError):
        return counts


class BindingSitePore(AbstractPermeation):
    r"""A pore in rapid binding equilibrium with its bath, conducting according to its
    occupancy: $I = g(c)\,P_\text{open}\,(V - E_\text{rev})$ with

    $$g(c) = \sum_k g_k\,p_k(c)$$

    from the binding polynomial ([`membrax.physics.pore_conductance`][]). With states that
    conduct only when doubly occupied this is the two-site saturating form
    $g_\text{max}\,abc^2/(1 + ac + abc^2)$; in a mixture with a stable, slow mixed state it
    shows the anomalous mole-fraction effect.

    **Fields:**

    - `concentrations`: per species, mM, ≥ 0, shape (S,).
    - `log_association`: ln β per occupied state (β in mM^(−ions)), shape (states,).
    - `state_conductances`: conductance of each occupied state (mS/cm², nS or pS), ≥ 0.
    - `e_rev`: reversal potential, mV.
    - `counts`: static tuple of tuples (states × species), the ions each state holds.
    """

    concentrations: Float[Array, " species"] = eqx.field(converter=float_array)
    log_association: Float[Array, " states"] = eqx.field(converter=float_array)
    state_conductances: Float[Array, " states"] = eqx.field(converter=float_array)
    e_rev: Float[Array, ""] = eqx.field(converter=float_array)
    counts: tuple[tuple[int, ...], ...] = eqx.field(static=True, converter=_counts_tuple)

    def __check_init__(self):
        owner = "BindingSitePore"
        counts = _check_counts(owner, self.counts)
        check_field(owner, "concentrations", self.concentrations, nonnegative=True, fix=_C0_FIX)
        check_field(owner, "log_association", self.log_association)
        check_field(owner, "state_conductances", self.state_conductances, nonnegative=True)
        check_field(owner, "e_rev", self.e_rev, unit="mV")
        if self.concentrations.shape not in ((), (counts.shape[1],)):
            raise ValueError(
                f"{owner}: concentrations must have shape ({counts.shape[1]},), one per "
                f"species (column of counts), got {self.concentrations.shape}."
            )
        for name, allowed in (
            ("log_association", ((counts.shape[0],),)),
            ("state_conductances", ((counts.shape[0],), ())),
        ):
            if getattr(self, name).shape not in allowed:
                raise ValueError(
                    f"{owner}: {name} must have shape ({counts.shape[0]},), one per occupied "
                    f"state (row of counts), got {getattr(self, name).shape}."
                )

    def _concentrations(self):
        return jnp.broadcast_to(self.concentrations, (len(self.counts[0]),))

    def occupancies(self) -> Float[Array, " states_plus_one"]:
        """Occupancies of the empty state and of each row of `counts`."""
        return _binding_occupancies(
            self._concentrations(), np.asarray(self.counts), self.log_association
        )

    def conductance(self) -> Float[Array, ""]:
        """The open-pore conductance g(c), in the unit of `state_conductances`."""
        return _pore_conductance(
            self._concentrations(),
            np.asarray(self.counts),
            self.log_association,
            self.state_conductances,
        )

    def current(self, v, open_probability):
        return self.conductance() * open_probability * (v - self.e_rev)


def _bool_tuple(x):
    return tuple(bool(b) for b in np.atleast_1d(np.asarray(x)))


def _int_tuple_or_none(x):
    return None if x is None else tuple(int(i) for i in np.atleast_1d(np.asarray(x)))


class BlockedPermeation(AbstractPermeation):
    r"""Any permeation law blocked by one or several Woodhull blockers:

    $$I = I_\text{inner}(V, P_\text{open})\prod_\text{sites}
      \frac{1}{1 + \sum_{j\in\text{site}} c_j/K_{d,j}(V)}, \qquad
      K_{d,j}(V) = K_{d,j}(0)\,e^{\mp z_j\delta_jFV/RT}$$

    (− for blockers from the inside, + from the outside; see
    [`membrax.physics.woodhull_unblocked_fraction`][]). An ohmic K⁺ law blocked by internal
    spermine and Mg²⁺ is the inward rectifier Kir2.1; an ohmic cation law blocked by external
    Mg²⁺ is the NMDA receptor.

    **Fields:**

    - `inner`: the unblocked law, an [`membrax.models.AbstractPermeation`][].
    - `c_blocker`: blocker concentrations, mM, ≥ 0, shape (B,).
    - `kd_zero`: $K_d(0)$ per blocker, mM, > 0.
    - `z`: blocker valences, nonzero.
    - `delta`: electrical distances from each blocker's side.
    - `temperature`: K, > 0.
    - `from_outside`: static tuple of bools per blocker (default all False: internal).
    - `sites`: static tuple of site indices per blocker (default all 0: competitive).
    """

    inner: AbstractPermeation
    c_blocker: Float[Array, " blockers"] = eqx.field(converter=float_array)
    kd_zero: Float[Array, " blockers"] = eqx.field(converter=float_array)
    z: Float[Array, " blockers"] = eqx.field(converter=float_array)
    delta: Float[Array, " blockers"] = eqx.field(converter=float_array)
    temperature: Float[Array, ""] = eqx.field(converter=float_array)
    from_outside: tuple[bool, ...] = eqx.field(static=True, converter=_bool_tuple, default=False)
    sites: tuple[int, ...] | None = eqx.field(
        static=True, converter=_int_tuple_or_none, default=None
    )

    def __check_init__(self):
        owner = "BlockedPermeation"
        if not isinstance(self.inner, AbstractPermeation):
            raise TypeError(
                f"{owner}: inner must be a permeation law such as membrax.models.Ohmic, got "
                f"{type(self.inner).__name__}."
            )
        check_field(owner, "c_blocker", self.c_blocker, unit="mM", nonnegative=True, fix=_C0_FIX)
        check_field(owner, "kd_zero", self.kd_zero, unit="mM", positive=True, fix="1 µM = 1e-3 mM.")
        _check_nonzero(owner, "z", self.z, "z is the blocker's valence (+4 spermine, +2 Mg²⁺).")
        check_field(owner, "delta", self.delta)
        check_field(owner, "temperature", self.temperature, unit="K", positive=True, fix=TEMP_FIX)
        n = self._n_blockers()
        shapes = {
            name: getattr(self, name).shape for name in ("c_blocker", "kd_zero", "z", "delta")
        }
        if any(s not in ((), (n,)) for s in shapes.values()) or len(self.from_outside) not in (
            1,
            n,
        ):
            raise ValueError(
                f"{owner}: per-blocker fields must be scalars or of one common length, got "
                f"shapes {shapes} and {len(self.from_outside)} from_outside flags."
            )
        _site_matrix(owner, self.sites, n)

    def _n_blockers(self):
        sizes = [a.shape[0] for a in (self.c_blocker, self.kd_zero, self.z, self.delta) if a.ndim]
        return max([*sizes, len(self.from_outside), len(self.sites or ())] or [1])

    def unblocked_fraction(self, v) -> Float[Array, "..."]:
        """The fraction of open channels not blocked at V (mV)."""
        n = self._n_blockers()
        c, kd, z, delta = (
            jnp.broadcast_to(a, (n,)) for a in (self.c_blocker, self.kd_zero, self.z, self.delta)
        )
        outside = np.broadcast_to(np.asarray(self.from_outside), (n,))
        return _woodhull_unblocked(
            v, c, kd, z, delta, self.temperature, outside, _site_matrix("", self.sites, n)
        )

    def current(self, v, open_probability):
        return self.inner.current(v, open_probability) * self.unblocked_fraction(v)


class DiffusionLimitedPermeation(AbstractPermeation):
    r"""A pore in series with diffusional access to its mouths (Läuger 1976): the
    single-channel current of an inner law, limited by the Stokes–Einstein diffusion of its
    ion to a capture hemisphere,

    $$I = N\,P_\text{open}\,\frac{i\,i_D}{|i| + i_D}, \qquad
      i_D = 2\pi|z|FDr_cc, \qquad D = \frac{k_BT}{6\pi\eta r_\text{ion}},$$

    with $i$ = `inner.current(V, 1)` (pA per channel) and $c$ = `c_in` for outward cation
    (inward anion) current, `c_out` otherwise. An access-limited channel's conductance falls
    as 1/η; a pore-limited one's does not depend on η.

    **Fields:**

    - `inner`: the law of one open channel with ideal access, in pA (e.g.
      `Ohmic(g_single_nS, e_rev)` or an [`membrax.models.EyringPermeation`][] with one
      channel).
    - `c_in`, `c_out`: the permeant ion's concentrations, mM, ≥ 0.
    - `z`: its valence, nonzero.
    - `ion_radius`: its Stokes radius, nm, > 0.
    - `capture_radius`: the capture radius of the mouth, nm, > 0.
    - `viscosity`: of the solution, mPa·s, > 0.
    - `temperature`: K, > 0.
    - `n_channels`: number of channels (default 1).
    """

    inner: AbstractPermeation
    c_in: Float[Array, ""] = eqx.field(converter=float_array)
    c_out: Float[Array, ""] = eqx.field(converter=float_array)
    z: Float[Array, ""] = eqx.field(converter=float_array)
    ion_radius: Float[Array, ""] = eqx.field(converter=float_array)
    capture_radius: Float[Array, ""] = eqx.field(converter=float_array)
    viscosity: Float[Array, ""] = eqx.field(converter=float_array)
    temperature: Float[Array, ""] = eqx.field(converter=float_array)
    n_channels: Float[Array, ""] = eqx.field(converter=float_array, default=1.0)

    def __check_init__(self):
        owner = "DiffusionLimitedPermeation"
        if not isinstance(self.inner, AbstractPermeation):
            raise TypeError(
                f"{owner}: inner must be a permeation law such as membrax.models.Ohmic, got "
                f"{type(self.inner).__name__}."
            )
        for name in ("c_in", "c_out"):
            check_field(owner, name, getattr(self, name), unit="mM", positive=True, fix=CONC_FIX)
        _check_nonzero(owner, "z", self.z, Z_FIX)
        for name in ("ion_radius", "capture_radius"):
            check_field(owner, name, getattr(self, name), unit="nm", positive=True)
        check_field(owner, "viscosity", self.viscosity, unit="mPa·s", positive=True)
        check_field(owner, "temperature", self.temperature, unit="K", positive=True, fix=TEMP_FIX)
        check_field(owner, "n_channels", self.n_channels, nonnegative=True)

    def diffusion_coefficient(self) -> Float[Array, ""]:
        """The Stokes–Einstein diffusion coefficient of the ion, cm²/s."""
        return _stokes_einstein(self.ion_radius, self.viscosity, self.temperature)

    def single_channel_current(self, v) -> Float[Array, "..."]:
        """The access-limited current of one open channel at V (mV), pA."""
        d = self.diffusion_coefficient()
        i_from_in = _diffusion_limited_current(self.c_in, d, self.capture_radius, self.z)
        i_from_out = _diffusion_limited_current(self.c_out, d, self.capture_radius, self.z)
        # Outward cation current is fed from the inside; outward anion current from outside.
        cation = self.z > 0
        outward = jnp.where(cation, i_from_in, i_from_out)
        inward = jnp.where(cation, i_from_out, i_from_in)
        return _access_limited_current(self.inner.current(v, 1.0), outward, inward)

    def current(self, v, open_probability):
        return self.n_channels * open_probability * self.single_channel_current(v)
