"""Steady states: Newton with voltage continuation, implicit differentiation, I–V curves."""

from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import lineax as lx
from jaxtyping import Array, ArrayLike, Float

from .. import constants
from .._custom_types import float_array
from .._validation import check_array, check_scalar
from ._block_tridiagonal import BlockTridiagonal
from ._discretisation import (
    CURRENT_SCALE,
    FLUX_SCALE,
    cell_fluxes,
    donnan_guess,
    gross_fluxes,
    residual,
    residual_and_blocks,
    scales,
)
from ._newton import DampedNewton, newton_solve
from ._system import Bath, PNPSystem

# Immutable, so one default instance serves every call.
_NEWTON = DampedNewton()


class PNPSolution(NamedTuple):
    """A solution of a PNP problem (a steady state, or one time of a transient).

    **Fields:** (nodes = grid.cells + 1)

    - `potential`: φ at each node, mV.
    - `concentrations`: (species, nodes), mM.
    - `flux`: (species, cells), Scharfetter–Gummel flux density through each cell, left to
      right positive, µmol·cm⁻²·s⁻¹ (= nmol·cm⁻²·ms⁻¹).
    - `current_density`: (cells,), $F\\sum_k z_k J_k$, µA/cm², left to right positive.
    - `current`: the current into the right boundary, pA, left to right positive: the current
      density times the cross-section (grid.area in nm²) of the last cell. At a steady state
      without sources the flow of each species is the same through every cell, and it is
      read where it is computed most accurately (see `solution_from_state`).
    - `voltage`: the applied voltage, mV: φ(left) − φ(right) in excess of the two baths' own
      potentials (for an open-circuit solve, the voltage at which no current flows).
    """

    potential: Float[Array, " nodes"]
    concentrations: Float[Array, "species nodes"]
    flux: Float[Array, "species cells"]
    current_density: Float[Array, " cells"]
    current: Float[Array, ""]
    voltage: Float[Array, ""]


def solution_from_state(y, system: PNPSystem, steady: bool = True) -> PNPSolution:
    """Physical fields from the scaled unknowns y (nodes, 1 + species)."""
    s = scales(system)
    flux = cell_fluxes(y, system, s) * s.d_ref * s.c_ref * FLUX_SCALE
    density = constants.FARADAY * jnp.sum(system.valence[:, None] * flux, axis=0)
    area = system.grid.cell_areas
    current = density[-1] * area[-1] * CURRENT_SCALE
    if steady and system.source is None:
        # At a steady state without sources each species' flow A·J is the same through every
        # cell, but not equally well computed: where a species is abundant its net flux is a
        # small difference of two large one-way fluxes (a majority carrier next to an Ohmic
        # contact cancels to 1e-13 in a reverse-biased diode). Read each species' flow in the
        # cell where its one-way fluxes are smallest.
        best = jnp.argmin(gross_fluxes(y, system, s), axis=1)
        flows = flux[jnp.arange(flux.shape[0]), best] * area[best]
        current = constants.FARADAY * jnp.sum(system.valence * flows) * CURRENT_SCALE
    potential = y[:, 0] * s.vt
    offset = 0.0
    for sign, boundary in ((1.0, system.left), (-1.0, system.right)):
        if isinstance(boundary, Bath):
            offset = offset + sign * boundary.potential
    return PNPSolution(
        potential=potential,
        concentrations=y[:, 1:].T * s.c_ref,
        flux=flux,
        current_density=density,
        current=current,
        voltage=potential[0] - potential[-1] - offset,
    )


def _residual(y, args):
    system, voltage, open_circuit = args
    return residual(y, system, voltage, open_circuit)


def _residual_and_blocks(y, args):
    system, voltage, open_circuit = args
    return residual_and_blocks(y, system, voltage, open_circuit)


def _zero_tangent(primal, tangent):
    if tangent is None and eqx.is_inexact_array(primal):
        return jnp.zeros_like(primal)
    return tangent


@eqx.filter_custom_jvp
def implicit_root(y, system, voltage, open_circuit):
    """Returns `y` (a root of the residual, found without tracking derivatives) with the
    derivatives of the implicit function theorem: dy = −J⁻¹ (∂F/∂θ dθ), one block-tridiagonal
    solve (its transpose, in reverse mode) per derivative."""
    del system, voltage, open_circuit
    return y


@implicit_root.def_jvp
def _implicit_root_jvp(primals, tangents):
    y, system, voltage, open_circuit = primals
    _, t_system, t_voltage, _ = tangents
    y = jax.lax.stop_gradient(y)
    t_system = jtu.tree_map(_zero_tangent, system, t_system, is_leaf=lambda t: t is None)
    t_voltage = jnp.zeros_like(voltage) if t_voltage is None else t_voltage
    diff_system, static_system = eqx.partition(system, eqx.is_inexact_array)
    t_diff_system, _ = eqx.partition(t_system, eqx.is_inexact_array)

    def f(d, v):
        return residual(y, eqx.combine(d, static_system), v, open_circuit)

    _, rhs = jax.jvp(f, (diff_system, voltage), (t_diff_system, t_voltage))
    operator = lx.JacobianLinearOperator(
        lambda _y, args: residual(_y, args[0], args[1], open_circuit), y, (system, voltage)
    )
    t_y = -lx.linear_solve(operator, rhs, BlockTridiagonal()).value
    return y, t_y


def _open_circuit_estimate(system: PNPSystem):
    """A first estimate of the zero-current voltage, mV: each species' Nernst potential
    between the two baths, weighted by its conductance z²·D·c̄. Exact for a single salt (the
    Planck/Henderson diffusion potential) and for an equilibrium such as a p–n junction, where
    all species share one Nernst potential; otherwise only a starting point for Newton."""
    s = scales(system)
    c_l, c_r = system.left.concentrations, system.right.concentrations
    z = system.valence
    both = (c_l > 0) & (c_r > 0) & (z != 0)
    # ψ_right − ψ_left at which species k alone would be at equilibrium.
    nernst = jnp.log(jnp.where(both, c_l, 1.0) / jnp.where(both, c_r, 1.0)) / jnp.where(
        both, z, 1.0
    )
    weight = jnp.where(both, z * z * jnp.mean(system.diffusion, axis=1) * (c_l + c_r), 0.0)
    total = jnp.sum(weight)
    drop = jnp.sum(weight * nernst) / jnp.where(total > 0, total, 1.0)
    # voltage = φ_right(bath) − φ_left(bath) − V_T·(ψ_right − ψ_left)
    return system.right.potential - system.left.potential - s.vt * drop


def _check_voltage(where, voltage):
    voltage = check_array(where, "voltage", voltage, unit="mV")
    check_scalar(where, "voltage", voltage)
    return voltage


def _check_solvable(where, system):
    if not isinstance(system, PNPSystem):
        raise TypeError(f"{where}: system must be a PNPSystem, got {type(system).__name__}.")
    if not (isinstance(system.left, Bath) or isinstance(system.right, Bath)):
        raise ValueError(
            f"{where}: system has walls on both sides, so its steady state is not unique (the "
            "amount of each species is not fixed by any bath). Make one side a Bath, or use "
            "transient(...) to follow the closed system in time."
        )


class _Settings(NamedTuple):
    solver: DampedNewton
    max_steps: int
    voltage_step: float


def _continue(system, y, slope, v_start, v_target, solved, settings: _Settings):
    """Newton with continuation in voltage, without derivatives; returns
    (y, dy/dV, success).

    If `solved` is false, `y` is a guess and the first solve is at zero voltage with four
    times `max_steps` (one failure there is final). Then a converged state at `v_start` is
    moved to `v_target` (mV) by adaptive steps: a step that Newton cannot finish in
    `max_steps` iterations is retried four times shorter, a successful one lets the next be
    twice as long. Each step starts from the secant prediction y + (dy/dV)·ΔV, with dy/dV from
    the previous step (`slope`, zero at first), which saves about one Newton iteration per
    step along a smooth I–V curve. All of it is one loop around one Newton solver, so that it
    is compiled once per program.
    """
    system = jax.lax.stop_gradient(system)
    v_target = jax.lax.stop_gradient(v_target)
    dtype = y.dtype
    # Cap on attempts: enough to quarter a step ~25 times or to cross ±10 V in 100 mV steps.
    max_attempts = 120

    def cond(carry):
        _, _, v, step, attempts, solved, failed = carry
        busy = jnp.logical_not(solved) | (v != v_target)
        return busy & jnp.logical_not(failed) & (attempts < max_attempts) & (step > 1e-6)

    def body(carry):
        y, slope, v, step, attempts, solved, failed = carry
        remaining = v_target - v
        v_next = jnp.where(jnp.abs(remaining) <= step, v_target, v + jnp.sign(remaining) * step)
        v_try = jnp.where(solved, v_next, v)
        limit = jnp.where(solved, settings.max_steps, 4 * settings.max_steps)
        y_new, ok = newton_solve(
            _residual,
            y + slope * (v_try - v),
            (system, v_try, jnp.asarray(False)),
            max_steps=4 * settings.max_steps,
            step_limit=limit,
            solver=settings.solver,
            jacobian_blocks=_residual_and_blocks,
        )
        failed = jnp.logical_not(solved) & jnp.logical_not(ok)
        moved = ok & solved & (v_try != v)
        slope = jnp.where(moved, (y_new - y) / jnp.where(moved, v_try - v, 1.0), slope)
        y = jnp.where(ok, y_new, y)
        v = jnp.where(ok, v_try, v)
        step = jnp.where(ok | jnp.logical_not(solved), 2 * step, step / 4)
        step = jnp.where(solved, step, settings.voltage_step)
        return y, slope, v, step, attempts + 1, solved | ok, failed

    init = (
        y,
        slope,
        jnp.asarray(v_start, dtype),
        jnp.asarray(settings.voltage_step, dtype),
        0,
        jnp.asarray(solved),
        jnp.asarray(False),
    )
    y, slope, v, _, _, solved, _ = jax.lax.while_loop(cond, body, init)
    return y, slope, solved & (v == v_target)


_NOT_CONVERGED = (
    "{where}: Newton's method did not converge{at}. Check the inputs (e.g. very large fixed "
    "charge or surface charge on a coarse grid: refine the grid near it), or pass "
    "voltage_step smaller than {step} mV, or max_steps larger than {max_steps}."
)


def _fail(where, y, ok, settings: _Settings, at=""):
    message = _NOT_CONVERGED.format(
        where=where, at=at, step=settings.voltage_step, max_steps=settings.max_steps
    )
    return eqx.error_if(y, jnp.logical_not(ok), message)


def steady_state(
    system: PNPSystem,
    voltage: ArrayLike = 0.0,
    *,
    solver: DampedNewton = _NEWTON,
    max_steps: int = 40,
    voltage_step: float = 100.0,
) -> PNPSolution:
    r"""The steady state of a PNP system at an applied voltage.

    Solves $\partial_x(A J_k) = A S_k$ and Poisson's equation (see
    [`membrax.electrodiffusion.PNPSystem`][]) with `voltage` added to the left boundary's
    potential: first at zero voltage by damped Newton from a locally electroneutral (Donnan)
    guess, then by continuation in voltage (steps of at most `voltage_step` mV, shortened
    where Newton struggles), each step a damped Newton solve with block-tridiagonal linear
    algebra.

    Derivatives of every output with respect to any array in `system` (bath concentrations,
    fixed charge, diffusion coefficients, permittivity, temperature, ...) and `voltage` come
    from the implicit function theorem at the solution, not by differentiating the iterations.
    Runs under `jit`; `jax.vmap` over voltages gives an I–V curve (see also
    [`membrax.electrodiffusion.current_voltage`][], faster for many voltages).

    **Arguments:**

    - `system`: a [`membrax.electrodiffusion.PNPSystem`][] with a Bath on at least one side.
    - `voltage`: applied voltage, mV, a scalar: φ(left) − φ(right) beyond the baths' own
      potentials.
    - `solver`: a [`membrax.electrodiffusion.DampedNewton`][] (tolerances, damping).
    - `max_steps`: Newton iterations per continuation step (four times more for the first,
      zero-voltage solve).
    - `voltage_step`: first continuation step, mV.

    **Returns:** a [`membrax.electrodiffusion.PNPSolution`][].

    **Reference:** S. Selberherr, *Analysis and Simulation of Semiconductor Devices*
    (Springer, 1984), ch. 5–7 (box method, Scharfetter–Gummel, damped Newton);
    D. Chen, V. Barcilon & R. S. Eisenberg (1992), Biophys. J. 61:1372 (PNP for channels).
    """
    where = "steady_state"
    _check_solvable(where, system)
    voltage = _check_voltage(where, voltage)
    settings = _Settings(solver, max_steps, voltage_step)
    y0 = donnan_guess(jax.lax.stop_gradient(system), 0.0)
    y, _, ok = _continue(system, y0, jnp.zeros_like(y0), 0.0, voltage, False, settings)
    y = _fail(where, y, ok, settings)
    y = implicit_root(y, system, float_array(voltage), False)
    return solution_from_state(y, system)


def open_circuit_state(
    system: PNPSystem,
    *,
    solver: DampedNewton = _NEWTON,
    max_steps: int = 40,
) -> PNPSolution:
    r"""The steady state at which no current flows into the right bath (open circuit).

    The right bath's potential becomes an unknown, and the equation it replaces says that the
    current through the last cell vanishes, $\sum_k z_k J_k = 0$. Without sources the steady
    current is the same through every cell, so it vanishes everywhere: the solution's
    `voltage` is the zero-current (reversal) potential of the system, a diffusion or
    liquid-junction potential, or a membrane potential. Derivatives as in
    [`membrax.electrodiffusion.steady_state`][].

    **Arguments:** `system` with a Bath on both sides; `solver`, `max_steps` as in
    [`membrax.electrodiffusion.steady_state`][].

    **Returns:** a [`membrax.electrodiffusion.PNPSolution`][] whose `voltage` (mV) is
    φ(left) − φ(right) in excess of the baths' potentials, and whose `current` is 0.
    """
    where = "open_circuit_state"
    _check_solvable(where, system)
    if not (isinstance(system.left, Bath) and isinstance(system.right, Bath)):
        raise ValueError(
            f"{where}: needs a Bath on both sides (got {type(system.left).__name__} and "
            f"{type(system.right).__name__}); against a wall no current flows at any voltage."
        )
    settings = _Settings(solver, max_steps, 0.0)
    v_guess = _open_circuit_estimate(jax.lax.stop_gradient(system))
    y0 = donnan_guess(jax.lax.stop_gradient(system), v_guess)
    zero = jnp.zeros((), y0.dtype)
    vt = scales(system).vt

    # First a closed-circuit state at the estimated zero-current voltage (robust from the
    # guess), shifted so that the left bath sits at its own potential (a constant shift of φ
    # changes nothing else), then from it the open circuit: two Newton solves by one loop
    # body, so that the solver is compiled once.
    def solve(y, phase):
        open_circuit, voltage = phase
        y, ok = newton_solve(
            _residual,
            y,
            (system, voltage, open_circuit),
            max_steps=4 * max_steps,
            step_limit=4 * max_steps,
            solver=solver,
            jacobian_blocks=_residual_and_blocks,
        )
        return y.at[:, 0].add(-voltage / vt), ok

    phases = (jnp.array([False, True]), jnp.stack([v_guess, zero]))
    y, oks = jax.lax.scan(solve, y0, phases)
    y = _fail(where, y, jnp.all(oks), settings, " at zero current")
    y = implicit_root(y, system, zero, True)
    return solution_from_state(y, system)


def current_voltage(
    system: PNPSystem,
    voltages: ArrayLike,
    *,
    solver: DampedNewton = _NEWTON,
    max_steps: int = 40,
    voltage_step: float = 100.0,
) -> PNPSolution:
    r"""Steady states at many voltages (an I–V curve), by continuation along the sweep.

    The voltages are sorted; two branches start from the zero-voltage solution, one climbing
    through the positive voltages and one descending through the negative ones, each solve
    starting from its neighbour's solution (adaptive steps as in
    [`membrax.electrodiffusion.steady_state`][]). The two branches run together under
    `jax.vmap`. Results are returned in the order of `voltages`, with implicit-function
    derivatives as in `steady_state`. Same results as
    `jax.vmap(lambda v: steady_state(system, v))(voltages)`, in fewer Newton iterations.

    **Arguments:**

    - `system`: a [`membrax.electrodiffusion.PNPSystem`][].
    - `voltages`: applied voltages, mV, 1-D.
    - `solver`, `max_steps`, `voltage_step`: as in `steady_state`.

    **Returns:** a [`membrax.electrodiffusion.PNPSolution`][] whose fields have a leading
    axis over `voltages` (e.g. `.current` is the I–V curve in pA).
    """
    where = "current_voltage"
    _check_solvable(where, system)
    voltages = check_array(where, "voltages", voltages, unit="mV")
    if voltages.ndim != 1 or voltages.shape[0] == 0:
        raise ValueError(
            f"{where}: voltages must be 1-D and non-empty (mV), got shape {voltages.shape}."
        )
    settings = _Settings(solver, max_steps, voltage_step)
    y0 = donnan_guess(jax.lax.stop_gradient(system), 0.0)

    n = voltages.shape[0]
    v = jax.lax.stop_gradient(voltages)
    order = jnp.argsort(v)
    v_sorted = v[order]
    first_up = jnp.searchsorted(v_sorted, 0.0)  # first index with v >= 0
    j = jnp.arange(n)
    up_index, down_index = first_up + j, first_up - 1 - j
    up_valid, down_valid = up_index < n, down_index >= 0
    # Past its end a branch holds its last voltage, so its continuation loop does nothing.
    up_hold = jnp.where(first_up < n, v_sorted[-1], 0.0)
    down_hold = jnp.where(first_up > 0, v_sorted[0], 0.0)
    targets = jnp.stack(
        [
            jnp.where(up_valid, v_sorted[jnp.clip(up_index, 0, n - 1)], up_hold),
            jnp.where(down_valid, v_sorted[jnp.clip(down_index, 0, n - 1)], down_hold),
        ]
    )

    def branch(branch_targets):
        # Each branch first solves at zero voltage (both in the same batched loop, so this
        # costs no more than one), then follows its voltages.
        def sweep(carry, target):
            y, slope, v_now, solved, ok_all = carry
            y, slope, ok = _continue(system, y, slope, v_now, target, solved, settings)
            return (y, slope, target, jnp.asarray(True), ok_all & ok), y

        zero = jnp.zeros((), y0.dtype)
        init = (y0, jnp.zeros_like(y0), zero, jnp.asarray(False), jnp.asarray(True))
        (_, _, _, _, ok), ys = jax.lax.scan(sweep, init, branch_targets)
        return ys, ok

    ys, ok = jax.vmap(branch)(targets)  # (2, n, nodes, columns)
    # Sorted position p >= first_up is step p − first_up of the up branch, else step
    # first_up − 1 − p of the down branch.
    p = jnp.arange(n)
    from_up = p >= first_up
    step = jnp.where(from_up, p - first_up, first_up - 1 - p)
    y_sorted = jnp.where(from_up[:, None, None], ys[0][step], ys[1][step])
    y_all = jnp.zeros_like(y_sorted).at[order].set(y_sorted)
    y_all = _fail(where, y_all, jnp.all(ok), settings, " along the voltage sweep")
    y_all = jax.vmap(implicit_root, in_axes=(0, None, 0, None))(y_all, system, voltages, False)
    return jax.vmap(solution_from_state, in_axes=(0, None))(y_all, system)
