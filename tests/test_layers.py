"""The layer rule of DESIGN.md: imports only go downward.

constants / _numerics / _custom_types / _validation  <  physics  <  models, electrodiffusion
<  protocols  <  simulate  <  fit, _exported  <  io, cli, plot.  Physics in particular
imports neither equinox (models are equinox Modules) nor any solver library. The library
never touches `jax.config` (dtype follows the inputs; tests set float64 in conftest.py).
"""

import ast
import importlib
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "membrax"

# Rank of each top-level part of the package. A new module must be placed here.
RANKS = {
    "constants": 0,
    "_numerics": 0,
    "_custom_types": 0,
    "_validation": 0,
    "physics": 1,
    "models": 2,
    "electrodiffusion": 2,
    "protocols": 3,
    "simulate": 4,
    "fit": 5,
    "_exported": 5,  # fit's disk cache of exported programs (uses equinox)
    "io": 6,
    "plot": 6,
    "_cli": 6,
    "__main__": 6,
    "__init__": 6,
    "data": 6,
}
SOLVER_LIBRARIES = {"equinox", "diffrax", "optimistix", "lineax", "optax"}


def _part(path: pathlib.Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py")


def _imports(path: pathlib.Path, source: str | None = None):
    """(absolute module name, line) for every import in the file, relative ones resolved."""
    tree = ast.parse(path.read_text() if source is None else source, filename=str(path))
    package = ["membrax", *path.relative_to(PACKAGE).parent.parts]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
                if node.module is None:
                    for alias in node.names:
                        yield f"{module}.{alias.name}", node.lineno
                    continue
            else:
                module = node.module
            yield module, node.lineno


SOURCES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_has_a_layer():
    unplaced = {_part(p) for p in SOURCES} - RANKS.keys()
    assert not unplaced, f"place these in RANKS (tests/test_layers.py): {sorted(unplaced)}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_only_go_downward(path):
    own = RANKS[_part(path)]
    for module, line in _imports(path):
        parts = module.split(".")
        if parts[0] != "membrax" or len(parts) == 1:
            continue
        target = parts[1].removesuffix(".py")
        assert RANKS.get(target, own) <= own, (
            f"{path.relative_to(PACKAGE)}:{line} imports {module} from a higher layer"
        )


@pytest.mark.parametrize(
    "path",
    # _validation may use equinox.error_if (and nothing else: checked below).
    [p for p in SOURCES if RANKS[_part(p)] <= 1 and p.name != "_validation.py"],
    ids=lambda p: str(p.relative_to(PACKAGE)),
)
def test_physics_imports_no_modules_or_solvers(path):
    for module, line in _imports(path):
        assert module.split(".")[0] not in SOLVER_LIBRARIES, (
            f"{path.relative_to(PACKAGE)}:{line} imports {module}: physics stays pure jnp"
        )


def test_validation_uses_only_error_if_from_equinox():
    tree = ast.parse((PACKAGE / "_validation.py").read_text())
    used = {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "eqx"
    }
    assert used == {"error_if"}


def test_the_library_never_touches_jax_config():
    for path in SOURCES:
        text = path.read_text()
        # The command line (_cli.py) is an application, not the library: like a user's script
        # it may configure JAX for its own process (the persistent compilation cache, with
        # the configuration restored when main() returns).
        if path == PACKAGE / "_cli.py":
            assert "jax_enable_x64" not in text, path
            continue
        if path == PACKAGE / "_exported.py":
            # The cache of exported programs reads JAX's settings (they are part of its key)
            # and never sets one.
            assert "jax.config.update" not in text and "config.update" not in text, path
            continue
        assert "jax.config" not in text, path
        assert "jax_enable_x64" not in text, path


def test_the_rule_catches_a_violation():
    # The checker itself must be able to fail: upward imports in a (virtual) physics module.
    fake = PACKAGE / "physics" / "_fake.py"
    source = "from ..simulate import voltage_clamp\nimport diffrax\nfrom . import _ghk\n"
    imports = list(_imports(fake, source))
    assert imports == [("membrax.simulate", 1), ("diffrax", 2), ("membrax.physics._ghk", 3)]
    assert RANKS["simulate"] > RANKS[_part(fake)]


def test_lazy_top_level_names_match_the_static_imports():
    # membrax/__init__.py lists its top-level names twice: in the table __getattr__ loads
    # them from, and as imports under TYPE_CHECKING for type checkers and the API docs. A
    # name added to one list only would be missing from `import membrax` or from the docs.
    import membrax

    tree = ast.parse((PACKAGE / "__init__.py").read_text())
    (block,) = [
        n for n in tree.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING"
    ]
    static = {}
    for node in block.body:
        module = "." * node.level + (node.module or "")
        for alias in node.names:
            static[alias.asname or alias.name] = module
    subpackages = {name for name, module in static.items() if module == "."}
    attributes = {name: module for name, module in static.items() if module != "."}
    assert subpackages == set(membrax._SUBPACKAGES)
    assert attributes == membrax._ATTRIBUTES
    # Every lazy name resolves to the very object of that name in its module.
    for name in subpackages:
        assert getattr(membrax, name) is importlib.import_module(f"membrax.{name}")
    for name, module in attributes.items():
        source = importlib.import_module(f"membrax{module}")
        assert getattr(membrax, name) is getattr(source, name), name
