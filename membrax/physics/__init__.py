"""Pure JAX equations of membrane electrochemistry.

Every function here is a pure `jax.numpy` function of arrays: it runs under `jit`, `grad` and
`vmap`, knows nothing of models or solvers, and checks its inputs (see `membrax._validation`).
"""

from ._ghk import ghk_current as ghk_current
from ._ghk import ghk_flux as ghk_flux
from ._ghk import ghk_voltage as ghk_voltage
from ._nernst import driving_force as driving_force
from ._nernst import electrochemical_potential_difference as electrochemical_potential_difference
from ._nernst import nernst_potential as nernst_potential
from ._nernst import thermal_voltage as thermal_voltage
