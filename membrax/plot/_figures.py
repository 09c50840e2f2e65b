"""Figures of fits: data against model with residuals, and parameter correlations."""

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
    if title:
        axes[0].set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_correlations(names, correlations, path):
    """Save a heat map of the parameter correlation matrix to `path`."""
    plt = _pyplot()
    corr = np.asarray(correlations)
    fig, ax = plt.subplots(figsize=(1 + 0.5 * len(names), 1 + 0.5 * len(names)))
    image = ax.imshow(corr, vmin=-1, vmax=1, cmap="RdBu_r")
    ax.set_xticks(range(len(names)), names, rotation=90)
    ax.set_yticks(range(len(names)), names)
    fig.colorbar(image, ax=ax, label="correlation")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
