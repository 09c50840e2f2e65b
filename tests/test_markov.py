"""physics/_markov: Q-matrix assembly, equilibrium and propagator."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg

import membrax
from membrax.physics import markov_propagator, markov_steady_state, transition_matrix

# C0 ⇌ C1 ⇌ O ⇌ I and I ⇌ C1: a cycle, as in many hERG schemes.
SOURCES = np.array([0, 1, 2, 3])
TARGETS = np.array([1, 2, 3, 1])
FORWARD = jnp.array([0.5, 0.8, 0.3, 0.05])
BACKWARD = jnp.array([0.2, 0.1, 0.4, 0.07])


def test_transition_matrix_entries_and_rows():
    q = transition_matrix(4, SOURCES, TARGETS, FORWARD, BACKWARD)
    assert q[0, 1] == 0.5 and q[1, 0] == 0.2
    assert q[3, 1] == pytest.approx(0.05) and q[1, 3] == pytest.approx(0.07)
    # Diagonal = −(sum of the exit rates): state 1 leaves to 0 (0.2), 2 (0.8) and 3 (0.07).
    assert q[1, 1] == pytest.approx(-(0.2 + 0.8 + 0.07))
    np.testing.assert_allclose(q.sum(axis=1), 0.0, atol=1e-15)


def test_parallel_edges_add():
    q = transition_matrix(2, [0, 0], [1, 1], jnp.array([1.0, 2.0]), jnp.array([0.5, 0.25]))
    assert q[0, 1] == 3.0 and q[1, 0] == 0.75


def test_two_state_steady_state_closed_form():
    # C ⇌ O with α, β: p_O = α/(α + β).
    alpha, beta = 0.3, 0.7
    q = transition_matrix(2, [0], [1], jnp.array([alpha]), jnp.array([beta]))
    np.testing.assert_allclose(markov_steady_state(q), [beta / 1.0, alpha / 1.0], rtol=1e-14)


def test_steady_state_is_null_vector_and_normalised():
    q = transition_matrix(4, SOURCES, TARGETS, FORWARD, BACKWARD)
    pi = markov_steady_state(q)
    np.testing.assert_allclose(pi @ q, 0.0, atol=1e-15)
    assert float(pi.sum()) == pytest.approx(1.0, abs=1e-15)
    assert (pi > 0).all()


def test_propagator_matches_scipy_expm_and_conserves_probability():
    q = transition_matrix(4, SOURCES, TARGETS, FORWARD, BACKWARD)
    for dt in (0.0, 0.1, 3.0, 200.0):
        p = markov_propagator(q, dt)
        np.testing.assert_allclose(p, scipy.linalg.expm(np.asarray(q) * dt), atol=1e-14)
        np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-13)
    # Long times: every row converges to the equilibrium.
    np.testing.assert_allclose(markov_propagator(q, 1e4)[2], markov_steady_state(q), atol=1e-12)


def test_batched_and_differentiable():
    qs = jax.vmap(lambda s: transition_matrix(4, SOURCES, TARGETS, s * FORWARD, BACKWARD))(
        jnp.array([0.5, 1.0, 2.0])
    )
    pis = markov_steady_state(qs)
    assert pis.shape == (3, 4)
    np.testing.assert_allclose(pis[1], markov_steady_state(qs[1]), rtol=1e-14)

    def open_probability(scale):
        return markov_steady_state(
            transition_matrix(4, SOURCES, TARGETS, scale * FORWARD, BACKWARD)
        )[2]

    h = 1e-6
    fd = (open_probability(1.0 + h) - open_probability(1.0 - h)) / (2 * h)
    assert float(jax.grad(open_probability)(1.0)) == pytest.approx(float(fd), rel=1e-7)


def test_bad_transitions_are_refused():
    with pytest.raises(ValueError, match=r"transition 1 target state 5 does not exist.*4 states"):
        transition_matrix(4, [0, 1], [1, 5], jnp.ones(2), jnp.ones(2))
    with pytest.raises(ValueError, match="from state 2 to itself"):
        transition_matrix(4, [2], [2], jnp.ones(1), jnp.ones(1))
    with pytest.raises(ValueError, match=r"forward must be >= 0 1/ms, got -0.5 at index 1"):
        transition_matrix(3, [0, 1], [1, 2], jnp.array([1.0, -0.5]), jnp.ones(2))
    with pytest.raises(ValueError, match="2 rates on its last axis"):
        transition_matrix(3, [0, 1], [1, 2], jnp.ones(3), jnp.ones(2))


def test_exported():
    assert membrax.physics.transition_matrix is transition_matrix
