"""Figures: fits (data, model, residuals), correlations, traces, I–V and activation curves,
population rasters and rate maps."""

import numpy as np


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(
            "membrax.plot needs matplotlib: pip install matplotlib (or membrax[plot])."
        ) from None
    return plt


def _save(plt, fig, ax, path, title=""):
    """Title the (top) axes, lay the figure out, write it to `path` and free it."""
    if title:
        ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_fit(time, voltage, data, model, mask, path, *, title="", current_unit="nA"):
    """Save a three-panel figure to `path`: the command voltage, the recorded current with
    the model's on top (excluded samples greyed), and the residuals.

    **Arguments:** `time` (ms), `voltage` (mV), `data` and `model` (current units), `mask`
    (True where fitted), `path` (a .png/.svg/.pdf file name), `title`, `current_unit`.
    """
    plt = _pyplot()
    time, voltage, data, model, mask = (np.asarray(a) for a in (time, voltage, data, model, mask))
    fig, axes = plt.subplots(3, 1, figsize=(10, 7), sharex=True, height_ratios=[1, 2, 1])
    axes[0].plot(time, voltage, color="black", lw=0.8)
    axes[0].set_ylabel("V (mV)")
    axes[1].plot(time, np.where(mask, data, np.nan), color="0.6", lw=0.6, label="data")
    axes[1].plot(time, np.where(mask, np.nan, data), color="0.85", lw=0.6, label="excluded")
    axes[1].plot(time, model, color="tab:red", lw=0.9, label="model")
    axes[1].set_ylabel(f"I ({current_unit})")
    axes[1].legend(loc="upper right", frameon=False)
    axes[2].plot(time, np.where(mask, data - model, np.nan), color="tab:blue", lw=0.5)
    axes[2].axhline(0.0, color="black", lw=0.5)
    axes[2].set_ylabel(f"residual ({current_unit})")
    axes[2].set_xlabel("time (ms)")
    _save(plt, fig, axes[0], path, title)


def plot_correlations(names, correlations, path):
    """Save a heat map of the parameter correlation matrix to `path`."""
    plt = _pyplot()
    corr = np.asarray(correlations)
    fig, ax = plt.subplots(figsize=(1 + 0.5 * len(names), 1 + 0.5 * len(names)))
    image = ax.imshow(corr, vmin=-1, vmax=1, cmap="RdBu_r")
    ax.set_xticks(range(len(names)), names, rotation=90)
    ax.set_yticks(range(len(names)), names)
    fig.colorbar(image, ax=ax, label="correlation")
    _save(plt, fig, ax, path)


def _sweeps(values):
    """A trace of shape (N,) or a family of shape (sweeps, N), as (sweeps, N)."""
    values = np.asarray(values)
    return values[None] if values.ndim == 1 else values


def plot_traces(
    time,
    voltage,
    current,
    path,
    *,
    labels=None,
    title="",
    current_label="I (nA)",
    current_clamp=False,
):
    """Save a two-panel figure of clamp traces to `path`, one line per sweep.

    Under voltage clamp (the default) the command voltage is the small upper panel and the
    current the large lower one; with `current_clamp=True` the injected current is above and
    the membrane potential below.

    **Arguments:**

    - `time`: ms, shape (N,), shared by every sweep.
    - `voltage`: mV, shape (N,) or (sweeps, N).
    - `current`: in the unit named by `current_label`, shape (N,) or (sweeps, N).
    - `path`: a .png/.svg/.pdf file name.
    - `labels`: one legend entry per sweep (e.g. the step voltages), or None.
    - `title`: the figure title.
    - `current_label`: the current axis label with its unit, e.g. "I (µA/cm²)".
    - `current_clamp`: whether `current` is an injected stimulus (current clamp).
    """
    plt = _pyplot()
    time, voltage, current = np.asarray(time), _sweeps(voltage), _sweeps(current)
    n = max(voltage.shape[0], current.shape[0])
    colors = plt.cm.viridis(np.linspace(0.0, 0.9, n)) if n > 1 else ["black"]
    fig, axes = plt.subplots(2, 1, figsize=(9, 6), sharex=True, height_ratios=[1, 2])
    top, bottom = (current, voltage) if current_clamp else (voltage, current)
    top_label, bottom_label = (
        (current_label, "V (mV)") if current_clamp else ("V (mV)", current_label)
    )
    for k in range(n):
        label = None if labels is None else labels[k]
        color = colors[k]
        axes[0].plot(time, top[min(k, len(top) - 1)], color=color, lw=0.8)
        axes[1].plot(time, bottom[min(k, len(bottom) - 1)], color=color, lw=0.8, label=label)
    axes[0].set_ylabel(top_label)
    axes[1].set_ylabel(bottom_label)
    axes[1].set_xlabel("time (ms)")
    if labels is not None and n <= 16:
        axes[1].legend(loc="best", frameon=False, fontsize="small", ncols=1 + n // 9)
    _save(plt, fig, axes[0], path, title)


def plot_iv(voltage, current, path, *, title="", current_label="I (nA)"):
    """Save a current–voltage curve to `path`: one marker per step voltage, joined.

    **Arguments:** `voltage` (mV, shape (K,)), `current` (the unit named by `current_label`,
    shape (K,)), `path` (a .png/.svg/.pdf file name), `title`, `current_label` (the current
    axis label with its unit).
    """
    plt = _pyplot()
    voltage, current = np.asarray(voltage), np.asarray(current)
    fig, ax = plt.subplots(figsize=(6, 4.5))
    ax.axhline(0.0, color="0.6", lw=0.6)
    ax.axvline(0.0, color="0.6", lw=0.6)
    ax.plot(voltage, current, "o-", color="tab:red", lw=1.0, ms=4)
    ax.set_xlabel("V (mV)")
    ax.set_ylabel(current_label)
    _save(plt, fig, ax, path, title)


def plot_raster(spike_times, path, *, t1=None, title=""):
    """Save a spike raster of a population to `path`: one row per cell, one tick per spike.

    **Arguments:** `spike_times` (ms, shape (cells, max_spikes), +inf/NaN-padded as
    `record.spike_times` of [`membrax.simulate_population`][] with
    [`membrax.SaveSpikes`][]), `path`, `t1` (the end of the time axis, ms), `title`.

    **Returns:** the plotted points `(cells, times)`, two arrays of equal length (one entry
    per recorded spike).
    """
    plt = _pyplot()
    times = np.atleast_2d(np.asarray(spike_times, dtype=float))
    cells, slots = np.nonzero(np.isfinite(times))
    points = times[cells, slots]
    fig, ax = plt.subplots(figsize=(8, 0.5 + min(6.0, 0.02 * times.shape[0] + 2)))
    ax.scatter(points, cells, marker="|", s=12, color="black", linewidths=0.8)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("cell")
    ax.set_ylim(-0.5, times.shape[0] - 0.5)
    if t1 is not None:
        ax.set_xlim(0.0, t1)
    _save(plt, fig, ax, path, title)
    return cells, points


def plot_rate_map(rates, x, y, path, *, xlabel="", ylabel="", label="rate (Hz)", title=""):
    """Save a 2-D map of firing rates (or any value) over a parameter grid to `path`.

    **Arguments:** `rates` (shape (len(y), len(x))), `x`, `y` (the grid's coordinates,
    increasing), `path`, axis labels `xlabel`, `ylabel`, the colour bar's `label`, `title`.
    """
    plt = _pyplot()
    rates, x, y = np.asarray(rates, dtype=float), np.asarray(x), np.asarray(y)
    if rates.shape != (y.size, x.size):
        raise ValueError(
            f"plot_rate_map: rates has shape {rates.shape}; it needs (len(y), len(x)) = "
            f"{(y.size, x.size)}."
        )
    fig, ax = plt.subplots(figsize=(6, 4.8))
    image = ax.pcolormesh(x, y, rates, shading="nearest", cmap="viridis")
    fig.colorbar(image, ax=ax, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    _save(plt, fig, ax, path, title)


def plot_activation(voltages, values, path, *, curve=None, title="", ylabel="G/G_max"):
    """Save a steady-state activation / inactivation (or Q–V) curve to `path`: the data as
    markers and, given `curve` (a [`membrax.fit.Boltzmann`][], e.g. `fit_boltzmann(...)
    .curve`, or any function of V), the fitted curve on a fine voltage grid.

    **Returns:** the fine grid and the curve there `(v, y)` (None without `curve`).
    """
    plt = _pyplot()
    voltages, values = np.asarray(voltages, dtype=float), np.asarray(values, dtype=float)
    fig, ax = plt.subplots(figsize=(6, 4.5))
    ax.plot(voltages, values, "o", color="black", ms=4, label="data")
    drawn = None
    if curve is not None:
        v = np.linspace(voltages.min(), voltages.max(), 400)
        y = np.asarray(curve(v), dtype=float)
        ax.plot(v, y, color="tab:red", lw=1.2, label="fit")
        ax.legend(frameon=False)
        drawn = (v, y)
    ax.set_xlabel("V (mV)")
    ax.set_ylabel(ylabel)
    _save(plt, fig, ax, path, title)
    return drawn
