"""Recorded data for fitting: current traces under a protocol, checked on the way in."""

import warnings
from collections.abc import Callable

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float

from ..protocols._voltage import AbstractProtocol, PiecewiseProtocol, SampledProtocol


def _current(record):
    return record.current


class Trace(eqx.Module):
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
        data = np.asarray(current, dtype=float)
        n = int(np.shape(protocol.sample_times)[0])
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
        if mask is None:
            mask = np.ones(n, bool)
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != (n,):
            raise ValueError(f"{where}: mask has shape {mask.shape}; it needs ({n},).")
        if not mask.any():
            raise ValueError(f"{where}: mask excludes every sample; nothing would be fitted.")
        if sigma is not None and not float(sigma) > 0:
            raise ValueError(f"{where}: sigma must be > 0, got {sigma!r}. Or pass None.")
        scale = float(np.max(np.abs(data[mask]))) if mask.any() else 0.0
        if 0 < scale < 1e-6:
            warnings.warn(
                f"{where}: the largest |current| is {scale:.3g}: this looks like amperes. "
                "membrax works in nA (µS models), pA (nS) or µA/cm² (mS/cm²): convert, e.g. "
                "current * 1e9 for A → nA.",
                stacklevel=2,
            )
        self.protocol = protocol
        self.current = jnp.asarray(data)
        self.mask = jnp.asarray(mask)
        self.sigma = None if sigma is None else jnp.asarray(float(sigma))
        self.weight = jnp.asarray(float(weight))
        self.observable = _current if observable is None else observable


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
    return jnp.asarray(keep)
