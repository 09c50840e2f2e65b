"""Voltage-clamp protocols as PyTrees (steps, ramps, sines, sampled waveforms)."""

from ._current import AbstractStimulus as AbstractStimulus
from ._current import CurrentStep as CurrentStep
from ._current import CurrentTrain as CurrentTrain
from ._current import SampledCurrent as SampledCurrent
from ._current import StimulusSum as StimulusSum
from ._voltage import AbstractProtocol as AbstractProtocol
from ._voltage import HoldGrid as HoldGrid
from ._voltage import PiecewiseProtocol as PiecewiseProtocol
from ._voltage import Ramp as Ramp
from ._voltage import SampledProtocol as SampledProtocol
from ._voltage import Sines as Sines
from ._voltage import Step as Step
from ._voltage import activation_family as activation_family
from ._voltage import beattie2018_sine_wave_protocol as beattie2018_sine_wave_protocol
from ._voltage import deactivation_family as deactivation_family
from ._voltage import inactivation_family as inactivation_family
from ._voltage import step_family as step_family
