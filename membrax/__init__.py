"""membrax: differentiable, GPU-ready simulation of ion channels and membranes in JAX.

`import membrax` is immediate: the subpackages (and JAX with them) load on first use of a
name (PEP 562), so `membrax --help` or a script that only needs `membrax.physics` does not
pay for diffrax, optimistix and the rest.
"""

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

_SUBPACKAGES = frozenset(
    {
        "constants",
        "electrodiffusion",
        "fit",
        "io",
        "models",
        "physics",
        "protocols",
        "simulate",
    }
)

# Top-level name -> the module that defines it.
_ATTRIBUTES = {
    "exprel": "._numerics",
    "PointCell": ".models",
    "DebyeHuckelParameters": ".physics",
    "DonnanEquilibrium": ".physics",
    "GateRates": ".physics",
    "GateSteadyState": ".physics",
    "HodgkinHuxleyRates": ".physics",
    "MoleFractionMinimum": ".physics",
    "SequentialOccupancy": ".physics",
    "access_limited_current": ".physics",
    "barrier_model_current": ".physics",
    "barrier_model_fluxes": ".physics",
    "binding_occupancies": ".physics",
    "boltzmann_open_probability": ".physics",
    "chord_conductance_potential": ".physics",
    "cycle_flux": ".physics",
    "cycle_occupancy": ".physics",
    "davies_activity_coefficient": ".physics",
    "debye_huckel_activity_coefficient": ".physics",
    "debye_huckel_parameters": ".physics",
    "diffusion_limited_current": ".physics",
    "donnan_equilibrium": ".physics",
    "driving_force": ".physics",
    "electrochemical_potential_difference": ".physics",
    "electrogenicity": ".physics",
    "eyring_rate": ".physics",
    "gating_capacitance": ".physics",
    "gating_charge": ".physics",
    "ghk_current": ".physics",
    "ghk_flux": ".physics",
    "ghk_voltage": ".physics",
    "hodgkin_huxley_rates": ".physics",
    "ionic_strength": ".physics",
    "mole_fraction_minimum": ".physics",
    "mwc_open_probability": ".physics",
    "nernst_potential": ".physics",
    "nonselective_reversal_potential": ".physics",
    "permeability_ratio": ".physics",
    "pore_conductance": ".physics",
    "q10_factor": ".physics",
    "rates_from_steady_state": ".physics",
    "relative_permeabilities": ".physics",
    "sequential_boltzmann_occupancy": ".physics",
    "steady_state_from_rates": ".physics",
    "stokes_einstein_diffusion": ".physics",
    "thermal_voltage": ".physics",
    "transport_free_energy": ".physics",
    "transporter_current": ".physics",
    "transporter_cycle_rates": ".physics",
    "transporter_reversal_potential": ".physics",
    "transporter_turnover": ".physics",
    "two_site_current": ".physics",
    "water_relative_permittivity": ".physics",
    "woodhull_dissociation_constant": ".physics",
    "woodhull_unblocked_fraction": ".physics",
    "CurrentStep": ".protocols",
    "CurrentTrain": ".protocols",
    "PiecewiseProtocol": ".protocols",
    "SampledCurrent": ".protocols",
    "SampledProtocol": ".protocols",
    "ClampRecord": ".simulate",
    "CurrentClampRecord": ".simulate",
    "DiffraxClamp": ".simulate",
    "ExactClamp": ".simulate",
    "RushLarsen": ".simulate",
    "SaveSpikes": ".simulate",
    "SaveTrace": ".simulate",
    "current_clamp": ".simulate",
    "simulate_population": ".simulate",
    "steady_state": ".simulate",
    "voltage_clamp": ".simulate",
}

__all__ = sorted(_SUBPACKAGES | set(_ATTRIBUTES))


def __getattr__(name: str):
    if name in _SUBPACKAGES:
        module = importlib.import_module(f".{name}", __name__)
    elif name in _ATTRIBUTES:
        module = getattr(importlib.import_module(_ATTRIBUTES[name], __name__), name)
    else:
        raise AttributeError(f"module 'membrax' has no attribute {name!r}")
    globals()[name] = module  # later lookups skip __getattr__
    return module


def __dir__():
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # for type checkers and the API docs (griffe reads these statically)
    from . import constants as constants
    from . import electrodiffusion as electrodiffusion
    from . import fit as fit
    from . import io as io
    from . import models as models
    from . import physics as physics
    from . import protocols as protocols
    from . import simulate as simulate
    from ._numerics import exprel as exprel
    from .models import PointCell as PointCell
    from .physics import DebyeHuckelParameters as DebyeHuckelParameters
    from .physics import DonnanEquilibrium as DonnanEquilibrium
    from .physics import GateRates as GateRates
    from .physics import GateSteadyState as GateSteadyState
    from .physics import HodgkinHuxleyRates as HodgkinHuxleyRates
    from .physics import MoleFractionMinimum as MoleFractionMinimum
    from .physics import SequentialOccupancy as SequentialOccupancy
    from .physics import access_limited_current as access_limited_current
    from .physics import barrier_model_current as barrier_model_current
    from .physics import barrier_model_fluxes as barrier_model_fluxes
    from .physics import binding_occupancies as binding_occupancies
    from .physics import boltzmann_open_probability as boltzmann_open_probability
    from .physics import chord_conductance_potential as chord_conductance_potential
    from .physics import cycle_flux as cycle_flux
    from .physics import cycle_occupancy as cycle_occupancy
    from .physics import davies_activity_coefficient as davies_activity_coefficient
    from .physics import debye_huckel_activity_coefficient as debye_huckel_activity_coefficient
    from .physics import debye_huckel_parameters as debye_huckel_parameters
    from .physics import diffusion_limited_current as diffusion_limited_current
    from .physics import donnan_equilibrium as donnan_equilibrium
    from .physics import driving_force as driving_force
    from .physics import (
        electrochemical_potential_difference as electrochemical_potential_difference,
    )
    from .physics import electrogenicity as electrogenicity
    from .physics import eyring_rate as eyring_rate
    from .physics import gating_capacitance as gating_capacitance
    from .physics import gating_charge as gating_charge
    from .physics import ghk_current as ghk_current
    from .physics import ghk_flux as ghk_flux
    from .physics import ghk_voltage as ghk_voltage
    from .physics import hodgkin_huxley_rates as hodgkin_huxley_rates
    from .physics import ionic_strength as ionic_strength
    from .physics import mole_fraction_minimum as mole_fraction_minimum
    from .physics import mwc_open_probability as mwc_open_probability
    from .physics import nernst_potential as nernst_potential
    from .physics import nonselective_reversal_potential as nonselective_reversal_potential
    from .physics import permeability_ratio as permeability_ratio
    from .physics import pore_conductance as pore_conductance
    from .physics import q10_factor as q10_factor
    from .physics import rates_from_steady_state as rates_from_steady_state
    from .physics import relative_permeabilities as relative_permeabilities
    from .physics import sequential_boltzmann_occupancy as sequential_boltzmann_occupancy
    from .physics import steady_state_from_rates as steady_state_from_rates
    from .physics import stokes_einstein_diffusion as stokes_einstein_diffusion
    from .physics import thermal_voltage as thermal_voltage
    from .physics import transport_free_energy as transport_free_energy
    from .physics import transporter_current as transporter_current
    from .physics import transporter_cycle_rates as transporter_cycle_rates
    from .physics import transporter_reversal_potential as transporter_reversal_potential
    from .physics import transporter_turnover as transporter_turnover
    from .physics import two_site_current as two_site_current
    from .physics import water_relative_permittivity as water_relative_permittivity
    from .physics import woodhull_dissociation_constant as woodhull_dissociation_constant
    from .physics import woodhull_unblocked_fraction as woodhull_unblocked_fraction
    from .protocols import CurrentStep as CurrentStep
    from .protocols import CurrentTrain as CurrentTrain
    from .protocols import PiecewiseProtocol as PiecewiseProtocol
    from .protocols import SampledCurrent as SampledCurrent
    from .protocols import SampledProtocol as SampledProtocol
    from .simulate import ClampRecord as ClampRecord
    from .simulate import CurrentClampRecord as CurrentClampRecord
    from .simulate import DiffraxClamp as DiffraxClamp
    from .simulate import ExactClamp as ExactClamp
    from .simulate import RushLarsen as RushLarsen
    from .simulate import SaveSpikes as SaveSpikes
    from .simulate import SaveTrace as SaveTrace
    from .simulate import current_clamp as current_clamp
    from .simulate import simulate_population as simulate_population
    from .simulate import steady_state as steady_state
    from .simulate import voltage_clamp as voltage_clamp
