"""Thermodynamics of pumps, exchangers and cotransporters.

A transporter is described by its **stoichiometry**: a 1-D array of signed counts, one per
transported species, per forward cycle, **positive for a species moved outward** and negative
for one moved inward. The Na⁺/K⁺-ATPase (3 Na⁺ out, 2 K⁺ in) is `[3, -2]` over `[Na, K]`; the
Na⁺/Ca²⁺ exchanger NCX (3 Na⁺ in, 1 Ca²⁺ out) is `[-3, 1]` over `[Na, Ca]`.
"""

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from .. import constants
from .._validation import check_array, check_condition, check_ions, check_scalar
from ._checks import CONC_FIX, check_temperature
from ._nernst import _delta_mu_in, _thermal_voltage

_N_FIX = (
    "stoichiometry holds signed counts per cycle, one per species: positive for a species "
    "moved outward, negative for one moved inward (e.g. [3, -2] for the Na/K-ATPase)."
)
_Z_FIX = "z holds the species' valences (+1 for Na⁺, +2 for Ca²⁺, -1 for Cl⁻, 0 if neutral)."
_DG_FIX = (
    "delta_g_reaction is the free energy of the driving reaction per cycle, J/mol "
    "(e.g. -50e3 for one ATP hydrolysed under cellular conditions)."
)

# |q| below this many ulps of Σ|n·z| counts as zero net charge: with integer counts and
# valences q is exact, and a rounding-level q from fractional valences is no real charge.
_NEUTRAL_ULPS = 64


def _check_species(where, stoichiometry, z, **concentrations):
    """Validate the per-species arrays and broadcast them to one common length."""
    stoichiometry = check_array(where, "stoichiometry", stoichiometry, fix=_N_FIX)
    z = check_array(where, "z", z, fix=_Z_FIX)
    concentrations = {
        name: check_array(where, name, c, unit="mM", positive=True, fix=CONC_FIX)
        for name, c in concentrations.items()
    }
    n = check_ions(where, stoichiometry=stoichiometry, z=z, **concentrations)
    return tuple(jnp.broadcast_to(a, (n,)) for a in (stoichiometry, z, *concentrations.values()))


def _check_thermo(where, temperature, delta_g_reaction):
    temperature = check_temperature(where, temperature)
    delta_g_reaction = check_array(
        where, "delta_g_reaction", delta_g_reaction, unit="J/mol", fix=_DG_FIX
    )
    check_scalar(where, "temperature", temperature)
    check_scalar(where, "delta_g_reaction", delta_g_reaction)
    return temperature, delta_g_reaction


def _electrogenicity(stoichiometry, z):
    return jnp.sum(stoichiometry * z)


def electrogenicity(stoichiometry: ArrayLike, z: ArrayLike) -> Float[Array, ""]:
    r"""The net elementary charge a transporter moves outward per cycle.

    $$q = \sum_i z_i n_i,$$

    with $n_i$ the signed count of species $i$ per cycle (positive outward). $q > 0$: the
    forward cycle carries outward current (Na⁺/K⁺-ATPase, $q = +1$); $q < 0$: inward current
    (NCX, $q = -1$); $q = 0$: electroneutral (KCC2, NKCC1).

    **Arguments:** one entry per species, 1-D of equal length (scalars broadcast):

    - `stoichiometry`: signed counts per cycle, positive = moved outward.
    - `z`: valences (0 for a neutral solute).

    **Returns:** q, a dimensionless scalar (elementary charges per cycle).

    **Reference:** P. Läuger, *Electrogenic Ion Pumps* (1991).
    """
    where = "electrogenicity"
    stoichiometry, z = _check_species(where, stoichiometry, z)
    return _electrogenicity(stoichiometry, z)


def _transport_free_energy(stoichiometry, c_in, c_out, z, v, temperature, delta_g_reaction):
    # Moving n_i moles outward costs -n_i·Δμ̃_in,i: Δμ̃_in is the cost of moving one inward.
    delta_mu_in = _delta_mu_in(c_in, c_out, z, v, temperature)
    return delta_g_reaction - jnp.sum(stoichiometry * delta_mu_in)


def transport_free_energy(
    stoichiometry: ArrayLike,
    c_in: ArrayLike,
    c_out: ArrayLike,
    z: ArrayLike,
    v: ArrayLike,
    temperature: ArrayLike,
    *,
    delta_g_reaction: ArrayLike = 0.0,
) -> Float[Array, ""]:
    r"""The Gibbs free energy change of one forward transport cycle, in J/mol.

    $$\Delta G = \Delta G_\text{reaction} - \sum_i n_i\,\Delta\tilde\mu_{\text{in},i},
      \qquad \Delta\tilde\mu_{\text{in},i} = RT\ln\frac{c_{\text{in},i}}{c_{\text{out},i}}
      + z_i F V,$$

    where $n_i$ is the signed count of species $i$ per cycle (positive outward), so moving
    $n_i$ moles outward costs $-n_i\Delta\tilde\mu_{\text{in},i}$ (see
    [`membrax.electrochemical_potential_difference`][]). $\Delta G < 0$: the cycle runs forward
    spontaneously; $\Delta G > 0$: backward; $\Delta G = 0$: the transporter is at equilibrium.
    $\Delta G$ is linear in V with slope $-qF$ ($q$ = [`membrax.electrogenicity`][]), so it does
    not depend on V for an electroneutral transporter.

    **Arguments:** per species, 1-D of equal length (scalars broadcast):

    - `stoichiometry`: signed counts per cycle, positive = moved outward.
    - `c_in`, `c_out`: intracellular and extracellular concentrations, mM, > 0.
    - `z`: valences; 0 is allowed (a neutral solute such as glucose feels only its
      concentration gradient).

    and scalars:

    - `v`: membrane potential (inside − outside), mV.
    - `temperature`: K, > 0.
    - `delta_g_reaction`: free energy of the reaction that drives one forward cycle, J/mol;
      0 (default) for a secondary-active transporter, $\Delta G_\text{ATP}$ per ATP times the
      ATPs per cycle for a pump (one ATP per cycle for the Na⁺/K⁺-ATPase, with
      $\Delta G_\text{ATP} \approx -50$ kJ/mol under cellular conditions).

    **Returns:** ΔG in J/mol per cycle, a scalar. For many voltages, `jax.vmap` over `v`.

    **Example:** the Na⁺/K⁺-ATPase (`stoichiometry=[3, -2]`, Na⁺ 15/145 mM, K⁺ 140/5 mM
    in/out, −65 mV, 310 K, `delta_g_reaction=-50e3`) gives ΔG ≈ −9.0 kJ/mol: the pump runs
    forward.

    **Reference:** P. Läuger, *Electrogenic Ion Pumps* (1991); D. C. Gadsby (2009),
    Nat. Rev. Mol. Cell Biol. 10:344.
    """
    where = "transport_free_energy"
    stoichiometry, z, c_in, c_out = _check_species(where, stoichiometry, z, c_in=c_in, c_out=c_out)
    v = check_array(where, "v", v, unit="mV")
    check_scalar(where, "v", v)
    temperature, delta_g_reaction = _check_thermo(where, temperature, delta_g_reaction)
    return _transport_free_energy(stoichiometry, c_in, c_out, z, v, temperature, delta_g_reaction)


def _reversal_potential_from_charge(stoichiometry, c_in, c_out, q, temperature, delta_g_reaction):
    # ΔG(V) = ΔG_r - RT·Σ n_i ln(c_in/c_out) - qFV vanishes at the V below. The log ratio,
    # not z_i·E_i, keeps neutral species (z_i = 0) free of a division by zero.
    chemical = _thermal_voltage(temperature) * jnp.sum(stoichiometry * jnp.log(c_out / c_in))
    return (delta_g_reaction / constants.FARADAY_PER_MV + chemical) / q


def _transporter_reversal_potential(stoichiometry, c_in, c_out, z, temperature, delta_g_reaction):
    q = _electrogenicity(stoichiometry, z)
    return _reversal_potential_from_charge(
        stoichiometry, c_in, c_out, q, temperature, delta_g_reaction
    )


def _electroneutral(stoichiometry, z, q):
    scale = jnp.sum(jnp.abs(stoichiometry * z))
    return jnp.abs(q) <= _NEUTRAL_ULPS * jnp.finfo(q.dtype).eps * scale


def transporter_reversal_potential(
    stoichiometry: ArrayLike,
    c_in: ArrayLike,
    c_out: ArrayLike,
    z: ArrayLike,
    temperature: ArrayLike,
    *,
    delta_g_reaction: ArrayLike = 0.0,
) -> Float[Array, ""]:
    r"""The reversal potential of an electrogenic transporter: the V at which one cycle has
    $\Delta G = 0$, in mV.

    Setting [`membrax.transport_free_energy`][] to zero and solving its linear V-dependence,

    $$V_\text{rev} = \frac{1}{q}\left(\frac{\Delta G_\text{reaction}}{F}
      + \frac{RT}{F}\sum_i n_i \ln\frac{c_{\text{out},i}}{c_{\text{in},i}}\right)
      = \frac{1}{q}\left(\frac{\Delta G_\text{reaction}}{F}
      + \sum_{z_i \ne 0} n_i z_i E_i
      + \frac{RT}{F}\sum_{z_i = 0} n_i\ln\frac{c_{\text{out},i}}{c_{\text{in},i}}\right),$$

    with $q = \sum_i z_i n_i$ and $E_i$ the Nernst potentials. Neutral solutes enter through
    their concentration ratio. For NCX (3 Na⁺ in, 1 Ca²⁺ out) this is $3E_\text{Na} -
    2E_\text{Ca}$; for the Na⁺/K⁺-ATPase $3E_\text{Na} - 2E_\text{K} + \Delta G_\text{ATP}/F$.
    A transporter with $q > 0$ runs forward ($\Delta G < 0$) above $V_\text{rev}$ and backward
    below it; one with $q < 0$ the other way round.

    **Arguments:** as [`membrax.transport_free_energy`][], without `v`:

    - `stoichiometry`: signed counts per cycle, positive = moved outward; it must move net
      charge ($q \ne 0$).
    - `c_in`, `c_out`: concentrations, mM, > 0.
    - `z`: valences (0 allowed for neutral solutes).
    - `temperature`: K, a scalar > 0.
    - `delta_g_reaction`: driving-reaction free energy per cycle, J/mol (default 0).

    **Returns:** $V_\text{rev}$ in mV, a scalar.

    **Raises:** `ValueError` for an electroneutral stoichiometry ($q = 0$; under `jit`, a
    run-time error with the same message): its ΔG does not depend on V, so no voltage
    reverses it.

    **Reference:** D. C. Gadsby (2009), Nat. Rev. Mol. Cell Biol. 10:344 (pump reversal
    potential); M. P. Blaustein & W. J. Lederer (1999), Physiol. Rev. 79:763 (NCX).
    """
    where = "transporter_reversal_potential"
    stoichiometry, z, c_in, c_out = _check_species(where, stoichiometry, z, c_in=c_in, c_out=c_out)
    temperature, delta_g_reaction = _check_thermo(where, temperature, delta_g_reaction)
    q = _electrogenicity(stoichiometry, z)
    # The check is on q (so the message quotes it) and q is threaded into the result, so that
    # under jit the check cannot be optimised away.
    q = check_condition(
        where,
        "stoichiometry",
        q,
        _electroneutral(stoichiometry, z, q),
        "electrogenic (net charge per cycle q = Σ z·n nonzero)",
        "An electroneutral transporter has no reversal potential: its ΔG does not depend on "
        "V. Use transport_free_energy to see which way it runs.",
    )
    return _reversal_potential_from_charge(
        stoichiometry, c_in, c_out, q, temperature, delta_g_reaction
    )


def transporter_current(
    stoichiometry: ArrayLike, z: ArrayLike, turnover: ArrayLike
) -> Float[Array, "..."]:
    r"""The current density carried by a transporter population turning over at a given rate,
    outward positive.

    $$I = qF\,r, \qquad q = \sum_i z_i n_i.$$

    With $r$ in µmol·cm⁻²·s⁻¹ (= nmol·cm⁻²·ms⁻¹, the flux unit of [`membrax.ghk_flux`][]) and
    F in C/mol, $qFr$ is in µA/cm² with no further factor. A positive (forward) turnover of
    the Na⁺/K⁺-ATPase gives an outward current; of NCX, an inward one.

    **Arguments:**

    - `stoichiometry`, `z`: per species, 1-D of equal length, as in
      [`membrax.electrogenicity`][].
    - `turnover`: net forward cycles per unit area and time, µmol·cm⁻²·s⁻¹, any shape
      (negative = net backward cycling). E.g. $\rho k / N_A$ for a site density $\rho$ in
      cm⁻² cycling at $k$ per second.

    **Returns:** I in µA/cm², the shape of `turnover` (for a whole cell, multiply by the
    membrane area in cm² for µA, and by 1e6 more for pA).

    **Reference:** P. Läuger, *Electrogenic Ion Pumps* (1991).
    """
    where = "transporter_current"
    stoichiometry, z = _check_species(where, stoichiometry, z)
    turnover = check_array(
        where,
        "turnover",
        turnover,
        unit="µmol/(cm²·s)",
        fix="turnover is the net forward cycling rate per area (negative = backward).",
    )
    # µmol/(cm²·s) × C/mol = 1e-6 A/cm² = 1 µA/cm²: the factor is exactly one.
    return _electrogenicity(stoichiometry, z) * constants.FARADAY * turnover
