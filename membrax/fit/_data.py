"""Recorded data for fitting, checked on the way in: current traces under a protocol, curves
measured from families of sweeps (I–V, activation, Q–V), and steady-state curves."""

import abc
import warnings
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float

from .._custom_types import float_array
from ..protocols._voltage import AbstractProtocol, PiecewiseProtocol, SampledProtocol
from ..simulate._voltage_clamp import voltage_clamp


def _current(record):
    return record.current


class AbstractData(eqx.Module):
    """Something to fit: observed `values` and how to predict them from a model.

    The fit minimises Σ weight·((prediction − values)/σ)² over the samples where `mask` is
    True. Subclass it (define `values`, `mask`, `sigma`, `weight` and `predict`) to fit any
    other summary of a model.
    """

    values: eqx.AbstractVar[Float[Array, " N"]]
    mask: eqx.AbstractVar[Bool[Array, " N"]]
    sigma: eqx.AbstractVar[Float[Array, ""] | None]
    weight: eqx.AbstractVar[Float[Array, ""]]

    @abc.abstractmethod
    def predict(self, model, clamp) -> Float[Array, " N"]:
        """The model's prediction of `values` (same shape), using `clamp` as the
        voltage-clamp solver where a simulation is needed."""

    def residuals(self, model, clamp) -> Float[Array, " N"]:
        """(prediction − values)·√weight/σ, zero where masked out (σ = 1 if estimated)."""
        scale = jnp.sqrt(self.weight) / (1.0 if self.sigma is None else self.sigma)
        r = (self.predict(model, clamp) - self.values) * scale
        return jnp.where(self.mask, r, 0.0)


def _checked_values(where, name, values, n=None):
    data = np.asarray(values, dtype=float)
    if data.ndim != 1 or (n is not None and data.size != n):
        expected = "one dimension" if n is None else f"shape ({n},)"
        raise ValueError(f"{where}: {name} has shape {data.shape}; it needs {expected}.")
    bad = ~np.isfinite(data)
    if bad.any():
        raise ValueError(
            f"{where}: {name} has {int(bad.sum())} NaN/inf values (the first at index "
            f"{int(np.argmax(bad))}). Remove them, or exclude them with mask=... (the data is "
            "never changed)."
        )
    return data


def _device_mask(mask):
    """A checked host mask on the device: `jnp.asarray` would compile a small program per
    shape (~10 ms in every new process; `membrax fit` builds its data first). Float data
    goes through `float_array`, which does the same."""
    return jax.device_put(np.asarray(mask, bool))


def _checked_mask(where, mask, n):
    if mask is None:
        return _device_mask(np.ones(n, bool))
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != (n,):
        raise ValueError(f"{where}: mask has shape {mask.shape}; it needs ({n},).")
    if not mask.any():
        raise ValueError(f"{where}: mask excludes every sample; nothing would be fitted.")
    return _device_mask(mask)


def _checked_sigma(where, sigma):
    if sigma is None:
        return None
    if not (np.ndim(sigma) == 0 and float(sigma) > 0):
        raise ValueError(f"{where}: sigma must be a number > 0, got {sigma!r}. Or pass None.")
    return float_array(float(sigma))


def _checked_weight(where, weight):
    if not (np.ndim(weight) == 0 and np.isfinite(float(weight)) and float(weight) > 0):
        raise ValueError(f"{where}: weight must be a number > 0, got {weight!r}.")
    return float_array(float(weight))


def _warn_if_amperes(where, data, mask):
    scale = float(np.max(np.abs(data[np.asarray(mask)])))
    if 0 < scale < 1e-6:
        warnings.warn(
            f"{where}: the largest |current| is {scale:.3g}: this looks like amperes. "
            "membrax works in nA (µS models), pA (nS) or µA/cm² (mS/cm²): convert, e.g. "
            "current * 1e9 for A → nA.",
            stacklevel=3,
        )


class Trace(AbstractData):
    """One recorded sweep to fit: the protocol that produced it and the measured signal at the
    protocol's sample times.

    **Arguments:**

    - `protocol`: a [`membrax.SampledProtocol`][] or [`membrax.PiecewiseProtocol`][].
    - `current`: the recording, shape (N,) with N = the protocol's sample count, in the
      model's current units (nA for µS, pA for nS, µA/cm² for mS/cm²). Never modified.
    - `mask`: True for samples to fit (default: all; see [`membrax.fit.mask_after_steps`][]
      to drop capacitive transients).
    - `sigma`: the noise standard deviation in the current's units, or None to estimate it
      from the fit's residuals.
    - `weight`: a weight for this sweep in the loss (default 1).
    - `observable`: what of the simulated [`membrax.ClampRecord`][] is compared with the data
      (default: `record.current`; e.g. `lambda r: r.gating_current` for gating currents).
    """

    protocol: AbstractProtocol
    current: Float[Array, " N"]
    mask: Bool[Array, " N"]
    sigma: Float[Array, ""] | None
    weight: Float[Array, ""]
    observable: Callable = eqx.field(static=True)

    def __init__(
        self,
        protocol: AbstractProtocol,
        current: ArrayLike,
        *,
        mask: ArrayLike | None = None,
        sigma: ArrayLike | None = None,
        weight: ArrayLike = 1.0,
        observable: Callable | None = None,
    ):
        where = "Trace"
        if not isinstance(protocol, AbstractProtocol):
            raise TypeError(
                f"{where}: protocol must be a membrax protocol (SampledProtocol or "
                f"PiecewiseProtocol), got {type(protocol).__name__}."
            )
        n = int(np.shape(protocol.sample_times)[0])
        data = np.asarray(current, dtype=float)
        if data.ndim != 1 or data.size != n:
            raise ValueError(
                f"{where}: current has shape {data.shape} but the protocol has {n} samples; "
                "give one current value per protocol sample (time, voltage and current must "
                "have the same length)."
            )
        bad = ~np.isfinite(data)
        if bad.any():
            k = int(np.argmax(bad))
            raise ValueError(
                f"{where}: current has {int(bad.sum())} NaN/inf samples (the first at index "
                f"{k}, t = {float(protocol.sample_times[k])} ms). Remove them, or exclude them "
                "with mask=... (the data is never changed)."
            )
        self.mask = _checked_mask(where, mask, n)
        self.sigma = _checked_sigma(where, sigma)
        self.weight = _checked_weight(where, weight)
        _warn_if_amperes(where, data, self.mask)
        self.protocol = protocol
        self.current = float_array(data)
        self.observable = _current if observable is None else observable

    @property
    def values(self):
        return self.current

    def predict(self, model, clamp):
        return self.observable(voltage_clamp(model, self.protocol, solver=clamp))


def mask_after_steps(
    protocol: AbstractProtocol, duration: float = 5.0, *, threshold: float = 2.0
) -> Bool[Array, " N"]:
    """A mask that drops the samples within `duration` ms after each voltage step (the
    capacitive transients), keeping everything else.

    Steps are the protocol's discontinuities: the segment boundaries of a
    [`membrax.PiecewiseProtocol`][], or, for a [`membrax.SampledProtocol`][], the samples
    where the command jumps by more than `threshold` mV (2 mV by default: a sampled sine wave
    moves far less per sample; a step far more).
    """
    if duration < 0:
        raise ValueError(f"mask_after_steps: duration must be >= 0 ms, got {duration!r}.")
    times = np.asarray(protocol.sample_times)
    if isinstance(protocol, SampledProtocol):
        volts = np.asarray(protocol.voltages)
        jumps = times[1:][np.abs(np.diff(volts)) > threshold]
    elif isinstance(protocol, PiecewiseProtocol):
        jumps = np.asarray(protocol.jump_times)
    else:
        jumps = np.asarray(protocol.jump_times)
    keep = np.ones(times.size, bool)
    for t_jump in jumps:
        keep &= ~((times >= t_jump - 1e-9) & (times < t_jump + duration - 1e-9))
    return _device_mask(keep)


_MEASURES = ("peak", "steady", "mean", "integral")


def _batch_size(protocols):
    """The number of sweeps of a stacked protocol family, or None for a single sweep."""
    if isinstance(protocols, PiecewiseProtocol):
        shape = np.shape(protocols.starts)
    elif isinstance(protocols, SampledProtocol):
        shape = np.shape(protocols.voltages)
    else:
        return None
    return shape[0] if len(shape) == 2 else None


def _default_window(where, protocols):
    """The segment of a step family whose level varies across sweeps: the test step."""
    if not isinstance(protocols, PiecewiseProtocol):
        raise ValueError(
            f"{where}: give window=(start, stop) in ms for a SampledProtocol family (only a "
            "PiecewiseProtocol step family has segments to find the test step in)."
        )
    offsets = np.asarray(protocols.offsets)
    spread = offsets.max(axis=0) - offsets.min(axis=0)
    if not spread.max() > 0:
        raise ValueError(
            f"{where}: every sweep has the same voltages, so there is no test step to measure "
            "in; give window=(start, stop) in ms."
        )
    k = int(np.argmax(spread))
    starts = np.asarray(protocols.starts)[0]
    stop = starts[k + 1] if k + 1 < starts.size else float(np.asarray(protocols.t_end)[0])
    return float(starts[k]), float(stop)


def _normalised(y, normalise):
    if normalise is None:
        return y
    if normalise == "max":
        return y / jnp.max(jnp.abs(y))
    low, high = jnp.min(y), jnp.max(y)
    return (y - low) / (high - low)


def _check_normalise(where, normalise):
    if normalise not in (None, "max", "range"):
        raise ValueError(
            f"{where}: normalise must be None, 'max' (divide by the largest |value|) or "
            f"'range' (map min..max to 0..1), got {normalise!r}."
        )


class IVCurve(AbstractData):
    r"""A curve measured from a family of sweeps, one number per sweep: an I–V curve (peak or
    steady-state current of each test step), an activation or inactivation curve (normalised
    peak or tail currents), or a Q–V curve (the integral of the gating current).

    For each sweep of `protocols` the model is voltage-clamped, `observable` is taken from
    the record, and `measure` reduces it over the samples in `window`:

    - `"peak"`: the sample of largest |·| (signed: inward peaks stay negative);
    - `"steady"`: the mean over the last 10 % of the window (at least one sample);
    - `"mean"`: the mean over the window;
    - `"integral"`: $\int y\,dt$ over the window (trapezoids, ms × current units; with
      `observable=lambda r: r.gating_current`, the gating charge moved: a Q–V curve).

    **Arguments:**

    - `protocols`: a family of sweeps stacked along a leading axis, as made by
      [`membrax.protocols.step_family`][], [`membrax.protocols.activation_family`][] or
      [`membrax.protocols.inactivation_family`][].
    - `values`: the measured number of each sweep, shape (sweeps,), in the units of the
      observable (current units; ms × current units for "integral"). Never modified.
    - `measure`: `"peak"` (default), `"steady"`, `"mean"` or `"integral"`.
    - `window`: (start, stop) in ms, the part of each sweep to measure; default: the test
      step — the segment whose voltage differs between sweeps (step families only).
    - `observable`: a function of the [`membrax.ClampRecord`][] (default `record.current`).
    - `normalise`: None (default), `"max"` (the prediction is divided by its largest |value|
      over the sweeps: for data normalised as I/I_max or G/G_max) or `"range"` (mapped so
      its minimum is 0 and maximum 1).
    - `mask`, `sigma`, `weight`: as for [`membrax.fit.Trace`][].

    The test voltage of each sweep (the command at the window's midpoint) is kept in
    `.voltages` for plotting.
    """

    protocols: AbstractProtocol
    values: Float[Array, " S"]
    voltages: Float[Array, " S"]
    mask: Bool[Array, " S"]
    sigma: Float[Array, ""] | None
    weight: Float[Array, ""]
    selection: Bool[Array, " N"]
    tail: Bool[Array, " N"]
    dt: Float[Array, ""]
    measure: str = eqx.field(static=True)
    normalise: str | None = eqx.field(static=True)
    observable: Callable = eqx.field(static=True)

    def __init__(
        self,
        protocols: AbstractProtocol,
        values: ArrayLike,
        *,
        measure: str = "peak",
        window: tuple[float, float] | None = None,
        observable: Callable | None = None,
        normalise: str | None = None,
        mask: ArrayLike | None = None,
        sigma: ArrayLike | None = None,
        weight: ArrayLike = 1.0,
    ):
        where = "IVCurve"
        if not isinstance(protocols, AbstractProtocol):
            raise TypeError(
                f"{where}: protocols must be a stacked membrax protocol family (e.g. from "
                f"membrax.protocols.step_family), got {type(protocols).__name__}."
            )
        sweeps = _batch_size(protocols)
        if sweeps is None:
            raise ValueError(
                f"{where}: protocols must be a family of sweeps stacked along a leading axis "
                "(membrax.protocols.step_family / activation_family / inactivation_family); "
                "for one sweep use membrax.fit.Trace."
            )
        if measure not in _MEASURES:
            raise ValueError(
                f"{where}: measure must be one of {', '.join(map(repr, _MEASURES))}, got "
                f"{measure!r}."
            )
        _check_normalise(where, normalise)
        data = _checked_values(where, "values", values, sweeps)
        times = np.asarray(jax.tree.map(lambda x: x[0], protocols).sample_times)
        start, stop = _default_window(where, protocols) if window is None else window
        if not (np.isfinite(start) and np.isfinite(stop) and stop > start):
            raise ValueError(
                f"{where}: window must be (start, stop) in ms with stop > start, got "
                f"{(start, stop)!r}."
            )
        selection = (times >= start - 1e-9) & (times < stop - 1e-9)
        if not selection.any():
            raise ValueError(
                f"{where}: window {(start, stop)!r} ms holds no sample of the sweeps "
                f"(they run {times[0]:g} to {times[-1]:g} ms); choose a window inside them."
            )
        index = np.flatnonzero(selection)
        tail = np.zeros_like(selection)
        tail[index[-max(1, index.size // 10) :]] = True
        self.mask = _checked_mask(where, mask, sweeps)
        self.sigma = _checked_sigma(where, sigma)
        self.weight = _checked_weight(where, weight)
        if observable is None and measure != "integral" and normalise is None:
            _warn_if_amperes(where, data, self.mask)
        middle = 0.5 * (start + stop)
        self.protocols = protocols
        self.values = jnp.asarray(data)
        self.voltages = jax.vmap(lambda p: p.voltage(middle))(protocols)
        self.selection = jnp.asarray(selection)
        self.tail = jnp.asarray(tail)
        self.dt = jnp.asarray(float(times[1] - times[0]) if times.size > 1 else 1.0)
        self.measure = measure
        self.normalise = normalise
        self.observable = _current if observable is None else observable

    def summarise(self, y: Float[Array, "S N"]) -> Float[Array, " S"]:
        """Apply the measure to observables `y` of every sweep, shape (sweeps, samples)."""
        if self.measure == "peak":
            scored = jnp.where(self.selection, jnp.abs(y), -jnp.inf)
            k = jnp.argmax(scored, axis=-1)
            out = jnp.take_along_axis(y, k[:, None], axis=-1)[:, 0]
        elif self.measure == "steady":
            out = jnp.sum(jnp.where(self.tail, y, 0.0), -1) / jnp.sum(self.tail)
        elif self.measure == "mean":
            out = jnp.sum(jnp.where(self.selection, y, 0.0), -1) / jnp.sum(self.selection)
        else:
            inside = jnp.where(self.selection, y, 0.0)
            ends = self.selection & ~jnp.roll(self.selection, 1)
            ends = ends | (self.selection & ~jnp.roll(self.selection, -1))
            out = self.dt * (jnp.sum(inside, -1) - 0.5 * jnp.sum(jnp.where(ends, y, 0.0), -1))
        return _normalised(out, self.normalise)

    def predict(self, model, clamp):
        records = jax.vmap(lambda p: voltage_clamp(model, p, solver=clamp))(self.protocols)
        return self.summarise(self.observable(records))


_QUANTITIES = ("open_probability", "charge")


class SteadyStateCurve(AbstractData):
    r"""A steady-state curve y(V) given directly: the open probability (activation), the
    gating charge (Q–V), or any function of the model at each voltage — for data already
    reduced to a curve, or to fit a Boltzmann ([`membrax.fit.fit_boltzmann`][]).

    **Arguments:**

    - `voltages`: mV, shape (n,).
    - `values`: the measured curve, shape (n,). Never modified.
    - `quantity`: `"open_probability"` (default: the conducting fraction of the model's
      gating at steady state), `"charge"` (its steady-state gating charge, e per channel),
      or a function `quantity(model, voltages) -> values`.
    - `normalise`: None (default), `"max"` or `"range"`, as for [`membrax.fit.IVCurve`][]
      (e.g. `"range"` for a Q–V curve normalised to 0..1).
    - `mask`, `sigma`, `weight`: as for [`membrax.fit.Trace`][].

    The model is a [`membrax.models.Channel`][] (or anything with a `.gating`) for the named
    quantities; any PyTree for a function.
    """

    voltages: Float[Array, " n"]
    values: Float[Array, " n"]
    mask: Bool[Array, " n"]
    sigma: Float[Array, ""] | None
    weight: Float[Array, ""]
    quantity: str | Callable = eqx.field(static=True)
    normalise: str | None = eqx.field(static=True)

    def __init__(
        self,
        voltages: ArrayLike,
        values: ArrayLike,
        *,
        quantity: str | Callable = "open_probability",
        normalise: str | None = None,
        mask: ArrayLike | None = None,
        sigma: ArrayLike | None = None,
        weight: ArrayLike = 1.0,
    ):
        where = "SteadyStateCurve"
        v = _checked_values(where, "voltages", voltages)
        data = _checked_values(where, "values", values, v.size)
        if not (callable(quantity) or quantity in _QUANTITIES):
            raise ValueError(
                f"{where}: quantity must be 'open_probability', 'charge' or a function "
                f"(model, voltages) -> values, got {quantity!r}."
            )
        _check_normalise(where, normalise)
        if quantity == "open_probability" and normalise is None:
            outside = (data < -0.2) | (data > 1.2)
            if outside.any():
                warnings.warn(
                    f"{where}: open probabilities should lie in 0..1, but {int(outside.sum())} "
                    f"values do (e.g. {data[np.argmax(outside)]:.4g}): normalise the data "
                    "(G/G_max) or pass normalise='max'.",
                    stacklevel=2,
                )
        self.voltages = jnp.asarray(v)
        self.values = jnp.asarray(data)
        self.mask = _checked_mask(where, mask, v.size)
        self.sigma = _checked_sigma(where, sigma)
        self.weight = _checked_weight(where, weight)
        self.quantity = quantity
        self.normalise = normalise

    def predict(self, model, clamp):
        del clamp
        if callable(self.quantity):
            y = self.quantity(model, self.voltages)
        else:
            gating = getattr(model, "gating", None)
            if gating is None:
                raise TypeError(
                    f"SteadyStateCurve: quantity={self.quantity!r} needs a model with .gating "
                    f"(a membrax.models.Channel), got {type(model).__name__}; pass a function "
                    "quantity(model, voltages) instead."
                )
            x = gating.steady_state(self.voltages)
            if self.quantity == "open_probability":
                y = gating.open_probability(x)
            else:
                y = gating.charge(x)
        return _normalised(jnp.broadcast_to(y, self.values.shape), self.normalise)
