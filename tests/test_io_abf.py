"""Axon Binary Format files via pyabf: a round trip through pyabf's own ABF1 writer, unit
conversion, the command waveform, and errors."""

import numpy as np
import pyabf.abfWriter
import pytest

import membrax
from membrax.io import load_abf
from membrax.io._abf import _sweeps_from_abf

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
