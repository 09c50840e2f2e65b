"""Array conversion and type aliases shared by every layer."""

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

#: Anything `jnp.asarray` accepts that holds real numbers: floats, ints, NumPy or JAX arrays.
RealLike = ArrayLike


def float_array(x: ArrayLike) -> Float[Array, "..."]:
    """`x` as a JAX array of a floating dtype.

    Floating inputs keep their dtype (float32 stays float32); integers and booleans become the
    default float dtype, so that an integer valence or concentration never silently loses its
    gradient by staying int32.
    """
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.inexact):
        x = x.astype(jnp.result_type(float))
    return x
