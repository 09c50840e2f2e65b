"""Safe numerics shared by every layer: one home for removable singularities and root finding."""

from collections.abc import Callable

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

# Below this |x| exprel is its Taylor series 1 − x/2 + x²/12 − x⁴/720 + x⁶/30240 − x⁸/1209600
# (the next term, x¹⁰·5/(66·10!) < 3e-18 at |x| = 0.1, is below float64 rounding); above it
# 1 − e^{−|x|} ≥ 0.095 is formed with at most ~10 ulp of cancellation, in float32 as in
# float64. Plain exp, not expm1: expm1 costs ~3× more on XLA:CPU.
_EXPREL_SMALL = 0.1


def exprel(x: ArrayLike) -> Float[Array, "..."]:
    r"""The relative exponential $x / (e^x - 1)$, with its removable singularity at 0 filled.

    $$\operatorname{exprel}(x) = \frac{x}{e^x - 1}, \qquad \operatorname{exprel}(0) = 1,
    \qquad \operatorname{exprel}'(0) = -\tfrac12.$$

    This one function serves the Hodgkin–Huxley α-rates, the V → 0 limit of the GHK current
    and Scharfetter–Gummel fluxes. It is finite, with finite gradients, for every finite x:
    for |x| < 0.1 by its Taylor series (to x⁸), and elsewhere, with $a = |x|$ and
    $e = e^{-a}$, as $a/(1 - e)$ for x < 0 and $a e/(1 - e)$ for x > 0 — a single exp of a
    non-positive argument, so that no branch ever forms ∞/∞ (which would give a NaN value or
    gradient at large |x|), with full relative precision to within ~10 ulp.

    **Arguments:**

    - `x`: any real array (dimensionless).

    **Returns:** an array of the same shape, positive everywhere.
    """
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.inexact):
        x = x.astype(jnp.result_type(float))
    small = jnp.abs(x) < _EXPREL_SMALL
    # The double-`where`: the unused branch still gets evaluated and differentiated, so it
    # must see a harmless value where it is not selected, or its NaN leaks into the gradient.
    safe = jnp.where(small, 1.0, x)
    a = jnp.abs(safe)
    # Both signs share one exp(−a) ∈ (0, 0.905]: the transcendentals are most of the cost of
    # a Hodgkin–Huxley step.
    e = jnp.exp(-a)
    x2 = x * x
    # Coefficients as constants to multiply by: x / 3 would be a division in every step.
    taylor = 1.0 - 0.5 * x + x2 * (1 / 12 - x2 * (1 / 720 - x2 * (1 / 30240 - x2 * (1 / 1209600))))
    # The branches are selected before one final division (the Taylor value over 1, which is
    # exact), not after it: XLA copies a cheap `where` and its polynomial into every
    # consumer, but never an expensive division. With the `where` last, a Hodgkin–Huxley
    # step computed each α's polynomial twice (6 % of a population step on XLA:CPU).
    numerator = jnp.where(small, taylor, a * jnp.where(safe > 0, e, 1.0))
    return numerator / jnp.where(small, 1.0, 1.0 - e)


def small_matmul(a: ArrayLike, b: ArrayLike) -> Float[Array, "..."]:
    """`a @ b` over the last two axes, batched, as a broadcast product and sum.

    For the few-state matrices of kinetic schemes and PNP blocks: on XLA:CPU a tiny `@`
    inside a long `scan` costs several times this elementwise form (STYLE.md), and on GPUs
    XLA 0.11's Triton GEMM fusion aborts the process ("Check failed" in
    triton_tiling_propagation.cc) compiling the float64 gradients of batched 4×4 products;
    the elementwise form lowers to no `dot` at all.
    """
    a, b = jnp.asarray(a), jnp.asarray(b)
    return jnp.sum(a[..., :, :, None] * b[..., None, :, :], axis=-2)


def small_matvec(a: ArrayLike, x: ArrayLike) -> Float[Array, "..."]:
    """`a @ x` (matrix times column vector over the last axis), batched; see `small_matmul`."""
    a, x = jnp.asarray(a), jnp.asarray(x)
    return jnp.sum(a * x[..., None, :], axis=-1)


def small_vecmat(x: ArrayLike, m: ArrayLike) -> Float[Array, "..."]:
    """`x @ m` (row vector times matrix, the Markov convention p' = p Q), batched; see
    `small_matmul`."""
    x, m = jnp.asarray(x), jnp.asarray(m)
    return jnp.sum(x[..., :, None] * m, axis=-2)


def solve_spd(a: ArrayLike, b: ArrayLike) -> Float[Array, " n"]:
    """x with `a x = b`, for a small symmetric positive-definite `a` (n×n), by Cholesky
    factorisation and two triangular substitutions, in plain array operations.

    For the normal equations of Levenberg–Marquardt (n = the number of fitted parameters):
    `jnp.linalg.solve` lowers to a LAPACK call on CPU, and the first such lowering in a
    process initialises jaxlib's LAPACK bindings by importing SciPy (0.26 s on 2 cores), a
    quarter of a warm `membrax fit`'s time to its first step. Three `fori_loop`s of n
    iterations each keep the program small for any n. Where `a` is not numerically positive
    definite the result has NaN entries (√ of a negative pivot): the caller must treat a
    non-finite result as a rejected step.
    """
    a, b = jnp.asarray(a), jnp.asarray(b)
    n = a.shape[-1]
    index = jnp.arange(n)

    def factor_column(j, lower):
        # Column j of L from the columns 0..j−1 already in `lower` (the rest are zero).
        row = jnp.where(index < j, lower[j], 0.0)
        pivot = jnp.sqrt(a[j, j] - jnp.sum(row * row))
        column = (a[:, j] - small_matvec(lower, row)) / pivot
        column = jnp.where(index > j, column, jnp.where(index == j, pivot, 0.0))
        return lower.at[:, j].set(column)

    lower = jax.lax.fori_loop(0, n, factor_column, jnp.zeros_like(a))

    def forward(i, y):  # L y = b; entries of y past i are still zero.
        return y.at[i].set((b[i] - jnp.sum(lower[i] * y)) / lower[i, i])

    def backward(k, x):  # Lᵀ x = y; entries of x up to n−1−k are still zero.
        i = n - 1 - k
        return x.at[i].set((y[i] - jnp.sum(lower[:, i] * x)) / lower[i, i])

    y = jax.lax.fori_loop(0, n, forward, jnp.zeros_like(b))
    return jax.lax.fori_loop(0, n, backward, jnp.zeros_like(b))


def safe_sqrt(x: ArrayLike) -> Float[Array, "..."]:
    """√x for x ≥ 0 whose derivative at exactly 0 is 0 instead of +∞.

    √x has an infinite derivative at 0, so `jax.grad` there gives inf (and NaN once multiplied
    by a zero cotangent). The double-`where` returns √0 = 0 exactly, with a derivative of 0 at
    x = 0 (a finite stand-in for +∞); for x > 0 value and derivative are exact.
    """
    x = jnp.asarray(x)
    positive = x > 0
    return jnp.where(positive, jnp.sqrt(jnp.where(positive, x, 1.0)), 0.0)


def increasing_root(
    fn: Callable[[Array], Array],
    lower: ArrayLike,
    upper: ArrayLike,
    *,
    guess: ArrayLike | None = None,
    max_steps: int = 200,
) -> Float[Array, ""]:
    r"""The root of a continuous, strictly increasing scalar function, with implicit gradients.

    The root is found by Newton's method safeguarded by bisection inside a bracket
    `[lower, upper]` that must satisfy `fn(lower) <= 0 <= fn(upper)`; the bracket is widened
    (doubling its width) until it does. Iterations stop when the Newton step or the bracket
    falls below a few ulps of the root, or `fn` vanishes.

    Gradients with respect to anything `fn` closes over come from the implicit function
    theorem, $\partial x^* / \partial\theta = -(\partial f/\partial\theta)/(\partial f/\partial x)$
    (`jax.lax.custom_root`), not from unrolling the iterations.

    **Arguments:**

    - `fn`: scalar → scalar, strictly increasing, closing over its parameters.
    - `lower`, `upper`: a first guess at a bracket (it is widened if needed).
    - `guess`: where Newton starts (clipped into the bracket); default its midpoint.
    - `max_steps`: cap on safeguarded-Newton iterations (each at least halves the bracket
      unless Newton converges faster, so 200 is ample in float64).

    **Returns:** the root, a scalar.
    """
    lower = jnp.asarray(lower)
    upper = jnp.asarray(upper)
    dtype = jnp.result_type(lower, upper, float)
    lower = lower.astype(dtype)
    upper = upper.astype(dtype)
    start = (lower + upper) / 2 if guess is None else jnp.asarray(guess, dtype)

    def solve(f, x0):
        # Widen the bracket until it brackets a sign change: at most 64 doublings.
        def widen_cond(c):
            lo, hi, i = c
            return ((f(lo) > 0) | (f(hi) < 0)) & (i < 64)

        def widen_body(c):
            lo, hi, i = c
            width = jnp.maximum(hi - lo, 1.0)
            lo = jnp.where(f(lo) > 0, lo - width, lo)
            hi = jnp.where(f(hi) < 0, hi + width, hi)
            return lo, hi, i + 1

        lo, hi, _ = jax.lax.while_loop(widen_cond, widen_body, (lower, upper, 0))
        tol = 4 * jnp.finfo(dtype).eps

        def value_and_slope(x):
            return jax.jvp(f, (x,), (jnp.ones_like(x),))

        def cond(c):
            lo, hi, x, fx, _, step, i = c
            scale = tol * jnp.maximum(jnp.abs(x), 1.0)
            return (i < max_steps) & (fx != 0) & (step > scale) & (hi - lo > scale)

        def body(c):
            lo, hi, x, fx, slope, _, i = c
            lo = jnp.where(fx < 0, x, lo)
            hi = jnp.where(fx > 0, x, hi)
            newton = x - fx / jnp.where(slope > 0, slope, 1.0)
            # Newton when it stays in the bracket (closed: at convergence it lands on an end
            # to rounding), bisection otherwise. A zero-length step then ends the loop.
            inside = (slope > 0) & (newton >= lo) & (newton <= hi)
            x_new = jnp.where(inside, newton, (lo + hi) / 2)
            f_new, slope_new = value_and_slope(x_new)
            return lo, hi, x_new, f_new, slope_new, jnp.abs(x_new - x), i + 1

        x0 = jnp.clip(x0, lo, hi)
        f0, s0 = value_and_slope(x0)
        init = (lo, hi, x0, f0, s0, jnp.asarray(jnp.inf, dtype), 0)
        return jax.lax.while_loop(cond, body, init)[2]

    def tangent_solve(g, y):
        # g is the linearisation of fn at the root: scalar, g(x) = fn'(x*)·x.
        return y / g(jnp.ones_like(y))

    return jax.lax.custom_root(fn, start, solve, tangent_solve)
