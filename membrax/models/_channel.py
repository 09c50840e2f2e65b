"""A channel population: gating kinetics combined with a permeation law."""

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from .. import constants
from .._custom_types import float_array
from ._checks import check_field
from ._gating import AbstractGate, AbstractGating, IndependentGates
from ._permeation import AbstractPermeation


def _as_gating(gating):
    # A gate, or a tuple of gates, reads as Hodgkin–Huxley gating: Channel((m, h), law).
    if isinstance(gating, AbstractGate):
        return IndependentGates((gating,))
    if isinstance(gating, (tuple, list)):
        return IndependentGates(tuple(gating))
    return gating


class Channel(eqx.Module):
    r"""A population of identical channels: gating kinetics and a permeation law,
    $I = \text{permeation.current}(V, P_\text{open}(x))$.

    **Fields:**

    - `gating`: an [`membrax.models.AbstractGating`][] (a Markov scheme, or
      [`membrax.models.IndependentGates`][]); a gate or a tuple of gates is accepted and
      wrapped, so `Channel((m, h), Ohmic(120.0, 50.0))` is an HH sodium channel and
      `Channel((), Ohmic(0.3, -54.4))` a leak.
    - `permeation`: an [`membrax.models.AbstractPermeation`][] such as
      [`membrax.models.Ohmic`][].
    - `n_channels`: the number of channels (or channels per unit area), only used to scale
      gating currents (default 1: the charge movement of one channel).
    """

    gating: AbstractGating = eqx.field(converter=_as_gating)
    permeation: AbstractPermeation
    n_channels: Float[Array, ""] = eqx.field(converter=float_array, default=1.0)

    def __check_init__(self):
        if not isinstance(self.gating, AbstractGating):
            raise TypeError(
                "Channel: gating must be a Markov scheme, IndependentGates, a gate or a tuple "
                f"of gates, got {type(self.gating).__name__}."
            )
        if not isinstance(self.permeation, AbstractPermeation):
            raise TypeError(
                "Channel: permeation must be a permeation law such as membrax.models.Ohmic, "
                f"got {type(self.permeation).__name__}."
            )
        check_field("Channel", "n_channels", self.n_channels, nonnegative=True)

    @property
    def n_states(self) -> int:
        return self.gating.n_states

    def open_probability(self, x: ArrayLike) -> Float[Array, "..."]:
        """The open probability in state x."""
        return self.gating.open_probability(x)

    def current(self, x: ArrayLike, v: ArrayLike) -> Float[Array, "..."]:
        """The ionic current in state x at V (mV), in the permeation law's units."""
        return self.permeation.current(v, self.gating.open_probability(x))

    def gating_current(self, x: ArrayLike, v: ArrayLike) -> Float[Array, "..."]:
        r"""The gating current $n_\text{channels}\,e\,dQ/dt$ in pA when `n_channels` counts
        channels (1 fC/ms = 1 pA); outward (positive charge moving out) positive."""
        if not self.gating.carries_charge:
            return jnp.zeros(jnp.broadcast_shapes(jnp.shape(x)[:-1], jnp.shape(v)))
        flux = self.gating.charge_movement(x, v)
        return self.n_channels * constants.ELEMENTARY_CHARGE_FC * flux

    def gating_charge(self, x: ArrayLike) -> Float[Array, "..."]:
        """The displaced gating charge $n_\text{channels}\\,e\\,Q(x)$ in fC."""
        return self.n_channels * constants.ELEMENTARY_CHARGE_FC * self.gating.charge(x)
