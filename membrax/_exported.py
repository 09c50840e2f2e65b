"""A disk cache of traced fit programs (`jax.export`), turned on by the `membrax` command.

JAX's persistent compilation cache lets a new process skip XLA compilation, but not tracing
and lowering, which it needs to compute the cache key. For the bundled Beattie fit these took
~0.3 s of a warm `membrax fit`'s ~1.5 s to its first step. Here the Levenberg–Marquardt
programs are exported once (`jax.export`: StableHLO plus its signature) and a later process
loads them instead of tracing, then compiles them through the usual (cached) path.

A cached program must be exactly the program tracing would give, so the key holds everything
tracing depends on, and anything it cannot hold exactly turns the cache off for that call
(the program is then traced as usual):

- the shapes, dtypes and weak types of every array argument (values are inputs, not part of
  the program);
- every other part of the arguments: the pytree structure with its node types, static fields
  and non-array leaves. Classes and functions count only from membrax or its versioned
  dependencies (by qualified name; never a lambda or a function defined inside another),
  numbers and strings by `repr`. A user's own class or function might change between runs
  under the same name, so it is never keyed;
- the source of every membrax module (a hash: an edited install never reuses a stale
  program), the versions of jax, jaxlib, equinox, optimistix, lineax and numpy, float64 on or
  off, the platform and device kind, and the JAX settings that change tracing.

The library itself never writes files: only `with export_cache(path):` (the command line)
turns this on. Deleting the folder clears it.
"""

import contextlib
import dataclasses
import hashlib
import importlib.metadata
import os
import pathlib
import re
import sys
import types
from collections.abc import Callable

import equinox as eqx
import jax

#: Packages whose classes and functions may appear in a key, by qualified name: their code is
#: fixed by the versions (or, for membrax, the source hash) in the key.
_KEYED_PACKAGES = (
    "membrax",
    "jax",
    "jaxlib",
    "equinox",
    "optimistix",
    "lineax",
    "numpy",
    "builtins",
)
#: JAX settings that change the traced program.
_CONFIG = (
    "jax_enable_x64",
    "jax_default_matmul_precision",
    "jax_numpy_rank_promotion",
    "jax_numpy_dtype_promotion",
    "jax_enable_checks",
    "jax_debug_nans",
    "jax_debug_infs",
    "jax_disable_jit",
)

_directory: pathlib.Path | None = None
_environment: str | None = None
#: In this process: key → jitted call of the loaded program (or None: not exportable).
_loaded: dict[str, Callable | None] = {}
#: Per call site (name, static structure, argument shapes, settings): the static leaves of its
#: last call and the program they gave.
_last: dict[tuple, tuple[list, Callable | None]] = {}


class _Unkeyable(Exception):
    """An argument the key cannot describe exactly: trace as usual."""


@contextlib.contextmanager
def export_cache(path: str | pathlib.Path | None):
    """Keep exported fit programs in `path` (created if needed) while the block runs; `None`
    leaves the cache off."""
    global _directory
    saved = _directory
    _directory = None if path is None else pathlib.Path(path)
    try:
        yield _directory
    finally:
        _directory = saved


def _source_hash() -> str:
    digest = hashlib.sha256()
    package = pathlib.Path(__file__).resolve().parent
    for file in sorted(package.rglob("*.py")):
        digest.update(str(file.relative_to(package)).encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()


def _versions() -> str:
    versions = []
    for name in ("jax", "jaxlib", "equinox", "optimistix", "lineax", "numpy", "flatbuffers"):
        try:
            versions.append(f"{name}={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{name}=?")
    return ";".join(versions)


def _settings() -> tuple:
    """What may change within a process: the device and the JAX settings."""
    device = jax.devices()[0]
    config = tuple((name, str(getattr(jax.config, name))) for name in _CONFIG)
    return device.platform, device.device_kind, config


def _environment_key() -> str:
    global _environment
    if _environment is None:
        _environment = f"{_source_hash()}|{_versions()}|{sys.version_info[:2]}"
    return f"{_environment}|{_settings()}"


def _qualified(obj) -> str:
    module = getattr(obj, "__module__", None) or ""
    qualname = getattr(obj, "__qualname__", None) or ""
    if module.split(".")[0] not in _KEYED_PACKAGES or not qualname or "<" in qualname:
        # A user's class or function, a lambda or a local definition: its code is not keyed.
        raise _Unkeyable(f"{module}.{qualname}")
    return f"{module}.{qualname}"


def _token(obj) -> str:
    """An exact text for a static value, or _Unkeyable."""
    if obj is None or isinstance(obj, (bool, int, float, complex, str, bytes)):
        return f"{type(obj).__name__}:{obj!r}"
    if isinstance(obj, (tuple, list, frozenset)):
        items = sorted(obj, key=repr) if isinstance(obj, frozenset) else obj
        return f"{type(obj).__name__}({','.join(_token(item) for item in items)})"
    if isinstance(obj, dict):
        return "dict(" + ",".join(f"{_token(k)}:{_token(v)}" for k, v in obj.items()) + ")"
    if isinstance(obj, type):
        return f"type:{_qualified(obj)}"
    if isinstance(obj, types.FunctionType):
        # A module-level function of a keyed package (decorators' closures included) is fixed
        # by its version; `_qualified` refuses lambdas and local functions, whose closures
        # may hold anything.
        return f"function:{_qualified(obj)}"
    if isinstance(obj, (types.BuiltinFunctionType, jax.numpy.dtype)):
        return f"{type(obj).__name__}:{obj!r}"
    if dataclasses.is_dataclass(obj) or isinstance(obj, eqx.Module):
        # Dataclasses outside pytrees (a static field holding one): every field.
        fields = ",".join(
            f"{f.name}={_token(getattr(obj, f.name))}" for f in dataclasses.fields(obj)
        )
        return f"{_qualified(type(obj))}({fields})"
    if eqx.is_array(obj):  # a repr may elide values ("...")
        raise _Unkeyable("an array in a static field")
    text = repr(obj)
    # Sentinels such as equinox's `Missing`: a keyed package's object with a plain repr.
    if " at 0x" in text or "<" in text or "..." in text:
        raise _Unkeyable(text)
    return f"{_qualified(type(obj))}:{text}"


def _structure_token(treedef) -> str:
    node = treedef.node_data()
    if node is None:
        return "*"
    kind, aux = node
    children = ",".join(_structure_token(child) for child in treedef.children())
    return f"{_token(kind)}[{_token(aux)}]({children})"


def _key(name: str, static, leaves) -> str:
    static_leaves, static_tree = jax.tree.flatten(static)
    text = "|".join(
        [
            name,
            _environment_key(),
            _structure_token(static_tree),
            _token(tuple(static_leaves)),
            _token(tuple((leaf.shape, str(leaf.dtype), _weak(leaf)) for leaf in leaves)),
        ]
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _weak(leaf) -> bool:
    return bool(getattr(leaf, "weak_type", False))


def _program(name, function, static, in_tree, leaves, out_structure):
    """The loaded (or newly exported) program for these arguments, or None."""
    # Every LM step passes the same static objects with arrays of the same shapes: the last
    # program of this call site is reused when its static leaves are the very same objects
    # (held in `_last`, so their identities cannot be reused), which skips the key (~0.5 ms).
    static_leaves, static_tree = jax.tree.flatten(static)
    avals = tuple((leaf.shape, leaf.dtype, _weak(leaf)) for leaf in leaves)
    try:
        site = (name, static_tree, avals, _settings())
        last = _last.get(site)
    except TypeError:  # unhashable static data: key it every time
        site, last = None, None
    if last is not None and len(last[0]) == len(static_leaves):
        if all(a is b for a, b in zip(last[0], static_leaves)):
            return last[1]
    try:
        key = _key(name, static, leaves)
    except _Unkeyable:
        program = None
    else:
        if key not in _loaded:
            _loaded[key] = _load_or_export(
                name, key, function, static, in_tree, leaves, out_structure
            )
        program = _loaded[key]
    if site is not None:
        _last[site] = (static_leaves, program)
    return program


def _load_or_export(name, key, function, static, in_tree, leaves, out_structure):
    from jax import export

    path = _directory / f"{name}-{key[:32]}.exported"
    failed, no_lapack = path.with_suffix(".failed"), path.with_suffix(".nolapack")
    if path.exists():
        try:
            return _Program(export.deserialize(bytearray(path.read_bytes())), no_lapack.exists())
        except Exception:  # a truncated or foreign file: export again
            path.unlink(missing_ok=True)
    if failed.exists():
        return None
    traced = []

    def flat(*arrays):
        outputs = function(*eqx.combine(jax.tree.unflatten(in_tree, arrays), static))
        traced.append(jax.tree.structure(outputs))
        return jax.tree.leaves(outputs)

    structs = [
        jax.ShapeDtypeStruct(leaf.shape, leaf.dtype, weak_type=_weak(leaf)) for leaf in leaves
    ]
    try:
        exported = export.export(jax.jit(flat))(*structs)
        data = exported.serialize()
    except Exception:
        # Not exportable (e.g. a host callback in a user's model), or no flatbuffers:
        # remember, so that later runs do not try again.
        with contextlib.suppress(OSError):
            _directory.mkdir(parents=True, exist_ok=True)
            failed.touch()
        return None
    if traced[0] != out_structure():
        raise RuntimeError(
            f"membrax: the exported {name} returns {traced[0]}, not {out_structure()} (a bug)."
        )
    calls_lapack = re.search(r"custom_call @lapack_", exported.mlir_module()) is not None
    with contextlib.suppress(OSError):
        _directory.mkdir(parents=True, exist_ok=True)
        if not calls_lapack:
            no_lapack.touch()  # before the program: never a program without its marker
        # Atomic: a concurrent run never reads half a file (each writes its own temporary).
        temporary = path.with_suffix(f".{os.getpid()}.partial")
        temporary.write_bytes(data)
        temporary.replace(path)
    return _Program(exported, not calls_lapack)


class _Program:
    """A loaded exported program, called through `jax.jit` (one lowering per process)."""

    def __init__(self, exported, lapack_free: bool):
        self.exported = exported
        self.lapack_free = lapack_free
        self._call = jax.jit(exported.call)

    def __call__(self, *arrays):
        if not self.lapack_free:
            return self._call(*arrays)
        with _without_lapack_setup():
            return self._call(*arrays)


def cached_call(name: str, function: Callable, args: tuple, out_structure: Callable):
    """`function(*args)`, through an exported program when the cache is on.

    `function` is a jitted function of pytrees of arrays and static values; it must return
    arrays only, in the structure `out_structure()` gives (a `PyTreeDef`) — checked when the
    program is exported.
    """
    if _directory is None:
        return function(*args)
    dynamic, static = eqx.partition(args, eqx.is_array)
    leaves, in_tree = jax.tree.flatten(dynamic)
    program = _program(name, function, static, in_tree, leaves, out_structure)
    if program is None:
        return function(*args)
    return jax.tree.unflatten(out_structure(), program(*leaves))


@contextlib.contextmanager
def _without_lapack_setup():
    """Lower exported programs without initialising jaxlib's LAPACK bindings on CPU.

    JAX initialises them for every exported program it lowers for CPU, whether it calls
    LAPACK or not, and that imports SciPy: 0.17 s, a sixth of a warm `membrax fit`'s time to
    its first step. Only used for programs whose module, when exported, had no LAPACK custom
    call (their `.nolapack` marker); a program without a marker gets the usual set-up. If JAX
    moves this private hook, the set-up simply always runs.
    """
    try:
        from jax._src.export import _export
    except ImportError:
        yield
        return
    original = getattr(_export, "_ensure_backends_initialized", None)
    if original is None:
        yield
        return
    _export._ensure_backends_initialized = lambda platforms: None
    try:
        yield
    finally:
        _export._ensure_backends_initialized = original
