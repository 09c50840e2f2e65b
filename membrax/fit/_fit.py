"""`fit`: the best parameters of a channel model for recorded traces, with their uncertainty."""

import dataclasses
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
from jaxtyping import Array, Float, PyTree

from .._exported import cached_call
from ..simulate._voltage_clamp import ExactClamp
from ._constraints import Fixed, Free, SignedLog, _is_constraint, unwrap
from ._data import AbstractData
from ._solver import LevenbergMarquardt, _State


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
    - `cell_axes`: for a hierarchical fit (`per_cell`), which leaves of `model` are stacked
      per cell (0) and which are shared (None); None otherwise. See `cell_model`.
    - `n_cells`: the number of cells of a hierarchical fit, else None.
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
    cell_axes: PyTree = eqx.field(static=True, default=None)
    n_cells: int | None = eqx.field(static=True, default=None)

    def cell_model(self, k: int) -> PyTree:
        """Cell k's fitted model in a hierarchical fit: its own per-cell parameters and the
        shared ones."""
        if self.cell_axes is None:
            raise ValueError(
                "FitResult.cell_model: this was not a hierarchical fit (fit(..., per_cell=...)); "
                "use result.model."
            )
        if not 0 <= k < self.n_cells:
            raise ValueError(
                f"FitResult.cell_model: k = {k!r}, but the fit has {self.n_cells} cells "
                f"(0 to {self.n_cells - 1})."
            )
        return _cell_model(self.model, self.cell_axes, k)


def _as_data(data, where="data"):
    items = tuple(data) if isinstance(data, (tuple, list)) else (data,)
    for k, item in enumerate(items):
        if not isinstance(item, AbstractData):
            raise TypeError(
                f"fit: {where} must be membrax.fit data (a Trace, IVCurve or "
                f"SteadyStateCurve) or a sequence of them, got {type(item).__name__} at "
                "position {k}. Wrap a recording as membrax.fit.Trace(protocol, current, "
                "mask=...).".replace("{k}", str(k))
            )
    return items


class _Cells(eqx.Module):
    """Several cells fitted together (hierarchical): which model leaves are per-cell, and
    the data of every cell — stacked along a leading axis when every cell's data has the
    same structure and shapes (then the cells are vmapped), else a tuple of cells."""

    data: PyTree
    axes: PyTree = eqx.field(static=True)
    n_cells: int = eqx.field(static=True)
    stacked: bool = eqx.field(static=True)


def _stack_cells(cells):
    """Stack the cells' data for vmap if they share structure and shapes, else None."""
    dynamic = [eqx.partition(cell, eqx.is_array) for cell in cells]
    first_dyn, first_static = dynamic[0]
    structure = jax.tree.structure(first_dyn)
    shapes = [jnp.shape(x) for x in jax.tree.leaves(first_dyn)]
    for dyn, static in dynamic[1:]:
        if jax.tree.structure(dyn) != structure or static != first_static:
            return None
        if [jnp.shape(x) for x in jax.tree.leaves(dyn)] != shapes:
            return None
    stacked = jax.tree.map(lambda *xs: jnp.stack(xs), *[dyn for dyn, _ in dynamic])
    return eqx.combine(stacked, first_static)


def _cell_model(model, axes, k):
    """Cell k's model: per-cell leaves (axis 0) indexed, shared leaves as they are."""
    return jax.tree.map(
        lambda x, a: x if a is None else x[k], model, axes, is_leaf=lambda x: x is None
    )


def _cell_axes(wrapped, per_cell):
    """A tree like `wrapped` with 0 on the arrays that vary per cell and None elsewhere."""
    select = jax.tree.map(lambda _: False, wrapped, is_leaf=_is_constraint)
    select = eqx.tree_at(
        per_cell,
        select,
        replace_fn=lambda node: jax.tree.map(lambda _: True, node, is_leaf=_is_constraint),
    )

    def axis(x, chosen):
        if not chosen:
            return jax.tree.map(lambda _: None, x) if _is_constraint(x) else None
        if _is_constraint(x):
            out = jax.tree.map(lambda _: None, x)
            return eqx.tree_at(lambda c: c.unconstrained, out, 0, is_leaf=lambda y: y is None)
        return 0 if eqx.is_inexact_array(x) else None

    return jax.tree.map(axis, wrapped, select, is_leaf=_is_constraint)


def _broadcast_cells(wrapped, axes, n_cells):
    return jax.tree.map(
        lambda x, a: x if a is None else jnp.broadcast_to(x, (n_cells, *jnp.shape(x))),
        wrapped,
        axes,
        is_leaf=lambda x: x is None,
    )


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
            return Free(x) if bool(np.any(np.asarray(x) == 0)) else SignedLog(x)
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
    # In NumPy: every eager jnp operation outside jit is compiled separately (~10 ms each, in
    # every new process), which added up to a second of a warm `membrax fit`.
    leaves, treedef = jax.tree_util.tree_flatten(params)
    dtype = jnp.result_type(*leaves) if leaves else jnp.result_type(float)
    flat = np.concatenate([np.ravel(np.asarray(leaf)) for leaf in leaves] or [np.zeros(0)])
    return jax.device_put(flat.astype(dtype)), _Layout(
        treedef, tuple(tuple(np.shape(leaf)) for leaf in leaves)
    )


def _model_residuals(model, data, clamp, rate_bounds):
    model = unwrap(model)
    parts = [_rate_penalty(model, rate_bounds)]
    parts += [item.residuals(model, clamp) for item in data]
    return jnp.concatenate(parts)


def _residual_vector(x, args):
    layout, static, data, clamp, rate_bounds = args
    model = eqx.combine(layout.unravel(x), static)
    if not isinstance(data, _Cells):
        return _model_residuals(model, data, clamp, rate_bounds)
    if data.stacked:
        per_cell = eqx.filter_vmap(
            lambda m, d: _model_residuals(m, d, clamp, rate_bounds), in_axes=(data.axes, 0)
        )(model, data.data)
        return jnp.ravel(per_cell)
    return jnp.concatenate(
        [
            _model_residuals(_cell_model(model, data.axes, k), cell, clamp, rate_bounds)
            for k, cell in enumerate(data.data)
        ]
    )


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
        # membrax's solver keeps the loss at x; others need one more evaluation.
        loss = state.loss if isinstance(state, _State) else _loss(x, args)
        return x, state, done, loss

    # filter_vmap: the solver state carries jaxprs alongside its arrays.
    return eqx.filter_vmap(one)(x, state)


# The output structures of _lm_init (a state) and _lm_step (x, state, done, loss), for the
# export cache, which returns flat arrays.
def _blank_state():
    return _State(*[0] * len(dataclasses.fields(_State)))


def _state_structure():
    return jax.tree.structure(_blank_state())


def _step_structure():
    return jax.tree.structure((0, _blank_state(), 0, 0))


def _plain_call(name, function, args, out_structure):
    del name, out_structure
    return function(*args)


def _is_optax(solver) -> bool:
    # Without importing optax (0.1 s): a solver can only be an optax transformation if the
    # caller has imported optax.
    optax = sys.modules.get("optax")
    return optax is not None and isinstance(solver, optax.GradientTransformation)


@eqx.filter_jit
def _optax_step(solver, x, state, args):
    def one(x, state):
        loss, grad = jax.value_and_grad(_loss)(x, args)
        updates, state = solver.update(grad, state, x)
        return (x + updates).astype(x.dtype), state, loss  # optax.apply_updates

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
    data: AbstractData | Sequence,
    *,
    trainable: Callable | None = None,
    per_cell: Callable | None = None,
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
    """Fit a channel model to recorded data: current traces, I–V / activation / Q–V curves,
    steady-state curves — of one cell, or of several cells with shared and per-cell
    parameters.

    The residuals of every dataset (e.g. for a trace, `observable(voltage_clamp(model,
    protocol)) − current`), weighted by √weight/σ and masked, are minimised in least squares
    — which maximises the Gaussian likelihood. Each fitted parameter is optimised in an
    unconstrained coordinate: by default it keeps its sign (value = ±exp(u)); wrap a field in
    [`membrax.fit.Positive`][], [`membrax.fit.Bounded`][] or [`membrax.fit.Fixed`][] to
    choose otherwise.

    **Arguments:**

    - `model`: a membrax model (a `Channel` or tuple of channels), the starting point.
    - `data`: a [`membrax.fit.Trace`][], [`membrax.fit.IVCurve`][],
      [`membrax.fit.SteadyStateCurve`][] (any [`membrax.fit.AbstractData`][]) or a sequence
      of them (several protocols, sweeps or kinds of data, fitted together). With
      `per_cell`: a sequence with one entry per cell, each such data or a sequence of them.
    - `trainable`: a function `model -> node(s)` selecting what to fit, as in
      `eqx.tree_at` (e.g. `lambda m: (m.gating, m.permeation.g_max)`); default: every
      float array of the model.
    - `per_cell`: for a hierarchical fit of several cells, a function `model -> node(s)`
      selecting the parameters that differ between cells (e.g. `lambda m:
      m.permeation.g_max`); every other trained parameter is shared by all cells. The cells
      are vmapped when their data have the same structure and shapes. The fitted
      `result.model` then holds per-cell parameters stacked along a leading axis:
      `result.cell_model(k)` is cell k's model.
    - `solver`: [`membrax.fit.LevenbergMarquardt`][] (the default, rtol = atol = 1e-8), any
      optimistix least-squares solver (e.g. `optimistix.LevenbergMarquardt(1e-8, 1e-8)`,
      `optimistix.Dogleg`); or an `optax` gradient transformation (e.g.
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
    clamp = ExactClamp() if clamp is None else clamp
    solver = LevenbergMarquardt() if solver is None else solver
    if not isinstance(starts, int) or starts < 1:
        raise ValueError(f"fit: starts must be an int >= 1, got {starts!r}.")
    wrapped, spec, trained = _wrap_trainable(model, trainable)
    if per_cell is None:
        problem = _as_data(data)
        datasets, axes = problem, None
    else:
        if not isinstance(data, (tuple, list)) or len(data) < 2:
            raise ValueError(
                "fit: with per_cell, data must be a sequence with one entry per cell (at least "
                f"two cells), got {type(data).__name__}"
                + (f" of length {len(data)}." if isinstance(data, (tuple, list)) else ".")
            )
        cells = [_as_data(cell, f"data[{k}]") for k, cell in enumerate(data)]
        axes = _cell_axes(wrapped, per_cell)
        if not any(_per_cell_flags(axes, trained)):
            raise ValueError(
                "fit: per_cell selects no trained float parameter; it must pick parameters "
                "that are also trainable (e.g. per_cell=lambda m: m.permeation.g_max)."
            )
        wrapped = _broadcast_cells(wrapped, axes, len(cells))
        stacked = _stack_cells(cells)
        problem = _Cells(
            stacked if stacked is not None else tuple(cells), axes, len(cells), stacked is not None
        )
        datasets = tuple(item for cell in cells for item in cell)
    params, static = eqx.partition(wrapped, spec)
    flat0, layout = _layout_of(params)
    if flat0.size == 0:
        raise ValueError("fit: nothing to fit — trainable selects no float parameter.")
    args = (layout, static, problem, clamp, rate_bounds)
    # The data's residuals, without the rate-bound penalty, for the likelihood and errors.
    data_args = (layout, static, problem, clamp, None)

    x0 = jax.device_put(np.asarray(flat0)[None])
    if starts > 1:
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
    x, num_steps, losses = x0, max_steps, None
    if _is_optax(solver):
        state = jax.vmap(solver.init)(x0)
        for k in range(max_steps):
            x, state, losses = _optax_step(solver, x, state, args)
            _progress(k, np.min(np.asarray(losses)), started, progress)
            if checkpoint is not None and k % checkpoint_every == 0:
                np.savez(checkpoint, x=np.asarray(x))
    else:
        # membrax's own solver returns arrays only: its programs can be exported and cached
        # on disk (when the command line turns that cache on; see _exported.py).
        call = cached_call if type(solver) is LevenbergMarquardt else _plain_call
        state = call("lm_init", _lm_init, (solver, x0, args), _state_structure)
        for k in range(max_steps):
            x, state, done, losses = call(
                "lm_step", _lm_step, (solver, x, state, args), _step_structure
            )
            _progress(k, np.min(np.asarray(losses)), started, progress)
            if checkpoint is not None and k % checkpoint_every == 0:
                np.savez(checkpoint, x=np.asarray(x))
            if bool(np.all(np.asarray(done))):
                num_steps = k + 1
                break
    if progress:
        sys.stderr.write("\n")
    if losses is None or _is_optax(solver):
        losses = _losses(x, args)
    losses = np.asarray(losses)
    losses = np.where(np.isfinite(losses), losses, np.inf)
    x_best = jax.device_put(np.asarray(x)[int(np.argmin(losses))])
    losses = jax.device_put(losses)
    if checkpoint is not None:
        np.savez(checkpoint, x=np.asarray(x))
    return _summarise(x_best, layout, static, trained, data_args, datasets, losses, num_steps, axes)


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


def _per_cell_flags(axes, trained):
    """For each trained constraint node (in `_trained_constraints` order): per-cell or not."""
    pairs = jax.tree.map(
        lambda flag, a: (flag, _is_constraint(a) and jax.tree.leaves(a) != []), trained, axes
    )
    pairs = jax.tree.leaves(pairs, is_leaf=lambda y: isinstance(y, tuple) and len(y) == 2)
    return [per_cell for flag, per_cell in pairs if flag]


def _plain_axes(axes):
    """Cell axes for the unwrapped model: a constraint node becomes its array's axis."""
    return jax.tree.map(
        lambda a: (0 if jax.tree.leaves(a) else None) if _is_constraint(a) else a,
        axes,
        is_leaf=lambda y: y is None or _is_constraint(y),
    )


def _names(x, layout, static, trained, axes):
    full = eqx.combine(layout.unravel(x), static)
    cell_nodes = None if axes is None else _per_cell_flags(axes, trained)
    names = []
    for k, (path, node) in enumerate(_trained_constraints(full, trained)):
        base = jax.tree_util.keystr(path)
        shape = jax.eval_shape(node.unwrap).shape
        if cell_nodes is not None and cell_nodes[k]:
            n_cells, shape = shape[0], shape[1:]
            bases = [f"{base}[cell {c}]" for c in range(n_cells)]
        else:
            bases = [base]
        size = math.prod(shape)
        for b in bases:
            names.extend([b] if size == 1 else [f"{b}[{i}]" for i in range(size)])
    return tuple(names)


@eqx.filter_jit
def _summary_arrays(x, layout, static, trained):
    fitted = unwrap(eqx.combine(layout.unravel(x), static))
    values = _values(x, layout, static, trained)
    jac_values = jax.jacfwd(_values)(x, layout, static, trained)
    return fitted, values, jac_values


def _pair_structure():
    return jax.tree.structure((0, 0))


def _summarise(x, layout, static, trained, data_args, datasets, losses, num_steps, axes):
    # One compiled function for the arrays, then NumPy (float64) for the rest: no eager jnp.
    names = _names(x, layout, static, trained, axes)
    fitted, values, jac_values = _summary_arrays(x, layout, static, trained)
    # The model's residuals and Jacobian: the costly part to trace, from the export cache.
    r, jac = cached_call(
        "residuals_and_jacobian", _residuals_and_jacobian, (x, data_args), _pair_structure
    )
    values, r, jac, jac_values = (np.asarray(a, np.float64) for a in (values, r, jac, jac_values))
    # Gauss–Newton (Laplace) covariance. Residuals are divided by σ where σ is given; where it
    # is estimated, by σ̂² = (weighted SSE)/n of that dataset, the profile-likelihood estimate.
    sigmas, row_scales = [], []
    log_likelihood, sum_of_squares, offset, n_total = 0.0, 0.0, 0, 0
    for item in datasets:
        n = int(item.values.size)
        mask = np.asarray(item.mask)
        r_k = r[offset : offset + n][mask]
        m = int(mask.sum())
        weight = float(item.weight)
        if item.sigma is None:
            sse = float(np.sum(r_k**2)) / weight
            sigma = math.sqrt(sse / m)
            # A perfect fit (σ̂ = 0) has no noise scale; keep the covariance finite.
            row_scales.append(np.full(n, 1.0 / max(sigma, 1e-300)))
        else:
            sigma = float(item.sigma)
            sse = float(np.sum(r_k**2)) * sigma**2 / weight
            row_scales.append(np.ones(n))
        sigmas.append(sigma)
        log_likelihood += -0.5 * m * math.log(2 * math.pi * max(sigma, 1e-300) ** 2) - (
            0.0 if sse == 0 else sse / (2 * sigma**2)
        )
        sum_of_squares += weight * sse
        offset += n
        n_total += m
    jac = jac * np.concatenate(row_scales)[:, None]
    info = jac.T @ jac
    notes = []
    cov_u = np.linalg.pinv(info)
    if float(np.linalg.cond(info)) > 1e14:
        notes.append(
            "the curvature matrix is (near) singular: some parameters are not identifiable"
        )
    cov = jac_values @ cov_u @ jac_values.T
    se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = cov / np.outer(se, se)
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
        values=jax.device_put(values),
        standard_errors=jax.device_put(se),
        correlations=jax.device_put(corr),
        covariance=jax.device_put(cov),
        log_likelihood=jnp.asarray(log_likelihood),
        sum_of_squares=jnp.asarray(sum_of_squares),
        sigma=tuple(sigmas),
        n_samples=n_total,
        num_steps=num_steps,
        start_losses=losses,
        warnings=tuple(notes),
        cell_axes=None if axes is None else _plain_axes(axes),
        n_cells=None if axes is None else data_args[2].n_cells,
    )


class Evaluation(eqx.Module):
    """How well a model predicts data it may not have been fitted to (see
    [`membrax.fit.evaluate`][]). One entry per dataset:

    - `predictions`: the model's prediction of each dataset's values.
    - `residuals`: prediction − values (all samples; see `masks`).
    - `masks`: the samples that count (each dataset's `mask`).
    - `rms`: the root-mean-square residual over the counted samples.
    - `sigma`: σ of each dataset (given, or estimated as the RMS residual).
    - `log_likelihood`: the total Gaussian log-likelihood with those σ.
    """

    predictions: tuple
    residuals: tuple
    masks: tuple
    rms: tuple
    sigma: tuple
    log_likelihood: float


@eqx.filter_jit
def _predict(model, item, clamp):
    return item.predict(model, clamp)


def evaluate(model: PyTree, data, *, clamp: ExactClamp | None = None) -> Evaluation:
    """Predict recorded data with a (fitted) model and score the prediction: the validation
    step after a fit — e.g. fit to the sine-wave protocol, evaluate on an action-potential
    protocol recorded from the same cell.

    **Arguments:**

    - `model`: a membrax model (e.g. `result.model` of [`membrax.fit.fit`][]).
    - `data`: a [`membrax.fit.Trace`][], [`membrax.fit.IVCurve`][],
      [`membrax.fit.SteadyStateCurve`][] or a sequence of them.
    - `clamp`: the voltage-clamp solver (default `membrax.ExactClamp()`).

    **Returns:** a [`membrax.fit.Evaluation`][] with predictions, residuals, RMS and the
    Gaussian log-likelihood (σ as given by each dataset, else estimated from its residuals).
    """
    items = _as_data(data)
    clamp = ExactClamp() if clamp is None else clamp
    predictions, residuals, masks, rms, sigmas = [], [], [], [], []
    log_likelihood = 0.0
    for item in items:
        prediction = _predict(unwrap(model), item, clamp)
        residual = prediction - item.values
        mask = np.asarray(item.mask)
        r = np.asarray(residual)[mask]
        m = r.size
        root_mean_square = float(np.sqrt(np.mean(r**2)))
        sigma = root_mean_square if item.sigma is None else float(item.sigma)
        sigma = max(sigma, 1e-300)
        log_likelihood += -0.5 * m * math.log(2 * math.pi * sigma**2) - float(np.sum(r**2)) / (
            2 * sigma**2
        )
        predictions.append(prediction)
        residuals.append(residual)
        masks.append(item.mask)
        rms.append(root_mean_square)
        sigmas.append(sigma)
    return Evaluation(
        tuple(predictions),
        tuple(residuals),
        tuple(masks),
        tuple(rms),
        tuple(sigmas),
        log_likelihood,
    )
