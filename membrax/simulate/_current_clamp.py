r"""`current_clamp`: a point neuron driven by an injected current, by a fixed-step staggered
exponential integrator (the fast population path) or by diffrax; `steady_state`: the resting
state by root finding, differentiable by the implicit function theorem.

The fixed-step path ([`membrax.RushLarsen`][]) is a staggered (leapfrog) exponential
integrator. Gates live at half steps, V at whole steps:

1. V from $t_n$ to $t_{n+1}$ with the gates frozen at $x_{n+1/2}$: the membrane equation is
   then linear in V for ohmic channels, $C\dot V = I_\text{stim} - G(V - V_\infty)$, and is
   solved exactly, $V_{n+1} = V_n + \Delta t\,\frac{\bar I_\text{stim} - I(V_n)}{C}\,
   \varphi(G\Delta t/C)$ with $\varphi(z) = (1 - e^{-z})/z$ and $G = \partial I/\partial V$
   (by forward-mode differentiation: exact for ohmic channels, a linearisation for GHK ones);
   $\bar I_\text{stim}$ is the exact average of the stimulus over the step.
2. Gates from $t_{n+1/2}$ to $t_{n+3/2}$ exactly at the frozen $V_{n+1}$ (Rush–Larsen:
   $x_\infty + (x - x_\infty)e^{-\Delta t/\tau}$, or the matrix exponential of a Markov
   scheme). Where the state at a whole step is wanted (recorded states, the final state),
   the last half step is undone exactly at $V_{n+1}$.

Each half of the scheme is exact at the other's frozen value and the two interleave at
midpoints, so it is second order (like NEURON's staggered Crank–Nicolson) while staying
unconditionally stable: at the default Δt = 0.02 ms HH 1952 spike times agree with NEURON's
CVODE to < 0.03 ms over 100 ms of repetitive firing. Steps are grouped in blocks under
`jax.checkpoint`, so reverse-mode gradients store O(√T) states instead of O(T).
"""

import math
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx
from jaxtyping import Array, ArrayLike, Float, Int, PyTree

from .. import constants
from .._custom_types import float_array
from .._numerics import small_vecmat
from ..models._cell import CellState, PointCell
from ..models._gating import IndependentGates
from ..protocols._current import AbstractStimulus
from ._voltage_clamp import DiffraxClamp

#: The default time step of the fixed-step path, ms: HH 1952 spike times then agree with
#: CVODE to < 0.03 ms over 100 ms (0.04 ms at NEURON's 0.025 ms; the error falls as dt²).
DEFAULT_DT = 0.02


class RushLarsen(eqx.Module):
    """The fixed-step staggered exponential (Rush–Larsen) integrator: the fast path for
    populations, fused under `jit(vmap(...))`, memory O(cells + what is recorded).

    Works for any channel (Markov schemes step by their matrix exponential); it is exact for
    every gate at frozen V and for V at frozen gates with ohmic channels, second order
    overall. See the module docstring for the scheme.

    **Fields:**

    - `checkpoint_every`: steps per `jax.checkpoint` block (static). Reverse-mode gradients
      store the state once per block and recompute inside it, so memory grows like
      T/block + block; the default (None) picks ≈ √T, i.e. memory ∝ √T.
    - `unroll`: how many steps each loop iteration does (static, default 1). On GPUs
      `unroll=8` lets XLA fuse several steps per kernel: on an H100 it ran 10⁴–10⁶ HH cells
      1.4–6× faster, for ~10 s more compilation.
    """

    checkpoint_every: int | None = eqx.field(static=True, default=None)
    unroll: int = eqx.field(static=True, default=1)

    def __check_init__(self):
        for name in ("checkpoint_every", "unroll"):
            value = getattr(self, name)
            if value is None and name == "checkpoint_every":
                continue
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"RushLarsen: {name} must be an int >= 1, got {value!r}.")


class SaveTrace(eqx.Module):
    """Record the membrane potential every `every`-th step (and optionally the whole state).

    Memory is one value per recorded sample (times the state size with `states=True`).

    **Fields:**

    - `every`: keep one sample in `every` steps (static int ≥ 1, default 1: every step).
      Samples fall at t = 0, every·dt, 2·every·dt, … up to the end.
    - `states`: also record the full [`membrax.models.CellState`][] (default False).
    """

    every: int = eqx.field(static=True, default=1)
    states: bool = eqx.field(static=True, default=False)

    def __check_init__(self):
        if not isinstance(self.every, int) or isinstance(self.every, bool) or self.every < 1:
            raise ValueError(
                f"SaveTrace: every must be an int >= 1 (steps per sample), got {self.every!r}."
            )


class SaveSpikes(eqx.Module):
    """Record spikes only: upward crossings of `threshold`, timed by linear interpolation
    between the two steps around the crossing. Memory is `max_spikes` times plus a count.

    **Fields:**

    - `threshold`: mV (default 0).
    - `max_spikes`: how many spike times to keep (static int ≥ 0, default 64; 0 keeps only
      the count, the cheapest: storing a time costs a scatter per step). Later spikes are
      counted but their times dropped; unused slots hold +inf.

    Spike times are differentiable (through the interpolation), spike counts are not.
    """

    threshold: Float[Array, ""] = eqx.field(converter=float_array, default=0.0)
    max_spikes: int = eqx.field(static=True, default=64)

    def __check_init__(self):
        m = self.max_spikes
        if not isinstance(m, int) or isinstance(m, bool) or m < 0:
            raise ValueError(f"SaveSpikes: max_spikes must be an int >= 0, got {m!r}.")


class CurrentClampRecord(eqx.Module):
    """The result of [`membrax.current_clamp`][].

    **Fields:**

    - `ts`: the recorded times, ms, shape (S,) (None without a [`membrax.SaveTrace`][]).
    - `v`: the membrane potential there, mV, shape (S,) (None without a trace).
    - `states`: the [`membrax.models.CellState`][] at those times, every leaf with a leading
      axis S (None unless `SaveTrace(states=True)`).
    - `spike_times`: spike times, ms, shape (max_spikes,), +inf-padded (None without
      [`membrax.SaveSpikes`][]).
    - `spike_count`: the number of spikes, int (None without `SaveSpikes`).
    - `t_final`: the end time, ms (t1 rounded up to a whole number of steps).
    - `final`: the state at `t_final`, e.g. to continue a simulation (`y0=record.final`).
    - `result`: a `diffrax.RESULTS` (always successful on the fixed-step path).
    """

    ts: Float[Array, " S"] | None
    v: Float[Array, " S"] | None
    states: CellState | None
    spike_times: Float[Array, " M"] | None
    spike_count: Int[Array, ""] | None
    t_final: Float[Array, ""]
    final: CellState
    result: PyTree


# --- argument handling ------------------------------------------------------------------------


def _static_positive(name, value, fix):
    if isinstance(value, jax.core.Tracer):
        raise TypeError(
            f"current_clamp: {name} must be a Python number (it sets the number of steps), got "
            "a traced value. Vmap over cells or stimuli, not over t1 or dt."
        )
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"current_clamp: {name} must be a number, got {value!r}.")
    x = float(np.asarray(value))
    if not (np.isfinite(x) and x > 0):
        raise ValueError(f"current_clamp: {name} must be > 0 ms, got {x!r}. {fix}".rstrip())
    return x


def _static_number(name, value):
    if isinstance(value, jax.core.Tracer):
        raise TypeError(
            f"current_clamp: {name} must be a Python number (it sets the number of steps), got "
            "a traced value. Vmap over cells or stimuli, not over t0, t1 or dt."
        )
    x = float(np.asarray(value))
    if not np.isfinite(x):
        raise ValueError(f"current_clamp: {name} must be finite, got {x!r}.")
    return x


def _split_save(save):
    items = save if isinstance(save, (tuple, list)) else (save,)
    trace = spikes = None
    for item in items:
        if isinstance(item, SaveTrace) and trace is None:
            trace = item
        elif isinstance(item, SaveSpikes) and spikes is None:
            spikes = item
        else:
            raise TypeError(
                "current_clamp: save must be membrax.SaveTrace(...), membrax.SaveSpikes(...) or "
                f"a tuple of one of each, got {item!r}."
            )
    return trace, spikes


def _check_y0(cell, y0):
    if not isinstance(y0, CellState):
        raise TypeError(
            f"current_clamp: y0 must be a membrax.models.CellState (e.g. cell.initial_state() "
            f"or record.final), got {type(y0).__name__}."
        )
    if len(y0.channels) != len(cell.channels) or len(y0.ions) != len(cell.ions):
        raise ValueError(
            f"current_clamp: y0 has {len(y0.channels)} channel states and {len(y0.ions)} ion "
            f"concentrations, but the cell has {len(cell.channels)} channels and "
            f"{len(cell.ions)} ions."
        )
    _check_outside("current_clamp", "y0", cell, y0)
    for k, (ch, x) in enumerate(zip(cell.channels, y0.channels)):
        if jnp.shape(x)[-1:] != (ch.n_states,):
            raise ValueError(
                f"current_clamp: y0.channels[{k}] has shape {jnp.shape(x)}; channel {k} has "
                f"{ch.n_states} states."
            )


def _check_outside(where, name, cell, state):
    """A state's `ions_out` must hold a concentration exactly for the cell's shell ions."""
    shells = [ion.shell for ion in cell.ions]
    have = [c is not None for c in state.ions_out] if state.ions_out else [False] * len(shells)
    if len(have) != len(shells) or have != shells:
        expected = [ion.name for ion in cell.ions if ion.shell]
        raise ValueError(
            f"{where}: {name}.ions_out must hold a shell concentration for exactly the ions "
            f"with a shell_volume ({expected}) and None for the others, one entry per ion, got "
            f"{len(state.ions_out)} entries. Start from cell.initial_state()."
        )


def _shell_step(ion, current, c_out, dt):
    """The shell concentration after dt at a frozen current: exact, c∞ + (c − c∞)e^{−dt/τ}
    with c∞ = c_bath + kτI/(zF𝒱_o), so any dt is stable; a sealed shell (no τ) integrates
    the constant rate."""
    rate = ion.shell_rate(current, c_out)
    if ion.shell_tau is None:
        return c_out + dt * rate
    # rate = (c∞ − c)/τ, so c(dt) − c = (c∞ − c)(1 − e^{−dt/τ}) = −τ·rate·expm1(−dt/τ):
    # expm1 keeps the increment accurate for dt ≪ τ.
    return c_out - ion.shell_tau * rate * jnp.expm1(-dt / ion.shell_tau)


# --- the fixed-step path ----------------------------------------------------------------------


def _phi(z):
    r"""$\varphi(z) = (1 - e^{-z})/z$, φ(0) = 1, finite with finite gradients everywhere.

    Below |z| = 1e-2 the Taylor series $1 - z/2 + z^2/6 - z^3/24$ is exact to 1e-10 (the
    next term is z⁴/120); above it $1 - e^{-z}$ loses at most two digits to cancellation, so
    a plain `exp` (3× cheaper than `expm1` on XLA:CPU) suffices in float32 and float64. The
    double-`where` keeps the unused branch's gradient finite."""
    small = jnp.abs(z) < 1e-2
    safe = jnp.where(small, 1.0, z)
    taylor = 1.0 - z * (0.5 - z * (1 / 6 - z * (1 / 24)))
    return jnp.where(small, taylor, (1.0 - jnp.exp(-safe)) / safe)


def _apply(gating, x, m, c):
    if gating.diagonal:
        return x * m + c
    return small_vecmat(x, m) + c


def _split(gating, x):
    """The fixed-step path carries independent gates as one array per gate (struct of
    arrays): XLA then fuses a whole step into one loop over cells, where the (cells, gates)
    layout cost strided accesses and a transposition per step."""
    if isinstance(gating, IndependentGates) and gating.n_states:
        return tuple(x[..., k] for k in range(gating.n_states))
    return x


def _join(gating, xs):
    if isinstance(gating, IndependentGates) and gating.n_states:
        return jnp.stack(xs, axis=-1)
    return xs


def _gate_step(gating, xs, v, dt):
    """Propagate a (split) gating state over dt at frozen V."""
    if isinstance(gating, IndependentGates):
        # x∞ + (x − x∞)e^{−r·Δt}: the exact relaxation, with `exp` rather than the
        # propagator's `expm1` (the form never subtracts 1 from the exponential, so nothing
        # cancels, and exp is 3× cheaper on XLA:CPU).
        out = []
        for gate, x in zip(gating.gates, xs):
            x_inf, rate = gate.relaxation(v)
            out.append(x_inf + (x - x_inf) * jnp.exp(-rate * dt))
        return tuple(out)
    m, c = gating.propagator(v, dt)
    return _apply(gating, xs, m, c)


class _Carry(NamedTuple):
    v: Array  # V at t_n
    gates: tuple  # gating at t_{n + 1/2}
    ions: tuple  # concentrations at t_n
    ions_out: tuple  # shell concentrations at t_n (() without shells)
    step: Array  # n (int32)
    spike_count: Array | None
    spike_times: Array | None


def _make_step(cell, stimulus, t0, dt, spikes):
    dynamic = any(ion.dynamic or ion.shell for ion in cell.ions)

    def step(carry):
        v, gates, ions, ions_out = carry.v, carry.gates, carry.ions, carry.ions_out
        dtype = v.dtype
        t = t0 + carry.step.astype(dtype) * dt
        i_stim = jnp.asarray(stimulus.mean_current(t, dt)).astype(dtype)
        gating = tuple(_join(ch.gating, x) for ch, x in zip(cell.channels, gates))
        mid = CellState(v, gating, ions, ions_out)

        # I(V) and G = dI/dV at frozen gates in one forward-mode pass.
        def current(u):
            return cell.membrane_current(mid, u)

        i_m, g = jax.jvp(current, (v,), (jnp.ones_like(v),))
        # dt/C as a product with 1/C, which XLA hoists out of the loop: three divisions per
        # cell-step became one (with the Taylor constants of _phi, 4-5 % of an HH step).
        dt_c = dt * (1 / cell.capacitance)
        v_new = v + (i_stim - i_m) * dt_c * _phi(g * dt_c)
        if dynamic:
            # Concentrations move slowly: explicit midpoint-in-V (second order in V).
            v_mid = 0.5 * (v + v_new)
            ion_i = cell.ion_currents(mid, v_mid)
            ions = tuple(
                c + dt * ion.concentration_rate(i, c) for ion, i, c in zip(cell.ions, ion_i, ions)
            )
            ions_out = tuple(
                None if c is None else _shell_step(ion, i, c, dt)
                for ion, i, c in zip(cell.ions, ion_i, ions_out)
            )
        next_gates = []
        for ch, x in zip(cell.channels, gates):
            if ch.n_states == 0:
                next_gates.append(x)
            else:
                next_gates.append(_gate_step(ch.gating, x, v_new, dt))
        count, times = carry.spike_count, carry.spike_times
        if spikes is not None:
            theta = spikes.threshold.astype(dtype)
            crossed = (v < theta) & (v_new >= theta)
            if spikes.max_spikes:
                frac = (theta - v) / jnp.where(crossed, v_new - v, 1.0)
                t_cross = t + dt * frac
                slot = jnp.where(crossed, count, spikes.max_spikes)
                times = times.at[slot].set(t_cross, mode="drop")
            count = count + crossed.astype(count.dtype)
        new = _Carry(v_new, tuple(next_gates), ions, ions_out, carry.step + 1, count, times)
        return new

    return step


def _scan_steps(step, carry, length, unroll):
    """Advance `length` steps without recording."""
    if length == 1:
        return step(carry)
    return jax.lax.scan(
        lambda c, _: (step(c), None), carry, None, length=length, unroll=min(unroll, length)
    )[0]


def _block_size(n, target):
    """A divisor of n near `target` (so blocks tile n exactly: each distinct loop is one
    more copy of the step in the compiled program, and of its derivative), else `target`."""
    target = max(1, min(n, target))
    for d in range(target, max(1, target // 2) - 1, -1):
        if n % d == 0:
            return d
    for d in range(target + 1, min(n, 2 * target) + 1):
        if n % d == 0:
            return d
    return target


def _whole_state(cell, carry, dt):
    """The state at t_n from the carry, whose gates are at t_n + dt/2 after a half step at
    V_n: undo that half step (the exact inverse at fixed V)."""
    gates = []
    for ch, x in zip(cell.channels, carry.gates):
        if ch.n_states == 0:
            gates.append(x)
        elif isinstance(ch.gating, IndependentGates):
            back = []
            for gate, xk in zip(ch.gating.gates, x):
                x_inf, rate = gate.relaxation(carry.v)
                back.append(x_inf + (xk - x_inf) * jnp.exp(rate * (0.5 * dt)))
            gates.append(_join(ch.gating, tuple(back)))
        else:
            m, c = ch.gating.propagator(carry.v, -0.5 * dt)
            gates.append(_apply(ch.gating, x, m, c))
    return CellState(carry.v, tuple(gates), carry.ions, carry.ions_out)


def _rush_larsen(cell, stimulus, y0, t0, n_steps, dt, options, trace, spikes):
    """Returns the final carry and the recording buffers (None without a trace)."""
    dtype = y0.v.dtype
    step = _make_step(cell, stimulus, t0, dt, spikes)
    half = 0.5 * dt
    gates = []
    for ch, x in zip(cell.channels, y0.channels):
        if ch.n_states == 0:
            gates.append(x)
        else:
            m, c = ch.gating.propagator(y0.v, half)
            gates.append(_split(ch.gating, _apply(ch.gating, x, m, c)))
    count = times = None
    if spikes is not None:
        count = jnp.zeros((), jnp.int32)
        if spikes.max_spikes:
            times = jnp.full((spikes.max_spikes,), jnp.inf, dtype)
    carry = _Carry(
        y0.v,
        tuple(gates),
        tuple(y0.ions),
        tuple(y0.ions_out),
        jnp.zeros((), jnp.int32),
        count,
        times,
    )

    # Steps per checkpoint block ≈ √T (in whole samples when recording): reverse mode then
    # stores one state per block and recomputes inside it, memory ∝ T/block + block.
    block_steps = options.checkpoint_every or max(1, round(math.sqrt(n_steps)))

    def advance(c, length):
        return _scan_steps(step, c, length, options.unroll)

    if trace is None:
        per_block = _block_size(n_steps, block_steps)
        n_blocks, rest = divmod(n_steps, per_block)
        block = jax.checkpoint(lambda c: advance(c, per_block))
        carry = jax.lax.scan(lambda c, _: (block(c), None), carry, None, length=n_blocks)[0]
        if rest:
            carry = advance(carry, rest)
        return carry, None

    # Recording: a buffer of S + 1 samples written in place, block by block (no
    # concatenation, no transposition under vmap: memory ≈ the recorded output).
    every = trace.every
    n_samples = n_steps // every
    per_block = _block_size(n_samples, max(1, round(block_steps / every)))
    n_blocks, rest_samples = divmod(n_samples, per_block)
    rest_steps = n_steps - n_samples * every

    def sample(c, _):
        c = advance(c, every)
        return c, (_whole_state(cell, c, dt) if trace.states else c.v)

    block = jax.checkpoint(lambda c: jax.lax.scan(sample, c, None, length=per_block))
    first = y0 if trace.states else y0.v
    buffers = jax.tree.map(
        lambda x: jnp.zeros((n_samples + 1, *jnp.shape(x)), x.dtype).at[0].set(x), first
    )

    def write(buf, ys, start):
        return jax.tree.map(
            lambda b, y: jax.lax.dynamic_update_slice_in_dim(b, y, start, axis=0), buf, ys
        )

    def outer(state, j):
        c, buf = state
        c, ys = block(c)
        return (c, write(buf, ys, 1 + j * per_block)), None

    if n_blocks:
        (carry, buffers), _ = jax.lax.scan(
            outer, (carry, buffers), jnp.arange(n_blocks, dtype=jnp.int32)
        )
    if rest_samples:
        carry, ys = jax.lax.scan(sample, carry, None, length=rest_samples)
        buffers = write(buffers, ys, 1 + n_blocks * per_block)
    if rest_steps:
        carry = advance(carry, rest_steps)
    return carry, buffers


def _fixed_step(cell, stimulus, y0, t0, n_steps, dt, options, trace, spikes):
    carry, buffers = _rush_larsen(cell, stimulus, y0, t0, n_steps, dt, options, trace, spikes)
    return carry, _whole_state(cell, carry, dt), buffers


# --- the diffrax path -------------------------------------------------------------------------


def _diffrax(cell, stimulus, y0, t0, n_steps, dt, options, trace, spikes):
    import diffrax  # imported when used: 0.13 s that the fixed-step path does not need

    t_end = t0 + n_steps * dt
    every = trace.every if trace is not None else 1
    # Spikes are timed on the dt grid; a trace may be coarser.
    grid_every = 1 if spikes is not None else every
    n_grid = n_steps // grid_every
    ts = t0 + jnp.arange(n_grid + 1, dtype=y0.v.dtype) * (grid_every * dt)
    if n_steps % grid_every:
        ts = jnp.append(ts, t_end)

    # Diffrax's solvers cannot carry zero-size arrays (a leak's empty gating state) or empty
    # subtrees (a cell without ions): solve for the flat tuple of non-empty leaves and
    # rebuild the state around the vector field.
    leaves, treedef = jax.tree.flatten(y0)
    keep = [k for k, x in enumerate(leaves) if jnp.size(x)]

    def pack(state):
        flat = jax.tree.leaves(state)
        return tuple(flat[k] for k in keep)

    def unpack(y):
        batch = jnp.shape(y[0])[: jnp.ndim(y[0]) - jnp.ndim(leaves[keep[0]])]
        flat = [jnp.zeros((*batch, *jnp.shape(x)), x.dtype) for x in leaves]
        for k, x in zip(keep, y):
            flat[k] = x
        return jax.tree.unflatten(treedef, flat)

    def vector_field(t, y, args):
        return pack(cell.derivative(unpack(y), stimulus.current(t)))

    jumps = jnp.ravel(jnp.asarray(stimulus.jump_times, y0.v.dtype))
    jumps = jnp.where(jnp.isfinite(jumps), jumps, t_end)
    solver = diffrax.Tsit5() if options.solver is None else options.solver
    adjoint = diffrax.RecursiveCheckpointAdjoint() if options.adjoint is None else options.adjoint
    controller = diffrax.ClipStepSizeController(
        diffrax.PIDController(rtol=options.rtol, atol=options.atol), jump_ts=jumps
    )
    solution = diffrax.diffeqsolve(
        diffrax.ODETerm(vector_field),
        solver,
        t0=t0,
        t1=t_end,
        dt0=options.dt0,
        y0=pack(y0),
        saveat=diffrax.SaveAt(ts=ts),
        stepsize_controller=controller,
        adjoint=adjoint,
        max_steps=options.max_steps,
        throw=False,
    )
    ys = unpack(solution.ys)
    final = jax.tree.map(lambda x: x[-1], ys)
    spike_count = spike_times = None
    if spikes is not None:
        spike_count, spike_times = _grid_spikes(solution.ts, ys.v, spikes)
    out_ts = out_v = out_states = None
    if trace is not None:
        keep = slice(None, None, every // grid_every)
        n_keep = n_steps // every + 1
        out_ts = solution.ts[keep][:n_keep]
        out_v = ys.v[keep][:n_keep]
        if trace.states:
            out_states = jax.tree.map(lambda x: x[keep][:n_keep], ys)
    return out_ts, out_v, out_states, spike_times, spike_count, final, solution.result


def _grid_spikes(ts, vs, spikes):
    theta = spikes.threshold.astype(vs.dtype)
    v0, v1 = vs[:-1], vs[1:]
    crossed = (v0 < theta) & (v1 >= theta)
    count = jnp.sum(crossed.astype(jnp.int32))
    if not spikes.max_spikes:
        return count, None
    frac = (theta - v0) / jnp.where(crossed, v1 - v0, 1.0)
    t_cross = ts[:-1] + (ts[1:] - ts[:-1]) * frac
    order = jnp.cumsum(crossed) - 1
    slot = jnp.where(crossed, order, spikes.max_spikes)
    times = jnp.full((spikes.max_spikes,), jnp.inf, vs.dtype)
    times = times.at[slot].set(t_cross, mode="drop")
    return count, times


# --- the entry point --------------------------------------------------------------------------


def current_clamp(
    cell: PointCell,
    stimulus: AbstractStimulus,
    *,
    t1: float,
    dt: float | None = None,
    t0: float = 0.0,
    solver: RushLarsen | DiffraxClamp | None = None,
    save: SaveTrace | SaveSpikes | tuple | None = None,
    y0: CellState | None = None,
) -> CurrentClampRecord:
    r"""Simulate a point neuron under current clamp from `t0` (default 0) to `t1`.

    $C\,dV/dt = I_\text{stim}(t) - I_\text{membrane}$, the stimulus positive into the cell.

    **Arguments:**

    - `cell`: a [`membrax.models.PointCell`][] (e.g. [`membrax.models.hh1952_cell`][]).
    - `stimulus`: a current-clamp stimulus ([`membrax.CurrentStep`][],
      [`membrax.protocols.CurrentTrain`][], [`membrax.protocols.SampledCurrent`][], …), in
      the cell's current units (µA/cm² for density cells, pA for whole-cell ones).
    - `t1`: the end time, ms, > `t0` (a Python number; rounded up to a whole number of steps).
    - `dt`: the time step of [`membrax.RushLarsen`][], or the output grid of
      [`membrax.DiffraxClamp`][] (which steps adaptively), ms, > 0 (default 0.02).
    - `solver`: `membrax.RushLarsen()` (the default: fixed step, second order, the fast
      population path) or `membrax.DiffraxClamp(...)` (adaptive, any tolerance; it stops at
      every stimulus discontinuity).
    - `save`: what to record: [`membrax.SaveTrace`][] (the default, None: V at every step),
      [`membrax.SaveSpikes`][] (spike times and count only), or a tuple of both.
    - `t0`: the start time, ms (default 0), on the stimulus' clock.
    - `y0`: the initial [`membrax.models.CellState`][] (default `cell.initial_state()`; pass
      `record.final` with `t0=record.t_final` to continue a run).

    **Returns:** a [`membrax.CurrentClampRecord`][] with `.ts` (ms), `.v` (mV), `.states`,
    `.spike_times`, `.spike_count` and `.final`.

    Runs under `jit`, `grad` (w.r.t. any float field of the cell or stimulus) and `vmap`
    (over cells and stimuli: `jax.vmap(lambda c: current_clamp(c, stim, t1=100.0))(cells)`);
    see [`membrax.simulate_population`][] to spread a population over every device.
    """
    if not isinstance(cell, PointCell):
        raise TypeError(
            f"current_clamp: cell must be a membrax.models.PointCell (e.g. "
            f"membrax.models.hh1952_cell()), got {type(cell).__name__}."
        )
    if not isinstance(stimulus, AbstractStimulus):
        raise TypeError(
            "current_clamp: stimulus must be a current-clamp stimulus such as "
            f"membrax.CurrentStep(amplitude, start, duration), got {type(stimulus).__name__}."
        )
    t0 = _static_number("t0", t0)
    duration = _static_positive(
        "t1 - t0", _static_number("t1", t1) - t0, "t1 is the end time, after t0 (default 0)."
    )
    dt = DEFAULT_DT if dt is None else _static_positive("dt", dt, "It is the time step.")
    if solver is None:
        solver = RushLarsen()
    if not isinstance(solver, (RushLarsen, DiffraxClamp)):
        raise TypeError(
            "current_clamp: solver must be membrax.RushLarsen() or membrax.DiffraxClamp(), got "
            f"{type(solver).__name__}."
        )
    trace, spikes = _split_save(SaveTrace() if save is None else save)
    # Whole steps up to t1; a relative tolerance absorbs rounding (100/0.025 = 4000.0000001).
    n_steps = max(1, math.ceil(duration / dt * (1 - 1e-12)))
    if y0 is None:
        y0 = cell.initial_state()
    else:
        _check_y0(cell, y0)
    return _solve(cell, stimulus, y0, t0, n_steps, dt, solver, trace, spikes)


# One compiled program per cell structure and options (t1, dt and the options are static):
# called eagerly, current_clamp compiles once instead of dispatching each scan separately.
@eqx.filter_jit
def _solve(cell, stimulus, y0, t0, n_steps, dt, solver, trace, spikes):
    dtype = jnp.result_type(y0.v, float)
    y0 = jax.tree.map(lambda x: jnp.asarray(x, dtype), y0)
    t_final = jnp.asarray(t0 + n_steps * dt, dtype)

    if isinstance(solver, DiffraxClamp):
        ts, v, states, spike_times, spike_count, final, result = _diffrax(
            cell, stimulus, y0, t0, n_steps, dt, solver, trace, spikes
        )
        return CurrentClampRecord(ts, v, states, spike_times, spike_count, t_final, final, result)

    carry, final, buffers = _fixed_step(cell, stimulus, y0, t0, n_steps, dt, solver, trace, spikes)
    ts = v = states = None
    if trace is not None:
        n_samples = n_steps // trace.every
        ts = t0 + jnp.arange(n_samples + 1, dtype=dtype) * jnp.asarray(trace.every * dt, dtype)
        if trace.states:
            states, v = buffers, buffers.v
        else:
            v = buffers
    spike_times = carry.spike_times if spikes is not None else None
    spike_count = carry.spike_count if spikes is not None else None
    import diffrax  # for its RESULTS only, once traced

    return CurrentClampRecord(
        ts, v, states, spike_times, spike_count, t_final, final, diffrax.RESULTS.successful
    )


# --- steady state -----------------------------------------------------------------------------


def steady_state(
    cell: PointCell,
    *,
    current: ArrayLike = 0.0,
    guess: CellState | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    max_steps: int = 256,
) -> CellState:
    r"""The resting (steady) state of a cell under a constant injected `current`, by Newton's
    method on the reduced system, differentiable by the implicit function theorem.

    Gates are eliminated (each at its steady state at V), leaving V and the dynamic ion
    concentrations: $I_\text{stim} = I_\text{membrane}(V, x_\infty(V), c)$ and
    $dc/dt = 0$. For a cell whose every current is carried by dynamic ions (`cell.closed`),
    $dV/dt = 0$ follows from $dc/dt = 0$ and is replaced by the conservation of charge
    (`cell.charge_content`, fixed by `guess`, default the initial state): the steady state
    the cell reaches from there. Likewise an ion with both a `volume` and a sealed shell (no
    `shell_tau`) keeps $c_\text{in}\mathcal{V} + c_o\mathcal{V}_o$ of `guess`; a shell with a
    `shell_tau` settles where its inflow balances the exchange with the bath. Equal to the
    long-time current-clamp state.

    **Arguments:**

    - `cell`: a [`membrax.models.PointCell`][].
    - `current`: a constant injected current, cell units (default 0).
    - `guess`: where Newton starts (default `cell.initial_state()`).
    - `rtol`, `atol`: Newton's tolerances on V (mV) and concentrations (mM) (defaults 1e-10
      in float64, ~1e-5 in float32).
    - `max_steps`: Newton's step budget.

    **Returns:** the [`membrax.models.CellState`][] at rest: `.v` is the resting potential
    (mV). `jax.grad` through it, e.g. $dV_\text{rest}/d[\text{K}^+]_o$, uses implicit
    differentiation (no unrolled iterations).
    """
    if not isinstance(cell, PointCell):
        raise TypeError(f"steady_state: cell must be a membrax.models.PointCell, got {cell!r}.")
    guess = cell.initial_state() if guess is None else guess
    if not isinstance(guess, CellState):
        raise TypeError(
            "steady_state: guess must be a membrax.models.CellState (e.g. "
            f"cell.initial_state()), got {type(guess).__name__}."
        )
    _check_outside("steady_state", "guess", cell, guess)
    dtype = jnp.result_type(guess.v, float)
    eps = float(jnp.finfo(dtype).eps)
    rtol = max(1e-10, 100 * eps) if rtol is None else rtol
    atol = max(1e-10, 100 * eps) if atol is None else atol
    current = float_array(current).astype(dtype)
    return _steady(cell, current, guess, float(rtol), float(atol), int(max_steps))


# Compiled once per cell structure: a fresh residual closure per call would otherwise miss
# optimistix's compilation cache every time.
@eqx.filter_jit
def _steady(cell, current, guess, rtol, atol, max_steps):
    dtype = jnp.result_type(guess.v, float)
    dynamic = [k for k, ion in enumerate(cell.ions) if ion.dynamic]
    shells = [k for k, ion in enumerate(cell.ions) if ion.shell]
    closed = cell.closed

    def content(k, c_in, c_out):
        # Amount of a sealed-shell ion in the cell and its shell (mM·µm or mM·µm³).
        ion = cell.ions[k]
        return c_in * ion.volume + c_out * ion.shell_volume

    sealed = {
        k: content(k, guess.ions[k], guess.ions_out[k])
        for k in shells
        if cell.ions[k].dynamic and cell.ions[k].shell_tau is None
    }

    # Unknowns: V and the logarithm of each dynamic concentration, inside and in the shells
    # (positive by construction, so Newton cannot step to a negative concentration and a NaN
    # logarithm).
    def full_state(y):
        v, log_c, log_c_out = y
        ions = list(guess.ions)
        for k, lc in zip(dynamic, log_c):
            ions[k] = jnp.exp(lc)
        ions_out = list(guess.ions_out)
        for k, lc in zip(shells, log_c_out):
            ions_out[k] = jnp.exp(lc)
        return CellState(v, cell.steady_gating(v), tuple(ions), tuple(ions_out))

    def charge_change(y):
        # (cell.charge_content(state) − cell.charge_content(guess)) / content scale, summed
        # term by term from differences (c − c₀ = c₀·expm1(ln c − ln c₀)). Relative to the
        # sum of the terms' magnitudes because that sum, not C·V, sets its rounding: ~20× C·V
        # for a thin cell, where float32 Newton stalled at the ulp of the content (2e-4)
        # above its absolute tolerance and never converged.
        v, log_c, _ = y
        v0 = jnp.asarray(guess.v, dtype)
        change = cell.capacitance * (v - v0)
        scale = jnp.abs(cell.capacitance * v0)
        for k, lc in zip(dynamic, log_c):
            per_mm, c0 = cell.ions[k].charge_per_mm, jnp.asarray(guess.ions[k], dtype)
            change = change - per_mm * c0 * jnp.expm1(lc - jnp.log(c0))
            scale = scale + jnp.abs(per_mm * c0)
        return change / scale

    def residual(y, args):
        # In current units throughout: the net membrane current (or the charge balance of a
        # closed cell), and each dynamic ion's current, zero when its concentration is still.
        state = full_state(y)
        if closed:
            dv = charge_change(y)
        else:
            dv = cell.membrane_current(state) - current
        i_ions = cell.ion_currents(state)
        r_out = []
        for k in shells:
            ion, c_out = cell.ions[k], state.ions_out[k]
            if k in sealed:
                # Both sides want I = 0: the ion's content closes the system instead
                # (relative, for the same reason as charge_change).
                r_out.append(content(k, state.ions[k], c_out) / sealed[k] - 1.0)
            else:
                # zF𝒱_o/k · dc_o/dt: current units, like the other residuals.
                scale = ion.valence * constants.FARADAY * ion.shell_volume / ion.flux_scale
                r_out.append(scale * ion.shell_rate(i_ions[k], c_out))
        return dv, tuple(i_ions[k] for k in dynamic), tuple(r_out)

    y0 = (
        jnp.asarray(guess.v, dtype),
        tuple(jnp.log(jnp.asarray(guess.ions[k], dtype)) for k in dynamic),
        tuple(jnp.log(jnp.asarray(guess.ions_out[k], dtype)) for k in shells),
    )
    solution = optx.root_find(
        residual, optx.Newton(rtol=rtol, atol=atol), y0, max_steps=max_steps, throw=True
    )
    return full_state(solution.value)
