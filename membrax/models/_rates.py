"""Voltage-dependent rate laws k(V) for gates and Markov transitions, and the curves of the
(x∞, τ) form of a gate. Each is a small Module called with the membrane potential in mV."""

import abc

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from .._custom_types import float_array
from .._numerics import exprel
from ._checks import RATE_FIX, check_field


class AbstractRate(eqx.Module):
    """A voltage-dependent rate constant: `rate_law(v)` is k(V) in 1/ms for v in mV."""

    @abc.abstractmethod
    def __call__(self, v: ArrayLike) -> Float[Array, "..."]:
        """k(V) in 1/ms."""


class ConstantRate(AbstractRate):
    """A voltage-independent rate, k = `rate` (1/ms, > 0)."""

    rate: Float[Array, ""] = eqx.field(converter=float_array)

    def __check_init__(self):
        check_field("ConstantRate", "rate", self.rate, unit="1/ms", positive=True, fix=RATE_FIX)

    def __call__(self, v):
        return self.rate + jnp.zeros_like(v, dtype=jnp.result_type(self.rate, v))


class ExponentialRate(AbstractRate):
    r"""$k(V) = k_0\,e^{s\,(V - V_\text{ref})}$ — Eyring's single-barrier law.

    For a barrier that moves charge zδ (electrical distance δ), $s = z\delta F/RT$; the hERG
    model of Beattie et al. (2018) writes the same law as $k = P_1 e^{P_2 V}$ (`v_ref` = 0).

    **Fields:**

    - `rate`: $k_0$, the rate at `v_ref`, 1/ms, > 0.
    - `slope`: s, 1/mV (positive: faster on depolarisation).
    - `v_ref`: $V_\text{ref}$, mV (default 0).
    """

    rate: Float[Array, ""] = eqx.field(converter=float_array)
    slope: Float[Array, ""] = eqx.field(converter=float_array)
    v_ref: Float[Array, ""] = eqx.field(converter=float_array, default=0.0)

    def __check_init__(self):
        check_field("ExponentialRate", "rate", self.rate, unit="1/ms", positive=True, fix=RATE_FIX)
        check_field("ExponentialRate", "slope", self.slope, unit="1/mV")

    def __call__(self, v):
        return self.rate * jnp.exp(self.slope * (v - self.v_ref))


class LinoidRate(AbstractRate):
    r"""$k(V) = k_0\,\dfrac{(V - V_{1/2})/s}{1 - e^{-(V - V_{1/2})/s}}
    = k_0\,\operatorname{exprel}\!\bigl(-(V - V_{1/2})/s\bigr)$ — the HH α_n, α_m form.

    Through `exprel` the removable singularity at $V = V_{1/2}$ (where k = $k_0$) has a finite
    value and gradient. HH's $\alpha_n = 0.01(V+55)/(1 - e^{-(V+55)/10})$ is `rate` = 0.1,
    `v_half` = −55, `slope` = 10.

    **Fields:**

    - `rate`: $k_0$, the rate at $V_{1/2}$, 1/ms, > 0.
    - `v_half`: $V_{1/2}$, mV.
    - `slope`: s, mV, nonzero (positive: the rate grows with V, linearly for V ≫ V½).
    """

    rate: Float[Array, ""] = eqx.field(converter=float_array)
    v_half: Float[Array, ""] = eqx.field(converter=float_array)
    slope: Float[Array, ""] = eqx.field(converter=float_array)

    def __check_init__(self):
        check_field("LinoidRate", "rate", self.rate, unit="1/ms", positive=True, fix=RATE_FIX)
        _check_slope("LinoidRate", self.slope)

    def __call__(self, v):
        # × (1/slope): XLA hoists the reciprocal out of a time loop; a division per step
        # would stay in it (5 % of a Hodgkin–Huxley population step).
        return self.rate * exprel((self.v_half - v) * (1 / self.slope))


class SigmoidRate(AbstractRate):
    r"""$k(V) = \dfrac{k_\text{max}}{1 + e^{-(V - V_{1/2})/s}}$ — the HH β_h form, as a
    sigmoid (no overflow at any V). HH's β_h is `rate` = 1, `v_half` = −35, `slope` = 10.

    **Fields:**

    - `rate`: $k_\text{max}$, 1/ms, > 0.
    - `v_half`: $V_{1/2}$, mV.
    - `slope`: s, mV, nonzero (negative: the rate falls with V).
    """

    rate: Float[Array, ""] = eqx.field(converter=float_array)
    v_half: Float[Array, ""] = eqx.field(converter=float_array)
    slope: Float[Array, ""] = eqx.field(converter=float_array)

    def __check_init__(self):
        check_field("SigmoidRate", "rate", self.rate, unit="1/ms", positive=True, fix=RATE_FIX)
        _check_slope("SigmoidRate", self.slope)

    def __call__(self, v):
        return self.rate * jax.nn.sigmoid((v - self.v_half) * (1 / self.slope))


def _check_slope(owner, slope, name="slope"):
    check_field(owner, name, slope, unit="mV")
    if not isinstance(slope, jax.core.Tracer) and (jnp.asarray(slope) == 0).any():
        raise ValueError(
            f"{owner}: {name} must be nonzero mV, got 0.0. It is the e-fold voltage of the "
            "curve; its sign sets whether the curve rises or falls with V."
        )


# --- the (x∞, τ) form -------------------------------------------------------------------------


class BoltzmannCurve(eqx.Module):
    r"""A steady-state curve $x_\infty(V) = 1/(1 + e^{-(V - V_{1/2})/s})$, via
    `jax.nn.sigmoid`. Negative `slope` gives an inactivation curve.

    **Fields:** `v_half` (mV), `slope` (mV, nonzero).
    """

    v_half: Float[Array, ""] = eqx.field(converter=float_array)
    slope: Float[Array, ""] = eqx.field(converter=float_array)

    def __check_init__(self):
        _check_slope("BoltzmannCurve", self.slope)

    def __call__(self, v):
        return jax.nn.sigmoid((v - self.v_half) * (1 / self.slope))


class AbstractTime(eqx.Module):
    """A voltage-dependent time constant: `time_law(v)` is τ(V) in ms."""

    @abc.abstractmethod
    def __call__(self, v: ArrayLike) -> Float[Array, "..."]:
        """τ(V) in ms."""


class ConstantTime(AbstractTime):
    """A voltage-independent time constant τ = `tau` (ms, > 0)."""

    tau: Float[Array, ""] = eqx.field(converter=float_array)

    def __check_init__(self):
        check_field("ConstantTime", "tau", self.tau, unit="ms", positive=True)

    def __call__(self, v):
        return self.tau + jnp.zeros_like(v, dtype=jnp.result_type(self.tau, v))


class BellTime(AbstractTime):
    r"""A bell-shaped time constant, $\tau(V) = \tau_0 + \tau_1 e^{-((V - V_p)/w)^2}$.

    **Fields:** `tau_base` ($\tau_0$, ms, > 0), `tau_peak` ($\tau_1$, ms, ≥ 0), `v_peak`
    ($V_p$, mV), `width` (w, mV, nonzero).
    """

    tau_base: Float[Array, ""] = eqx.field(converter=float_array)
    tau_peak: Float[Array, ""] = eqx.field(converter=float_array)
    v_peak: Float[Array, ""] = eqx.field(converter=float_array)
    width: Float[Array, ""] = eqx.field(converter=float_array)

    def __check_init__(self):
        check_field("BellTime", "tau_base", self.tau_base, unit="ms", positive=True)
        check_field("BellTime", "tau_peak", self.tau_peak, unit="ms", nonnegative=True)
        _check_slope("BellTime", self.width, "width")

    def __call__(self, v):
        return self.tau_base + self.tau_peak * jnp.exp(
            -(((v - self.v_peak) * (1 / self.width)) ** 2)
        )
