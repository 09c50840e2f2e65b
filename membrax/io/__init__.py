"""Data in and out: bundled datasets and loaders (outside jit)."""

from ._abf import Sweep as Sweep
from ._abf import load_abf as load_abf
from ._datasets import BEATTIE2018_KEPT as BEATTIE2018_KEPT
from ._datasets import Beattie2018Cell as Beattie2018Cell
from ._datasets import load_beattie2018 as load_beattie2018
from ._myokit import load_myokit_protocol as load_myokit_protocol
from ._nwb import load_nwb as load_nwb
from ._recordings import Recording as Recording
from ._recordings import load_recording as load_recording
