"""Reference spike times of the Hodgkin–Huxley (1952) point neuron from NEURON, for
tests/test_current_clamp.py (which asserts against the stored file, so CI needs no NEURON).

NEURON's `hh` mechanism at 6.3 °C with its rate lookup table off (`usetable_hh = 0`: the
default 1-mV table alone shifts spike times by up to 0.5 ms), CVODE at tight tolerance, and a
threshold detector interpolating the crossing (`cvode.condition_order(2)`). The section is a
single compartment of area 1e-4 cm² (L = 100 µm, diam = 100/π µm), so an IClamp of 1 nA is
10 µA/cm²; the leak reversal is set to membrax's −54.387 mV (NEURON's default is −54.3).

Run (NEURON is a benchmark-only dependency, not a membrax one):

    .venv/bin/python benchmarks/neuron_hh_reference.py            # writes the file
    .venv/bin/python benchmarks/neuron_hh_reference.py --check    # also re-solves at 100×
                                                                   # tighter tolerance

It writes tests/data/neuron_hh/spike_times.json.
"""

import argparse
import json
import pathlib

import numpy as np

OUT = pathlib.Path(__file__).resolve().parents[1] / "tests" / "data" / "neuron_hh"
T_STOP = 100.0  # ms
START, DURATION = 5.0, 90.0  # ms: the current step, so both of its edges lie in the run
THRESHOLD = 0.0  # mV, upward crossing
AMPLITUDES = (6.5, 10.0, 25.0)  # µA/cm², the three currents
AREA_CM2 = 1e-4


def population_parameters():
    """16 cells with varied conductances and currents (fixed seed; stored in the file)."""
    rng = np.random.default_rng(20240605)
    n = 16
    return {
        "g_na": np.round(rng.uniform(90.0, 150.0, n), 3).tolist(),  # mS/cm²
        "g_k": np.round(rng.uniform(25.0, 45.0, n), 3).tolist(),  # mS/cm²
        "g_leak": np.round(rng.uniform(0.2, 0.4, n), 4).tolist(),  # mS/cm²
        "amplitude": np.round(rng.uniform(8.0, 30.0, n), 3).tolist(),  # µA/cm²
    }


def neuron_spikes(g_na, g_k, g_leak, amplitude, *, rtol, atol):
    from neuron import h

    h.load_file("stdrun.hoc")
    soma = h.Section(name="soma")
    soma.L = 100.0
    soma.diam = 100.0 / np.pi
    soma.nseg = 1
    soma.cm = 1.0
    soma.insert("hh")
    seg = soma(0.5)
    assert abs(seg.area() * 1e-8 - AREA_CM2) < 1e-12
    seg.hh.gnabar = g_na * 1e-3  # S/cm²
    seg.hh.gkbar = g_k * 1e-3
    seg.hh.gl = g_leak * 1e-3
    seg.hh.el = -54.387
    seg.ena = 50.0
    seg.ek = -77.0
    h.celsius = 6.3
    h.usetable_hh = 0
    stim = h.IClamp(seg)
    stim.delay = START
    stim.dur = DURATION
    stim.amp = amplitude * AREA_CM2 * 1e3  # µA/cm² × cm² = µA → nA
    cvode = h.CVode()
    cvode.active(1)
    cvode.rtol(rtol)
    cvode.atol(atol)
    cvode.condition_order(2)
    detector = h.NetCon(seg._ref_v, None, sec=soma)
    detector.threshold = THRESHOLD
    times = h.Vector()
    detector.record(times)
    h.finitialize(-65.0)
    h.continuerun(T_STOP)
    return list(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with 100× tighter tol")
    args = parser.parse_args()
    from neuron import __version__ as neuron_version

    rtol, atol = 1e-10, 1e-10
    single = {str(a): neuron_spikes(120.0, 36.0, 0.3, a, rtol=rtol, atol=atol) for a in AMPLITUDES}
    pop = population_parameters()
    pop_spikes = [
        neuron_spikes(gn, gk, gl, a, rtol=rtol, atol=atol)
        for gn, gk, gl, a in zip(pop["g_na"], pop["g_k"], pop["g_leak"], pop["amplitude"])
    ]
    if args.check:
        worst = 0.0
        for a in AMPLITUDES:
            tight = neuron_spikes(120.0, 36.0, 0.3, a, rtol=rtol / 100, atol=atol / 100)
            worst = max(worst, float(np.max(np.abs(np.subtract(tight, single[str(a)])))))
        print(f"max change at 100x tighter tolerance: {worst:.2e} ms")
    data = {
        "source": "benchmarks/neuron_hh_reference.py",
        "neuron_version": neuron_version,
        "mechanism": "hh, usetable_hh = 0, celsius = 6.3, el = -54.387 mV, ena 50, ek -77",
        "solver": f"CVODE rtol={rtol} atol={atol}, NetCon threshold, condition_order(2)",
        "units": "conductances mS/cm², currents µA/cm², times ms",
        "t_stop": T_STOP,
        "step_start": START,
        "step_duration": DURATION,
        "threshold": THRESHOLD,
        "v_init": -65.0,
        "single_cell": single,
        "population": {**pop, "spike_times": pop_spikes},
    }
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "spike_times.json"
    path.write_text(json.dumps(data, indent=1) + "\n")
    counts = {a: len(t) for a, t in single.items()}
    print(
        f"wrote {path}: single-cell spike counts {counts}, population counts "
        f"{[len(t) for t in pop_spikes]}"
    )


if __name__ == "__main__":
    main()
