"""protocols: piecewise analytic and sampled voltage-clamp commands."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import membrax
from membrax.protocols import (
    PiecewiseProtocol,
    Ramp,
    SampledProtocol,
    Sines,
    Step,
    activation_family,
    beattie2018_sine_wave_protocol,
    deactivation_family,
    inactivation_family,
    step_family,
)


def test_piecewise_segments_closed_forms():
    protocol = PiecewiseProtocol(
        [
            Step(-80.0, 10.0),
            Ramp(-80.0, 40.0, 20.0),
            Sines(-10.0, (5.0, 2.0), (0.3, 1.1), 30.0, phase_origin=25.0),
        ],
        dt=0.5,
    )
    t = jnp.array([0.0, 9.99, 10.0, 15.0, 29.9, 30.0, 47.0, 59.5])
    expected = np.where(
        t < 10,
        -80.0,
        np.where(
            t < 30,
            -80.0 + 120.0 * (t - 10.0) / 20.0,
            -10.0 + 5 * np.sin(0.3 * (t - 25.0)) + 2 * np.sin(1.1 * (t - 25.0)),
        ),
    )
    np.testing.assert_allclose(protocol.voltage(t), expected, atol=1e-12)
    assert protocol.n_samples == 120  # 60 ms at 0.5 ms, samples strictly before the end
    np.testing.assert_allclose(protocol.jump_times, [10.0, 30.0])
    np.testing.assert_allclose(protocol.sample_times[-1], 59.5)


def test_beattie_protocol_reproduces_the_recorded_file():
    # The analytic description of Beattie et al. (2018) against the recorded command file
    # (../shared/data/beattie2018-herg-sinewave): equal sample by sample.
    recorded = membrax.io.load_beattie2018(1).protocol
    analytic = beattie2018_sine_wave_protocol()
    assert analytic.n_samples == 80_000
    np.testing.assert_allclose(analytic.sample_times, recorded.sample_times, atol=1e-9)
    np.testing.assert_allclose(analytic.sample_voltages, recorded.sample_voltages, atol=1e-9)
    np.testing.assert_allclose(
        analytic.jump_times, [250.1, 300.1, 500.1, 1500.1, 2000.1, 3000.1, 6500.1, 7000.1]
    )


def test_sampled_protocol_zero_order_hold():
    protocol = SampledProtocol(jnp.array([-80.0, -40.0, 10.0, 20.0]), 0.5, t0=2.0)
    np.testing.assert_allclose(protocol.sample_times, [2.0, 2.5, 3.0, 3.5])
    t = jnp.array([1.0, 2.0, 2.49, 2.5, 2.99, 3.0, 3.6, 100.0])
    np.testing.assert_allclose(protocol.voltage(t), [-80, -80, -80, -40, -40, 10, 20, 20])
    grid = protocol.hold_grid(4)
    np.testing.assert_allclose(grid.edges, protocol.sample_times)
    np.testing.assert_allclose(grid.voltages, [-80.0, -40.0, 10.0])
    irregular = SampledProtocol(jnp.array([1.0, 2.0, 3.0]), times=jnp.array([0.0, 0.1, 0.5]))
    assert float(irregular.voltage(0.3)) == 2.0


def test_hold_grid_splits_at_jumps_and_indexes_samples():
    # A jump at 1.25 ms between the samples 1.0 and 1.5 becomes an edge of its own.
    protocol = PiecewiseProtocol([Step(-80.0, 1.25), Ramp(0.0, 10.0, 1.0)], dt=0.5)
    grid = protocol.hold_grid(2)
    np.testing.assert_allclose(grid.edges, [0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.25, 1.5, 1.75, 2.0])
    np.testing.assert_allclose(grid.edges[grid.sample_index], protocol.sample_times)
    # Holds before the jump are at −80 exactly; on the ramp each is the midpoint value.
    np.testing.assert_allclose(grid.voltages[:5], -80.0)
    np.testing.assert_allclose(grid.voltages[6:], [1.25, 3.75, 6.25])  # 10 mV/ms ramp


def test_families_stack_for_vmap():
    family = activation_family(
        jnp.arange(-60.0, 41.0, 20.0),
        holding=-80.0,
        holding_duration=5.0,
        test_duration=10.0,
        tail_voltage=-50.0,
        tail_duration=5.0,
        dt=0.1,
    )
    assert family.starts.shape == (6, 3)
    volts = jax.vmap(lambda p: p.voltage(jnp.array([1.0, 7.0, 17.0])))(family)
    np.testing.assert_allclose(volts[:, 1], np.arange(-60.0, 41.0, 20.0))
    np.testing.assert_allclose(volts[:, [0, 2]], [[-80.0, -50.0]] * 6)
    inact = inactivation_family(
        [-100.0, -50.0],
        holding=-80.0,
        holding_duration=1.0,
        prepulse_duration=50.0,
        test_voltage=0.0,
        test_duration=5.0,
        dt=0.1,
    )
    assert inact.offsets.tolist() == [[-80.0, -100.0, 0.0], [-80.0, -50.0, 0.0]]
    deact = deactivation_family(
        [-120.0],
        holding=-80.0,
        holding_duration=1.0,
        activating_voltage=40.0,
        activating_duration=10.0,
        tail_duration=5.0,
        dt=0.1,
    )
    assert deact.offsets.tolist() == [[-80.0, 40.0, -120.0]]


def test_bad_protocols_are_refused():
    with pytest.raises(ValueError, match=r"times must increase strictly.*times\[2\] = 0.1 ms"):
        SampledProtocol(jnp.zeros(3), times=jnp.array([0.0, 0.2, 0.1]))
    with pytest.raises(ValueError, match=r"dt must be > 0 ms, got -0.1"):
        SampledProtocol(jnp.zeros(3), -0.1)
    with pytest.raises(ValueError, match=r"voltages must be finite, got nan at index 1"):
        SampledProtocol(jnp.array([0.0, jnp.nan]), 0.1)
    with pytest.raises(ValueError, match="exactly one of dt"):
        SampledProtocol(jnp.zeros(3))
    with pytest.raises(ValueError, match=r"segment 1 \(Step\) has duration -5.0 ms"):
        PiecewiseProtocol([Step(-80.0, 10.0), Step(0.0, -5.0)], dt=0.1)
    with pytest.raises(TypeError, match=r"segment 0 must be a membrax\.protocols\.Step"):
        PiecewiseProtocol([(-80.0, 10.0, 3.0)], dt=0.1)
    with pytest.raises(ValueError, match="2 amplitudes but 1 frequencies"):
        PiecewiseProtocol([Sines(0.0, (1.0, 2.0), (0.1,), 10.0)], dt=0.1)
    with pytest.raises(ValueError, match=r"levels must have shape \(sweeps, segments\)"):
        step_family(jnp.zeros(3), [1.0, 2.0, 3.0], dt=0.1)
