"""Voltage-clamp protocols as PyTrees: piecewise analytic (steps, ramps, sums of sines) and
sampled waveforms (zero-order hold), each knowing its sample times and discontinuities.

Every protocol answers three questions for the simulators:

- `voltage(t)`: the command potential (mV) at times t (ms);
- `sample_times`, `sample_voltages`: where the current is recorded, and the voltage there;
- `jump_times`: where the command is discontinuous (an ODE solver must stop there);

and `hold_grid(substeps)` describes it as piecewise constant for the exact solver.
"""

import abc
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Int

from .._custom_types import float_array


class HoldGrid(NamedTuple):
    """A protocol as piecewise-constant holds, for the exact solver.

    **Fields:**

    - `edges`: the times between holds, ms, shape (M + 1,), non-decreasing.
    - `voltages`: the voltage held on each interval [edges[k], edges[k+1]), mV, shape (M,).
    - `sample_index`: for each sample time, its position in `edges`, shape (N,); None when
      the edges are the sample times.
    """

    edges: Float[Array, " M+1"]
    voltages: Float[Array, " M"]
    sample_index: Int[Array, " N"] | None


class AbstractProtocol(eqx.Module):
    """A voltage-clamp command V(t), recorded at `sample_times`."""

    @abc.abstractmethod
    def voltage(self, t: ArrayLike) -> Float[Array, "..."]:
        """The command potential at times t (ms), in mV."""

    @property
    @abc.abstractmethod
    def sample_times(self) -> Float[Array, " N"]:
        """The times at which the current is recorded, ms."""

    @property
    @abc.abstractmethod
    def sample_voltages(self) -> Float[Array, " N"]:
        """The command potential at the sample times, mV."""

    @property
    @abc.abstractmethod
    def jump_times(self) -> Float[Array, " S"]:
        """The times at which V(t) is discontinuous, ms."""

    @abc.abstractmethod
    def hold_grid(self, substeps: int) -> HoldGrid:
        """The protocol as constant holds: exact where it is piecewise constant, else the
        exponential-midpoint approximation with `substeps` holds per sample interval."""


def _check_times(owner, name, times):
    t = np.asarray(times)
    if t.ndim != 1 or t.size < 1:
        raise ValueError(f"{owner}: {name} must be 1-D with at least one entry, got {t.shape}.")
    if not np.isfinite(t).all():
        raise ValueError(f"{owner}: {name} must be finite; remove NaN/inf.")
    step = np.diff(t)
    if (step <= 0).any():
        k = int(np.argmax(step <= 0))
        raise ValueError(
            f"{owner}: {name} must increase strictly, but {name}[{k + 1}] = "
            f"{t[k + 1].item()!r} ms follows {name}[{k}] = {t[k].item()!r} ms. Sort the "
            "samples by time (a protocol cannot go backwards in time) and drop duplicates."
        )


def _concrete(*xs):
    return not any(isinstance(x, jax.core.Tracer) for x in xs)


class SampledProtocol(AbstractProtocol):
    r"""A command sampled at discrete times and held between them (zero-order hold):
    $V(t) = v_k$ for $t_k \le t < t_{k+1}$. For recorded command voltages and action-potential
    clamp waveforms; the exact solver treats every hold exactly.

    **Arguments:**

    - `voltages`: $v_k$, mV, shape (N,).
    - `dt`: the sampling interval, ms, > 0 (uniform sampling from `t0`).
    - `t0`: the time of the first sample, ms (default 0).
    - `times`: instead of `dt`, the sample times themselves, ms, strictly increasing.

    The current is recorded at the sample times.
    """

    voltages: Float[Array, " N"]
    times: Float[Array, " N"]

    def __init__(
        self,
        voltages: ArrayLike,
        dt: ArrayLike | None = None,
        *,
        t0: ArrayLike = 0.0,
        times: ArrayLike | None = None,
    ):
        owner = "SampledProtocol"
        voltages = float_array(voltages)
        if voltages.ndim != 1 or voltages.size < 1:
            raise ValueError(
                f"{owner}: voltages must be 1-D with at least one sample, got shape "
                f"{voltages.shape}. For a family of sweeps, build one protocol per sweep."
            )
        if (dt is None) == (times is None):
            raise ValueError(f"{owner}: give exactly one of dt (uniform sampling) or times.")
        if times is None:
            dt = float_array(dt)
            if _concrete(dt) and not (np.isfinite(dt) and np.asarray(dt) > 0):
                raise ValueError(
                    f"{owner}: dt must be > 0 ms, got {np.asarray(dt).item()!r}. It is the "
                    "sampling interval (0.1 ms at 10 kHz)."
                )
            t0 = float_array(t0)
            if _concrete(t0, dt):
                # On the host: no program compiled for a recorded protocol's time axis.
                dtype = jnp.result_type(t0, dt)
                n = voltages.size
                times = jax.device_put(
                    np.asarray(t0, dtype) + np.asarray(dt, dtype) * np.arange(n, dtype=dtype)
                )
            else:
                times = t0 + dt * jnp.arange(voltages.size, dtype=dt.dtype)
        else:
            times = float_array(times)
            if times.shape != voltages.shape:
                raise ValueError(
                    f"{owner}: times has shape {times.shape} but voltages has "
                    f"{voltages.shape}; give one time per sample."
                )
        if _concrete(voltages) and not np.isfinite(np.asarray(voltages)).all():
            k = int(np.argmax(~np.isfinite(np.asarray(voltages))))
            raise ValueError(
                f"{owner}: voltages must be finite, got {float(voltages[k])!r} at index {k}. "
                "Remove NaN/inf samples from the command waveform."
            )
        if _concrete(times):
            _check_times(owner, "times", times)
        self.voltages = voltages
        self.times = times

    def voltage(self, t):
        k = jnp.searchsorted(self.times, jnp.asarray(t), side="right") - 1
        return self.voltages[jnp.clip(k, 0, self.voltages.size - 1)]

    @property
    def sample_times(self):
        return self.times

    @property
    def sample_voltages(self):
        return self.voltages

    @property
    def jump_times(self):
        return self.times[1:]

    def hold_grid(self, substeps=1):
        # The hold is exact: splitting a constant interval would change nothing.
        return HoldGrid(self.times, self.voltages[:-1], None)


class Step(NamedTuple):
    """A constant-voltage segment: `voltage` (mV) for `duration` (ms)."""

    voltage: float
    duration: float


class Ramp(NamedTuple):
    """A linear ramp from `v_start` to `v_end` (mV) over `duration` (ms)."""

    v_start: float
    v_end: float
    duration: float


class Sines(NamedTuple):
    r"""A sum of sinusoids for `duration` ms:
    $V = V_0 + \sum_j A_j \sin(\omega_j (t - t_\phi))$, with `offset` $V_0$ (mV),
    `amplitudes` $A_j$ (mV), `frequencies` $\omega_j$ (rad/ms) and `phase_origin` $t_\phi$
    (absolute time, ms; None: the segment's start)."""

    offset: float
    amplitudes: tuple
    frequencies: tuple
    duration: float
    phase_origin: float | None = None


class PiecewiseProtocol(AbstractProtocol):
    r"""A command built from consecutive segments — steps, ramps and sums of sines — recorded
    every `dt` ms from the start.

    On segment i (from $t_i$) $V(t) = V_i + s_i (t - t_i) + \sum_j A_{ij}\sin(\omega_{ij}(t -
    t_{\phi,i}))$: a [`Step`][membrax.protocols.Step] has only $V_i$, a
    [`Ramp`][membrax.protocols.Ramp] a slope, [`Sines`][membrax.protocols.Sines] the sum.
    Discontinuities are the segment boundaries.

    **Arguments:**

    - `segments`: a sequence of `Step`, `Ramp` and `Sines`.
    - `dt`: the sampling interval, ms, > 0.
    - `t0`: the start time, ms (default 0).

    Build families of sweeps (activation, inactivation, I–V) with
    [`membrax.protocols.step_family`][]: they stack into one batched protocol for `jax.vmap`.
    """

    starts: Float[Array, " S"]
    offsets: Float[Array, " S"]
    slopes: Float[Array, " S"]
    amplitudes: Float[Array, "S J"]
    frequencies: Float[Array, "S J"]
    phase_origins: Float[Array, " S"]
    t_end: Float[Array, ""]
    dt: Float[Array, ""]
    n_samples: int = eqx.field(static=True)

    def __init__(self, segments, *, dt: ArrayLike, t0: ArrayLike = 0.0):
        owner = "PiecewiseProtocol"
        segments = list(segments)
        if not segments:
            raise ValueError(f"{owner}: segments is empty; give at least one Step.")
        n_sines = max((len(s.amplitudes) for s in segments if isinstance(s, Sines)), default=0)
        starts, offsets, slopes, amps, freqs, origins = [], [], [], [], [], []
        t = float(t0)
        for k, seg in enumerate(segments):
            if not isinstance(seg, (Step, Ramp, Sines)):
                raise TypeError(
                    f"{owner}: segment {k} must be a membrax.protocols.Step, Ramp or Sines, "
                    f"got {type(seg).__name__} {seg!r}."
                )
            duration = float(seg.duration)
            if not (np.isfinite(duration) and duration > 0):
                raise ValueError(
                    f"{owner}: segment {k} ({type(seg).__name__}) has duration {duration!r} "
                    "ms; durations must be > 0 (a protocol cannot go backwards in time)."
                )
            a, w = np.zeros(n_sines), np.zeros(n_sines)
            slope, origin = 0.0, t
            if isinstance(seg, Step):
                offset = float(seg.voltage)
            elif isinstance(seg, Ramp):
                offset = float(seg.v_start)
                slope = (float(seg.v_end) - float(seg.v_start)) / duration
            else:
                if len(seg.amplitudes) != len(seg.frequencies):
                    raise ValueError(
                        f"{owner}: segment {k} (Sines) has {len(seg.amplitudes)} amplitudes "
                        f"but {len(seg.frequencies)} frequencies; give one of each per sine."
                    )
                offset = float(seg.offset)
                a[: len(seg.amplitudes)] = seg.amplitudes
                w[: len(seg.frequencies)] = seg.frequencies
                origin = t if seg.phase_origin is None else float(seg.phase_origin)
            starts.append(t)
            offsets.append(offset)
            slopes.append(slope)
            amps.append(a)
            freqs.append(w)
            origins.append(origin)
            t += duration
        dt_value = float(dt)
        if not (np.isfinite(dt_value) and dt_value > 0):
            raise ValueError(f"{owner}: dt must be > 0 ms, got {dt_value!r}.")
        self.starts = float_array(np.array(starts))
        self.offsets = float_array(np.array(offsets))
        self.slopes = float_array(np.array(slopes))
        self.amplitudes = float_array(np.array(amps).reshape(len(segments), n_sines))
        self.frequencies = float_array(np.array(freqs).reshape(len(segments), n_sines))
        self.phase_origins = float_array(np.array(origins))
        self.t_end = float_array(t)
        self.dt = float_array(dt_value)
        # Samples at t0 + k·dt strictly before the end (a relative tolerance absorbs the
        # rounding of (t_end − t0)/dt, e.g. 8000/0.1 = 79999.99999999999).
        self.n_samples = int(np.ceil((t - float(t0)) / dt_value * (1 - 1e-12)))

    def voltage(self, t):
        t = jnp.asarray(t)
        i = jnp.searchsorted(self.starts, t, side="right", method="compare_all") - 1
        i = jnp.clip(i, 0, self.starts.size - 1)
        phase = self.frequencies[i] * (t - self.phase_origins[i])[..., None]
        sines = jnp.sum(self.amplitudes[i] * jnp.sin(phase), axis=-1)
        return self.offsets[i] + self.slopes[i] * (t - self.starts[i]) + sines

    @property
    def sample_times(self):
        return self.starts[0] + self.dt * jnp.arange(self.n_samples, dtype=self.dt.dtype)

    @property
    def sample_voltages(self):
        return self.voltage(self.sample_times)

    @property
    def jump_times(self):
        return self.starts[1:]

    def hold_grid(self, substeps=1):
        if not isinstance(substeps, int) or substeps < 1:
            raise ValueError(f"hold_grid: substeps must be an int >= 1, got {substeps!r}.")
        samples = self.sample_times
        # Sub-steps are offsets from each sample time, so the sample times are edges exactly.
        offsets = (self.dt / substeps) * jnp.arange(substeps, dtype=self.dt.dtype)
        fine = jnp.append((samples[:-1, None] + offsets).ravel(), samples[-1])
        # Every discontinuity inside the recording becomes an edge, so each hold lies within
        # one segment: a step is then held exactly, a ramp or sine by its midpoint value.
        # The two sorted lists are merged by counting (a stable merge, fine edges first on
        # ties) rather than by sorting 10⁵ values: position = own index + how many of the
        # other list come first.
        jumps = jnp.clip(self.jump_times, samples[0], samples[-1])
        fine_pos = jnp.arange(fine.size) + jnp.searchsorted(
            jumps, fine, side="left", method="compare_all"
        )
        jump_pos = jnp.arange(jumps.size) + jnp.searchsorted(fine, jumps, side="right")
        edges = jnp.zeros(fine.size + jumps.size, fine.dtype)
        edges = edges.at[fine_pos].set(fine).at[jump_pos].set(jumps)
        mid = 0.5 * (edges[:-1] + edges[1:])
        return HoldGrid(edges, self.voltage(mid), fine_pos[::substeps])


def step_family(
    levels: ArrayLike, durations: ArrayLike, *, dt: ArrayLike, t0: ArrayLike = 0.0
) -> PiecewiseProtocol:
    """A family of step protocols sharing their timing, stacked for `jax.vmap`.

    **Arguments:**

    - `levels`: mV, shape (sweeps, segments): the voltage of every step of every sweep.
    - `durations`: ms, shape (segments,), > 0, shared by all sweeps.
    - `dt`, `t0`: as for [`membrax.protocols.PiecewiseProtocol`][].

    **Returns:** a `PiecewiseProtocol` whose array fields have a leading sweep axis; use
    `jax.vmap(lambda p: membrax.voltage_clamp(model, p))(family)`, or index one sweep with
    `jax.tree.map(lambda x: x[k], family)`.
    """
    levels = np.asarray(levels, dtype=float)
    durations = np.asarray(durations, dtype=float)
    if levels.ndim != 2 or durations.ndim != 1 or levels.shape[1] != durations.size:
        raise ValueError(
            "step_family: levels must have shape (sweeps, segments) and durations shape "
            f"(segments,); got {levels.shape} and {durations.shape}."
        )
    sweeps = [
        PiecewiseProtocol([Step(v, d) for v, d in zip(row, durations)], dt=dt, t0=t0)
        for row in levels
    ]
    return jax.tree.map(lambda *xs: jnp.stack(xs), *sweeps)


def activation_family(
    test_voltages: ArrayLike,
    *,
    holding: float,
    holding_duration: float,
    test_duration: float,
    tail_voltage: float | None = None,
    tail_duration: float = 0.0,
    dt: float,
) -> PiecewiseProtocol:
    """Steps from a holding potential to each test voltage (I–V and activation curves), with
    an optional common tail step (tail currents / isochronal activation). See `step_family`."""
    v = np.asarray(test_voltages, dtype=float).ravel()
    cols = [np.full_like(v, holding), v]
    durations = [holding_duration, test_duration]
    if tail_voltage is not None:
        cols.append(np.full_like(v, tail_voltage))
        durations.append(tail_duration)
    return step_family(np.stack(cols, axis=1), durations, dt=dt)


def inactivation_family(
    prepulse_voltages: ArrayLike,
    *,
    holding: float,
    holding_duration: float,
    prepulse_duration: float,
    test_voltage: float,
    test_duration: float,
    dt: float,
) -> PiecewiseProtocol:
    """Steady-state inactivation: a conditioning prepulse to each voltage, then a common test
    step. See `step_family`."""
    v = np.asarray(prepulse_voltages, dtype=float).ravel()
    cols = [np.full_like(v, holding), v, np.full_like(v, test_voltage)]
    return step_family(
        np.stack(cols, axis=1), [holding_duration, prepulse_duration, test_duration], dt=dt
    )


def deactivation_family(
    tail_voltages: ArrayLike,
    *,
    holding: float,
    holding_duration: float,
    activating_voltage: float,
    activating_duration: float,
    tail_duration: float,
    dt: float,
) -> PiecewiseProtocol:
    """Deactivation (and reversal-potential) tails: a common activating step, then a tail
    step to each voltage. See `step_family`."""
    v = np.asarray(tail_voltages, dtype=float).ravel()
    cols = [np.full_like(v, holding), np.full_like(v, activating_voltage), v]
    return step_family(
        np.stack(cols, axis=1), [holding_duration, activating_duration, tail_duration], dt=dt
    )


def beattie2018_sine_wave_protocol() -> PiecewiseProtocol:
    r"""The sinusoidal hERG protocol of Beattie et al. (2018), analytically: steps at −80,
    −120, −80, +40, −120, −80 mV, then for 3.5 s
    $V = -30 + 54\sin(0.007(t - 2500)) + 26\sin(0.037(t - 2500)) + 10\sin(0.19(t - 2500))$,
    then −120 and −80 mV; 8 s sampled every 0.1 ms (80 000 samples), every boundary (and the
    sines' phase) shifted by the digitiser's 0.1 ms, as in the recorded
    `sine_wave_protocol.mat`, which it reproduces sample by sample (to 2e-13 mV).

    **Reference:** K. A. Beattie et al. (2018), J. Physiol. 596:1813, doi:10.1113/JP275733;
    data github.com/mirams/sine-wave (CC-BY 4.0).
    """
    shift = 0.1
    segments = [
        Step(-80.0, 250.0 + shift),
        Step(-120.0, 50.0),
        Step(-80.0, 200.0),
        Step(40.0, 1000.0),
        Step(-120.0, 500.0),
        Step(-80.0, 1000.0),
        Sines(-30.0, (54.0, 26.0, 10.0), (0.007, 0.037, 0.19), 3500.0, 2500.0 + shift),
        Step(-120.0, 500.0),
        Step(-80.0, 1000.0 - shift),
    ]
    return PiecewiseProtocol(segments, dt=0.1)
