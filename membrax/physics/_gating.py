"""Voltage-dependent gating: Boltzmann and sequential gates, MWC allosteric gating, gating
charge and capacitance, Hodgkin–Huxley rate functions and the α/β ↔ x∞/τ conversions."""

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from .. import constants
from .._numerics import exprel
from .._validation import check_array, check_broadcast, check_condition
from ._checks import TEMP_FIX, check_temperature
from ._nernst import _thermal_voltage

_GATE_Z_FIX = (
    "z is the gating charge in elementary charges (e.g. 4–6 e for a Kv channel's activation, "
    "negative for a gate that closes on depolarization)."
)
_RATE_FIX = "Rate constants are in 1/ms and must be >= 0."

#: Hodgkin & Huxley's squid-axon temperature, 6.3 °C, in K: their rates are given there.
_HH_TEMPERATURE = constants.ZERO_CELSIUS + 6.3


# --- Boltzmann two-state gate ----------------------------------------------------------------


def _boltzmann_argument(v, v_half, z, temperature):
    return z * (v - v_half) / _thermal_voltage(temperature)


def _boltzmann_open_probability(v, v_half, z, temperature):
    # The logistic function via jax.nn.sigmoid: no exp overflow at large |z(V − V½)|.
    return jax.nn.sigmoid(_boltzmann_argument(v, v_half, z, temperature))


def _gating_capacitance(v, v_half, z, temperature):
    x = _boltzmann_argument(v, v_half, z, temperature)
    # P(1 − P) as σ(x)σ(−x): forming 1 − P would cancel to 0 (and lose the tail) for P ≈ 1.
    return z * z * jax.nn.sigmoid(x) * jax.nn.sigmoid(-x) / _thermal_voltage(temperature)


def _check_boltzmann_args(where, v, v_half, z, temperature):
    v = check_array(where, "v", v, unit="mV")
    v_half = check_array(where, "v_half", v_half, unit="mV")
    z = check_array(where, "z", z, fix=_GATE_Z_FIX)
    temperature = check_temperature(where, temperature)
    check_broadcast(where, v=v, v_half=v_half, z=z, temperature=temperature)
    return v, v_half, z, temperature


def boltzmann_open_probability(
    v: ArrayLike, v_half: ArrayLike, z: ArrayLike, temperature: ArrayLike
) -> Float[Array, "..."]:
    r"""The open probability of a two-state (closed ⇌ open) voltage-gated channel.

    $$P_\text{open} = \frac{1}{1 + e^{-z F (V - V_{1/2}) / RT}}
      = \sigma\!\left(\frac{z\,(V - V_{1/2})}{V_T}\right),\qquad V_T = \frac{RT}{F},$$

    evaluated with `jax.nn.sigmoid`, so it never overflows. The slope factor of the usual
    empirical form $1/(1 + e^{-(V - V_{1/2})/k})$ is $k = V_T / z$ (≈ 25.3 mV/z at 20 °C).

    **Arguments:** (all broadcast together)

    - `v`: membrane potential, mV.
    - `v_half`: the half-activation voltage $V_{1/2}$, mV.
    - `z`: the gating charge, in elementary charges e: the charge moved across the whole
      field on opening. Negative for a gate that closes on depolarization (inactivation-like).
    - `temperature`: K, > 0.

    **Returns:** P_open, dimensionless in [0, 1].

    **Reference:** F. J. Sigworth (1994), Q. Rev. Biophys. 27:1; B. Hille, *Ion Channels of
    Excitable Membranes*, 3rd ed. (2001), ch. 18.
    """
    args = _check_boltzmann_args("boltzmann_open_probability", v, v_half, z, temperature)
    return _boltzmann_open_probability(*args)


def gating_charge(
    v: ArrayLike, v_half: ArrayLike, z: ArrayLike, temperature: ArrayLike
) -> Float[Array, "..."]:
    r"""The mean gating charge displaced per channel of a two-state gate (the Q–V curve).

    $$Q(V) = z\,P_\text{open}(V) = z\,\sigma\!\left(\frac{z\,(V - V_{1/2})}{V_T}\right),$$

    counted from the closed state (Q = 0 when every channel is closed), outward movement of
    positive charge positive. It rises from 0 to z across the voltage range of the gate.

    **Arguments:** as [`membrax.boltzmann_open_probability`][]: `v` and `v_half` in mV, `z` in
    e, `temperature` in K.

    **Returns:** Q in elementary charges per channel. For N channels multiply by N, and by
    `constants.ELEMENTARY_CHARGE` for coulombs (1 e = 1.602e-4 fC).

    **Reference:** W. Almers (1978), Rev. Physiol. Biochem. Pharmacol. 82:96;
    F. Bezanilla (2000), Physiol. Rev. 80:555.
    """
    args = _check_boltzmann_args("gating_charge", v, v_half, z, temperature)
    return args[2] * _boltzmann_open_probability(*args)


def gating_capacitance(
    v: ArrayLike, v_half: ArrayLike, z: ArrayLike, temperature: ArrayLike
) -> Float[Array, "..."]:
    r"""The voltage-dependent (nonlinear) capacitance of a two-state gate, per channel.

    $$C_g(V) = \frac{dQ}{dV} = \frac{z^2}{V_T}\,P_\text{open}(1 - P_\text{open}),$$

    a bell curve peaking at $V_{1/2}$ with height $z^2/(4V_T)$; it is the derivative of
    [`membrax.gating_charge`][]. $1 - P$ is evaluated as $\sigma(-x)$, so the tails stay
    accurate where P is within rounding of 1.

    **Arguments:** as [`membrax.boltzmann_open_probability`][]: `v` and `v_half` in mV, `z` in
    e, `temperature` in K.

    **Returns:** $C_g$ in elementary charges per mV per channel (e/mV). One e/mV is
    1.602177e-16 F = 1.602177e-4 pF: multiply by the channel count and by
    `constants.ELEMENTARY_CHARGE * 1e15` for pF.

    **Reference:** F. Bezanilla (2000), Physiol. Rev. 80:555; F. J. Sigworth (1994),
    Q. Rev. Biophys. 27:1.
    """
    args = _check_boltzmann_args("gating_capacitance", v, v_half, z, temperature)
    return _gating_capacitance(*args)


# --- Sequential multi-state Boltzmann ---------------------------------------------------------


class SequentialOccupancy(NamedTuple):
    """The equilibrium of a linear chain of states C₀ ⇌ C₁ ⇌ … ⇌ C_N.

    **Fields:**

    - `occupancy`: the probability of each state, C₀ first; the last axis has N + 1 entries
      and sums to one.
    - `mean_charge`: the mean gating charge displaced per channel, in e, counted from C₀.
    """

    occupancy: Float[Array, "... states"]
    mean_charge: Float[Array, "..."]


def _sequential_boltzmann(v, v_halves, charges, temperature):
    # State k has Boltzmann weight Π_{i<k} K_i = exp(Σ_{i<k} z_i (V − V_i)/V_T) relative to C₀:
    # exponentiating the sum, or multiplying the K_i, would overflow for long chains or large
    # |V|, so the normalisation is a logsumexp over the log weights.
    vt = _thermal_voltage(temperature)[..., None]
    steps = charges * (v[..., None] - v_halves) / vt
    zero = jnp.zeros_like(steps[..., :1])
    log_weight = jnp.concatenate([zero, jnp.cumsum(steps, axis=-1)], axis=-1)
    log_z = jax.scipy.special.logsumexp(log_weight, axis=-1, keepdims=True)
    occupancy = jnp.exp(log_weight - log_z)
    state_charge = jnp.concatenate([jnp.zeros_like(charges[:1]), jnp.cumsum(charges)])
    return SequentialOccupancy(occupancy, jnp.sum(occupancy * state_charge, axis=-1))


def sequential_boltzmann_occupancy(
    v: ArrayLike, v_halves: ArrayLike, charges: ArrayLike, temperature: ArrayLike
) -> SequentialOccupancy:
    r"""The equilibrium occupancies and mean gating charge of a sequential chain of N
    voltage-dependent transitions, C₀ ⇌ C₁ ⇌ … ⇌ C_N.

    Transition i (from $C_{i-1}$ to $C_i$) moves charge $z_i$ and has the equilibrium constant
    $K_i(V) = e^{z_i F (V - V_i)/RT}$, so that it is half-way at $V_i$. Then

    $$p_k = \frac{\prod_{i \le k} K_i}{\sum_{j=0}^{N} \prod_{i \le j} K_i},\qquad
      \langle Q\rangle = \sum_{k=0}^{N} p_k \sum_{i \le k} z_i,$$

    evaluated in log space (a logsumexp over $\sum_{i \le k} \ln K_i$), so neither long chains
    nor extreme voltages overflow. With N = 1 this is [`membrax.boltzmann_open_probability`][];
    as V → +∞ (all $z_i > 0$) every channel reaches $C_N$ and ⟨Q⟩ → Σ z_i. The mean charge's
    slope d⟨Q⟩/dV (the gating capacitance of the chain) is `jax.grad` away.

    **Arguments:**

    - `v`: membrane potential, mV; broadcasts with `temperature`.
    - `v_halves`: $V_i$, mV, one per transition (1-D, length N ≥ 1; a scalar means N = 1).
    - `charges`: $z_i$, e, one per transition, same length as `v_halves`.
    - `temperature`: K, > 0.

    **Returns:** a [`membrax.SequentialOccupancy`][] with `occupancy` of shape
    `broadcast(v, temperature).shape + (N + 1,)` and `mean_charge` (e per channel) of shape
    `broadcast(v, temperature).shape`.

    **Reference:** F. Bezanilla (2000), Physiol. Rev. 80:555; W. N. Zagotta, T. Hoshi &
    R. W. Aldrich (1994), J. Gen. Physiol. 103:321.
    """
    where = "sequential_boltzmann_occupancy"
    v = check_array(where, "v", v, unit="mV")
    v_halves = check_array(where, "v_halves", v_halves, unit="mV")
    charges = check_array(where, "charges", charges, fix=_GATE_Z_FIX)
    temperature = check_temperature(where, temperature)
    check_broadcast(where, v=v, temperature=temperature)
    lengths = {}
    for name, a in (("v_halves", v_halves), ("charges", charges)):
        if jnp.ndim(a) > 1:
            raise ValueError(
                f"{where}: {name} must be 1-D with one entry per transition, got shape "
                f"{jnp.shape(a)}. For a batch of gates, jax.vmap over the call."
            )
        if jnp.ndim(a) == 1:
            lengths[name] = jnp.shape(a)[0]
    if len(set(lengths.values())) > 1:
        raise ValueError(
            f"{where}: v_halves has {lengths['v_halves']} entries but charges has "
            f"{lengths['charges']}. Give one V_i and one z_i per transition."
        )
    n = next(iter(lengths.values()), 1)
    if n == 0:
        raise ValueError(f"{where}: got zero transitions; give at least one V_i and z_i.")
    v_halves, charges = (jnp.broadcast_to(a, (n,)) for a in (v_halves, charges))
    return _sequential_boltzmann(v, v_halves, charges, temperature)


# --- MWC allosteric gating -------------------------------------------------------------------


def _mwc_open_logit(v, l0, z_l, v_half_sensor, z_sensor, coupling, n_sensors, temperature):
    vt = _thermal_voltage(temperature)
    log_l = jnp.log(l0) + z_l * v / vt
    log_j = z_sensor * (v - v_half_sensor) / vt
    # ln(1 + J D) and ln(1 + J) as softplus of their logs: (1 + J D)^n alone overflows float64
    # for J D ~ 1e80 and n = 4, and L0 ~ 1e-300 would underflow; the log-odds never do.
    return log_l + n_sensors * (
        jnp.logaddexp(0.0, log_j + jnp.log(coupling)) - jnp.logaddexp(0.0, log_j)
    )


def _check_whole(where, name, x):
    """`x` must hold whole numbers (eagerly, or at run time under jit)."""
    return check_condition(
        where,
        name,
        x,
        x != jnp.round(x),
        "a whole number",
        "It counts identical voltage sensors (4 for a tetrameric channel such as BK or Kv).",
    )


def mwc_open_probability(
    v: ArrayLike,
    l0: ArrayLike,
    z_l: ArrayLike,
    v_half_sensor: ArrayLike,
    z_sensor: ArrayLike,
    coupling: ArrayLike,
    n_sensors: ArrayLike,
    temperature: ArrayLike,
) -> Float[Array, "..."]:
    r"""The open probability of an MWC-type allosteric channel with n independent voltage
    sensors coupled to one closed ⇌ open transition (Horrigan–Aldrich model without ligand).

    Each sensor is resting or activated with $J(V) = e^{z_J F (V - V_J)/RT}$ (in the closed
    channel); the gate opens with $L(V) = L_0\,e^{z_L F V/RT}$; each activated sensor
    multiplies the open/closed equilibrium by the coupling factor D. Summing over the
    $2^{n+1}$ states,

    $$P_\text{open} = \frac{L\,(1 + JD)^n}{L\,(1 + JD)^n + (1 + J)^n}
      = \sigma\!\Bigl(\ln L + n\,[\ln(1 + JD) - \ln(1 + J)]\Bigr),$$

    evaluated as the log-odds on the right, so that extreme $L_0$ or D (1e-300, 1e100) neither
    overflow nor underflow. Limits: D = 1 decouples the gate, $P = L/(1+L)$; at very negative
    V, $P \approx L(V)$ and $d\ln P/dV \to z_L/V_T$ (the limiting slope); with $z_L = 0$,
    $P \to L_0 D^n/(1 + L_0 D^n)$ as V → +∞ (for $z_J > 0$), which stays below one for weak
    coupling.

    **Arguments:** (all broadcast together)

    - `v`: membrane potential, mV.
    - `l0`: $L_0$, the closed ⇌ open equilibrium constant at 0 mV with all sensors resting,
      dimensionless, > 0.
    - `z_l`: $z_L$, the charge of the closed ⇌ open transition, e.
    - `v_half_sensor`: $V_J$, the half-activation voltage of a sensor in the closed channel,
      mV.
    - `z_sensor`: $z_J$, the charge of one sensor, e.
    - `coupling`: D, the allosteric coupling factor, dimensionless, > 0 (D > 1: activated
      sensors promote opening).
    - `n_sensors`: n, the number of sensors, a whole number ≥ 1 (4 for BK and Kv channels).
      It is structural: a float array is accepted, but its gradient has no physical meaning.
    - `temperature`: K, > 0.

    **Returns:** P_open, dimensionless in [0, 1].

    **Reference:** J. Monod, J. Wyman & J.-P. Changeux (1965), J. Mol. Biol. 12:88;
    F. T. Horrigan, J. Cui & R. W. Aldrich (1999), J. Gen. Physiol. 114:277;
    F. T. Horrigan & R. W. Aldrich (2002), J. Gen. Physiol. 120:267.
    """
    where = "mwc_open_probability"
    v = check_array(where, "v", v, unit="mV")
    l0 = check_array(
        where,
        "l0",
        l0,
        positive=True,
        fix="L0 is an equilibrium constant (dimensionless); tiny values such as 1e-6 are fine.",
    )
    z_l = check_array(where, "z_l", z_l)
    v_half_sensor = check_array(where, "v_half_sensor", v_half_sensor, unit="mV")
    z_sensor = check_array(where, "z_sensor", z_sensor, fix=_GATE_Z_FIX)
    coupling = check_array(
        where,
        "coupling",
        coupling,
        positive=True,
        fix="D is a ratio of equilibrium constants (D = 1: no coupling).",
    )
    n_sensors = check_array(where, "n_sensors", n_sensors, positive=True)
    n_sensors = _check_whole(where, "n_sensors", n_sensors)
    temperature = check_temperature(where, temperature)
    args = (v, l0, z_l, v_half_sensor, z_sensor, coupling, n_sensors, temperature)
    names = ("v", "l0", "z_l", "v_half_sensor", "z_sensor", "coupling", "n_sensors", "temperature")
    check_broadcast(where, **dict(zip(names, args)))
    return jax.nn.sigmoid(_mwc_open_logit(*args))


# --- Rate constants ---------------------------------------------------------------------------


class GateRates(NamedTuple):
    """The opening and closing rates of a gate, $dx/dt = \\alpha(1 - x) - \\beta x$.

    **Fields:**

    - `alpha`: the opening rate α, 1/ms.
    - `beta`: the closing rate β, 1/ms.
    """

    alpha: Float[Array, "..."]
    beta: Float[Array, "..."]


class GateSteadyState(NamedTuple):
    """A gate in relaxation form, $dx/dt = (x_\\infty - x)/\\tau$.

    **Fields:**

    - `steady_state`: $x_\\infty$, dimensionless in [0, 1].
    - `tau`: the time constant τ, ms.
    """

    steady_state: Float[Array, "..."]
    tau: Float[Array, "..."]


def _steady_state_from_rates(alpha, beta):
    total = alpha + beta
    return GateSteadyState(alpha / total, 1.0 / total)


def steady_state_from_rates(alpha: ArrayLike, beta: ArrayLike) -> GateSteadyState:
    r"""The steady state and time constant of a gate from its opening and closing rates.

    $$x_\infty = \frac{\alpha}{\alpha + \beta},\qquad \tau = \frac{1}{\alpha + \beta},$$

    so that $\alpha(1 - x) - \beta x = (x_\infty - x)/\tau$.

    **Arguments:** (broadcast together)

    - `alpha`: the opening rate, 1/ms, ≥ 0.
    - `beta`: the closing rate, 1/ms, ≥ 0; α + β must be > 0.

    **Returns:** a [`membrax.GateSteadyState`][] `(steady_state, tau)`, τ in ms.

    **Reference:** A. L. Hodgkin & A. F. Huxley (1952), J. Physiol. 117:500.
    """
    where = "steady_state_from_rates"
    alpha = check_array(where, "alpha", alpha, unit="1/ms", nonnegative=True, fix=_RATE_FIX)
    beta = check_array(where, "beta", beta, unit="1/ms", nonnegative=True, fix=_RATE_FIX)
    shape = check_broadcast(where, alpha=alpha, beta=beta)
    alpha = check_condition(
        where,
        "alpha + beta",
        alpha,
        jnp.broadcast_to(alpha + beta == 0, shape),
        "> 0 1/ms",
        "A gate with both rates zero never relaxes: it has no steady state or time constant.",
    )
    return _steady_state_from_rates(alpha, beta)


def rates_from_steady_state(steady_state: ArrayLike, tau: ArrayLike) -> GateRates:
    r"""The opening and closing rates of a gate from its steady state and time constant.

    $$\alpha = \frac{x_\infty}{\tau},\qquad \beta = \frac{1 - x_\infty}{\tau},$$

    the inverse of [`membrax.steady_state_from_rates`][].

    **Arguments:** (broadcast together)

    - `steady_state`: $x_\infty$, dimensionless in [0, 1]. Values above 1 are refused.
    - `tau`: the time constant, ms, > 0.

    **Returns:** a [`membrax.GateRates`][] `(alpha, beta)` in 1/ms.
    """
    where = "rates_from_steady_state"
    fix = "It is a steady-state probability, between 0 and 1."
    steady_state = check_array(where, "steady_state", steady_state, nonnegative=True, fix=fix)
    tau = check_array(where, "tau", tau, unit="ms", positive=True, fix="Time constants are in ms.")
    check_broadcast(where, steady_state=steady_state, tau=tau)
    steady_state = check_condition(
        where, "steady_state", steady_state, steady_state > 1, "<= 1", fix
    )
    return GateRates(steady_state / tau, (1.0 - steady_state) / tau)


def _q10_factor(temperature, reference_temperature, q10):
    # exp(ln q10 · ΔT/10) rather than q10**(ΔT/10): the same value, and a well-defined
    # gradient with respect to q10 as well as to both temperatures.
    return jnp.exp(jnp.log(q10) * (temperature - reference_temperature) / 10.0)


def q10_factor(
    temperature: ArrayLike, reference_temperature: ArrayLike, q10: ArrayLike
) -> Float[Array, "..."]:
    r"""The factor by which a rate measured at a reference temperature scales with temperature.

    $$\phi = Q_{10}^{(T - T_\text{ref})/10},$$

    with both temperatures in K (a difference of 10 K is 10 °C). Multiply rates by φ (and
    divide time constants by it); steady states do not change.

    **Arguments:** (all broadcast together)

    - `temperature`: T, K, > 0.
    - `reference_temperature`: $T_\text{ref}$, K, > 0: where the rates were measured.
    - `q10`: the ratio of rates 10 K apart, dimensionless, > 0 (typically 2–4; HH used 3).

    **Returns:** φ, dimensionless.

    **Reference:** A. L. Hodgkin & A. F. Huxley (1952), J. Physiol. 117:500 (φ = 3^((T − 6.3)/10)
    with T in °C); B. Hille, *Ion Channels of Excitable Membranes*, 3rd ed. (2001), ch. 18.
    """
    where = "q10_factor"
    temperature = check_temperature(where, temperature)
    reference_temperature = check_array(
        where,
        "reference_temperature",
        reference_temperature,
        unit="K",
        positive=True,
        fix=TEMP_FIX,
    )
    q10 = check_array(
        where,
        "q10",
        q10,
        positive=True,
        fix="Q10 is a ratio of rates (e.g. 3 means rates triple per 10 K).",
    )
    check_broadcast(
        where, temperature=temperature, reference_temperature=reference_temperature, q10=q10
    )
    return _q10_factor(temperature, reference_temperature, q10)


# --- Hodgkin–Huxley 1952 ----------------------------------------------------------------------


class HodgkinHuxleyRates(NamedTuple):
    """The rate constants of the three Hodgkin–Huxley gates, each a [`membrax.GateRates`][].

    **Fields:**

    - `m`: Na⁺ activation.
    - `h`: Na⁺ inactivation.
    - `n`: K⁺ activation.
    """

    m: GateRates
    h: GateRates
    n: GateRates


def _hodgkin_huxley_rates(v, temperature, q10):
    phi = _q10_factor(temperature, _HH_TEMPERATURE, q10)
    # α_n and α_m are 0·/0 at V = −55 and −40 mV in the textbook form a(V−V₀)/(1 − e^{−(V−V₀)/k});
    # as exprel they are finite, with finite gradients, there and everywhere.
    alpha_m = 1.0 * exprel(-(v + 40.0) / 10.0)
    beta_m = 4.0 * jnp.exp(-(v + 65.0) / 18.0)
    alpha_h = 0.07 * jnp.exp(-(v + 65.0) / 20.0)
    # 1/(1 + e^{−x}) as a sigmoid: no overflow of e^{−x} at very negative V.
    beta_h = jax.nn.sigmoid((v + 35.0) / 10.0)
    alpha_n = 0.1 * exprel(-(v + 55.0) / 10.0)
    beta_n = 0.125 * jnp.exp(-(v + 65.0) / 80.0)
    return HodgkinHuxleyRates(
        m=GateRates(phi * alpha_m, phi * beta_m),
        h=GateRates(phi * alpha_h, phi * beta_h),
        n=GateRates(phi * alpha_n, phi * beta_n),
    )


def hodgkin_huxley_rates(
    v: ArrayLike, temperature: ArrayLike, *, q10: ArrayLike = 3.0
) -> HodgkinHuxleyRates:
    r"""The Hodgkin–Huxley (1952) squid-axon rate constants, in the modern convention
    (V = membrane potential, inside − outside, in mV; rest at −65 mV).

    At 6.3 °C, with V in mV and rates in 1/ms,

    $$\begin{aligned}
    \alpha_m &= \frac{0.1\,(V + 40)}{1 - e^{-(V + 40)/10}}
               = \operatorname{exprel}\!\bigl(-\tfrac{V + 40}{10}\bigr), &
    \beta_m &= 4\,e^{-(V + 65)/18},\\
    \alpha_h &= 0.07\,e^{-(V + 65)/20}, &
    \beta_h &= \frac{1}{1 + e^{-(V + 35)/10}},\\
    \alpha_n &= \frac{0.01\,(V + 55)}{1 - e^{-(V + 55)/10}}
               = 0.1\operatorname{exprel}\!\bigl(-\tfrac{V + 55}{10}\bigr), &
    \beta_n &= 0.125\,e^{-(V + 65)/80},
    \end{aligned}$$

    and every rate is multiplied by $\phi = Q_{10}^{(T - 279.45\,\text{K})/10}$ (HH's
    temperature factor, $Q_{10} = 3$). Through `exprel`, $\alpha_m(-40) = 1$ and
    $\alpha_n(-55) = 0.1$ exactly, with finite gradients. HH wrote these with $V_\text{HH}$ =
    (rest − V), depolarisation negative; substitute $V_\text{HH} = -(V + 65)$ to compare.

    **Arguments:**

    - `v`: membrane potential, mV.
    - `temperature`: K, > 0 (HH's experiments: 6.3 °C = 279.45 K, where φ = 1).
    - `q10`: the temperature coefficient of every rate, > 0; default 3 (HH 1952).

    **Returns:** a [`membrax.HodgkinHuxleyRates`][] with fields `m`, `h`, `n`, each a
    [`membrax.GateRates`][] `(alpha, beta)` in 1/ms; e.g.
    `membrax.steady_state_from_rates(*rates.n)` gives $n_\infty$ and $\tau_n$.

    **Reference:** A. L. Hodgkin & A. F. Huxley (1952), J. Physiol. 117:500.
    """
    where = "hodgkin_huxley_rates"
    v = check_array(where, "v", v, unit="mV")
    temperature = check_temperature(where, temperature)
    q10 = check_array(
        where,
        "q10",
        q10,
        positive=True,
        fix="Q10 is a ratio of rates (HH used 3: rates triple per 10 K).",
    )
    check_broadcast(where, v=v, temperature=temperature, q10=q10)
    return _hodgkin_huxley_rates(v, temperature, q10)
