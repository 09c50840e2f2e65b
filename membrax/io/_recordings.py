"""Loading a voltage-clamp recording (time, command voltage, current) from CSV, NumPy or
MATLAB files, with checks that catch the usual mistakes before they reach a fit."""

import csv
import pathlib
import warnings
from typing import NamedTuple

import numpy as np

from ..protocols._voltage import SampledProtocol

_COLUMNS = ("time", "voltage", "current")


class Recording(NamedTuple):
    """A voltage-clamp sweep: `time` (ms), `voltage` (mV), `current` (the model's units, nA
    by default), as NumPy arrays (copies: the file's data is never modified), and its
    `source`."""

    time: np.ndarray
    voltage: np.ndarray
    current: np.ndarray
    source: str

    def protocol(self) -> SampledProtocol:
        """The command as a [`membrax.SampledProtocol`][] (zero-order hold), uniform when the
        sampling is."""
        steps = np.diff(self.time)
        if steps.size and np.allclose(steps, steps[0], rtol=1e-6, atol=0):
            return SampledProtocol(self.voltage, float(steps[0]), t0=float(self.time[0]))
        return SampledProtocol(self.voltage, times=self.time)


def _fail(path, message):
    raise ValueError(f"load_recording: {path}: {message}")


def _read_csv(path):
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames is None:
            _fail(path, "the file is empty; expected a header row time,voltage,current.")
        header = [name.strip().lower() for name in reader.fieldnames]
        missing = [c for c in _COLUMNS if c not in header]
        if missing:
            _fail(
                path,
                f"missing column(s) {', '.join(missing)}; the header is {reader.fieldnames}. "
                "Expected columns time (ms), voltage (mV), current (nA).",
            )
        columns = {c: [] for c in _COLUMNS}
        for line, row in enumerate(reader, start=2):
            row = {k.strip().lower(): v for k, v in row.items() if k is not None}
            for c in _COLUMNS:
                try:
                    columns[c].append(float(row[c]))
                except (TypeError, ValueError):
                    _fail(path, f"line {line}: {c} = {row.get(c)!r} is not a number.")
    return tuple(np.asarray(columns[c], dtype=float) for c in _COLUMNS)


def _read_arrays(path, arrays):
    missing = [c for c in _COLUMNS if c not in arrays]
    if missing:
        _fail(
            path,
            f"missing array(s) {', '.join(missing)}; found {sorted(arrays)}. Save arrays "
            "named time (ms), voltage (mV), current (nA).",
        )
    return tuple(np.array(np.ravel(arrays[c]), dtype=float) for c in _COLUMNS)


def load_recording(path: str | pathlib.Path) -> Recording:
    """Load a recording of one sweep from `path`.

    Formats (by extension): `.csv` with a header row `time,voltage,current`; `.npz` with
    arrays `time`, `voltage`, `current`; `.mat` (MATLAB, needs SciPy) with variables of those
    names. Units: time in ms, voltage in mV, current in the model's units (nA for the
    µS-based models such as `beattie2018_ikr`).

    Refused with a clear `ValueError`: missing columns, unequal lengths, NaN/inf, time that is
    not strictly increasing, fewer than two samples. Warned about (likely unit mistakes, by
    magnitude): voltages within ±1 (volts instead of mV), currents below 1e-6 in magnitude
    (amperes), time steps below 1e-4 (seconds instead of ms).
    """
    path = pathlib.Path(path)
    if not path.exists():
        _fail(path, "no such file.")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        time, voltage, current = _read_csv(path)
    elif suffix == ".npz":
        with np.load(path) as data:
            time, voltage, current = _read_arrays(path, dict(data))
    elif suffix == ".mat":
        try:
            import scipy.io
        except ImportError:
            _fail(path, "reading MATLAB files needs SciPy: pip install scipy.")
        time, voltage, current = _read_arrays(path, scipy.io.loadmat(path))
    else:
        _fail(path, f"unknown format {suffix!r}; use .csv, .npz or .mat.")
    lengths = {c: a.size for c, a in zip(_COLUMNS, (time, voltage, current))}
    if len(set(lengths.values())) != 1:
        _fail(path, f"columns differ in length: {lengths}. Give one row per sample.")
    if time.size < 2:
        _fail(path, f"{time.size} sample(s); a recording needs at least two.")
    for name, a in zip(_COLUMNS, (time, voltage, current)):
        bad = ~np.isfinite(a)
        if bad.any():
            k = int(np.argmax(bad))
            _fail(
                path,
                f"{name} has {int(bad.sum())} NaN/inf value(s), the first at row {k}. Remove "
                "or interpolate them before fitting.",
            )
    steps = np.diff(time)
    if (steps <= 0).any():
        k = int(np.argmax(steps <= 0))
        _fail(
            path,
            f"time must increase strictly, but row {k + 1} (t = {time[k + 1]!r}) follows row "
            f"{k} (t = {time[k]!r}). Sort by time and drop duplicate samples.",
        )
    if np.max(np.abs(voltage)) <= 1.0:
        warnings.warn(
            f"load_recording: {path}: every |voltage| is <= 1: is it in volts? membrax wants "
            "mV (multiply by 1000).",
            stacklevel=2,
        )
    if 0 < np.max(np.abs(current)) < 1e-6:
        warnings.warn(
            f"load_recording: {path}: every |current| is < 1e-6: is it in amperes? membrax "
            "wants nA for µS models (multiply by 1e9) or pA for nS models (1e12).",
            stacklevel=2,
        )
    if np.median(steps) < 1e-4:
        warnings.warn(
            f"load_recording: {path}: the median time step is {np.median(steps):.3g}: is time "
            "in seconds? membrax wants ms (multiply by 1000).",
            stacklevel=2,
        )
    return Recording(time, voltage, current, str(path))
