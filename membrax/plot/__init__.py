"""Figures with matplotlib (an optional dependency: `pip install "membrax[plot]"`)."""

from ._figures import plot_correlations as plot_correlations
from ._figures import plot_fit as plot_fit
