"""Electrodiffusion: Poisson–Nernst–Planck by finite volumes, differentiable.

Units: positions nm, cross-sections nm², concentrations mM, potentials mV, diffusion
coefficients cm²/s, times ms, temperatures K; fluxes µmol·cm⁻²·s⁻¹, current densities µA/cm²,
currents pA. Semiconductor densities are given in cm⁻³.
"""

from ._block_tridiagonal import BlockTridiagonal as BlockTridiagonal
from ._grid import Grid as Grid
from ._grid import refined_grid as refined_grid
from ._grid import uniform_grid as uniform_grid
from ._junction import junction_potential as junction_potential
from ._newton import DampedNewton as DampedNewton
from ._scharfetter_gummel import scharfetter_gummel_flux as scharfetter_gummel_flux
from ._semiconductor import SRHRecombination as SRHRecombination
from ._semiconductor import density_to_millimolar as density_to_millimolar
from ._semiconductor import millimolar_to_density as millimolar_to_density
from ._semiconductor import semiconductor as semiconductor
from ._steady import PNPSolution as PNPSolution
from ._steady import current_voltage as current_voltage
from ._steady import open_circuit_state as open_circuit_state
from ._steady import steady_state as steady_state
from ._system import AbstractSource as AbstractSource
from ._system import Bath as Bath
from ._system import ConstantSource as ConstantSource
from ._system import PNPSystem as PNPSystem
from ._system import Wall as Wall
from ._system import einstein_diffusion as einstein_diffusion
from ._transient import PNPTransient as PNPTransient
from ._transient import transient as transient
