"""The `membrax` command line.

`membrax fit` fits a channel model to a voltage-clamp recording (the bundled hERG cell by
default) and writes parameters, a report and figures. `membrax potentials` prints the
equilibrium and resting potentials of physiological solutions
(bundled, or your own JSON file), with the sensitivity of the resting potential to external
potassium obtained by automatic differentiation. `membrax info` reports versions and devices.
"""

import argparse
import importlib.resources
import json
import pathlib
import sys

_DESCRIPTION = """\
membrax: differentiable simulation of ion channels and membranes (JAX).

Commands:
  fit          fit a channel model to a voltage-clamp recording (default: the bundled hERG
               sine-wave recording of Beattie et al. 2018) and write parameters, a report
               and figures.
  potentials   Nernst potentials of every ion and the Goldman–Hodgkin–Katz resting
               potential of physiological solutions, with dV_rest/d[K]o by autodiff.
  info         versions of membrax and its JAX stack, and the devices JAX sees.

Run `membrax COMMAND --help` for the options of each command.
"""

_SOLUTIONS_HELP = """\
JSON file of preparations (default: the bundled table). Schema:
{"preparations": [{"name": str, "temperature": K, "source": str,
  "ions": {"K": {"z": 1, "c_in": mM, "c_out": mM, "permeability": relative P}, ...}}]}
Ions with permeability 0 get a Nernst potential but do not enter the GHK voltage.
"""


def _load_preparations(path: str | None) -> list[dict]:
    if path is None:
        text = importlib.resources.files("membrax").joinpath("data/solutions.json").read_text()
        source = "bundled solutions.json"
    else:
        try:
            text = pathlib.Path(path).read_text()
        except OSError as error:
            raise SystemExit(
                f"membrax potentials: cannot read --solutions {path!r}: {error}"
            ) from None
        source = path
    try:
        preparations = json.loads(text)["preparations"]
        for prep in preparations:
            prep["name"], prep["temperature"]
            for ion, spec in prep["ions"].items():
                for key in ("z", "c_in", "c_out"):
                    float(spec[key])
                spec.setdefault("permeability", 0.0)
                spec["name"] = ion
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
        raise SystemExit(
            f"membrax potentials: {source} is not a valid solutions file ({error!r}).\n"
            + _SOLUTIONS_HELP
        ) from None
    return preparations


def _potentials_rows(preparations: list[dict], temperature: float | None) -> list[dict]:
    import jax
    import jax.numpy as jnp

    import membrax

    rows = []
    for prep in preparations:
        t = float(temperature if temperature is not None else prep["temperature"])
        ions = list(prep["ions"].values())
        row = {"name": prep["name"], "temperature": t, "nernst": {}}
        for ion in ions:
            e = membrax.nernst_potential(ion["c_out"], ion["c_in"], ion["z"], t)
            row["nernst"][ion["name"]] = float(e)
        permeant = [ion for ion in ions if float(ion["permeability"]) > 0]
        k_index = next((i for i, ion in enumerate(permeant) if ion["name"] == "K"), None)
        p = jnp.array([float(ion["permeability"]) for ion in permeant])
        c_in = jnp.array([float(ion["c_in"]) for ion in permeant])
        c_out = jnp.array([float(ion["c_out"]) for ion in permeant])
        z = [float(ion["z"]) for ion in permeant]

        def v_rest(c_out, p=p, c_in=c_in, z=z, t=t):
            return membrax.ghk_voltage(p, c_in, c_out, z, t)

        row["v_rest"] = float(v_rest(c_out))
        if k_index is not None:
            row["dv_dk_out"] = float(jax.grad(v_rest)(c_out)[k_index])
        rows.append(row)
    return rows


def _print_table(rows: list[dict]) -> None:
    ions = []
    for row in rows:
        ions += [ion for ion in row["nernst"] if ion not in ions]
    header = ["preparation", "T (°C)"] + [f"E_{ion}" for ion in ions]
    header += ["V_GHK", "dV/d[K]o"]
    lines = []
    for row in rows:
        cells = [row["name"], f"{row['temperature'] - 273.15:.1f}"]
        cells += [f"{row['nernst'][ion]:+.1f}" if ion in row["nernst"] else "" for ion in ions]
        cells.append(f"{row['v_rest']:+.1f}")
        cells.append(f"{row['dv_dk_out']:.3f}" if "dv_dk_out" in row else "")
        lines.append(cells)
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]
    print(
        "  ".join(
            h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths))
        )
    )
    for cells in lines:
        print(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))
            )
        )
    print(
        "\nPotentials in mV (inside relative to outside); dV/d[K]o in mV/mM, by jax.grad "
        "through the GHK voltage."
    )


def _potentials(args: argparse.Namespace) -> int:
    if args.temperature is not None and not args.temperature > 0:
        raise SystemExit(
            f"membrax potentials: --temperature must be > 0 K, got {args.temperature}. "
            "Give kelvin (37 °C = 310.15 K)."
        )
    rows = _potentials_rows(_load_preparations(args.solutions), args.temperature)
    if args.json:
        json.dump(rows, sys.stdout, indent=2)
        print()
    else:
        _print_table(rows)
    return 0


_FIT_EPILOG = """\
examples:
  membrax fit                                   # the bundled hERG cell 1 (Beattie et al. 2018)
  membrax fit --cell 3 --out cell3
  membrax fit --data rec.csv --model beattie2018_ikr --temperature 294.45 --out DIR

Your recording: a .csv with columns time (ms), voltage (mV), current (nA) — or .npz/.mat
with arrays of those names. The current is compared sample by sample with the model under
the recorded command (zero-order hold); samples within --mask-ms after each voltage step
(capacitive transients) are excluded. Outputs in --out: params.json (fitted parameters by
name, standard errors, log-likelihood), report.md, fit.csv (time, voltage, data, model,
kept) and, with matplotlib installed, fit.png and correlations.png.
"""

#: Names, units and model paths of the Beattie et al. (2018) parameters; `sign` turns the
#: model's slope (negative for the rates that fall with V) into the paper's positive P.
_BEATTIE_PARAMETERS = (
    ("P1", "1/ms", lambda m: m.gating.gates[0].alpha.rate, 1.0),
    ("P2", "1/mV", lambda m: m.gating.gates[0].alpha.slope, 1.0),
    ("P3", "1/ms", lambda m: m.gating.gates[0].beta.rate, 1.0),
    ("P4", "1/mV", lambda m: m.gating.gates[0].beta.slope, -1.0),
    ("P5", "1/ms", lambda m: m.gating.gates[1].beta.rate, 1.0),
    ("P6", "1/mV", lambda m: m.gating.gates[1].beta.slope, 1.0),
    ("P7", "1/ms", lambda m: m.gating.gates[1].alpha.rate, 1.0),
    ("P8", "1/mV", lambda m: m.gating.gates[1].alpha.slope, -1.0),
    ("G", "µS", lambda m: m.permeation.g_max, 1.0),
)
#: A generic start for the Beattie model: every rate 1e-3/ms at 0 mV, every slope 0.05/mV
#: (and G = 0.1 µS).
_BEATTIE_START = (1e-3, 0.05, 1e-3, 0.05, 1e-3, 0.05, 1e-3, 0.05)


def _fit_data(args):
    import membrax

    if args.data is None:
        cell = membrax.io.load_beattie2018(args.cell)
        trace = membrax.fit.Trace(cell.protocol, cell.current, mask=cell.mask, sigma=cell.sigma)
        source = (
            f"bundled hERG sine-wave recording, cell {args.cell} (experiment {cell.experiment}), "
            "Beattie et al. (2018) J Physiol 596:1813, doi:10.1113/JP275733, CC-BY 4.0"
        )
        temperature = args.temperature if args.temperature is not None else cell.temperature
        return trace, source, temperature, cell
    try:
        recording = membrax.io.load_recording(args.data)
    except ValueError as error:
        raise SystemExit(f"membrax fit: {error}") from None
    protocol = recording.protocol()
    mask = membrax.fit.mask_after_steps(protocol, args.mask_ms)
    trace = membrax.fit.Trace(protocol, recording.current, mask=mask)
    return trace, recording.source, args.temperature, None


def _fit_model(name, temperature, trace):
    import inspect

    import jax.numpy as jnp

    import membrax

    factory = getattr(membrax.models, name, None)
    public = [
        n
        for n in dir(membrax.models)
        if not n.startswith("_") and n.islower() and callable(getattr(membrax.models, n))
    ]
    if factory is None or not name.islower() or not callable(factory):
        raise SystemExit(
            f"membrax fit: --model {name!r} is not a model in membrax.models; choose one of "
            f"{', '.join(sorted(public))}."
        )
    accepts_temperature = "temperature" in inspect.signature(factory).parameters
    if accepts_temperature and temperature is None:
        raise SystemExit(
            f"membrax fit: --model {name} needs --temperature (kelvin, e.g. 294.45 for "
            "21.3 °C) for your own data."
        )
    if name == "beattie2018_ikr":
        # A generic start, not the published values: 0.1 µS is a typical whole-cell hERG
        # conductance in expression systems. (Starting G at its least-squares value for the
        # generic kinetics instead led Levenberg–Marquardt into a poor local minimum.)
        model = factory(jnp.asarray(_BEATTIE_START), 0.1, temperature=temperature)

        def trainable(m):
            return tuple(where(m) for _, _, where, _ in _BEATTIE_PARAMETERS)

        return model, trainable, _BEATTIE_PARAMETERS
    model = factory(temperature=temperature) if accepts_temperature else factory()
    return model, None, None


def _fit(args: argparse.Namespace) -> int:
    import jax

    # Fits want float64 (σ ≈ 0.007 nA against currents of nA): the command, an application,
    # turns it on for its own run; the library itself never changes JAX's configuration.
    with jax.enable_x64(True):
        return _fit_x64(args)


def _fit_x64(args: argparse.Namespace) -> int:
    import numpy as np

    import membrax

    if args.temperature is not None and not args.temperature > 0:
        raise SystemExit(
            f"membrax fit: --temperature must be > 0 K, got {args.temperature}. Give kelvin "
            "(21.3 °C = 294.45 K)."
        )
    trace, source, temperature, cell = _fit_data(args)
    model, trainable, named = _fit_model(args.model, temperature, trace)
    result = membrax.fit.fit(
        model,
        trace,
        trainable=trainable,
        starts=args.starts,
        max_steps=args.max_steps,
        rate_bounds=membrax.fit.RateBounds() if args.rate_bounds else None,
        progress=not args.quiet,
    )
    values = np.asarray(result.values)
    errors = np.asarray(result.standard_errors)
    if named is not None:
        order = [result.names.index(_path_name(model, where)) for _, _, where, _ in named]
        params = {
            name: {
                "value": float(sign * values[i]),
                "standard_error": float(errors[i]),
                "unit": unit,
            }
            for (name, unit, _, sign), i in zip(named, order)
        }
    else:
        params = {
            name: {"value": float(v), "standard_error": float(e)}
            for name, v, e in zip(result.names, values, errors)
        }
    record = membrax.voltage_clamp(result.model, trace.protocol)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    summary = {
        "model": args.model,
        "data": source,
        "temperature_K": float(temperature) if temperature is not None else None,
        "parameters": params,
        "log_likelihood": float(result.log_likelihood),
        "sigma": float(result.sigma[0]),
        "n_samples": result.n_samples,
        "num_steps": result.num_steps,
        "identifiability_warnings": list(result.warnings),
    }
    if cell is not None:
        summary["published_log_likelihood"] = cell.published_log_likelihood
    (out / "params.json").write_text(json.dumps(summary, indent=2) + "\n")
    ts = np.asarray(record.ts)
    table = np.column_stack(
        [
            ts,
            np.asarray(record.voltage),
            np.asarray(trace.current),
            np.asarray(record.current),
            np.asarray(trace.mask, dtype=float),
        ]
    )
    np.savetxt(
        out / "fit.csv",
        table,
        delimiter=",",
        header="time_ms,voltage_mV,data,model,kept",
        comments="",
        fmt="%.10g",
    )
    figures = _fit_figures(out, record, trace, result, args.model)
    _fit_report(out, summary, result, figures)
    print(f"log-likelihood {summary['log_likelihood']:.4f}", end="")
    if cell is not None:
        print(f" (published {cell.published_log_likelihood:.4f})", end="")
    print(f"; {result.num_steps} steps; results in {out}/")
    for name, p in params.items():
        print(f"  {name:<28} {p['value']: .6e} ± {p['standard_error']:.2e} {p.get('unit', '')}")
    return 0


def _path_name(model, where):
    import jax

    from membrax.fit._constraints import _is_constraint

    marker = object()
    marked = __import__("equinox").tree_at(where, model, marker)
    paths = jax.tree_util.tree_flatten_with_path(
        marked, is_leaf=lambda x: x is marker or _is_constraint(x)
    )[0]
    return next(jax.tree_util.keystr(path) for path, leaf in paths if leaf is marker)


def _fit_figures(out, record, trace, result, model_name):
    try:
        import membrax.plot

        membrax.plot.plot_fit(
            record.ts,
            record.voltage,
            trace.current,
            record.current,
            trace.mask,
            out / "fit.png",
            title=f"membrax fit: {model_name}",
        )
        membrax.plot.plot_correlations(result.names, result.correlations, out / "correlations.png")
    except ImportError as error:
        return f"figures skipped ({error})"
    return "fit.png (data, model, residuals), correlations.png"


def _fit_report(out, summary, result, figures):
    lines = [
        f"# membrax fit: {summary['model']}",
        "",
        f"- data: {summary['data']}",
        f"- temperature: {summary['temperature_K']} K",
        f"- fitted samples: {summary['n_samples']}; noise σ: {summary['sigma']:.6g}",
        f"- log-likelihood: {summary['log_likelihood']:.4f}",
    ]
    if "published_log_likelihood" in summary:
        lines.append(
            f"- published maximum log-likelihood: {summary['published_log_likelihood']:.4f}"
        )
    lines += [
        f"- optimiser steps: {summary['num_steps']} (Levenberg–Marquardt, optimistix)",
        f"- figures: {figures}",
        "",
        "| parameter | value | standard error | unit |",
        "| --- | --- | --- | --- |",
    ]
    for name, p in summary["parameters"].items():
        lines.append(
            f"| {name} | {p['value']:.6e} | {p['standard_error']:.2e} | {p.get('unit', '')} |"
        )
    if result.warnings:
        lines += ["", "Identifiability warnings:", ""] + [f"- {w}" for w in result.warnings]
    (out / "report.md").write_text("\n".join(lines) + "\n")


def _info(args: argparse.Namespace) -> int:
    del args
    import importlib.metadata

    import jax

    for package in (
        "membrax",
        "jax",
        "jaxlib",
        "equinox",
        "diffrax",
        "optax",
        "optimistix",
        "lineax",
    ):
        try:
            version = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            version = "not installed"
        print(f"{package:<11} {version}")
    print(f"{'devices':<11} {', '.join(str(d) for d in jax.devices())}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="membrax", description=_DESCRIPTION, formatter_class=argparse.RawTextHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    fit = commands.add_parser(
        "fit",
        help="fit a channel model to a voltage-clamp recording",
        description="Fit a channel model to a voltage-clamp recording by Levenberg–Marquardt "
        "(maximum Gaussian likelihood), with Gauss–Newton standard errors.",
        epilog=_FIT_EPILOG,
        formatter_class=argparse.RawTextHelpFormatter,
    )
    fit.add_argument("--data", metavar="FILE", help="your recording (.csv, .npz or .mat)")
    fit.add_argument(
        "--model",
        default="beattie2018_ikr",
        metavar="NAME",
        help="a model in membrax.models (default beattie2018_ikr)",
    )
    fit.add_argument("--temperature", type=float, metavar="K", help="temperature, kelvin")
    fit.add_argument("--out", default="membrax-fit", metavar="DIR", help="output folder")
    fit.add_argument(
        "--cell", type=int, default=1, choices=(1, 2, 3), help="bundled cell (without --data)"
    )
    fit.add_argument(
        "--mask-ms",
        type=float,
        default=5.0,
        metavar="MS",
        help="exclude this long after each voltage step (default 5 ms)",
    )
    fit.add_argument("--starts", type=int, default=1, help="multi-start: number of starts")
    fit.add_argument("--max-steps", type=int, default=200, help="optimiser step budget")
    fit.add_argument(
        "--rate-bounds",
        action="store_true",
        help="keep every rate within 1.67e-5..1e3 /ms over -120..60 mV (a penalty)",
    )
    fit.add_argument("--quiet", action="store_true", help="no progress line")
    fit.set_defaults(run=_fit)
    potentials = commands.add_parser(
        "potentials",
        help="Nernst and GHK resting potentials of physiological solutions",
        description="Nernst potential of every ion and the GHK resting potential of each "
        "preparation, with dV_rest/d[K]o computed by jax.grad through the GHK root.",
        formatter_class=argparse.RawTextHelpFormatter,
    )
    potentials.add_argument("--solutions", metavar="FILE", help=_SOLUTIONS_HELP)
    potentials.add_argument(
        "--temperature",
        type=float,
        metavar="K",
        help="override every preparation's temperature (kelvin)",
    )
    potentials.add_argument("--json", action="store_true", help="print JSON instead of a table")
    potentials.set_defaults(run=_potentials)
    info = commands.add_parser("info", help="versions and devices")
    info.set_defaults(run=_info)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return args.run(args)
