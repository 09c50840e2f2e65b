"""Permeation laws: the current through the open channels of a channel population, given the
voltage and the open probability. More laws (barrier models, binding-site pores, block) plug
in through the same `current(v, open_probability)` method."""

import abc

import equinox as eqx
import jax
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .._custom_types import float_array
from ..physics._checks import CONC_FIX, TEMP_FIX, Z_FIX
from ..physics._ghk import _ghk_current
from ._checks import check_field


class AbstractPermeation(eqx.Module):
    """How open channels pass current: `current(v, open_probability)`."""

    @abc.abstractmethod
    def current(self, v: ArrayLike, open_probability: ArrayLike) -> Float[Array, "..."]:
        """The ionic current at membrane potential `v` (mV), outward positive."""


class Ohmic(AbstractPermeation):
    r"""A linear open-channel I–V: $I = g_\text{max}\,P_\text{open}\,(V - E_\text{rev})$.

    Units are coherent: mS/cm² × mV = µA/cm²; nS × mV = pA; µS × mV = nA.

    **Fields:**

    - `g_max`: the conductance with every channel open (mS/cm², nS or µS), ≥ 0.
    - `e_rev`: the reversal potential, mV (e.g. [`membrax.nernst_potential`][]).
    """

    g_max: Float[Array, ""] = eqx.field(converter=float_array)
    e_rev: Float[Array, ""] = eqx.field(converter=float_array)

    def __check_init__(self):
        fix = "It is the conductance with all channels open (mS/cm², nS or µS)."
        check_field("Ohmic", "g_max", self.g_max, nonnegative=True, fix=fix)
        check_field("Ohmic", "e_rev", self.e_rev, unit="mV")

    def current(self, v, open_probability):
        return self.g_max * open_probability * (v - self.e_rev)


class GHKPermeation(AbstractPermeation):
    r"""Goldman–Hodgkin–Katz constant-field permeation of one ion:
    $I = P_\text{max}\,P_\text{open}\,I_\text{GHK}(V, c_i, c_o, z, T)$ with
    [`membrax.ghk_current`][] per unit permeability.

    With `p_max` in cm/s the current is in µA/cm²; a whole-cell permeability in cm³/s gives µA
    (×1e6 for pA).

    **Fields:**

    - `p_max`: permeability with every channel open, cm/s (or cm³/s), ≥ 0.
    - `c_in`, `c_out`: concentrations, mM, > 0.
    - `z`: the ion's valence, nonzero.
    - `temperature`: K, > 0.
    """

    p_max: Float[Array, ""] = eqx.field(converter=float_array)
    c_in: Float[Array, ""] = eqx.field(converter=float_array)
    c_out: Float[Array, ""] = eqx.field(converter=float_array)
    z: Float[Array, ""] = eqx.field(converter=float_array)
    temperature: Float[Array, ""] = eqx.field(converter=float_array)

    def __check_init__(self):
        owner = "GHKPermeation"
        check_field(owner, "p_max", self.p_max, unit="cm/s", nonnegative=True)
        check_field(owner, "c_in", self.c_in, unit="mM", positive=True, fix=CONC_FIX)
        check_field(owner, "c_out", self.c_out, unit="mM", positive=True, fix=CONC_FIX)
        check_field(owner, "temperature", self.temperature, unit="K", positive=True, fix=TEMP_FIX)
        check_field(owner, "z", self.z, fix=Z_FIX)
        if not isinstance(self.z, jax.core.Tracer) and (np.asarray(self.z) == 0).any():
            raise ValueError(f"{owner}: z must be nonzero, got 0.0. {Z_FIX}")

    def current(self, v, open_probability):
        unit = _ghk_current(v, self.c_in, self.c_out, 1.0, self.z, self.temperature)
        return self.p_max * open_probability * unit
