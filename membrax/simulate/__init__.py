"""Simulators: voltage clamp (exact piecewise solutions or diffrax)."""

from ._voltage_clamp import ClampRecord as ClampRecord
from ._voltage_clamp import DiffraxClamp as DiffraxClamp
from ._voltage_clamp import ExactClamp as ExactClamp
from ._voltage_clamp import voltage_clamp as voltage_clamp
