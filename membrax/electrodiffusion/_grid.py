"""One-dimensional finite-volume grids (vertex centred), optionally with a cross-section."""

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .._custom_types import float_array
from .._validation import _is_traced, check_array


class Grid(eqx.Module):
    r"""A 1D vertex-centred finite-volume grid: unknowns live on nodes, fluxes on the cells
    (edges) between neighbouring nodes.

    Node $i$ at $x_i$ owns the control volume between the midpoints of its two cells; cell
    $e$ joins nodes $e$ and $e+1$, has length $h_e = x_{e+1}-x_e$ and cross-section
    $A_e = (A_e^\text{node} + A_{e+1}^\text{node})/2$, and gives half of its volume $h_e A_e$ to
    each of its nodes (the box method of semiconductor device simulation, also DEVSIM's). A
    first and last node lie on the boundaries.

    **Fields:**

    - `nodes`: node positions $x_i$, nm, strictly increasing, at least 3.
    - `area`: cross-section at each node, nm², > 0 (default 1 nm² everywhere: a planar
      problem, whose `current_density` is the result to read). For a pore, its open area
      $\pi r(x)^2$; the problem stays one-dimensional (area-averaged).

    Build one with [`membrax.electrodiffusion.uniform_grid`][] or
    [`membrax.electrodiffusion.refined_grid`][], or from any increasing array of positions.
    """

    nodes: Float[Array, " nodes"] = eqx.field(converter=float_array)
    area: Float[Array, " nodes"] = eqx.field(converter=float_array)

    def __init__(self, nodes: ArrayLike, area: ArrayLike | None = None):
        where = "Grid"
        nodes = check_array(where, "nodes", nodes, unit="nm")
        if nodes.ndim != 1 or nodes.shape[0] < 3:
            raise ValueError(
                f"{where}: nodes must be 1-D with at least 3 positions (nm), got shape "
                f"{nodes.shape}. Use uniform_grid(length, cells) for a simple grid."
            )
        if not _is_traced(nodes):
            steps = np.diff(np.asarray(nodes))
            if np.any(steps <= 0):
                i = int(np.argmax(steps <= 0))
                raise ValueError(
                    f"{where}: nodes must be strictly increasing, got x[{i}] = "
                    f"{float(nodes[i])!r} nm and x[{i + 1}] = {float(nodes[i + 1])!r} nm. "
                    "Sort the positions and remove duplicates."
                )
        if area is None:
            area = jnp.ones_like(nodes)
        area = check_array(
            where,
            "area",
            area,
            unit="nm²",
            positive=True,
            fix="area is the cross-section at each node, nm² (π r² for a pore of radius r).",
        )
        self.nodes = nodes
        self.area = jnp.broadcast_to(area, nodes.shape)

    @property
    def cells(self) -> int:
        """The number of cells (edges), one fewer than the nodes."""
        return self.nodes.shape[0] - 1

    @property
    def cell_lengths(self) -> Float[Array, " cells"]:
        """$h_e$, nm."""
        return jnp.diff(self.nodes)

    @property
    def cell_centres(self) -> Float[Array, " cells"]:
        """Midpoints of the cells, nm: where to evaluate per-cell profiles."""
        return (self.nodes[1:] + self.nodes[:-1]) / 2

    @property
    def cell_areas(self) -> Float[Array, " cells"]:
        """$A_e$, nm²: the cross-section through which a cell's flux passes."""
        return (self.area[1:] + self.area[:-1]) / 2

    @property
    def node_volumes(self) -> Float[Array, " nodes"]:
        """Control volume of each node, nm³: half of each adjacent cell's $h_e A_e$."""
        half = self.cell_lengths * self.cell_areas / 2
        return jnp.pad(half, (0, 1)) + jnp.pad(half, (1, 0))


def uniform_grid(length: float, cells: int, *, area: ArrayLike | None = None) -> Grid:
    """`cells` equal cells over [0, `length`] nm (`cells` + 1 nodes); `area` in nm² per node."""
    if int(cells) != cells or cells < 2:
        raise ValueError(f"uniform_grid: cells must be an integer >= 2, got {cells!r}.")
    if not length > 0:
        raise ValueError(f"uniform_grid: length must be > 0 nm, got {length!r}.")
    return Grid(np.linspace(0.0, float(length), int(cells) + 1), area)


def refined_grid(
    breakpoints: ArrayLike,
    cells: int | tuple[int, ...],
    *,
    clustering: float = 2.0,
    area: ArrayLike | None = None,
) -> Grid:
    r"""A grid whose nodes cluster smoothly towards interfaces.

    Each segment $[b_k, b_{k+1}]$ between consecutive `breakpoints` gets its own number of
    cells, with nodes at

    $$x(s) = b_k + (b_{k+1}-b_k)\,\frac{1}{2}\Bigl(1 + \frac{\tanh(\beta(2s-1))}{\tanh\beta}
        \Bigr),\qquad s = 0, \tfrac1n, \dots, 1,$$

    so that cells are smallest (by about $\cosh^2\beta$ for large n) at both ends of every
    segment, i.e. at the breakpoints where fixed charge, permittivity or diffusion coefficients
    jump, and the spacing varies smoothly (which keeps the box method second-order accurate).
    `clustering` = β = 0 gives uniform segments.

    **Arguments:**

    - `breakpoints`: increasing positions, nm, including both ends of the domain.
    - `cells`: cells per segment, an integer (every segment) or one per segment.
    - `clustering`: β ≥ 0, dimensionless.
    - `area`: cross-section per node (nm²), or None for 1 nm²; as it depends on the nodes, you
      may also build the grid first and pass `Grid(grid.nodes, area_of(grid.nodes))`.

    **Returns:** a [`membrax.electrodiffusion.Grid`][].
    """
    where = "refined_grid"
    b = np.asarray(breakpoints, dtype=float)
    if b.ndim != 1 or b.size < 2 or np.any(np.diff(b) <= 0):
        raise ValueError(
            f"{where}: breakpoints must be 1-D, strictly increasing (nm), with at least two "
            f"entries, got {b.tolist()!r}."
        )
    counts = (cells,) * (b.size - 1) if np.ndim(cells) == 0 else tuple(cells)
    if len(counts) != b.size - 1 or any(int(n) != n or n < 1 for n in counts):
        raise ValueError(
            f"{where}: cells must be a positive integer or one per segment "
            f"({b.size - 1} segments), got {cells!r}."
        )
    if not clustering >= 0:
        raise ValueError(f"{where}: clustering must be >= 0, got {clustering!r}.")
    pieces = []
    for k, n in enumerate(counts):
        s = np.linspace(0.0, 1.0, int(n) + 1)
        if clustering > 0:
            s = 0.5 * (1 + np.tanh(clustering * (2 * s - 1)) / np.tanh(clustering))
        pieces.append(b[k] + (b[k + 1] - b[k]) * s[(1 if k else 0) :])
    return Grid(np.concatenate(pieces), area)
