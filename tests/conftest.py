"""Test configuration: float64 everywhere (set once, here; the library never touches jax.config)."""

import jax

jax.config.update("jax_enable_x64", True)
