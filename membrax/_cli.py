"""The `membrax` command line.

`membrax fit` fits a channel model to a voltage-clamp recording (the bundled hERG cell by
default) and writes parameters, a report and figures. `membrax simulate` runs a model under a
voltage-clamp protocol (channels) or a current step (cells) and writes the traces and a figure;
`membrax iv` measures a current–voltage curve. `membrax potentials` prints the equilibrium and
resting potentials of physiological solutions (bundled, or your own JSON file), with the
sensitivity of the resting potential to external potassium obtained by automatic
differentiation. `membrax info` reports versions, devices and the compilation cache.

The command is an application, not the library: it turns on float64 for its own runs and a
persistent compilation cache (so that a second `membrax fit` skips compiling), and restores
JAX's configuration when `main` returns.
"""

import argparse
import contextlib
import functools
import importlib.resources
import json
import os
import pathlib
import re
import sys
import threading
import time
import warnings

_DESCRIPTION = """\
membrax: differentiable simulation of ion channels and membranes (JAX).

Commands:
  fit          fit a channel model to a voltage-clamp recording (default: the bundled hERG
               sine-wave recording of Beattie et al. 2018) and write parameters, a report
               and figures.
  simulate     run a model: a channel under a voltage-clamp protocol (a step family, the
               Beattie sine wave or your command waveform), or a cell under a current step;
               writes trace.csv and trace.png.
  iv           a current–voltage curve (peak or steady-state current of a step family);
               writes iv.csv and iv.png.
  potentials   Nernst potentials of every ion and the Goldman–Hodgkin–Katz resting
               potential of physiological solutions, with dV_rest/d[K]o by autodiff.
  info         versions of membrax and its JAX stack, the devices JAX sees, and the
               compilation cache.

Run `membrax COMMAND --help` for the options and examples of each command.
"""

_MAIN_EPILOG = """\
examples:
  membrax fit --out fit1                         # fit the bundled hERG cell 1
  membrax simulate --model hh1952_cell --current 10 --out spikes
  membrax iv --model hh1952_potassium --steps -60:40:10 --measure steady --out iv_k

compilation cache: compiled programs (and fit's traced programs) are kept in
$MEMBRAX_CACHE_DIR (default ~/.cache/membrax/jax, under $XDG_CACHE_HOME if set), so the
second run of a command starts in about a second. MEMBRAX_CACHE_DIR="" or --no-cache
turns it off; delete the folder to clear it.
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

    import numpy as np

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
        model = factory(np.asarray(_BEATTIE_START), 0.1, temperature=temperature)

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
    with warnings.catch_warnings():
        # The command prints these notes itself, under the parameters' published names.
        warnings.filterwarnings("ignore", message="fit: identifiability", category=UserWarning)
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
    notes = list(result.warnings)
    plot_names, correlations = list(result.names), np.asarray(result.correlations)
    if named is not None:
        paths = [_path_name(model, where) for _, _, where, _ in named]
        order = [result.names.index(path) for path in paths]
        notes = _renamed_warnings(
            notes, {path: (name, sign) for path, (name, _, _, sign) in zip(paths, named)}
        )
        # The correlation figure in the same names; a parameter reported with the opposite
        # sign of the model's field (P4, P8) flips the sign of its correlations.
        signs = np.array([sign for _, _, _, sign in named])
        plot_names = [name for name, _, _, _ in named]
        correlations = correlations[np.ix_(order, order)] * np.outer(signs, signs)
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
        "identifiability_warnings": notes,
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
    print(f"log-likelihood {summary['log_likelihood']:.4f}", end="")
    if cell is not None:
        print(f" (published {cell.published_log_likelihood:.4f})", end="")
    print(f"; {result.num_steps} steps; results in {out}/")
    for name, p in params.items():
        print(f"  {name:<28} {p['value']: .6e} ± {p['standard_error']:.2e} {p.get('unit', '')}")
    for note in notes:
        print(f"identifiability: {note}")
    sys.stdout.flush()
    # The numbers first, the figures (a second or more of matplotlib) after.
    with _Progress("membrax fit", "writing figures", enabled=not args.quiet):
        figures = _fit_figures(out, record, trace, plot_names, correlations, args.model)
    _fit_report(out, summary, figures)
    return 0


_CORRELATED = re.compile(r"^(?P<a>\S+) and (?P<b>\S+) are correlated \((?P<r>[-+]?[0-9.]+)\)$")


def _renamed_warnings(notes: list[str], names: dict) -> list[str]:
    """The fit's identifiability notes with model paths (`.gating.gates[0].alpha.rate`)
    replaced by the reported names (`P1`). `names` maps a path to (name, sign); a correlation
    between two parameters of which one is reported with the opposite sign of its field
    changes sign."""
    if not names:
        return list(notes)
    # Longest paths first, and never inside a longer path (`.rate` vs `.rate_max`).
    alternatives = "|".join(re.escape(p) for p in sorted(names, key=len, reverse=True))
    pattern = re.compile(f"(?:{alternatives})" + r"(?![\w\[])")
    renamed = []
    for note in notes:
        match = _CORRELATED.match(note)
        if match and match["a"] in names and match["b"] in names:
            (a, sign_a), (b, sign_b) = names[match["a"]], names[match["b"]]
            r = float(match["r"]) * sign_a * sign_b
            renamed.append(f"{a} and {b} are correlated ({r:+.4f})")
        else:
            renamed.append(pattern.sub(lambda m: names[m.group(0)][0], note))
    return renamed


def _path_name(model, where):
    import jax

    from membrax.fit._constraints import _is_constraint

    marker = object()
    marked = __import__("equinox").tree_at(where, model, marker)
    paths = jax.tree_util.tree_flatten_with_path(
        marked, is_leaf=lambda x: x is marker or _is_constraint(x)
    )[0]
    return next(jax.tree_util.keystr(path) for path, leaf in paths if leaf is marker)


def _fit_figures(out, record, trace, names, correlations, model_name):
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
        membrax.plot.plot_correlations(names, correlations, out / "correlations.png")
    except ImportError as error:
        return f"figures skipped ({error})"
    return "fit.png (data, model, residuals), correlations.png"


def _fit_report(out, summary, figures):
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
    notes = summary["identifiability_warnings"]
    if notes:
        lines += ["", "Identifiability warnings:", ""] + [f"- {w}" for w in notes]
    (out / "report.md").write_text("\n".join(lines) + "\n")


# --- progress -------------------------------------------------------------------------------


class _Progress:
    """A progress line on stderr for work that takes more than a second (quick work prints
    nothing): `membrax simulate: running … 2.5 s`, updated twice a second on a terminal, then
    `done in 3.1 s`."""

    def __init__(self, prefix: str, what: str, *, enabled: bool = True, after: float = 1.0):
        self.prefix, self.what, self.enabled, self.after = prefix, what, enabled, after
        self.shown = False

    def __enter__(self):
        self.started = time.perf_counter()
        if self.enabled:
            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()
        return self

    def _line(self):
        return f"{self.prefix}: {self.what} … {time.perf_counter() - self.started:5.1f} s"

    def _run(self):
        if self._stop.wait(self.after):
            return
        self.shown = True
        if not sys.stderr.isatty():
            sys.stderr.write(f"{self.prefix}: {self.what} …")
            sys.stderr.flush()
            return
        while True:
            sys.stderr.write("\r" + self._line())
            sys.stderr.flush()
            if self._stop.wait(0.5):
                return

    def __exit__(self, *exc):
        if not self.enabled:
            return False
        self._stop.set()
        self._thread.join()
        if self.shown:
            elapsed = time.perf_counter() - self.started
            start = f"\r{self.prefix}: {self.what} …" if sys.stderr.isatty() else ""
            sys.stderr.write(f"{start} done in {elapsed:.1f} s\n")
            sys.stderr.flush()
        return False


# --- persistent compilation cache -------------------------------------------------------------


def _cache_dir() -> pathlib.Path | None:
    """Where the command keeps compiled programs: $MEMBRAX_CACHE_DIR ("" turns the cache
    off), else the platform's user cache folder (~/.cache/membrax/jax on Linux, under
    $XDG_CACHE_HOME when that is set)."""
    configured = os.environ.get("MEMBRAX_CACHE_DIR")
    if configured is not None:
        return pathlib.Path(configured).expanduser() if configured.strip() else None
    home = pathlib.Path.home()
    if sys.platform == "darwin":
        base = home / "Library" / "Caches"
    elif os.name == "nt":
        base = pathlib.Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local")
    else:
        # The XDG spec ignores relative paths.
        xdg = os.environ.get("XDG_CACHE_HOME", "")
        base = pathlib.Path(xdg) if os.path.isabs(xdg) else home / ".cache"
    return base / "membrax" / "jax"


@contextlib.contextmanager
def _compilation_cache(enabled: bool):
    """Use JAX's persistent compilation cache in `_cache_dir()` while a command runs, then
    restore JAX's configuration. Every compiled program is kept (no minimum compile time): a
    fit compiles dozens of small programs that together take seconds."""
    path = _cache_dir() if enabled else None
    if path is None:
        yield None
        return
    import jax
    from jax.experimental.compilation_cache import compilation_cache

    from membrax._exported import export_cache

    if jax.config.jax_compilation_cache_dir is not None:
        # The user configured JAX's cache (JAX_COMPILATION_CACHE_DIR): theirs wins.
        yield pathlib.Path(jax.config.jax_compilation_cache_dir)
        return
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        sys.stderr.write(
            f"membrax: compilation cache off: cannot create {path} ({error}). Set "
            "MEMBRAX_CACHE_DIR to a writable folder, or to '' to silence this.\n"
        )
        yield None
        return
    saved = {
        name: getattr(jax.config, name)
        for name in ("jax_compilation_cache_dir", "jax_persistent_cache_min_compile_time_secs")
    }
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    # JAX opens its cache once per process, at the first compile after a path is set:
    # reset it so this path is used now, and again afterwards so the old setting returns.
    compilation_cache.reset_cache()
    try:
        # Traced fit programs too (membrax/_exported.py): JAX's cache skips compiling, this
        # one tracing.
        with export_cache(path / "membrax-exported"):
            yield path
    finally:
        for name, value in saved.items():
            jax.config.update(name, value)
        compilation_cache.reset_cache()


# --- models for simulate and iv ---------------------------------------------------------------

#: The current unit of the published models: (CSV column suffix, display).
_CURRENT_UNITS = {
    "beattie2018_ikr": ("nA", "nA"),
    "hh1952_sodium": ("uA_per_cm2", "µA/cm²"),
    "hh1952_potassium": ("uA_per_cm2", "µA/cm²"),
    "hh1952_leak": ("uA_per_cm2", "µA/cm²"),
    "hh1952_cell": ("uA_per_cm2", "µA/cm²"),
}
_MODEL_UNITS = ("model_units", "model units")


def _model_names() -> list[str]:
    import membrax

    return sorted(
        n
        for n in dir(membrax.models)
        if not n.startswith("_") and n.islower() and callable(getattr(membrax.models, n))
    )


def _build_model(command: str, name: str, temperature: float | None):
    """(model, "channel" | "cell", description) for `--model name`."""
    import inspect

    import membrax

    where = f"membrax {command}"
    factory = getattr(membrax.models, name, None)
    if factory is None or not name.islower() or not callable(factory):
        raise SystemExit(
            f"{where}: --model {name!r} is not a model in membrax.models; choose one of "
            f"{', '.join(_model_names())}."
        )
    if temperature is not None and not temperature > 0:
        raise SystemExit(
            f"{where}: --temperature must be > 0 K, got {temperature}. Give kelvin "
            "(6.3 °C = 279.45 K)."
        )
    parameters = inspect.signature(factory).parameters
    description = name
    try:
        if name == "beattie2018_ikr":
            cell = membrax.io.load_beattie2018(1)
            temperature = cell.temperature if temperature is None else temperature
            model = factory(cell.p, cell.g, temperature=temperature)
            description = (
                f"{name} (published fit to cell 1 of Beattie et al. 2018) at {temperature:g} K"
            )
        else:
            kwargs = {}
            if temperature is not None:
                if "temperature" not in parameters:
                    raise SystemExit(f"{where}: --model {name} takes no --temperature; drop it.")
                kwargs["temperature"] = temperature
                description = f"{name} at {temperature:g} K"
            empty = inspect.Parameter.empty
            missing = [
                p.name
                for p in parameters.values()
                if p.default is empty
                and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
                and p.name not in kwargs
            ]
            if missing == ["temperature"]:
                raise SystemExit(f"{where}: --model {name} needs --temperature (kelvin).")
            if missing:
                raise SystemExit(
                    f"{where}: --model {name} needs arguments the command line cannot give "
                    f"({', '.join(missing)}); build it in Python and call membrax.voltage_clamp "
                    "or membrax.current_clamp."
                )
            model = factory(**kwargs)
    except ValueError as error:
        raise SystemExit(f"{where}: {error}") from None
    if isinstance(model, membrax.models.Channel):
        return model, "channel", description
    if isinstance(model, membrax.models.PointCell):
        return model, "cell", description
    raise SystemExit(
        f"{where}: --model {name} builds a {type(model).__name__}; membrax {command} runs "
        "channels (voltage clamp) and cells such as hh1952_cell (current clamp)."
    )


def _parse_steps(where: str, text: str):
    """The voltages of `--steps`: V0:V1:DV (V1 included when on the grid) or a comma list."""
    import numpy as np

    fix = (
        f"{where}: --steps {text!r} is not V0:V1:DV in mV (e.g. --steps -80:40:20 for -80, "
        "-60, …, 40 mV) nor a comma-separated list of voltages (e.g. --steps -40,0,40)."
    )
    try:
        if ":" in text:
            v0, v1, dv = (float(x) for x in text.split(":"))
            if dv == 0 or (v1 - v0) * dv < 0:
                raise SystemExit(f"{fix} The step DV = {dv:g} mV must lead from V0 to V1.")
            count = int(np.floor((v1 - v0) / dv * (1 + 1e-12) + 1e-9)) + 1
            levels = v0 + dv * np.arange(count)
        else:
            levels = np.array([float(x) for x in text.split(",")])
    except ValueError:
        raise SystemExit(fix) from None
    if not np.isfinite(levels).all() or levels.size > 1000:
        raise SystemExit(f"{fix} Give at most 1000 finite voltages.")
    return levels


def _positive(where: str, option: str, value: float, fix: str = "") -> float:
    if not value > 0:
        raise SystemExit(f"{where}: {option} must be > 0 ms, got {value:g}. {fix}".rstrip())
    return value


#: Defaults of the step-family options (`membrax simulate` leaves them None to tell a channel's
#: options from a cell's).
_STEP_DEFAULTS = {"hold": -80.0, "hold_ms": 10.0, "step_ms": 50.0, "tail_ms": 50.0, "dt": 0.1}


def _step_family(where: str, args):
    import membrax

    levels = _parse_steps(where, args.steps)
    hold_ms = _positive(where, "--hold-ms", args.hold_ms, "It is the time at --hold first.")
    step_ms = _positive(where, "--step-ms", args.step_ms, "It is the length of each step.")
    dt = _positive(where, "--dt", args.dt, "It is the sampling interval (0.1 ms = 10 kHz).")
    tail = {}
    if args.tail is not None:
        tail_ms = _positive(where, "--tail-ms", args.tail_ms, "It is the length of the tail.")
        tail = {"tail_voltage": args.tail, "tail_duration": tail_ms}
    family = membrax.protocols.activation_family(
        levels,
        holding=args.hold,
        holding_duration=hold_ms,
        test_duration=step_ms,
        dt=dt,
        **tail,
    )
    return levels, family


def _read_command(where: str, path: str):
    """A command waveform from a CSV file with columns time (ms) and voltage (mV); other
    columns (e.g. a recorded current) are ignored."""
    import csv

    import numpy as np

    import membrax

    try:
        with open(path, newline="") as f:
            reader = csv.DictReader(f)
            header = [h.strip().lower() for h in reader.fieldnames or []]
            if "time" not in header or "voltage" not in header:
                raise SystemExit(
                    f"{where}: --protocol {path}: the header is {reader.fieldnames}; expected "
                    "columns time (ms) and voltage (mV), e.g. a line 'time,voltage'."
                )
            rows = []
            for line, row in enumerate(reader, start=2):
                row = {k.strip().lower(): v for k, v in row.items() if k is not None}
                try:
                    rows.append((float(row["time"]), float(row["voltage"])))
                except (TypeError, ValueError):
                    raise SystemExit(
                        f"{where}: --protocol {path}: line {line}: time = {row.get('time')!r}, "
                        f"voltage = {row.get('voltage')!r} are not both numbers."
                    ) from None
    except OSError as error:
        raise SystemExit(f"{where}: cannot read --protocol {path!r}: {error}") from None
    if len(rows) < 2:
        raise SystemExit(f"{where}: --protocol {path}: {len(rows)} sample(s); give at least 2.")
    times, voltages = np.array(rows).T
    recording = membrax.io.Recording(times, voltages, np.zeros_like(times), path)
    try:
        return recording.protocol()
    except ValueError as error:
        raise SystemExit(f"{where}: --protocol {path}: {error}") from None


def _span(levels) -> str:
    return f"{levels[0]:g} mV" if levels.size == 1 else f"{levels[0]:g}…{levels[-1]:g} mV"


def _unit(name: str):
    return _CURRENT_UNITS.get(name, _MODEL_UNITS)


def _write_csv(path: pathlib.Path, columns: list[str], table) -> None:
    import numpy as np

    # 15 significant digits: values read back agree with the computation to 1e-15.
    np.savetxt(path, table, delimiter=",", header=",".join(columns), comments="", fmt="%.15g")


def _figure(plot, *args, **kwargs) -> str | None:
    """Run a membrax.plot function; None when matplotlib is missing (the note is printed)."""
    try:
        import membrax.plot

        getattr(membrax.plot, plot)(*args, **kwargs)
    except ImportError as error:
        print(f"figure skipped: {error}")
        return None
    return pathlib.Path(args[-1]).name


def _check_kind_options(where, args, kind, name):
    channel_options = {
        "--protocol": args.protocol,
        "--steps": args.steps,
        "--sine-wave": args.sine_wave or None,
        "--hold": args.hold,
        "--hold-ms": args.hold_ms,
        "--step-ms": args.step_ms,
        "--tail": args.tail,
        "--tail-ms": args.tail_ms,
    }
    cell_options = {
        "--current": args.current,
        "--start": args.start,
        "--duration": args.duration,
        "--t1": args.t1,
        "--threshold": args.threshold,
    }
    wrong = channel_options if kind == "cell" else cell_options
    given = [option for option, value in wrong.items() if value is not None]
    if given:
        if kind == "cell":
            meant, use = "voltage clamp (channels)", "--current, --start, --duration, --t1"
        else:
            meant, use = "current clamp (cells)", "--steps, --protocol or --sine-wave"
        raise SystemExit(
            f"{where}: {', '.join(given)} {'is' if len(given) == 1 else 'are'} for {meant}, "
            f"but --model {name} is a {kind}: use {use}."
        )


# --- simulate ---------------------------------------------------------------------------------

_SIMULATE_EPILOG = """\
examples:
  # Sodium currents of Hodgkin & Huxley (1952) for steps from -80 to +40 mV (20 mV apart),
  # 10 ms at -80 mV then 20 ms at each test voltage, sampled every 0.01 ms:
  membrax simulate --model hh1952_sodium --steps -80:40:20 --hold -80 --step-ms 20 \\
      --dt 0.01 --out na
  # hERG under the sinusoidal protocol of Beattie et al. (2018) (the default for this model;
  # the published fit to cell 1):
  membrax simulate --model beattie2018_ikr --out herg
  # Your command waveform (a CSV with columns time in ms, voltage in mV):
  membrax simulate --model hh1952_potassium --protocol command.csv --out k
  # The Hodgkin–Huxley axon firing under 10 µA/cm² from 10 to 60 ms:
  membrax simulate --model hh1952_cell --current 10 --start 10 --duration 50 --t1 100 --out ap

Channels (e.g. hh1952_sodium, beattie2018_ikr) run under voltage clamp, exactly (no time
stepping: membrax.voltage_clamp); cells (hh1952_cell) under current clamp (membrax.current_clamp,
Rush–Larsen). Currents are in the model's units: µA/cm² for the Hodgkin–Huxley models, nA for
beattie2018_ikr. Outputs in --out: trace.csv (time_ms, voltage_mV and current columns, one per
sweep for step families, named by the step voltage, e.g. current_nA_step+40), trace.png (with
matplotlib) and summary.json; a one-line summary is printed (the peak current, or the spike
count and first spike time).
"""


def _simulate(args: argparse.Namespace) -> int:
    import jax

    with jax.enable_x64(True):
        return _simulate_x64(args)


def _simulate_x64(args: argparse.Namespace) -> int:
    where = "membrax simulate"
    model, kind, description = _build_model("simulate", args.model, args.temperature)
    _check_kind_options(where, args, kind, args.model)
    out = pathlib.Path(args.out)
    if kind == "cell":
        summary, line, figure = _simulate_cell(where, args, model, description, out)
    else:
        summary, line, figure = _simulate_channel(where, args, model, description, out)
    # The result first; the figure (matplotlib's import alone takes a second) after it.
    print(line + f"; results in {out}/")
    written = figure()
    summary["files"] = ["trace.csv", "summary.json"] + ([written] if written else [])
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return 0


def _simulate_channel(where, args, model, description, out):
    import jax
    import numpy as np

    import membrax

    unit, shown = _unit(args.model)
    given = {
        "--protocol": args.protocol is not None,
        "--steps": args.steps is not None,
        "--sine-wave": args.sine_wave,
    }
    chosen = [option for option, is_given in given.items() if is_given]
    if len(chosen) > 1:
        raise SystemExit(f"{where}: give one protocol, not {' and '.join(chosen)}.")
    for name, default in _STEP_DEFAULTS.items():
        if getattr(args, name) is None:
            setattr(args, name, default)
    levels = None
    if args.protocol is not None:
        protocol = _read_command(where, args.protocol)
        what = f"the command in {args.protocol}"
    elif args.steps is not None:
        levels, protocol = _step_family(where, args)
        what = f"{levels.size} steps to {_span(levels)} from {args.hold:g} mV"
    elif args.sine_wave or args.model == "beattie2018_ikr":
        protocol = membrax.protocols.beattie2018_sine_wave_protocol()
        what = "the sine-wave protocol of Beattie et al. (2018)"
    else:
        raise SystemExit(
            f"{where}: choose a voltage protocol for --model {args.model}: --steps V0:V1:DV "
            "(a step family, e.g. --steps -80:40:20 --hold -80 --step-ms 20), --protocol FILE "
            "(a CSV with columns time, voltage) or --sine-wave (Beattie et al. 2018)."
        )
    with _Progress(where, f"{args.model} under {what}", enabled=not args.quiet):
        if levels is None:
            record = membrax.voltage_clamp(model, protocol)
        else:
            record = jax.vmap(lambda p: membrax.voltage_clamp(model, p))(protocol)
        ts = np.asarray(record.ts).reshape(-1, np.shape(record.ts)[-1])[0]
        voltage = np.asarray(record.voltage).reshape(-1, ts.size)
        current = np.asarray(record.current).reshape(-1, ts.size)
    out.mkdir(parents=True, exist_ok=True)
    if levels is None:
        columns = ["time_ms", "voltage_mV", f"current_{unit}"]
        labels = None
    else:
        tags = [f"step{v:+g}" for v in levels]
        columns = ["time_ms"] + [f"voltage_mV_{t}" for t in tags]
        columns += [f"current_{unit}_{t}" for t in tags]
        labels = [f"{v:g} mV" for v in levels]
    _write_csv(out / "trace.csv", columns, np.column_stack([ts, *voltage, *current]))
    figure = functools.partial(
        _figure,
        "plot_traces",
        ts,
        voltage,
        current,
        out / "trace.png",
        labels=labels,
        title=f"membrax simulate: {description}",
        current_label=f"I ({shown})",
    )
    sweep, k = np.unravel_index(np.argmax(np.abs(current)), current.shape)
    peak = float(current[sweep, k])
    summary = {
        "model": args.model,
        "description": description,
        "protocol": what,
        "current_unit": shown,
        "peak_current": peak,
        "peak_time_ms": float(ts[k]),
        "peak_voltage_mV": float(voltage[sweep, k]),
    }
    at = f" in the {levels[sweep]:g} mV sweep" if levels is not None else ""
    line = (
        f"{description} under {what}: peak current {peak:.6g} {shown} at t = {ts[k]:g} ms "
        f"(V = {voltage[sweep, k]:g} mV){at}"
    )
    return summary, line, figure


def _simulate_cell(where, args, model, description, out):
    import numpy as np

    import membrax

    amplitude = 10.0 if args.current is None else args.current
    start = 10.0 if args.start is None else args.start
    duration = 50.0 if args.duration is None else args.duration
    t1 = 100.0 if args.t1 is None else args.t1
    threshold = 0.0 if args.threshold is None else args.threshold
    _positive(where, "--t1", t1, "It is the end of the simulation.")
    if args.dt is not None:
        _positive(where, "--dt", args.dt, "It is the time step (default 0.02 ms).")
    try:
        stimulus = membrax.CurrentStep(amplitude, start, duration)
    except ValueError as error:
        raise SystemExit(f"{where}: --duration: {error}") from None
    unit, shown = _unit(args.model)
    n_steps = t1 / (args.dt or 0.02)
    with _Progress(where, f"{args.model}, {n_steps:.0f} time steps", enabled=not args.quiet):
        record = membrax.current_clamp(
            model,
            stimulus,
            t1=t1,
            dt=args.dt,
            save=(membrax.SaveTrace(), membrax.SaveSpikes(threshold, max_spikes=1000)),
        )
        ts, v = np.asarray(record.ts), np.asarray(record.v)
        count = int(record.spike_count)
        spikes = np.asarray(record.spike_times)[: min(count, 1000)]
    stim = np.asarray(stimulus.current(ts))
    out.mkdir(parents=True, exist_ok=True)
    _write_csv(
        out / "trace.csv",
        ["time_ms", "voltage_mV", f"stimulus_{unit}"],
        np.column_stack([ts, v, stim]),
    )
    figure = functools.partial(
        _figure,
        "plot_traces",
        ts,
        v,
        stim,
        out / "trace.png",
        title=f"membrax simulate: {description}",
        current_label=f"I stim ({shown})",
        current_clamp=True,
    )
    summary = {
        "model": args.model,
        "description": description,
        "stimulus": {"amplitude": amplitude, "start_ms": start, "duration_ms": duration},
        "current_unit": shown,
        "t1_ms": float(record.t_final),
        "threshold_mV": threshold,
        "spike_count": count,
        "spike_times_ms": spikes.tolist(),
    }
    first = f", the first at {spikes[0]:.4g} ms" if count else ""
    line = (
        f"{description}, {amplitude:g} {shown} from {start:g} to {start + duration:g} ms: "
        f"{count} spike{'s' if count != 1 else ''} (upward crossings of {threshold:g} mV){first}"
    )
    return summary, line, figure


# --- iv ---------------------------------------------------------------------------------------

_IV_EPILOG = """\
examples:
  # Steady-state potassium current of Hodgkin & Huxley (1952), -60 to +40 mV:
  membrax iv --model hh1952_potassium --steps -60:40:10 --hold -80 --step-ms 100 \\
      --measure steady --out iv_k
  # Peak sodium current, ignoring the first 0.1 ms of each step:
  membrax iv --model hh1952_sodium --steps -70:60:10 --step-ms 10 --dt 0.01 \\
      --skip-ms 0.1 --out iv_na

Each sweep holds at --hold for --hold-ms, then steps to the test voltage for --step-ms.
--measure peak takes the sample of largest |I| in the step (after --skip-ms); --measure
steady the mean over the last 10 % of the step. Outputs in --out: iv.csv (voltage_mV and
the current in the model's units) and iv.png; the table is printed.
"""


def _iv(args: argparse.Namespace) -> int:
    import jax

    with jax.enable_x64(True):
        return _iv_x64(args)


def _iv_x64(args: argparse.Namespace) -> int:
    import jax
    import numpy as np

    import membrax

    where = "membrax iv"
    model, kind, description = _build_model("iv", args.model, args.temperature)
    if kind != "channel":
        raise SystemExit(
            f"{where}: --model {args.model} is a cell; an I–V curve needs a channel under "
            "voltage clamp (e.g. hh1952_potassium). Use membrax simulate for cells."
        )
    levels, family = _step_family(where, args)
    if not args.skip_ms >= 0:
        raise SystemExit(f"{where}: --skip-ms must be >= 0 ms, got {args.skip_ms:g}.")
    if args.skip_ms >= args.step_ms:
        raise SystemExit(
            f"{where}: --skip-ms {args.skip_ms:g} leaves nothing of the {args.step_ms:g} ms "
            "step; make it shorter than --step-ms."
        )
    with _Progress(where, f"{args.model}, {levels.size} steps", enabled=not args.quiet):
        record = jax.vmap(lambda p: membrax.voltage_clamp(model, p))(family)
        ts = np.asarray(record.ts[0])
        current = np.asarray(record.current)
    # The step is segment 1 of every sweep: the same rule the protocol uses for V(t).
    starts = np.asarray(family.starts[0])
    in_step = np.searchsorted(starts, ts, side="right") - 1 == 1
    index = np.flatnonzero(in_step)
    if index.size == 0:
        raise SystemExit(
            f"{where}: no sample falls in the {args.step_ms:g} ms step with --dt {args.dt:g} "
            "ms; make --dt smaller than --step-ms."
        )
    if args.measure == "peak":
        # (a millionth of a sample of slack: 10.1 ms may be stored as 10.099999999999)
        index = index[ts[index] >= starts[1] + args.skip_ms - 1e-6 * args.dt]
        pick = index[np.argmax(np.abs(current[:, index]), axis=1)]
        values = current[np.arange(levels.size), pick]
    else:
        last = index[-max(1, round(0.1 * index.size)) :]
        values = current[:, last].mean(axis=1)
    unit, shown = _unit(args.model)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    _write_csv(
        out / "iv.csv",
        ["voltage_mV", f"{args.measure}_current_{unit}"],
        np.column_stack([levels, values]),
    )
    print(f"{'V (mV)':>8}  I {args.measure} ({shown})")
    for v, i in zip(levels, values):
        print(f"{v:8.4g}  {i: .6e}")
    measured = (
        f"peak |I| from {args.skip_ms:g} ms into each step"
        if args.measure == "peak"
        else "mean over the last 10 % of each step"
    )
    print(
        f"{description}: {levels.size} steps to {_span(levels)} for {args.step_ms:g} ms from "
        f"{args.hold:g} mV, {measured}; results in {out}/"
    )
    _figure(
        "plot_iv",
        levels,
        values,
        out / "iv.png",
        title=f"membrax iv: {description}, {args.measure} current",
        current_label=f"I {args.measure} ({shown})",
    )
    return 0


_INFO_EPILOG = """\
example:
  membrax info

Prints the versions of membrax and its JAX stack, the devices JAX sees (install JAX's CUDA
wheels for NVIDIA GPUs: pip install -U "jax[cuda12]"), and the compilation cache folder with
its size.
"""

_POTENTIALS_EPILOG = """\
examples:
  membrax potentials                             # the bundled preparations, as a table
  membrax potentials --temperature 310.15 --json
  membrax potentials --solutions my_solutions.json
"""


def _info(args: argparse.Namespace) -> int:
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
    path = None if args.no_cache else _cache_dir()
    if path is None:
        print(f"{'cache':<11} off (MEMBRAX_CACHE_DIR='' or --no-cache)")
    else:
        files = [f for f in path.rglob("*") if f.is_file()] if path.is_dir() else []
        size = sum(f.stat().st_size for f in files) / 1e6
        print(f"{'cache':<11} {path} ({len(files)} files, {size:.1f} MB)")
    return 0


#: Options whose value may start with '-' (a negative voltage): `--steps -80:40:20` is read
#: as `--steps=-80:40:20` (argparse would take '-80:40:20' for an option).
_NEGATIVE_VALUE_OPTIONS = ("--steps",)


def _join_negative_values(argv: list[str]) -> list[str]:
    joined, k = [], 0
    while k < len(argv):
        if (
            argv[k] in _NEGATIVE_VALUE_OPTIONS
            and k + 1 < len(argv)
            and re.match(r"-\.?\d", argv[k + 1])
        ):
            joined.append(f"{argv[k]}={argv[k + 1]}")
            k += 2
        else:
            joined.append(argv[k])
            k += 1
    return joined


def _add_step_options(parser, defaults: dict | None = None) -> None:
    d = defaults or {}

    def default(name, unit):
        return f" (default {_STEP_DEFAULTS[name]:g} {unit})"

    parser.add_argument(
        "--steps",
        metavar="V0:V1:DV",
        default=d.get("steps"),
        help="a step family: test voltages from V0 to V1 every DV mV (e.g. -80:40:20), or a "
        "comma list (-40,0,40)",
    )
    parser.add_argument(
        "--hold",
        type=float,
        metavar="MV",
        default=d.get("hold"),
        help="holding potential, mV" + default("hold", "mV"),
    )
    parser.add_argument(
        "--hold-ms",
        type=float,
        metavar="MS",
        default=d.get("hold_ms"),
        help="time at the holding potential before each step" + default("hold_ms", "ms"),
    )
    parser.add_argument(
        "--step-ms",
        type=float,
        metavar="MS",
        default=d.get("step_ms"),
        help="length of each test step" + default("step_ms", "ms"),
    )
    parser.add_argument(
        "--dt",
        type=float,
        metavar="MS",
        default=d.get("dt"),
        help="sampling interval" + default("dt", "ms"),
    )


def _wrapped(text: str) -> str:
    import textwrap

    return textwrap.fill(text, 88)


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--quiet", action="store_true", help="no progress line on stderr (results still print)"
    )
    common.add_argument(
        "--no-cache",
        action="store_true",
        help="do not use the persistent compilation cache (see membrax --help)",
    )
    parser = argparse.ArgumentParser(
        prog="membrax",
        description=_DESCRIPTION,
        epilog=_MAIN_EPILOG,
        formatter_class=argparse.RawTextHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    fit = commands.add_parser(
        "fit",
        parents=[common],
        help="fit a channel model to a voltage-clamp recording",
        description=_wrapped(
            "Fit a channel model to a voltage-clamp recording by Levenberg–Marquardt "
            "(maximum Gaussian likelihood), with Gauss–Newton standard errors."
        ),
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
    fit.set_defaults(run=_fit)

    simulate = commands.add_parser(
        "simulate",
        parents=[common],
        help="run a channel under voltage clamp or a cell under current clamp",
        description=_wrapped(
            "Simulate a model in membrax.models: a channel under a voltage-clamp "
            "protocol (a step family, the Beattie sine wave, or your command waveform), or a cell "
            "under a current step. Writes the traces, a figure and a summary."
        ),
        epilog=_SIMULATE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    simulate.add_argument(
        "--model", required=True, metavar="NAME", help="a model in membrax.models"
    )
    simulate.add_argument(
        "--temperature",
        type=float,
        metavar="K",
        help="temperature, kelvin (default: the model's; beattie2018_ikr: cell 1's 294.45 K)",
    )
    simulate.add_argument("--out", default="membrax-simulate", metavar="DIR", help="output folder")
    channel = simulate.add_argument_group("voltage clamp (channels)")
    channel.add_argument(
        "--protocol",
        metavar="FILE",
        help="a command waveform: CSV with columns time (ms), voltage (mV); held between samples",
    )
    _add_step_options(channel)
    channel.add_argument(
        "--tail", type=float, metavar="MV", help="after each step, a tail step to this voltage"
    )
    channel.add_argument(
        "--tail-ms",
        type=float,
        metavar="MS",
        help=f"length of the tail step (default {_STEP_DEFAULTS['tail_ms']:g} ms)",
    )
    channel.add_argument(
        "--sine-wave",
        action="store_true",
        help="the sinusoidal protocol of Beattie et al. (2018), 8 s (default for beattie2018_ikr)",
    )
    cell = simulate.add_argument_group("current clamp (cells, e.g. hh1952_cell)")
    cell.add_argument(
        "--current",
        type=float,
        metavar="UA_CM2",
        help="step amplitude, µA/cm² for density cells, positive into the cell (default 10)",
    )
    cell.add_argument("--start", type=float, metavar="MS", help="step onset (default 10 ms)")
    cell.add_argument("--duration", type=float, metavar="MS", help="step length (default 50 ms)")
    cell.add_argument("--t1", type=float, metavar="MS", help="end of the run (default 100 ms)")
    cell.add_argument(
        "--threshold",
        type=float,
        metavar="MV",
        help="spikes are upward crossings of this voltage (default 0 mV)",
    )
    # --dt serves both: the sampling interval under voltage clamp, the time step (default
    # 0.02 ms) under current clamp.
    simulate.set_defaults(run=_simulate)

    iv = commands.add_parser(
        "iv",
        parents=[common],
        help="a current–voltage curve from a step family",
        description=_wrapped(
            "A current–voltage curve: a channel held at --hold and stepped to each "
            "test voltage; the peak or steady-state current of every step."
        ),
        epilog=_IV_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    iv.add_argument("--model", required=True, metavar="NAME", help="a channel in membrax.models")
    iv.add_argument(
        "--temperature",
        type=float,
        metavar="K",
        help="temperature, kelvin (default: the model's; beattie2018_ikr: cell 1's 294.45 K)",
    )
    _add_step_options(iv, {**_STEP_DEFAULTS, "steps": "-100:40:10"})
    iv.add_argument(
        "--measure",
        choices=("peak", "steady"),
        default="peak",
        help="peak: the sample of largest |I| in the step; steady: the mean of the last 10%% "
        "of the step (default peak)",
    )
    iv.add_argument(
        "--skip-ms",
        type=float,
        default=0.0,
        metavar="MS",
        help="for --measure peak, ignore this long after the step onset (default 0)",
    )
    iv.add_argument("--out", default="membrax-iv", metavar="DIR", help="output folder")
    iv.set_defaults(run=_iv, tail=None)

    potentials = commands.add_parser(
        "potentials",
        parents=[common],
        help="Nernst and GHK resting potentials of physiological solutions",
        description=_wrapped(
            "Nernst potential of every ion and the GHK resting potential of each "
            "preparation, with dV_rest/d[K]o computed by jax.grad through the GHK root."
        ),
        epilog=_POTENTIALS_EPILOG,
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
    info = commands.add_parser(
        "info",
        parents=[common],
        help="versions, devices and the compilation cache",
        description=_wrapped(
            "Versions of membrax and its JAX stack, devices, and the compilation cache."
        ),
        epilog=_INFO_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    info.set_defaults(run=_info)
    return parser


def main(argv: list[str] | None = None) -> int:
    """The `membrax` command: parse `argv` (default `sys.argv[1:]`) and run the command.

    **Returns:** the exit status, 0 on success (errors raise `SystemExit` with a message).
    """
    parser = _parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(_join_negative_values(argv))
    if args.command is None:
        parser.print_help()
        return 0
    with _compilation_cache(args.command != "info" and not args.no_cache):
        return args.run(args)
