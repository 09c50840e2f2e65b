"""notebooks/permeation_block.ipynb runs (small size) and recovers its known parameters."""

import pytest


@pytest.fixture(scope="module")
def namespace(run_notebook):
    return run_notebook("permeation_block.ipynb")


def test_woodhull_fit_recovers_the_generating_parameters(namespace):
    assert namespace["SMALL"]
    true, fit = namespace["true_params"], namespace["recovered"]
    # 1% noise on 114 points: the fitted standard errors are ≤ 2.2% (K_d) and ≤ 0.009 (δ);
    # the tolerances allow about four of them.
    assert fit["g"] == pytest.approx(true["g"], rel=0.02)
    assert fit["kd_spm"] == pytest.approx(true["kd_spm"], rel=0.1)
    assert fit["kd_mg"] == pytest.approx(true["kd_mg"], rel=0.1)
    assert fit["delta_spm"] == pytest.approx(true["delta_spm"], abs=0.04)
    assert fit["delta_mg"] == pytest.approx(true["delta_mg"], abs=0.04)
    # A converged fit to data with Gaussian noise: χ² per point near one.
    assert namespace["chi2"] / namespace["data"].size == pytest.approx(1.0, abs=0.3)


def test_anomalous_mole_fraction_minimum(namespace):
    # Analytic minimum (binding polynomial) matches the scanned curve to its grid spacing
    # (1/200), and lies below both pure solutions.
    assert namespace["x_star_analytic"] == pytest.approx(namespace["x_star_numeric"], abs=0.005)
    assert namespace["x_star_analytic"] == pytest.approx(0.46536, abs=1e-5)
    g_min = float(namespace["minimum"].conductance)
    assert g_min < min(namespace["g_pure_a"], namespace["g_pure_b"])
    assert bool(namespace["minimum"].anomalous)
