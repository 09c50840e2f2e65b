"""Myokit protocols (the `[[protocol]]` section of .mmt files) as membrax step protocols."""

import itertools
import math
import pathlib

from ..protocols._voltage import PiecewiseProtocol, Step


def _protocol_lines(text):
    """The event lines: the `[[protocol]]` section of an .mmt file, or the whole text."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip() == "[[protocol]]"), None)
    if start is None:
        if any(line.strip().startswith("[[") for line in lines):
            return None
        body = lines
    else:
        body = []
        for line in lines[start + 1 :]:
            if line.strip().startswith("[["):
                break
            body.append(line)
    numbered = []
    for number, line in enumerate(body, start=1 if start is None else start + 2):
        content = line.split("#", 1)[0].strip()
        if content:
            numbered.append((number, content))
    return numbered


def _number(where, line, name, text):
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{where}: line {line}: {name} {text!r} is not a number.") from None
    if not math.isfinite(value):
        raise ValueError(f"{where}: line {line}: {name} must be finite, got {text!r}.")
    return value


def _events(where, lines):
    events, end = [], 0.0
    for line, content in lines:
        fields = content.split()
        if len(fields) != 5:
            raise ValueError(
                f"{where}: line {line}: {content!r} has {len(fields)} fields; a Myokit event "
                "has 5: level, start (a time or 'next'), duration, period, multiplier."
            )
        level = _number(where, line, "level", fields[0])
        if fields[1] == "next":
            if end is None:
                raise ValueError(
                    f"{where}: line {line}: 'next' follows a periodic event, which has no end "
                    "(Myokit refuses it too); give this event's start time in ms."
                )
            start = end
        else:
            start = _number(where, line, "start", fields[1])
        duration = _number(where, line, "duration", fields[2])
        period = _number(where, line, "period", fields[3])
        repeats = _number(where, line, "multiplier", fields[4])
        if duration <= 0:
            raise ValueError(f"{where}: line {line}: duration must be > 0 ms, got {fields[2]!r}.")
        if period < 0 or repeats < 0 or repeats != int(repeats):
            raise ValueError(
                f"{where}: line {line}: period must be >= 0 and the multiplier a whole number "
                f">= 0, got {fields[3]!r} and {fields[4]!r}."
            )
        if period == 0 and repeats != 0:
            raise ValueError(
                f"{where}: line {line}: a multiplier ({fields[4]}) needs a period > 0 (a "
                "one-off event has period 0 and multiplier 0)."
            )
        if 0 < period < duration:
            raise ValueError(
                f"{where}: line {line}: period {period:g} ms is shorter than the duration "
                f"{duration:g} ms: the repeats would overlap."
            )
        events.append((line, level, start, duration, period, int(repeats)))
        end = start + duration if period == 0 else None  # as in Myokit's parser
    return events


def load_myokit_protocol(
    source: str | pathlib.Path,
    *,
    dt: float,
    t1: float | None = None,
    gap_level: float = 0.0,
) -> PiecewiseProtocol:
    """Read a Myokit pacing protocol as a [`membrax.PiecewiseProtocol`][] of steps.

    Myokit writes a protocol as one event per line — `level start duration period
    multiplier` — in the `[[protocol]]` section of an .mmt file (or alone in a file);
    `start` may be `next` (right after the previous event), a period > 0 repeats the event
    `multiplier` times (0: forever, which needs `t1`; as in Myokit, `next` cannot follow a
    periodic event). Between events the level is `gap_level` (0, as in Myokit, where the
    pacing variable is 0 when no event is active); adjacent holds at one level become one
    step. For a voltage-clamp protocol the levels are the command potentials in mV and the
    times in ms.

    **Arguments:**

    - `source`: a path to an .mmt (or protocol) file, or the text itself.
    - `dt`: the sampling interval of the returned protocol, ms.
    - `t1`: the end of the protocol, ms (default: the end of the last event). Events are
      cut at `t1`; needed for events that repeat forever.
    - `gap_level`: the level between events (default 0).

    **Returns:** a `PiecewiseProtocol` starting at t = 0.

    **Example:**

    ```
    load_myokit_protocol("[[protocol]]\\n-80 0 100 0 0\\n20 next 500 0 0\\n", dt=0.1)
    ```
    """
    where = "load_myokit_protocol"
    text = str(source)
    one_line_event = "\n" not in text and len(text.split()) == 5
    if isinstance(source, pathlib.Path) or ("\n" not in text and not one_line_event):
        path = pathlib.Path(text)
        if not path.is_file():
            raise FileNotFoundError(
                f"{where}: {path} does not exist; give the path of a Myokit .mmt or protocol "
                "file, or the protocol text itself."
            )
        text = path.read_text()
        where = f"{where}: {path}"
    lines = _protocol_lines(text)
    if lines is None:
        raise ValueError(
            f"{where}: the file has Myokit sections but no [[protocol]]; add one or give the "
            "protocol text."
        )
    if not lines:
        raise ValueError(f"{where}: the protocol has no events.")
    events = _events(where, lines)
    if t1 is not None and not (math.isfinite(t1) and t1 > 0):
        raise ValueError(f"{where}: t1 must be > 0 ms, got {t1!r}.")
    pulses = []
    for line, level, start, duration, period, repeats in events:
        if period == 0:
            pulses.append((start, start + duration, level, line))
            continue
        if repeats == 0 and t1 is None:
            raise ValueError(
                f"{where}: line {line} repeats forever (period {period:g}, multiplier 0); "
                "give t1= to end the protocol."
            )
        count = repeats if repeats else math.ceil((t1 - start) / period)
        pulses.extend(
            (start + k * period, start + k * period + duration, level, line)
            for k in range(max(count, 0))
        )
    pulses.sort()
    for (a0, a1, _, la), (b0, _, _, lb) in itertools.pairwise(pulses):
        if b0 < a1 - 1e-9:
            raise ValueError(
                f"{where}: the events of lines {la} and {lb} overlap ({a0:g}–{a1:g} ms and from "
                f"{b0:g} ms); Myokit protocols cannot have two active events."
            )
    end = max(p[1] for p in pulses) if t1 is None else float(t1)
    holds, t = [], 0.0  # (until, level), contiguous from 0
    for start, stop, level, _ in pulses:
        start, stop = min(start, end), min(stop, end)
        if start > t + 1e-9:
            holds.append((start, gap_level))
        if stop > max(start, t) + 1e-9:
            holds.append((stop, level))
        t = max(t, stop)
    if end > t + 1e-9:
        holds.append((end, gap_level))
    merged = []
    for until, level in holds:
        if merged and merged[-1][1] == level:  # one step, not two (steptrain writes these)
            merged[-1] = (until, level)
        else:
            merged.append((until, level))
    segments, t = [], 0.0
    for until, level in merged:
        # The duration is the boundary minus the running sum, which PiecewiseProtocol
        # recomputes the same way: its boundaries are then the event times themselves.
        segments.append(Step(level, until - t))
        t += until - t
    return PiecewiseProtocol(segments, dt=dt)
