"""Figures with matplotlib (an optional dependency: `pip install "membrax[plot]"`)."""

from ._figures import plot_correlations as plot_correlations
from ._figures import plot_fit as plot_fit
from ._figures import plot_iv as plot_iv
from ._figures import plot_traces as plot_traces
