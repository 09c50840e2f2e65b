"""Pure JAX equations of membrane electrochemistry.

Every function here is a pure `jax.numpy` function of arrays: it runs under `jit`, `grad` and
`vmap`, knows nothing of models or solvers, and checks its inputs (see `membrax._validation`).
"""

from ._activity import DebyeHuckelParameters as DebyeHuckelParameters
from ._activity import davies_activity_coefficient as davies_activity_coefficient
from ._activity import debye_huckel_activity_coefficient as debye_huckel_activity_coefficient
from ._activity import debye_huckel_parameters as debye_huckel_parameters
from ._activity import ionic_strength as ionic_strength
from ._activity import water_relative_permittivity as water_relative_permittivity
from ._donnan import DonnanEquilibrium as DonnanEquilibrium
from ._donnan import donnan_equilibrium as donnan_equilibrium
from ._gating import GateRates as GateRates
from ._gating import GateSteadyState as GateSteadyState
from ._gating import HodgkinHuxleyRates as HodgkinHuxleyRates
from ._gating import SequentialOccupancy as SequentialOccupancy
from ._gating import boltzmann_open_probability as boltzmann_open_probability
from ._gating import gating_capacitance as gating_capacitance
from ._gating import gating_charge as gating_charge
from ._gating import hodgkin_huxley_rates as hodgkin_huxley_rates
from ._gating import mwc_open_probability as mwc_open_probability
from ._gating import q10_factor as q10_factor
from ._gating import rates_from_steady_state as rates_from_steady_state
from ._gating import sequential_boltzmann_occupancy as sequential_boltzmann_occupancy
from ._gating import steady_state_from_rates as steady_state_from_rates
from ._ghk import ghk_current as ghk_current
from ._ghk import ghk_flux as ghk_flux
from ._ghk import ghk_voltage as ghk_voltage
from ._markov import markov_propagator as markov_propagator
from ._markov import markov_steady_state as markov_steady_state
from ._markov import transition_matrix as transition_matrix
from ._nernst import driving_force as driving_force
from ._nernst import electrochemical_potential_difference as electrochemical_potential_difference
from ._nernst import nernst_potential as nernst_potential
from ._nernst import thermal_voltage as thermal_voltage
from ._resting import chord_conductance_potential as chord_conductance_potential
from ._resting import nonselective_reversal_potential as nonselective_reversal_potential
from ._transport import electrogenicity as electrogenicity
from ._transport import transport_free_energy as transport_free_energy
from ._transport import transporter_current as transporter_current
from ._transport import transporter_reversal_potential as transporter_reversal_potential
