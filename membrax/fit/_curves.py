"""Boltzmann fits of steady-state activation, inactivation and Q–V curves."""

import math
from typing import NamedTuple

import equinox as eqx
import jax
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .._custom_types import float_array
from ._constraints import Fixed, Free
from ._data import SteadyStateCurve, _checked_values
from ._fit import FitResult, fit


class Boltzmann(eqx.Module):
    r"""$y(V) = A / (1 + e^{-(V - V_{1/2})/s})$: activation for s > 0, inactivation for
    s < 0 (the model [`membrax.fit.fit_boltzmann`][] fits).

    **Fields:** `v_half` (mV), `slope` (mV, nonzero), `amplitude` (the units of the data).
    The effective gating charge is $z = RT/(F s)$ (see [`membrax.physics.gating_charge`][]).
    """

    v_half: Float[Array, ""] = eqx.field(converter=float_array)
    slope: Float[Array, ""] = eqx.field(converter=float_array)
    amplitude: Float[Array, ""] = eqx.field(converter=float_array, default=1.0)

    def __call__(self, v: ArrayLike) -> Float[Array, "..."]:
        return self.amplitude * jax.nn.sigmoid((v - self.v_half) / self.slope)


class BoltzmannFit(NamedTuple):
    """What [`membrax.fit.fit_boltzmann`][] found: `v_half` (mV), `slope` (mV), `amplitude`,
    their standard errors (`v_half_se`, `slope_se`, `amplitude_se`; 0 for a fixed amplitude),
    the fitted `curve` (a [`membrax.fit.Boltzmann`][]) and the full
    [`membrax.fit.FitResult`][] (`result`: log-likelihood, σ, correlations)."""

    v_half: float
    slope: float
    amplitude: float
    v_half_se: float
    slope_se: float
    amplitude_se: float
    curve: Boltzmann
    result: FitResult


def _evaluate(curve, voltages):
    # Module-level (not a lambda per call), so repeated fits reuse their compiled steps.
    return curve(voltages)


def _crossing(v, y, level):
    """The first voltage where y crosses `level` (linear interpolation), or None."""
    above = y >= level
    changes = np.flatnonzero(above[1:] != above[:-1])
    if changes.size == 0:
        return None
    k = changes[0]
    return v[k] + (level - y[k]) * (v[k + 1] - v[k]) / (y[k + 1] - y[k])


def _start(v, y, amplitude):
    order = np.argsort(v)
    v, y = v[order], y[order]
    a = amplitude if amplitude is not None else y[np.argmax(np.abs(y))]
    yn = y / a
    rising = np.polyfit(v, yn, 1)[0] >= 0
    half = _crossing(v, yn, 0.5)
    v_half = half if half is not None else float(np.median(v))
    low, high = _crossing(v, yn, 0.25), _crossing(v, yn, 0.75)
    if low is not None and high is not None and high != low:
        slope = abs(high - low) / (2 * math.log(3))
    else:
        slope = (v[-1] - v[0]) / 10
    return float(v_half), float(slope if rising else -slope), float(a)


def fit_boltzmann(
    voltages: ArrayLike,
    values: ArrayLike,
    *,
    amplitude: float | None = 1.0,
    sigma: ArrayLike | None = None,
    mask: ArrayLike | None = None,
) -> BoltzmannFit:
    r"""Fit $y = A/(1 + e^{-(V - V_{1/2})/s})$ to a steady-state activation (s > 0),
    inactivation (s < 0) or Q–V curve, by Levenberg–Marquardt with Gauss–Newton standard
    errors. The starting point is read off the data (half-point and 25–75 % width), so no
    guess is needed.

    **Arguments:**

    - `voltages`: mV, shape (n,), at least 3 (4 if the amplitude is fitted).
    - `values`: the curve, shape (n,): G/G_max, I/I_max, Q/Q_max, or unnormalised values
      with `amplitude=None`. Never modified.
    - `amplitude`: the curve's maximum A, fixed (default 1: normalised data), or None to fit
      it too.
    - `sigma`: the noise standard deviation, or None to estimate it from the residuals.
    - `mask`: True for the points to fit (default all).

    **Returns:** a [`membrax.fit.BoltzmannFit`][].

    **Example:** `fit_boltzmann(v, g / g.max()).v_half`.
    """
    where = "fit_boltzmann"
    v = _checked_values(where, "voltages", voltages)
    y = _checked_values(where, "values", values, v.size)
    needed = 3 if amplitude is not None else 4
    if v.size < needed:
        raise ValueError(
            f"{where}: {v.size} points cannot determine a Boltzmann curve; give at least {needed}."
        )
    if amplitude is not None and not (np.isfinite(amplitude) and amplitude != 0):
        raise ValueError(
            f"{where}: amplitude must be a nonzero number (1 for normalised data) or None to "
            f"fit it, got {amplitude!r}."
        )
    if np.ptp(y) == 0:
        raise ValueError(
            f"{where}: every value is {float(y[0])!r}; a flat curve has no V½ or slope."
        )
    v_half, slope, a = _start(v, y, amplitude)
    model = Boltzmann(v_half, slope, a)
    # V½ may be either sign (Free, not the default sign-keeping coordinate); A is fixed for
    # normalised data.
    model = eqx.tree_at(lambda m: m.v_half, model, replace_fn=Free)
    if amplitude is not None:
        model = eqx.tree_at(lambda m: m.amplitude, model, replace_fn=Fixed)
    data = SteadyStateCurve(v, y, quantity=_evaluate, sigma=sigma, mask=mask)
    result = fit(model, data)
    curve = result.model
    errors = dict(zip(result.names, np.asarray(result.standard_errors)))
    return BoltzmannFit(
        v_half=float(curve.v_half),
        slope=float(curve.slope),
        amplitude=float(curve.amplitude),
        v_half_se=float(errors[".v_half"]),
        slope_se=float(errors[".slope"]),
        amplitude_se=float(errors.get(".amplitude", 0.0)),
        curve=curve,
        result=result,
    )
