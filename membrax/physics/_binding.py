"""Binding polynomials of multi-ion pores: occupancies of every state in a mixture of ions,
the conductance of a pore in rapid binding equilibrium, the two-site saturating current and
the anomalous mole-fraction effect.

A pore's occupied states are listed by their **counts**: an integer array of shape
(states, species), row k giving how many ions of each species state k holds (the empty state
is implicit). Each state has a cumulative association constant $\\beta_k$ in
mM^(−ions), passed as its natural logarithm `log_association` (binding constants live in log
space, so a fit can move them over decades with no sign constraint).
"""

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float

from .._numerics import safe_sqrt
from .._validation import check_array, check_broadcast, check_ions, check_scalar

_C_FIX = "Concentrations are in mM and must be >= 0."
_BETA_FIX = (
    "log_association holds ln β per state, β the cumulative association constant in "
    "mM^-(ions in the state), e.g. ln(1/20) for a site with K_d = 20 mM."
)


def _check_counts(where, counts):
    try:
        counts_np = np.asarray(counts)
    except (TypeError, ValueError):  # ragged or non-numeric: the message below
        counts_np = None
    if (
        counts_np is None
        or counts_np.ndim != 2
        or not np.issubdtype(counts_np.dtype, np.number)
        or counts_np.size == 0
    ):
        raise ValueError(
            f"{where}: counts must be a 2-D integer array (states, species) giving the ions "
            f"of each species held in each occupied state, got {counts!r}. E.g. [[1], [2]] "
            "for a one-species two-site pore (singly and doubly occupied)."
        )
    if np.any(counts_np < 0) or np.any(counts_np != np.round(counts_np)):
        raise ValueError(
            f"{where}: counts must be whole numbers >= 0, got {counts_np.tolist()}. Each "
            "entry counts the ions of one species in one state."
        )
    if np.any(counts_np.sum(axis=1) == 0):
        k = int(np.argmax(counts_np.sum(axis=1) == 0))
        raise ValueError(
            f"{where}: counts row {k} holds no ion. The empty state is implicit (weight 1): "
            "list only occupied states."
        )
    return counts_np.astype(int)


def _state_weights(concentrations, counts, log_association):
    # β_k Π_i c_i^{n_ki}; integer powers (not exp of n·ln c) so that c = 0 — a pure solution
    # at the end of a mole-fraction curve — has finite values and gradients.
    weights = jnp.exp(log_association)
    powers = [
        jnp.prod(
            jnp.stack(
                [concentrations[..., i] ** int(n) for i, n in enumerate(row) if n > 0], axis=-1
            ),
            axis=-1,
        )
        for row in counts
    ]
    return weights * jnp.stack(powers, axis=-1)


@functools.partial(jax.jit, static_argnums=1)
def _binding_occupancies_kernel(concentrations, counts, log_association):
    # counts as a static tuple of tuples: one compiled kernel per structure and shape.
    w = _state_weights(concentrations, np.asarray(counts), log_association)
    total = 1.0 + jnp.sum(w, axis=-1, keepdims=True)
    return jnp.concatenate([1.0 / total, w / total], axis=-1)


def _binding_occupancies(concentrations, counts, log_association):
    return _binding_occupancies_kernel(
        concentrations, tuple(tuple(int(n) for n in row) for row in counts), log_association
    )


def _check_binding(where, concentrations, counts, log_association):
    counts = _check_counts(where, counts)
    concentrations = check_array(
        where, "concentrations", concentrations, unit="mM", nonnegative=True, fix=_C_FIX
    )
    log_association = check_array(where, "log_association", log_association, fix=_BETA_FIX)
    n_species = check_ions(where, concentrations=concentrations)
    if n_species != counts.shape[1] and concentrations.ndim == 1:
        raise ValueError(
            f"{where}: concentrations has {n_species} species but counts has "
            f"{counts.shape[1]} columns. Give one concentration per species, in the order of "
            "the columns of counts."
        )
    concentrations = jnp.broadcast_to(concentrations, (counts.shape[1],))
    if log_association.shape != (counts.shape[0],):
        raise ValueError(
            f"{where}: log_association must have shape ({counts.shape[0]},), one per occupied "
            f"state (row of counts), got shape {log_association.shape}."
        )
    return concentrations, counts, log_association


def binding_occupancies(
    concentrations: ArrayLike, counts: ArrayLike, log_association: ArrayLike
) -> Float[Array, " states_plus_one"]:
    r"""The equilibrium occupancies of a pore's states, from its binding polynomial.

    $$Z = 1 + \sum_k \beta_k \prod_i c_i^{n_{ki}}, \qquad
      p_\text{empty} = \frac1Z, \qquad p_k = \frac{\beta_k\prod_i c_i^{n_{ki}}}{Z}.$$

    For a two-site pore in a mixture of A and B the states are A, B (single), AA, BB (double)
    and AB (mixed); with independent sites of constants $K_1, K_2$ for one ion,
    $\beta_\text{single} = K_1 + K_2$ and $\beta_\text{double} = K_1K_2$.

    **Arguments:**

    - `concentrations`: per species, mM, ≥ 0, shape (S,).
    - `counts`: integer array (states, S) of the ions each occupied state holds (static,
      a NumPy array or nested lists).
    - `log_association`: ln β per occupied state, β in mM^(−ions), shape (states,).

    **Returns:** occupancies, shape (states + 1,): the empty state first, then the rows of
    `counts`; they sum to one. For many solutions, `jax.vmap` over `concentrations`.

    **Reference:** J. Wyman & S. J. Gill, *Binding and Linkage* (1990); B. Hille & W. Schwarz
    (1978), J. Gen. Physiol. 72:409.
    """
    args = _check_binding("binding_occupancies", concentrations, counts, log_association)
    return _binding_occupancies(*args)


def _pore_conductance(concentrations, counts, log_association, state_conductances):
    p = _binding_occupancies(concentrations, counts, log_association)
    return jnp.sum(p[..., 1:] * state_conductances, axis=-1)


def _check_conductances(where, state_conductances, n_states):
    state_conductances = check_array(
        where,
        "state_conductances",
        state_conductances,
        nonnegative=True,
        fix="They are the conductances (e.g. pS) of the pore in each occupied state, >= 0.",
    )
    if state_conductances.shape not in ((), (n_states,)):
        raise ValueError(
            f"{where}: state_conductances must have shape ({n_states},), one per occupied "
            f"state, got shape {state_conductances.shape}."
        )
    return state_conductances


def pore_conductance(
    concentrations: ArrayLike,
    counts: ArrayLike,
    log_association: ArrayLike,
    state_conductances: ArrayLike,
) -> Float[Array, ""]:
    r"""The conductance of a pore in rapid binding equilibrium with its bath: each occupied
    state conducts at its own rate, weighted by its occupancy.

    $$g = \sum_k g_k\,p_k(c)$$

    with $p_k$ from [`membrax.physics.binding_occupancies`][] (the empty pore does not
    conduct). In a mixture, a mixed state that is stable (large β) and slow (small g) pulls
    the conductance below that of both pure solutions: the anomalous mole-fraction effect.

    **Arguments:** as [`membrax.physics.binding_occupancies`][], and

    - `state_conductances`: $g_k$ per occupied state (any conductance unit, e.g. pS), ≥ 0.

    **Returns:** g, a scalar in the unit of `state_conductances`.

    **Reference:** B. Hille & W. Schwarz (1978), J. Gen. Physiol. 72:409; W. Almers &
    E. W. McCleskey (1984), J. Physiol. 353:585.
    """
    where = "pore_conductance"
    concentrations, counts, log_association = _check_binding(
        where, concentrations, counts, log_association
    )
    state_conductances = _check_conductances(where, state_conductances, counts.shape[0])
    return _pore_conductance(concentrations, counts, log_association, state_conductances)


def two_site_current(
    c: ArrayLike, i_max: ArrayLike, a: ArrayLike, b: ArrayLike
) -> Float[Array, "..."]:
    r"""The saturating current of a two-site pore that conducts only when doubly occupied,
    with binding in rapid (pre-)equilibrium.

    $$I(c) = I_\text{max}\,\frac{a\,b\,c^2}{1 + a\,c + a\,b\,c^2},$$

    the occupancy of the doubly occupied state of the binding polynomial $1 + ac + abc^2$
    ($a$: association constant of the first ion, $b$: of the second, given the first).
    It rises as $c^2$ at low concentration and saturates at $I_\text{max}$; with $b > a/4$ the
    second ion binds more readily than the first (cooperativity from the knock-on step).

    **Arguments:** (broadcast together)

    - `c`: concentration, mM, ≥ 0.
    - `i_max`: the saturating current (any current unit, e.g. pA), sign as the current.
    - `a`, `b`: association constants, 1/mM, > 0.

    **Returns:** I in the unit of `i_max`.

    **Reference:** B. Hille, *Ion Channels of Excitable Membranes*, 3rd ed. (2001), ch. 15;
    B. Hille & W. Schwarz (1978), J. Gen. Physiol. 72:409.
    """
    where = "two_site_current"
    c = check_array(where, "c", c, unit="mM", nonnegative=True, fix=_C_FIX)
    i_max = check_array(where, "i_max", i_max)
    fix = "Association constants are in 1/mM (1/K_d) and must be > 0."
    a = check_array(where, "a", a, unit="1/mM", positive=True, fix=fix)
    b = check_array(where, "b", b, unit="1/mM", positive=True, fix=fix)
    check_broadcast(where, c=c, i_max=i_max, a=a, b=b)
    double = a * b * c * c
    return i_max * double / (1.0 + a * c + double)


class MoleFractionMinimum(NamedTuple):
    """The conductance minimum of a two-species mole-fraction curve.

    **Fields:**

    - `mole_fraction`: x* of the first species at the minimum (NaN where the curve has no
      interior minimum).
    - `conductance`: g(x*), in the unit of the state conductances (NaN with x*).
    - `anomalous`: True when the minimum lies strictly inside (0, 1) and below the
      conductance of both pure solutions: the anomalous mole-fraction effect.
    """

    mole_fraction: Float[Array, ""]
    conductance: Float[Array, ""]
    anomalous: Bool[Array, ""]


def _polynomial_in_mole_fraction(c_total, counts, log_association, weights):
    """Coefficients (constant, x, x²) of Σ_k weights_k·β_k·c^{n_k}·x^{n_kA}(1−x)^{n_kB}."""
    beta = jnp.exp(log_association)
    coefficients = []
    for k, (n_a, n_b) in enumerate(counts):
        # x^{n_a}(1 − x)^{n_b} expanded (static integer coefficients, lowest power first).
        poly = np.polynomial.polynomial.polymul(
            [0] * n_a + [1], np.polynomial.polynomial.polypow([1, -1], n_b)
        )
        poly = np.pad(poly, (0, 3 - len(poly)))
        coefficients.append(weights[k] * beta[k] * c_total ** int(n_a + n_b) * poly)
    return jnp.sum(jnp.stack(coefficients), axis=0)


@functools.partial(jax.jit, static_argnums=1)
def _mole_fraction_minimum_kernel(c_total, counts, log_association, state_conductances):
    return _mole_fraction_minimum(c_total, np.asarray(counts), log_association, state_conductances)


def _mole_fraction_minimum(c_total, counts, log_association, state_conductances):
    g = jnp.broadcast_to(state_conductances, (counts.shape[0],))
    n0, n1, n2 = _polynomial_in_mole_fraction(c_total, counts, log_association, g)
    d0, d1, d2 = _polynomial_in_mole_fraction(
        c_total, counts, log_association, jnp.ones_like(g)
    ) + jnp.array([1.0, 0.0, 0.0])
    # g(x) = N(x)/D(x) with N, D quadratic; g' ∝ N'D − ND' = A x² + B x + C (the cubic terms
    # cancel), a quadratic whose root with positive slope is the minimum.
    qa = n2 * d1 - n1 * d2
    qb = 2 * (n2 * d0 - n0 * d2)
    qc = n1 * d0 - n0 * d1
    disc = qb * qb - 4 * qa * qc
    # At a root the slope of the quadratic is +√disc for x = (−B + √disc)/(2A), whatever the
    # sign of A: that root is the minimum. For B > 0 it is evaluated as 2C/(−B − √disc),
    # free of cancellation and valid as A → 0 (the linear case, x = −C/B). The
    # double-`where`s keep the branch not taken finite, so no NaN reaches the gradient.
    root_disc = safe_sqrt(jnp.maximum(disc, 0.0))
    positive_b = qb > 0
    den_stable = jnp.where(positive_b, -qb - root_disc, 1.0)
    den_direct = jnp.where(positive_b | (qa == 0), 1.0, 2 * qa)
    x = jnp.where(positive_b, 2 * qc / den_stable, (-qb + root_disc) / den_direct)
    exists = (disc > 0) & (positive_b | (qa != 0)) & (x > 0) & (x < 1)
    x_safe = jnp.where(exists, x, 0.5)
    g_min = (n0 + n1 * x_safe + n2 * x_safe**2) / (d0 + d1 * x_safe + d2 * x_safe**2)
    g_pure = jnp.minimum(n0 / d0, (n0 + n1 + n2) / (d0 + d1 + d2))
    anomalous = exists & (g_min < g_pure)
    nan = jnp.asarray(jnp.nan, x.dtype)
    return MoleFractionMinimum(
        jnp.where(exists, x_safe, nan), jnp.where(exists, g_min, nan), anomalous
    )


def mole_fraction_minimum(
    c_total: ArrayLike,
    counts: ArrayLike,
    log_association: ArrayLike,
    state_conductances: ArrayLike,
) -> MoleFractionMinimum:
    r"""The minimum of the conductance of a two-site pore against the mole fraction of a
    two-ion mixture at constant total concentration, located analytically.

    With $c_A = x\,c$ and $c_B = (1 - x)\,c$, every state weight of a pore that holds at
    most two ions is a polynomial of degree ≤ 2 in x, so the conductance of
    [`membrax.physics.pore_conductance`][] is a ratio of quadratics
    $g(x) = N(x)/D(x)$. Its derivative has the sign of

    $$N'D - ND' = (n_2d_1 - n_1d_2)\,x^2 + 2(n_2d_0 - n_0d_2)\,x + (n_1d_0 - n_0d_1)$$

    (the cubic terms cancel), whose root where it turns from negative to positive is the
    minimum, found with the cancellation-free quadratic formula.

    **Arguments:**

    - `c_total`: the total concentration c, mM, > 0, a scalar.
    - `counts`: integer array (states, 2), each row holding at most two ions (static).
    - `log_association`: ln β per occupied state (β in mM^(−ions)).
    - `state_conductances`: the conductance of each occupied state, ≥ 0.

    **Returns:** a [`membrax.physics.MoleFractionMinimum`][] (x*, g(x*), anomalous).

    **Reference:** B. Hille & W. Schwarz (1978), J. Gen. Physiol. 72:409; P. B. Sather & E.
    W. McCleskey (2003), Annu. Rev. Physiol. 65:133 (anomalous mole-fraction effect).
    """
    where = "mole_fraction_minimum"
    c_total = check_array(
        where, "c_total", c_total, unit="mM", positive=True, fix="c_total is in mM, > 0."
    )
    check_scalar(where, "c_total", c_total)
    counts = _check_counts(where, counts)
    if counts.shape[1] != 2 or np.any(counts.sum(axis=1) > 2):
        raise ValueError(
            f"{where}: counts must describe two species in a pore holding at most two ions "
            f"(shape (states, 2), row sums <= 2), got {counts.tolist()}. Beyond two ions g(x) "
            "is no longer a ratio of quadratics: scan the curve with pore_conductance."
        )
    log_association = check_array(where, "log_association", log_association, fix=_BETA_FIX)
    if log_association.shape != (counts.shape[0],):
        raise ValueError(
            f"{where}: log_association must have shape ({counts.shape[0]},), one per occupied "
            f"state (row of counts), got shape {log_association.shape}."
        )
    state_conductances = _check_conductances(where, state_conductances, counts.shape[0])
    counts = tuple(tuple(int(n) for n in row) for row in counts)
    return _mole_fraction_minimum_kernel(c_total, counts, log_association, state_conductances)
