"""`fit`: the best parameters of a channel model for recorded traces, with their uncertainty."""

import math
import pathlib
import sys
import time
import warnings
from collections.abc import Callable, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import optimistix as optx
from jaxtyping import Array, Float, PyTree

from ..simulate._voltage_clamp import ExactClamp, voltage_clamp
from ._constraints import Fixed, Free, SignedLog, _is_constraint, unwrap
from ._data import Trace


class RateBounds(eqx.Module):
    """Keep every rate law of the model inside [lower, upper] (1/ms) over a voltage range,
    by a smooth penalty added to the residuals: for each rate k(V) at `n_voltages` voltages
    spanning `voltages`, `weight`·max(0, ln k − ln upper) and `weight`·max(0, ln lower − ln k).

    The defaults are the bounds of Beattie et al. (2018) and Clerx et al. (2019) for hERG:
    1.67e-5 < k < 1e3 ms⁻¹ over −120…+60 mV. A fit that wanders into absurd rates (a rate
    of e³⁰⁰ at −120 mV) is a local-minimum trap these bounds remove.
    """

    # Static: configuration, not parameters (optimistix traces its `args`).
    lower: float = eqx.field(static=True, default=1.67e-5)
    upper: float = eqx.field(static=True, default=1e3)
    voltages: tuple[float, float] = eqx.field(static=True, default=(-120.0, 60.0))
    n_voltages: int = eqx.field(static=True, default=7)
    weight: float = eqx.field(static=True, default=1e3)


def _rate_penalty(model, bounds):
    from ..models._rates import AbstractRate

    rates = [
        leaf
        for leaf in jax.tree.leaves(model, is_leaf=lambda x: isinstance(x, AbstractRate))
        if isinstance(leaf, AbstractRate)
    ]
    if bounds is None or not rates:
        return jnp.zeros(0)
    v = jnp.linspace(bounds.voltages[0], bounds.voltages[1], bounds.n_voltages)
    out = []
    for rate in rates:
        log_k = jnp.log(jnp.ravel(rate(v[:, None])))
        out.append(bounds.weight * jax.nn.relu(log_k - math.log(bounds.upper)))
        out.append(bounds.weight * jax.nn.relu(math.log(bounds.lower) - log_k))
    return jnp.concatenate(out)


class FitResult(eqx.Module):
    """What [`membrax.fit.fit`][] found.

    **Fields:**

    - `model`: the fitted model (constraints unwrapped: an ordinary membrax model).
    - `names`: the fitted parameters' paths in the model, e.g. `.permeation.g_max`.
    - `values`: their fitted values, shape (P,).
    - `standard_errors`: their Gauss–Newton (Laplace) standard errors, shape (P,).
    - `correlations`: the parameter correlation matrix, (P, P).
    - `covariance`: the covariance of the fitted values, (P, P).
    - `log_likelihood`: the Gaussian log-likelihood at the optimum (σ per trace as given, or
      estimated from the residuals).
    - `sum_of_squares`: Σ over traces of the weighted masked squared residuals.
    - `sigma`: σ of each trace (given or estimated).
    - `n_samples`: the number of fitted samples.
    - `num_steps`: optimiser steps taken (of the best start).
    - `start_losses`: the final loss of every start (multi-start).
    - `warnings`: identifiability warnings (also issued through `warnings.warn`).
    """

    model: PyTree
    names: tuple[str, ...] = eqx.field(static=True)
    values: Float[Array, " P"]
    standard_errors: Float[Array, " P"]
    correlations: Float[Array, "P P"]
    covariance: Float[Array, "P P"]
    log_likelihood: Float[Array, ""]
    sum_of_squares: Float[Array, ""]
    sigma: tuple
    n_samples: int = eqx.field(static=True)
    num_steps: int = eqx.field(static=True)
    start_losses: Float[Array, " S"]
    warnings: tuple[str, ...] = eqx.field(static=True)


def _as_traces(data):
    traces = tuple(data) if isinstance(data, (tuple, list)) else (data,)
    for k, trace in enumerate(traces):
        if not isinstance(trace, Trace):
            raise TypeError(
                f"fit: data must be a membrax.fit.Trace or a sequence of them, got "
                f"{type(trace).__name__} at position {k}. Wrap a recording as "
                "membrax.fit.Trace(protocol, current, mask=...)."
            )
    return traces


def _wrap_trainable(model, trainable):
    """Wrap every selected plain float array in `SignedLog`; return the wrapped model and the
    filter spec that is True exactly on the unconstrained arrays to optimise."""
    select = jax.tree.map(lambda _: trainable is None, model, is_leaf=_is_constraint)
    if trainable is not None:
        select = eqx.tree_at(
            trainable,
            select,
            replace_fn=lambda node: jax.tree.map(lambda _: True, node, is_leaf=_is_constraint),
        )

    def wrap(x, chosen):
        if chosen and eqx.is_inexact_array(x) and not _is_constraint(x):
            # ±exp(u) cannot leave zero: a parameter starting at exactly 0 is fitted as is.
            return Free(x) if bool(jnp.any(x == 0)) else SignedLog(x)
        return x

    wrapped = jax.tree.map(wrap, model, select, is_leaf=_is_constraint)

    def spec_of(x, chosen):
        if _is_constraint(x):
            spec = jax.tree.map(lambda _: False, x)
            if chosen and not isinstance(x, Fixed):
                spec = eqx.tree_at(lambda c: c.unconstrained, spec, True)
            return spec
        return False

    spec = jax.tree.map(spec_of, wrapped, select, is_leaf=_is_constraint)
    trained = jax.tree.map(
        lambda x, chosen: bool(chosen) and _is_constraint(x) and not isinstance(x, Fixed),
        wrapped,
        select,
        is_leaf=_is_constraint,
    )
    return wrapped, spec, trained


class _Layout(eqx.Module):
    """The structure of the fitted parameters: turns the flat vector an optimiser moves back
    into the parameter pytree. Entirely static, so compiled steps are reused across fits of
    models with the same structure."""

    treedef: object = eqx.field(static=True)
    shapes: tuple = eqx.field(static=True)

    def unravel(self, flat):
        leaves, start = [], 0
        for shape in self.shapes:
            size = math.prod(shape)
            leaves.append(jnp.reshape(flat[start : start + size], shape))
            start += size
        return jax.tree_util.tree_unflatten(self.treedef, leaves)


def _layout_of(params):
    leaves, treedef = jax.tree_util.tree_flatten(params)
    flat = jnp.concatenate([jnp.ravel(leaf) for leaf in leaves])
    return flat, _Layout(treedef, tuple(tuple(np.shape(leaf)) for leaf in leaves))


def _residual_vector(x, args):
    layout, static, traces, clamp, rate_bounds = args
    model = unwrap(eqx.combine(layout.unravel(x), static))
    out = [_rate_penalty(model, rate_bounds)]
    for trace in traces:
        record = voltage_clamp(model, trace.protocol, solver=clamp)
        scale = jnp.sqrt(trace.weight) / (1.0 if trace.sigma is None else trace.sigma)
        r = (trace.observable(record) - trace.current) * scale
        out.append(jnp.where(trace.mask, r, 0.0))
    return jnp.concatenate(out)


def _least_squares_fn(x, args):
    return _residual_vector(x, args), None


def _loss(x, args):
    return 0.5 * jnp.sum(_residual_vector(x, args) ** 2)


_TAGS = frozenset()


@eqx.filter_jit
def _lm_init(solver, x0, args):
    f_struct, aux_struct = jax.eval_shape(_least_squares_fn, x0[0], args)
    return eqx.filter_vmap(
        lambda x: solver.init(_least_squares_fn, x, args, {}, f_struct, aux_struct, _TAGS)
    )(x0)


@eqx.filter_jit
def _lm_step(solver, x, state, args):
    def one(x, state):
        x, state, _ = solver.step(_least_squares_fn, x, args, {}, state, _TAGS)
        done, _ = solver.terminate(_least_squares_fn, x, args, {}, state, _TAGS)
        return x, state, done, _loss(x, args)

    # filter_vmap: the solver state carries jaxprs alongside its arrays.
    return eqx.filter_vmap(one)(x, state)


@eqx.filter_jit
def _optax_step(solver, x, state, args):
    def one(x, state):
        loss, grad = jax.value_and_grad(_loss)(x, args)
        updates, state = solver.update(grad, state, x)
        return optax.apply_updates(x, updates), state, loss

    return jax.vmap(one)(x, state)


@eqx.filter_jit
def _losses(x, args):
    return jax.vmap(_loss, in_axes=(0, None))(x, args)


@eqx.filter_jit
def _residuals_and_jacobian(x, args):
    return _residual_vector(x, args), jax.jacfwd(_residual_vector)(x, args)


def _progress(step, loss, started, enabled):
    if enabled:
        sys.stderr.write(
            f"\rmembrax fit: step {step:4d}  loss {float(loss):.8g}  "
            f"{time.perf_counter() - started:6.1f} s"
        )
        sys.stderr.flush()


def fit(
    model: PyTree,
    data: Trace | Sequence[Trace],
    *,
    trainable: Callable | None = None,
    solver=None,
    max_steps: int = 200,
    starts: int = 1,
    spread: float = 10.0,
    key: jax.Array | None = None,
    clamp: ExactClamp | None = None,
    checkpoint: str | pathlib.Path | None = None,
    checkpoint_every: int = 10,
    rate_bounds: RateBounds | None = None,
    progress: bool = False,
) -> FitResult:
    """Fit a channel model to recorded traces.

    The residuals of every trace, `(observable(voltage_clamp(model, protocol)) − current)`,
    weighted by √weight/σ and masked, are minimised in least squares — which maximises the
    Gaussian likelihood. Each fitted parameter is optimised in an unconstrained coordinate:
    by default it keeps its sign (value = ±exp(u)); wrap a field in
    [`membrax.fit.Positive`][], [`membrax.fit.Bounded`][] or [`membrax.fit.Fixed`][] to
    choose otherwise.

    **Arguments:**

    - `model`: a membrax model (a `Channel` or tuple of channels), the starting point.
    - `data`: a [`membrax.fit.Trace`][] or a sequence of them (several protocols or sweeps).
    - `trainable`: a function `model -> node(s)` selecting what to fit, as in
      `eqx.tree_at` (e.g. `lambda m: (m.gating, m.permeation.g_max)`); default: every
      float array of the model.
    - `solver`: `optimistix.LevenbergMarquardt(...)` (the default, rtol = atol = 1e-8) or any
      optimistix least-squares solver; or an `optax` gradient transformation (e.g.
      `optax.adam(1e-2)`), which then minimises ½Σr² for `max_steps` steps.
    - `max_steps`: the step budget.
    - `starts`: the number of starting points (multi-start); start 0 is `model` itself, the
      others perturb every fitted unconstrained coordinate uniformly by up to ±ln(`spread`)
      (a factor `spread` either way for sign-keeping and positive parameters). Deterministic
      given `key` (default `jax.random.PRNGKey(0)`).
    - `clamp`: the voltage-clamp solver (default `membrax.ExactClamp()`).
    - `rate_bounds`: a [`membrax.fit.RateBounds`][] penalty keeping every rate law within
      bounds over a voltage range (default None: no bounds).
    - `checkpoint`: a file to save the current best parameters to every `checkpoint_every`
      steps; if it exists when the fit starts, the fit resumes from it.
    - `progress`: print a progress line to stderr.

    **Returns:** a [`membrax.fit.FitResult`][]: the fitted model, values, Gauss–Newton
    standard errors and correlations, the log-likelihood, and identifiability warnings
    (a parameter whose standard error exceeds its value, a correlation above 0.99, or a
    singular curvature).
    """
    traces = _as_traces(data)
    clamp = ExactClamp() if clamp is None else clamp
    solver = optx.LevenbergMarquardt(rtol=1e-8, atol=1e-8) if solver is None else solver
    if not isinstance(starts, int) or starts < 1:
        raise ValueError(f"fit: starts must be an int >= 1, got {starts!r}.")
    wrapped, spec, trained = _wrap_trainable(model, trainable)
    params, static = eqx.partition(wrapped, spec)
    flat0, layout = _layout_of(params)
    if flat0.size == 0:
        raise ValueError("fit: nothing to fit — trainable selects no float parameter.")
    args = (layout, static, traces, clamp, rate_bounds)
    # The data's residuals, without the rate-bound penalty, for the likelihood and errors.
    data_args = (layout, static, traces, clamp, None)

    key = jax.random.PRNGKey(0) if key is None else key
    noise = jax.random.uniform(key, (starts, flat0.size), minval=-1.0, maxval=1.0)
    x0 = flat0 + math.log(spread) * noise.at[0].set(0.0)
    checkpoint = None if checkpoint is None else pathlib.Path(checkpoint)
    if checkpoint is not None and checkpoint.exists():
        x0 = jnp.asarray(np.load(checkpoint)["x"])
        if x0.shape != (starts, flat0.size):
            raise ValueError(
                f"fit: the checkpoint {checkpoint} holds {x0.shape} parameters, but this fit "
                f"has {(starts, flat0.size)}; delete it or use another file."
            )

    started = time.perf_counter()
    x, num_steps = x0, max_steps
    if isinstance(solver, optax.GradientTransformation):
        state = jax.vmap(solver.init)(x0)
        for k in range(max_steps):
            x, state, losses = _optax_step(solver, x, state, args)
            _progress(k, jnp.min(losses), started, progress)
            if checkpoint is not None and k % checkpoint_every == 0:
                np.savez(checkpoint, x=np.asarray(x))
    else:
        state = _lm_init(solver, x0, args)
        for k in range(max_steps):
            x, state, done, losses = _lm_step(solver, x, state, args)
            _progress(k, jnp.min(losses), started, progress)
            if checkpoint is not None and k % checkpoint_every == 0:
                np.savez(checkpoint, x=np.asarray(x))
            if bool(jnp.all(done)):
                num_steps = k + 1
                break
    if progress:
        sys.stderr.write("\n")
    losses = _losses(x, args)
    losses = jnp.where(jnp.isfinite(losses), losses, jnp.inf)
    x_best = x[int(jnp.argmin(losses))]
    if checkpoint is not None:
        np.savez(checkpoint, x=np.asarray(x))
    return _summarise(x_best, layout, static, trained, data_args, traces, losses, num_steps)


def _trained_constraints(tree, trained):
    """The trained constraint nodes of `tree` with their paths, in flattening order."""
    nodes = jax.tree_util.tree_flatten_with_path(tree, is_leaf=_is_constraint)[0]
    flags = jax.tree.leaves(trained)
    return [(path, node) for (path, node), flag in zip(nodes, flags) if flag]


def _values(x, layout, static, trained):
    full = eqx.combine(layout.unravel(x), static)
    return jnp.concatenate(
        [jnp.ravel(node.unwrap()) for _, node in _trained_constraints(full, trained)]
    )


def _names(x, layout, static, trained):
    full = eqx.combine(layout.unravel(x), static)
    names = []
    for path, node in _trained_constraints(full, trained):
        base = jax.tree_util.keystr(path)
        size = int(np.size(node.unwrap()))
        names.extend([base] if size == 1 else [f"{base}[{i}]" for i in range(size)])
    return tuple(names)


def _summarise(x, layout, static, trained, data_args, traces, losses, num_steps):
    fitted = unwrap(eqx.combine(layout.unravel(x), static))
    names = _names(x, layout, static, trained)
    values = _values(x, layout, static, trained)
    r, jac = _residuals_and_jacobian(x, data_args)
    r = np.asarray(r)
    # Gauss–Newton (Laplace) covariance. Residuals are divided by σ where σ is given; where it
    # is estimated, by σ̂² = (weighted SSE)/n of that trace, the profile-likelihood estimate.
    sigmas, row_scales = [], []
    log_likelihood, sum_of_squares, offset, n_total = 0.0, 0.0, 0, 0
    for trace in traces:
        n = int(trace.current.size)
        mask = np.asarray(trace.mask)
        r_k = r[offset : offset + n][mask]
        m = int(mask.sum())
        weight = float(trace.weight)
        if trace.sigma is None:
            sse = float(np.sum(r_k**2)) / weight
            sigma = math.sqrt(sse / m)
            row_scales.append(np.full(n, 1.0 / sigma))
        else:
            sigma = float(trace.sigma)
            sse = float(np.sum(r_k**2)) * sigma**2 / weight
            row_scales.append(np.ones(n))
        sigmas.append(sigma)
        log_likelihood += -0.5 * m * math.log(2 * math.pi * sigma**2) - sse / (2 * sigma**2)
        sum_of_squares += weight * sse
        offset += n
        n_total += m
    jac = jac * jnp.asarray(np.concatenate(row_scales))[:, None]
    info = jac.T @ jac
    notes = []
    cov_u = jnp.linalg.pinv(info)
    if float(jnp.linalg.cond(info)) > 1e14:
        notes.append(
            "the curvature matrix is (near) singular: some parameters are not identifiable"
        )
    jac_values = jax.jacfwd(_values)(x, layout, static, trained)
    cov = jac_values @ cov_u @ jac_values.T
    se = jnp.sqrt(jnp.clip(jnp.diag(cov), 0.0))
    corr = cov / jnp.outer(se, se)
    for i, name in enumerate(names):
        if float(se[i]) > abs(float(values[i])):
            notes.append(f"{name}: standard error {float(se[i]):.3g} exceeds its value")
        for j in range(i):
            if abs(float(corr[i, j])) > 0.99:
                notes.append(f"{names[j]} and {name} are correlated ({float(corr[i, j]):+.4f})")
    for note in notes:
        warnings.warn(f"fit: identifiability: {note}.", stacklevel=3)
    return FitResult(
        model=fitted,
        names=names,
        values=values,
        standard_errors=se,
        correlations=corr,
        covariance=cov,
        log_likelihood=jnp.asarray(log_likelihood),
        sum_of_squares=jnp.asarray(sum_of_squares),
        sigma=tuple(sigmas),
        n_samples=n_total,
        num_steps=num_steps,
        start_losses=losses,
        warnings=tuple(notes),
    )
