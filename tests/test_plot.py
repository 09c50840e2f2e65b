"""Figures of populations and curves: what is drawn is what was simulated or fitted."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import membrax
from membrax.plot import plot_activation, plot_raster, plot_rate_map

PNG = b"\x89PNG\r\n\x1a\n"


def test_raster_draws_every_recorded_spike(tmp_path):
    g_na = jnp.linspace(60.0, 160.0, 8)
    cells = jax.vmap(lambda g: membrax.models.hh1952_cell(g_na=g))(g_na)
    record = membrax.simulate_population(
        cells,
        membrax.CurrentStep(10.0, 5.0, 40.0),
        t1=50.0,
        save=membrax.SaveSpikes(max_spikes=3),
    )
    path = tmp_path / "raster.png"
    cells_drawn, times = plot_raster(record.spike_times, path, t1=50.0)
    counts = np.minimum(np.asarray(record.spike_count), 3)  # times beyond 3 are not kept
    assert cells_drawn.size == times.size == int(counts.sum()) > 0
    np.testing.assert_array_equal(np.bincount(cells_drawn, minlength=8), counts)
    assert np.all((times > 5.0) & (times < 50.0))  # spikes only during the step
    assert path.read_bytes()[:8] == PNG


def test_rate_map_and_activation_curve(tmp_path):
    rates = np.outer(np.arange(3.0), np.arange(4.0))
    plot_rate_map(rates, np.arange(4.0), np.arange(3.0), tmp_path / "map.png", xlabel="g")
    assert (tmp_path / "map.png").read_bytes()[:8] == PNG
    with pytest.raises(ValueError, match=r"rates has shape \(3, 4\); it needs .* \(4, 3\)"):
        plot_rate_map(rates, np.arange(3.0), np.arange(4.0), tmp_path / "bad.png")
    v = np.arange(-90.0, 31.0, 10.0)
    fit = membrax.fit.fit_boltzmann(v, 1.0 / (1.0 + np.exp(-(v + 30.0) / 6.0)))
    grid, y = plot_activation(v, fit.curve(v), tmp_path / "act.png", curve=fit.curve)
    assert np.interp(-30.0, grid, y) == pytest.approx(0.5, abs=1e-4)  # y(V½) = A/2
    assert plot_activation(v, fit.curve(v), tmp_path / "data.png") is None
    assert (tmp_path / "act.png").read_bytes()[:8] == PNG
