"""Equilibrium potentials and electrochemical driving forces."""

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from .. import constants
from .._validation import check_array, check_broadcast
from ._checks import TEMP_FIX, Z_FIX, check_concentration, check_temperature


def _thermal_voltage(temperature: Array) -> Array:
    return constants.THERMAL_VOLTAGE_PER_KELVIN * temperature


def thermal_voltage(temperature: ArrayLike) -> Float[Array, "..."]:
    r"""The thermal voltage $V_T = RT/F$ in mV.

    $$V_T = \frac{R T}{F} \approx 25.69\ \text{mV at } 298.15\ \text{K}.$$

    **Arguments:**

    - `temperature`: K, > 0.

    **Returns:** $V_T$ in mV, the shape of `temperature`.
    """
    temperature = check_array(
        "thermal_voltage", "temperature", temperature, unit="K", positive=True, fix=TEMP_FIX
    )
    return _thermal_voltage(temperature)


def _nernst(c_out, c_in, z, temperature, gamma_out=1.0, gamma_in=1.0):
    return _thermal_voltage(temperature) / z * jnp.log((gamma_out * c_out) / (gamma_in * c_in))


def _check_nernst_args(where, c_out, c_in, z, temperature, gamma_out, gamma_in):
    c_out = check_concentration(where, "c_out", c_out)
    c_in = check_concentration(where, "c_in", c_in)
    z = check_array(where, "z", z, nonzero=True, fix=Z_FIX)
    temperature = check_temperature(where, temperature)
    gamma_out = check_array(where, "gamma_out", gamma_out, positive=True)
    gamma_in = check_array(where, "gamma_in", gamma_in, positive=True)
    check_broadcast(
        where,
        c_out=c_out,
        c_in=c_in,
        z=z,
        temperature=temperature,
        gamma_out=gamma_out,
        gamma_in=gamma_in,
    )
    return c_out, c_in, z, temperature, gamma_out, gamma_in


def nernst_potential(
    c_out: ArrayLike,
    c_in: ArrayLike,
    z: ArrayLike,
    temperature: ArrayLike,
    *,
    gamma_out: ArrayLike = 1.0,
    gamma_in: ArrayLike = 1.0,
) -> Float[Array, "..."]:
    r"""The Nernst (equilibrium) potential of an ion, inside relative to outside, in mV.

    $$E = \frac{RT}{zF}\ln\frac{\gamma_\text{out}\,c_\text{out}}{\gamma_\text{in}\,c_\text{in}}$$

    with activities $a = \gamma c$. At $V_m = E$ the ion has no net tendency to cross.

    **Arguments:** (all broadcast together)

    - `c_out`, `c_in`: extracellular and intracellular concentrations, mM, > 0.
    - `z`: valence, nonzero (may be non-integer for effective charges).
    - `temperature`: K, > 0.
    - `gamma_out`, `gamma_in`: activity coefficients (dimensionless, > 0), e.g. from
      [`membrax.davies_activity_coefficient`][]. Default 1 (ideal solutions).

    **Returns:** E in mV.

    **Example:** K⁺ with 5 mM outside and 140 mM inside at 37 °C gives E_K ≈ −89 mV.

    **Reference:** W. Nernst (1889), Z. Phys. Chem. 4:129; any physiology text, e.g.
    B. Hille, *Ion Channels of Excitable Membranes*, 3rd ed. (2001), ch. 1.
    """
    c_out, c_in, z, temperature, gamma_out, gamma_in = _check_nernst_args(
        "nernst_potential", c_out, c_in, z, temperature, gamma_out, gamma_in
    )
    return _nernst(c_out, c_in, z, temperature, gamma_out, gamma_in)


def electrochemical_potential_difference(
    c_in: ArrayLike,
    c_out: ArrayLike,
    z: ArrayLike,
    v: ArrayLike,
    temperature: ArrayLike,
    *,
    gamma_in: ArrayLike = 1.0,
    gamma_out: ArrayLike = 1.0,
) -> Float[Array, "..."]:
    r"""The electrochemical potential difference $\Delta\tilde\mu$ for moving one mole of an ion
    **inward** (outside → inside), in J/mol.

    $$\Delta\tilde\mu_\text{in} = \tilde\mu_\text{in} - \tilde\mu_\text{out}
      = RT\ln\frac{\gamma_\text{in}c_\text{in}}{\gamma_\text{out}c_\text{out}} + zFV
      = zF\,(V - E),$$

    with $V = \phi_\text{in} - \phi_\text{out}$ the membrane potential. Negative means inward
    movement is spontaneous; outward movement has the opposite sign.

    **Arguments:** (all broadcast together)

    - `c_in`, `c_out`: concentrations, mM, > 0.
    - `z`: valence (0 is allowed: a neutral solute feels only its concentration gradient).
    - `v`: membrane potential, mV.
    - `temperature`: K, > 0.
    - `gamma_in`, `gamma_out`: activity coefficients, default 1.

    **Returns:** Δμ̃ in J/mol.

    **Example:** Na⁺ influx at 145 mM out, 15 mM in, −65 mV, 310 K gives ≈ −12.13 kJ/mol.
    """
    where = "electrochemical_potential_difference"
    c_in = check_concentration(where, "c_in", c_in)
    c_out = check_concentration(where, "c_out", c_out)
    z = check_array(where, "z", z)
    v = check_array(where, "v", v, unit="mV")
    temperature = check_temperature(where, temperature)
    gamma_in = check_array(where, "gamma_in", gamma_in, positive=True)
    gamma_out = check_array(where, "gamma_out", gamma_out, positive=True)
    check_broadcast(
        where,
        c_in=c_in,
        c_out=c_out,
        z=z,
        v=v,
        temperature=temperature,
        gamma_in=gamma_in,
        gamma_out=gamma_out,
    )
    return _delta_mu_in(c_in, c_out, z, v, temperature, gamma_in, gamma_out)


def _delta_mu_in(c_in, c_out, z, v, temperature, gamma_in=1.0, gamma_out=1.0):
    chemical = (
        constants.GAS_CONSTANT * temperature * jnp.log((gamma_in * c_in) / (gamma_out * c_out))
    )
    return chemical + z * constants.FARADAY_PER_MV * v


def driving_force(
    v: ArrayLike,
    c_out: ArrayLike,
    c_in: ArrayLike,
    z: ArrayLike,
    temperature: ArrayLike,
    *,
    gamma_out: ArrayLike = 1.0,
    gamma_in: ArrayLike = 1.0,
) -> Float[Array, "..."]:
    r"""The electrochemical driving force $V - E$ on an ion, in mV.

    $$V - E = \frac{\Delta\tilde\mu_\text{in}}{zF}.$$

    Positive means the ion's passive current is outward (for any sign of z), which is the sign
    convention of every current in membrax.

    **Arguments:** as [`membrax.nernst_potential`][], plus `v`, the membrane potential in mV.

    **Returns:** V − E in mV.
    """
    where = "driving_force"
    v = check_array(where, "v", v, unit="mV")
    args = _check_nernst_args(where, c_out, c_in, z, temperature, gamma_out, gamma_in)
    check_broadcast(where, v=v, c_out=args[0])
    return v - _nernst(*args)
