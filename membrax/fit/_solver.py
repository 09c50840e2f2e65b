"""Levenberg–Marquardt with a materialised forward-mode Jacobian: an optimistix solver."""

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import optimistix as optx
from jaxtyping import Array, Bool, Float, Int

from .._numerics import solve_spd


class _State(eqx.Module):
    residual: Float[Array, " M"]
    jacobian: Float[Array, "M P"]
    loss: Float[Array, ""]
    damping: Float[Array, ""]
    growth: Float[Array, ""]
    scale: Float[Array, " P"]
    converged: Bool[Array, ""]
    steps: Int[Array, ""]


def _residual_and_jacobian(fn, y, args):
    def residual(x):
        r, _ = fn(x, args)
        return r, r

    jacobian, r = jax.jacfwd(residual, has_aux=True)(y)
    return r, jacobian


class LevenbergMarquardt(optx.AbstractLeastSquaresSolver):
    r"""Levenberg–Marquardt for a vector of residuals r(y), y a 1-D array: each step solves

    $$(J^\top J + \lambda D)\,\delta = -J^\top r,$$

    with $D$ the running maximum of diag($J^\top J$) (Moré's scaling, so the step does not
    depend on the parameters' units), accepts the step when the actual reduction of ½|r|² is
    at least 1e-4 of the predicted one, and updates λ by Nielsen's rule. The Jacobian is
    computed once per step by forward-mode differentiation at the trial point and kept as a
    matrix: for a few parameters and many samples (a recorded trace) this is several times
    cheaper per step than `optimistix.LevenbergMarquardt`, which re-linearises and
    re-materialises the Jacobian inside its linear solve.

    An `optimistix.AbstractLeastSquaresSolver`: usable with `optimistix.least_squares` and
    as `solver=` of [`membrax.fit.fit`][] (its default).

    **Arguments:**

    - `rtol`, `atol`: convergence when an accepted step changes every parameter by less than
      `atol + rtol·|y|` and the loss by less than `atol + rtol·loss` (default 1e-8 both).
    - `damping`: the initial λ (default 1e-3).
    """

    rtol: float = 1e-8
    atol: float = 1e-8
    damping: float = 1e-3
    norm: Callable = optx.max_norm

    def init(self, fn, y, args, options, f_struct, aux_struct, tags):
        del options, f_struct, aux_struct, tags
        if jnp.ndim(y) != 1:
            raise ValueError(
                "membrax.fit.LevenbergMarquardt: y must be a 1-D array of parameters, got "
                f"shape {jnp.shape(y)}; flatten it (jax.flatten_util.ravel_pytree)."
            )
        r, jac = _residual_and_jacobian(fn, y, args)
        loss = 0.5 * jnp.sum(r**2)
        return _State(
            residual=r,
            jacobian=jac,
            loss=loss,
            damping=jnp.asarray(self.damping, loss.dtype),
            growth=jnp.asarray(2.0, loss.dtype),
            scale=jnp.sum(jac**2, axis=0),
            converged=jnp.asarray(False),
            # Not weakly typed, as an exported program's outputs never are: the same state
            # types whether init was traced or loaded (membrax/_exported.py keys on them).
            steps=jnp.asarray(0, jnp.result_type(int)),
        )

    def step(self, fn, y, args, options, state, tags):
        del options, tags
        r, jac = state.residual, state.jacobian
        gram = jac.T @ jac
        gradient = jac.T @ r
        scale = jnp.maximum(state.scale, jnp.diag(gram))
        scale = jnp.where(scale > 0, scale, 1.0)
        # Positive definite for λ > 0; a NaN δ (a numerically indefinite matrix) gives a
        # non-finite trial loss, a rejected step and a larger λ.
        delta = solve_spd(gram + state.damping * jnp.diag(scale), -gradient)
        y_try = y + delta
        r_try, jac_try = _residual_and_jacobian(fn, y_try, args)
        loss_try = 0.5 * jnp.sum(r_try**2)
        # The model's predicted reduction ½|r|² − ½|r + Jδ|², ≥ 0 for this δ.
        predicted = -(gradient @ delta) - 0.5 * jnp.sum((jac @ delta) ** 2)
        actual = state.loss - loss_try
        ratio = actual / jnp.where(predicted > 0, predicted, jnp.inf)
        accept = jnp.isfinite(loss_try) & jnp.all(jnp.isfinite(jac_try)) & (ratio > 1e-4)
        # Nielsen (1999): shrink λ smoothly after a good step, grow it geometrically after bad.
        shrink = jnp.maximum(1.0 / 3.0, 1.0 - (2.0 * ratio - 1.0) ** 3)
        damping = jnp.where(accept, state.damping * shrink, state.damping * state.growth)
        growth = jnp.where(accept, 2.0, 2.0 * state.growth)
        small_step = jnp.all(jnp.abs(delta) <= self.atol + self.rtol * jnp.abs(y))
        small_change = jnp.abs(actual) <= self.atol + self.rtol * state.loss
        converged = (accept & small_step & small_change) | (damping > 1e30)
        pick = lambda new, old: jnp.where(accept, new, old)  # noqa: E731
        new_state = _State(
            residual=pick(r_try, r),
            jacobian=pick(jac_try, jac),
            loss=pick(loss_try, state.loss),
            damping=jnp.clip(damping, 1e-16, 1e32),
            growth=growth,
            scale=scale,
            converged=converged,
            steps=state.steps + 1,
        )
        return pick(y_try, y), new_state, None

    def terminate(self, fn, y, args, options, state, tags):
        del fn, y, args, options, tags
        return state.converged, optx.RESULTS.successful

    def postprocess(self, fn, y, aux, args, options, state, tags, result):
        del fn, args, options, tags, result
        return y, aux, {"num_steps": state.steps, "loss": state.loss}
