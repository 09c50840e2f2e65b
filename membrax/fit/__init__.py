"""Fitting channel models to patch-clamp data: constraints, data kinds (traces, I–V and
steady-state curves), `fit` (one cell or several, hierarchical) and its result."""

from ._constraints import AbstractConstraint as AbstractConstraint
from ._constraints import Bounded as Bounded
from ._constraints import Fixed as Fixed
from ._constraints import Free as Free
from ._constraints import Positive as Positive
from ._constraints import SignedLog as SignedLog
from ._constraints import unwrap as unwrap
from ._curves import Boltzmann as Boltzmann
from ._curves import BoltzmannFit as BoltzmannFit
from ._curves import fit_boltzmann as fit_boltzmann
from ._data import AbstractData as AbstractData
from ._data import IVCurve as IVCurve
from ._data import SteadyStateCurve as SteadyStateCurve
from ._data import Trace as Trace
from ._data import mask_after_steps as mask_after_steps
from ._fit import Evaluation as Evaluation
from ._fit import FitResult as FitResult
from ._fit import RateBounds as RateBounds
from ._fit import evaluate as evaluate
from ._fit import fit as fit
from ._solver import LevenbergMarquardt as LevenbergMarquardt
