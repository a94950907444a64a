"""Per-k evaluation of a run's quantities: band geometry of a batch -> integrand sums.

:class:`Evaluator` joins the Wannier interpolation (:mod:`wbentropy.kspace`), the band geometry and
the catalogue of quantities (:mod:`wbentropy.quantities`) into the batch functions that the
integrators of :mod:`wbentropy.integrate` call; it also counts what the sampling missed
(:class:`SamplingStats`).
"""
from __future__ import annotations

import dataclasses
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from .integrate.boxes import box_of_linear_band, fermi_shell_length
from .integrate.parallel import Parallel
from .integrate.uniform import default_max_memory_mb, plan_memory
from .kspace.geometry import DEFAULT_DEGEN_THRESH, band_geometry
from .kspace.interpolation import Interpolator
from .model import TBModel
from .physics.occupation import kT_eV
from .quantities import Options, Quantity

__all__ = ["Evaluator", "SamplingStats", "sampling_warnings", "storage_shape", "needed_operators", "group_sums"]

logger = logging.getLogger(__name__)


#: A degenerate group whose bands are split by more than this fraction of ``degen_thresh`` is a
#: "near-threshold" merge (symmetry-protected degeneracies are split by round-off only) ...
DEGEN_NEAR_FRACTION = 0.1
#: ... and near-threshold merges at more than this fraction of the k-points trigger a warning.
DEGEN_WARN_FRACTION = 0.05
#: Fermi-surface sampling: k-points with a band within FERMI_SHELL_KT k_B T of mu sample the
#: thermal shell.  On a mesh that the Fermi surface crosses, a warning is given if they are fewer
#: than MIN_FERMI_SHELL_KPOINTS, or fewer than the k-points whose cell the Fermi surface crosses
#: (then the shell is thinner than a mesh cell and is sampled by chance).
FERMI_SHELL_KT = 3.0
MIN_FERMI_SHELL_KPOINTS = 100


@dataclass
class SamplingStats:
    """Counts gathered while evaluating k-points, for convergence warnings (they add up over ranks).

    Attributes
    ----------
    n_k : number of k-points evaluated
    n_degen_near : k-points where a degenerate group holds bands split by > DEGEN_NEAR_FRACTION * degen_thresh
    max_degen_split : largest splitting inside a degenerate group, eV
    n_shell : (nT, nmu) k-points with a band within FERMI_SHELL_KT k_B T of mu (when tracked)
    n_cross : (nmu,) k-points whose mesh cell a Fermi surface crosses, |E - mu| <= sum_i |v . cell_i| / 2
        (when tracked)
    """

    n_k: int
    n_degen_near: int
    max_degen_split: float
    n_shell: np.ndarray
    n_cross: np.ndarray

    @classmethod
    def zeros(cls, nT: int, nmu: int) -> "SamplingStats":
        return cls(0, 0, 0.0, np.zeros((nT, nmu), dtype=np.int64), np.zeros(nmu, dtype=np.int64))

    def __add__(self, other: "SamplingStats") -> "SamplingStats":
        return SamplingStats(self.n_k + other.n_k, self.n_degen_near + other.n_degen_near,
                             max(self.max_degen_split, other.max_degen_split), self.n_shell + other.n_shell,
                             self.n_cross + other.n_cross)


def sampling_warnings(stats: SamplingStats, *, degen_thresh: float, temperatures, mus,
                      fermi_tracked: bool) -> list[str]:
    """Messages for likely unconverged results from the counts of :class:`SamplingStats`."""
    out = []
    if stats.n_k and stats.n_degen_near > DEGEN_WARN_FRACTION * stats.n_k:
        out.append(f"the degenerate-band threshold {degen_thresh:g} eV merged bands split by up to "
                   f"{stats.max_degen_split:.2e} eV at {stats.n_degen_near} of {stats.n_k} k-points "
                   f"({100 * stats.n_degen_near / stats.n_k:.1f}%): they are treated as one degenerate group; "
                   "results may depend on --degen-thresh (lower it and compare)")
    if fermi_tracked:
        few = [(T, mu, int(stats.n_shell[iT, im]), int(stats.n_cross[im]))
               for iT, T in enumerate(temperatures) for im, mu in enumerate(mus)
               if T > 0 and stats.n_cross[im] > 0
               and stats.n_shell[iT, im] < max(MIN_FERMI_SHELL_KPOINTS, stats.n_cross[im])]
        if few:
            listed = "; ".join(f"T={T:g} K, mu={mu:g} eV: {n} k-points near mu, {c} crossed" for T, mu, n, c in few[:3])
            out.append(f"few k-points sample the Fermi surface ({listed}{'; ...' if len(few) > 3 else ''}). Of the "
                       f"{stats.n_k} k-points, fewer than {MIN_FERMI_SHELL_KPOINTS}, or fewer than those whose mesh "
                       f"cell a Fermi surface crosses, have a band within {FERMI_SHELL_KT:g} k_BT of mu: the thermal "
                       "shell is thinner than the mesh spacing, so Fermi-surface and entropy-weighted results are "
                       "likely unconverged; use a denser --kmesh or adaptive integration (--tolerance)")
    return out


def needed_operators(quantities: list[Quantity]) -> tuple[str, ...]:
    """The store operators a run's quantities need (:attr:`Quantity.operators`), "H" first, each once."""
    return tuple(dict.fromkeys(["H"] + [name for q in quantities for name in q.operators]))


def storage_shape(q: Quantity, *, temperatures, mus, options: Options) -> tuple[int, ...]:
    """Shape of one quantity's integral as stored in the flat output vector.

    (nT, nmu[, nomega], 3[, 3][, 2]): the frequency axis for quantities with ``omega_axis``,
    a trailing (re, im) axis for complex quantities (the integrators only see real numbers).
    """
    shape = (len(temperatures), len(mus))
    if q.omega_axis:
        shape += (len(options.omegas),)
    shape += (3,) if q.vector else (3,) * q.rank
    if q.complex_valued:
        shape += (2,)
    return shape


class Evaluator:
    """All requested integrands at any k-points, flattened to one vector per k-point.

    Parameters
    ----------
    model : TBModel
    quantities : list of Quantity
    temperatures : (nT,) K
    mus : (nmu,) eV
    options : Options
    degen_thresh : float
    parallel : Parallel, optional
        Used only to place the interpolator's R-space operators in node-shared memory.
    batch_size : int, optional
    max_memory_mb : float, optional
        Budget of the evaluation's arrays per rank (see :func:`plan_memory`); default
        :func:`default_max_memory_mb`.  It is shared by the rank's threads.
    threads : int, optional
        Threads of this rank's pool: batches are evaluated side by side (default
        :func:`wbentropy.integrate.threads.pool_size`: the rank's share of the node's cores).
    """

    def __init__(self, *, model: TBModel, quantities: list[Quantity], temperatures, mus, options: Options,
                 degen_thresh: float = DEFAULT_DEGEN_THRESH, parallel: Parallel | None = None,
                 batch_size: int | None = None, max_memory_mb: float | None = None,
                 threads: int | None = None) -> None:
        from .errors import InputError
        from .integrate.threads import pool_size

        if threads is not None and threads < 1:
            raise InputError(f"--threads must be >= 1, got {threads}")
        self.threads = int(threads) if threads is not None else pool_size()
        self.model = model
        self.quantities = quantities
        self.temperatures = np.asarray(temperatures, dtype=float)
        self.mus = np.asarray(mus, dtype=float)
        self.options = options
        self.degen_thresh = degen_thresh
        shared = parallel if parallel is not None and parallel.size > 1 else None
        for q in quantities:  # "AA" may be absent: the Berry connection is then zero
            missing = [name for name in q.operators if name not in model.operators and name != "AA"]
            if missing:
                raise InputError(f"{q.name} needs the operator {', '.join(missing)}, which the model does not hold "
                                 f"(it holds {', '.join(model.operators)})")
        self.interp = Interpolator(model=model, operators=needed_operators(quantities),
                                   second_derivatives=any(q.needs_second_derivatives for q in quantities),
                                   parallel=shared)
        self.shapes = [storage_shape(q, temperatures=self.temperatures, mus=self.mus, options=options)
                       for q in quantities]
        self.sizes = [int(np.prod(s)) for s in self.shapes]
        self.n_outputs = sum(self.sizes)
        self.max_memory_default = max_memory_mb is None
        if max_memory_mb is None:
            # a budget per worker (rank x thread), so that every layout of the same cores cuts the
            # same batches; each pool thread holds one batch, the operators are shared (fixed_bytes)
            ranks = parallel.size if parallel is not None else 1
            max_memory_mb = self.threads * default_max_memory_mb(ranks=ranks * self.threads)
            if parallel is not None and parallel.size > 1:  # every rank must cut the same batches
                max_memory_mb = min(parallel.allgather(max_memory_mb))
        # the operators, and as much again while they are built (Interpolator._build_operators)
        fixed = 2 * self.interp.operator_bytes
        self.max_memory_mb = float(max_memory_mb)
        self.memory = plan_memory(max_memory_mb=max_memory_mb, fixed_bytes=fixed, threads=self.threads,
                                  default=self.max_memory_default,
                                  geometry_bytes_per_kpoint=self.interp.bytes_per_kpoint(),
                                  num_bands=model.num_wann, n_outputs=self.n_outputs,
                                  pairs=any(q.fermi_surface for q in quantities))
        self.options = dataclasses.replace(options, block_floats=self.memory.block_floats)
        self.batch_size = batch_size or self.memory.batch_size
        logger.info("memory plan: %d k-points per batch, integrand blocks of %d floats, bound %.0f MB",
                    self.batch_size, self.memory.block_floats, self.memory.bound_bytes / 2**20)
        self.stats = SamplingStats.zeros(len(self.temperatures), len(self.mus))
        self._stats_lock = threading.Lock()
        self._fermi_cell = None

    def round_points(self) -> int:
        """k-points an adaptive round may hand to :meth:`__call__` at once: its (points x outputs)
        arrays within a quarter of the budget, at least one batch per thread, at most 65536 (or
        one batch if that is larger); a whole number of batches.  The adaptive integrator's
        results do not depend on it (see :func:`wbentropy.integrate.adaptive._evaluate_cells`)."""
        per_point = 32 * self.n_outputs  # values, their gathered copy, weighted sums (float64)
        fit = int(self.max_memory_mb * 2**20 / 4 // per_point)
        return self.batch_size * max(self.threads, min(65536, fit) // self.batch_size)

    def map_batches(self, fn, items: list) -> list:
        """``[fn(x) for x in items]``, evaluated by this rank's thread pool; results in item order.
        A signal whose interruption was lost stops it before the next batch (:func:`check_interrupted`)."""
        from .integrate.parallel import check_interrupted

        def checked(x):
            check_interrupted()
            return fn(x)

        if self.threads <= 1 or len(items) <= 1:
            return [checked(x) for x in items]
        pool = ThreadPoolExecutor(max_workers=min(self.threads, len(items)), thread_name_prefix="wbentropy-batch")
        try:
            return list(pool.map(checked, items))
        finally:  # on Ctrl-C (or an error) drop the batches not started: stop within one batch
            pool.shutdown(wait=True, cancel_futures=True)

    @property
    def fermi_weighted(self) -> bool:
        """True if a quantity lives near the Fermi surface at T > 0 (-df/dE, 1/T, or the entropy weight s_n)."""
        return any(q.fermi_weighted for q in self.quantities)

    @property
    def shell_unaveraged(self) -> bool:
        """True if a quantity lives near the Fermi surface at T > 0 with a weight that is not averaged over
        occupation boxes (-df/dE, ...): the adaptive integrator must resolve its shell by geometry."""
        return any(q.fermi_weighted and not q.box_averaged for q in self.quantities)

    @property
    def fermi_tracked(self) -> bool:
        """True once :meth:`track_fermi_sampling` was called."""
        return self._fermi_cell is not None

    def track_fermi_sampling(self, *, cell: np.ndarray) -> None:
        """Count, per (T, mu), the k-points near the Fermi level (see :class:`SamplingStats`).

        ``cell`` (3, 3): the mesh cell's edge vectors (rows), 1/Angstrom; a band crosses mu inside
        the cell around a k-point if |E - mu| <= sum_i |v . cell_i| / 2 (to first order).
        """
        self._fermi_cell = np.asarray(cell, dtype=float)

    @property
    def reciprocal_lattice(self) -> np.ndarray:
        """Reciprocal lattice vectors (rows), 1/Angstrom."""
        return self.model.reciprocal_lattice

    def __call__(self, k: np.ndarray, radius: np.ndarray | None = None, box: np.ndarray | None = None,
                 contrast: bool = False):
        """Integrands at k-points (n, 3) -> (n, n_outputs), in batches.

        With ``radius`` (n,) (the k-space radius of each point's cell, 1/Angstrom) also
        returns, per point, the length on which the occupations vary near a Fermi surface
        crossing the cell (:func:`~wbentropy.integrate.boxes.fermi_shell_length`), so that an
        adaptive integrator can resolve the k_B T shell around each Fermi surface.  With ``box``
        (n, 2, 3) (the sides of the box each point stands for, and its centre minus the point, in
        reduced coordinates) the Fermi-sea and entropy weights are averaged over the box, with
        the bands linear in it (:func:`~wbentropy.integrate.boxes.box_mean`).  With ``contrast`` (and
        ``radius`` and ``box``) the integrands keep the points' own weights and a third array (n, n_outputs)
        is returned: the box-averaged integrands minus them (0 for quantities that are not
        :attr:`~wbentropy.quantities.Quantity.box_averaged`), the adaptive integrator's a-priori
        thermal-shell error.
        """
        out = np.empty((len(k), self.n_outputs))
        ell = np.empty(len(k)) if radius is not None else None
        delta = np.empty((len(k), self.n_outputs)) if contrast else None

        def one(s: int) -> None:  # batches write disjoint rows
            sl = slice(s, s + self.batch_size)
            if radius is None:
                out[sl] = self._batch(k[sl])[0]
            elif contrast:
                out[sl], ell[sl], delta[sl] = self._batch(k[sl], radius[sl], box[sl], contrast=True)
            else:
                out[sl], ell[sl] = self._batch(k[sl], radius[sl], None if box is None else box[sl])

        self.map_batches(one, list(range(0, len(k), self.batch_size)))
        if radius is None:
            return out
        return (out, ell, delta) if contrast else (out, ell)

    def batch_sum(self, k: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """Sum over k-points (n, 3) of the integrands -> (n_outputs,), each weighted by ``weights`` (n,) if given."""
        if weights is None:
            return self._batch(k)[0].sum(axis=0)
        return weights @ self._integrands(self.interp(k), weights=weights)[0]

    def block_sum(self, offset: np.ndarray, nfft: tuple[int, int, int]) -> np.ndarray:
        """Sum of the integrands over the FFT sub-grid offset + m/nfft -> (n_outputs,)
        (the same as :meth:`batch_sum` of those points, by the mixed Fourier transform)."""
        return self._integrands(self.interp.fft_block(offset=offset, nfft=nfft))[0].sum(axis=0)

    def _batch(self, k: np.ndarray, radius: np.ndarray | None = None, box: np.ndarray | None = None,
               contrast: bool = False):
        return self._integrands(self.interp(k), radius, box, contrast=contrast)

    def _integrands(self, wg, radius: np.ndarray | None = None, box: np.ndarray | None = None,
                    weights: np.ndarray | None = None, contrast: bool = False):
        """Integrands (nk, n_outputs) and Fermi-shell lengths (or None) of a batch; with ``contrast`` also the
        box-averaged integrands minus the point-weighted ones (see :meth:`__call__`)."""
        geom = band_geometry(wg, degen_thresh=self.degen_thresh)
        self._count(geom, weights)
        out = self._flat(geom) if box is None or contrast else None
        boxed = None
        if box is not None:  # after the point weights: the derived arrays they computed are kept
            recip = self.model.reciprocal_lattice
            edges = box[:, 0, :, None] * recip[None, :, :]  # (nk, 3, 3) rows e_a
            boxed = geom.with_occupation_box(box_of_linear_band(velocity=geom.velocity, edges=edges,
                                                                centre_offset=box[:, 1] @ recip))
        if out is None:
            out = self._flat(boxed)
        ell = None
        if radius is not None:
            ell = fermi_shell_length(E=geom.E_group, speed=np.linalg.norm(geom.velocity, axis=-1),
                                     temperatures=self.temperatures, mus=self.mus, radius=radius)
        if contrast:
            return out, ell, self._flat(boxed, only_boxed=True) - np.where(self._boxed_mask, out, 0.0)
        return out, ell

    @property
    def _boxed_mask(self) -> np.ndarray:
        """(n_outputs,) True for the outputs of :attr:`~wbentropy.quantities.Quantity.box_averaged` quantities."""
        return np.concatenate([np.full(size, q.box_averaged) for q, size in zip(self.quantities, self.sizes)])

    def _flat(self, geom, only_boxed: bool = False) -> np.ndarray:
        """Every quantity's integrand at the batch, flat (nk, n_outputs); with ``only_boxed`` zeros for the
        quantities that are not box-averaged (not evaluated)."""
        nk = len(geom.E)
        parts = []
        for q, size in zip(self.quantities, self.sizes):
            if only_boxed and not q.box_averaged:
                parts.append(np.zeros((nk, size)))
                continue
            v = q.per_k(geom, temperatures=self.temperatures, mus=self.mus, volume=self.model.volume,
                        options=self.options)
            if q.complex_valued:
                v = np.stack([v.real, v.imag], axis=-1)
            parts.append(v.reshape(nk, -1))
        out = np.concatenate(parts, axis=1)
        if self.model.spin_degeneracy != 1:  # the one place: every BZ integral counts g electrons per band
            out *= self.model.spin_degeneracy
        return out

    def _count(self, geom, weights: np.ndarray | None = None) -> None:
        """Update :attr:`stats` for a batch (no physics: counts of band spacings and energies)."""
        st = SamplingStats.zeros(len(self.temperatures), len(self.mus))
        self._count_into(st, geom, weights)
        with self._stats_lock:  # batches of the thread pool finish in any order; the counts add up
            self.stats = self.stats + st

    def _count_into(self, st: "SamplingStats", geom, weights: np.ndarray | None = None) -> None:
        """Add a batch's counts to ``st``; with ``weights`` (n,) each point counts as that many mesh points
        (an irreducible point stands for its orbit)."""
        w = np.ones(len(geom.E), dtype=np.int64) if weights is None else np.rint(weights).astype(np.int64)
        st.n_k += int(w.sum())
        if self.degen_thresh > 0 and geom.E.shape[1] > 1:
            dE = np.diff(geom.E, axis=1)
            merged = np.where(dE < self.degen_thresh, dE, 0.0)
            st.n_degen_near += int(w @ np.any(merged > DEGEN_NEAR_FRACTION * self.degen_thresh, axis=1))
            st.max_degen_split = max(st.max_degen_split, float(merged.max(initial=0.0)))
        if self._fermi_cell is not None:
            reach = 0.5 * np.abs(geom.velocity @ self._fermi_cell.T).sum(axis=-1)  # (nk, nb), eV
            for i0 in range(0, len(self.mus), 64):
                d = np.abs(geom.E[:, :, None] - self.mus[None, None, i0:i0 + 64])  # (nk, nb, nmu_c)
                dmin = d.min(axis=1)
                st.n_cross[i0:i0 + 64] += w @ np.any(d <= reach[..., None], axis=1)
                for iT, T in enumerate(self.temperatures):
                    st.n_shell[iT, i0:i0 + 64] += w @ (dmin < FERMI_SHELL_KT * kT_eV(T))

    def split(self, flat: np.ndarray) -> list[np.ndarray]:
        """Split a flat (..., n_outputs) vector into per-quantity float arrays of their storage shapes
        (complex quantities keep a trailing (re, im) axis; see :meth:`values`)."""
        out, start = [], 0
        for shape, size in zip(self.shapes, self.sizes):
            out.append(flat[..., start:start + size].reshape(flat.shape[:-1] + shape))
            start += size
        return out

    def values(self, flat: np.ndarray) -> list[np.ndarray]:
        """Per-quantity values of a flat (n_outputs,) integral: complex quantities as complex arrays."""
        return [v[..., 0] + 1j * v[..., 1] if q.complex_valued else v
                for q, v in zip(self.quantities, self.split(flat))]

    def errors(self, flat: np.ndarray) -> list[np.ndarray]:
        """Per-quantity error estimates (real; |error| of complex quantities)."""
        return [np.hypot(v[..., 0], v[..., 1]) if q.complex_valued else v
                for q, v in zip(self.quantities, self.split(flat))]




def group_sums(evaluator: Evaluator, *, group):
    """The full-zone integral from a wedge integral, and the bound on its error (flat vectors).

    Each quantity's integrand transforms as F(g k) = rho(g) F(k) under the operations g of the magnetic
    point group ``group`` (:class:`wbentropy.symmetry.SymmetryGroup`; rho from the quantity's rank, parity
    and time reversal: :func:`wbentropy.physics.tensor_symmetry.representation`).  Returns

    * ``project(v) = |G| P v``, P = mean_g rho(g) Neumann's projector, |G| the operations on k: with
      v = int w F over a weight with sum_g w(g k) = 1 this is the integral over the zone
      (:mod:`wbentropy.kspace.wedge`; P is symmetric, rho(g)^T = rho(g^-1));
    * ``bound(e) = |G| mean_g |rho(g)| e`` (elementwise absolute values): a bound on the error of
      ``project(v)`` from a bound e on the error of each component of v; linear, non-negative and
      self-adjoint.
    """
    from .physics.tensor_symmetry import representation

    maps = []
    for q in evaluator.quantities:
        rank = 1 if q.vector else q.rank
        reps = np.array([representation(R, bool(a), rank=rank, parity=q.parity, time_reversal=q.time_reversal)
                         for R, a in zip(group.rotations, group.antiunitary)])
        maps.append((group.order * reps.mean(axis=0), group.order * np.abs(reps).mean(axis=0), rank))

    def apply(flat: np.ndarray, which: int) -> np.ndarray:
        parts = []
        for q, arr, m in zip(evaluator.quantities, evaluator.split(np.asarray(flat, dtype=float)), maps):
            t = np.moveaxis(arr, -1, 0) if q.complex_valued else arr  # (re, im) first: rho is real
            out = (t.reshape(t.shape[:t.ndim - m[2]] + (-1,)) @ m[which].T).reshape(t.shape)
            out = np.moveaxis(out, 0, -1) if q.complex_valued else out
            parts.append(out.reshape(out.shape[:np.ndim(flat) - 1] + (-1,)))
        return np.concatenate(parts, axis=-1)

    return (lambda v: apply(v, 0)), (lambda e: apply(e, 1))
