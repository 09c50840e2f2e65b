"""The `membrax` command line.

`membrax potentials` prints the equilibrium and resting potentials of physiological solutions
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
