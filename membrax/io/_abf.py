"""Axon Binary Format (ABF1/ABF2) recordings through pyabf, imported only when used."""

import pathlib
from typing import NamedTuple

import numpy as np

from ..protocols._voltage import AbstractProtocol, PiecewiseProtocol, Ramp, SampledProtocol, Step

# The current units an ABF may record in, as multiples of 1 pA.
_CURRENT_UNITS = {"a": 1e12, "ma": 1e9, "µa": 1e6, "ua": 1e6, "na": 1e3, "pa": 1.0, "fa": 1e-3}
_VOLTAGE_UNITS = {"v": 1e3, "mv": 1.0, "µv": 1e-3, "uv": 1e-3}


class Sweep(NamedTuple):
    """One recorded voltage-clamp sweep (from an ABF or NWB file).

    - `index`: the sweep's number in the file (from 0).
    - `time`: ms from the sweep's start, shape (N,).
    - `current`: in `unit` (pA or nA), shape (N,): a copy of the file's data.
    - `command`: the command potential in mV, shape (N,), or None when the file has none
      (no `command_channel`, and no DAC waveform in volts: a current-clamp DAC in pA is not
      a command potential).
    - `unit`: the current's unit, "pA" or "nA".
    - `segments`: the command as exact [`membrax.protocols.Step`][] and
      [`membrax.protocols.Ramp`][] segments (durations in ms, levels in mV) when the file's
      epoch table describes it and reproduces its DAC waveform sample by sample; else None.
    """

    index: int
    time: np.ndarray
    current: np.ndarray
    command: np.ndarray | None
    unit: str
    segments: tuple | None = None

    def protocol(self, *, exact: bool = True) -> AbstractProtocol:
        """The command as a protocol sampled at the sweep's times: a
        [`membrax.PiecewiseProtocol`][] from `segments` when there are some and `exact` is
        True (no sampling error: steps and ramps are solved as such), else a
        [`membrax.SampledProtocol`][] of `command` (held between samples).
        """
        dt = float(self.time[1] - self.time[0]) if self.time.size > 1 else 1.0
        if exact and self.segments is not None:
            return PiecewiseProtocol(self.segments, dt=dt)
        if self.command is None:
            raise ValueError(
                f"Sweep.protocol: sweep {self.index} has no command waveform (the file "
                "stores no DAC epochs for this channel); pass command_channel= to load_abf if "
                "the command was recorded on an input channel, or build the protocol yourself."
            )
        return SampledProtocol(self.command, dt)


def _scale(where, table, unit, what, fix):
    key = unit.strip().lower().replace("μ", "µ")
    if key not in table:
        raise ValueError(f"{where}: the {what} is in {unit!r}, which membrax cannot convert. {fix}")
    return table[key]


def _epoch_segments(p1s, p2s, levels, types, pulse_widths, pulse_periods, *, dt, n):
    """A sweep's epoch table (pyabf's `sweepEpochs`: sample ranges [p1, p2), levels, types)
    as Step and Ramp segments covering samples 0 to n, with the waveform pyabf draws from it:
    a step holds its level; a ramp goes linearly from the previous epoch's level and reaches
    its own at its last sample; a pulse train holds the previous level with pulses of
    `pulse_width` samples at the epoch's level every `pulse_period` samples. Other epoch types
    (triangle, cosine and biphasic trains) give None. Levels in the DAC's units, `dt` in ms.
    """
    pieces = []  # (first sample, last sample + 1, level at the first, level at the last + 1)
    for i, (p1, p2, level, kind) in enumerate(zip(p1s, p2s, levels, types)):
        p1, p2 = int(p1), min(int(p2), n)
        before = float(levels[i - 1]) if i else float(level)
        level = float(level)
        if p2 <= p1:
            continue
        if kind == "Step" or (kind == "Ramp" and p2 - p1 == 1):
            pieces.append((p1, p2, level if kind == "Step" else before, None))
        elif kind == "Ramp":
            # pyabf's ramp is linspace(before, level, samples): level at the last sample, so
            # the continuous ramp over the whole epoch ends one sample's rise beyond it.
            count = p2 - p1
            pieces.append((p1, p2, before, before + (level - before) * count / (count - 1)))
        elif kind == "Pulse":
            period, width = int(pulse_periods[i]), int(pulse_widths[i])
            start = p1
            for k in range((p2 - p1) // period if period > 0 else 0):
                on, off = p1 + k * period, min(p1 + k * period + width, p2)
                if on > start:
                    pieces.append((start, on, before, None))
                if off > max(on, start):  # a later pulse overrides (width > period)
                    pieces.append((max(on, start), off, level, None))
                start = max(start, off)
            if p2 > start:
                pieces.append((start, p2, before, None))
        else:
            return None
    if not pieces or pieces[0][0] != 0 or pieces[-1][1] != n:
        return None
    merged = [pieces[0]]
    for piece in pieces[1:]:
        last = merged[-1]
        if piece[3] is None and last[3] is None and piece[2] == last[2]:
            merged[-1] = (last[0], piece[1], last[2], None)  # one step, not two
        else:
            merged.append(piece)
    segments, t = [], 0.0
    for _, p2, v_start, v_end in merged:
        # Each duration is the boundary's time minus the running sum (which
        # PiecewiseProtocol recomputes the same way), so that every boundary is the sample
        # time p2·dt itself rather than a sum of rounded durations that may miss it.
        duration = p2 * dt - t
        segments.append(
            Step(v_start, duration) if v_end is None else Ramp(v_start, v_end, duration)
        )
        t += duration
    return tuple(segments)


def _segments_waveform(segments, dt, n):
    """The segments' voltage at samples 0..n-1 (NumPy, float64), to check them."""
    out = np.empty(n)
    t = 0.0
    for seg in segments:
        first, last = round(t / dt), round((t + seg.duration) / dt)
        if isinstance(seg, Step):
            out[first:last] = seg.voltage
        else:
            slope = (seg.v_end - seg.v_start) / seg.duration
            out[first:last] = seg.v_start + slope * dt * np.arange(last - first)
        t += seg.duration
    return out


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
        segments = None
        dac_units = getattr(abf, "dacUnits", ())
        dac_unit = dac_units[channel] if channel < len(dac_units) else ""
        to_mv = _VOLTAGE_UNITS.get(dac_unit.strip().lower().replace("μ", "µ"))
        if command_channel is None and to_mv is not None:
            # Only a DAC in volts is a voltage-clamp command (in current clamp it is in pA).
            dac = np.asarray(abf.sweepC, dtype=float) * to_mv
            if dac.size == time.size and np.isfinite(dac).all():
                command = dac
                epochs = getattr(abf, "sweepEpochs", None)
                if epochs is not None and time.size > 1:
                    dt = float(time[1] - time[0])  # as Sweep.protocol() will use it
                    segments = _epoch_segments(
                        epochs.p1s,
                        epochs.p2s,
                        [to_mv * float(v) for v in epochs.levels],
                        epochs.types,
                        epochs.pulseWidths,
                        epochs.pulsePeriods,
                        dt=dt,
                        n=time.size,
                    )
                    # The epoch table describes the DAC waveform only when the waveform
                    # comes from it (not from a stimulus file, nor disabled): keep the
                    # segments only if they reproduce the waveform.
                    tolerance = 1e-9 * max(1.0, float(np.max(np.abs(dac))))
                    if segments is not None and not np.allclose(
                        _segments_waveform(segments, dt, time.size), dac, rtol=0, atol=tolerance
                    ):
                        segments = None
        out.append(Sweep(int(k), time, current, command, unit, segments))
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
      reconstructs it), when the file has one in V or mV; and where the epoch table is
      made of steps, ramps and pulse trains that reproduce that waveform sample by sample,
      `sweep.segments` holds them and `sweep.protocol()` is an exact
      [`membrax.PiecewiseProtocol`][] (ramps reach an epoch's level at its last sample, as
      pyabf draws them).
    - `sweeps`: the sweep numbers to read (default all).
    - `unit`: "pA" (default, for nS models) or "nA" (for µS models such as
      `beattie2018_ikr`).

    **Returns:** a tuple of [`membrax.io.Sweep`][] (time in ms, current, command in mV);
    `sweep.protocol()` is the command as a protocol, so
    `membrax.fit.Trace(sweep.protocol(), sweep.current)` fits it.

    Needs `pip install pyabf` (or `pip install "membrax[io]"`). pyabf reads the holding level
    of ABF1 (pCLAMP ≤ 9) files from the first epoch's level, so check the command of such
    files before and after the epochs.

    **Example:**

    ```python
    sweeps = membrax.io.load_abf("cell.abf", unit="nA")
    trace = membrax.fit.Trace(sweeps[0].protocol(), sweeps[0].current)
    ```
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
