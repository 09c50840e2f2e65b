"""Parallel-conductance (chord-conductance) steady states."""

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from .._validation import check_array, check_ions, check_scalar, check_some_positive
from ._checks import check_membrane
from ._nernst import _nernst

_G_FIX = "Conductances are in mS/cm² (or nS) and must be >= 0."


def _chord_conductance_potential(g, e_rev, i_pump=0.0):
    return (jnp.sum(g * e_rev) - i_pump) / jnp.sum(g)


def chord_conductance_potential(
    g: ArrayLike, e_rev: ArrayLike, *, i_pump: ArrayLike = 0.0
) -> Float[Array, ""]:
    r"""The steady-state membrane potential of parallel ohmic conductances and a pump current
    (the chord-conductance equation), in mV.

    Kirchhoff's current law at steady state, $\sum_i g_i(V - E_i) + I_\text{pump} = 0$, gives

    $$V = \frac{\sum_i g_i E_i - I_\text{pump}}{\sum_i g_i}.$$

    Without a pump, V is the conductance-weighted mean of the reversal potentials; an outward
    pump current (the Na⁺/K⁺-ATPase moves one net charge out per cycle) shifts it by
    $-I_\text{pump}/\sum_i g_i$, i.e. hyperpolarises.

    **Arguments:**

    - `g`: conductances, one per ion (1-D), ≥ 0 with at least one > 0; mS/cm² (or nS).
    - `e_rev`: their reversal potentials, mV, 1-D of the same length (e.g. from
      [`membrax.nernst_potential`][]).
    - `i_pump`: net outward pump current, a scalar, µA/cm² with g in mS/cm² (or pA with g in
      nS); outward positive, as every current in membrax (see
      [`membrax.transporter_current`][]). Default 0.

    **Returns:** V in mV, a scalar. For many membranes, `jax.vmap` over the call.

    **Reference:** B. Hille, *Ion Channels of Excitable Membranes*, 3rd ed. (2001); the
    parallel-conductance model of any physiology text.
    """
    where = "chord_conductance_potential"
    g = check_array(where, "g", g, unit="mS/cm² or nS", nonnegative=True, fix=_G_FIX)
    e_rev = check_array(where, "e_rev", e_rev, unit="mV")
    i_pump = check_array(
        where,
        "i_pump",
        i_pump,
        unit="µA/cm² or pA",
        fix="i_pump is the net outward pump current (outward positive).",
    )
    check_scalar(where, "i_pump", i_pump)
    n = check_ions(where, g=g, e_rev=e_rev)
    g, e_rev = (jnp.broadcast_to(a, (n,)) for a in (g, e_rev))
    g = check_some_positive(
        where, "g", g, fix="No conductance sets the potential; give at least one g > 0."
    )
    return _chord_conductance_potential(g, e_rev, i_pump)


def nonselective_reversal_potential(
    relative_conductances: ArrayLike,
    c_in: ArrayLike,
    c_out: ArrayLike,
    z: ArrayLike,
    temperature: ArrayLike,
) -> Float[Array, ""]:
    r"""The reversal potential of a non-selective ohmic channel, in mV: the
    conductance-weighted mean of its permeant ions' Nernst potentials.

    $$E_\text{rev} = \frac{\sum_i g_i E_i}{\sum_i g_i}, \qquad
      E_i = \frac{RT}{z_iF}\ln\frac{c_{\text{out},i}}{c_{\text{in},i}}.$$

    It always lies between the extreme $E_i$, nearer the ion with the larger conductance (e.g.
    the nicotinic acetylcholine receptor, passing Na⁺ and K⁺, reverses near 0 mV).

    This assumes each ion's current is ohmic, $g_i(V - E_i)$. For a channel described by
    permeabilities (constant-field currents), use [`membrax.ghk_voltage`][] instead: the two
    agree only in special cases, since GHK conductances depend on V and concentrations.

    **Arguments:** one entry per ion, 1-D of equal length (scalars broadcast):

    - `relative_conductances`: $g_i$, ≥ 0, at least one > 0 (only ratios matter).
    - `c_in`, `c_out`: concentrations, mM, > 0.
    - `z`: valences, nonzero.
    - `temperature`: K, a scalar > 0.

    **Returns:** $E_\text{rev}$ in mV, a scalar.

    **Reference:** A. Takeuchi & N. Takeuchi (1960), J. Physiol. 154:52 (end-plate channel);
    B. Hille, *Ion Channels of Excitable Membranes*, 3rd ed. (2001).
    """
    where = "nonselective_reversal_potential"
    g, c_in, c_out, z, temperature = check_membrane(
        where, "relative_conductances", relative_conductances, c_in, c_out, z, temperature
    )
    return _chord_conductance_potential(g, _nernst(c_out, c_in, z, temperature))
