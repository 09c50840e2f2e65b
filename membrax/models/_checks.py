"""Construction-time checks of model fields (`__check_init__`), with the shared wording.

Fields are checked when they are concrete. Inside `jit`, `vmap` or `grad` they may be tracers
(equinox rebuilds Modules from traced leaves); those are left to the solver layer, which must
not see NaN for valid input anyway.
"""

import jax
import numpy as np

RATE_FIX = "Rates are in 1/ms and must be > 0 (use a tiny positive rate such as 1e-9, not 0)."


def _concrete(x):
    return not isinstance(x, jax.core.Tracer)


def check_field(
    owner: str,
    name: str,
    value,
    *,
    unit: str = "",
    positive: bool = False,
    nonnegative: bool = False,
    fix: str = "",
) -> None:
    """Raise a `ValueError` naming `owner.name`, the first bad value and `fix` if a concrete
    field is not finite, or breaks the sign rule."""
    if not _concrete(value):
        return
    a = np.asarray(value)
    unit_text = f" {unit}" if unit else ""
    rules = [("finite", ~np.isfinite(a))]
    if positive:
        rules.append((f"> 0{unit_text}", ~(a > 0)))
    elif nonnegative:
        rules.append((f">= 0{unit_text}", ~(a >= 0)))
    for rule, bad in rules:
        if bad.any():
            value_text = repr(a[bad].ravel()[0].item())
            if a.ndim:
                value_text += f" at index {int(np.argmax(bad.ravel()))}"
            raise ValueError(f"{owner}: {name} must be {rule}, got {value_text}. {fix}".rstrip())
