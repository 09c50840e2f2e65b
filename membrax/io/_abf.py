"""Axon Binary Format (ABF1/ABF2) recordings through pyabf, imported only when used."""

import pathlib
from typing import NamedTuple

import numpy as np

from ..protocols._voltage import SampledProtocol

# The current units an ABF may record in, as multiples of 1 pA.
_CURRENT_UNITS = {"a": 1e12, "ma": 1e9, "µa": 1e6, "ua": 1e6, "na": 1e3, "pa": 1.0, "fa": 1e-3}
_VOLTAGE_UNITS = {"v": 1e3, "mv": 1.0, "µv": 1e-3, "uv": 1e-3}


class Sweep(NamedTuple):
    """One recorded voltage-clamp sweep (from an ABF or NWB file).

    - `index`: the sweep's number in the file (from 0).
    - `time`: ms from the sweep's start, shape (N,).
    - `current`: in `unit` (pA or nA), shape (N,): a copy of the file's data.
    - `command`: the command potential in mV, shape (N,), or None when the file has none
      (no DAC waveform and no `command_channel`).
    - `unit`: the current's unit, "pA" or "nA".
    """

    index: int
    time: np.ndarray
    current: np.ndarray
    command: np.ndarray | None
    unit: str

    def protocol(self) -> SampledProtocol:
        """The command as a [`membrax.SampledProtocol`][] (held between samples)."""
        if self.command is None:
            raise ValueError(
                f"Sweep.protocol: sweep {self.index} has no command waveform (the file "
                "stores no DAC epochs for this channel); pass command_channel= to load_abf if "
                "the command was recorded on an input channel, or build the protocol yourself."
            )
        dt = float(self.time[1] - self.time[0]) if self.time.size > 1 else 1.0
        return SampledProtocol(self.command, dt)


def _scale(where, table, unit, what, fix):
    key = unit.strip().lower().replace("μ", "µ")
    if key not in table:
        raise ValueError(f"{where}: the {what} is in {unit!r}, which membrax cannot convert. {fix}")
    return table[key]


def _sweeps_from_abf(abf, where, *, channel, command_channel, sweeps, unit):
    """The conversion, given an opened pyabf.ABF (or anything with its attributes)."""
    if unit not in ("pA", "nA"):
        raise ValueError(f"{where}: unit must be 'pA' or 'nA', got {unit!r}.")
    channels = int(abf.channelCount)
    for name, value in (("channel", channel), ("command_channel", command_channel)):
        if value is not None and not (isinstance(value, int) and 0 <= value < channels):
            raise ValueError(
                f"{where}: {name} = {value!r}, but the file has {channels} input channel(s), "
                f"numbered 0 to {channels - 1}."
            )
    count = int(abf.sweepCount)
    chosen = range(count) if sweeps is None else list(sweeps)
    for k in chosen:
        if not (isinstance(k, (int, np.integer)) and 0 <= k < count):
            raise ValueError(
                f"{where}: sweep {k!r} does not exist; the file has {count} sweeps, numbered "
                f"0 to {count - 1}."
            )
    to_pa = _scale(
        where,
        _CURRENT_UNITS,
        abf.adcUnits[channel],
        f"current (channel {channel})",
        "Choose the channel that records the membrane current (channel=...).",
    )
    factor = to_pa / (1.0 if unit == "pA" else 1e3)
    out = []
    for k in chosen:
        abf.setSweep(int(k), channel=channel)
        time = np.array(abf.sweepX, dtype=float) * 1e3
        current = np.array(abf.sweepY, dtype=float) * factor
        command = None
        if command_channel is not None:
            abf.setSweep(int(k), channel=command_channel)
            volts = _scale(
                where,
                _VOLTAGE_UNITS,
                abf.adcUnits[command_channel],
                f"command (channel {command_channel})",
                "command_channel must record the membrane potential.",
            )
            command = np.array(abf.sweepY, dtype=float) * volts
        else:
            dac = np.asarray(abf.sweepC, dtype=float)
            if dac.size == time.size and np.isfinite(dac).all():
                command = dac.copy()
        out.append(Sweep(int(k), time, current, command, unit))
    return tuple(out)


def load_abf(
    path: str | pathlib.Path,
    *,
    channel: int = 0,
    command_channel: int | None = None,
    sweeps=None,
    unit: str = "pA",
) -> tuple[Sweep, ...]:
    """Read the sweeps of an Axon Binary Format file (ABF1 or ABF2) with pyabf.

    **Arguments:**

    - `path`: the .abf file.
    - `channel`: the input channel recording the membrane current (default 0); its units
      (A, mA, µA, nA, pA, fA) are converted to `unit`.
    - `command_channel`: an input channel recording the command potential (V or mV), if
      any. Without it the command is the file's DAC waveform (its epoch table, as pyabf
      reconstructs it), when the file has one.
    - `sweeps`: the sweep numbers to read (default all).
    - `unit`: "pA" (default, for nS models) or "nA" (for µS models such as
      `beattie2018_ikr`).

    **Returns:** a tuple of [`membrax.io.Sweep`][] (time in ms, current, command in mV);
    `sweep.protocol()` is the command as a protocol, so
    `membrax.fit.Trace(sweep.protocol(), sweep.current)` fits it.

    Needs `pip install pyabf` (or `pip install "membrax[io]"`).
    """
    where = f"load_abf: {path}"
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{where} does not exist; give the path of an .abf file.")
    try:
        import pyabf
    except ImportError:
        raise ImportError(
            'load_abf needs pyabf: pip install pyabf (or pip install "membrax[io]").'
        ) from None
    try:
        abf = pyabf.ABF(str(path))
    except Exception as error:  # pyabf raises bare Exceptions for files it cannot parse
        raise ValueError(
            f"{where} is not a readable ABF file ({type(error).__name__}: {error})."
        ) from None
    return _sweeps_from_abf(
        abf, where, channel=channel, command_channel=command_channel, sweeps=sweeps, unit=unit
    )
