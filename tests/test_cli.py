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
                # 3 s of data leave G and P4 nearly collinear: the fit needs ~600 steps.
                "--max-steps",
                "1000",
            ]
        )
    assert code == 0
    summary = json.loads((out / "params.json").read_text())
    assert summary["num_steps"] < 1000  # converged, not stopped by the budget
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


# --- simulate, iv, help, cache, renamed warnings (issue 8) -----------------------------------


@pytest.fixture(autouse=True)
def _no_user_cache(monkeypatch):
    # The command keeps compiled programs in the user's cache folder; tests never write there
    # (the cache test points MEMBRAX_CACHE_DIR at tmp_path itself).
    monkeypatch.setenv("MEMBRAX_CACHE_DIR", "")


def _read_csv(path):
    header = path.read_text().splitlines()[0].split(",")
    return header, np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)


def _hh_n_rates(v):
    # Hodgkin & Huxley (1952), modern convention (rest −65 mV), 6.3 °C, by hand.
    alpha = 0.01 * (v + 55.0) / (1.0 - np.exp(-(v + 55.0) / 10.0))
    beta = 0.125 * np.exp(-(v + 65.0) / 80.0)
    return alpha, beta


def test_simulate_channel_step_family_equals_voltage_clamp(tmp_path, capsys):
    import membrax
    from membrax.protocols import PiecewiseProtocol, Step

    out = tmp_path / "na"
    # "--steps -60:20:40" as two words: the command must not read "-60:20:40" as an option.
    argv = ["simulate", "--model", "hh1952_sodium", "--steps", "-60:20:40", "--hold", "-80"]
    argv += ["--hold-ms", "2", "--step-ms", "5", "--dt", "0.05", "--out", str(out), "--quiet"]
    assert main(argv) == 0
    header, table = _read_csv(out / "trace.csv")
    levels = [-60.0, -20.0, 20.0]
    assert header == ["time_ms"] + [f"voltage_mV_step{v:+g}" for v in levels] + [
        f"current_uA_per_cm2_step{v:+g}" for v in levels
    ]
    assert table.shape == (140, 7)  # 7 ms every 0.05 ms
    peaks = []
    for k, v in enumerate(levels):
        direct = membrax.voltage_clamp(
            membrax.models.hh1952_sodium(), PiecewiseProtocol([Step(-80, 2), Step(v, 5)], dt=0.05)
        )
        current = np.asarray(direct.current)
        np.testing.assert_allclose(table[:, 0], np.asarray(direct.ts), rtol=0, atol=1e-12)
        np.testing.assert_allclose(table[:, 1 + k], np.asarray(direct.voltage), rtol=0, atol=0)
        # 1e-12 relative: the file keeps 15 digits; the floor covers samples near I = 0.
        scale = np.max(np.abs(current))
        np.testing.assert_allclose(table[:, 4 + k], current, rtol=1e-12, atol=1e-12 * scale)
        peaks.append(current[np.argmax(np.abs(current))])
    peak = peaks[int(np.argmax(np.abs(peaks)))]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["peak_current"] == pytest.approx(peak, rel=1e-12)
    assert summary["current_unit"] == "µA/cm²"
    assert f"peak current {peak:.6g} µA/cm²" in capsys.readouterr().out


def test_simulate_channel_under_a_command_file(tmp_path):
    import membrax

    times = np.array([0.0, 1.0, 1.5, 4.0, 4.2, 6.0])  # uneven sampling, zero-order hold
    volts = np.array([-80.0, -80.0, 10.0, 10.0, -40.0, -40.0])
    command = tmp_path / "command.csv"
    np.savetxt(command, np.column_stack([times, volts]), delimiter=",", header="time,voltage")
    command.write_text(command.read_text().removeprefix("# "))
    out = tmp_path / "k"
    argv = ["simulate", "--model", "hh1952_potassium", "--protocol", str(command)]
    assert main([*argv, "--out", str(out), "--quiet"]) == 0
    header, table = _read_csv(out / "trace.csv")
    assert header == ["time_ms", "voltage_mV", "current_uA_per_cm2"]
    direct = membrax.voltage_clamp(
        membrax.models.hh1952_potassium(), membrax.SampledProtocol(volts, times=times)
    )
    np.testing.assert_allclose(table[:, 2], np.asarray(direct.current), rtol=1e-12)


def test_simulate_cell_spikes_equal_current_clamp(tmp_path, capsys):
    import membrax

    out = tmp_path / "ap"
    argv = ["simulate", "--model", "hh1952_cell", "--current", "10", "--start", "10"]
    assert main([*argv, "--duration", "50", "--t1", "80", "--out", str(out), "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    direct = membrax.current_clamp(
        membrax.models.hh1952_cell(),
        membrax.CurrentStep(10.0, 10.0, 50.0),
        t1=80.0,
        save=membrax.SaveSpikes(),
    )
    count = int(direct.spike_count)
    assert count >= 2  # 10 µA/cm² is above HH's threshold for repetitive firing (~6 µA/cm²)
    assert summary["spike_count"] == count
    first = float(direct.spike_times[0])
    assert summary["spike_times_ms"][0] == pytest.approx(first, rel=1e-12)
    # The written trace agrees: as many upward crossings of 0 mV, and the stimulus column.
    header, table = _read_csv(out / "trace.csv")
    assert header == ["time_ms", "voltage_mV", "stimulus_uA_per_cm2"]
    v = table[:, 1]
    assert int(np.sum((v[:-1] < 0) & (v[1:] >= 0))) == count
    t = table[:, 0]
    np.testing.assert_array_equal(table[:, 2], np.where((t >= 10) & (t < 60), 10.0, 0.0))
    assert f"{count} spikes" in capsys.readouterr().out


def test_iv_steady_and_peak_against_closed_forms(tmp_path, capsys):
    # HH potassium current I = ḡ n⁴ (V − E_K) with ḡ = 36 mS/cm², E_K = −77 mV, the rates by
    # hand. From a hold at −80 mV (n = n∞(−80)), n(t) = n∞ + (n0 − n∞) e^{−t/τ},
    # τ = 1/(α + β): after 200 ms (τ ≤ 6 ms) the step is at steady state; after 5 ms the
    # largest |I| is the last sample, 4.9 ms into the step (n rises monotonically).
    levels = np.arange(-60.0, 41.0, 20.0)
    a0, b0 = _hh_n_rates(-80.0)
    n0 = a0 / (a0 + b0)
    alpha, beta = _hh_n_rates(levels)
    n_inf, tau = alpha / (alpha + beta), 1.0 / (alpha + beta)
    common = ["iv", "--model", "hh1952_potassium", "--steps", "-60:40:20", "--hold", "-80"]
    out = tmp_path / "steady"
    assert main([*common, "--step-ms", "200", "--measure", "steady", "--out", str(out)]) == 0
    header, table = _read_csv(out / "iv.csv")
    assert header == ["voltage_mV", "steady_current_uA_per_cm2"]
    np.testing.assert_array_equal(table[:, 0], levels)
    np.testing.assert_allclose(table[:, 1], 36.0 * n_inf**4 * (levels + 77.0), rtol=1e-6)
    assert "I steady (µA/cm²)" in capsys.readouterr().out

    out = tmp_path / "peak"
    assert main([*common, "--step-ms", "5", "--measure", "peak", "--out", str(out)]) == 0
    _, table = _read_csv(out / "iv.csv")
    n = n_inf + (n0 - n_inf) * np.exp(-4.9 / tau)
    np.testing.assert_allclose(table[:, 1], 36.0 * n**4 * (levels + 77.0), rtol=1e-9)


def test_iv_and_simulate_refuse_what_they_cannot_run(tmp_path):
    out = ["--out", str(tmp_path)]
    with pytest.raises(SystemExit, match=r"--model hh1952_cell is a cell; an I–V curve"):
        main(["iv", "--model", "hh1952_cell", *out])
    with pytest.raises(SystemExit, match=r"--steps is for voltage clamp \(channels\)"):
        main(["simulate", "--model", "hh1952_cell", "--steps", "-80:0:10", *out])
    with pytest.raises(SystemExit, match=r"--current is for current clamp \(cells\)"):
        main(["simulate", "--model", "hh1952_sodium", "--current", "5", *out])
    with pytest.raises(SystemExit, match=r"choose a voltage protocol for --model hh1952_sodium"):
        main(["simulate", "--model", "hh1952_sodium", *out])
    with pytest.raises(SystemExit, match=r"builds a CycleTransporter"):
        main(["simulate", "--model", "kcc2", *out])
    with pytest.raises(SystemExit, match=r"--steps '0:10:-5' is not V0:V1:DV"):
        main(["simulate", "--model", "hh1952_sodium", "--steps", "0:10:-5", *out])
    with pytest.raises(SystemExit, match=r"--step-ms must be > 0 ms, got -5"):
        main(["iv", "--model", "hh1952_sodium", "--step-ms", "-5", *out])


def _example_lines(text):
    """The `membrax ...` command lines of a help text, continuation lines joined."""
    lines, pending = [], ""
    for line in text.splitlines():
        line = line.strip()
        if pending or line.startswith("membrax "):
            pending += line.removesuffix("\\")
            if line.endswith("\\"):
                pending += " "
            else:
                lines.append(pending)
                pending = ""
    return lines


def test_help_teaches_with_examples_that_parse(capsys):
    import shlex

    from membrax._cli import _join_negative_values, _parser

    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    top = capsys.readouterr().out
    for command in ("fit", "simulate", "iv", "potentials", "info"):
        assert f"\n    {command}" in top
    examples = _example_lines(top)
    for command in ("fit", "simulate", "iv", "potentials", "info"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = capsys.readouterr().out
        assert "example" in text
        found = [e for e in _example_lines(text) if e.startswith(f"membrax {command}")]
        assert found, command
        examples += found
    assert "membrax simulate --model hh1952_cell --current 10 --start 10 --duration 50" in (
        "\n".join(examples)
    )
    # Every example is a valid command line (parsing only; the tests above run such commands).
    for example in examples:
        args = _parser().parse_args(_join_negative_values(shlex.split(example, comments=True)[1:]))
        assert args.command == example.split()[1]


def test_compilation_cache_on_and_off(tmp_path, monkeypatch, capsys):
    import jax

    from membrax._cli import _cache_dir

    before = jax.config.jax_compilation_cache_dir
    cache = tmp_path / "cache"
    monkeypatch.setenv("MEMBRAX_CACHE_DIR", str(cache))
    # Shapes used nowhere else, so that this run compiles.
    argv = ["simulate", "--model", "hh1952_potassium", "--steps", "-50,-30,-10", "--quiet"]
    assert main([*argv, "--hold-ms", "1.3", "--step-ms", "3.7", "--out", str(tmp_path)]) == 0
    written = sorted(f for f in cache.rglob("*") if f.is_file())
    assert written
    assert jax.config.jax_compilation_cache_dir == before  # restored after the command
    # --no-cache: nothing written to the folder MEMBRAX_CACHE_DIR names.
    off = tmp_path / "off"
    monkeypatch.setenv("MEMBRAX_CACHE_DIR", str(off))
    assert main([*argv, "--step-ms", "4.1", "--no-cache", "--out", str(tmp_path)]) == 0
    assert not off.exists()
    # MEMBRAX_CACHE_DIR="": off too, and the earlier cache gains nothing.
    monkeypatch.setenv("MEMBRAX_CACHE_DIR", "")
    assert _cache_dir() is None
    assert main([*argv, "--step-ms", "4.3", "--out", str(tmp_path)]) == 0
    assert sorted(f for f in cache.rglob("*") if f.is_file()) == written
    monkeypatch.setenv("MEMBRAX_CACHE_DIR", str(cache))
    assert main(["info"]) == 0
    assert f"cache       {cache} ({len(written)} files" in capsys.readouterr().out
    # The default folder: $XDG_CACHE_HOME/membrax/jax when absolute, else ~/.cache.
    monkeypatch.delenv("MEMBRAX_CACHE_DIR")
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert _cache_dir() == tmp_path / "xdg" / "membrax" / "jax"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert _cache_dir() == tmp_path / "home" / ".cache" / "membrax" / "jax"


def test_fit_keeps_its_traced_programs_next_to_the_compilation_cache(tmp_path, monkeypatch):
    # membrax/_exported.py through the command: a second run loads the solver's programs
    # instead of tracing them and gives the same parameters to the last digit (equality with
    # a traced fit: tests/test_exported.py).
    import membrax
    from membrax import _exported

    cell = membrax.io.load_beattie2018(1)
    n = 4000
    rows = np.column_stack(
        [np.arange(n) * 0.1, np.asarray(cell.protocol.voltages[:n]), np.asarray(cell.current[:n])]
    )
    path = tmp_path / "rec.csv"
    np.savetxt(path, rows, delimiter=",", header="time,voltage,current", comments="")

    def run(out):
        argv = ["fit", "--data", str(path), "--temperature", "294.95", "--max-steps", "4"]
        monkeypatch.setattr(_exported, "_loaded", {})  # as in a new process
        monkeypatch.setattr(_exported, "_last", {})
        assert main([*argv, "--quiet", "--out", str(tmp_path / out)]) == 0
        return json.loads((tmp_path / out / "params.json").read_text())["parameters"]

    cache = tmp_path / "cache"
    monkeypatch.setenv("MEMBRAX_CACHE_DIR", str(cache))
    first = run("first")
    exported = sorted(p.name.split("-")[0] for p in (cache / "membrax-exported").glob("*.exported"))
    assert exported == ["lm_init", "lm_step", "residuals_and_jacobian"]
    assert _exported._directory is None  # off again after the command
    second = run("second")
    assert len(list((cache / "membrax-exported").glob("*.exported"))) == 3
    assert second == first


def test_identifiability_warnings_use_the_reported_names():
    import jax.numpy as jnp

    import membrax
    from membrax._cli import _BEATTIE_PARAMETERS, _BEATTIE_START, _path_name, _renamed_warnings

    model = membrax.models.beattie2018_ikr(jnp.asarray(_BEATTIE_START), 0.1, temperature=295.0)
    paths = {name: _path_name(model, where) for name, _, where, _ in _BEATTIE_PARAMETERS}
    names = {paths[name]: (name, sign) for name, _, _, sign in _BEATTIE_PARAMETERS}
    notes = [
        f"{paths['P3']} and {paths['P4']} are correlated (+0.9950)",
        f"{paths['P1']} and {paths['G']} are correlated (-1.0000)",
        f"{paths['P8']}: standard error 0.3 exceeds its value",
        "the curvature matrix is (near) singular: some parameters are not identifiable",
    ]
    # P4 is the negated slope of its rate: its correlations change sign.
    assert _renamed_warnings(notes, names) == [
        "P3 and P4 are correlated (-0.9950)",
        "P1 and G are correlated (-1.0000)",
        "P8: standard error 0.3 exceeds its value",
        notes[3],
    ]
    # A path that begins another is not replaced inside it.
    prefix = {".k.rate": ("A", 1.0), ".k.rate_max": ("B", 1.0)}
    assert _renamed_warnings([".k.rate_max: x", ".k.rate: y"], prefix) == ["B: x", "A: y"]


def test_fit_reports_warnings_by_parameter_name(tmp_path, capsys, monkeypatch):
    # Which notes a short fit raises depends on the optimiser's path; to test the command's
    # reporting, the (real) fit's result gets two notes in model paths, as fit writes them.
    import dataclasses

    import membrax
    from membrax._cli import _BEATTIE_PARAMETERS, _path_name

    real_fit = membrax.fit.fit

    def fit_with_notes(model, *args, **kwargs):
        result = real_fit(model, *args, **kwargs)
        path = {name: _path_name(model, where) for name, _, where, _ in _BEATTIE_PARAMETERS}
        notes = (
            f"{path['P7']} and {path['P8']} are correlated (+0.9990)",
            f"{path['G']}: standard error 2 exceeds its value",
        )
        return dataclasses.replace(result, warnings=notes)

    monkeypatch.setattr(membrax.fit, "fit", fit_with_notes)
    assert main(["fit", "--max-steps", "1", "--out", str(tmp_path), "--quiet"]) == 0
    expected = ["P7 and P8 are correlated (-0.9990)", "G: standard error 2 exceeds its value"]
    summary = json.loads((tmp_path / "params.json").read_text())
    assert summary["identifiability_warnings"] == expected
    report = (tmp_path / "report.md").read_text()
    assert all(f"- {note}" in report for note in expected)
    out = capsys.readouterr().out
    assert all(f"identifiability: {note}" in out for note in expected)


def test_progress_line_only_for_slow_work(capsys):
    import time

    from membrax._cli import _Progress

    with _Progress("membrax test", "quick", after=0.5):
        pass
    with _Progress("membrax test", "slow", after=0.05):
        time.sleep(0.3)
    with _Progress("membrax test", "silenced", after=0.05, enabled=False):
        time.sleep(0.2)
    err = capsys.readouterr().err
    assert "quick" not in err and "silenced" not in err
    seconds = float(err.split("slow … done in ")[1].split(" s")[0])
    assert 0.25 <= seconds < 5
