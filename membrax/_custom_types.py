"""Array conversion and type aliases shared by every layer."""

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

#: Anything `jnp.asarray` accepts that holds real numbers: floats, ints, NumPy or JAX arrays.
RealLike = ArrayLike


def float_array(x: ArrayLike) -> Float[Array, "..."]:
    """`x` as a JAX array of a floating dtype.

    Floating inputs keep their dtype (float32 stays float32); integers and booleans become the
    default float dtype, so that an integer valence or concentration never silently loses its
    gradient by staying int32.
    """
    if isinstance(x, float):
        return jax.device_put(x)  # weak-typed, like jnp.asarray(x), with nothing compiled
    if not isinstance(x, jax.Array):
        # Lists, NumPy arrays and ints are converted by NumPy and `device_put`: the same
        # result, without the small XLA computation (`stage`, `convert_element_type`) that
        # `jnp.asarray` compiles, in every new process, for each shape and dtype.
        try:
            a = np.asarray(x)
        except Exception:  # e.g. a list holding tracers
            a = None
        if a is not None and a.dtype != object:
            if not np.issubdtype(a.dtype, np.inexact):
                a = a.astype(jnp.result_type(float))
            return jax.device_put(a)
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.inexact):
        x = x.astype(jnp.result_type(float))
    return x
