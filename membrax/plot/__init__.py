"""Figures with matplotlib (an optional dependency: `pip install "membrax[plot]"`)."""

from ._figures import plot_activation as plot_activation
from ._figures import plot_correlations as plot_correlations
from ._figures import plot_fit as plot_fit
from ._figures import plot_iv as plot_iv
from ._figures import plot_raster as plot_raster
from ._figures import plot_rate_map as plot_rate_map
from ._figures import plot_traces as plot_traces
