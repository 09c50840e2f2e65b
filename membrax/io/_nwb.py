"""NWB (Neurodata Without Borders) intracellular voltage-clamp recordings through pynwb,
imported only when used."""

import pathlib

import numpy as np

from ._abf import Sweep

_AMPERES_TO = {"pA": 1e12, "nA": 1e9}


def _values(series):
    """The series' data in its SI unit (data · conversion + offset)."""
    offset = float(getattr(series, "offset", 0.0) or 0.0)
    return np.array(series.data[:], dtype=float) * float(series.conversion) + offset


def _times(series, n):
    if series.timestamps is not None:
        return np.array(series.timestamps[:], dtype=float) * 1e3
    return (float(series.starting_time or 0.0) + np.arange(n) / float(series.rate)) * 1e3


def load_nwb(path: str | pathlib.Path, *, unit: str = "pA") -> tuple[Sweep, ...]:
    """Read the voltage-clamp sweeps of an NWB file (icephys) with pynwb.

    Every `VoltageClampSeries` of the file's acquisition is a sweep; its command is the
    `VoltageClampStimulusSeries` of the file's stimuli with the same `sweep_number` (or, if
    the series have no sweep numbers, the stimulus at the same position). Data are converted
    with each series' `conversion` and `offset` from amperes and volts.

    **Arguments:**

    - `path`: the .nwb file.
    - `unit`: "pA" (default) or "nA" for the current.

    **Returns:** a tuple of [`membrax.io.Sweep`][] (time in ms from the sweep's start,
    current in `unit`, command in mV or None), in the order of their sweep numbers (else
    names); `sweep.protocol()` is the command as a protocol.

    Needs `pip install pynwb` (or `pip install "membrax[io]"`).

    **Example:**

    ```python
    sweeps = membrax.io.load_nwb("cell.nwb", unit="nA")
    trace = membrax.fit.Trace(sweeps[0].protocol(), sweeps[0].current)
    ```
    """
    where = f"load_nwb: {path}"
    path = pathlib.Path(path)
    if unit not in _AMPERES_TO:
        raise ValueError(f"load_nwb: unit must be 'pA' or 'nA', got {unit!r}.")
    if not path.is_file():
        raise FileNotFoundError(f"{where} does not exist; give the path of an .nwb file.")
    try:
        from pynwb import NWBHDF5IO
        from pynwb.icephys import VoltageClampSeries, VoltageClampStimulusSeries
    except ImportError:
        raise ImportError("load_nwb needs pynwb: pip install pynwb.") from None
    try:
        io = NWBHDF5IO(str(path), "r")
        nwb = io.read()
    except Exception as error:  # h5py/hdmf raise many kinds for a file that is not NWB
        raise ValueError(
            f"{where} is not a readable NWB file ({type(error).__name__}: {error})."
        ) from None
    with io:
        responses = [s for s in nwb.acquisition.values() if isinstance(s, VoltageClampSeries)]
        stimuli = [s for s in nwb.stimulus.values() if isinstance(s, VoltageClampStimulusSeries)]
        if not responses:
            kinds = sorted({type(s).__name__ for s in nwb.acquisition.values()}) or ["nothing"]
            raise ValueError(
                f"{where} has no VoltageClampSeries in its acquisition (it has "
                f"{', '.join(kinds)}); membrax reads voltage-clamp recordings."
            )
        numbered = all(s.sweep_number is not None for s in responses + stimuli)
        key = (lambda s: int(s.sweep_number)) if numbered else (lambda s: s.name)
        responses.sort(key=key)
        by_number = {int(s.sweep_number): s for s in stimuli} if numbered else {}
        out = []
        for k, response in enumerate(responses):
            if response.unit != "amperes":
                raise ValueError(
                    f"{where}: {response.name} is in {response.unit!r}; a VoltageClampSeries "
                    "must be in amperes."
                )
            current = _values(response) * _AMPERES_TO[unit]
            time = _times(response, current.size)
            if numbered:
                stimulus = by_number.get(int(response.sweep_number))
            else:
                stimulus = sorted(stimuli, key=key)[k] if k < len(stimuli) else None
            command = None
            if stimulus is not None:
                command = _values(stimulus) * 1e3
                if command.size != current.size:
                    raise ValueError(
                        f"{where}: {response.name} has {current.size} samples but its "
                        f"stimulus {stimulus.name} has {command.size}; they must match."
                    )
            index = int(response.sweep_number) if numbered else k
            out.append(Sweep(index, time - time[0], current, command, unit))
    return tuple(out)
