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
