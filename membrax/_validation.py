"""Input checks for public functions: clear errors naming the argument, the value and the fix.

Concrete inputs (NumPy arrays, Python numbers, JAX arrays outside a trace) are checked eagerly
and fail with a `ValueError` that quotes the offending value. Traced inputs (inside `jit`,
`grad`, `vmap`) are checked with `equinox.error_if`, which raises at run time; the message then
names the argument and the fix but cannot quote the value.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike

from ._custom_types import float_array


def _is_traced(x) -> bool:
    return isinstance(x, jax.core.Tracer)


def _first_bad(x: np.ndarray, bad: np.ndarray):
    value = x[bad].ravel()[0].item()
    if x.ndim == 0:
        return f"{value!r}"
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    return f"{value!r} at index {index if len(index) > 1 else index[0]}"


def check_array(
    where: str,
    name: str,
    x: ArrayLike,
    *,
    unit: str = "",
    positive: bool = False,
    nonnegative: bool = False,
    nonzero: bool = False,
    fix: str = "",
) -> Array:
    """Convert `x` to a float array and check it is finite and satisfies the given sign rules.

    **Arguments:**

    - `where`: the public function's name, quoted at the start of every message.
    - `name`: the argument's name.
    - `unit`: its unit, quoted in the message (e.g. `"mM"`).
    - `positive` / `nonnegative` / `nonzero`: which values are valid besides finiteness.
    - `fix`: a sentence telling the user how to mend the input.

    **Returns:** `x` as a float array (threaded through `eqx.error_if` when traced, so the
    check cannot be optimised away).
    """
    if isinstance(x, (bool, np.bool_)):
        raise TypeError(f"{where}: {name} must be a number, got the boolean {x!r}.")
    x = float_array(x)
    unit_text = f" {unit}" if unit else ""
    if positive:
        rule, ok = f"> 0{unit_text}", lambda a: a > 0
    elif nonnegative:
        rule, ok = f">= 0{unit_text}", lambda a: a >= 0
    elif nonzero:
        rule, ok = "nonzero", lambda a: a != 0
    tail = f" {fix}" if fix else ""
    # Concrete values are tested in NumPy: an eager jnp op per check costs tens of µs.
    a = x if _is_traced(x) else np.asarray(x)
    xp = jnp if _is_traced(x) else np
    x = check_condition(
        where,
        name,
        x,
        ~xp.isfinite(a),
        "finite",
        f"Remove NaN/inf from {name} before calling.{tail}",
    )
    if positive or nonnegative or nonzero:
        x = check_condition(where, name, x, ~ok(a), rule, tail.strip())
    return x


def check_condition(where: str, name: str, x: Array, bad: Array, rule: str, fix: str) -> Array:
    """Fail where the boolean array `bad` (shaped like `x`, or a scalar) is true.

    Concrete inputs raise `ValueError("{where}: {name} must be {rule}, got {value}. {fix}")`
    quoting the first offending value of `x`; traced ones raise the same message (without the
    value) at run time through `equinox.error_if`. Returns `x`, threaded through the check.
    """
    if not (_is_traced(x) or _is_traced(bad)):
        bad = np.broadcast_to(np.asarray(bad), np.shape(x))
        if bad.any():
            value = _first_bad(np.asarray(x), bad)
            raise ValueError(f"{where}: {name} must be {rule}, got {value}. {fix}".rstrip())
        return x
    return eqx.error_if(
        x, bad, f"{where}: {name} must be {rule} (value traced under jit). {fix}".rstrip()
    )


def check_broadcast(where: str, **arrays: Array) -> tuple[int, ...]:
    """The common broadcast shape of the named arrays, or a `ValueError` listing their shapes."""
    shapes = {name: jnp.shape(a) for name, a in arrays.items()}
    try:
        return jnp.broadcast_shapes(*shapes.values())
    except ValueError:
        listed = ", ".join(f"{name} {shape}" for name, shape in shapes.items())
        raise ValueError(
            f"{where}: argument shapes do not broadcast: {listed}. Give them equal shapes, or "
            "shapes NumPy can broadcast (for a batch of independent problems use jax.vmap)."
        ) from None


def check_ions(where: str, **arrays: Array) -> int:
    """Check per-ion arrays are scalars or 1-D of one common length; return the ion count."""
    lengths = {}
    for name, a in arrays.items():
        if jnp.ndim(a) > 1:
            raise ValueError(
                f"{where}: {name} must be 1-D with one entry per ion, got shape {jnp.shape(a)}. "
                "For a batch of membranes, jax.vmap over the call."
            )
        if jnp.ndim(a) == 1:
            lengths[name] = jnp.shape(a)[0]
    if len(set(lengths.values())) > 1:
        listed = ", ".join(f"{name} has {n}" for name, n in lengths.items())
        raise ValueError(
            f"{where}: per-ion arrays differ in length ({listed}). Give one entry per ion in "
            "every argument, in the same order."
        )
    if not lengths:
        return 1
    n = next(iter(lengths.values()))
    if n == 0:
        raise ValueError(f"{where}: got zero ions; give at least one permeant ion.")
    return n


def check_some_positive(where: str, name: str, x: Array, *, fix: str) -> Array:
    """Check that at least one entry of a non-negative array `x` is > 0."""
    message = f"{where}: {name} are all zero. {fix}"
    if _is_traced(x):
        return eqx.error_if(x, jnp.all(x <= 0), message)
    if not np.any(np.asarray(x) > 0):
        raise ValueError(message)
    return x


def check_scalar(where: str, name: str, x: Array) -> None:
    """Refuse a non-scalar `x`, pointing the user to `jax.vmap` for batches."""
    if jnp.ndim(x) != 0:
        raise ValueError(
            f"{where}: {name} must be a scalar, got shape {jnp.shape(x)}. "
            "For several values, jax.vmap over the call."
        )
