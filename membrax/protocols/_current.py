"""Current-clamp stimuli as PyTrees: steps, pulse trains and sampled waveforms, each knowing
its discontinuities.

Every stimulus answers three questions for the simulators:

- `current(t)`: the injected current at times t (ms), in the cell's current units (µA/cm² for
  a density cell, pA for a whole-cell one); positive current flows *into* the cell and
  depolarises it (NEURON's `IClamp` convention), while membrane currents are outward positive;
- `mean_current(t, dt)`: the average of `current` over [t, t + dt], exact for every stimulus
  here, so that a fixed-step solver delivers the right charge even when an edge falls inside
  a step;
- `jump_times`: where the current is discontinuous (an adaptive ODE solver must stop there).

Amplitudes and times are float-array fields, so a family of stimuli is one stacked PyTree
for `jax.vmap` (e.g. `jax.vmap(lambda a: CurrentStep(a, 10.0, 80.0))(amplitudes)`).
"""

import abc

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .._custom_types import float_array


def _concrete(*xs):
    return not any(isinstance(x, jax.core.Tracer) for x in xs)


def _check(owner, name, value, *, rule="", ok=None, fix=""):
    """A clear `ValueError` for a concrete field that is not finite or breaks `ok`."""
    if not _concrete(value):
        return
    a = np.asarray(value)
    bad = ~np.isfinite(a)
    what = "finite"
    if ok is not None and not bad.any():
        bad = ~ok(a)
        what = rule
    if bad.any():
        shown = repr(a[bad].ravel()[0].item())
        if a.ndim:
            shown += f" at index {int(np.argmax(bad.ravel()))}"
        raise ValueError(f"{owner}: {name} must be {what}, got {shown}. {fix}".rstrip())


class AbstractStimulus(eqx.Module):
    """An injected current I(t), positive into the cell, in the cell's current units."""

    @abc.abstractmethod
    def current(self, t: ArrayLike) -> Float[Array, "..."]:
        """The injected current at times t (ms)."""

    @property
    @abc.abstractmethod
    def jump_times(self) -> Float[Array, " S"]:
        """The times at which I(t) is discontinuous, ms (any order, duplicates allowed)."""

    def mean_current(self, t: ArrayLike, dt: ArrayLike) -> Float[Array, "..."]:
        """The average current over [t, t + dt] (dt in ms, > 0). This default is the
        midpoint rule, exact for stimuli constant over the interval; concrete stimuli with
        edges override it with the exact average."""
        return self.current(jnp.asarray(t) + 0.5 * jnp.asarray(dt))


def _overlap(t, dt, start, duration):
    """The length of [t, t + dt] ∩ [start, start + duration], ms."""
    lo = jnp.clip(t - start, 0.0, duration)
    hi = jnp.clip(t + dt - start, 0.0, duration)
    return hi - lo


class CurrentStep(AbstractStimulus):
    r"""A rectangular current step: $I(t) = A$ for $t_0 \le t < t_0 + d$, else 0.

    **Fields:**

    - `amplitude`: $A$, in the cell's current units (µA/cm² or pA); positive depolarises.
    - `start`: $t_0$, ms.
    - `duration`: $d$, ms, ≥ 0 (use `jnp.inf` for a step that never ends).

    A vmappable family: `jax.vmap(lambda a: CurrentStep(a, 10.0, 80.0))(jnp.array([...]))`.
    """

    amplitude: Float[Array, ""] = eqx.field(converter=float_array)
    start: Float[Array, ""] = eqx.field(converter=float_array)
    duration: Float[Array, ""] = eqx.field(converter=float_array)

    def __check_init__(self):
        _check("CurrentStep", "amplitude", self.amplitude)
        _check("CurrentStep", "start", self.start, fix="start is the onset time in ms.")
        if _concrete(self.duration):
            d = np.asarray(self.duration)
            bad = np.isnan(d) | (d < 0)
            if bad.any():
                raise ValueError(
                    f"CurrentStep: duration must be >= 0 ms, got {d[bad].ravel()[0].item()!r}. "
                    "duration is the length of the step in ms (a step cannot end before it "
                    "starts); use jnp.inf for a step that never ends."
                )

    def current(self, t):
        t = jnp.asarray(t)
        on = (t >= self.start) & (t - self.start < self.duration)
        return jnp.where(on, self.amplitude, jnp.zeros((), self.amplitude.dtype))

    def mean_current(self, t, dt):
        dt = jnp.asarray(dt)
        return self.amplitude * _overlap(jnp.asarray(t), dt, self.start, self.duration) / dt

    @property
    def jump_times(self):
        return jnp.stack([self.start, self.start + self.duration])


class CurrentTrain(AbstractStimulus):
    r"""A train of `count` identical rectangular pulses: pulse k (0 ≤ k < count) is
    $A$ on $[t_0 + kT, t_0 + kT + d)$.

    **Fields:**

    - `amplitude`: $A$, in the cell's current units; positive depolarises.
    - `start`: $t_0$, the onset of the first pulse, ms.
    - `duration`: $d$, the width of each pulse, ms, > 0 and ≤ `period`.
    - `period`: $T$, ms, > 0 (the inverse of the pulse frequency).
    - `count`: the number of pulses (static int ≥ 1: it sets the number of jump times).
    """

    amplitude: Float[Array, ""] = eqx.field(converter=float_array)
    start: Float[Array, ""] = eqx.field(converter=float_array)
    duration: Float[Array, ""] = eqx.field(converter=float_array)
    period: Float[Array, ""] = eqx.field(converter=float_array)
    count: int = eqx.field(static=True)

    def __check_init__(self):
        owner = "CurrentTrain"
        _check(owner, "amplitude", self.amplitude)
        _check(owner, "start", self.start)
        _check(
            owner,
            "duration",
            self.duration,
            rule="> 0 ms",
            ok=lambda a: a > 0,
            fix="duration is the width of each pulse in ms.",
        )
        _check(
            owner,
            "period",
            self.period,
            rule="> 0 ms",
            ok=lambda a: a > 0,
            fix="period is the time between pulse onsets in ms (1000/frequency in Hz).",
        )
        if (
            _concrete(self.duration, self.period)
            and (np.asarray(self.duration) > np.asarray(self.period)).any()
        ):
            raise ValueError(
                f"CurrentTrain: duration ({np.asarray(self.duration).ravel()[0]!r} ms) must "
                f"not exceed period ({np.asarray(self.period).ravel()[0]!r} ms): pulses would "
                "overlap. Shorten the pulses or lengthen the period."
            )
        if not isinstance(self.count, int) or isinstance(self.count, bool) or self.count < 1:
            raise ValueError(f"CurrentTrain: count must be an int >= 1, got {self.count!r}.")

    def _charge_time(self, t):
        # Time spent inside pulses between the train's start and t: whole periods before t
        # contribute d each, the current period min(phase, d).
        s = jnp.clip(t - self.start, 0.0, self.count * self.period)
        k = jnp.floor(s / self.period)
        return k * self.duration + jnp.minimum(s - k * self.period, self.duration)

    def current(self, t):
        t = jnp.asarray(t)
        s = t - self.start
        k = jnp.floor(s / self.period)
        on = (s >= 0) & (k < self.count) & (s - k * self.period < self.duration)
        return jnp.where(on, self.amplitude, jnp.zeros((), self.amplitude.dtype))

    def mean_current(self, t, dt):
        t, dt = jnp.asarray(t), jnp.asarray(dt)
        return self.amplitude * (self._charge_time(t + dt) - self._charge_time(t)) / dt

    @property
    def jump_times(self):
        onsets = self.start + self.period * jnp.arange(self.count, dtype=self.period.dtype)
        return jnp.concatenate([onsets, onsets + self.duration])


class SampledCurrent(AbstractStimulus):
    r"""A current sampled every `dt` ms from `t0` and held between samples (zero-order hold):
    $I(t) = I_k$ for $t_0 + k\,dt \le t < t_0 + (k+1)\,dt$, and 0 before $t_0$ and after the
    last sample's interval. For recorded or noisy stimuli.

    **Arguments:**

    - `values`: $I_k$, in the cell's current units, shape (N,).
    - `dt`: the sampling interval, ms, > 0.
    - `t0`: the time of the first sample, ms (default 0).
    """

    values: Float[Array, " N"]
    dt: Float[Array, ""]
    t0: Float[Array, ""]

    def __init__(self, values: ArrayLike, dt: ArrayLike, *, t0: ArrayLike = 0.0):
        owner = "SampledCurrent"
        values = float_array(values)
        if values.ndim != 1 or values.size < 1:
            raise ValueError(
                f"{owner}: values must be 1-D with at least one sample, got shape "
                f"{values.shape}. For a family of waveforms, jax.vmap over the constructor."
            )
        _check(owner, "values", values, fix="Remove NaN/inf samples from the waveform.")
        dt = float_array(dt)
        _check(
            owner,
            "dt",
            dt,
            rule="> 0 ms",
            ok=lambda a: a > 0,
            fix="It is the sampling interval (0.1 ms at 10 kHz).",
        )
        t0 = float_array(t0)
        _check(owner, "t0", t0)
        self.values = values
        self.dt = dt
        self.t0 = t0

    def _index(self, t):
        return jnp.floor((jnp.asarray(t) - self.t0) / self.dt)

    def current(self, t):
        k = self._index(t)
        inside = (k >= 0) & (k < self.values.shape[-1])
        i = jnp.clip(k, 0, self.values.shape[-1] - 1).astype(jnp.int32)
        return jnp.where(inside, self.values[i], jnp.zeros((), self.values.dtype))

    def mean_current(self, t, dt):
        # The exact average of a zero-order hold: the integral up to t is the cumulative sum
        # of whole samples plus the fraction of the current one.
        t, dt = jnp.asarray(t), jnp.asarray(dt)
        n = self.values.shape[-1]
        cumulative = jnp.concatenate([jnp.zeros(1, self.values.dtype), jnp.cumsum(self.values)])

        def charge(s):
            x = jnp.clip((s - self.t0) / self.dt, 0.0, n)
            k = jnp.clip(jnp.floor(x), 0, n - 1)
            i = k.astype(jnp.int32)
            return self.dt * (cumulative[i] + (x - k) * self.values[i])

        return (charge(t + dt) - charge(t)) / dt

    @property
    def jump_times(self):
        n = self.values.shape[-1]
        return self.t0 + self.dt * jnp.arange(n + 1, dtype=self.dt.dtype)


class StimulusSum(AbstractStimulus):
    """Several stimuli injected together: their currents add (e.g. a holding current plus a
    pulse train).

    **Fields:**

    - `stimuli`: a tuple of stimuli.
    """

    stimuli: tuple[AbstractStimulus, ...]

    def __check_init__(self):
        for k, s in enumerate(self.stimuli):
            if not isinstance(s, AbstractStimulus):
                raise TypeError(
                    f"StimulusSum: stimuli[{k}] must be a current-clamp stimulus (CurrentStep, "
                    f"CurrentTrain, SampledCurrent), got {type(s).__name__}."
                )
        if not self.stimuli:
            raise ValueError("StimulusSum: stimuli is empty; give at least one stimulus.")

    def current(self, t):
        return sum(s.current(t) for s in self.stimuli)

    def mean_current(self, t, dt):
        return sum(s.mean_current(t, dt) for s in self.stimuli)

    @property
    def jump_times(self):
        return jnp.concatenate([jnp.ravel(s.jump_times) for s in self.stimuli])
