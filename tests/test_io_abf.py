"""Axon Binary Format files via pyabf: a round trip through pyabf's own ABF1 writer, unit
conversion, the command waveform, and errors."""

import struct

import numpy as np
import pyabf.abfWriter
import pyabf.waveform
import pytest

import membrax
from membrax.io import load_abf
from membrax.io._abf import _epoch_segments, _sweeps_from_abf
from membrax.protocols import Ramp, Step

RATE = 20000.0  # Hz: 0.05 ms


@pytest.fixture
def abf_file(tmp_path):
    rng = np.random.default_rng(0)
    # (pyabf's ABF1 writer makes files it cannot read back below ~1000 samples per sweep.)
    data = rng.normal(0.0, 80.0, (3, 1000))
    data[1, 100:200] += -500.0
    path = tmp_path / "rec.abf"
    pyabf.abfWriter.writeABF1(data, str(path), RATE, units="pA")
    return path, data


def test_round_trip_through_pyabf_writer(abf_file):
    path, data = abf_file
    sweeps = load_abf(path)
    assert len(sweeps) == 3 and [s.index for s in sweeps] == [0, 1, 2]
    # ABF1 stores int16 samples scaled to the data's range: the resolution is range/2¹⁵.
    resolution = np.max(np.abs(data)) / 2**15 * 2
    for sweep, row in zip(sweeps, data):
        np.testing.assert_allclose(sweep.current, row, atol=resolution)
        np.testing.assert_allclose(sweep.time, np.arange(1000) * 1e3 / RATE, rtol=1e-12)
        assert sweep.unit == "pA" and sweep.command is None
    in_na = load_abf(path, sweeps=[1], unit="nA")
    assert len(in_na) == 1
    np.testing.assert_allclose(in_na[0].current, sweeps[1].current / 1e3, rtol=1e-15)
    with pytest.raises(ValueError, match=r"sweep 1 has no command waveform"):
        in_na[0].protocol()


class _FakeAbf:
    """The attributes of pyabf.ABF that load_abf reads: 2 channels (nA, V), 2 sweeps."""

    channelCount, sweepCount = 2, 2

    def __init__(self):
        self.adcUnits = ["nA", "V"]
        self.dacUnits = ["mV", "mV"]

    def setSweep(self, k, channel=0):
        n = 50
        self.sweepX = np.arange(n) * 1e-4  # s
        if channel == 0:
            self.sweepY = np.full(n, 0.25 * (k + 1))  # nA
        else:
            self.sweepY = np.where(np.arange(n) < 10, -0.08, 0.02 * k)  # V
        self.sweepC = np.where(np.arange(n) < 20, -80.0, 10.0 * k)  # mV, the DAC epochs


def test_units_and_command_waveforms():
    fake = _FakeAbf()
    sweeps = _sweeps_from_abf(fake, "test", channel=0, command_channel=None, sweeps=None, unit="pA")
    np.testing.assert_allclose(sweeps[1].current, 500.0)  # 0.5 nA = 500 pA
    np.testing.assert_allclose(sweeps[1].command, np.where(np.arange(50) < 20, -80.0, 10.0))
    protocol = sweeps[1].protocol()
    assert isinstance(protocol, membrax.SampledProtocol)
    np.testing.assert_allclose(np.diff(np.asarray(protocol.times)), 0.1, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(protocol.voltages), sweeps[1].command)
    recorded = _sweeps_from_abf(fake, "test", channel=0, command_channel=1, sweeps=[1], unit="nA")
    np.testing.assert_allclose(recorded[0].current, 0.5)
    np.testing.assert_allclose(recorded[0].command, np.where(np.arange(50) < 10, -80.0, 20.0))
    fake.dacUnits = ["pA", "pA"]  # current clamp: the DAC waveform is no command potential
    clamp = _sweeps_from_abf(fake, "test", channel=0, command_channel=None, sweeps=[1], unit="pA")
    assert clamp[0].command is None and clamp[0].segments is None


def test_bad_files_and_arguments(abf_file, tmp_path):
    path, _ = abf_file
    with pytest.raises(FileNotFoundError, match=r"does not exist"):
        load_abf(tmp_path / "missing.abf")
    junk = tmp_path / "junk.abf"
    junk.write_bytes(b"not an abf file at all" * 10)
    with pytest.raises(ValueError, match=r"is not a readable ABF file"):
        load_abf(junk)
    with pytest.raises(ValueError, match=r"sweep 3 does not exist; the file has 3 sweeps"):
        load_abf(path, sweeps=[3])
    with pytest.raises(ValueError, match=r"channel = 1, but the file has 1 input channel"):
        load_abf(path, channel=1)
    with pytest.raises(ValueError, match=r"unit must be 'pA' or 'nA'"):
        load_abf(path, unit="A")
    fake = _FakeAbf()
    fake.adcUnits = ["mV", "V"]
    with pytest.raises(ValueError, match=r"the current \(channel 0\) is in 'mV'"):
        _sweeps_from_abf(fake, "test", channel=0, command_channel=None, sweeps=None, unit="pA")


def _flat(segments):
    return [x for segment in segments for x in segment]


def _pyabf_waveform(table, n):
    """pyabf's own drawing of an epoch table (p1, p2, level, type, width, period)."""
    epochs = pyabf.waveform.EpochSweepWaveform()
    for p1, p2, level, kind, width, period in table:
        epochs.addEpoch(p1, p2, level, kind, width, period, [0] * 8)
    return epochs.getWaveform()[:n]


def test_epoch_table_becomes_exact_steps_and_ramps():
    # Samples every 0.1 ms: holding at -80 mV, a step to -40, a ramp to +20 over 30 samples,
    # a train of 3-sample pulses to 0 mV every 10 samples (from +20), back to -80.
    table = [
        (0, 10, -80.0, "Step", 0, 0),
        (10, 30, -40.0, "Step", 0, 0),
        (30, 60, 20.0, "Ramp", 0, 0),
        (60, 90, 0.0, "Pulse", 3, 10),
        (90, 100, -80.0, "Step", 0, 0),
    ]
    p1s, p2s, levels, kinds, widths, periods = zip(*table)
    segments = _epoch_segments(p1s, p2s, levels, kinds, widths, periods, dt=0.1, n=100)
    # By hand: pyabf's ramp reaches +20 at its last sample (29 steps of 60/29 mV), so over
    # its 30 samples (3 ms) the continuous ramp ends at -40 + 60·30/29.
    expected = [Step(-80, 1.0), Step(-40, 2.0), Ramp(-40, -40 + 60 * 30 / 29, 3.0)]
    expected += [Step(0, 0.3), Step(20, 0.7)] * 3 + [Step(-80, 1.0)]
    assert [type(s) for s in segments] == [type(s) for s in expected]
    np.testing.assert_allclose(_flat(segments), _flat(expected), rtol=1e-12, atol=1e-12)
    # Every sample agrees with pyabf's own waveform from the same table.
    protocol = membrax.PiecewiseProtocol(segments, dt=0.1)
    assert protocol.n_samples == 100
    np.testing.assert_allclose(
        np.asarray(protocol.sample_voltages), _pyabf_waveform(table, 100), rtol=0, atol=1e-12
    )
    # Triangle, cosine and biphasic trains are not steps or ramps: no exact protocol.
    assert (
        _epoch_segments(p1s, p2s, levels, ("Step",) * 4 + ("Tri",), widths, periods, dt=0.1, n=100)
        is None
    )


def _abf1_with_epochs(path, *, dac_unit="mV", waveform=1):
    """An ABF1 file from pyabf's writer, with an epoch table written into its header at the
    offsets pyabf's ABF1 reader uses (pyabf/abf1/headerV1.py): DAC 0 has A = step to -40 mV
    (+10 mV per sweep) for 400 samples, B = ramp to +20 mV over 600 samples, C = step to
    -120 mV for 300 samples (+50 per sweep)."""
    current = np.stack([np.linspace(-90.0, 90.0, 2000), np.linspace(50.0, -50.0, 2000)])
    pyabf.abfWriter.writeABF1(current, str(path), RATE, units="pA")
    # The writer's header is 4 blocks of 512 bytes; the epoch fields lie beyond, so the data
    # move to block 12 (ABF1's full 6144-byte header) and the header gets zeros to there.
    written = path.read_bytes()
    header = bytearray(written[:2048]) + bytearray(6144 - 2048)
    struct.pack_into("i", header, 40, 12)  # lDataSectionPtr, in blocks
    struct.pack_into("8s", header, 1346, dac_unit.encode().ljust(8))  # sDACChannelUnit
    struct.pack_into("2h", header, 2296, waveform, 0)  # nWaveformEnable
    struct.pack_into("2h", header, 2300, 1, 0)  # nWaveformSource: the epoch table
    struct.pack_into("2h", header, 2304, 0, 0)  # nInterEpisodeLevel: back to holding
    struct.pack_into("20h", header, 2308, 1, 2, 1, *[0] * 17)  # nEpochType
    struct.pack_into("20f", header, 2348, -40.0, 20.0, -120.0, *[0.0] * 17)  # fEpochInitLevel
    struct.pack_into("20f", header, 2428, 10.0, *[0.0] * 19)  # fEpochLevelInc
    struct.pack_into("20i", header, 2508, 400, 600, 300, *[0] * 17)  # lEpochInitDuration
    struct.pack_into("20i", header, 2588, 0, 0, 50, *[0] * 17)  # lEpochDurationInc
    path.write_bytes(bytes(header) + written[2048:])
    return current


def test_abf_epoch_table_gives_piecewise_protocol(tmp_path):
    path = tmp_path / "steps.abf"
    current = _abf1_with_epochs(path)
    sweeps = load_abf(path)
    dt = 1e3 / RATE  # 0.05 ms
    # By hand: pyabf holds the first 2000/64 = 31 samples (and the end) at the holding
    # level, which for ABF1 it takes from epoch A's level (-40 mV); in sweep 0 that merges
    # with epoch A. The ramp rises by 60 (sweep 0) or 50 mV (sweep 1) over 599 samples.
    expected = [
        [
            Step(-40, 431 * dt),
            Ramp(-40, -40 + 60 * 600 / 599, 600 * dt),
            Step(-120, 300 * dt),
            Step(-40, 669 * dt),
        ],
        [
            Step(-40, 31 * dt),
            Step(-30, 400 * dt),
            Ramp(-30, -30 + 50 * 600 / 599, 600 * dt),
            Step(-120, 350 * dt),
            Step(-40, 619 * dt),
        ],
    ]
    reader = pyabf.ABF(str(path))
    for sweep, segments, row in zip(sweeps, expected, current):
        assert [type(s) for s in sweep.segments] == [type(s) for s in segments]
        np.testing.assert_allclose(_flat(sweep.segments), _flat(segments), rtol=1e-12)
        protocol = sweep.protocol()
        assert isinstance(protocol, membrax.PiecewiseProtocol) and protocol.n_samples == 2000
        reader.setSweep(sweep.index)
        # pyabf's sweepC, sample by sample (the boundaries fall on the samples exactly).
        np.testing.assert_allclose(np.asarray(protocol.sample_voltages), reader.sweepC, atol=1e-9)
        np.testing.assert_allclose(sweep.command, reader.sweepC, rtol=0, atol=0)
        np.testing.assert_allclose(
            np.asarray(protocol.sample_times), sweep.time, rtol=1e-12, atol=1e-12
        )
        # The writer stores int(pA · 327.68) for |data| < 99.997 pA: truncation to 1/327.68 pA.
        np.testing.assert_allclose(sweep.current, row, rtol=0, atol=1 / 327.68)
        assert isinstance(sweep.protocol(exact=False), membrax.SampledProtocol)
        assert membrax.fit.Trace(protocol, sweep.current).values.shape == (2000,)
    # A disabled waveform holds the DAC at -40 mV: the table no longer describes it.
    off = tmp_path / "off.abf"
    _abf1_with_epochs(off, waveform=0)
    held = load_abf(off, sweeps=[1])[0]
    assert held.segments is None
    np.testing.assert_array_equal(held.command, -40.0)
    assert isinstance(held.protocol(), membrax.SampledProtocol)
    # A DAC in pA is current clamp: no command potential.
    clamp = tmp_path / "cc.abf"
    _abf1_with_epochs(clamp, dac_unit="pA")
    assert load_abf(clamp)[0].command is None
