"""io: bundled datasets and recording loaders."""

import numpy as np
import pytest

import membrax
from membrax.io import load_beattie2018, load_recording


def test_beattie_dataset():
    cell = load_beattie2018(2)
    assert cell.protocol.voltages.shape == (80000,) and cell.current.shape == (80000,)
    assert int(cell.mask.sum()) == 79608  # the paper's kept samples
    # σ of the first 2000 samples (ddof 1) equals the noise_sigma column of the CSV.
    assert cell.sigma == pytest.approx(0.009418265237392691, rel=1e-12)
    assert cell.temperature == pytest.approx(273.15 + 21.4)
    with pytest.raises(ValueError, match="cell must be 1, 2 or 3"):
        load_beattie2018(4)


def test_load_recording_formats(tmp_path):
    t = np.arange(5) * 0.1
    v = np.array([-80.0, -80.0, 20.0, 20.0, -80.0])
    i = np.array([0.0, 0.1, 0.5, 0.4, 0.0])
    np.savetxt(
        tmp_path / "r.csv",
        np.column_stack([t, v, i]),
        delimiter=",",
        header="Time,voltage,current",
        comments="",
    )
    np.savez(tmp_path / "r.npz", time=t, voltage=v, current=i)
    for name in ("r.csv", "r.npz"):
        rec = load_recording(tmp_path / name)
        np.testing.assert_allclose(rec.current, i)
        protocol = rec.protocol()
        assert isinstance(protocol, membrax.SampledProtocol)
        np.testing.assert_allclose(protocol.sample_times, t, atol=1e-12)
        np.testing.assert_allclose(protocol.voltage(0.25), 20.0)


def test_load_recording_errors_and_warnings(tmp_path):
    path = tmp_path / "r.npz"
    np.savez(path, time=np.arange(3.0), voltage=np.zeros(3), current=np.zeros(2))
    with pytest.raises(ValueError, match=r"columns differ in length"):
        load_recording(path)
    np.savez(path, time=np.arange(3.0), voltage=np.array([0.0, np.inf, 0.0]), current=np.ones(3))
    with pytest.raises(ValueError, match=r"voltage has 1 NaN/inf value\(s\), the first at row 1"):
        load_recording(path)
    np.savez(path, time=np.arange(3.0), voltage=np.array([-0.08, 0.02, -0.08]), current=np.ones(3))
    with pytest.warns(UserWarning, match="is it in volts"):
        load_recording(path)
    np.savez(
        path, time=np.arange(3.0) * 1e-5, voltage=np.array([-80.0, 20.0, -80.0]), current=np.ones(3)
    )
    with pytest.warns(UserWarning, match="is time in seconds"):
        load_recording(path)
    with pytest.raises(ValueError, match=r"unknown format '.txt'"):
        load_recording(tmp_path / "x.txt") if (tmp_path / "x.txt").write_text(
            ""
        ) is not None else None
