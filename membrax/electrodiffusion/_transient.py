"""Transients: the concentrations in time, Poisson solved at every instant, by diffrax."""

from typing import NamedTuple

import diffrax
import jax
import jax.numpy as jnp
import lineax as lx
from jaxtyping import Array, ArrayLike, Float

from .._validation import check_array, check_scalar
from ._discretisation import RATE_SCALE, coefficients, interior_rows, scales
from ._steady import PNPSolution, solution_from_state
from ._system import Bath, PNPSystem, Wall

# Immutable, so one default instance serves every call.
_KVAERNO3 = diffrax.Kvaerno3()


class PNPTransient(NamedTuple):
    """A PNP transient.

    **Fields:**

    - `ts`: the saved times, ms.
    - `states`: a [`membrax.electrodiffusion.PNPSolution`][] with a leading time axis
      (potential, concentrations, fluxes, currents at each saved time).
    - `amount`: (times, species), the amount of each species in the domain,
      $\\sum_i V_i c_i$ in mM·nm³ (1 mM·nm³ = 10⁻²⁷ mol ≈ 6.02×10⁻⁴ ions). Constant in a
      closed system (walls on both sides, no sources).
    """

    ts: Float[Array, " times"]
    states: PNPSolution
    amount: Float[Array, "times species"]


def _potential(c_hat, system: PNPSystem, voltage, s):
    """ψ given the scaled concentrations (nodes, species): Gauss's law is linear in ψ with a
    tridiagonal matrix, solved by lineax's tridiagonal solver."""
    k = coefficients(system, s)
    n = c_hat.shape[0]
    a = k.displacement
    diagonal = jnp.pad(a, (0, 1)) + jnp.pad(a, (1, 0))
    lower = -a  # coupling of node i + 1 to node i
    upper = -a
    charge = k.volume * jnp.sum(k.z * c_hat, axis=1) + k.fixed
    rhs = charge
    for index, boundary, extra in ((0, system.left, voltage), (n - 1, system.right, 0.0)):
        if isinstance(boundary, Bath):
            diagonal = diagonal.at[index].set(1.0)
            if index == 0:
                upper = upper.at[0].set(0.0)
            else:
                lower = lower.at[-1].set(0.0)
            rhs = rhs.at[index].set((boundary.potential + extra) / s.vt)
    if isinstance(system.left, Wall) and isinstance(system.right, Wall):
        # A closed system fixes φ only up to a constant (and conserves its net charge, so
        # Gauss's law at the last node follows from the others): ground the right wall.
        diagonal = diagonal.at[-1].set(1.0)
        lower = lower.at[-1].set(0.0)
        rhs = rhs.at[-1].set(0.0)
    operator = lx.TridiagonalLinearOperator(diagonal, lower, upper)
    return lx.linear_solve(operator, rhs, lx.Tridiagonal()).value


def _vector_field(t, c_hat, args):
    system, voltage = args
    s = scales(system)
    psi = _potential(c_hat, system, voltage, s)
    y = jnp.concatenate([psi[:, None], c_hat], axis=1)
    # Continuity rows are net outflow − production (d_ref·c_ref·nm units): divide by the
    # volume and restore the time unit (ms) to get dĉ/dt.
    rows = interior_rows(y, system, s)[:, 1:]
    rate = -rows / system.grid.node_volumes[:, None] * (s.d_ref * RATE_SCALE)
    for index, boundary in ((0, system.left), (-1, system.right)):
        if isinstance(boundary, Bath):
            rate = rate.at[index].set(0.0)  # a bath holds its concentrations
    del t
    return rate


def transient(
    system: PNPSystem,
    initial: ArrayLike,
    ts: ArrayLike,
    *,
    voltage: ArrayLike = 0.0,
    solver: diffrax.AbstractSolver = _KVAERNO3,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    max_steps: int = 100_000,
) -> PNPTransient:
    r"""Follow a PNP system in time from given concentrations.

    The state is the concentrations; at every instant the potential solves Gauss's law
    (linear in φ given the charges: one tridiagonal solve, lineax), and each node's
    concentrations change by the net Scharfetter–Gummel flux out of its control volume plus
    its sources. The finite-volume fluxes are antisymmetric between neighbours, so the amount
    of each species changes only through the boundaries and sources; the system is stiff
    (dielectric relaxation is fast), so it is integrated by an implicit, adaptive diffrax solver
    (Kvaerno3 by default, an L-stable ESDIRK method). Runge–Kutta methods preserve linear
    invariants, so the amounts are conserved to rounding (measured 1e-15 relative), not only to
    the tolerances. The Jacobian of the reduced system is dense (φ couples all nodes): meant
    for grids of up to a few hundred nodes.

    **Arguments:**

    - `system`: a [`membrax.electrodiffusion.PNPSystem`][] (walls on both sides allowed: a
      closed system, whose potential is grounded at the right wall).
    - `initial`: concentrations at t = ts[0], mM, (species, nodes), ≥ 0; values at Bath nodes
      are replaced by the bath's.
    - `ts`: increasing save times, ms (ions in water move a nanometre in ~10⁻⁹ ms).
    - `voltage`: applied voltage, mV, held from ts[0] on (added to the left bath's potential).
    - `solver`: an implicit diffrax solver.
    - `rtol`, `atol`: tolerances of the adaptive step (atol on concentrations scaled by the
      largest bath concentration or fixed charge), also used by the solver's Newton iteration.
      Much tighter values make the chord iteration of the stages fail and the steps shrink.
    - `max_steps`: cap on the number of time steps.

    **Returns:** a [`membrax.electrodiffusion.PNPTransient`][].
    """
    where = "transient"
    if not isinstance(system, PNPSystem):
        raise TypeError(f"{where}: system must be a PNPSystem, got {type(system).__name__}.")
    n = system.grid.cells + 1
    m = system.species
    initial = check_array(
        where,
        "initial",
        initial,
        unit="mM",
        nonnegative=True,
        fix="initial holds the concentrations at ts[0], mM, shape (species, nodes).",
    )
    if initial.shape != (m, n):
        raise ValueError(
            f"{where}: initial must have shape (species, nodes) = ({m}, {n}), got {initial.shape}."
        )
    ts = check_array(where, "ts", ts, unit="ms")
    if ts.ndim != 1 or ts.shape[0] < 2:
        raise ValueError(f"{where}: ts must be 1-D with at least 2 times (ms), got {ts.shape}.")
    voltage = check_array(where, "voltage", voltage, unit="mV")
    check_scalar(where, "voltage", voltage)
    s = scales(system)
    c0 = initial.T / s.c_ref
    for index, boundary in ((0, system.left), (-1, system.right)):
        if isinstance(boundary, Bath):
            c0 = c0.at[index].set(boundary.concentrations / s.c_ref)
    controller = diffrax.PIDController(rtol=rtol, atol=atol)
    solution = diffrax.diffeqsolve(
        diffrax.ODETerm(_vector_field),
        solver,
        t0=ts[0],
        t1=ts[-1],
        dt0=None,
        y0=c0,
        args=(system, voltage),
        saveat=diffrax.SaveAt(ts=ts),
        stepsize_controller=controller,
        max_steps=max_steps,
    )

    def state(c_hat):
        psi = _potential(c_hat, system, voltage, s)
        y = jnp.concatenate([psi[:, None], c_hat], axis=1)
        return solution_from_state(y, system, steady=False)

    states = jax.vmap(state)(solution.ys)
    amount = jnp.einsum("tnk,n->tk", solution.ys, system.grid.node_volumes) * s.c_ref
    return PNPTransient(ts=ts, states=states, amount=amount)
