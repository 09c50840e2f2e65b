"""Published channel models as functions returning ordinary membrax Modules: start from the
literature, then change any field with `eqx.tree_at` or fit it."""

import jax
import numpy as np
from jaxtyping import ArrayLike

from .._custom_types import float_array
from .._validation import check_array
from ..physics._checks import check_concentration, check_temperature
from ..physics._gating import _HH_TEMPERATURE, _q10_factor
from ..physics._nernst import _nernst
from ._channel import Channel
from ._gating import Gate
from ._permeation import Ohmic
from ._rates import ExponentialRate, LinoidRate, SigmoidRate

#: HH 1952's leak reversal in the modern convention (rest −65 mV): 10.613 mV above rest.
HH_LEAK_REVERSAL = -54.387


def _hh_factor(where, temperature, q10):
    temperature = check_temperature(where, temperature)
    q10 = check_array(where, "q10", q10, positive=True, fix="HH used Q10 = 3.")
    return _q10_factor(temperature, _HH_TEMPERATURE, q10)


def hh1952_sodium(
    *,
    g_max: ArrayLike = 120.0,
    e_rev: ArrayLike = 50.0,
    temperature: ArrayLike = _HH_TEMPERATURE,
    q10: ArrayLike = 3.0,
) -> Channel:
    r"""The Hodgkin–Huxley (1952) squid-axon sodium channel, $I = g\,m^3 h\,(V - E_\text{Na})$,
    in density units (mS/cm², mV → µA/cm²), modern voltage convention (rest −65 mV).

    Rates as in [`membrax.hodgkin_huxley_rates`][]: α_m a [`membrax.models.LinoidRate`][]
    (finite at exactly −40 mV), β_m and α_h exponentials, β_h a sigmoid, all scaled by
    $Q_{10}^{(T - 279.45\,\text{K})/10}$.

    **Arguments:** `g_max` (mS/cm², default 120), `e_rev` (mV, default 50), `temperature`
    (K, default 279.45 = 6.3 °C), `q10` (default 3).

    **Returns:** a [`membrax.models.Channel`][] with gates (m, h), m to the power 3.

    **Reference:** A. L. Hodgkin & A. F. Huxley (1952), J. Physiol. 117:500.
    """
    phi = _hh_factor("hh1952_sodium", temperature, q10)
    m = Gate(
        alpha=LinoidRate(phi * 1.0, -40.0, 10.0),
        beta=ExponentialRate(phi * 4.0, -1.0 / 18.0, -65.0),
        power=3,
    )
    h = Gate(
        alpha=ExponentialRate(phi * 0.07, -1.0 / 20.0, -65.0),
        beta=SigmoidRate(phi * 1.0, -35.0, 10.0),
    )
    return Channel((m, h), Ohmic(g_max, e_rev))


def hh1952_potassium(
    *,
    g_max: ArrayLike = 36.0,
    e_rev: ArrayLike = -77.0,
    temperature: ArrayLike = _HH_TEMPERATURE,
    q10: ArrayLike = 3.0,
) -> Channel:
    r"""The Hodgkin–Huxley (1952) potassium channel, $I = g\,n^4 (V - E_\text{K})$, density
    units, modern convention: α_n = 0.01(V+55)/(1 − e^{−(V+55)/10}) (finite at −55 mV),
    β_n = 0.125 e^{−(V+65)/80}, scaled by $Q_{10}^{(T - 279.45\,\text{K})/10}$.

    **Arguments:** `g_max` (mS/cm², default 36), `e_rev` (mV, default −77), `temperature`
    (K, default 279.45), `q10` (default 3).

    **Returns:** a [`membrax.models.Channel`][] with one gate n, power 4.

    **Reference:** A. L. Hodgkin & A. F. Huxley (1952), J. Physiol. 117:500.
    """
    phi = _hh_factor("hh1952_potassium", temperature, q10)
    n = Gate(
        alpha=LinoidRate(phi * 0.1, -55.0, 10.0),
        beta=ExponentialRate(phi * 0.125, -1.0 / 80.0, -65.0),
        power=4,
    )
    return Channel((n,), Ohmic(g_max, e_rev))


def hh1952_leak(*, g_max: ArrayLike = 0.3, e_rev: ArrayLike = HH_LEAK_REVERSAL) -> Channel:
    """The Hodgkin–Huxley (1952) leak, $I = g_L (V - E_L)$: 0.3 mS/cm², −54.387 mV (modern
    convention). An ungated [`membrax.models.Channel`][].

    **Reference:** A. L. Hodgkin & A. F. Huxley (1952), J. Physiol. 117:500.
    """
    return Channel((), Ohmic(g_max, e_rev))


def beattie2018_ikr(
    p: ArrayLike,
    g: ArrayLike,
    *,
    temperature: ArrayLike,
    k_out: ArrayLike = 4.0,
    k_in: ArrayLike = 130.0,
) -> Channel:
    r"""The hERG (I_Kr) model of Beattie et al. (2018): two independent gates,

    $$I = G\,a\,r\,(V - E_K),\quad \frac{da}{dt} = k_1(1 - a) - k_2 a,\quad
      \frac{dr}{dt} = k_4(1 - r) - k_3 r,$$

    $k_1 = P_1 e^{P_2 V}$, $k_2 = P_3 e^{-P_4 V}$, $k_3 = P_5 e^{P_6 V}$,
    $k_4 = P_7 e^{-P_8 V}$, $E_K = (RT/F)\ln([K]_o/[K]_i)$, starting from a = 0, r = 1 (the
    paper's initial condition). `membrax.voltage_clamp(model, protocol)` then gives the current
    in nA.

    **Arguments:**

    - `p`: (P1, …, P8): P1, P3, P5, P7 in 1/ms (> 0), P2, P4, P6, P8 in 1/mV.
    - `g`: the maximal conductance G, µS (≥ 0).
    - `temperature`: K (the paper's cells: 294.45–294.95 K).
    - `k_out`, `k_in`: [K⁺]o and [K⁺]i, mM (defaults 4 and 130, as in the paper).

    **Returns:** a [`membrax.models.Channel`][] with gates (a, r).

    **Reference:** K. A. Beattie, A. P. Hill, R. Bardenet, Y. Cui, J. I. Vandenberg,
    D. J. Gavaghan, T. P. de Boer & G. R. Mirams (2018), J. Physiol. 596:1813,
    doi:10.1113/JP275733.
    """
    where = "beattie2018_ikr"
    p = float_array(p)
    if p.shape != (8,):
        raise ValueError(
            f"{where}: p must hold the 8 kinetic parameters (P1, …, P8), got shape {p.shape}. "
            "The conductance G is the separate argument g."
        )
    p = check_array(where, "p", p)
    # The parameters one by one: from a host copy when p holds values (indexing a device
    # array compiles a slice, ~10 ms in every new process), else from p itself (traced).
    q = p if isinstance(p, jax.core.Tracer) else np.asarray(p)
    for k in (0, 2, 4, 6):
        check_array(
            where,
            f"p[{k}] (P{k + 1})",
            q[k],
            unit="1/ms",
            positive=True,
            fix="P1, P3, P5 and P7 are rate constants at 0 mV.",
        )
    g = check_array(where, "g", g, unit="µS", nonnegative=True)
    e_k = _nernst(
        check_concentration(where, "k_out", k_out),
        check_concentration(where, "k_in", k_in),
        1.0,
        check_temperature(where, temperature),
    )
    a = Gate(
        alpha=ExponentialRate(q[0], q[1]),
        beta=ExponentialRate(q[2], -q[3]),
        initial=np.zeros((), p.dtype),
    )
    r = Gate(
        alpha=ExponentialRate(q[6], -q[7]),
        beta=ExponentialRate(q[4], q[5]),
        initial=np.ones((), p.dtype),
    )
    return Channel((a, r), Ohmic(g, e_k))
