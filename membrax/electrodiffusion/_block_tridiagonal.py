"""A lineax solver for block-tridiagonal systems: the Jacobians of 1D finite volumes."""

from typing import Any

import jax
import jax.numpy as jnp
import lineax as lx
from jaxtyping import Array, Float

from .._numerics import small_matmul as _matmul
from .._numerics import small_matvec as _matvec


def _inverse(a):
    # Gauss–Jordan on a small block, unrolled (the block size is static: 1 + species). No
    # pivoting inside the block either: the pivot blocks of a PNP Jacobian have positive
    # leading principal minors (a positive Poisson diagonal, then continuity diagonals that
    # the Schur complement only increases), and a row swap per column would double the
    # cost of the sequential sweep. A singular pivot gives inf/NaN, which Newton reports as a
    # failed step (never silently).
    m = a.shape[-1]
    rows = [a[..., i, :] for i in range(m)]
    inv = [jnp.zeros_like(rows[0]).at[..., i].set(1.0) for i in range(m)]
    for k in range(m):
        pivot = rows[k][..., k : k + 1]
        rows[k] = rows[k] / pivot
        inv[k] = inv[k] / pivot
        for i in range(m):
            if i != k:
                factor = rows[i][..., k : k + 1]
                rows[i] = rows[i] - factor * rows[k]
                inv[i] = inv[i] - factor * inv[k]
    return jnp.stack(inv, axis=-2)


def block_tridiagonal_factor(lower, diagonal, upper):
    """Block LU (block Thomas) factors: the multipliers W and the inverted pivot blocks.

    `lower[i]` couples row block i to column block i − 1 (`lower[0]` is ignored), `upper[i]`
    couples i to i + 1 (`upper[-1]` is ignored); each is (n, m, m).
    """
    pivot0 = _inverse(diagonal[0])

    def step(pivot_inv_prev, blocks):
        low, diag, up_prev = blocks
        w = _matmul(low, pivot_inv_prev)
        pivot_inv = _inverse(diag - _matmul(w, up_prev))
        return pivot_inv, (w, pivot_inv)

    _, (w, pivot_inv) = jax.lax.scan(step, pivot0, (lower[1:], diagonal[1:], upper[:-1]), unroll=2)
    w = jnp.concatenate([jnp.zeros_like(w[:1]), w])
    pivot_inv = jnp.concatenate([pivot0[None], pivot_inv])
    return w, pivot_inv


def block_tridiagonal_solve(w, pivot_inv, upper, rhs):
    """Solve with the factors of `block_tridiagonal_factor`; `rhs` is (n, m)."""

    def forward(y_prev, blocks):
        w_i, b_i = blocks
        y = b_i - _matvec(w_i, y_prev)
        return y, y

    _, y = jax.lax.scan(forward, rhs[0], (w[1:], rhs[1:]), unroll=2)
    y = jnp.concatenate([rhs[:1], y])
    x_last = _matvec(pivot_inv[-1], y[-1])

    def backward(x_next, blocks):
        pivot_inv_i, up_i, y_i = blocks
        x = _matvec(pivot_inv_i, y_i - _matvec(up_i, x_next))
        return x, x

    _, x = jax.lax.scan(
        backward, x_last, (pivot_inv[:-1], upper[:-1], y[:-1]), reverse=True, unroll=2
    )
    return jnp.concatenate([x, x_last[None]])


def block_tridiagonal_factor_solve(lower, diagonal, upper, rhs):
    """Solve once: block elimination of the matrix and the right-hand side in one forward
    sweep, then back substitution (two sequential sweeps instead of three)."""
    pivot0 = _inverse(diagonal[0])

    def step(carry, blocks):
        pivot_inv_prev, y_prev = carry
        low, diag, up_prev, b = blocks
        w = _matmul(low, pivot_inv_prev)
        pivot_inv = _inverse(diag - _matmul(w, up_prev))
        y = b - _matvec(w, y_prev)
        return (pivot_inv, y), (pivot_inv, y)

    _, (pivot_inv, y) = jax.lax.scan(
        step, (pivot0, rhs[0]), (lower[1:], diagonal[1:], upper[:-1], rhs[1:]), unroll=1
    )
    pivot_inv = jnp.concatenate([pivot0[None], pivot_inv])
    y = jnp.concatenate([rhs[:1], y])
    x_last = _matvec(pivot_inv[-1], y[-1])

    def backward(x_next, blocks):
        pivot_inv_i, up_i, y_i = blocks
        x = _matvec(pivot_inv_i, y_i - _matvec(up_i, x_next))
        return x, x

    _, x = jax.lax.scan(
        backward, x_last, (pivot_inv[:-1], upper[:-1], y[:-1]), reverse=True, unroll=1
    )
    return jnp.concatenate([x, x_last[None]])


def block_tridiagonal_blocks(matvec, n: int, m: int, dtype) -> tuple[Array, Array, Array]:
    """The (lower, diagonal, upper) blocks of a linear map on (n, m) arrays whose output at
    node i depends only on nodes i − 1, i, i + 1, from 3·m matrix–vector products.

    Probe vectors are coloured by node index mod 3: nodes i − 1, i and i + 1 always have
    three different colours, so one product per (colour, component) separates every block
    entry (a distance-2 colouring of the path graph, as in sparse-Jacobian compression).
    """
    node = jnp.arange(n)
    colour = jnp.arange(3)
    component = jnp.arange(m)
    probes = (
        (node[None, None, :, None] % 3 == colour[:, None, None, None])
        & (component[None, :, None, None] == component[None, None, None, :])
    ).astype(dtype)  # (3, m, n, m): colour, column component j, node, component
    columns = jax.vmap(matvec)(probes.reshape(3 * m, n, m)).reshape(3, m, n, m)

    def pick(offset):
        # block[i, r, j] = ∂out[i, r]/∂in[i + offset, j] = columns[(i + offset) % 3, j, i, r]
        picked = columns[(node + offset) % 3, :, node, :]  # (n, j, r)
        return jnp.swapaxes(picked, -1, -2)

    lower = pick(-1).at[0].set(0.0)
    upper = pick(1).at[-1].set(0.0)
    return lower, pick(0), upper


class BlockTridiagonal(lx.AbstractLinearSolver):
    """Direct solver for operators on (n, m) arrays coupling only neighbouring nodes.

    The operator is only ever applied to vectors (3·m coloured probes recover its blocks),
    so it may be a `lineax.FunctionLinearOperator` or `JacobianLinearOperator` of a
    finite-volume residual. The solve is block Gaussian elimination (block Thomas, no pivoting
    at all): O(n·m³) work and memory, against O(n³m³) for a dense LU. Without pivoting it is
    meant for the Jacobians of diffusion–migration–Poisson problems, whose pivot blocks stay
    nonsingular (block diagonal dominance); a singular pivot shows as inf/NaN, not as a
    silently wrong answer.
    """

    def init(self, operator: lx.AbstractLinearOperator, options: dict[str, Any]):
        del options
        structure = operator.in_structure()
        if not isinstance(structure, jax.ShapeDtypeStruct) or len(structure.shape) != 2:
            raise ValueError("BlockTridiagonal needs an operator on a single (n, m) array.")
        n, m = structure.shape
        blocks = block_tridiagonal_blocks(operator.mv, n, m, structure.dtype)
        return blocks, block_tridiagonal_factor(*blocks)

    def compute(self, state, vector: Float[Array, "n m"], options: dict[str, Any]):
        del options
        (_, _, upper), (w, pivot_inv) = state
        return block_tridiagonal_solve(w, pivot_inv, upper, vector), lx.RESULTS.successful, {}

    def transpose(self, state, options: dict[str, Any]):
        (lower, diagonal, upper), _ = state
        # (Aᵀ) block row i: diagonal Dᵢᵀ, lower U_{i−1}ᵀ, upper L_{i+1}ᵀ.
        t_lower = jnp.swapaxes(jnp.roll(upper, 1, axis=0), -1, -2).at[0].set(0.0)
        t_upper = jnp.swapaxes(jnp.roll(lower, -1, axis=0), -1, -2).at[-1].set(0.0)
        t_diagonal = jnp.swapaxes(diagonal, -1, -2)
        blocks = (t_lower, t_diagonal, t_upper)
        return (blocks, block_tridiagonal_factor(*blocks)), options

    def conj(self, state, options: dict[str, Any]):
        return state, options  # real arithmetic only

    def assume_full_rank(self):
        return True
