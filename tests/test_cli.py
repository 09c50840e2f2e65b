"""The `membrax` command: potentials table and info."""

import json

import numpy as np
import pytest

from membrax._cli import main

R, F = 1.380649e-23 * 6.02214076e23, 1.602176634e-19 * 6.02214076e23


def run_json(capsys, *argv):
    assert main(["potentials", "--json", *argv]) == 0
    return json.loads(capsys.readouterr().out)


def test_bundled_potentials(capsys):
    rows = {row["name"]: row for row in run_json(capsys)}
    squid = rows["squid giant axon"]
    vt = 1e3 * R * 279.45 / F
    # Squid axon, Hodgkin & Katz (1949) ratios 1 : 0.04 : 0.45 with K 400/20, Na 50/440,
    # Cl 40/560 mM: the Goldman equation by hand.
    num, den = 20 + 0.04 * 440 + 0.45 * 40, 400 + 0.04 * 50 + 0.45 * 560
    assert squid["v_rest"] == pytest.approx(vt * np.log(num / den), abs=1e-4)
    assert squid["nernst"]["K"] == pytest.approx(vt * np.log(20 / 400), abs=1e-4)
    assert squid["nernst"]["Ca"] == pytest.approx(vt / 2 * np.log(10 / 1e-4), abs=1e-4)
    # dV/d[K]o of the Goldman equation is V_T·P_K/numerator.
    assert squid["dv_dk_out"] == pytest.approx(vt / num, rel=1e-5)
    neuron = rows["mammalian neuron"]
    assert neuron["nernst"]["K"] == pytest.approx(-89.1, abs=0.05)  # the seeds' E_K ≈ -89 mV


def test_user_solutions_and_temperature_override(tmp_path, capsys):
    path = tmp_path / "sol.json"
    path.write_text(
        json.dumps(
            {
                "preparations": [
                    {
                        "name": "K and Ca only",
                        "temperature": 300.0,
                        "ions": {
                            "K": {"z": 1, "c_in": 140, "c_out": 4, "permeability": 1.0},
                            "Ca": {"z": 2, "c_in": 1e-4, "c_out": 2, "permeability": 0.0},
                        },
                    }
                ]
            }
        )
    )
    (row,) = run_json(capsys, "--solutions", str(path), "--temperature", "310")
    # Only K is permeant, so the GHK voltage is E_K at the overriding temperature.
    assert row["temperature"] == 310.0
    assert row["v_rest"] == pytest.approx(1e3 * R * 310 / F * np.log(4 / 140), abs=1e-4)


def test_table_output(capsys):
    assert main(["potentials"]) == 0
    out = capsys.readouterr().out
    assert "squid giant axon" in out and "V_GHK" in out and "-59.4" in out


def test_bad_solutions_file(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"preparations": [{"name": "x"}]}')
    with pytest.raises(SystemExit, match="not a valid solutions file"):
        main(["potentials", "--solutions", str(path)])
    with pytest.raises(SystemExit, match="cannot read --solutions"):
        main(["potentials", "--solutions", str(tmp_path / "missing.json")])
    with pytest.raises(SystemExit, match="--temperature must be > 0 K"):
        main(["potentials", "--temperature", "-3"])


def test_info(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "jax " in out and "devices" in out


def test_fit_bundled_hERG_cell_from_a_generic_start(tmp_path, capsys):
    # The main job: `membrax fit` fits cell 1 of Beattie et al. (2018) from a generic start
    # (every rate 1e-3/ms, every slope 0.05/mV, G = 0.1 µS). It must reach the published
    # maximum log-likelihood (−212113.25; on the recorded protocol under zero-order hold the
    # optimum is −212089.34) with every parameter within 2 % of the published fit.
    import warnings

    import membrax

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the P3–P4 identifiability note
        assert main(["fit", "--out", str(tmp_path), "--quiet"]) == 0
    summary = json.loads((tmp_path / "params.json").read_text())
    cell = membrax.io.load_beattie2018(1)
    assert summary["log_likelihood"] >= cell.published_log_likelihood
    published = dict(zip([f"P{k}" for k in range(1, 9)], np.asarray(cell.p).tolist()))
    published["G"] = cell.g
    for name, value in published.items():
        assert summary["parameters"][name]["value"] == pytest.approx(value, rel=0.02), name
        assert 0 < summary["parameters"][name]["standard_error"] < 0.01 * value
    for name in ("report.md", "fit.csv"):
        assert (tmp_path / name).stat().st_size > 0
    table = np.loadtxt(tmp_path / "fit.csv", delimiter=",", skiprows=1)
    assert table.shape == (80000, 5)
    assert "published -212113.2484" in capsys.readouterr().out


def test_fit_user_recording_csv(tmp_path):
    import warnings

    import membrax

    cell = membrax.io.load_beattie2018(3)
    n = 30000  # the first 3 s: steps and the start of the sine wave
    rows = np.column_stack(
        [np.arange(n) * 0.1, np.asarray(cell.protocol.voltages[:n]), np.asarray(cell.current[:n])]
    )
    path = tmp_path / "rec.csv"
    np.savetxt(path, rows, delimiter=",", header="time,voltage,current", comments="")
    out = tmp_path / "out"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        code = main(
            [
                "fit",
                "--data",
                str(path),
                "--model",
                "beattie2018_ikr",
                "--temperature",
                "294.95",
                "--out",
                str(out),
                "--quiet",
            ]
        )
    assert code == 0
    summary = json.loads((out / "params.json").read_text())
    assert set(summary["parameters"]) == {f"P{k}" for k in range(1, 9)} | {"G"}
    # σ estimated from the residuals: close to the noise of the recording's first 200 ms.
    assert summary["sigma"] == pytest.approx(float(cell.sigma), rel=0.5)
    assert summary["n_samples"] == n - 50 * 5  # five steps in the first 3 s, 5 ms masked each
    assert np.isfinite(summary["log_likelihood"])


def test_fit_bad_arguments(tmp_path):
    with pytest.raises(SystemExit, match=r"--model 'nope' is not a model in membrax.models"):
        main(["fit", "--model", "nope", "--out", str(tmp_path)])
    path = tmp_path / "bad.csv"
    path.write_text("time,voltage,current\n0,-80,0.1\n0.2,-80,0.1\n0.1,-80,0.2\n")
    with pytest.raises(SystemExit, match=r"time must increase strictly"):
        main(["fit", "--data", str(path), "--temperature", "295", "--out", str(tmp_path)])
    path.write_text("time,voltage\n0,-80\n")
    with pytest.raises(SystemExit, match=r"missing column\(s\) current"):
        main(["fit", "--data", str(path), "--temperature", "295", "--out", str(tmp_path)])
    good = tmp_path / "good.csv"
    good.write_text("time,voltage,current\n0,-80,0.1\n0.1,-80,0.1\n")
    with pytest.raises(SystemExit, match=r"needs --temperature"):
        main(["fit", "--data", str(good), "--out", str(tmp_path)])
