"""Physical constants and the unit system of membrax.

**Unit system.** Voltages in mV, times in ms, concentrations in mM (= mol/m³ = µmol/cm³),
temperatures in K. Currents, conductances and capacitances come in one of two coherent sets,
so model code never carries a conversion factor:

- whole-cell: pA, nS, pF  (nS × mV = pA, pA × ms / pF = mV);
- density:    µA/cm², mS/cm², µF/cm²  (mS/cm² × mV = µA/cm², µA/cm² × ms / (µF/cm²) = mV).

Permeabilities are in cm/s; with concentrations in mM, $z F P c$ is a current density in
µA/cm² (see `PERMEABILITY_CURRENT_SCALE`).

The SI constants are the exact 2019 SI defining values and CODATA 2022 recommended values.
Every derived constant is re-derived from them in `tests/test_constants.py`.
"""

# --- SI defining constants (exact since the 2019 redefinition of the SI) -------------------
ELEMENTARY_CHARGE = 1.602176634e-19  # e, C
AVOGADRO = 6.02214076e23  # N_A, 1/mol
BOLTZMANN = 1.380649e-23  # k_B, J/K
PLANCK = 6.62607015e-34  # h, J·s

# --- CODATA 2022 ----------------------------------------------------------------------------
VACUUM_PERMITTIVITY = 8.8541878188e-12  # ε0, F/m

# --- Derived (exact products of the defining constants) ------------------------------------
FARADAY = ELEMENTARY_CHARGE * AVOGADRO  # F = e·N_A ≈ 96485.33212 C/mol
GAS_CONSTANT = BOLTZMANN * AVOGADRO  # R = k_B·N_A ≈ 8.314462618 J/(mol·K)

# --- Temperatures ---------------------------------------------------------------------------
ZERO_CELSIUS = 273.15  # 0 °C in K

# --- Derived constants in membrax units ----------------------------------------------------
#: R/F in mV/K: the thermal voltage RT/F is `THERMAL_VOLTAGE_PER_KELVIN * temperature` mV
#: (≈ 25.69 mV at 25 °C, 26.71 mV at 37 °C).
THERMAL_VOLTAGE_PER_KELVIN = 1e3 * GAS_CONSTANT / FARADAY

#: F/R in K/mV, the inverse of `THERMAL_VOLTAGE_PER_KELVIN`.
F_OVER_R = 1.0 / THERMAL_VOLTAGE_PER_KELVIN

#: F in J/(mol·mV): z·F·V with V in mV gives J/mol.
FARADAY_PER_MV = FARADAY * 1e-3

#: Factor turning z·F·P·c, with F in C/mol, P in cm/s and c in mM, into µA/cm².
#: 1 cm/s × 1 mM × 1 C/mol = 1 cm/s × 1e-6 mol/cm³ × 1 C/mol = 1e-6 A/cm² = 1 µA/cm²,
#: so the factor is exactly one; it is spelled out so the unit bookkeeping has one home.
PERMEABILITY_CURRENT_SCALE = 1.0

#: mM per mol/L: ionic strengths in membrax are in mM; Debye–Hückel laws want mol/L.
MILLIMOLAR_PER_MOLAR = 1e3

#: e in fC: a charge movement of q elementary charges per ms in each of N channels is a
#: gating current of N·q·ELEMENTARY_CHARGE_FC fC/ms = pA (1 fC/ms = 1e-12 A exactly).
ELEMENTARY_CHARGE_FC = ELEMENTARY_CHARGE * 1e15

# --- Ion accumulation (concentration dynamics of membrax.models.Ion) ---------------------
# An outward current I carried by an ion of valence z changes the concentration of a volume
# 𝒱 behind the membrane by dc/dt = ∓ FLUX_SCALE · I / (z F 𝒱) (F in C/mol), in mM/ms
# (1 mol/(L·s) = 1 M/s = 1e3 mM / 1e3 ms = 1 mM/ms):
#: Density cells: I in µA/cm² (1e-6 A / 1e-4 m² = 1e-2 A/m² = 1e-14 A per µm² of membrane)
#: into 𝒱 µm (the volume per membrane area: 𝒱 µm³ = 𝒱·1e-15 L behind each µm²):
#: 1e-14 A / (C/mol · 1e-15 L) = 10 mol/(L·s) = 10 mM/ms.
FLUX_SCALE_DENSITY = 10.0
#: Whole-cell cells: I in pA (1e-12 A) into 𝒱 µm³ (1e-15 L):
#: 1e-12 A / (C/mol · 1e-15 L) = 1e3 mol/(L·s) = 1e3 mM/ms.
FLUX_SCALE_WHOLE_CELL = 1e3

#: Transporters per µm² → `CycleTransporter.n_transporters` for a density cell (µA/cm²): the
#: transporter convention is 1e-6 × transporters per cm², and 1 µm⁻² = 1e8 cm⁻², so 1e2.
#: (A density in pmol/cm² is AVOGADRO × 1e-12 × 1e-8 ≈ 6022 transporters per µm².)
TRANSPORTER_DENSITY_SCALE = 100.0
