"""Pumps, exchangers and cotransporters as Modules: thermodynamically consistent cycle
models with `flux(v)` and `current(v)`, and ready-made Na⁺/K⁺-ATPase, NCX, KCC2 and NKCC1.

Every transporter is a [`membrax.models.CycleTransporter`][]: a single cycle of states whose
last backward rate is fixed by microscopic reversibility (see
[`membrax.physics.transporter_turnover`][]), so the net flux vanishes exactly at
transporter equilibrium and the current reverses at
[`membrax.transporter_reversal_potential`][].

Units: `n_transporters` counts transporters (whole cell: current in pA, flux in cycles/ms);
for a density give transporters per cm² times 1e-6 and the current is in µA/cm², ready for
`chord_conductance_potential(g, e_rev, i_pump=...)` with g in mS/cm².
"""

import abc

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .. import constants
from .._custom_types import float_array
from ..physics._checks import CONC_FIX, TEMP_FIX
from ..physics._pumps import (
    _check_structure,
    _cycle_log_rates,
    _ring_occupancy,
    _turnover_kernel,
)
from ..physics._transport import _reversal_potential_from_charge, _transport_free_energy
from ._checks import check_field


class AbstractTransporter(eqx.Module):
    """A population of transporters: `flux(v)` (cycles/ms) and `current(v)` (pA, or µA/cm²
    for a density), outward positive."""

    @abc.abstractmethod
    def flux(self, v: ArrayLike) -> Float[Array, "..."]:
        """Net forward cycles per ms of the population at V (mV)."""

    @abc.abstractmethod
    def current(self, v: ArrayLike) -> Float[Array, "..."]:
        """The current the population carries at V (mV), outward positive."""


def _int_matrix(x):
    # A hashable static field; malformed input is left as is for __check_init__ to explain.
    try:
        return tuple(tuple(int(v) for v in row) for row in np.asarray(x).tolist())
    except (TypeError, ValueError):
        return x


class CycleTransporter(AbstractTransporter):
    r"""A transporter described by one kinetic cycle of N states and S transported species,
    thermodynamically consistent by construction.

    $$J = \frac{\prod_k a_k\,\bigl(1 - e^{\Delta G/RT}\bigr)}{\sum_i w_i}, \qquad
      I = q\,e\,N_\text{t}\,J, \qquad q = \sum_i n_iz_i,$$

    with the step rates and ΔG of [`membrax.physics.transporter_turnover`][] and e in fC
    (1 fC/ms = 1 pA). Build one with [`membrax.models.alternating_access_transporter`][] or a
    named factory ([`membrax.models.sodium_potassium_atpase`][],
    [`membrax.models.sodium_calcium_exchanger`][], [`membrax.models.kcc2`][],
    [`membrax.models.nkcc1`][]), or directly.

    **Fields:**

    - `forward`: rate constants $a^\circ_k$ of the N steps, shape (N,), 1/ms × mM^−(ions
      taken up), > 0.
    - `backward`: $b^\circ_k$ of the first N − 1 steps, shape (N − 1,) (the last follows from
      thermodynamics).
    - `charges`: e moved outward by each step, shape (N,), summing to q.
    - `c_in`, `c_out`: per species, mM, > 0, shape (S,).
    - `z`: valences per species (0 for a neutral solute).
    - `temperature`: K, > 0.
    - `delta_g_reaction`: free energy of the driving reaction per cycle, J/mol (default 0;
      ≈ −50e3 for one ATP).
    - `load`: share of each step's voltage dependence in its forward rate, in [0, 1]
      (default ½).
    - `n_transporters`: number of transporters (or 1e-6 × density per cm²), default 1.
    - `uptake_in`, `uptake_out`: static (N × S) integer tuples: ions taken up (> 0) or
      released (< 0) inside / outside in each forward step.
    """

    forward: Float[Array, " N"] = eqx.field(converter=float_array)
    backward: Float[Array, " N-1"] = eqx.field(converter=float_array)
    charges: Float[Array, " N"] = eqx.field(converter=float_array)
    c_in: Float[Array, " S"] = eqx.field(converter=float_array)
    c_out: Float[Array, " S"] = eqx.field(converter=float_array)
    z: Float[Array, " S"] = eqx.field(converter=float_array)
    temperature: Float[Array, ""] = eqx.field(converter=float_array)
    uptake_in: tuple[tuple[int, ...], ...] = eqx.field(static=True, converter=_int_matrix)
    uptake_out: tuple[tuple[int, ...], ...] = eqx.field(static=True, converter=_int_matrix)
    delta_g_reaction: Float[Array, ""] = eqx.field(converter=float_array, default=0.0)
    load: Float[Array, "..."] = eqx.field(converter=float_array, default=0.5)
    n_transporters: Float[Array, ""] = eqx.field(converter=float_array, default=1.0)

    def __check_init__(self):
        owner = "CycleTransporter"
        uptake_in, _, stoichiometry = _check_structure(owner, self.uptake_in, self.uptake_out)
        n_steps, n_species = uptake_in.shape
        for name, shape in (
            ("forward", (n_steps,)),
            ("backward", (n_steps - 1,)),
            ("charges", (n_steps,)),
            ("c_in", (n_species,)),
            ("c_out", (n_species,)),
            ("z", (n_species,)),
        ):
            if getattr(self, name).shape != shape:
                raise ValueError(
                    f"{owner}: {name} must have shape {shape} for a cycle of {n_steps} steps "
                    f"and {n_species} species, got {getattr(self, name).shape}."
                )
        fix = "Rate constants are > 0 (1/ms × mM^-ions taken up)."
        check_field(owner, "forward", self.forward, unit="1/ms", positive=True, fix=fix)
        check_field(owner, "backward", self.backward, unit="1/ms", positive=True, fix=fix)
        check_field(owner, "charges", self.charges, unit="e")
        check_field(owner, "c_in", self.c_in, unit="mM", positive=True, fix=CONC_FIX)
        check_field(owner, "c_out", self.c_out, unit="mM", positive=True, fix=CONC_FIX)
        check_field(owner, "z", self.z)
        check_field(owner, "temperature", self.temperature, unit="K", positive=True, fix=TEMP_FIX)
        check_field(owner, "delta_g_reaction", self.delta_g_reaction, unit="J/mol")
        check_field(owner, "n_transporters", self.n_transporters, nonnegative=True)
        check_field(owner, "load", self.load)
        if self.load.shape not in ((), (n_steps,)):
            raise ValueError(
                f"{owner}: load must be a scalar or of shape ({n_steps},), got {self.load.shape}."
            )
        concrete = not any(
            isinstance(a, jax.core.Tracer) for a in (self.load, self.charges, self.z)
        )
        if concrete:
            load = np.asarray(self.load)
            if np.any((load < 0) | (load > 1)):
                raise ValueError(
                    f"{owner}: load must be in [0, 1], got {load.tolist()}. It is the share "
                    "of each step's voltage dependence carried by its forward rate."
                )
            q = float(np.sum(stoichiometry * np.asarray(self.z)))
            total = float(np.sum(np.asarray(self.charges)))
            if abs(total - q) > 1e-9 * (1 + np.sum(np.abs(stoichiometry * np.asarray(self.z)))):
                raise ValueError(
                    f"{owner}: charges must sum to the net charge moved per cycle, Σ n·z = {q}, "
                    f"got {total}. The steps' charges add up to what the cycle carries."
                )

    @property
    def stoichiometry(self) -> np.ndarray:
        """Signed ions of each species moved outward per forward cycle (static)."""
        return np.asarray(self.uptake_in).sum(axis=0)

    def electrogenicity(self) -> Float[Array, ""]:
        """q = Σ n·z, elementary charges moved outward per forward cycle."""
        return jnp.sum(self.stoichiometry * self.z)

    def _log_rates(self, v):
        return _cycle_log_rates(
            v,
            self.c_in,
            self.c_out,
            self.z,
            self.temperature,
            self.forward,
            self.backward,
            np.asarray(self.uptake_in),
            np.asarray(self.uptake_out),
            self.charges,
            self.load,
            self.delta_g_reaction,
        )

    def turnover(self, v: ArrayLike) -> Float[Array, "..."]:
        """Net forward cycles per ms of one transporter at V (mV), the shape of `v`."""
        return _turnover_kernel(
            v,
            self.c_in,
            self.c_out,
            self.z,
            self.temperature,
            self.forward,
            self.backward,
            self.uptake_in,
            self.uptake_out,
            self.charges,
            self.load,
            self.delta_g_reaction,
        )

    def occupancy(self, v: ArrayLike) -> Float[Array, "... N"]:
        """Steady-state occupancies of the cycle's states at V (mV)."""
        log_a, log_b, _ = self._log_rates(v)
        return _ring_occupancy(log_a, log_b)

    def flux(self, v):
        return self.n_transporters * self.turnover(v)

    def ion_fluxes(self, v: ArrayLike) -> Float[Array, "... S"]:
        """Outward flux of each species, ions per ms (n_i × cycles per ms)."""
        return self.flux(v)[..., None] * self.stoichiometry

    def current(self, v):
        return self.electrogenicity() * constants.ELEMENTARY_CHARGE_FC * self.flux(v)

    def free_energy(self, v: ArrayLike) -> Float[Array, "..."]:
        """ΔG of one forward cycle at V (mV), J/mol (< 0: runs forward)."""
        n = self.stoichiometry

        def one(v):
            return _transport_free_energy(
                n, self.c_in, self.c_out, self.z, v, self.temperature, self.delta_g_reaction
            )

        v = jnp.asarray(v)
        return jnp.vectorize(one)(v)

    def reversal_potential(self) -> Float[Array, ""]:
        """The V (mV) at which ΔG = 0 and the current reverses. Only an electrogenic
        transporter (q ≠ 0) has one: an electroneutral one raises a ValueError."""
        q = self.electrogenicity()
        if not isinstance(q, jax.core.Tracer) and float(q) == 0.0:
            raise ValueError(
                "CycleTransporter.reversal_potential: the transporter is electroneutral "
                "(q = Σ n·z = 0), so its ΔG does not depend on V and nothing reverses it. "
                "Use free_energy(v) to see which way it runs."
            )
        return _reversal_potential_from_charge(
            self.stoichiometry, self.c_in, self.c_out, q, self.temperature, self.delta_g_reaction
        )


# --- a generic alternating-access cycle ---------------------------------------------------------


def _alternating_access_structure(stoichiometry, z):
    """Steps of an alternating-access cycle for a signed stoichiometry (static).

    Returns per step (uptake_in row, uptake_out row, default charge, kind), kind being
    ("bind", species, side), ("release", species, side), ("translocate", group) or ("empty",).
    Species moved outward (n > 0) form group "out", inward (n < 0) group "in". The cycle ends
    with the translocation of the loaded carrier that carries the forward reaction (so a
    pump's ATP step is the closing step):

    - antiport (both groups): release "out" outside, bind "in" outside, translocate "in"
      inward, release "in" inside, bind "out" inside, translocate "out" outward;
    - symport of the "out" group: release outside, return empty, bind inside, translocate;
    - symport of the "in" group: release inside, return empty, bind outside, translocate.
    """
    n = np.asarray(stoichiometry, int)
    s = n.shape[0]
    z = np.asarray(z, float)
    out_group = [i for i in range(s) if n[i] > 0]
    in_group = [i for i in range(s) if n[i] < 0]
    steps = []

    def step(inside=None, outside=None, charge=0.0, kind=()):
        row_in, row_out = np.zeros(s, int), np.zeros(s, int)
        if inside is not None:
            row_in[inside[0]] = inside[1]
        if outside is not None:
            row_out[outside[0]] = outside[1]
        steps.append((row_in, row_out, charge, kind))

    q_out = float(sum(n[i] * z[i] for i in out_group))
    q_in = float(sum(n[i] * z[i] for i in in_group))
    if out_group and in_group:
        for i in out_group:
            step(outside=(i, -n[i]), kind=("release", i, "out"))
        for i in in_group:
            step(outside=(i, -n[i]), kind=("bind", i, "out"))
        step(charge=q_in, kind=("translocate", "in"))
        for i in in_group:
            step(inside=(i, n[i]), kind=("release", i, "in"))
        for i in out_group:
            step(inside=(i, n[i]), kind=("bind", i, "in"))
        step(charge=q_out, kind=("translocate", "out"))
    elif out_group:
        for i in out_group:
            step(outside=(i, -n[i]), kind=("release", i, "out"))
        step(kind=("empty",))
        for i in out_group:
            step(inside=(i, n[i]), kind=("bind", i, "in"))
        step(charge=q_out, kind=("translocate", "out"))
    else:
        for i in in_group:
            step(inside=(i, n[i]), kind=("release", i, "in"))
        step(kind=("empty",))
        for i in in_group:
            step(outside=(i, -n[i]), kind=("bind", i, "out"))
        step(charge=q_in, kind=("translocate", "in"))
    return steps


def alternating_access_transporter(
    stoichiometry,
    z: ArrayLike,
    c_in: ArrayLike,
    c_out: ArrayLike,
    temperature: ArrayLike,
    *,
    kd_in: ArrayLike,
    kd_out: ArrayLike,
    binding_rate: ArrayLike = 1e3,
    translocation_rate: ArrayLike = 1.0,
    empty_rate: ArrayLike = 1.0,
    charges: ArrayLike | None = None,
    delta_g_reaction: ArrayLike = 0.0,
    load: ArrayLike = 0.5,
    n_transporters: ArrayLike = 1.0,
) -> CycleTransporter:
    r"""A generic n-ion symporter or antiporter: an alternating-access cycle with ordered,
    rapid binding and rate-limiting translocation.

    Species moved outward (n > 0) bind inside and are released outside, species moved
    inward (n < 0) the reverse. With both kinds present the cycle is a ping-pong
    (consecutive) antiporter; with one kind, a symporter whose empty carrier returns. The
    n copies of a species bind in one cooperative step with rates
    $k_\text{on}c^n$, $k_\text{off}$, $k_\text{off}/k_\text{on} = K_d^{\,n}$.

    **Arguments:**

    - `stoichiometry`: signed ions per cycle, positive outward (static ints), e.g. `[3, -2]`
      for the Na⁺/K⁺-ATPase over (Na⁺, K⁺).
    - `z`, `c_in`, `c_out`: valences and concentrations (mM) per species.
    - `temperature`: K.
    - `kd_in`, `kd_out`: dissociation constants per species on each side, mM (per ion).
    - `binding_rate`: $k_\text{off}$, 1/ms (default 1e3: binding is fast).
    - `translocation_rate`: both directions of each loaded translocation, 1/ms (default 1).
    - `empty_rate`: both directions of the empty carrier's return (symporters), 1/ms.
    - `charges`: per step, e moved outward; default: each loaded translocation carries its
      ions' charge and nothing else moves charge.
    - `delta_g_reaction`, `load`, `n_transporters`: as [`membrax.models.CycleTransporter`][].

    **Returns:** a [`membrax.models.CycleTransporter`][].

    **Reference:** P. Läuger, *Electrogenic Ion Pumps* (1991); O. Jardetzky (1966), Nature
    211:969 (alternating access).
    """
    n = np.asarray(stoichiometry)
    if n.ndim != 1 or n.size == 0 or np.any(n != np.round(n)) or not np.any(n != 0):
        raise ValueError(
            "alternating_access_transporter: stoichiometry must be a 1-D list of whole "
            f"numbers, not all zero (positive = moved outward), got {stoichiometry!r}."
        )
    n = n.astype(int)
    s = n.size
    kd_in = jnp.broadcast_to(float_array(kd_in), (s,))
    kd_out = jnp.broadcast_to(float_array(kd_out), (s,))
    for name, kd in (("kd_in", kd_in), ("kd_out", kd_out)):
        check_field("alternating_access_transporter", name, kd, unit="mM", positive=True)
    k_off = float_array(binding_rate)
    k_tr = float_array(translocation_rate)
    k_empty = float_array(empty_rate)
    steps = _alternating_access_structure(n, z)
    forward, backward = [], []
    for _, _, _, kind in steps:
        if kind[0] in ("bind", "release"):
            i, side = kind[1], kind[2]
            kd = kd_in[i] if side == "in" else kd_out[i]
            k_on = k_off / kd ** abs(int(n[i]))
            forward.append(k_on if kind[0] == "bind" else k_off)
            backward.append(k_off if kind[0] == "bind" else k_on)
        elif kind[0] == "translocate":
            forward.append(k_tr)
            backward.append(k_tr)
        else:
            forward.append(k_empty)
            backward.append(k_empty)
    default_charges = [c for _, _, c, _ in steps]
    return CycleTransporter(
        forward=jnp.stack(forward),
        backward=jnp.stack(backward[:-1]),
        charges=default_charges if charges is None else charges,
        c_in=jnp.broadcast_to(float_array(c_in), (s,)),
        c_out=jnp.broadcast_to(float_array(c_out), (s,)),
        z=jnp.broadcast_to(float_array(z), (s,)),
        temperature=temperature,
        uptake_in=np.stack([r for r, _, _, _ in steps]),
        uptake_out=np.stack([r for _, r, _, _ in steps]),
        delta_g_reaction=delta_g_reaction,
        load=load,
        n_transporters=n_transporters,
    )


# --- named transporters -----------------------------------------------------------------------
# Default rates are illustrative (fast binding, translocation of ~0.1–1/ms, affinities of the
# published order); they give turnovers of tens of cycles per second under physiological
# conditions. Fit them to data for quantitative work: thermodynamics holds for any values.


def sodium_potassium_atpase(
    c_in: ArrayLike = (15.0, 140.0),
    c_out: ArrayLike = (145.0, 5.0),
    temperature: ArrayLike = 310.0,
    *,
    delta_g_atp: ArrayLike = -50e3,
    kd_in: ArrayLike = (10.0, 100.0),
    kd_out: ArrayLike = (200.0, 1.0),
    translocation_rate: ArrayLike = 0.1,
    n_transporters: ArrayLike = 1.0,
) -> CycleTransporter:
    r"""The Na⁺/K⁺-ATPase: 3 Na⁺ out and 2 K⁺ in per ATP hydrolysed (q = +1, outward
    current), as a ping-pong (Post–Albers) cycle over species (Na⁺, K⁺).

    The Na⁺-loaded translocation (E1·Na₃ + ATP → E2P·Na₃) closes the cycle and carries
    ΔG_ATP. The net charge moves with the release of Na⁺ to the outside (the extracellular
    "ion well" that dominates the pump's voltage dependence; Gadsby 2009), so the current
    rises with depolarisation and saturates near 0 mV. The defaults give ≈ 25 cycles/s at
    −65 mV in the default solutions. Reversal at
    $3E_\text{Na} - 2E_\text{K} + \Delta G_\text{ATP}/F$ (≈ −158 mV at default conditions).

    **Arguments:** `c_in`, `c_out` as (Na⁺, K⁺) in mM; `temperature` K; `delta_g_atp` J/mol
    per cycle; `kd_in`, `kd_out` per-ion dissociation constants (Na⁺, K⁺) inside and outside,
    mM; `translocation_rate` 1/ms; `n_transporters`.

    **Returns:** a [`membrax.models.CycleTransporter`][].

    **Reference:** D. C. Gadsby (2009), Nat. Rev. Mol. Cell Biol. 10:344; P. Läuger,
    *Electrogenic Ion Pumps* (1991).
    """
    return alternating_access_transporter(
        [3, -2],
        [1.0, 1.0],
        c_in,
        c_out,
        temperature,
        kd_in=kd_in,
        kd_out=kd_out,
        translocation_rate=translocation_rate,
        # Steps: release 3Na out (+1), bind 2K out, translocate K, release 2K in, bind 3Na
        # in, translocate Na with ATP.
        charges=[1.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        delta_g_reaction=delta_g_atp,
        n_transporters=n_transporters,
    )


def sodium_calcium_exchanger(
    c_in: ArrayLike = (10.0, 1e-4),
    c_out: ArrayLike = (140.0, 2.0),
    temperature: ArrayLike = 310.0,
    *,
    kd_in: ArrayLike = (20.0, 1e-3),
    kd_out: ArrayLike = (90.0, 1.0),
    translocation_rate: ArrayLike = 1.0,
    n_transporters: ArrayLike = 1.0,
) -> CycleTransporter:
    r"""The Na⁺/Ca²⁺ exchanger NCX: 3 Na⁺ in for 1 Ca²⁺ out (q = −1), a consecutive
    (ping-pong) exchanger over species (Na⁺, Ca²⁺).

    Forward mode (Ca²⁺ extrusion, inward current) below the reversal potential
    $3E_\text{Na} - 2E_\text{Ca}$ (≈ −53 mV at default conditions), reverse mode above.
    Following Hilgemann, Ca²⁺ translocation is electroneutral and Na⁺ translocation carries
    the net charge (−1).

    **Arguments:** `c_in`, `c_out` as (Na⁺, Ca²⁺) in mM; `temperature` K; `kd_in`, `kd_out`
    per-ion dissociation constants (Na⁺, Ca²⁺), mM; `translocation_rate` 1/ms;
    `n_transporters`.

    **Returns:** a [`membrax.models.CycleTransporter`][].

    **Reference:** M. P. Blaustein & W. J. Lederer (1999), Physiol. Rev. 79:763;
    D. W. Hilgemann, D. A. Nicoll & K. D. Philipson (1991), Nature 352:715.
    """
    # Steps: release Ca out, bind 3Na out, translocate Na (−1), release 3Na in, bind Ca in,
    # translocate Ca (0).
    return alternating_access_transporter(
        [-3, 1],
        [1.0, 2.0],
        c_in,
        c_out,
        temperature,
        kd_in=kd_in,
        kd_out=kd_out,
        translocation_rate=translocation_rate,
        charges=[0.0, 0.0, -1.0, 0.0, 0.0, 0.0],
        n_transporters=n_transporters,
    )


def kcc2(
    c_in: ArrayLike = (140.0, 6.0),
    c_out: ArrayLike = (5.0, 120.0),
    temperature: ArrayLike = 310.0,
    *,
    kd_in: ArrayLike = (10.0, 10.0),
    kd_out: ArrayLike = (10.0, 10.0),
    translocation_rate: ArrayLike = 0.1,
    n_transporters: ArrayLike = 1.0,
) -> CycleTransporter:
    r"""The K⁺–Cl⁻ cotransporter KCC2: 1 K⁺ and 1 Cl⁻ out per cycle, electroneutral
    (q = 0: flux but no current), over species (K⁺, Cl⁻). It runs outward while
    $\ln([K]_i[Cl]_i/[K]_o[Cl]_o) > 0$ and sets $E_\text{Cl}$ near $E_\text{K}$ at
    equilibrium.

    **Arguments:** `c_in`, `c_out` as (K⁺, Cl⁻) in mM; others as
    [`membrax.models.sodium_potassium_atpase`][].

    **Returns:** a [`membrax.models.CycleTransporter`][].

    **Reference:** J. A. Payne et al. (2003), Trends Neurosci. 26:199.
    """
    return alternating_access_transporter(
        [1, 1],
        [1.0, -1.0],
        c_in,
        c_out,
        temperature,
        kd_in=kd_in,
        kd_out=kd_out,
        translocation_rate=translocation_rate,
        n_transporters=n_transporters,
    )


def nkcc1(
    c_in: ArrayLike = (15.0, 140.0, 30.0),
    c_out: ArrayLike = (145.0, 5.0, 120.0),
    temperature: ArrayLike = 310.0,
    *,
    kd_in: ArrayLike = (20.0, 20.0, 30.0),
    kd_out: ArrayLike = (20.0, 2.0, 30.0),
    translocation_rate: ArrayLike = 0.1,
    n_transporters: ArrayLike = 1.0,
) -> CycleTransporter:
    r"""The Na⁺–K⁺–2Cl⁻ cotransporter NKCC1: 1 Na⁺, 1 K⁺ and 2 Cl⁻ in per cycle,
    electroneutral (q = 0), over species (Na⁺, K⁺, Cl⁻).

    **Arguments:** `c_in`, `c_out` as (Na⁺, K⁺, Cl⁻) in mM; others as
    [`membrax.models.sodium_potassium_atpase`][].

    **Returns:** a [`membrax.models.CycleTransporter`][].

    **Reference:** J. M. Russell (2000), Physiol. Rev. 80:211.
    """
    return alternating_access_transporter(
        [-1, -1, -2],
        [1.0, 1.0, -1.0],
        c_in,
        c_out,
        temperature,
        kd_in=kd_in,
        kd_out=kd_out,
        translocation_rate=translocation_rate,
        n_transporters=n_transporters,
    )
