"""Cycle kinetics of pumps, exchangers and cotransporters, thermodynamically consistent by
construction.

A transporter is a single cycle of N states, step k leading from state k to state k + 1
(mod N). Each step may take ions from a solution or release them (`uptake_in`,
`uptake_out`: integer arrays (N, S), positive for ions taken up in the forward step, negative
for ions released) and may move charge across the field (`charges`, e per step, outward
positive). Ions taken up inside and released outside over a cycle are moved outward, so the
stoichiometry of [`membrax.transport_free_energy`][] is $n_i = \\sum_k$ `uptake_in[k, i]`
$= -\\sum_k$ `uptake_out[k, i]`.

The backward rate of the **last** step is not free: it is set so that the product of the
forward rates over the product of the backward rates around the cycle is
$e^{-\\Delta G/RT}$, with ΔG the cycle free energy of [`membrax.transport_free_energy`][].
Whatever the other rates, the net flux therefore vanishes exactly where ΔG = 0, and the
current reverses at [`membrax.transporter_reversal_potential`][].
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .. import constants
from .._validation import check_array, check_condition, check_ions, check_scalar
from ._checks import CONC_FIX, check_temperature
from ._nernst import _thermal_voltage

_RATE_FIX = (
    "Rate constants are > 0, in 1/ms times mM^-(ions taken up in that step) "
    "(use e.g. 1e-9, not 0, for an effectively irreversible step)."
)


# --- a single cycle -------------------------------------------------------------------------


@functools.lru_cache(maxsize=32)
def _tree_masks(n):
    """Static 0/1 matrices, shape (N·N, N), selecting the backward and forward edges of the
    spanning tree (i, d) of an N-cycle (see `_tree_log_weights`)."""
    back = np.zeros((n, n, n))
    fwd = np.zeros((n, n, n))
    for i in range(n):
        for d in range(n):
            back[i, d, [(i + m) % n for m in range(d)]] = 1.0
            fwd[i, d, [(i + m) % n for m in range(d + 1, n)]] = 1.0
    return back.reshape(n * n, n), fwd.reshape(n * n, n)


def _tree_log_weights(log_a, log_b):
    """log of the King–Altman weight of each state of a ring, shape (..., N).

    The spanning trees of an N-cycle leave out one edge; directed to state i, the states
    reached from i going forward (up to the removed edge) flow back to i along backward
    rates and the rest flow on to i along forward rates. With d = (removed edge − i) mod N the
    tree has backward edges i … i+d−1 and forward edges i+d+1 … i+N−1.
    """
    n = log_a.shape[-1]
    back, fwd = _tree_masks(n)
    # Each tree's log weight as a sum of selected log rates: a product with a static 0/1
    # matrix (no gathers, whose gradients are scatters, and no cancelling cumulative sums).
    terms = log_b @ jnp.asarray(back.T, log_b.dtype) + log_a @ jnp.asarray(fwd.T, log_a.dtype)
    terms = terms.reshape(*terms.shape[:-1], n, n)
    return jax.nn.logsumexp(terms, axis=-1)


@jax.jit
def _ring_flux(log_a, log_b, log_ratio):
    """Net forward flux of a ring, with log(Πb/Πa) given exactly by `log_ratio`."""
    log_w = _tree_log_weights(log_a, log_b)
    log_total = jax.nn.logsumexp(log_w, axis=-1)
    # Hill: J = (Πa − Πb)/Σ_i w_i = Πa·(1 − e^{log_ratio})/Σw; −expm1 keeps J exact near and
    # at equilibrium (log_ratio = 0 gives exactly 0, not a difference of two large numbers).
    return jnp.exp(jnp.sum(log_a, axis=-1) - log_total) * -jnp.expm1(log_ratio)


@jax.jit
def _ring_occupancy(log_a, log_b):
    log_w = _tree_log_weights(log_a, log_b)
    return jnp.exp(log_w - jax.nn.logsumexp(log_w, axis=-1, keepdims=True))


def _check_ring(where, forward, backward):
    forward = check_array(where, "forward", forward, unit="1/ms", positive=True, fix=_RATE_FIX)
    backward = check_array(where, "backward", backward, unit="1/ms", positive=True, fix=_RATE_FIX)
    if forward.ndim < 1 or forward.shape[-1] < 2 or forward.shape != backward.shape:
        raise ValueError(
            f"{where}: forward and backward must have equal shapes (..., N), one rate per "
            f"step of a cycle of N >= 2 states, got {forward.shape} and {backward.shape}."
        )
    return forward, backward


def cycle_flux(forward: ArrayLike, backward: ArrayLike) -> Float[Array, "..."]:
    r"""The steady-state net flux around a single cycle of states, in cycles per ms.

    Step k leads from state k to state k + 1 (mod N) with rate $a_k$ and back with $b_k$.
    By the diagram method (King–Altman; Hill),

    $$J = \frac{\prod_k a_k - \prod_k b_k}{\sum_i w_i},$$

    with $w_i$ the sum over the N spanning trees of the cycle directed to state i of the
    product of their rates. Computed in log space (no overflow for large rates).

    **Arguments:**

    - `forward`, `backward`: $a_k$, $b_k$ in 1/ms, > 0, shape (..., N) with N ≥ 2; leading
      axes batch.

    **Returns:** J in 1/ms per cycle-carrying unit (one transporter), shape (...).

    **Reference:** T. L. Hill, *Free Energy Transduction and Biochemical Cycle Kinetics*
    (1989); E. L. King & C. Altman (1956), J. Phys. Chem. 60:1375.
    """
    forward, backward = _check_ring("cycle_flux", forward, backward)
    log_a, log_b = jnp.log(forward), jnp.log(backward)
    return _ring_flux(log_a, log_b, jnp.sum(log_b - log_a, axis=-1))


def cycle_occupancy(forward: ArrayLike, backward: ArrayLike) -> Float[Array, "... N"]:
    r"""The steady-state occupancies of the states of a single cycle,
    $p_i = w_i/\sum_j w_j$ (see [`membrax.physics.cycle_flux`][]).

    **Arguments:** `forward`, `backward`: rates in 1/ms, > 0, shape (..., N).

    **Returns:** p, shape (..., N), summing to one.
    """
    forward, backward = _check_ring("cycle_occupancy", forward, backward)
    return _ring_occupancy(jnp.log(forward), jnp.log(backward))


# --- transporter cycles -----------------------------------------------------------------------


def _check_structure(where, uptake_in, uptake_out):
    arrays = []
    for name, a in (("uptake_in", uptake_in), ("uptake_out", uptake_out)):
        a_np = np.asarray(a)
        if (
            a_np.ndim != 2
            or a_np.shape[0] < 2
            or not np.issubdtype(a_np.dtype, np.number)
            or np.any(a_np != np.round(a_np))
        ):
            raise ValueError(
                f"{where}: {name} must be a 2-D array of whole numbers (steps, species), "
                f"N >= 2 steps, got {np.asarray(a).tolist()!r}. Entry [k, i] counts ions of "
                "species i taken up (> 0) or released (< 0) in the forward direction of step k."
            )
        arrays.append(a_np.astype(int))
    uptake_in, uptake_out = arrays
    if uptake_in.shape != uptake_out.shape:
        raise ValueError(
            f"{where}: uptake_in and uptake_out must have equal shapes (steps, species), got "
            f"{uptake_in.shape} and {uptake_out.shape}."
        )
    stoichiometry = uptake_in.sum(axis=0)
    if np.any(stoichiometry != -uptake_out.sum(axis=0)):
        raise ValueError(
            f"{where}: over a cycle every ion taken up on one side must be released on the "
            f"other: uptake_in sums to {stoichiometry.tolist()} per species but uptake_out to "
            f"{uptake_out.sum(axis=0).tolist()} (it must be the negative)."
        )
    return uptake_in, uptake_out, stoichiometry


def _cycle_log_rates(
    v,
    c_in,
    c_out,
    z,
    temperature,
    forward,
    backward,
    uptake_in,
    uptake_out,
    charges,
    load,
    delta_g_reaction,
):
    """log forward and backward rates, shape (..., N), and log(Πb/Πa) = ΔG/RT exactly."""
    u = jnp.asarray(v)[..., None] / _thermal_voltage(temperature)
    log_ci, log_co = jnp.log(c_in), jnp.log(c_out)
    # Static integer structure as arrays of the inputs' float dtype (float32 stays float32).
    take_in, take_out, give_in, give_out = (
        jnp.asarray(np.maximum(a, 0), log_ci.dtype)
        for a in (uptake_in, uptake_out, -uptake_in, -uptake_out)
    )
    # Each step: rate constant × the concentrations it consumes × its share of the field.
    log_a = jnp.log(forward) + take_in @ log_ci + take_out @ log_co + load * charges * u
    log_b_free = (
        jnp.log(backward)
        + (give_in @ log_ci + give_out @ log_co)[:-1]
        - ((1 - load) * charges * u)[..., :-1]
    )
    stoichiometry = uptake_in.sum(axis=0)
    # ΔG/RT of one forward cycle (membrax.transport_free_energy divided by RT).
    rt = constants.GAS_CONSTANT * temperature
    drive = delta_g_reaction / rt - jnp.sum(stoichiometry * (log_ci - log_co + z * u), axis=-1)
    # The closing backward rate: Πb/Πa = e^{ΔG/RT} exactly (microscopic reversibility).
    log_b_last = jnp.sum(log_a, -1) - jnp.sum(log_b_free, -1) + drive
    log_b = jnp.concatenate([log_b_free, log_b_last[..., None]], axis=-1)
    return log_a, log_b, drive


@functools.partial(jax.jit, static_argnums=(7, 8))
def _turnover_kernel(
    v,
    c_in,
    c_out,
    z,
    temperature,
    forward,
    backward,
    uptake_in,
    uptake_out,
    charges,
    load,
    delta_g_reaction,
):
    """Jitted turnover, the structure as static tuples: eager calls reuse one compiled kernel
    per shape instead of compiling each small op (inside a user's jit it is inlined)."""
    log_rates = _cycle_log_rates(
        v,
        c_in,
        c_out,
        z,
        temperature,
        forward,
        backward,
        np.asarray(uptake_in),
        np.asarray(uptake_out),
        charges,
        load,
        delta_g_reaction,
    )
    return _ring_flux(*log_rates)


def _as_tuples(a):
    return tuple(tuple(int(x) for x in row) for row in np.asarray(a))


def _check_transporter(
    where,
    v,
    c_in,
    c_out,
    z,
    temperature,
    forward,
    backward,
    uptake_in,
    uptake_out,
    charges,
    load,
    delta_g_reaction,
):
    uptake_in, uptake_out, stoichiometry = _check_structure(where, uptake_in, uptake_out)
    n_steps, n_species = uptake_in.shape
    v = check_array(where, "v", v, unit="mV")
    c_in = check_array(where, "c_in", c_in, unit="mM", positive=True, fix=CONC_FIX)
    c_out = check_array(where, "c_out", c_out, unit="mM", positive=True, fix=CONC_FIX)
    z = check_array(where, "z", z, fix="z holds the species' valences (0 if neutral).")
    n = check_ions(where, c_in=c_in, c_out=c_out, z=z)
    if any(jnp.ndim(a) == 1 for a in (c_in, c_out, z)) and n != n_species:
        raise ValueError(
            f"{where}: c_in, c_out and z have {n} species but uptake_in has {n_species} "
            "columns. Give one concentration and valence per species, in column order."
        )
    c_in, c_out, z = (jnp.broadcast_to(a, (n_species,)) for a in (c_in, c_out, z))
    temperature = check_temperature(where, temperature)
    check_scalar(where, "temperature", temperature)
    forward = check_array(where, "forward", forward, unit="1/ms", positive=True, fix=_RATE_FIX)
    backward = check_array(where, "backward", backward, unit="1/ms", positive=True, fix=_RATE_FIX)
    if forward.shape != (n_steps,) or backward.shape != (n_steps - 1,):
        raise ValueError(
            f"{where}: a cycle of {n_steps} steps needs forward of shape ({n_steps},) and "
            f"backward of shape ({n_steps - 1},) (the last backward rate follows from "
            f"thermodynamics), got {forward.shape} and {backward.shape}."
        )
    charges = check_array(where, "charges", charges, unit="e")
    if charges.shape != (n_steps,):
        raise ValueError(
            f"{where}: charges must have shape ({n_steps},), the charge each step moves "
            f"outward (e), got shape {charges.shape}."
        )
    load = check_array(where, "load", load)
    if load.shape not in ((), (n_steps,)):
        raise ValueError(
            f"{where}: load must be a scalar or have shape ({n_steps},), got {load.shape}."
        )
    load = check_condition(
        where,
        "load",
        load,
        (load < 0) | (load > 1),
        "in [0, 1]",
        "It is the share of each step's voltage dependence carried by its forward rate "
        "(0.5: symmetric).",
    )
    delta_g_reaction = check_array(
        where,
        "delta_g_reaction",
        delta_g_reaction,
        unit="J/mol",
        fix="It is the free energy of the driving reaction per cycle (ATP: about -50e3).",
    )
    check_scalar(where, "delta_g_reaction", delta_g_reaction)
    q = jnp.sum(stoichiometry * z)
    scale = 1.0 + jnp.sum(jnp.abs(stoichiometry * z))
    charges = check_condition(
        where,
        "charges",
        charges,
        jnp.abs(jnp.sum(charges) - q) > 1e-9 * scale,
        "summing to the net charge moved per cycle, Σ n·z "
        f"(stoichiometry {stoichiometry.tolist()})",
        "The steps' charges must add up to the charge the cycle carries across the membrane.",
    )
    return (
        v,
        c_in,
        c_out,
        z,
        temperature,
        forward,
        backward,
        uptake_in,
        uptake_out,
        charges,
        load,
        delta_g_reaction,
    )


def transporter_turnover(
    v: ArrayLike,
    c_in: ArrayLike,
    c_out: ArrayLike,
    z: ArrayLike,
    temperature: ArrayLike,
    forward: ArrayLike,
    backward: ArrayLike,
    uptake_in: ArrayLike,
    uptake_out: ArrayLike,
    charges: ArrayLike,
    *,
    load: ArrayLike = 0.5,
    delta_g_reaction: ArrayLike = 0.0,
) -> Float[Array, "..."]:
    r"""The net turnover of one transporter (forward cycles per ms) from its cycle kinetics.

    Step k of the cycle has forward and backward rates

    $$a_k = a^\circ_k\prod_i c_{\text{in},i}^{u^+_{ki}}c_{\text{out},i}^{o^+_{ki}}
        e^{\theta_k q_k FV/RT}, \qquad
      b_k = b^\circ_k\prod_i c_{\text{in},i}^{u^-_{ki}}c_{\text{out},i}^{o^-_{ki}}
        e^{-(1-\theta_k) q_k FV/RT},$$

    ($u^\pm$, $o^\pm$: ions taken up / released inside and outside, $q_k$ the charge moved
    outward, $\theta_k$ the load factor), except the last backward rate, fixed by

    $$\frac{\prod_k b_k}{\prod_k a_k} = e^{\Delta G/RT}, \qquad
      \Delta G = \Delta G_\text{reaction} - \sum_i n_i\left(RT\ln\frac{c_{\text{in},i}}
      {c_{\text{out},i}} + z_iFV\right).$$

    The turnover is the cycle flux of [`membrax.physics.cycle_flux`][],
    $J = \prod_k a_k\,(1 - e^{\Delta G/RT})/\sum_i w_i$: positive when ΔG < 0, exactly zero
    at ΔG = 0 (transporter equilibrium), and the current $qeJ$ reverses at
    [`membrax.transporter_reversal_potential`][].

    **Arguments:**

    - `v`: membrane potential, mV, any shape (the result has its shape).
    - `c_in`, `c_out`: per species, mM, > 0, shape (S,).
    - `z`: valences per species (0 for a neutral solute).
    - `temperature`: K, a scalar > 0.
    - `forward`: $a^\circ_k$, shape (N,), in 1/ms × mM^−(ions the step takes up), > 0
      (concentrations in mM, at V = 0).
    - `backward`: $b^\circ_k$ for the first N − 1 steps, shape (N − 1,), likewise.
    - `uptake_in`, `uptake_out`: static integer arrays (N, S), ions taken up (> 0) or
      released (< 0) inside / outside in the forward direction of each step.
    - `charges`: $q_k$, e moved outward by each step, shape (N,), summing to
      $\sum_i n_i z_i$ ([`membrax.electrogenicity`][]).
    - `load`: $\theta_k$ in [0, 1], scalar or (N,) (default ½).
    - `delta_g_reaction`: free energy of the driving reaction per cycle, J/mol (ATP
      hydrolysis ≈ −50e3 for the Na⁺/K⁺-ATPase; default 0).

    **Returns:** J, cycles/ms per transporter, the shape of `v`. The current of a
    population is $q\,e\,N J$ (pA with e in fC, see [`membrax.models.CycleTransporter`][]).

    **Reference:** T. L. Hill, *Free Energy Transduction and Biochemical Cycle Kinetics*
    (1989); P. Läuger, *Electrogenic Ion Pumps* (1991); N. P. Smith & E. J. Crampin (2004),
    Prog. Biophys. Mol. Biol. 85:387 (thermodynamically consistent pump models).
    """
    args = _check_transporter(
        "transporter_turnover",
        v,
        c_in,
        c_out,
        z,
        temperature,
        forward,
        backward,
        uptake_in,
        uptake_out,
        charges,
        load,
        delta_g_reaction,
    )
    return _ring_flux(*_cycle_log_rates(*args))


def transporter_cycle_rates(
    v: ArrayLike,
    c_in: ArrayLike,
    c_out: ArrayLike,
    z: ArrayLike,
    temperature: ArrayLike,
    forward: ArrayLike,
    backward: ArrayLike,
    uptake_in: ArrayLike,
    uptake_out: ArrayLike,
    charges: ArrayLike,
    *,
    load: ArrayLike = 0.5,
    delta_g_reaction: ArrayLike = 0.0,
) -> tuple[Float[Array, "... N"], Float[Array, "... N"]]:
    r"""The effective forward and backward rates (1/ms) of every step of a transporter cycle
    at the given voltage and concentrations, including the thermodynamically fixed last
    backward rate: the rates [`membrax.physics.transporter_turnover`][] uses (arguments as
    there). Feed them to [`membrax.physics.cycle_occupancy`][] for the state occupancies.

    **Returns:** (forward, backward), each shape `v.shape + (N,)`.
    """
    args = _check_transporter(
        "transporter_cycle_rates",
        v,
        c_in,
        c_out,
        z,
        temperature,
        forward,
        backward,
        uptake_in,
        uptake_out,
        charges,
        load,
        delta_g_reaction,
    )
    log_a, log_b, _ = _cycle_log_rates(*args)
    return jnp.exp(log_a), jnp.exp(log_b)
