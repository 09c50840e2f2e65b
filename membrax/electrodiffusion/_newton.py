"""Damped Newton's method on block-tridiagonal systems, as an optimistix root finder."""

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx
import optimistix as optx
from jaxtyping import Array, Bool, Int

from ._block_tridiagonal import BlockTridiagonal, block_tridiagonal_factor_solve


class _NewtonState(eqx.Module):
    steps: Int[Array, ""]
    converged: Bool[Array, ""]
    result: optx.RESULTS


class DampedNewton(optx.AbstractRootFinder):
    """Newton's method for the scaled PNP residual, with potential-update limiting.

    Each step solves J Δ = F with [`membrax.electrodiffusion.BlockTridiagonal`][] (the
    Jacobian of a 1D finite-volume residual only couples neighbouring nodes) and moves by
    α Δ, where α = min(1, `max_potential_step` / max|Δψ|) caps the potential update in units
    of V_T: the classic damping of semiconductor device simulators, which keeps Newton inside
    the region where exponential (Boltzmann) nonlinearities are well described by their
    linearisation. Converged when a full (undamped) step changes ψ by ≤ `rtol` and every
    scaled concentration by ≤ `rtol`·|ĉ| + `atol`; Newton's quadratic convergence then makes the
    returned iterate accurate to rounding.

    Iterates are arrays (nodes, 1 + species) with ψ = φ/V_T in column 0.

    **Fields:**

    - `rtol`: the step size, relative for concentrations and in units of V_T for ψ, below
      which Newton has converged (default 1e-8: in the quadratic regime the iterate after such
      a step is exact to ~1e-16).
    - `atol`: absolute floor on scaled concentration steps (default 1e-30: effectively a
      relative test, so that trace species such as minority carriers 10⁻¹² below the majority
      are converged as well).
    - `max_potential_step`: cap on |Δψ| per step, in V_T (default 8, ≈ 0.2 V).
    """

    rtol: float = 1e-8
    atol: float = 1e-30
    norm: Callable = optx.max_norm
    max_potential_step: float = 8.0

    def init(self, fn, y, args, options, f_struct, aux_struct, tags):
        del fn, y, args, options, f_struct, aux_struct, tags
        return _NewtonState(jnp.array(0), jnp.array(False), optx.RESULTS.successful)

    def step(self, fn, y, args, options, state: _NewtonState, tags):
        blocks_fn = options.get("jacobian_blocks")
        if blocks_fn is None:
            # Generic path: the Jacobian as an operator, its blocks recovered by probing.
            fx, linear_fn, aux = jax.linearize(lambda _y: fn(_y, args), y, has_aux=True)
            operator = lx.FunctionLinearOperator(linear_fn, jax.eval_shape(lambda: y), tags=tags)
            solution = lx.linear_solve(operator, fx, BlockTridiagonal(), throw=False)
            delta, linear_result = solution.value, solution.result
        else:
            # Fast path: the caller assembles the blocks from local derivatives, and one
            # forward sweep factors and eliminates at once.
            fx, blocks = blocks_fn(y, args)
            aux = None
            delta = block_tridiagonal_factor_solve(*blocks, fx)
            linear_result = lx.RESULTS.successful
        psi_step = jnp.max(jnp.abs(delta[:, 0]))
        damping = jnp.minimum(1.0, self.max_potential_step / jnp.where(psi_step > 0, psi_step, 1.0))
        new_y = y - damping * delta
        small = (psi_step <= self.rtol) & jnp.all(
            jnp.abs(delta[:, 1:]) <= self.rtol * jnp.abs(new_y[:, 1:]) + self.atol
        )
        finite = jnp.all(jnp.isfinite(new_y))
        result = optx.RESULTS.where(
            finite, optx.RESULTS.promote(linear_result), optx.RESULTS.nonlinear_divergence
        )
        return new_y, _NewtonState(state.steps + 1, small & (damping == 1), result), aux

    def terminate(self, fn, y, args, options, state: _NewtonState, tags):
        del fn, y, args, tags
        # An optional run-time cap on iterations (root_find's own max_steps is static).
        limit = options.get("step_limit")
        out_of_steps = False if limit is None else (state.steps >= limit) & ~state.converged
        result = optx.RESULTS.where(
            out_of_steps, optx.RESULTS.nonlinear_max_steps_reached, state.result
        )
        failed = result != optx.RESULTS.successful
        return state.converged | failed, result

    def postprocess(self, fn, y, aux, args, options, state, tags, result):
        del fn, args, options, state, tags, result
        return y, aux, {}


def newton_solve(
    fn: Callable,
    y0: Array,
    args: Any,
    *,
    max_steps: int,
    step_limit,
    solver: DampedNewton,
    jacobian_blocks: Callable | None = None,
) -> tuple[Array, Bool[Array, ""]]:
    """Run `solver` from `y0` for at most `step_limit` (≤ `max_steps`, may be traced)
    iterations, without differentiating through it; return (y, converged).

    `jacobian_blocks(y, args) -> (fn(y, args), (lower, diagonal, upper))`, when given, supplies
    the Jacobian's blocks directly (hashable: it is a static option)."""
    args = jax.lax.stop_gradient(args)
    solution = optx.root_find(
        fn,
        solver,
        jax.lax.stop_gradient(y0),
        args,
        options={"step_limit": step_limit, "jacobian_blocks": jacobian_blocks},
        max_steps=max_steps,
        throw=False,
        # No tangents reach the iterations (inputs are stop_gradient-ed): derivatives come from
        # the implicit function theorem at the caller.
    )
    return solution.value, solution.result == optx.RESULTS.successful
