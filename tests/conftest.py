"""Test configuration: float64 everywhere (set once, here; the library never touches
jax.config), and the runner that executes the worked examples in notebooks/."""

import json
import os
import pathlib

import jax
import pytest

jax.config.update("jax_enable_x64", True)

NOTEBOOKS = pathlib.Path(__file__).resolve().parents[1] / "notebooks"


def _run_notebook(name: str) -> dict:
    """Execute the code cells of notebooks/NAME at small size (MEMBRAX_NOTEBOOK_SMALL=1) in
    one namespace, and return it."""
    path = NOTEBOOKS / name
    notebook = json.loads(path.read_text())
    assert notebook["nbformat"] == 4
    old = os.environ.get("MEMBRAX_NOTEBOOK_SMALL")
    os.environ["MEMBRAX_NOTEBOOK_SMALL"] = "1"
    namespace: dict = {}
    try:
        for cell in notebook["cells"]:
            if cell["cell_type"] == "code":
                exec(compile("".join(cell["source"]), str(path), "exec"), namespace)
    finally:
        if old is None:
            del os.environ["MEMBRAX_NOTEBOOK_SMALL"]
        else:
            os.environ["MEMBRAX_NOTEBOOK_SMALL"] = old
    return namespace


@pytest.fixture(scope="session")
def run_notebook():
    return _run_notebook
