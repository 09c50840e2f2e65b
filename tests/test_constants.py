"""Every derived constant re-derived from the SI/CODATA values it comes from."""

import math

import pytest

from membrax import constants

# Exact SI values (2019 redefinition) and CODATA 2022, typed in independently of the module.
E = 1.602176634e-19
NA = 6.02214076e23
KB = 1.380649e-23
EPS0 = 8.8541878188e-12


def test_defining_constants():
    assert constants.ELEMENTARY_CHARGE == E
    assert constants.AVOGADRO == NA
    assert constants.BOLTZMANN == KB
    assert constants.VACUUM_PERMITTIVITY == EPS0
    assert constants.ZERO_CELSIUS == 273.15


def test_faraday_and_gas_constant():
    # CODATA 2018/2022: F = 96485.33212... C/mol, R = 8.314462618... J/(mol K), both exact.
    assert constants.FARADAY == pytest.approx(96485.33212, abs=1e-5)
    assert constants.GAS_CONSTANT == pytest.approx(8.314462618, abs=1e-9)
    assert constants.FARADAY == pytest.approx(E * NA, rel=1e-15)
    assert constants.GAS_CONSTANT == pytest.approx(KB * NA, rel=1e-15)


def test_thermal_voltage_per_kelvin():
    # k_B/e in mV/K: the same number as R/F, from a different pair of constants.
    assert constants.THERMAL_VOLTAGE_PER_KELVIN == pytest.approx(1e3 * KB / E, rel=1e-14)
    # Textbook value: RT/F = 25.693 mV at 25 °C.
    assert constants.THERMAL_VOLTAGE_PER_KELVIN * 298.15 == pytest.approx(25.693, abs=5e-4)
    assert constants.F_OVER_R * constants.THERMAL_VOLTAGE_PER_KELVIN == pytest.approx(1.0)


def test_unit_scalings():
    assert constants.FARADAY_PER_MV == pytest.approx(E * NA / 1e3, rel=1e-15)
    # P [cm/s] × c [mM = 1e-6 mol/cm³] × F [C/mol] = 1e-6 A/cm²; 1 µA/cm² = 1e-6 A/cm².
    cm_per_s, mol_per_cm3_per_mM, amp_per_uA = 1.0, 1e-6, 1e-6
    assert constants.PERMEABILITY_CURRENT_SCALE == pytest.approx(
        cm_per_s * mol_per_cm3_per_mM / amp_per_uA
    )
    assert constants.MILLIMOLAR_PER_MOLAR == 1e3
    assert math.isfinite(constants.F_OVER_R)


def test_elementary_charge_in_femtocoulomb():
    # 1 e = 1.602176634e-19 C (SI 2019, exact) = 1.602176634e-4 fC; 1 fC/ms = 1e-15 C / 1e-3 s.
    assert constants.ELEMENTARY_CHARGE_FC == pytest.approx(1.602176634e-4, rel=1e-15)
    picoamp_per_fc_per_ms = 1e-15 / 1e-3 / 1e-12
    assert picoamp_per_fc_per_ms == pytest.approx(1.0)


def test_planck_constant():
    # SI 2019 defining constant (exact); k_B·T/h at 310 K ≈ 6.46e12 /s (Eyring's prefactor).
    assert constants.PLANCK == 6.62607015e-34
    assert constants.BOLTZMANN * 310.0 / constants.PLANCK == pytest.approx(6.46e12, rel=1e-3)


def test_flux_scales_from_si_units():
    # dc/dt = k·I/(zF𝒱) in mM/ms: k is the number of mol/(L·s) (= mM/ms: 1e3 mM / 1e3 ms)
    # that 1 current unit into 1 volume unit gives when divided by F in C/mol.
    amp_per_uA, m2_per_cm2, m_per_um, liter_per_m3 = 1e-6, 1e-4, 1e-6, 1e3
    mM_per_M, ms_per_s = 1e3, 1e3
    to_mM_per_ms = mM_per_M / ms_per_s
    # Density: 1 µA/cm² through 1 µm² of membrane into the 1 µm × 1 µm² behind it.
    amps_per_um2 = amp_per_uA / m2_per_cm2 * m_per_um**2
    liters_per_um3 = m_per_um**3 * liter_per_m3
    density = amps_per_um2 / liters_per_um3 * to_mM_per_ms
    assert constants.FLUX_SCALE_DENSITY == pytest.approx(density, rel=1e-12)
    # Whole cell: 1 pA into 1 µm³.
    whole_cell = 1e-12 / liters_per_um3 * to_mM_per_ms
    assert constants.FLUX_SCALE_WHOLE_CELL == pytest.approx(whole_cell, rel=1e-12)
    # Still importable from the cell module, where they used to live.
    from membrax.models import _cell

    assert _cell.FLUX_SCALE_DENSITY == constants.FLUX_SCALE_DENSITY
    assert _cell.FLUX_SCALE_WHOLE_CELL == constants.FLUX_SCALE_WHOLE_CELL


def test_transporter_density_scale_from_si_units():
    # One transporter per µm² cycling once per ms carries e·1e8 /cm² · 1e3 /s of charge; in
    # µA/cm² that must equal ELEMENTARY_CHARGE_FC × n_transporters = e_fC × SCALE.
    per_cm2_per_um2 = 1.0 / (1e-4) ** 2  # 1 µm⁻² = 1e8 cm⁻²
    uA_per_cm2 = E * per_cm2_per_um2 * 1e3 / 1e-6
    assert constants.ELEMENTARY_CHARGE_FC * constants.TRANSPORTER_DENSITY_SCALE == pytest.approx(
        uA_per_cm2, rel=1e-12
    )
