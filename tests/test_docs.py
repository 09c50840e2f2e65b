"""The documentation's Python examples run as written (docs/run_examples.py executes every
```python block of a page in order); each page also asserts its own results."""

import importlib.util
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _runner():
    spec = importlib.util.spec_from_file_location("run_examples", ROOT / "docs" / "run_examples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The hERG fit's β rate and slope are correlated (+0.99): the page shows that warning.
@pytest.mark.filterwarnings("ignore:fit. identifiability")
@pytest.mark.parametrize("page", ["getting-started.md", "fitting.md"])
def test_documentation_examples_run(page, monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    _runner().run_page(ROOT / "docs" / page)
