"""The disk cache of exported fit programs (membrax/_exported.py, used by `membrax fit`): a
fit through it equals the traced fit, a later process loads instead of tracing, and anything
the key cannot describe exactly is traced as usual."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import membrax
from membrax import _exported
from membrax.fit import Trace, fit
from membrax.fit import _fit as fit_module
from membrax.models import Channel, ExponentialRate, Gate, Ohmic
from membrax.protocols import PiecewiseProtocol, Step


def _problem(g=2.0, observable=None):
    protocol = PiecewiseProtocol(
        [Step(v, 20.0) for v in (-80.0, -20.0, -80.0, 10.0, -80.0, 40.0)], dt=0.5
    )
    truth = Channel(
        Gate(ExponentialRate(0.05, 0.04), ExponentialRate(0.02, -0.03)), Ohmic(g, -85.0)
    )
    current = membrax.voltage_clamp(truth, protocol).current
    noisy = current + 0.05 * jax.random.normal(jax.random.PRNGKey(3), current.shape)
    start = Channel(
        Gate(ExponentialRate(0.08, 0.03), ExponentialRate(0.01, -0.04)), Ohmic(1.5, -85.0)
    )
    kwargs = {} if observable is None else {"observable": observable}
    return start, Trace(protocol, noisy, **kwargs)


def _trainable(m):
    gate = m.gating.gates[0]
    return (gate.alpha.rate, gate.alpha.slope, gate.beta.rate, gate.beta.slope, m.permeation.g_max)


def _fresh_process(monkeypatch):
    # A new process has loaded nothing yet.
    monkeypatch.setattr(_exported, "_loaded", {})
    monkeypatch.setattr(_exported, "_last", {})


def _count_traces(monkeypatch):
    calls = []
    original = fit_module._model_residuals

    def counted(*args):
        calls.append(1)
        return original(*args)

    monkeypatch.setattr(fit_module, "_model_residuals", counted)
    return calls


def test_a_fit_through_the_cache_equals_the_traced_fit_and_is_loaded_later(tmp_path, monkeypatch):
    start, trace = _problem()
    plain = fit(start, trace, trainable=_trainable)
    _fresh_process(monkeypatch)
    with _exported.export_cache(tmp_path):
        first = fit(start, trace, trainable=_trainable)
    files = sorted(p.name.split("-")[0] for p in tmp_path.glob("*.exported"))
    assert files == ["lm_init", "lm_step", "residuals_and_jacobian"]
    # Same program, same numbers: to the last bit.
    np.testing.assert_array_equal(first.values, plain.values)
    np.testing.assert_array_equal(first.standard_errors, plain.standard_errors)
    assert first.num_steps == plain.num_steps
    assert float(first.log_likelihood) == float(plain.log_likelihood)

    # "Another process": the programs come from disk, and the model is never traced.
    _fresh_process(monkeypatch)
    traced = _count_traces(monkeypatch)
    with _exported.export_cache(tmp_path):
        second = fit(start, trace, trainable=_trainable)
    assert traced == []
    np.testing.assert_array_equal(second.values, plain.values)
    assert len(list(tmp_path.glob("*.exported"))) == 3

    # New data values with the same shapes reuse the programs (values are inputs) and fit
    # those values: the recovered conductance follows the data.
    _fresh_process(monkeypatch)
    start3, trace3 = _problem(g=3.0)
    with _exported.export_cache(tmp_path):
        third = fit(start3, trace3, trainable=_trainable)
    assert traced == []
    assert len(list(tmp_path.glob("*.exported"))) == 3
    assert float(third.model.permeation.g_max) == pytest.approx(3.0, rel=0.02)
    assert float(plain.model.permeation.g_max) == pytest.approx(2.0, rel=0.02)


def test_a_different_static_setting_or_shape_gets_its_own_program():
    # The key of the solver step's arguments, as fit builds them: a static solver setting
    # (the tolerance is traced in as a constant), another number of starts (shapes) or
    # float32 instead of float64 (dtypes) each change it; the same arguments built again
    # (new objects, new arrays of the same values) do not.
    import equinox as eqx

    start, trace = _problem()

    def key(solver=None, starts=1, dtype=jnp.float64):
        solver = membrax.fit.LevenbergMarquardt() if solver is None else solver
        wrapped, spec, _ = fit_module._wrap_trainable(start, _trainable)
        params, static = eqx.partition(wrapped, spec)
        flat0, layout = fit_module._layout_of(params)
        args = (layout, static, fit_module._as_data(trace), membrax.ExactClamp(), None)
        x0 = jnp.zeros((starts, flat0.size), dtype)
        dynamic, static_part = eqx.partition((solver, x0, args), eqx.is_array)
        return _exported._key("lm_init", static_part, jax.tree.leaves(dynamic))

    base = key()
    assert key() == base
    others = [
        key(solver=membrax.fit.LevenbergMarquardt(rtol=1e-4)),
        key(starts=2),
        key(dtype=jnp.float32),
    ]
    assert len({base, *others}) == 4


def test_a_users_own_function_is_never_keyed(tmp_path, monkeypatch):
    # A lambda (or any function outside membrax and its dependencies) may change between
    # runs under the same name: such a fit is traced, and nothing is written.
    start, trace = _problem(observable=lambda record: 2.0 * record.current)
    plain = fit(start, trace, trainable=_trainable, max_steps=5)
    _fresh_process(monkeypatch)
    with _exported.export_cache(tmp_path):
        cached = fit(start, trace, trainable=_trainable, max_steps=5)
    assert list(tmp_path.iterdir()) == []
    np.testing.assert_array_equal(cached.values, plain.values)
    with pytest.raises(_exported._Unkeyable):
        _exported._token(lambda x: x)


def test_a_program_that_cannot_be_exported_is_traced_and_remembered(tmp_path, monkeypatch):
    # A host callback cannot be exported: the call falls back to tracing, and a marker keeps
    # later processes from trying again.
    def with_callback(x):
        jax.debug.callback(lambda value: None, x)
        return (2.0 * x,)

    x = jnp.arange(3.0)
    _fresh_process(monkeypatch)
    with _exported.export_cache(tmp_path):
        (out,) = _exported.cached_call(
            "callback", jax.jit(with_callback), (x,), lambda: jax.tree.structure((0,))
        )
    np.testing.assert_array_equal(out, 2.0 * np.arange(3.0))
    assert [p.suffix for p in tmp_path.iterdir()] == [".failed"]


def test_lapack_is_set_up_for_programs_that_call_it(tmp_path, monkeypatch):
    # Exported programs are lowered without JAX's LAPACK set-up (a SciPy import) unless they
    # call LAPACK, which is decided when the program is exported (a `.nolapack` marker).
    from jax._src.export import _export

    seen = []
    monkeypatch.setattr(
        _export, "_ensure_backends_initialized", lambda platforms: seen.append(platforms)
    )
    hook = _export._ensure_backends_initialized
    a = jnp.array([[4.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 2.0]])
    b = jnp.array([1.0, 2.0, 3.0])
    pair = lambda: jax.tree.structure((0,))  # noqa: E731
    solve = jax.jit(lambda a, b: (jnp.linalg.solve(a, b),))
    # On CPU the solve is a LAPACK call; on GPUs (cuSOLVER) nothing here calls LAPACK.
    on_cpu = jax.default_backend() == "cpu"
    sine = jax.jit(lambda b: (jnp.sin(b),))
    with _exported.export_cache(tmp_path):
        for _ in range(2):  # exported, then (a new process) loaded
            _fresh_process(monkeypatch)
            seen.clear()
            (x,) = _exported.cached_call("solve", solve, (a, b), pair)
            np.testing.assert_allclose(a @ x, b, rtol=1e-14)
            assert len(seen) == (1 if on_cpu else 0)  # set up only where LAPACK is called
            seen.clear()
            (y,) = _exported.cached_call("sine", sine, (b,), pair)
            np.testing.assert_array_equal(y, np.sin(np.asarray(b)))
            assert seen == []  # not for the one that does not
            assert _export._ensure_backends_initialized is hook  # and the hook is restored
    markers = sorted(p.name.split("-")[0] + p.suffix for p in tmp_path.iterdir())
    expected = ["sine.exported", "sine.nolapack", "solve.exported"]
    assert markers == (expected if on_cpu else sorted([*expected, "solve.nolapack"]))


def test_the_key_describes_static_values_exactly():
    token = _exported._token
    assert token(0.1) != token(0.10000000000000002)  # repr keeps every float bit
    assert token((1, None, "a")) != token((1, None, "b"))
    assert token(1) != token(True) and token(1) != token(1.0)
    assert token(membrax.fit.LevenbergMarquardt) == "type:membrax.fit._solver.LevenbergMarquardt"
    with pytest.raises(_exported._Unkeyable):
        token(np.arange(3.0))  # an array in a static field: its repr may elide values
    with pytest.raises(_exported._Unkeyable):
        token(object())
