r"""Point neurons: a membrane capacitance, channels, pumps and (optionally) ion concentrations
that follow the currents.

The membrane equation, with every membrane current outward positive and the injected
(stimulus) current positive into the cell:

$$C_m \frac{dV}{dt} = I_\text{stim}(t) - \sum_\text{channels} I_j(x_j, V) - \sum_\text{pumps} I_p,$$

each channel's gating state $x_j$ obeying its own kinetics at the instantaneous V. Units are
coherent (DESIGN.md): density (µF/cm², mS/cm², µA/cm²) or whole-cell (pF, nS, pA), mV, ms.

A cell is a description; the simulators in `membrax.simulate` integrate it
(`membrax.current_clamp`, `membrax.steady_state`). Its state is the named PyTree
[`membrax.models.CellState`][]: `state.v`, `state.channels[j]`, `state.ions[i]` (and
`state.ions_out[i]` for ions in a restricted extracellular shell).
"""

import abc
from collections.abc import Mapping
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from .. import constants
from .._custom_types import float_array
from ..physics._checks import CONC_FIX, TEMP_FIX, Z_FIX
from ..physics._gating import _HH_TEMPERATURE
from ..physics._nernst import _nernst
from ._channel import Channel
from ._checks import check_field
from ._permeation import GHKPermeation, Ohmic
from ._published import HH_LEAK_REVERSAL, hh1952_leak, hh1952_potassium, hh1952_sodium
from ._transporters import CycleTransporter

# dc/dt (mM/ms) = ∓FLUX_SCALE · I / (z F 𝒱): the derivation lives in membrax.constants; the
# names stay importable from here.
FLUX_SCALE_DENSITY = constants.FLUX_SCALE_DENSITY
FLUX_SCALE_WHOLE_CELL = constants.FLUX_SCALE_WHOLE_CELL


class IonConcentrations(NamedTuple):
    """The concentrations of one ion species on the two sides of the membrane, mM."""

    c_in: Float[Array, "..."]
    c_out: Float[Array, "..."]


class CellState(eqx.Module):
    """The state of a [`membrax.models.PointCell`][] — a PyTree, named, never indexed.

    **Fields:**

    - `v`: the membrane potential, mV (shape () for one cell).
    - `channels`: one gating state per channel of `cell.channels`, in order, each of shape
      (n_states,) (empty for an ungated leak).
    - `ions`: the intracellular concentration of each ion of `cell.ions`, in order, mM
      (constant for ions with fixed concentrations).
    - `ions_out`: for a cell with extracellular shells (an [`membrax.models.Ion`][] with a
      `shell_volume`), one entry per ion of `cell.ions`: the shell concentration, mM, or
      None for an ion facing the fixed bath (its `c_out`). Empty, (), for a cell without
      shells, whose states are then exactly those of a cell without this field.
    """

    v: Float[Array, ""]
    channels: tuple[Float[Array, " states"], ...]
    ions: tuple[Float[Array, ""], ...] = ()
    ions_out: tuple[Float[Array, ""] | None, ...] = ()


class Ion(eqx.Module):
    r"""An ion species whose concentrations set the reversal potential of some channels, and
    (optionally) whose intracellular concentration follows the currents it carries.

    The channels listed in `channels` take their reversal potential from the Nernst equation,
    $E = \frac{RT}{zF}\ln\frac{c_\text{out}}{c_\text{in}}$ (an [`membrax.models.Ohmic`][]
    channel's `e_rev` is replaced; a [`membrax.models.GHKPermeation`][] gets `c_in`, `c_out`),
    so `jax.grad` with respect to `c_out` gives e.g. $dV_\text{rest}/d[\text{K}^+]_o$.

    With a `volume`, $c_\text{in}$ becomes a state variable filled by the ion's current $I_s$
    (its channels plus its share of every pump, outward positive):

    $$\frac{dc_\text{in}}{dt} = -\frac{k\,I_s}{z F\,\mathcal{V}},$$

    with $k = 10$ for density cells ($I_s$ in µA/cm², $\mathcal{V}$ the intracellular volume
    per membrane area in µm — $d/4$ for a long cylinder of diameter $d$) or $k = 10^3$ for
    whole-cell cells (`whole_cell=True`: pA, $\mathcal{V}$ in µm³); see
    `membrax.constants.FLUX_SCALE_DENSITY`. The cell then relaxes to a non-equilibrium
    steady state in which the pumps balance the channel fluxes.

    With a `shell_volume` $\mathcal{V}_o$, the ion faces a restricted extracellular space
    (the periaxonal space of Frankenhaeuser & Hodgkin 1956) whose concentration $c_o$ is a
    state variable too, filled by the same current and, with a `shell_tau` τ, relaxing to the
    bath concentration $c_\text{bath}$ = `c_out`:

    $$\frac{dc_o}{dt} = \frac{k\,I_s}{z F\,\mathcal{V}_o}
      - \frac{c_o - c_\text{bath}}{\tau}.$$

    Without `shell_tau` the shell is sealed: with a `volume` too, $c_\text{in}\mathcal{V}
    + c_o\mathcal{V}_o$ is conserved. For a constant current the shell settles at
    $c_\text{bath} + k\tau I_s/(zF\mathcal{V}_o)$. Without a shell, `c_out` stays fixed.

    **Fields:**

    - `name`: a label, used by pumps to find their ions (e.g. "K", "Na").
    - `valence`: z, nonzero (+1 for K⁺ and Na⁺).
    - `c_in`: the intracellular concentration (at t = 0 if dynamic), mM, > 0.
    - `c_out`: the extracellular (bath) concentration, mM, > 0; with a shell, also the
      shell's concentration at t = 0.
    - `temperature`: K, > 0 (for the Nernst potential).
    - `channels`: indices into `cell.channels` of the channels this ion passes (static).
    - `volume`: the volume the ion accumulates in (see above), or None (default) for fixed
      concentrations.
    - `whole_cell`: whether the cell uses whole-cell units (pA, µm³) rather than density
      units (µA/cm², µm) — static, default False.
    - `shell_volume`: $\mathcal{V}_o$, the extracellular shell's volume per membrane area
      in µm (density cells; its thickness, e.g. 0.03 for the squid's 30 nm periaxonal
      space) or in µm³ (whole-cell), > 0; or None (default): no shell, `c_out` fixed.
    - `shell_tau`: τ, ms, > 0: the shell's exchange time with the bath; or None (default): a
      sealed shell. Needs a `shell_volume`.

    **Reference:** B. Frankenhaeuser & A. L. Hodgkin (1956), J. Physiol. 131:341 (the
    periaxonal space).
    """

    name: str = eqx.field(static=True)
    valence: Float[Array, ""] = eqx.field(converter=float_array)
    c_in: Float[Array, ""] = eqx.field(converter=float_array)
    c_out: Float[Array, ""] = eqx.field(converter=float_array)
    temperature: Float[Array, ""] = eqx.field(converter=float_array)
    channels: tuple[int, ...] = eqx.field(static=True, default=())
    volume: Float[Array, ""] | None = eqx.field(
        converter=lambda x: None if x is None else float_array(x), default=None
    )
    whole_cell: bool = eqx.field(static=True, default=False)
    shell_volume: Float[Array, ""] | None = eqx.field(
        converter=lambda x: None if x is None else float_array(x), default=None
    )
    shell_tau: Float[Array, ""] | None = eqx.field(
        converter=lambda x: None if x is None else float_array(x), default=None
    )

    def __check_init__(self):
        owner = f"Ion({self.name!r})"
        check_field(owner, "valence", self.valence, fix=Z_FIX)
        if not _is_traced(self.valence) and (jnp.asarray(self.valence) == 0).any():
            raise ValueError(f"{owner}: valence must be nonzero, got 0.0. {Z_FIX}")
        check_field(owner, "c_in", self.c_in, unit="mM", positive=True, fix=CONC_FIX)
        check_field(owner, "c_out", self.c_out, unit="mM", positive=True, fix=CONC_FIX)
        check_field(owner, "temperature", self.temperature, unit="K", positive=True, fix=TEMP_FIX)
        if self.volume is not None:
            check_field(
                owner,
                "volume",
                self.volume,
                positive=True,
                fix="It is the intracellular volume per membrane area (µm) for a density "
                "cell, or the volume (µm³) with whole_cell=True.",
            )
        if self.shell_volume is not None:
            check_field(
                owner,
                "shell_volume",
                self.shell_volume,
                positive=True,
                fix="It is the extracellular shell's volume per membrane area (µm, e.g. 0.03 "
                "for a 30 nm space) for a density cell, or its volume (µm³) with "
                "whole_cell=True; pass None for no shell.",
            )
        if self.shell_tau is not None:
            if self.shell_volume is None:
                raise ValueError(
                    f"{owner}: shell_tau = {float(jnp.asarray(self.shell_tau))!r} ms needs a "
                    "shell_volume (the restricted extracellular space that exchanges with "
                    "the bath); give shell_volume=..., or drop shell_tau."
                )
            check_field(
                owner,
                "shell_tau",
                self.shell_tau,
                unit="ms",
                positive=True,
                fix="It is the time constant of the shell's exchange with the bath; pass "
                "None for a sealed shell.",
            )
        if not all(isinstance(j, int) and not isinstance(j, bool) for j in self.channels):
            raise TypeError(
                f"{owner}: channels must be a tuple of ints (indices into cell.channels), got "
                f"{self.channels!r}."
            )

    @property
    def dynamic(self) -> bool:
        """Whether c_in is a state variable (a `volume` was given)."""
        return self.volume is not None

    @property
    def shell(self) -> bool:
        """Whether the extracellular concentration is a state variable (a `shell_volume`)."""
        return self.shell_volume is not None

    @property
    def flux_scale(self) -> float:
        """k of dc/dt = ∓k I/(zF𝒱): 10 (density units) or 1e3 (whole-cell units)."""
        return FLUX_SCALE_WHOLE_CELL if self.whole_cell else FLUX_SCALE_DENSITY

    @property
    def charge_per_mm(self) -> Float[Array, ""]:
        """zF𝒱/k: the charge (cell charge units) of 1 mM of the ion in its `volume`."""
        return self.valence * constants.FARADAY * self.volume / self.flux_scale

    def reversal_potential(
        self, c_in: ArrayLike, c_out: ArrayLike | None = None
    ) -> Float[Array, "..."]:
        """The Nernst potential at intracellular concentration `c_in` (mM) and extracellular
        `c_out` (mM; default the bath, `self.c_out`), mV."""
        c_out = self.c_out if c_out is None else c_out
        return _nernst(c_out, c_in, self.valence, self.temperature)

    def concentration_rate(self, current: ArrayLike, c_in: ArrayLike) -> Float[Array, "..."]:
        """dc_in/dt in mM/ms given the ion's outward current (cell units); 0 if fixed."""
        if self.volume is None:
            return jnp.zeros_like(jnp.asarray(c_in))
        return -self.flux_scale * current / (self.valence * constants.FARADAY * self.volume)

    def shell_rate(self, current: ArrayLike, c_out: ArrayLike) -> Float[Array, "..."]:
        r"""$dc_o/dt = kI/(zF\mathcal{V}_o) - (c_o - c_\text{bath})/\tau$ in mM/ms, given the
        ion's outward current (cell units) and the shell concentration `c_out` (mM); 0
        without a shell."""
        if self.shell_volume is None:
            return jnp.zeros_like(jnp.asarray(c_out))
        rate = self.flux_scale * current / (self.valence * constants.FARADAY * self.shell_volume)
        if self.shell_tau is not None:
            rate = rate - (c_out - self.c_out) / self.shell_tau
        return rate


def _is_traced(x):
    return isinstance(x, jax.core.Tracer)


class AbstractPump(eqx.Module):
    """A pump or exchanger: a membrane current that is not a channel.

    This is the extension point for electrogenic transport. A concrete pump defines
    `current(v, concentrations)` (its net outward current, in the cell's current units) and,
    if it moves ions the cell tracks, `ion_currents(v, concentrations)` (the current carried
    by each species, keyed by `Ion.name`, outward positive; the values sum to `current`).
    `concentrations` maps each ion name of the cell to its
    [`membrax.models.IonConcentrations`][]; `species` names the ions the pump needs.
    """

    @abc.abstractmethod
    def current(
        self, v: ArrayLike, concentrations: Mapping[str, IonConcentrations]
    ) -> Float[Array, "..."]:
        """The net outward pump current at V (mV)."""

    def ion_currents(
        self, v: ArrayLike, concentrations: Mapping[str, IonConcentrations]
    ) -> dict[str, Float[Array, "..."]]:
        """The current carried by each ion species (default: none tracked)."""
        return {}

    @property
    def species(self) -> tuple[str, ...]:
        """The ion names this pump reads from the cell (default: none)."""
        return ()


class SodiumPotassiumPump(AbstractPump):
    r"""The Na⁺/K⁺-ATPase: per cycle 3 Na⁺ out and 2 K⁺ in, one net charge out, at a rate
    saturating in intracellular Na⁺ and extracellular K⁺ (Kager, Wadman & Somjen 2000):

    $$I_\text{pump} = I_\text{max}\left(1 + \frac{K_K}{[\text{K}]_o}\right)^{-2}
      \left(1 + \frac{K_{Na}}{[\text{Na}]_i}\right)^{-3},$$

    carried as $3I_\text{pump}$ by Na⁺ (outward) and $-2I_\text{pump}$ by K⁺ (inward).

    **Fields:**

    - `i_max`: the maximal pump current, in the cell's current units (µA/cm² or pA), ≥ 0.
    - `k_potassium`: $K_K$, mM, > 0 (default 3.5).
    - `k_sodium`: $K_{Na}$, mM, > 0 (default 10).
    - `sodium`, `potassium`: the names of the cell's Na⁺ and K⁺ [`membrax.models.Ion`][]s
      (static, defaults "Na" and "K").

    **Reference:** H. Kager, W. J. Wadman & G. G. Somjen (2000), J. Neurophysiol. 84:495.
    """

    i_max: Float[Array, ""] = eqx.field(converter=float_array)
    k_potassium: Float[Array, ""] = eqx.field(converter=float_array, default=3.5)
    k_sodium: Float[Array, ""] = eqx.field(converter=float_array, default=10.0)
    sodium: str = eqx.field(static=True, default="Na")
    potassium: str = eqx.field(static=True, default="K")

    def __check_init__(self):
        owner = "SodiumPotassiumPump"
        check_field(owner, "i_max", self.i_max, nonnegative=True)
        check_field(owner, "k_potassium", self.k_potassium, unit="mM", positive=True)
        check_field(owner, "k_sodium", self.k_sodium, unit="mM", positive=True)

    @property
    def species(self):
        return (self.sodium, self.potassium)

    def current(self, v, concentrations):
        na_in = concentrations[self.sodium].c_in
        k_out = concentrations[self.potassium].c_out
        k_term = 1.0 / (1.0 + self.k_potassium / k_out)
        na_term = 1.0 / (1.0 + self.k_sodium / na_in)
        rate = self.i_max * k_term**2 * na_term**3
        return jnp.broadcast_to(rate, jnp.shape(v)).astype(jnp.result_type(rate, v))

    def ion_currents(self, v, concentrations):
        i = self.current(v, concentrations)
        return {self.sodium: 3.0 * i, self.potassium: -2.0 * i}


def _as_names(x):
    return (x,) if isinstance(x, str) else tuple(x)


class TransporterPump(AbstractPump):
    r"""A [`membrax.models.CycleTransporter`][] as a cell pump, its concentrations following
    the cell's ions.

    At each evaluation the transporter's `c_in` and `c_out` fields are replaced (by
    `eqx.tree_at`) by the cell's current concentrations of the ions named in `species` —
    the intracellular one and the extracellular shell or bath — so the turnover $J$
    (cycles/ms per transporter) follows the concentrations. The currents are

    $$I = q\,e\,N\,J, \qquad I_s = n_s z_s\,e\,N\,J,$$

    with $n_s$ the ions of species s moved outward per cycle, $q = \sum_s n_s z_s$ and e in
    fC (1 fC/ms = 1 pA), so $\sum_s I_s = I$. N is the transporter's `n_transporters` (a
    count, giving pA, for whole-cell cells), or, with a `density` in transporters per µm²,
    N = 100 × density (`membrax.constants.TRANSPORTER_DENSITY_SCALE`), giving µA/cm²:
    $e\cdot\text{µm}^{-2}\cdot\text{ms}^{-1} = 1.602\times10^{-2}$ µA/cm². A density in
    pmol/cm² is 6022 transporters per µm².

    **Fields:**

    - `transporter`: a [`membrax.models.CycleTransporter`][] (e.g.
      [`membrax.models.sodium_potassium_atpase`][]); its own `c_in`, `c_out` are ignored.
    - `species` (the argument; stored as `ion_names`): the names of the cell's
      [`membrax.models.Ion`][]s, one per transporter species in its order (static), e.g.
      ("Na", "K") for the Na⁺/K⁺-ATPase.
    - `density`: transporters per µm² of membrane (density cells), ≥ 0; or None (default):
      use `transporter.n_transporters` as is.

    The transporter's valences `z` should equal the ions' valences (they set the current
    each species carries).
    """

    transporter: CycleTransporter
    ion_names: tuple[str, ...] = eqx.field(static=True, converter=_as_names)
    density: Float[Array, ""] | None = eqx.field(
        converter=lambda x: None if x is None else float_array(x), default=None
    )

    def __init__(self, transporter, species, density=None):
        self.transporter = transporter
        self.ion_names = species
        self.density = density

    def __check_init__(self):
        owner = "TransporterPump"
        if not isinstance(self.transporter, CycleTransporter):
            raise TypeError(
                f"{owner}: transporter must be a membrax.models.CycleTransporter (e.g. "
                f"membrax.models.sodium_potassium_atpase()), got "
                f"{type(self.transporter).__name__}."
            )
        n_species = self.transporter.c_in.shape[-1]
        names = self.ion_names
        if len(names) != n_species or not all(isinstance(s, str) for s in names):
            raise ValueError(
                f"{owner}: species must name one cell ion per transporter species ("
                f"{n_species}, in the transporter's order), got {self.ion_names!r}."
            )
        if self.density is not None:
            check_field(
                owner,
                "density",
                self.density,
                nonnegative=True,
                fix="It is the number of transporters per µm² of membrane (pmol/cm² × 6022); "
                "pass None to use transporter.n_transporters.",
            )

    @property
    def species(self):
        return self.ion_names

    def _scaled(self):
        if self.density is None:
            return self.transporter
        n = constants.TRANSPORTER_DENSITY_SCALE * self.density
        return eqx.tree_at(lambda t: t.n_transporters, self.transporter, n)

    def _flux(self, v, concentrations):
        """Cycles per ms of the population at V with the cell's concentrations."""
        c_in = jnp.stack([jnp.asarray(concentrations[s].c_in) for s in self.ion_names], axis=-1)
        c_out = jnp.stack([jnp.asarray(concentrations[s].c_out) for s in self.ion_names], axis=-1)
        base = self._scaled()

        def one(v, c_in, c_out):
            t = eqx.tree_at(lambda t: (t.c_in, t.c_out), base, (c_in, c_out))
            return t.flux(v)

        if c_in.ndim == 1:
            return one(v, c_in, c_out)
        # Batched concentrations (e.g. recorded states): one transporter per element.
        return jnp.vectorize(one, signature="(),(s),(s)->()")(v, c_in, c_out)

    def current(self, v, concentrations):
        flux = self._flux(v, concentrations)
        q = self.transporter.electrogenicity()
        return q * constants.ELEMENTARY_CHARGE_FC * flux

    def ion_currents(self, v, concentrations):
        flux = self._flux(v, concentrations)
        n = self.transporter.stoichiometry
        z = self.transporter.z
        return {
            s: (n[k] * z[k] * constants.ELEMENTARY_CHARGE_FC) * flux
            for k, s in enumerate(self.ion_names)
        }


def _species(pump):
    return pump.species if isinstance(pump, AbstractPump) else ()


def _as_tuple(x):
    if isinstance(x, (tuple, list)):
        return tuple(x)
    return (x,)


class PointCell(eqx.Module):
    r"""A single-compartment neuron: capacitance, channels, pumps and ion species.

    $$C_m \frac{dV}{dt} = I_\text{stim} - \sum_j I_j(x_j, V) - \sum_p I_p(V, c),\qquad
      \frac{dx_j}{dt} = f_j(x_j, V),\qquad \frac{dc_i}{dt} = -\frac{k\,I_i}{z_i F\,\mathcal{V}_i},$$

    and, for ions in an extracellular shell, $dc_{o,i}/dt = kI_i/(z_iF\mathcal{V}_{o,i})
    - (c_{o,i} - c_{\text{bath},i})/\tau_i$ (see [`membrax.models.Ion`][]).

    **Fields:**

    - `capacitance`: $C_m$, µF/cm² (density cells) or pF (whole-cell), > 0.
    - `channels`: a tuple of [`membrax.models.Channel`][] (a single channel is wrapped).
    - `pumps`: a tuple of pumps (default none): [`membrax.models.AbstractPump`][]s, whose
      `current(v, concentrations)` sees the cell's ion concentrations (e.g. a
      [`membrax.models.TransporterPump`][]), or any Module with a `current(v)` method (e.g.
      a transporter with fixed concentrations), outward positive.
    - `ions`: a tuple of [`membrax.models.Ion`][] (default none): reversal potentials from
      concentrations, and concentration dynamics where an ion has a volume.
    - `v_init`: the membrane potential at t = 0, mV (default −65); gates start at their
      `initial` value or steady state there.

    The squid axon is one line: [`membrax.models.hh1952_cell`][].
    """

    capacitance: Float[Array, ""] = eqx.field(converter=float_array)
    channels: tuple[Channel, ...] = eqx.field(converter=_as_tuple)
    pumps: tuple[AbstractPump, ...] = eqx.field(converter=_as_tuple, default=())
    ions: tuple[Ion, ...] = eqx.field(converter=_as_tuple, default=())
    v_init: Float[Array, ""] = eqx.field(converter=float_array, default=-65.0)

    def __check_init__(self):
        owner = "PointCell"
        check_field(
            owner,
            "capacitance",
            self.capacitance,
            positive=True,
            fix="It is the membrane capacitance in µF/cm² (density) or pF (whole-cell); the "
            "squid axon has 1 µF/cm².",
        )
        check_field(owner, "v_init", self.v_init, unit="mV")
        for k, ch in enumerate(self.channels):
            if not isinstance(ch, Channel):
                raise TypeError(
                    f"{owner}: channels[{k}] must be a membrax.models.Channel, got "
                    f"{type(ch).__name__}."
                )
        for k, p in enumerate(self.pumps):
            if not (isinstance(p, eqx.Module) and callable(getattr(p, "current", None))):
                raise TypeError(
                    f"{owner}: pumps[{k}] must be a Module with a current(v, ...) method (a "
                    "membrax.models.AbstractPump such as SodiumPotassiumPump, or a transporter "
                    f"with current(v)), got {type(p).__name__}."
                )
        names = [ion.name for ion in self.ions]
        for k, ion in enumerate(self.ions):
            if not isinstance(ion, Ion):
                raise TypeError(
                    f"{owner}: ions[{k}] must be a membrax.models.Ion, got {type(ion).__name__}."
                )
        if len(set(names)) != len(names):
            raise ValueError(f"{owner}: ion names must be unique, got {names}.")
        owners = {}
        for ion in self.ions:
            for j in ion.channels:
                if not 0 <= j < len(self.channels):
                    raise ValueError(
                        f"{owner}: Ion({ion.name!r}) lists channel {j}, but the cell has "
                        f"{len(self.channels)} channels, numbered 0 to {len(self.channels) - 1}."
                    )
                if j in owners:
                    raise ValueError(
                        f"{owner}: channel {j} is listed by both Ion({owners[j]!r}) and "
                        f"Ion({ion.name!r}); a channel passes one ion species."
                    )
                owners[j] = ion.name
                law = self.channels[j].permeation
                if not isinstance(law, (Ohmic, GHKPermeation)):
                    raise TypeError(
                        f"{owner}: channel {j} (listed by Ion({ion.name!r})) has permeation "
                        f"{type(law).__name__}; only Ohmic and GHKPermeation channels can "
                        "follow ion concentrations."
                    )
        for k, p in enumerate(self.pumps):
            missing = [s for s in _species(p) if s not in names]
            if missing:
                raise ValueError(
                    f"{owner}: pumps[{k}] ({type(p).__name__}) needs the ions {missing}, but the "
                    f"cell's ions are {names}. Add membrax.models.Ion(name=...) entries."
                )

    # --- state ---------------------------------------------------------------------------

    def initial_state(self, v: ArrayLike | None = None) -> CellState:
        """The state at t = 0: V = `v` (default `v_init`), each gate at its `initial` value
        or its steady state at V, ion concentrations at their initial values."""
        v = self.v_init if v is None else float_array(v)
        return CellState(
            v,
            tuple(ch.gating.initial_state(v) for ch in self.channels),
            tuple(ion.c_in for ion in self.ions),
            self._initial_outside(),
        )

    def _initial_outside(self):
        if not any(ion.shell for ion in self.ions):
            return ()
        return tuple(ion.c_out if ion.shell else None for ion in self.ions)

    def outside_concentrations(self, state: CellState) -> tuple[Float[Array, "..."], ...]:
        """Each ion's extracellular concentration, mM: the shell's (from `state.ions_out`)
        or the bath's (`ion.c_out`)."""
        out = state.ions_out if state.ions_out else (None,) * len(self.ions)
        return tuple(ion.c_out if c is None else c for ion, c in zip(self.ions, out))

    def steady_gating(self, v: ArrayLike) -> tuple[Float[Array, "... states"], ...]:
        """Every channel's gating at steady state at V (mV)."""
        return tuple(ch.gating.steady_state(v) for ch in self.channels)

    def concentrations(self, state: CellState) -> dict[str, IonConcentrations]:
        """Each ion's (c_in, c_out), mM, keyed by name (c_out from the shell where there
        is one)."""
        outside = self.outside_concentrations(state)
        return {
            ion.name: IonConcentrations(c, c_o)
            for ion, c, c_o in zip(self.ions, state.ions, outside)
        }

    # --- currents ------------------------------------------------------------------------

    def resolved_channels(self, state: CellState) -> tuple[Channel, ...]:
        """The channels with their reversal potentials (or GHK concentrations) set by the
        ion concentrations of `state`."""
        channels = list(self.channels)
        outside = self.outside_concentrations(state)
        for ion, c_in, c_out in zip(self.ions, state.ions, outside):
            for j in ion.channels:
                ch = channels[j]
                if isinstance(ch.permeation, Ohmic):
                    e = ion.reversal_potential(c_in, c_out)
                    ch = eqx.tree_at(lambda c: c.permeation.e_rev, ch, e)
                else:
                    ch = eqx.tree_at(
                        lambda c: (c.permeation.c_in, c.permeation.c_out),
                        ch,
                        (jnp.asarray(c_in), jnp.asarray(c_out)),
                    )
                channels[j] = ch
        return tuple(channels)

    def channel_currents(
        self, state: CellState, v: ArrayLike | None = None
    ) -> tuple[Float[Array, "..."], ...]:
        """Each channel's outward current at the gating of `state` and V (default
        `state.v`), in the cell's current units."""
        v = state.v if v is None else v
        if not self.ions:
            channels = self.channels
        else:
            channels = self.resolved_channels(state)
        return tuple(ch.current(x, v) for ch, x in zip(channels, state.channels))

    def pump_currents(
        self, state: CellState, v: ArrayLike | None = None
    ) -> tuple[Float[Array, "..."], ...]:
        """Each pump's net outward current."""
        v = state.v if v is None else v
        conc = self.concentrations(state)
        return tuple(
            p.current(v, conc) if isinstance(p, AbstractPump) else p.current(v) for p in self.pumps
        )

    def membrane_current(self, state: CellState, v: ArrayLike | None = None) -> Float[Array, ""]:
        """The total outward membrane current (channels and pumps) at V (default
        `state.v`) with the gating and concentrations of `state`."""
        v = state.v if v is None else v
        total = jnp.zeros(jnp.shape(v), jnp.result_type(v, float))
        for i in self.channel_currents(state, v):
            total = total + i
        for i in self.pump_currents(state, v):
            total = total + i
        return total

    def ion_currents(
        self, state: CellState, v: ArrayLike | None = None
    ) -> tuple[Float[Array, ""], ...]:
        """The outward current carried by each ion of `cell.ions` (channels and pumps)."""
        v = state.v if v is None else v
        if not self.ions:
            return ()
        per_channel = self.channel_currents(state, v)
        conc = self.concentrations(state)
        pump_parts = [p.ion_currents(v, conc) for p in self.pumps if isinstance(p, AbstractPump)]
        out = []
        for ion in self.ions:
            i = jnp.zeros(jnp.shape(v), jnp.result_type(v, float))
            for j in ion.channels:
                i = i + per_channel[j]
            for part in pump_parts:
                if ion.name in part:
                    i = i + part[ion.name]
            out.append(i)
        return tuple(out)

    @property
    def closed(self) -> bool:
        """Whether every membrane current is carried by a dynamic ion (no untracked leak):
        then charge is conserved, C·V − Σ zF𝒱c/k is constant, and the steady state is fixed
        by that conserved quantity rather than by dV/dt = 0 (which follows from dc/dt = 0).
        Extracellular shells do not change this (they exchange ions with the bath, not
        charge with the cell)."""
        if not self.ions or not all(ion.dynamic for ion in self.ions):
            return False
        tracked = {j for ion in self.ions for j in ion.channels}
        if tracked != set(range(len(self.channels))):
            return False
        names = {ion.name for ion in self.ions}
        return all(
            isinstance(p, AbstractPump)
            and type(p).ion_currents is not AbstractPump.ion_currents
            and set(p.species) <= names
            for p in self.pumps
        )

    def charge_content(self, state: CellState) -> Float[Array, ""]:
        """C·V − Σ_i z_i F 𝒱_i c_i / k_i over dynamic ions: constant in time for a `closed`
        cell without stimulus (in the cell's charge units: µF/cm²·mV = nC/cm², or pF·mV = fC)."""
        total = self.capacitance * state.v
        for ion, c in zip(self.ions, state.ions):
            if ion.dynamic:
                total = total - ion.charge_per_mm * c
        return total

    def derivative(self, state: CellState, stimulus_current: ArrayLike = 0.0) -> CellState:
        """d(state)/dt: dV/dt in mV/ms, gating rates in 1/ms, concentration rates in mM/ms,
        with `stimulus_current` injected (positive into the cell, cell units)."""
        v = state.v
        i_m = self.membrane_current(state, v)
        dv = (stimulus_current - i_m) / self.capacitance
        dx = tuple(ch.gating.derivative(x, v) for ch, x in zip(self.channels, state.channels))
        i_ions = self.ion_currents(state, v)
        dc = tuple(ion.concentration_rate(i, c) for ion, i, c in zip(self.ions, i_ions, state.ions))
        dc_out = tuple(
            None if c is None else ion.shell_rate(i, c)
            for ion, i, c in zip(self.ions, i_ions, state.ions_out)
        )
        return CellState(dv, dx, dc, dc_out)


def hh1952_cell(
    *,
    g_na: ArrayLike = 120.0,
    g_k: ArrayLike = 36.0,
    g_leak: ArrayLike = 0.3,
    e_na: ArrayLike = 50.0,
    e_k: ArrayLike = -77.0,
    e_leak: ArrayLike = HH_LEAK_REVERSAL,
    capacitance: ArrayLike = 1.0,
    temperature: ArrayLike = _HH_TEMPERATURE,
    q10: ArrayLike = 3.0,
    v_init: ArrayLike = -65.0,
) -> PointCell:
    r"""The Hodgkin–Huxley (1952) squid giant axon as a point neuron, in density units
    (µF/cm², mS/cm², µA/cm²), modern convention (rest ≈ −65 mV), 6.3 °C by default.

    Channels, in order: [`membrax.models.hh1952_sodium`][] (m³h),
    [`membrax.models.hh1952_potassium`][] (n⁴), [`membrax.models.hh1952_leak`][]. Its state is
    `CellState(v, (x_na, x_k, x_leak))` with `x_na = (m, h)`, `x_k = (n,)`, `x_leak = ()`.

    **Arguments (all keyword):** `g_na`, `g_k`, `g_leak` (mS/cm², defaults 120, 36, 0.3),
    `e_na`, `e_k`, `e_leak` (mV, defaults 50, −77, −54.387), `capacitance` (µF/cm², default
    1), `temperature` (K, default 279.45 = 6.3 °C), `q10` (default 3), `v_init` (mV,
    default −65).

    **Returns:** a [`membrax.models.PointCell`][]. Vmap the call over conductances to build a
    population: `jax.vmap(lambda g: hh1952_cell(g_na=g))(g_values)`.

    **Reference:** A. L. Hodgkin & A. F. Huxley (1952), J. Physiol. 117:500.
    """
    return PointCell(
        capacitance=capacitance,
        channels=(
            hh1952_sodium(g_max=g_na, e_rev=e_na, temperature=temperature, q10=q10),
            hh1952_potassium(g_max=g_k, e_rev=e_k, temperature=temperature, q10=q10),
            hh1952_leak(g_max=g_leak, e_rev=e_leak),
        ),
        v_init=v_init,
    )
