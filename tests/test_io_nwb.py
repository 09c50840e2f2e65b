"""NWB icephys voltage-clamp files via pynwb: written here with pynwb, read back."""

import warnings
from datetime import UTC, datetime

import numpy as np
import pytest
from pynwb import NWBHDF5IO, NWBFile
from pynwb.icephys import CurrentClampSeries, VoltageClampSeries, VoltageClampStimulusSeries

import membrax
from membrax.io import load_nwb

RATE = 20000.0  # Hz


def _write(path, *, conversion=1e-12, offset=0.0, numbered=True, extra=None):
    nwb = NWBFile(
        session_description="membrax test",
        identifier="membrax-test",
        session_start_time=datetime(2026, 1, 1, tzinfo=UTC),
    )
    amplifier = nwb.create_device(name="amplifier")
    electrode = nwb.create_icephys_electrode(name="e0", description="whole-cell", device=amplifier)
    currents, commands = [], []
    for k in (1, 0):  # written out of order: read back by sweep number
        command = np.r_[np.full(50, -80.0), np.full(150, -40.0 + 30.0 * k)]  # mV
        current = 10.0 * (k + 1) * np.sin(np.arange(200) / 7.0)  # pA
        sweep = {"sweep_number": k} if numbered else {}
        nwb.add_stimulus(
            VoltageClampStimulusSeries(
                name=f"stimulus_{k}",
                data=command * 1e-3,  # volts
                starting_time=1.5,
                rate=RATE,
                electrode=electrode,
                gain=1.0,
                **sweep,
            )
        )
        nwb.add_acquisition(
            VoltageClampSeries(
                name=f"current_{k}",
                data=(current * 1e-12 - offset) / conversion,  # stored units
                conversion=conversion,
                offset=offset,
                starting_time=1.5,
                rate=RATE,
                electrode=electrode,
                gain=1.0,
                **sweep,
            )
        )
        currents.append(current)
        commands.append(command)
    if extra is not None:
        nwb.add_acquisition(extra(electrode))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # hdmf's int64 → uint64 note on sweep numbers
        with NWBHDF5IO(str(path), "w") as io:
            io.write(nwb)
    return currents[::-1], commands[::-1]


@pytest.mark.parametrize("numbered", [True, False])
def test_voltage_clamp_sweeps_round_trip(tmp_path, numbered):
    path = tmp_path / "cell.nwb"
    currents, commands = _write(path, conversion=2e-13, offset=3e-12, numbered=numbered)
    sweeps = load_nwb(path)
    assert [s.index for s in sweeps] == [0, 1]
    for sweep, current, command in zip(sweeps, currents, commands):
        np.testing.assert_allclose(sweep.current, current, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(sweep.command, command, rtol=1e-12)
        np.testing.assert_allclose(sweep.time, np.arange(200) * 1e3 / RATE, atol=1e-9)
    protocol = sweeps[1].protocol()
    np.testing.assert_allclose(np.asarray(protocol.voltages), commands[1])
    trace = membrax.fit.Trace(protocol, sweeps[1].current)  # ready to fit
    assert trace.values.shape == (200,)
    in_na = load_nwb(path, unit="nA")
    np.testing.assert_allclose(in_na[0].current, currents[0] / 1e3, rtol=1e-12, atol=1e-15)


def test_bad_nwb_input(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"does not exist"):
        load_nwb(tmp_path / "missing.nwb")
    junk = tmp_path / "junk.nwb"
    junk.write_text("not hdf5")
    with pytest.raises(ValueError, match=r"is not a readable NWB file"):
        load_nwb(junk)
    with pytest.raises(ValueError, match=r"unit must be 'pA' or 'nA'"):
        load_nwb(junk, unit="A")
    path = tmp_path / "cc.nwb"
    nwb = NWBFile(
        session_description="cc",
        identifier="cc",
        session_start_time=datetime(2026, 1, 1, tzinfo=UTC),
    )
    electrode = nwb.create_icephys_electrode(
        name="e0", description="x", device=nwb.create_device(name="amp")
    )
    nwb.add_acquisition(
        CurrentClampSeries(name="v", data=np.zeros(10), rate=RATE, electrode=electrode, gain=1.0)
    )
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    with pytest.raises(ValueError, match=r"no VoltageClampSeries .* CurrentClampSeries"):
        load_nwb(path)
