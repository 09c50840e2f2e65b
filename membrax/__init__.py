"""membrax: differentiable, GPU-ready simulation of ion channels and membranes in JAX."""

from . import constants as constants
from . import physics as physics
from ._numerics import exprel as exprel
from .physics import driving_force as driving_force
from .physics import electrochemical_potential_difference as electrochemical_potential_difference
from .physics import ghk_current as ghk_current
from .physics import ghk_flux as ghk_flux
from .physics import ghk_voltage as ghk_voltage
from .physics import nernst_potential as nernst_potential
from .physics import thermal_voltage as thermal_voltage

__version__ = "0.1.0"
