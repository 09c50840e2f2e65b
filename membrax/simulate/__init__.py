"""Simulators: voltage clamp (exact piecewise solutions or diffrax)."""

from ._current_clamp import CurrentClampRecord as CurrentClampRecord
from ._current_clamp import RushLarsen as RushLarsen
from ._current_clamp import SaveSpikes as SaveSpikes
from ._current_clamp import SaveTrace as SaveTrace
from ._current_clamp import current_clamp as current_clamp
from ._current_clamp import steady_state as steady_state
from ._population import cpu_compiler_options as cpu_compiler_options
from ._population import per_cell_grad as per_cell_grad
from ._population import population_mesh as population_mesh
from ._population import shard_population as shard_population
from ._population import simulate_population as simulate_population
from ._voltage_clamp import ClampRecord as ClampRecord
from ._voltage_clamp import DiffraxClamp as DiffraxClamp
from ._voltage_clamp import ExactClamp as ExactClamp
from ._voltage_clamp import voltage_clamp as voltage_clamp
