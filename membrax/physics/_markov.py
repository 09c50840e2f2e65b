"""Markov kinetic schemes: the transition-rate (Q) matrix, its equilibrium and its propagator.

Conventions (Colquhoun & Hawkes): `q[i, j]` (i ≠ j) is the rate from state i to state j in
1/ms, each diagonal entry is minus the sum of its row, and occupancies are a row vector,
dp/dt = p Q.
"""

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .._validation import check_array

_RATE_FIX = "Transition rates are in 1/ms and must be >= 0."


def _transition_matrix(n_states, sources, targets, forward, backward):
    # Scatter-add rather than set, so that two parallel edges between the same pair of
    # states add up, as their rates do.
    shape = (*jnp.shape(forward)[:-1], n_states, n_states)
    q = jnp.zeros(shape, jnp.result_type(forward, backward))
    q = q.at[..., sources, targets].add(forward)
    q = q.at[..., targets, sources].add(backward)
    return q - jnp.sum(q, axis=-1, keepdims=True) * jnp.eye(n_states, dtype=q.dtype)


def _check_edges(where, n_states, sources, targets):
    sources, targets = np.asarray(sources), np.asarray(targets)
    if sources.shape != targets.shape or sources.ndim != 1:
        raise ValueError(
            f"{where}: sources and targets must be 1-D of equal length (one entry per "
            f"transition), got shapes {sources.shape} and {targets.shape}."
        )
    for name, idx in (("sources", sources), ("targets", targets)):
        bad = (idx < 0) | (idx >= n_states)
        if bad.any():
            k = int(np.argmax(bad))
            raise ValueError(
                f"{where}: transition {k} {name[:-1]} state {int(idx[k])} does not exist; the "
                f"scheme has {n_states} states, numbered 0 to {n_states - 1}."
            )
    loops = sources == targets
    if loops.any():
        k = int(np.argmax(loops))
        raise ValueError(
            f"{where}: transition {k} goes from state {int(sources[k])} to itself. A "
            "self-transition has no effect on the kinetics: remove it."
        )
    return sources, targets


def transition_matrix(
    n_states: int,
    sources: ArrayLike,
    targets: ArrayLike,
    forward: ArrayLike,
    backward: ArrayLike,
) -> Float[Array, "... states states"]:
    r"""The transition-rate matrix Q of a Markov scheme from its list of transitions.

    Transition k connects `sources[k]` ⇌ `targets[k]` with the forward rate `forward[..., k]`
    (source → target) and the backward rate `backward[..., k]`:

    $$Q_{ij} = \sum_{k:\,(i\to j)} k_k \quad (i \ne j),\qquad Q_{ii} = -\sum_{j\ne i} Q_{ij},$$

    so every row sums to zero and occupancies obey $dp/dt = pQ$.

    **Arguments:**

    - `n_states`: the number of states (a Python int).
    - `sources`, `targets`: integer arrays of shape (K,), the two ends of each transition.
    - `forward`, `backward`: rates in 1/ms, shape (..., K), ≥ 0; leading axes batch.

    **Returns:** Q, shape (..., n_states, n_states), in 1/ms.

    **Reference:** D. Colquhoun & A. G. Hawkes (1995), "A Q-matrix cookbook", in *Single-Channel
    Recording*, 2nd ed., ch. 20.
    """
    where = "transition_matrix"
    sources, targets = _check_edges(where, int(n_states), sources, targets)
    forward = check_array(where, "forward", forward, unit="1/ms", nonnegative=True, fix=_RATE_FIX)
    backward = check_array(
        where, "backward", backward, unit="1/ms", nonnegative=True, fix=_RATE_FIX
    )
    for name, rates in (("forward", forward), ("backward", backward)):
        if jnp.shape(rates)[-1:] != sources.shape:
            raise ValueError(
                f"{where}: {name} must have {sources.size} rates on its last axis (one per "
                f"transition), got shape {jnp.shape(rates)}."
            )
    return _transition_matrix(int(n_states), sources, targets, forward, backward)


def _markov_steady_state(q):
    # π Q = 0 with Σπ = 1: Q is singular (rank n − 1 for a connected scheme), so one column of
    # Q — one redundant balance equation — is replaced by the normalisation. A direct solve of
    # an n × n system: exact to rounding, differentiable, vmappable.
    a = jnp.swapaxes(q, -1, -2).at[..., 0, :].set(1.0)
    rhs = jnp.zeros(q.shape[:-1], q.dtype).at[..., 0].set(1.0)
    return jnp.linalg.solve(a, rhs[..., None])[..., 0]


def markov_steady_state(q: ArrayLike) -> Float[Array, "... states"]:
    r"""The equilibrium (stationary) occupancies π of a Markov scheme: πQ = 0, Σπ = 1.

    Solved directly (one balance equation replaced by the normalisation), so it is exact to
    rounding and differentiable. The scheme must be connected (every state reachable), or π
    is not unique and the solve is singular.

    **Arguments:**

    - `q`: the transition-rate matrix, shape (..., n, n), 1/ms (from
      [`membrax.physics.transition_matrix`][]).

    **Returns:** π, shape (..., n), summing to one.
    """
    q = check_array("markov_steady_state", "q", q, unit="1/ms")
    if q.ndim < 2 or q.shape[-1] != q.shape[-2]:
        raise ValueError(
            f"markov_steady_state: q must be square on its last two axes, got shape {q.shape}."
        )
    return _markov_steady_state(q)


def _markov_propagator(q, dt):
    return jax.scipy.linalg.expm(q * jnp.asarray(dt)[..., None, None])


def markov_propagator(q: ArrayLike, dt: ArrayLike) -> Float[Array, "... states states"]:
    r"""The transition-probability matrix $P(\Delta t) = e^{Q\Delta t}$ over a time step at
    constant rates: $p(t + \Delta t) = p(t)\,P(\Delta t)$.

    Computed with `jax.scipy.linalg.expm` (scaling and squaring with a Padé approximant), which
    is accurate for the non-normal Q of irreversible schemes too, batches, and differentiates.

    **Arguments:**

    - `q`: the transition-rate matrix, shape (..., n, n), 1/ms.
    - `dt`: the step, ms, ≥ 0; broadcasts with the leading axes of `q`.

    **Returns:** P, shape (..., n, n); each row sums to one.
    """
    where = "markov_propagator"
    q = check_array(where, "q", q, unit="1/ms")
    dt = check_array(where, "dt", dt, unit="ms", nonnegative=True, fix="A time step is >= 0 ms.")
    return _markov_propagator(q, dt)
