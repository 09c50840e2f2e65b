"""Bundled datasets: real recordings shipped with membrax, with their citations."""

import csv
import importlib.resources
from typing import NamedTuple

import jax
import numpy as np
from jaxtyping import Array, Bool, Float

from .._custom_types import float_array
from ..constants import ZERO_CELSIUS
from ..protocols._voltage import SampledProtocol

#: Samples kept by the likelihood of Beattie et al. (2018): ~5 ms after each voltage step are
#: dropped (capacitive transients). 0-based half-open slices of the 80 000 samples.
BEATTIE2018_KEPT = (
    (0, 2499),
    (2548, 2999),
    (3048, 4999),
    (5048, 14999),
    (15048, 19999),
    (20048, 29999),
    (30048, 64999),
    (65048, 69999),
    (70048, 80000),
)
_EXPERIMENTS = {1: "16713003", 2: "16715049", 3: "16708016"}


class Beattie2018Cell(NamedTuple):
    """One hERG sine-wave recording of Beattie et al. (2018), with the paper's fit.

    **Fields:**

    - `protocol`: the recorded command, a [`membrax.SampledProtocol`][] (0.1 ms, 80 000
      samples, zero-order hold).
    - `current`: the dofetilide- and leak-subtracted current, nA, shape (80 000,).
    - `mask`: True for the samples the paper's likelihood keeps.
    - `temperature`: K.
    - `p`: the published P1..P8 (1/ms, 1/mV); `g`: the published G, µS.
    - `sigma`: the paper's noise σ (std of the first 2000 samples, ddof = 1), nA.
    - `published_log_likelihood`: the paper's maximum log-likelihood.
    - `experiment`: the experiment reference.
    """

    protocol: SampledProtocol
    current: Float[Array, " 80000"]
    mask: Bool[Array, " 80000"]
    temperature: float
    p: Float[Array, " 8"]
    g: float
    sigma: float
    published_log_likelihood: float
    experiment: str


def _data_file(*parts):
    return importlib.resources.files("membrax").joinpath("data", *parts)


def load_beattie2018(cell: int = 1) -> Beattie2018Cell:
    """Load cell 1, 2 or 3 of the hERG sine-wave recordings of Beattie et al. (2018), shipped
    with membrax (CC-BY 4.0).

    **Reference:** K. A. Beattie, A. P. Hill, R. Bardenet, Y. Cui, J. I. Vandenberg,
    D. J. Gavaghan, T. P. de Boer & G. R. Mirams (2018), J. Physiol. 596:1813,
    doi:10.1113/JP275733; data github.com/mirams/sine-wave.
    """
    if cell not in _EXPERIMENTS:
        raise ValueError(f"load_beattie2018: cell must be 1, 2 or 3, got {cell!r}.")
    with _data_file("beattie2018", "sine_wave.npz").open("rb") as f:
        arrays = np.load(f)
        voltage = arrays["voltage"]
        current = arrays[f"current_cell{cell}"]
    with _data_file("beattie2018", "published_fits_cells_1_to_3.csv").open() as f:
        row = next(r for r in csv.DictReader(f) if int(r["cell"]) == cell)
    names = [f"P{k}_per_{'ms' if k % 2 else 'mV'}" for k in range(1, 9)]
    mask = np.zeros(voltage.size, bool)
    for start, stop in BEATTIE2018_KEPT:
        mask[start:stop] = True
    return Beattie2018Cell(
        protocol=SampledProtocol(voltage, 0.1),
        # float_array and device_put, not jnp.asarray: nothing compiled (membrax fit loads
        # this first).
        current=float_array(current),
        mask=jax.device_put(mask),
        temperature=ZERO_CELSIUS + float(row["temperature_C"]),
        p=float_array([float(row[n]) for n in names]),
        g=float(row["G_uS"]),
        sigma=float(np.std(current[:2000], ddof=1)),
        published_log_likelihood=float(row["maxLL_repo_MCMC"]),
        experiment=_EXPERIMENTS[cell],
    )
