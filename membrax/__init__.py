"""membrax: differentiable, GPU-ready simulation of ion channels and membranes in JAX."""

from . import constants as constants
from . import physics as physics
from ._numerics import exprel as exprel
from .physics import DebyeHuckelParameters as DebyeHuckelParameters
from .physics import DonnanEquilibrium as DonnanEquilibrium
from .physics import GateRates as GateRates
from .physics import GateSteadyState as GateSteadyState
from .physics import HodgkinHuxleyRates as HodgkinHuxleyRates
from .physics import SequentialOccupancy as SequentialOccupancy
from .physics import boltzmann_open_probability as boltzmann_open_probability
from .physics import chord_conductance_potential as chord_conductance_potential
from .physics import davies_activity_coefficient as davies_activity_coefficient
from .physics import debye_huckel_activity_coefficient as debye_huckel_activity_coefficient
from .physics import debye_huckel_parameters as debye_huckel_parameters
from .physics import donnan_equilibrium as donnan_equilibrium
from .physics import driving_force as driving_force
from .physics import electrochemical_potential_difference as electrochemical_potential_difference
from .physics import electrogenicity as electrogenicity
from .physics import gating_capacitance as gating_capacitance
from .physics import gating_charge as gating_charge
from .physics import ghk_current as ghk_current
from .physics import ghk_flux as ghk_flux
from .physics import ghk_voltage as ghk_voltage
from .physics import hodgkin_huxley_rates as hodgkin_huxley_rates
from .physics import ionic_strength as ionic_strength
from .physics import mwc_open_probability as mwc_open_probability
from .physics import nernst_potential as nernst_potential
from .physics import nonselective_reversal_potential as nonselective_reversal_potential
from .physics import q10_factor as q10_factor
from .physics import rates_from_steady_state as rates_from_steady_state
from .physics import sequential_boltzmann_occupancy as sequential_boltzmann_occupancy
from .physics import steady_state_from_rates as steady_state_from_rates
from .physics import thermal_voltage as thermal_voltage
from .physics import transport_free_energy as transport_free_energy
from .physics import transporter_current as transporter_current
from .physics import transporter_reversal_potential as transporter_reversal_potential
from .physics import water_relative_permittivity as water_relative_permittivity

__version__ = "0.1.0"
