"""Channel models as equinox Modules: rate laws, gates, Markov schemes, permeation laws,
channels, and published models ready to use."""

from ._channel import Channel as Channel
from ._gating import AbstractGate as AbstractGate
from ._gating import AbstractGating as AbstractGating
from ._gating import AbstractMarkovScheme as AbstractMarkovScheme
from ._gating import BoltzmannGate as BoltzmannGate
from ._gating import Gate as Gate
from ._gating import IndependentGates as IndependentGates
from ._gating import MarkovScheme as MarkovScheme
from ._gating import ReversibleMarkovScheme as ReversibleMarkovScheme
from ._gating import TauInfGate as TauInfGate
from ._permeation import AbstractPermeation as AbstractPermeation
from ._permeation import GHKPermeation as GHKPermeation
from ._permeation import Ohmic as Ohmic
from ._published import beattie2018_ikr as beattie2018_ikr
from ._published import hh1952_leak as hh1952_leak
from ._published import hh1952_potassium as hh1952_potassium
from ._published import hh1952_sodium as hh1952_sodium
from ._rates import AbstractRate as AbstractRate
from ._rates import AbstractTime as AbstractTime
from ._rates import BellTime as BellTime
from ._rates import BoltzmannCurve as BoltzmannCurve
from ._rates import ConstantRate as ConstantRate
from ._rates import ConstantTime as ConstantTime
from ._rates import ExponentialRate as ExponentialRate
from ._rates import LinoidRate as LinoidRate
from ._rates import SigmoidRate as SigmoidRate
