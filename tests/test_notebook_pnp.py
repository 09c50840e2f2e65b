"""notebooks/pnp_nanopore.ipynb runs (small size): a rectifying nanopore and d(ratio)/d(salt)."""

import json
import os
import pathlib

import numpy as np
import pytest

NOTEBOOK = pathlib.Path(__file__).resolve().parents[1] / "notebooks" / "pnp_nanopore.ipynb"


@pytest.fixture(scope="module")
def namespace():
    nb = json.loads(NOTEBOOK.read_text())
    assert nb["nbformat"] == 4
    old = os.environ.get("MEMBRAX_NOTEBOOK_SMALL")
    os.environ["MEMBRAX_NOTEBOOK_SMALL"] = "1"
    ns: dict = {}
    try:
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                exec(compile("".join(cell["source"]), str(NOTEBOOK), "exec"), ns)
    finally:
        if old is None:
            del os.environ["MEMBRAX_NOTEBOOK_SMALL"]
        else:
            os.environ["MEMBRAX_NOTEBOOK_SMALL"] = old
    return ns


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
