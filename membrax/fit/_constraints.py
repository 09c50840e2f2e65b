"""Constraints by reparametrisation: a parameter is stored as an unconstrained array inside a
small Module, and `unwrap` turns every such Module back into the constrained value."""

import abc

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .._custom_types import float_array


class AbstractConstraint(eqx.Module):
    """A parameter in an unconstrained coordinate. `unwrap()` gives the constrained value;
    `unconstrained` is what an optimiser moves."""

    @abc.abstractmethod
    def unwrap(self) -> Float[Array, "..."]:
        """The constrained parameter value."""


class Positive(AbstractConstraint):
    """A parameter kept > 0 by fitting its logarithm: value = exp(u)."""

    unconstrained: Float[Array, "..."]

    def __init__(self, value: ArrayLike):
        value = float_array(value)
        if not isinstance(value, jax.core.Tracer) and not bool(jnp.all(value > 0)):
            raise ValueError(
                f"Positive: the starting value must be > 0, got {value!r}. Start the fit from "
                "a positive value (a tiny one such as 1e-6 is fine)."
            )
        self.unconstrained = jnp.log(value)

    def unwrap(self):
        return jnp.exp(self.unconstrained)


class Bounded(AbstractConstraint):
    """A parameter kept inside (lower, upper) by fitting its logit:
    value = lower + (upper − lower)·sigmoid(u)."""

    unconstrained: Float[Array, "..."]
    lower: Float[Array, "..."] = eqx.field(converter=float_array)
    upper: Float[Array, "..."] = eqx.field(converter=float_array)

    def __init__(self, value: ArrayLike, lower: ArrayLike, upper: ArrayLike):
        value, lower, upper = float_array(value), float_array(lower), float_array(upper)
        if not bool(jnp.all(lower < upper)):
            raise ValueError(f"Bounded: lower must be < upper, got {lower!r} and {upper!r}.")
        if not bool(jnp.all((value > lower) & (value < upper))):
            raise ValueError(
                f"Bounded: the starting value {value!r} must lie strictly inside "
                f"({lower!r}, {upper!r})."
            )
        fraction = (value - lower) / (upper - lower)
        self.unconstrained = jnp.log(fraction) - jnp.log1p(-fraction)
        self.lower, self.upper = lower, upper

    def unwrap(self):
        return self.lower + (self.upper - self.lower) * jax.nn.sigmoid(self.unconstrained)


class Fixed(AbstractConstraint):
    """A parameter that is never fitted (and passes no gradient)."""

    value: Float[Array, "..."] = eqx.field(converter=float_array)

    def unwrap(self):
        return jax.lax.stop_gradient(self.value)


class Free(AbstractConstraint):
    """An unconstrained parameter: value = u."""

    unconstrained: Float[Array, "..."] = eqx.field(converter=float_array)

    def unwrap(self):
        return self.unconstrained


class SignedLog(AbstractConstraint):
    """The default reparametrisation of a fitted parameter: it keeps its sign,
    value = sign·exp(u) (zero stays zero). Rate constants stay positive; a voltage slope
    keeps its direction."""

    unconstrained: Float[Array, "..."]
    sign: Float[Array, "..."]

    def __init__(self, value: ArrayLike):
        value = float_array(value)
        if isinstance(value, jax.core.Tracer):
            self.sign = jnp.sign(value)
            self.unconstrained = jnp.log(jnp.where(value == 0, 1.0, jnp.abs(value)))
        else:  # NumPy: no per-process compilation of four tiny jnp operations
            v = np.asarray(value)
            self.sign = jax.device_put(np.sign(v))
            self.unconstrained = jax.device_put(np.log(np.where(v == 0, 1.0, np.abs(v))))

    def unwrap(self):
        return self.sign * jnp.exp(self.unconstrained)


def _is_constraint(x) -> bool:
    return isinstance(x, AbstractConstraint)


def unwrap(tree):
    """Replace every constraint in `tree` (a model) by its constrained value."""
    return jax.tree.map(
        lambda x: x.unwrap() if _is_constraint(x) else x, tree, is_leaf=_is_constraint
    )
