"""Adaptive, error-driven, MPI-parallel k-space integration (no physics here).

Cells and rules
---------------
The coarse level is the Gamma-centred mesh N1 x N2 x N3 seen as cells: cell ``i`` is
the box of side 1/N centred on k = i/N (reduced coordinates).  Every cell is
integrated with the tensor-product Gauss-Legendre rule of ``order`` points per
direction (exact for polynomials of degree 2*order - 1, so a cell that resolves the
integrand converges fast); refining a cell splits it into 2 x 2 x 2 children
(2 x 2 for a direction with N = 1, which is never split and sampled at k = 0 only, as
on a uniform mesh: a 2D model stays 2D).

Occupations over the node's box (``box_occupations=True``)
---------------------------------------------------------
A Gauss node stands for a box of the cell: per direction the interval of its weight, the
intervals tiling the cell in node order.  Where a band's energy changes by more than k_B T
either side across that box (the thermal shell of a Fermi surface, or the T = 0 step, is
thinner than the box) the node's Fermi-sea and entropy weights f_n, s_n are replaced by their
exact means over the box with the band linear there, E + v.(k - k_node) (a difference of
antiderivatives over the box's 8 corners, :func:`wbentropy.integrate.boxes.box_mean`): a shell the
node would hit or miss by chance is integrated over the box instead, and since the boxes tile
the cell, the Fermi sea of a linear band with constant Berry curvature is integrated exactly
(cf. the linear tetrahedron method, and adaptive smearing, Yates et al., PRB 75, 195121 (2007)).
Where the band changes by at most k_B T either side the node's own weights are used, so a
resolved shell keeps the rule's order, and the average disappears as cells are split: the limit
is the same integral.  Quantities with -df/dE weights keep node weights.

Values and errors
-----------------
Each leaf carries Q_c, its Gauss-Legendre estimate of the integral over the cell of
F(k) (all quantities, all (T, mu), all tensor components: one vector), and an error
share e_c.  The integral is I = sum_c Q_c.  When a cell P is split, the difference
|sum_children Q - Q_P| estimates P's error (the children's rule is far more accurate);
times a Richardson factor 1/16 (the 6th-order rule gains 2^6 per halving; 4 is kept
as a safety margin) it is the children's error, shared among them in proportion to
their embedded indicator
|Q_c - w_c F(centre)| (the Gauss rule against the midpoint rule on the same cell), so
that the rough children inherit it.  A coarse cell starts with its embedded indicator.
Where the children do not resolve the thermal shell of a Fermi surface crossing them (cell
radius above 2 k_B T/|v|), the integrand is a step (or a bump as thin as the shell) on their
scale and the rule is only first order: the error of the cut cells halves per halving, and the
factor is 1/2 (at T = 0 no shell is known, and 1/16 is used) -- unless the shell contrasts below
carry that error: then 1/2 is used only for children of radius 2 to 8 k_B T/|v| (cells without a
contrast whose Gauss rule does not resolve the shell yet) and 1/16 elsewhere.

Shell contrasts (node occupations, the default)
-----------------------------------------------
Every node is evaluated twice from the same band geometry: with the occupation weights f_n, s_n at the
node (the integrand F) and with their means over the node's box, the band linear in it (as with
``box_occupations``; 0 for quantities whose weight has no box mean, e.g. -df/dE).  The cell's Gauss sum
of the difference is its *shell contrast* S_c (signed, per output): for a linear band with constant
Berry curvature the box means integrate the cell exactly, so -S_c is the error with which the nodes hit
or miss a Fermi surface or a thermal shell thinner than their boxes, known a priori, at the level the
cell is made, not one split later.  It is kept only in cells of radius above 8 k_B T/|v| (the shell is
thin on their scale); in smaller ones the Gauss rule integrates the shell better than the box means,
whose difference from it is then their own error (they take the curvature at the node), and S_c = 0.
The contrasts are not added to the value (that is ``box_occupations``); they enter the reported error
and the refinement.  With ``box_occupations`` the node values are the box means and there is no
contrast (S_c = 0).

Reported error
--------------
The reported error of each component adds the shares in two groups and the contrasts.  A leaf whose
radius is above 2 times k_B T/|v| does not resolve the shell: where the shell falls with respect to its
nodes is random, and the error it leaves is the node rule hitting or missing it there, so the errors of
such leaves have random signs and add up in quadrature, 3 sqrt(sum_c e_c^2) (three standard
deviations; two in runs without contrasts, where the group holds only leaves of 2 to 8 times
k_B T/|v|).  The part of the hit-or-miss error with one sign over the whole Fermi surface is the node
rule's bias, which the contrasts carry (below).  All other leaves add up linearly, sum_c e_c: smooth
cells and resolved shells (errors of their parent's sign), and leaves more than 8 times larger than
their length where no contrast carries that bias (``box_occupations``, or a weight without box mean).  (A
step of a reduction's weight w counts as a shell of its width: its cells are split to 2 widths, so the
random group holds them only on the first levels.)  The
contrasts add |sum_c S_c| (their correlated part: the error the node rule makes over the whole Fermi
surface, as far as the box means know it) plus 2 sqrt(sum_c S_c^2) (the box means' own error, of the
size of the contrasts, with random signs):

    error = sum_{other} e_c + 3 sqrt(sum_{random} e_c^2) + |sum_c S_c| + 2 sqrt(sum_c S_c^2).

On bcc Fe at 300 K (8^3 coarse cells) the cells larger than 8 k_B T/|v| carry most of the shares: added
linearly they would make the estimate 10-100 times the true error (a certified 1 % of sigma_xy would cost
1.24 M k-points instead of 0.49 M).

benchmarks/adaptive_certification.py measures how often it bounds the true error.

Refinement
----------
Components are compared relative to the size of their own tensor: for every
quantity and (T, mu) the scale is max_ab |I_ab| (but at least 1e-3 of the quantity's
largest tensor on the (T, mu) grid, so that e.g. an in-gap sigma^s ~ exp(-gap/2k_BT)
does not demand relative accuracy of its own) + ``abs_tolerance``, and a leaf's
indicator is max_j e_c,j / scale_j, so one refined set of k-points serves every
quantity and every (T, mu).  Berry-curvature hot spots show up as large indicators.
A leaf's indicator is (e_c + |S_c|) / scale, so a cell that a thin shell crosses is refined by
its contrast, as far as its error matters, where its nodes saw no sign of the shell.  When a
requested quantity lives in the thermal shell with a weight that has no box mean (-df/dE, 1/T:
the evaluator is ``shell_unaveraged``; with ``box_occupations`` every ``fermi_weighted`` one),
cells crossed by a Fermi surface (a band within |v| rho + a few k_B T of a requested mu, rho the
cell radius) are refined until their radius is below 60 times the length k_B T/|v| on which the
occupations change (Fermi-surface refinement: the evaluator reports that length per k-point), so
that the shell is resolved even where the coarse mesh saw no sign of it.  Each level refines the unresolved
Fermi-surface cells and the smallest set of the other leaves carrying half of their total
indicator (Dorfler marking), within the k-point budget (a level cut short by the budget splits
the unresolved cells with the largest indicators first), until max_j error_j / scale_j <= ``tolerance`` and no
Fermi-surface cell is unresolved, or the budget is spent.

Reduction by symmetry (``reduction=``)
--------------------------------------
For an integrand covariant under a group of |G| operations on k, F(g k) = rho(g) F(k), the caller
(:mod:`wbentropy.api`) gives a :class:`Reduction`: a smooth weight w >= 0 with sum_g w(g k) = 1
(:mod:`wbentropy.kspace.wedge`: about 1/|G| of the zone plus a thin layer along the faces of a
fundamental domain, falling to 0 across a width ``width``), a conservative filter of cells where w = 0
everywhere, and the maps ``project`` = |G| P (P the group average of rho(g), Neumann's projector) and
``bound`` = |G| mean_g |rho(g)|.  Then the integral of F over the zone is ``project(int w F)`` exactly,
and the integrator integrates w F: the cells the filter drops are never evaluated (coarse cells, and
children of split cells; a coarse cell it keeps whose nodes all have w = 0 is split first, up to 3
times, so that no sliver of the support goes unseen), nodes where w = 0 are not diagonalised (F = 0
there; ``n_evaluations`` counts the diagonalised ones), and w F replaces F everywhere (Gauss sums,
embedded indicators, box occupations, error shares), so w's faces are refined like any other feature
of the integrand: a cell whose nodes' weights differ holds a step of w and gets a Fermi-shell length of
at most ``width`` (a step's error factor until its cells are smaller than that), and such a cell is split
whatever its error share until its radius is below 2 ``width`` (its nodes may sit in the exponentially
small tail of the step and see no error at all).  The reported value
is ``project(sum_c Q_c)`` and the reported error ``bound(E)``, E the error estimate of int w F above:
since |sum_g rho(g)^T d| <= sum_g |rho(g)|^T |d| component by component, it bounds the error of the
reported value whenever E bounds the error of each component of int w F (the same assumption as
without reduction).  The stopping rule and the scales judge these reported (full
zone) values and errors; a leaf's indicator is max_j e_c,j s_j with s = ``bound``(1 / scale), the
ratio its error share adds to the reported errors.  The weight is a function of k alone, the same
bits in any batch (no BLAS), shared out over the ranks and gathered in rank order, so the refinement
does not depend on the number of ranks and threads; checkpoints record the reduction's label, and a restart with another
reduction (or none) is refused.

Parallelism and determinism
---------------------------
Each level's new k-points are cut into batches of the evaluator's batch size counted from
the level's first k-point (rounds are whole batches), and each rank evaluates a contiguous
run of whole batches; the values are gathered back in rank order, so every rank holds the
same arrays and takes the same (deterministic) refinement decisions.  Every k-point is
evaluated in the same batch (a matrix product's rounding depends on the batch it is part
of) and all sums run in a fixed order: results are bit-identical for any number of ranks
and threads.  After each level
rank 0 writes a checkpoint (atomic HDF5); :func:`integrate_adaptive` resumes
from one and ends with the result of an uninterrupted run.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import InputError
from .parallel import Parallel
from .progress import Progress

__all__ = ["AdaptiveSettings", "AdaptiveResult", "Reduction", "integrate_adaptive"]

logger = logging.getLogger(__name__)

#: fraction of the total indicator carried by the leaves refined at each level
_DORFLER = 0.5
#: a cell crossed by a Fermi surface is refined until its radius is below this times k_B T/|v|
#: (60: measured on the 2D Chern model at 30 K; 12 refines a metal like Fe almost uniformly)
_SHELL_RESOLUTION = 60.0
#: a cell holding a step of the symmetry weight w is split until its radius is below this times the
#: step's width (tests/test_symmetry_adaptive.py::test_wedge_integrates_smooth_functions_within_its_error)
_WEDGE_RESOLUTION = 2.0
#: Richardson-type factor: after splitting, the children's error is taken as the family
#: difference |sum_children Q - Q_parent| (the parent's error) times this factor; for the
#: 6th-order Gauss rule the asymptotic ratio is 2^-6, 1/16 keeps a safety margin of 4.
_FAMILY_FACTOR = 1.0 / 16.0
#: the factor where the children do not resolve a Fermi surface's thermal shell (a step on their
#: scale: the error of the cells it cuts halves per halving, in 2D and 3D)
_STEP_FACTOR = 0.5
#: the children resolve the shell when their radius is below this times k_B T/|v|
_STEP_RESOLUTION = 2.0
#: the errors of leaves of radius above _STEP_RESOLUTION times k_B T/|v| have random signs and add up in
#: quadrature; beyond this times k_B T/|v| only where shell contrasts carry the nodes' errors of one sign
_RANDOM_RESOLUTION = 8.0
#: standard deviations of the quadrature sum of the random-sign errors: 3 where it holds the leaves larger than
#: _RANDOM_RESOLUTION times k_B T/|v| (a few coarse leaves may carry most of it; with 2, one held-out Chern case of
#: benchmarks/adaptive_certification.py is under by 2.3x), 2 where it holds only those of 2 to 8 times (runs
#: without contrasts)
_RANDOM_Z = 3.0
_RANDOM_Z_NO_CONTRAST = 2.0
#: the shell contrasts S_c of the leaves (box-averaged minus node-weighted Gauss sums) enter the reported
#: error as _SHELL_BIAS |sum_c S_c| + _SHELL_Z sqrt(sum_c S_c^2), and the indicators as _SHELL_WEIGHT |S_c|
_SHELL_BIAS = 1.0
_SHELL_Z = 2.0
_SHELL_WEIGHT = 1.0
#: the shell contrast of a cell is kept where its radius is above this times k_B T/|v| (the shell is thin on
#: its scale); with contrasts, the step factor is used for children of radius 2 to this times k_B T/|v|
#: (benchmarks/adaptive_certification.py, Chern model: with 16, 4 of its 30 K cases are under by > 2x; without the
#: cut-off the box means' own error counts where the shell is resolved: docs/tutorial.md's run takes 1.9x the k-points)
_CONTRAST_RESOLUTION = 8.0
#: version of the refinement rules, stored in checkpoints: a checkpoint of a run refined under other
#: rules (e.g. before the step factor of Fermi-sea runs) would not resume to an uninterrupted run's result
_RULES = ("octree-gauss/6: shell contrasts (box minus node occupations) in the error and the indicators, "
          "shell-forced only for unaveraged shell weights, step factor only there and for w-steps, random-sign "
          "errors in quadrature (above 2 kT/|v|, z=3; without contrasts 2..8, z=2), dorfler-of-the-rest, "
          "box-occupations/linear-band-exact, w-steps split to 2 widths")


@dataclass(frozen=True)
class AdaptiveSettings:
    """Stopping rules and bookkeeping of the adaptive integrator.

    Attributes
    ----------
    coarse_mesh : (N1, N2, N3)
        Coarse Gamma-centred mesh of cells (level 0).
    tolerance : float
        Target relative error (per tensor, relative to its largest component).
    abs_tolerance : float
        Added to every tensor's scale (its units); 0 = purely relative.
    max_kpoints : int
        Budget of k-point evaluations (coarse level included).
    max_levels : int
        Maximum number of refinement levels.
    order : int
        Gauss-Legendre points per direction in each cell (odd, so that the cell centre is a node).
    checkpoint : str or None
        HDF5 checkpoint written by rank 0 after every level.
    progress : bool
        Show a progress line on stderr (rank 0).
    max_leaf_memory_mb : float
        Memory allowed for the leaf cells' values and errors (16 bytes per output per cell);
        refinement stops (with a warning) rather than exceed it.
    on_level : callable(level, n_evaluations, value, error), optional
        Called on every rank after each level with the running integral and error (flat).
    box_occupations : bool
        Average the Fermi-sea and entropy weights of every Gauss node over the box it stands
        for (see the module docstring); False (default) takes them at the node.
    """

    coarse_mesh: tuple[int, int, int]
    tolerance: float = 1e-3
    abs_tolerance: float = 0.0
    max_kpoints: int = 10_000_000
    max_levels: int = 50
    order: int = 3
    checkpoint: str | None = None
    progress: bool = False
    max_leaf_memory_mb: float = 4096.0
    box_occupations: bool = False
    on_level: Callable[[int, int, np.ndarray, np.ndarray], None] | None = None


@dataclass
class AdaptiveResult:
    """Integral, error estimate and statistics of an adaptive run."""

    value: np.ndarray
    error: np.ndarray
    n_evaluations: int
    levels: int
    n_leaves: int
    converged: bool
    history: list = field(default_factory=list)


@dataclass(frozen=True)
class Reduction:
    """Integration over a fundamental domain of a symmetry group (see "Reduction by symmetry" in the
    module docstring).  No physics here: the caller builds the callables.

    Attributes
    ----------
    weight : callable(k (n, 3) reduced) -> (n,)
        w(k) >= 0 with sum_g w(g k) = 1; it multiplies the integrand everywhere (nodes where it is 0
        are not evaluated).
    keep_cells : callable(lower corners (n, 3), sides (n, 3), reduced) -> bool (n,)
        False only for boxes where w = 0 everywhere (conservative): such cells are dropped.
    project : callable(flat (n_outputs,)) -> (n_outputs,)
        The full-zone integral from the integral of w F (linear: |G| P).
    bound : callable(flat (..., n_outputs) >= 0) -> same shape
        A bound on the full-zone error from errors of the integral of w F (linear, non-negative,
        self-adjoint: sum_g |rho(g)|, elementwise absolute values).
    label : str
        Names the reduction in checkpoints (a restart with another reduction is refused).
    width : float
        Length (1/Angstrom) on which w changes: a cell whose nodes' weights differ holds a step of w,
        and its Fermi-shell length is at most ``width`` (its children's errors are then taken first
        order until their radius is below 2 ``width``, as for an unresolved thermal shell).
    """

    weight: Callable[[np.ndarray], np.ndarray]
    keep_cells: Callable[[np.ndarray, np.ndarray], np.ndarray]
    project: Callable[[np.ndarray], np.ndarray]
    bound: Callable[[np.ndarray], np.ndarray]
    label: str
    width: float = np.inf


@dataclass
class _Leaves:
    """Leaf cells: level, integer corner on the level's grid, Gauss value Q (n, n_out) float64,
    error share err (n, n_out) float32, the smallest Fermi-shell length over the cell's nodes (n,)
    (inf: no Fermi surface near), and the cell's shell contrast (n, n_out) float32: its Gauss sum with
    box-averaged occupations minus Q (signed; 0 where every node box resolves the shell)."""

    level: np.ndarray
    corner: np.ndarray
    Q: np.ndarray
    err: np.ndarray
    ell: np.ndarray
    shell: np.ndarray

    def __len__(self) -> int:
        return len(self.level)

    def take(self, mask: np.ndarray) -> "_Leaves":
        return _Leaves(*(getattr(self, f)[mask] for f in _LEAF_FIELDS))

    @staticmethod
    def concat(a: "_Leaves", b: "_Leaves") -> "_Leaves":
        return _Leaves(*(np.concatenate([getattr(a, f), getattr(b, f)]) for f in _LEAF_FIELDS))


class _Geometry:
    """Cell geometry: corners, sizes, Gauss-Legendre nodes and weights in reduced coordinates."""

    def __init__(self, mesh, order: int, recip: np.ndarray) -> None:
        self.mesh = np.asarray(mesh, dtype=np.int64)
        self.active = self.mesh > 1
        if not self.active.any():
            raise InputError("adaptive integration needs a coarse mesh with at least one direction > 1")
        if order < 1 or order % 2 == 0:
            raise InputError(f"the Gauss-Legendre order must be odd and >= 1, got {order}")
        x, w = np.polynomial.legendre.leggauss(order)
        dims = np.flatnonzero(self.active)
        grid = np.array(np.meshgrid(*([np.arange(order)] * len(dims)), indexing="ij")).reshape(len(dims), -1).T
        self.nodes = np.full((len(grid), 3), 0.5)  # unit-cell coordinates in [0, 1]
        self.nodes[:, dims] = 0.5 * (x[grid] + 1.0)
        self.weights = np.prod(0.5 * w[grid], axis=1)  # sum to 1
        # the box each node stands for: per direction the interval of its weight, the intervals
        # tiling [0, 1] in node order (sides, and box centre minus node, in unit-cell coordinates)
        edges = np.concatenate([[0.0], np.cumsum(0.5 * w)])
        self.node_box = np.zeros((len(grid), 2, 3))
        self.node_box[:, 0, dims] = 0.5 * w[grid]
        self.node_box[:, 1, dims] = (0.5 * (edges[:-1] + edges[1:]) - 0.5 * (x + 1.0))[grid]
        self.centre = int(np.flatnonzero(np.all(np.isclose(self.nodes, 0.5), axis=1))[0])
        self.n_nodes = len(self.weights)
        offs = np.array(np.meshgrid(*([[0, 1]] * len(dims)), indexing="ij")).reshape(len(dims), -1).T
        self.child_offsets = np.zeros((len(offs), 3), dtype=np.int64)
        self.child_offsets[:, dims] = offs
        self.n_children = len(offs)
        self.recip = recip

    def size(self, level: np.ndarray) -> np.ndarray:
        """Cell sides in reduced coordinates, (n, 3); inactive directions have side 0."""
        return np.where(self.active[None, :], 1.0 / (self.mesh[None, :] * 2.0 ** level[:, None]), 0.0)

    def volume(self, level: np.ndarray) -> np.ndarray:
        """BZ fraction of each cell."""
        return 1.0 / (np.prod(self.mesh) * 2.0 ** (level * int(self.active.sum())))

    def origin(self, level: np.ndarray, corner: np.ndarray) -> np.ndarray:
        """Lower corner in reduced coordinates; coarse cells are centred on k = i/N."""
        return np.where(self.active[None, :], (corner / 2.0 ** level[:, None] - 0.5) / self.mesh[None, :], 0.0)

    def points(self, level: np.ndarray, corner: np.ndarray) -> np.ndarray:
        """All Gauss nodes of the cells, (n * n_nodes, 3)."""
        o, h = self.origin(level, corner), self.size(level)
        return np.mod(o[:, None, :] + h[:, None, :] * self.nodes[None, :, :], 1.0).reshape(-1, 3)

    def radius(self, level: np.ndarray) -> np.ndarray:
        """k-space half-diagonal of cells, 1/Angstrom."""
        side = self.size(level) * np.linalg.norm(self.recip, axis=1)[None, :]
        return 0.5 * np.sqrt((side**2).sum(axis=1))

    def children(self, level: np.ndarray, corner: np.ndarray):
        lev = np.repeat(level + 1, self.n_children)
        cor = (2 * corner[:, None, :] + self.child_offsets[None, :, :]).reshape(-1, 3)
        cor[:, ~self.active] = 0
        return lev, cor


def _evaluate_cells(evaluator, geo: _Geometry, level, corner, parallel: Parallel, boxes: bool = False,
                    progress: Progress | None = None):
    """Gauss values Q (n, n_out), embedded indicators (n, n_out), Fermi-shell lengths (n,) and shell
    contrasts (n, n_out) float32 of cells (the contrasts 0 with box occupations).

    The cells' nodes (cell by cell, node by node) are cut into batches of ``evaluator.batch_size``
    counted from the first node, and evaluated in rounds of whole batches (at most
    ``evaluator.round_points()`` nodes, at least one batch: memory is bounded by the budget, not by
    the number of cells of a level); a cell whose nodes straddle two rounds is completed in the
    second.  Every node is thus evaluated in the same batch, and every value summed in the same
    order, whatever the number of ranks, threads or the round size: the results are bit-identical.
    """
    nn, bs = geo.n_nodes, evaluator.batch_size
    n = len(level) * nn
    step = bs * max(1, evaluator.round_points() // bs)
    n_out = evaluator.n_outputs
    # filled round by round (no second copy of the level's cells); the contrasts are kept in float32
    out = (np.empty((len(level), n_out)), np.empty((len(level), n_out)), np.empty(len(level)),
           np.empty((len(level), n_out), dtype=np.float32))
    # nodes of a straddling cell: integrands, Fermi-shell lengths, contrasts
    carry = (np.empty((0, n_out)), np.empty(0), np.empty((0, n_out)))
    for a in range(0, n, step):
        b = min(n, a + step)
        c0, c1 = a // nn, -(-b // nn)  # the cells the round's nodes belong to
        F, ell, D = _evaluate_round(evaluator, geo, level[c0:c1], corner[c0:c1], a - c0 * nn, b - c0 * nn,
                                    parallel, boxes, progress)
        F, ell, D = (np.concatenate([c, x]) for c, x in zip(carry, (F, ell, D)))  # from node c0 * nn on
        done = len(ell) // nn
        values = _cell_values(geo, level[c0:c0 + done], F[:done * nn], ell[:done * nn], D[:done * nn])
        for whole, part in zip(out, values):
            whole[c0:c0 + done] = part
        carry = (F[done * nn:], ell[done * nn:], D[done * nn:])
    return out


def _evaluate_round(evaluator, geo: _Geometry, level, corner, lo: int, hi: int, parallel: Parallel,
                    boxes: bool, progress: Progress | None = None):
    """Integrands (hi - lo, n_out), Fermi-shell lengths and shell contrasts of nodes [lo, hi) of the cells
    (``lo`` on a batch boundary): each rank evaluates a contiguous run of whole batches, gathered in rank
    order.  Every node gets its box (``boxes``: box occupations; else for the contrast)."""
    k = geo.points(level, corner)[lo:hi]
    radius = np.repeat(geo.radius(level), geo.n_nodes)[lo:hi]
    box = (geo.size(level)[:, None, None, :] * geo.node_box[None]).reshape(-1, 2, 3)[lo:hi]
    return _evaluate_points(evaluator, k, radius, box, parallel, progress, contrast=not boxes)


def _evaluate_points(evaluator, k, radius, box, parallel: Parallel, progress: Progress | None = None,
                     contrast: bool = False):
    """Integrands (n, n_out), Fermi-shell lengths (n,) and shell contrasts (n, n_out) at the points k
    (reduced, cut into batches of the evaluator's batch size from the first): each rank evaluates a
    contiguous run of whole batches, gathered in rank order.  Without ``contrast`` the integrands are
    box-averaged (``box``) and the contrasts 0."""
    bs, n_out = evaluator.batch_size, evaluator.n_outputs
    first, last = parallel.split_range(-(-len(k) // bs))  # this rank's batches
    s, e = first * bs, min(len(k), last * bs)
    with parallel.stop_all_on_error():
        if e <= s:
            F, ell, D = np.empty((0, n_out)), np.empty(0), np.empty((0, n_out))
        elif contrast:
            F, ell, D = evaluator(k[s:e], radius[s:e], box[s:e], contrast=True)
        else:
            F, ell = evaluator(k[s:e], radius[s:e], None if box is None else box[s:e])
            D = np.zeros_like(F)
    if progress is not None:
        progress.advance(max(0, e - s))
    both = parallel.allgather_rows(np.concatenate([F, D, ell[:, None]], axis=1))
    return both[:, :n_out], both[:, -1], both[:, n_out:-1]


def _gauss_sum(geo: _Geometry, level, F: np.ndarray) -> np.ndarray:
    """Gauss-Legendre values of cells from their nodes' values F (n_cells, n_nodes, n_out), summed node by
    node (the same order for any grouping of cells)."""
    acc = geo.weights[0] * F[:, 0]
    for q in range(1, geo.n_nodes):
        acc += geo.weights[q] * F[:, q]
    return acc * geo.volume(level)[:, None]


def _cell_values(geo: _Geometry, level, F: np.ndarray, ell: np.ndarray, D: np.ndarray):
    """Gauss values, embedded indicators, Fermi-shell lengths and shell contrasts of cells from their
    nodes' integrands F and contrasts D (n_cells * n_nodes, n_out)."""
    F = F.reshape(len(level), geo.n_nodes, -1)
    Q = _gauss_sum(geo, level, F)
    emb = np.abs(Q - F[:, geo.centre, :] * geo.volume(level)[:, None])
    shell = _gauss_sum(geo, level, D.reshape(F.shape))
    return Q, emb, ell.reshape(len(level), geo.n_nodes).min(axis=1), shell


def _cells(evaluator, geo: _Geometry, level, corner, parallel: Parallel, settings: AdaptiveSettings,
           progress: Progress | None, label: str, reduction: Reduction | None = None, keep=None):
    """Gauss values, embedded indicators, Fermi-shell lengths, shell contrasts of cells, the lengths of the
    steps of the reduction's weight in them (inf: none) and the k-points evaluated: :func:`_evaluate_cells`,
    or :func:`_evaluate_weighted_cells` with a reduction."""
    if reduction is not None:
        return _evaluate_weighted_cells(evaluator, geo, level, corner, parallel, settings.box_occupations,
                                        progress, label, reduction, keep)
    if progress is not None:
        progress.start(label, len(level) * geo.n_nodes)
    Q, emb, ell, shell = _evaluate_cells(evaluator, geo, level, corner, parallel, settings.box_occupations,
                                         progress)
    return Q, emb, ell, shell, np.full(len(level), np.inf), len(level) * geo.n_nodes


def _node_weights(weight, k: np.ndarray, parallel: Parallel) -> np.ndarray:
    """weight(k) at the points k (n, 3), each rank a contiguous share, gathered in rank order (a point's
    weight does not depend on the share it is computed in)."""
    s, e = parallel.split_range(len(k))
    with parallel.stop_all_on_error():
        mine = np.asarray(weight(k[s:e]), dtype=float).reshape(-1) if e > s else np.empty(0)
    return parallel.allgather_rows(mine)


def _evaluate_weighted_cells(evaluator, geo: _Geometry, level, corner, parallel: Parallel, boxes: bool,
                             progress: Progress | None, label: str, reduction: Reduction, keep=None):
    """:func:`_evaluate_cells` of the weighted integrand w(k) F(k): nodes where w = 0 (and every node of a
    cell with ``keep`` False) are not evaluated (F = 0 there); a cell whose nodes' weights differ gets a
    Fermi-shell length of at most ``reduction.width``.  The other nodes are cut into batches from
    the level's first such node and evaluated in rounds of whole batches; every cell sums its nodes in
    node order (zeros included): bit-identical for any ranks, threads or round size.  Returns
    (Q, emb, ell, shell contrasts, the lengths of w's steps, the k-points evaluated)."""
    nn, n, n_out = geo.n_nodes, len(level), evaluator.n_outputs
    k = geo.points(level, corner)
    w = np.zeros(n * nn)
    on = np.flatnonzero(np.repeat(np.ones(n, dtype=bool) if keep is None else keep, nn))
    w[on] = _node_weights(reduction.weight, k[on], parallel)
    active = np.flatnonzero(w > 0)
    if progress is not None:
        progress.start(label, len(active))
    radius = np.repeat(geo.radius(level), nn)
    box = (geo.size(level)[:, None, None, :] * geo.node_box[None]).reshape(-1, 2, 3)
    acc, centre, contrast = np.zeros((n, n_out)), np.zeros((n, n_out)), np.zeros((n, n_out))
    wn = w.reshape(n, nn)
    ell_w = np.where(wn.max(axis=1) > wn.min(axis=1), reduction.width, np.inf)  # a step of w in the cell
    ell = ell_w.copy()
    bs = evaluator.batch_size
    step = bs * max(1, evaluator.round_points() // bs)
    for a in range(0, len(active), step):
        idx = active[a:a + step]
        F, ell_k, D = _evaluate_points(evaluator, k[idx], radius[idx], box[idx], parallel, progress,
                                       contrast=not boxes)
        F *= w[idx, None]
        D *= w[idx, None]
        cell, node = np.divmod(idx, nn)
        for q in range(nn):  # node by node: within a round, a cell's nodes come in node order
            sel = node == q
            acc[cell[sel]] += geo.weights[q] * F[sel]
            contrast[cell[sel]] += geo.weights[q] * D[sel]
            if q == geo.centre:
                centre[cell[sel]] = F[sel]
        np.minimum.at(ell, cell, ell_k)
    vol = geo.volume(level)[:, None]
    Q = acc * vol
    return Q, np.abs(Q - centre * vol), ell, contrast * vol, ell_w, len(active)


#: a tensor is judged relative to at least this fraction of its quantity's largest value on the
#: (T, mu) grid (an in-gap sigma^s ~ exp(-gap/2kT) needs no relative accuracy of its own)
_GRID_FLOOR = 1e-3
#: ... and relative to at least this fraction of sum_c |Q_c| (no chasing of round-off)
_ROUNDOFF_FLOOR = 1e-11


def _scales(value: np.ndarray, magnitude: np.ndarray, evaluator, abs_tolerance: float) -> np.ndarray:
    """Per-component error scale.

    For each quantity and (T, mu): its tensor's largest |component|, but at least
    ``_GRID_FLOOR`` times the quantity's largest value over the grid and ``_ROUNDOFF_FLOOR``
    times the integral of |F| (``magnitude``), plus ``abs_tolerance``.
    """
    out = []
    for p, mag in zip(evaluator.split(np.abs(value)), evaluator.split(magnitude)):
        m = np.max(p, axis=tuple(range(2, p.ndim)), keepdims=True)  # (nT, nmu, 1[, 1])
        m = np.maximum(m, _GRID_FLOOR * np.max(p))
        m = np.maximum(m, _ROUNDOFF_FLOOR * np.max(mag, axis=tuple(range(2, p.ndim)), keepdims=True))
        out.append(np.broadcast_to(m, p.shape).reshape(-1))
    return np.concatenate(out) + abs_tolerance


def _judged_scale(scale: np.ndarray, error: np.ndarray) -> np.ndarray:
    """The scale each component's error is judged against: :func:`_scales`, but for a component
    whose scale is 0 (a quantity identically zero so far, and no ``abs_tolerance``) its own error.
    A zero error there counts as converged (ratio 0, see :func:`_ratio`); a nonzero one counts as
    a relative error of 1, so its cells are refined (to zero error if the integrand is zero there)."""
    return np.where(scale > 0, scale, error)


def _ratio(error: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """error / scale, 0 where the scale is 0 (no NaN: a zero error on a zero scale is converged)."""
    return np.divide(error, scale, out=np.zeros(np.broadcast(error, scale).shape, dtype=np.result_type(error, scale)),
                     where=scale > 0)


def integrate_adaptive(*, evaluator, settings: AdaptiveSettings, parallel: Parallel | None = None,
                       restart: str | None = None, signature: dict | None = None,
                       reduction: Reduction | None = None) -> AdaptiveResult:
    """Integrate ``evaluator`` over the BZ adaptively; see the module docstring.

    Parameters
    ----------
    evaluator : wbentropy.evaluate.Evaluator
        Maps k-points (n, 3) and cell radii (n,) to integrand vectors (n, n_outputs) and
        Fermi-shell lengths (n,).
    settings : AdaptiveSettings
    parallel : Parallel, optional
    restart : str, optional
        Checkpoint file to resume from.
    signature : dict, optional
        Run description (inputs, quantities, grid, options) stored in checkpoints and
        compared on restart, so that a checkpoint cannot resume a different run.
    reduction : Reduction, optional
        Integrate w F over the support of the weight and report ``project`` of it, with the error
        ``bound`` of the estimate (see "Reduction by symmetry" in the module docstring).

    Returns
    -------
    AdaptiveResult
    """
    parallel = parallel or Parallel(None)
    geo = _Geometry(settings.coarse_mesh, settings.order, evaluator.reciprocal_lattice)
    signature = dict(signature or {})
    signature.update({"coarse_mesh": [int(x) for x in geo.mesh], "n_outputs": int(evaluator.n_outputs),
                      "order": settings.order, "rules": _RULES, "box_occupations": settings.box_occupations})
    if reduction is not None:  # a run without it has no such entry: its checkpoints stay as they were
        signature["reduction"] = reduction.label
    t0 = time.perf_counter()
    # a quantity lives in the thermal shell and has no a-priori shell error (see the docstring)
    shell_forced = evaluator.fermi_weighted if settings.box_occupations else evaluator.shell_unaveraged
    # the children of a cell an unresolved thermal shell crosses take the step factor, unless the shell
    # contrasts carry that error (node occupations, no quantity with an unaveraged shell weight)
    thermal_steps = settings.box_occupations or shell_forced
    contrasts = not thermal_steps  # the reported error's random group: see :func:`_error`
    progress = Progress(enabled=settings.progress and parallel.is_root, ranks=parallel.size)
    leaves, n_eval, level, history = _start(evaluator, geo, settings, parallel, restart, signature, progress,
                                            reduction)
    converged = False
    while True:
        value, error, magnitude = _totals(geo, leaves, reduction, contrasts)
        scale = _judged_scale(_scales(value, magnitude, evaluator, settings.abs_tolerance), error)
        rel = float(np.max(_ratio(error, scale)))
        unresolved = _unresolved(geo, leaves, shell_forced, reduction)
        history.append({"level": level, "kpoints": n_eval, "rel_error": rel, "leaves": len(leaves),
                        "unresolved_fermi_cells": int(unresolved.sum())})
        _progress(settings, parallel, level, n_eval, rel, int(unresolved.sum()), time.perf_counter() - t0)
        if settings.on_level is not None:
            settings.on_level(level, n_eval, value, error)
        if settings.checkpoint:
            _save_checkpoint(settings.checkpoint, parallel, leaves, n_eval, level, history, signature)
        if rel <= settings.tolerance and not unresolved.any():
            converged = True
            break
        budget_cells = _budget_cells(settings, geo, evaluator, len(leaves), n_eval) \
            if level < settings.max_levels else 0
        if budget_cells <= 0:
            break
        indicator = _indicator(leaves, scale, reduction)
        marked, _ = _mark(indicator, unresolved, budget_cells)
        leaves, added, _ = _refine(evaluator, geo, settings, parallel, leaves, marked, thermal_steps, progress,
                                   f"adaptive, level {level + 1}", reduction)
        n_eval += added
        level += 1
    progress.finish()
    value, error, _ = _totals(geo, leaves, reduction, contrasts)
    return AdaptiveResult(value=value, error=error, n_evaluations=n_eval, levels=level, n_leaves=len(leaves),
                          converged=converged, history=history)


def _totals(geo: _Geometry, leaves: _Leaves, reduction: Reduction | None, contrasts: bool):
    """The integral, its error estimate (:func:`_error`) and the integral of |F| (for the round-off floor),
    flat; with a reduction, ``project`` of the integral and ``bound`` of the others."""
    value = leaves.Q.sum(axis=0)
    error = _error(geo, leaves, contrasts)
    magnitude = np.abs(leaves.Q).sum(axis=0)
    if reduction is None:
        return value, error, magnitude
    return reduction.project(value), reduction.bound(error), reduction.bound(magnitude)


def _indicator(leaves: _Leaves, scale: np.ndarray, reduction: Reduction | None) -> np.ndarray:
    """Each leaf's largest error share relative to the scale of the component it enters: err / scale; with
    a reduction, err_j times sum_i bound_ij / scale_i (bound self-adjoint), what e_j adds to the ratios."""
    err = leaves.err + _SHELL_WEIGHT * np.abs(leaves.shell)
    if reduction is None:
        return np.max(_ratio(err, scale.astype(np.float32)), axis=1).astype(np.float64)
    sensitivity = reduction.bound(_ratio(np.ones_like(scale), scale))  # float64: 1/scale may exceed float32
    return np.max(err * sensitivity[None, :], axis=1)


def _start(evaluator, geo: _Geometry, settings: AdaptiveSettings, parallel: Parallel, restart: str | None,
           signature: dict, progress: Progress | None = None, reduction: Reduction | None = None):
    """The leaves, k-points evaluated, level and history to start from: the checkpoint ``restart``, or the
    coarse level evaluated now (with a reduction: its cells where the weight may be > 0)."""
    if restart is not None:
        state = _load_checkpoint(restart, signature)
        leaves, n_eval, level, history = state["leaves"], state["n_eval"], state["level"], state["history"]
        logger.info("restarted from %s at level %d (%d k-points)", restart, level, n_eval)
        return leaves, n_eval, level, history
    nk0 = int(np.prod(geo.mesh))
    if nk0 * geo.n_nodes > settings.max_kpoints:
        raise InputError(f"the coarse mesh needs {nk0 * geo.n_nodes} k-points ({geo.n_nodes} Gauss nodes per "
                         f"cell), more than {{max_kpoints}} {settings.max_kpoints}", param="max_kpoints")
    corner = np.stack(np.unravel_index(np.arange(nk0), tuple(geo.mesh)), axis=1).astype(np.int64)
    lev = np.zeros(nk0, dtype=np.int64)
    if reduction is not None:
        lev, corner = _coarse_wedge_cells(geo, lev, corner, reduction, parallel)
        logger.info("%s: %d cells instead of %d coarse cells", reduction.label, len(lev), nk0)
    Q, emb, ell, shell, _, n_eval = _cells(evaluator, geo, lev, corner, parallel, settings, progress,
                                           "adaptive, coarse mesh", reduction)
    return _Leaves(lev, corner, Q, emb.astype(np.float32), ell, _thin(geo, lev, ell, shell)), n_eval, 0, []


#: times a coarse cell that the reduction's filter keeps but whose nodes all have weight 0 is split
#: before the first evaluation (it may hold a sliver of the weight's support that no node sees)
_PRESPLIT_DEPTH = 3


def _coarse_wedge_cells(geo: _Geometry, lev, corner, reduction: Reduction, parallel: Parallel):
    """The coarse cells of a reduced run: those the filter keeps, where a cell whose nodes all have w = 0
    is replaced by its children (up to ``_PRESPLIT_DEPTH`` times), so that the Gauss nodes see every part
    of the support of w that a coarse cell only grazes (measured on bcc Fe: up to 0.4 % of int w)."""
    done_l, done_c = [], []
    for depth in range(_PRESPLIT_DEPTH + 1):
        keep = reduction.keep_cells(geo.origin(lev, corner), geo.size(lev))
        lev, corner = lev[keep], corner[keep]
        if depth == _PRESPLIT_DEPTH:
            break
        w = _node_weights(reduction.weight, geo.points(lev, corner), parallel).reshape(len(lev), geo.n_nodes)
        blind = w.max(axis=1) == 0
        done_l.append(lev[~blind])
        done_c.append(corner[~blind])
        lev, corner = geo.children(lev[blind], corner[blind])
    return np.concatenate(done_l + [lev]), np.concatenate(done_c + [corner])


def _budget_cells(settings: AdaptiveSettings, geo: _Geometry, evaluator, n_leaves: int, n_eval: int) -> int:
    """How many cells the next level may split: the k-point budget left, and the memory of the leaves."""
    cost = geo.n_children * geo.n_nodes
    budget_cells = (settings.max_kpoints - n_eval) // cost
    # leaves store Q (float64), err and shell (float32) per output: keep that under the memory budget
    leaf_bytes = 16 * evaluator.n_outputs + 64
    room = int(settings.max_leaf_memory_mb * 2**20 // leaf_bytes) - n_leaves
    if room < budget_cells * geo.n_children:
        budget_cells = max(0, room // geo.n_children)
        if budget_cells == 0:
            logger.warning("adaptive integration stopped: the leaf cells would exceed %.0f MB "
                           "(%d outputs per cell: fewer (T, mu) points or quantities allow more refinement)",
                           settings.max_leaf_memory_mb, evaluator.n_outputs)
    return budget_cells


def _refine(evaluator, geo: _Geometry, settings: AdaptiveSettings, parallel: Parallel, leaves: _Leaves,
            marked: np.ndarray, thermal_steps: bool, progress: Progress | None = None, label: str = "",
            reduction: Reduction | None = None):
    """Split the ``marked`` leaves into 2^D children, each with its own Gauss rule (with a reduction,
    children where the weight is 0 everywhere are neither evaluated nor kept).

    Returns the new leaves, the k-points evaluated, and the change of the integral by each split cell
    (children's Gauss values minus the parent's, (n_split, n_out), the split cells in memory order).
    """
    n_mark = int(marked.sum())
    parents = leaves.take(marked)
    clev, ccor = geo.children(parents.level, parents.corner)
    keep = None if reduction is None else reduction.keep_cells(geo.origin(clev, ccor), geo.size(clev))
    Q, emb, ell, shell, ell_w, n_eval = _cells(evaluator, geo, clev, ccor, parallel, settings, progress, label,
                                               reduction, keep)
    nc = geo.n_children
    Qf = Q.reshape(n_mark, nc, -1)
    change = Qf.sum(axis=1) - parents.Q
    family = np.abs(change) * _family_factor(geo, clev, ell, n_mark, None if thermal_steps else ell_w)
    embf = emb.reshape(n_mark, nc, -1)
    total = embf.sum(axis=1, keepdims=True)
    share = np.where(total > 0, embf / np.where(total > 0, total, 1.0), 1.0 / nc)
    cerr = (family[:, None, :] * share).reshape(n_mark * nc, -1).astype(np.float32)
    children = _Leaves(clev, ccor, Q, cerr, ell, _thin(geo, clev, ell, shell))
    leaves = _Leaves.concat(leaves.take(~marked), children if keep is None else children.take(keep))
    return leaves, n_eval, change


def _unresolved(geo: _Geometry, leaves: _Leaves, shell_forced: bool, reduction: Reduction | None) -> np.ndarray:
    """Cells to split whatever their error share: a Fermi shell thinner than ``1/_SHELL_RESOLUTION`` of the
    cell when a requested weight has no a-priori shell error, and, with a reduction, a step of the weight w
    (Fermi-shell length at most ``reduction.width``) in a cell wider than ``_WEDGE_RESOLUTION`` times it:
    the Gauss nodes of a wider cell may sit in the exponentially small tail of w's step and see neither it
    nor an error (measured: 3e-3 of the integral of a constant lost for good with a width of 0.02 |b|)."""
    radius = geo.radius(leaves.level)
    out = (radius > _SHELL_RESOLUTION * leaves.ell) & shell_forced
    if reduction is not None and np.isfinite(reduction.width):
        out |= (leaves.ell <= reduction.width) & (radius > _WEDGE_RESOLUTION * reduction.width)
    return out


def _mark(indicator: np.ndarray, unresolved: np.ndarray, budget_cells: int) -> tuple[np.ndarray, np.ndarray]:
    """Cells to split (bool mask, and their indices in the order taken): every unresolved Fermi-shell
    cell and the smallest set of the others carrying ``_DORFLER`` of their total indicator, at most
    ``budget_cells``, at least one.  Unresolved cells come first, each group by descending indicator,
    ties by position, so that a level cut short by the budget splits the worst unresolved cells (not
    the first in memory): the cells split under a smaller budget are a prefix of that order."""
    order = np.lexsort((np.arange(len(indicator)), -indicator, ~unresolved))
    cum = np.cumsum(np.where(unresolved[order], 0.0, indicator[order]))
    n_unresolved = int(unresolved.sum())  # the prefix of ``order``, where cum is still 0
    n_mark = int(np.searchsorted(cum, _DORFLER * cum[-1]) + 1) if cum[-1] > 0 else n_unresolved
    taken = order[:max(1, min(n_mark, budget_cells, len(order)))]
    marked = np.zeros(len(indicator), dtype=bool)
    marked[taken] = True
    return marked, taken


def _thin(geo: _Geometry, level, ell, shell) -> np.ndarray:
    """The shell contrasts of cells (float32) where the shell is thin on their scale (radius above
    ``_CONTRAST_RESOLUTION`` k_B T/|v|); 0 elsewhere, where the Gauss rule resolves the shell better than
    the box means (their difference is then the box means' own error, not the nodes')."""
    out = np.array(shell, dtype=np.float32)
    out[~(geo.radius(level) > _CONTRAST_RESOLUTION * ell)] = 0.0
    return out


def _family_factor(geo: _Geometry, clev, ell, n_families: int, ell_w=None) -> np.ndarray:
    """(n_families, 1) ratio of the children's error to their parent's (see the module docstring): the step
    factor where a child's radius is above ``_STEP_RESOLUTION`` times ``ell`` (with ``ell_w``, the steps of
    the reduction's weight, ``ell`` only up to ``_CONTRAST_RESOLUTION`` times it: beyond, the shell contrasts
    carry the thermal shell's error)."""
    ratio = geo.radius(clev) / ell
    step = ratio > _STEP_RESOLUTION
    if ell_w is not None:
        step = (step & (ratio <= _CONTRAST_RESOLUTION)) | (geo.radius(clev) > _STEP_RESOLUTION * ell_w)
    step = step.reshape(n_families, -1).any(axis=1)
    return np.where(step, _STEP_FACTOR, _FAMILY_FACTOR)[:, None]


def _error(geo: _Geometry, leaves: _Leaves, contrasts: bool) -> np.ndarray:
    """Reported error of every output (see the module docstring): the error shares of the leaves whose
    radius is above ``_STEP_RESOLUTION`` times their Fermi-shell length (random signs; above
    ``_RANDOM_RESOLUTION`` times it only with ``contrasts``, which carry the errors of one sign there) add up
    in quadrature, ``_RANDOM_Z`` standard deviations (``_RANDOM_Z_NO_CONTRAST`` without contrasts); all others
    linearly; the shell
    contrasts add ``_SHELL_BIAS`` |their sum| and ``_SHELL_Z`` sqrt(sum of their squares).  Sums in float64
    without float64 copies of the (leaves, outputs) arrays."""
    err, shell = leaves.err, leaves.shell
    ratio = np.divide(geo.radius(leaves.level), leaves.ell, out=np.full(len(leaves), np.inf), where=leaves.ell > 0)
    rnd = (ratio > _STEP_RESOLUTION) & ((ratio <= _RANDOM_RESOLUTION) | contrasts)
    linear = np.sum(err, axis=0, dtype=np.float64, where=~rnd[:, None])
    random = np.einsum("ij,ij->j", err[rnd], err[rnd], dtype=np.float64)
    z = _RANDOM_Z if contrasts else _RANDOM_Z_NO_CONTRAST
    return linear + z * np.sqrt(random) + _SHELL_BIAS * np.abs(np.sum(shell, axis=0, dtype=np.float64)) \
        + _SHELL_Z * np.sqrt(np.einsum("ij,ij->j", shell, shell, dtype=np.float64))


def _progress(settings, parallel, level, n_eval, rel, unresolved, elapsed) -> None:
    """The line logged (INFO) after each level; the report within a level is :class:`Progress`'s."""
    logger.info(f"level {level:2d}  k-points {n_eval:>10d}  error {rel:9.2e} (target {settings.tolerance:.1e})  "
                f"unresolved Fermi cells {unresolved:>7d}  {elapsed:7.1f} s")


#: the leaf arrays of a checkpoint: name -> (dtype kind(s) accepted, trailing shape; "out" = n_outputs)
_LEAF_FIELDS = {"level": ("iu", ()), "corner": ("iu", (3,)), "Q": ("f", ("out",)), "err": ("f", ("out",)),
                "ell": ("f", ()), "shell": ("f", ("out",))}
#: how a signature entry is named in messages (``{param}``: the parameter that sets it, where there is one)
_SIGNATURE_LABELS = {"quantities": "{quantities}", "temperature": "{temperatures}", "mu": "{mus}",
                     "tau_fs": "{tau_fs}", "form": "{entropy_production_form}", "degen_thresh": "{degen_thresh}",
                     "omegas": "{omegas}", "smearing": "{smearing}", "smearing_width": "{smearing} width",
                     "tolerance": "{tolerance}", "abs_tolerance": "{abs_tolerance}",
                     "max_kpoints": "{max_kpoints}", "coarse_mesh": "{kmesh}",
                     "box_occupations": "{box_occupations}", "num_wann": "num_wann",
                     "n_outputs": "outputs per k-point", "order": "Gauss-Legendre order",
                     "rules": "refinement rules", "reduction": "the reduction by symmetry"}
_RESTART_HINT = "start without {restart} (or restore the inputs and options of the checkpoint's run)"


def _leaf_digest(leaves: "_Leaves", n_eval: int, level: int, history: str) -> str:
    """sha256 of a checkpoint's state (leaf arrays, counters, history), to detect a damaged file."""
    import hashlib

    h = hashlib.sha256(f"{n_eval};{level};{history};".encode())
    for f in _LEAF_FIELDS:
        a = np.ascontiguousarray(getattr(leaves, f))
        h.update(f"{f}:{a.dtype.str}:{a.shape};".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _save_checkpoint(path, parallel, leaves, n_eval, level, history, signature) -> None:
    if not parallel.is_root:
        return
    from ..io.outputs import atomic_hdf5

    history_json = json.dumps(history)
    with atomic_hdf5(path) as h:
        for f in _LEAF_FIELDS:
            h.create_dataset(f"leaf_{f}", data=getattr(leaves, f))
        h.attrs["n_evaluations"] = n_eval
        h.attrs["level"] = level
        h.attrs["history"] = history_json
        h.attrs["signature"] = json.dumps(signature, sort_keys=True)
        h.attrs["state_sha256"] = _leaf_digest(leaves, n_eval, level, history_json)


def _load_checkpoint(path, signature) -> dict:
    """Read a checkpoint written by :func:`_save_checkpoint` for the run described by ``signature``.

    Raises
    ------
    InputError
        Naming the checkpoint, if it is missing, not an HDF5 file, not a checkpoint, damaged
        (arrays of the wrong shape or type, missing entries, contents that do not match their
        checksum), written by an older wbentropy, or made by a different run (saying what differs).
    """
    import h5py

    if not Path(path).is_file():
        raise InputError("checkpoint file not found", path=path)
    try:
        h = h5py.File(path, "r")
    except (OSError, ValueError):
        raise InputError(f"not an HDF5 file (truncated, damaged or not a checkpoint): {_RESTART_HINT}",
                         param="restart", path=path) from None
    try:
        with h:
            return _read_checkpoint(h, path, json.loads(json.dumps(signature, sort_keys=True)))
    except InputError:
        raise
    except (OSError, KeyError, ValueError, TypeError) as exc:  # h5py's errors on a damaged file
        raise InputError(f"damaged checkpoint ({type(exc).__name__}: {exc}): {_RESTART_HINT}",
                         param="restart", path=path) from None


def _read_checkpoint(h, path, signature: dict) -> dict:
    """:func:`_load_checkpoint` on the open HDF5 file ``h``: signature first, then every entry's presence,
    shape and type, then the checksum of the state."""
    import h5py

    if "signature" not in h.attrs:
        raise InputError("not a wbentropy checkpoint (an HDF5 file without a run signature): give the file "
                         "that {checkpoint} wrote", param="restart", path=path)
    try:
        saved = json.loads(h.attrs["signature"])
    except (TypeError, ValueError):
        saved = None
    if not isinstance(saved, dict):
        raise InputError(f"damaged checkpoint: its run signature is not a JSON object: {_RESTART_HINT}",
                         param="restart", path=path)
    problem = _signature_mismatch(saved, signature)
    if problem:
        raise InputError(problem, param="restart", path=path)
    missing = [name for name in [f"leaf_{f}" for f in _LEAF_FIELDS] if name not in h] + \
        [name for name in ("n_evaluations", "level", "history", "state_sha256") if name not in h.attrs]
    if missing:
        raise InputError(f"damaged checkpoint: {', '.join(missing)} missing: {_RESTART_HINT}",
                         param="restart", path=path)
    arrays = {}
    n_out = signature.get("n_outputs")
    for f, (kinds, tail) in _LEAF_FIELDS.items():
        d = h[f"leaf_{f}"]
        want = tuple(n_out if t == "out" else t for t in tail)
        if not isinstance(d, h5py.Dataset) or d.dtype.kind not in kinds or d.ndim != 1 + len(want) \
                or tuple(d.shape[1:]) != want or d.shape[0] != h["leaf_level"].shape[0]:
            raise InputError(f"damaged checkpoint: leaf_{f} is {_describe(d)}, expected "
                             f"{'integer' if kinds == 'iu' else 'float'} (n{''.join(f', {w}' for w in want)}) "
                             f"with n the number of leaf cells: {_RESTART_HINT}", param="restart", path=path)
        arrays[f] = d[()]
    leaves = _Leaves(*(arrays[f] for f in _LEAF_FIELDS))
    try:
        n_eval, level, history_json = int(h.attrs["n_evaluations"]), int(h.attrs["level"]), str(h.attrs["history"])
        history = json.loads(history_json)
    except (TypeError, ValueError):
        raise InputError(f"damaged checkpoint: its counters or history are unreadable: {_RESTART_HINT}",
                         param="restart", path=path) from None
    if len(leaves) == 0 or not isinstance(history, list) or not history \
            or _leaf_digest(leaves, n_eval, level, history_json) != str(h.attrs["state_sha256"]):
        raise InputError(f"damaged checkpoint: its contents do not match the checksum written with them: "
                         f"{_RESTART_HINT}", param="restart", path=path)
    return {"leaves": leaves, "n_eval": n_eval, "level": level, "history": history[:-1]}


def _describe(obj) -> str:
    """Shape and type of an HDF5 object, for messages."""
    if not hasattr(obj, "dtype"):
        return "a group, not an array"
    return f"{obj.dtype} {tuple(obj.shape)}"


def _signature_mismatch(saved: dict, current: dict) -> str | None:
    """Why a checkpoint with signature ``saved`` cannot resume the run ``current`` (None if it can)."""
    version = current.get("signature_version")
    if saved.get("signature_version") != version:
        if "signature_version" not in saved:
            return ("checkpoint of an older wbentropy: it does not record the contents of the input files, so it "
                    f"cannot be checked against this run: {_RESTART_HINT}")
        return (f"checkpoint of another wbentropy version (signature layout {saved.get('signature_version')!r}, "
                f"this one {version!r}): {_RESTART_HINT}")
    diffs = _file_differences(saved.get("input_files"), current.get("input_files"))
    if not diffs and saved.get("model_sha256") != current.get("model_sha256"):
        diffs.append(f"a different model (the numbers of H(R), r(R), the R vectors or the lattice differ: "
                     f"sha256 {_short_hash(saved.get('model_sha256'))} then, "
                     f"{_short_hash(current.get('model_sha256'))} now)")
    keys = [k for k in sorted(set(saved) | set(current))
            if k not in ("signature_version", "input_files", "model_sha256") and saved.get(k) != current.get(k)]
    if len(keys) > 1 and "n_outputs" in keys:  # follows from the options that differ: say those
        keys.remove("n_outputs")
    diffs += [f"{_SIGNATURE_LABELS.get(k, k)} {_show(saved.get(k))} (now {_show(current.get(k))})" for k in keys]
    if not diffs:
        return None
    return f"checkpoint belongs to a different run: it was made with {'; with '.join(diffs)}: {_RESTART_HINT}"


def _file_differences(saved, current) -> list[str]:
    """Input files whose contents differ between two signatures' ``input_files`` (role -> file, sha256)."""
    saved, current = saved if isinstance(saved, dict) else {}, current if isinstance(current, dict) else {}
    out = []
    for role in sorted(set(saved) | set(current)):
        old, new = saved.get(role), current.get(role)
        if old == new or (isinstance(old, dict) and isinstance(new, dict) and old.get("sha256") == new.get("sha256")):
            continue  # same contents, whatever the file is called now
        if not isinstance(old, dict):
            out.append(f"no {role} file (now {new['file']})")
        elif not isinstance(new, dict):
            out.append(f"{role} file {old.get('file')} (now none)")
        else:
            out.append(f"a different {new['file']} (its contents changed since the checkpoint: sha256 "
                       f"{_short_hash(old.get('sha256'))} then, {_short_hash(new['sha256'])} now)")
    return out


def _short_hash(h) -> str:
    """The first 12 hex digits of a digest, for messages."""
    return f"{str(h)[:12]}..."


def _show(value) -> str:
    """A signature value as a user would type it (numbers space-separated, names comma-separated)."""
    if isinstance(value, list):  # names as in --quantities a,b; numbers as in --mu 0 0.5
        sep = "," if value and all(isinstance(v, str) for v in value) else " "
        return sep.join(_show(v) for v in value) if value else "(none)"
    if value is None:
        return "(not given)"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
