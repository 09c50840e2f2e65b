"""notebooks/pnp_nanopore.ipynb runs (small size): a rectifying nanopore and d(ratio)/d(salt)."""

import numpy as np
import pytest


@pytest.fixture(scope="module")
def namespace(run_notebook):
    return run_notebook("pnp_nanopore.ipynb")


def test_conical_pore_rectifies(namespace):
    assert namespace["SMALL"]
    currents = np.asarray(namespace["currents"])
    # No current at 0 mV (equal baths), and the charged cone rectifies at 100 mM KCl: the
    # measured ratio |I(+400)/I(−400)| is 1.50 on the small grid (1.51 on the full one).
    assert abs(currents[len(currents) // 2]) < 1e-9 * np.max(np.abs(currents))
    assert float(namespace["ratio"]) == pytest.approx(1.50, abs=0.05)
    # Current increases with voltage.
    assert np.all(np.diff(currents) > 0)


def test_rectification_gradient_matches_finite_difference(namespace):
    # jax.grad through every Newton solve of the sweep vs a central difference with a 0.1 mM
    # step (truncation ~1e-8 relative here).
    assert float(namespace["sensitivity"]) == pytest.approx(
        float(namespace["finite_difference"]), rel=1e-5
    )
    # Screening changes the ratio across the salt range (it even inverts at 10 mM).
    ratios = np.asarray(namespace["ratios"])
    assert ratios[0] < 1 < ratios[1]
