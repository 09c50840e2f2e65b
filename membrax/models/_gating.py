"""Gating kinetics as Modules: single gates (α/β, x∞/τ, Boltzmann two-state), sets of
independent Hodgkin–Huxley gates, and Markov schemes (free rates, or a free-energy landscape
that obeys microscopic reversibility by construction).

Every gating Module is linear in its state at fixed voltage, dx/dt = f(x, V), which is what
the exact voltage-clamp solver exploits: over a time step at constant V the state moves by
`x @ m + c` (dense m, Markov schemes) or `x * m + c` (diagonal m, independent gates), with
`(m, c) = gating.propagator(v, dt)`.

Methods take a membrane potential `v` in mV of any shape and broadcast over it: a state has
shape `v.shape + (n_states,)`.
"""

import abc
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .._custom_types import float_array
from .._numerics import small_vecmat
from ..physics._gating import _boltzmann_open_probability, _gating_capacitance
from ..physics._markov import (
    _check_edges,
    _markov_propagator,
    _markov_steady_state,
    _transition_matrix,
)
from ..physics._nernst import _thermal_voltage
from ._checks import check_field
from ._rates import AbstractRate, AbstractTime, BoltzmannCurve

# --- single gates ----------------------------------------------------------------------------


class AbstractGate(eqx.Module):
    """One gating particle x obeying dx/dt = (x∞(V) − x)·r(V), r = 1/τ.

    Concrete gates define `relaxation(v) -> (x_inf, rate)`, and carry `power` (how many
    identical particles multiply into the open probability, HH's m³ has power 3), `initial`
    (the state at t = 0, or None for the steady state at the first voltage) and `charge` (the
    gating charge per particle, e; zero unless the gate is a Boltzmann gate).
    """

    power: eqx.AbstractVar[int]
    initial: eqx.AbstractVar[Float[Array, ""] | None]

    @abc.abstractmethod
    def relaxation(self, v: ArrayLike) -> tuple[Float[Array, "..."], Float[Array, "..."]]:
        """The steady state x∞(V) (dimensionless) and relaxation rate 1/τ(V) (1/ms)."""

    @property
    @abc.abstractmethod
    def charge(self) -> Float[Array, ""]:
        """The gating charge moved by one particle going from 0 to 1, e."""


def _check_gate(owner, power, initial):
    if not isinstance(power, int) or isinstance(power, bool) or power < 1:
        raise ValueError(
            f"{owner}: power must be a whole number >= 1 (an int), got {power!r}. It counts "
            "identical gating particles (HH: m**3 has power 3)."
        )
    if initial is not None:
        check_field(owner, "initial", initial, nonnegative=True)
        if not isinstance(initial, jax.core.Tracer) and (np.asarray(initial) > 1).any():
            raise ValueError(
                f"{owner}: initial must be between 0 and 1, got {np.asarray(initial).item()!r}. "
                "It is the fraction of gating particles in the permissive state at t = 0."
            )


def _optional_float(x):
    return None if x is None else float_array(x)


class Gate(AbstractGate):
    r"""A Hodgkin–Huxley gate in the α/β form: $dx/dt = \alpha(V)(1 - x) - \beta(V)\,x$, so
    $x_\infty = \alpha/(\alpha + \beta)$ and $\tau = 1/(\alpha + \beta)$.

    **Fields:**

    - `alpha`, `beta`: rate laws (e.g. [`membrax.models.ExponentialRate`][]), 1/ms.
    - `power`: the exponent of x in the open probability (static int, default 1).
    - `initial`: x at t = 0, in [0, 1]; None (default) starts at steady state.
    """

    alpha: AbstractRate
    beta: AbstractRate
    power: int = eqx.field(static=True, default=1)
    initial: Float[Array, ""] | None = eqx.field(converter=_optional_float, default=None)

    def __check_init__(self):
        _check_gate("Gate", self.power, self.initial)

    def relaxation(self, v):
        alpha, beta = self.alpha(v), self.beta(v)
        rate = alpha + beta
        return alpha / rate, rate

    @property
    def charge(self):
        return jnp.zeros(())


class TauInfGate(AbstractGate):
    r"""A gate in the (x∞, τ) form: $dx/dt = (x_\infty(V) - x)/\tau(V)$.

    **Fields:**

    - `steady_state`: the curve x∞(V), e.g. [`membrax.models.BoltzmannCurve`][].
    - `time_constant`: τ(V) in ms, e.g. [`membrax.models.ConstantTime`][].
    - `power`, `initial`: as for [`membrax.models.Gate`][].
    """

    steady_state: BoltzmannCurve
    time_constant: AbstractTime
    power: int = eqx.field(static=True, default=1)
    initial: Float[Array, ""] | None = eqx.field(converter=_optional_float, default=None)

    def __check_init__(self):
        _check_gate("TauInfGate", self.power, self.initial)

    def relaxation(self, v):
        return self.steady_state(v), 1.0 / self.time_constant(v)

    @property
    def charge(self):
        return jnp.zeros(())


class BoltzmannGate(AbstractGate):
    r"""A two-state (closed ⇌ open) gate whose equilibrium is set by its gating charge z:

    $$x_\infty = \sigma\!\left(\frac{z (V - V_{1/2})}{V_T}\right),\qquad
      Q(V) = z\,x_\infty,\qquad C_g = \frac{dQ}{dV} = \frac{z^2}{V_T} x_\infty (1 - x_\infty),$$

    relaxing with a voltage-independent time constant τ. Its charge movement z·dx/dt is the
    gating current; see [`membrax.gating_charge`][] and [`membrax.gating_capacitance`][].

    **Fields:**

    - `v_half`: $V_{1/2}$, mV.
    - `z`: the gating charge, e (negative for a gate closing on depolarisation).
    - `temperature`: K, > 0.
    - `tau`: τ, ms, > 0.
    - `power`, `initial`: as for [`membrax.models.Gate`][].
    """

    v_half: Float[Array, ""] = eqx.field(converter=float_array)
    z: Float[Array, ""] = eqx.field(converter=float_array)
    temperature: Float[Array, ""] = eqx.field(converter=float_array)
    tau: Float[Array, ""] = eqx.field(converter=float_array)
    power: int = eqx.field(static=True, default=1)
    initial: Float[Array, ""] | None = eqx.field(converter=_optional_float, default=None)

    def __check_init__(self):
        check_field("BoltzmannGate", "temperature", self.temperature, unit="K", positive=True)
        check_field("BoltzmannGate", "tau", self.tau, unit="ms", positive=True)
        check_field("BoltzmannGate", "z", self.z)
        _check_gate("BoltzmannGate", self.power, self.initial)

    def relaxation(self, v):
        x_inf = _boltzmann_open_probability(v, self.v_half, self.z, self.temperature)
        return x_inf, jnp.broadcast_to(1.0 / self.tau, jnp.shape(x_inf))

    @property
    def charge(self):
        return self.z

    def open_probability(self, v: ArrayLike) -> Float[Array, "..."]:
        """The equilibrium open probability x∞(V)."""
        return self.relaxation(v)[0]

    def gating_charge(self, v: ArrayLike) -> Float[Array, "..."]:
        """The equilibrium gating charge Q(V) = z·x∞(V), e per particle."""
        return self.z * self.open_probability(v)

    def gating_capacitance(self, v: ArrayLike) -> Float[Array, "..."]:
        """dQ/dV = (z²/V_T)·x∞(1 − x∞), e/mV per particle."""
        return _gating_capacitance(v, self.v_half, self.z, self.temperature)


# --- gating schemes --------------------------------------------------------------------------


class AbstractGating(eqx.Module):
    """The gating of a channel: a state vector linear in time at fixed voltage.

    `diagonal` says whether `propagator` returns one multiplier per state (independent gates)
    or a full transition matrix (Markov schemes).
    """

    diagonal: ClassVar[bool]

    @property
    @abc.abstractmethod
    def n_states(self) -> int:
        """The length of the state vector."""

    @abc.abstractmethod
    def steady_state(self, v: ArrayLike) -> Float[Array, "... states"]:
        """The equilibrium state at V."""

    @abc.abstractmethod
    def initial_state(self, v: ArrayLike) -> Float[Array, "... states"]:
        """The state at t = 0 when the protocol starts at V (fixed initial values if given,
        else the steady state)."""

    @abc.abstractmethod
    def derivative(self, x: ArrayLike, v: ArrayLike) -> Float[Array, "... states"]:
        """dx/dt in 1/ms."""

    @abc.abstractmethod
    def propagator(self, v: ArrayLike, dt: ArrayLike) -> tuple[Array, Array]:
        """`(m, c)` with x(t + dt) = x(t)·m + c (diagonal) or x(t) @ m + c (dense), V fixed."""

    @abc.abstractmethod
    def open_probability(self, x: ArrayLike) -> Float[Array, "..."]:
        """The fraction of channels conducting in state x."""

    @abc.abstractmethod
    def charge(self, x: ArrayLike) -> Float[Array, "..."]:
        """The gating charge displaced in state x, e per channel (from the reference state)."""

    @abc.abstractmethod
    def charge_movement(self, x: ArrayLike, v: ArrayLike) -> Float[Array, "..."]:
        """dQ/dt, e per ms per channel: the gating current of one channel."""

    @property
    @abc.abstractmethod
    def carries_charge(self) -> bool:
        """Whether any transition moves gating charge (static: decides whether simulators
        compute gating currents at all)."""


class IndependentGates(AbstractGating):
    r"""Hodgkin–Huxley gating: independent gates whose powers multiply into the open
    probability, $P_\text{open} = \prod_i x_i^{p_i}$ (e.g. m³h). The state is the vector of
    gate values, in the order of `gates`; an empty tuple is an ungated (leak) channel.

    Each gate relaxes exponentially at fixed voltage, so the exact propagator is
    $x(t + \Delta t) = x_\infty + (x - x_\infty)e^{-\Delta t/\tau}$, elementwise.
    """

    gates: tuple[AbstractGate, ...]
    diagonal: ClassVar[bool] = True

    def __check_init__(self):
        for k, gate in enumerate(self.gates):
            if not isinstance(gate, AbstractGate):
                raise TypeError(
                    f"IndependentGates: gates[{k}] must be a gate (membrax.models.Gate, "
                    f"TauInfGate or BoltzmannGate), got {type(gate).__name__}."
                )

    @property
    def n_states(self):
        return len(self.gates)

    def relaxation(self, v):
        """Per-gate steady states x∞(V) and rates 1/τ(V) (1/ms), each of shape v.shape + (n,)."""
        v = jnp.asarray(v)
        if not self.gates:
            empty = jnp.zeros((*v.shape, 0), float_array(v).dtype)
            return empty, empty
        pairs = [gate.relaxation(v) for gate in self.gates]
        x_inf = jnp.stack([jnp.broadcast_to(x, v.shape) for x, _ in pairs], axis=-1)
        rate = jnp.stack([jnp.broadcast_to(r, v.shape) for _, r in pairs], axis=-1)
        return x_inf, rate

    def steady_state(self, v):
        return self.relaxation(v)[0]

    def initial_state(self, v):
        x = self.steady_state(v)
        for k, gate in enumerate(self.gates):
            if gate.initial is not None:
                x = x.at[..., k].set(gate.initial)
        return x

    def derivative(self, x, v):
        x_inf, rate = self.relaxation(v)
        return (x_inf - x) * rate

    def propagator(self, v, dt):
        x_inf, rate = self.relaxation(v)
        # One expm1 gives both: c = x∞(1 − m) keeps full relative precision for tiny
        # rate·dt (where 1 − exp would cancel), and m = 1 + expm1 is exact to absolute rounding.
        decay = jnp.expm1(-rate * jnp.asarray(dt)[..., None])
        return 1.0 + decay, -x_inf * decay

    def open_probability(self, x):
        x = jnp.asarray(x)
        p = jnp.ones(x.shape[:-1], x.dtype)
        for k, gate in enumerate(self.gates):
            p = p * x[..., k] ** gate.power
        return p

    def _charges(self):
        if not self.gates:
            return jnp.zeros((0,))
        return jnp.stack([gate.power * jnp.asarray(gate.charge, float) for gate in self.gates])

    def charge(self, x):
        return jnp.sum(jnp.asarray(x) * self._charges(), axis=-1)

    def charge_movement(self, x, v):
        return jnp.sum(self.derivative(x, v) * self._charges(), axis=-1)

    @property
    def carries_charge(self):
        return any(isinstance(gate, BoltzmannGate) for gate in self.gates)


def _as_conducting(n_states, conducting, owner):
    conducting = tuple(int(s) for s in np.atleast_1d(np.asarray(conducting, dtype=int)))
    for s in conducting:
        if not 0 <= s < n_states:
            raise ValueError(
                f"{owner}: conducting state {s} does not exist; the scheme has {n_states} "
                f"states, numbered 0 to {n_states - 1}."
            )
    if not conducting:
        raise ValueError(f"{owner}: conducting is empty; name at least one open state.")
    return conducting


def _check_initial_occupancy(owner, n_states, initial):
    if initial is None:
        return
    if jnp.shape(initial) != (n_states,):
        raise ValueError(
            f"{owner}: initial must have one occupancy per state, shape ({n_states},), got "
            f"shape {jnp.shape(initial)}."
        )
    check_field(owner, "initial", initial, nonnegative=True)
    if not isinstance(initial, jax.core.Tracer):
        total = float(np.sum(np.asarray(initial)))
        if abs(total - 1.0) > 1e-9:
            raise ValueError(
                f"{owner}: initial occupancies must sum to 1, got {total!r}. They are the "
                "probabilities of the states at t = 0."
            )


class AbstractMarkovScheme(AbstractGating):
    """A Markov scheme on `n_states` states with transitions `sources[k]` ⇌ `targets[k]`.
    Concrete schemes define `rates(v) -> (forward, backward)`, each of shape v.shape + (K,),
    and `state_charges`, the gating charge of each state in e."""

    n_states_: eqx.AbstractVar[int]
    sources: eqx.AbstractVar[tuple[int, ...]]
    targets: eqx.AbstractVar[tuple[int, ...]]
    conducting: eqx.AbstractVar[tuple[int, ...]]
    initial: eqx.AbstractVar[Float[Array, " states"] | None]
    diagonal: ClassVar[bool] = False

    @abc.abstractmethod
    def rates(self, v: ArrayLike) -> tuple[Float[Array, "... K"], Float[Array, "... K"]]:
        """Forward (source → target) and backward rates of every transition, 1/ms."""

    @property
    @abc.abstractmethod
    def state_charges(self) -> Float[Array, " states"]:
        """The gating charge of each state, e (differences are what moves)."""

    @property
    def n_states(self):
        return self.n_states_

    def q_matrix(self, v: ArrayLike) -> Float[Array, "... states states"]:
        """The transition-rate matrix Q(V), 1/ms, rows summing to zero (dp/dt = pQ)."""
        forward, backward = self.rates(v)
        return _transition_matrix(
            self.n_states_, np.asarray(self.sources), np.asarray(self.targets), forward, backward
        )

    def steady_state(self, v):
        return _markov_steady_state(self.q_matrix(v))

    def initial_state(self, v):
        x = self.steady_state(v)
        if self.initial is None:
            return x
        return jnp.broadcast_to(self.initial, x.shape).astype(x.dtype)

    def derivative(self, x, v):
        return small_vecmat(x, self.q_matrix(v))

    def propagator(self, v, dt):
        m = _markov_propagator(self.q_matrix(v), dt)
        return m, jnp.zeros(m.shape[:-1], m.dtype)

    def open_probability(self, x):
        return jnp.sum(jnp.asarray(x)[..., np.asarray(self.conducting)], axis=-1)

    def charge(self, x):
        if self.state_charges is None:
            return jnp.zeros(jnp.shape(x)[:-1], jnp.result_type(x, float))
        return jnp.sum(jnp.asarray(x) * self.state_charges, axis=-1)

    def charge_movement(self, x, v):
        # dQ/dt = Σ_j q_j dp_j/dt: the net flux over each transition times the charge it moves.
        return self.charge(self.derivative(x, v))

    @property
    def carries_charge(self):
        return self.state_charges is not None


def _check_scheme(owner, n_states, sources, targets, conducting, initial):
    if not isinstance(n_states, int) or n_states < 1:
        raise ValueError(f"{owner}: n_states must be an int >= 1, got {n_states!r}.")
    _check_edges(owner, n_states, sources, targets)
    _check_initial_occupancy(owner, n_states, initial)


def _edge_tuples(transitions, owner):
    try:
        pairs = [(int(a), int(b)) for a, b in transitions]
    except (TypeError, ValueError):
        raise ValueError(
            f"{owner}: transitions must be a sequence of (source, target) state-index pairs, "
            f"e.g. ((0, 1), (1, 2)); got {transitions!r}."
        ) from None
    if not pairs:
        raise ValueError(f"{owner}: transitions is empty; give at least one (source, target).")
    return tuple(a for a, _ in pairs), tuple(b for _, b in pairs)


class MarkovScheme(AbstractMarkovScheme):
    r"""A Markov kinetic scheme with free voltage-dependent rates.

    Transition k connects states `transitions[k] = (i, j)`; its forward rate (i → j) is
    `forward(v)[..., k]` and its backward rate `backward(v)[..., k]`, where `forward` and
    `backward` are vectorised rate laws whose fields have one entry per transition, e.g.
    `ExponentialRate(rate=jnp.array([...]), slope=jnp.array([...]))` for the
    $k = e^{a + bV}$ laws of hERG models. Occupancies obey dp/dt = pQ(V).

    Nothing here enforces microscopic reversibility around cycles; use
    [`membrax.models.ReversibleMarkovScheme`][] for that.

    **Arguments:**

    - `n_states`: the number of states.
    - `transitions`: a sequence of `(source, target)` pairs of state indices.
    - `forward`, `backward`: rate laws, each returning shape `v.shape + (K,)`, 1/ms.
    - `conducting`: index (or indices) of the open state(s).
    - `state_charges`: gating charge of each state, e (default None: no charge moves, and
      simulators skip gating currents).
    - `initial`: occupancies at t = 0 (summing to 1), or None for the steady state.
    - `state_names`: optional labels, for printing.
    """

    n_states_: int = eqx.field(static=True)
    sources: tuple[int, ...] = eqx.field(static=True)
    targets: tuple[int, ...] = eqx.field(static=True)
    forward: AbstractRate
    backward: AbstractRate
    conducting: tuple[int, ...] = eqx.field(static=True)
    state_charges_: Float[Array, " states"] | None
    initial: Float[Array, " states"] | None
    state_names: tuple[str, ...] | None = eqx.field(static=True)

    def __init__(
        self,
        n_states: int,
        transitions,
        forward: AbstractRate,
        backward: AbstractRate,
        conducting,
        *,
        state_charges: ArrayLike | None = None,
        initial: ArrayLike | None = None,
        state_names=None,
    ):
        owner = "MarkovScheme"
        self.n_states_ = n_states
        self.sources, self.targets = _edge_tuples(transitions, owner)
        self.forward = forward
        self.backward = backward
        self.conducting = _as_conducting(n_states, conducting, owner) if n_states else ()
        self.state_charges_ = _optional_float(state_charges)
        self.initial = _optional_float(initial)
        self.state_names = None if state_names is None else tuple(str(s) for s in state_names)

    def __check_init__(self):
        owner = "MarkovScheme"
        _check_scheme(
            owner, self.n_states_, self.sources, self.targets, self.conducting, self.initial
        )
        k = len(self.sources)
        for name in ("forward", "backward"):
            law = getattr(self, name)
            if not isinstance(law, AbstractRate):
                raise TypeError(f"{owner}: {name} must be a rate law, got {type(law).__name__}.")
            shape = jnp.shape(jax.eval_shape(law, jax.ShapeDtypeStruct((), float)))
            if shape not in ((k,), ()):
                raise ValueError(
                    f"{owner}: {name} gives rates of shape {shape} at one voltage; it needs one "
                    f"rate per transition, shape ({k},). Give its fields {k} entries."
                )
        if self.state_charges_ is not None and jnp.shape(self.state_charges_) != (self.n_states_,):
            raise ValueError(
                f"{owner}: state_charges must have shape ({self.n_states_},), got "
                f"{jnp.shape(self.state_charges_)}."
            )
        if self.state_names is not None and len(self.state_names) != self.n_states_:
            raise ValueError(
                f"{owner}: state_names has {len(self.state_names)} names for "
                f"{self.n_states_} states."
            )

    def rates(self, v):
        v = jnp.asarray(v)[..., None]
        k = len(self.sources)
        shape = (*v.shape[:-1], k)
        return jnp.broadcast_to(self.forward(v), shape), jnp.broadcast_to(self.backward(v), shape)

    @property
    def state_charges(self):
        return self.state_charges_


class ReversibleMarkovScheme(AbstractMarkovScheme):
    r"""A Markov scheme parametrised by a free-energy landscape, so that microscopic
    reversibility holds exactly around every cycle, whatever the parameter values.

    State i has free energy $G_i - q_i V/V_T$ and transition k (i ⇌ j) a barrier
    $G^\ddagger_k - q^\ddagger_k V/V_T$ (all in units of kT, charges in e, $V_T = RT/F$).
    Eyring rates over the barrier,

    $$k_{i\to j}(V) = \kappa\,\exp\!\bigl[-(G^\ddagger_k - G_i)
        + (q^\ddagger_k - q_i)\,V/V_T\bigr],$$

    give $k_{i\to j}/k_{j\to i} = e^{-(G_j - G_i) + (q_j - q_i)V/V_T}$: around any cycle the
    product of these ratios telescopes to one (detailed balance), and the equilibrium is the
    Boltzmann distribution over the states. A transition moves charge $q_j - q_i$.

    **Arguments:**

    - `n_states`, `transitions`, `conducting`, `initial`, `state_names`: as for
      [`membrax.models.MarkovScheme`][].
    - `state_energy`: $G_i$, kT, shape (n_states,) (one may be fixed at 0: only differences
      matter).
    - `state_charge`: $q_i$, e, shape (n_states,).
    - `barrier_energy`: $G^\ddagger_k$, kT, shape (K,).
    - `barrier_charge`: $q^\ddagger_k$, e, shape (K,) (a barrier at electrical distance δ
      between its states has $q^\ddagger = q_i + \delta(q_j - q_i)$).
    - `attempt_rate`: κ, 1/ms, > 0.
    - `temperature`: K, > 0.

    **Reference:** B. Hille, *Ion Channels of Excitable Membranes*, 3rd ed. (2001), ch. 14;
    D. Colquhoun et al. (2004), Biophys. J. 86:3510 (microscopic reversibility).
    """

    n_states_: int = eqx.field(static=True)
    sources: tuple[int, ...] = eqx.field(static=True)
    targets: tuple[int, ...] = eqx.field(static=True)
    state_energy: Float[Array, " states"]
    state_charge: Float[Array, " states"]
    barrier_energy: Float[Array, " K"]
    barrier_charge: Float[Array, " K"]
    attempt_rate: Float[Array, ""]
    temperature: Float[Array, ""]
    conducting: tuple[int, ...] = eqx.field(static=True)
    initial: Float[Array, " states"] | None
    state_names: tuple[str, ...] | None = eqx.field(static=True)

    def __init__(
        self,
        n_states: int,
        transitions,
        *,
        state_energy: ArrayLike,
        state_charge: ArrayLike,
        barrier_energy: ArrayLike,
        barrier_charge: ArrayLike,
        attempt_rate: ArrayLike,
        temperature: ArrayLike,
        conducting,
        initial: ArrayLike | None = None,
        state_names=None,
    ):
        owner = "ReversibleMarkovScheme"
        self.n_states_ = n_states
        self.sources, self.targets = _edge_tuples(transitions, owner)
        self.state_energy = float_array(state_energy)
        self.state_charge = float_array(state_charge)
        self.barrier_energy = float_array(barrier_energy)
        self.barrier_charge = float_array(barrier_charge)
        self.attempt_rate = float_array(attempt_rate)
        self.temperature = float_array(temperature)
        self.conducting = _as_conducting(n_states, conducting, owner) if n_states else ()
        self.initial = _optional_float(initial)
        self.state_names = None if state_names is None else tuple(str(s) for s in state_names)

    def __check_init__(self):
        owner = "ReversibleMarkovScheme"
        _check_scheme(
            owner, self.n_states_, self.sources, self.targets, self.conducting, self.initial
        )
        k = len(self.sources)
        for name, size in (
            ("state_energy", self.n_states_),
            ("state_charge", self.n_states_),
            ("barrier_energy", k),
            ("barrier_charge", k),
        ):
            value = getattr(self, name)
            if jnp.shape(value) != (size,):
                raise ValueError(
                    f"{owner}: {name} must have shape ({size},), got {jnp.shape(value)}."
                )
            check_field(owner, name, value)
        check_field(owner, "attempt_rate", self.attempt_rate, unit="1/ms", positive=True)
        check_field(owner, "temperature", self.temperature, unit="K", positive=True)

    def rates(self, v):
        v = jnp.asarray(v)[..., None]
        vt = _thermal_voltage(self.temperature)
        src, dst = np.asarray(self.sources), np.asarray(self.targets)
        barrier = self.barrier_energy - self.barrier_charge * v / vt
        state = self.state_energy - self.state_charge * v / vt
        log_kappa = jnp.log(self.attempt_rate)
        forward = jnp.exp(log_kappa - (barrier - state[..., src]))
        backward = jnp.exp(log_kappa - (barrier - state[..., dst]))
        return forward, backward

    @property
    def state_charges(self):
        return self.state_charge
