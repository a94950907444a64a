"""k-space integration machinery: meshes, batches and reduction (no physics here).

The uniform integrator evaluates a Gamma-centred mesh k = (i1/N1, i2/N2, i3/N3)
(reduced coordinates; the same points as postw90's ``berry_kmesh`` and
WannierBerri's ``Grid``) in batches of fixed size.  Each batch's contribution is
kept separately and the batches are added in batch order, so the result does not
depend on how batches are shared among MPI ranks.  The adaptive integrator
(:mod:`wbentropy.adaptive`) uses the same :class:`Evaluator`.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np

from .geometry import DEFAULT_DEGEN_THRESH, band_geometry
from .interpolation import Interpolator
from .model import TBModel
from .occupation import fermi_shell_length
from .parallel import Parallel
from .quantities import Options, Quantity

__all__ = ["UniformMesh", "Evaluator", "integrate_uniform", "default_batch_size", "storage_shape"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class UniformMesh:
    """Gamma-centred uniform mesh of N1 x N2 x N3 k-points (reduced coordinates)."""

    shape: tuple[int, int, int]

    def __post_init__(self) -> None:
        from .errors import InputError

        if len(self.shape) != 3 or any(int(n) < 1 for n in self.shape):
            raise InputError(f"k-mesh must be three positive integers, got {self.shape}")
        object.__setattr__(self, "shape", tuple(int(n) for n in self.shape))

    @property
    def size(self) -> int:
        """Number of k-points."""
        return int(np.prod(self.shape))

    def points(self, start: int, stop: int) -> np.ndarray:
        """k-points with flat indices [start, stop) in C order (i3 fastest), (n, 3)."""
        idx = np.arange(start, stop)
        i1, i2, i3 = np.unravel_index(idx, self.shape)
        return np.stack([i1 / self.shape[0], i2 / self.shape[1], i3 / self.shape[2]], axis=1)


def default_batch_size(interp: Interpolator, *, max_memory_mb: float = 512.0, n_outputs: int = 0) -> int:
    """Batch size keeping one batch's arrays under ``max_memory_mb``.

    ``n_outputs`` is the number of floats each k-point contributes (quantities x T x mu x 9).
    """
    per_k = interp.bytes_per_kpoint() * 3 + 16 * n_outputs  # geometry ~ triples the Wannier-gauge arrays
    return int(max(16, min(20000, max_memory_mb * 2**20 // per_k)))


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
    max_memory_mb : float
    """

    def __init__(self, *, model: TBModel, quantities: list[Quantity], temperatures, mus, options: Options,
                 degen_thresh: float = DEFAULT_DEGEN_THRESH, parallel: Parallel | None = None,
                 batch_size: int | None = None, max_memory_mb: float = 512.0) -> None:
        self.model = model
        self.quantities = quantities
        self.temperatures = np.asarray(temperatures, dtype=float)
        self.mus = np.asarray(mus, dtype=float)
        self.options = options
        self.degen_thresh = degen_thresh
        shared = parallel if parallel is not None and parallel.size > 1 else None
        self.interp = Interpolator(model=model, second_derivatives=any(q.needs_second_derivatives for q in quantities),
                                   parallel=shared)
        self.shapes = [storage_shape(q, temperatures=self.temperatures, mus=self.mus, options=options)
                       for q in quantities]
        self.sizes = [int(np.prod(s)) for s in self.shapes]
        self.n_outputs = sum(self.sizes)
        self.batch_size = batch_size or default_batch_size(self.interp, max_memory_mb=max_memory_mb,
                                                           n_outputs=self.n_outputs)

    @property
    def reciprocal_lattice(self) -> np.ndarray:
        """Reciprocal lattice vectors (rows), 1/Angstrom."""
        return self.model.reciprocal_lattice

    def __call__(self, k: np.ndarray, radius: np.ndarray | None = None):
        """Integrands at k-points (n, 3) -> (n, n_outputs), in batches.

        With ``radius`` (n,) (the k-space radius of each point's cell, 1/Angstrom) also
        returns, per point, the length on which the occupations vary near a Fermi surface
        crossing the cell (:func:`~wbentropy.occupation.fermi_shell_length`), so that an
        adaptive integrator can resolve the k_B T shell around each Fermi surface.
        """
        out = np.empty((len(k), self.n_outputs))
        ell = np.empty(len(k)) if radius is not None else None
        for s in range(0, len(k), self.batch_size):
            sl = slice(s, s + self.batch_size)
            if radius is None:
                out[sl] = self._batch(k[sl])[0]
            else:
                out[sl], ell[sl] = self._batch(k[sl], radius[sl])
        return out if radius is None else (out, ell)

    def batch_sum(self, k: np.ndarray) -> np.ndarray:
        """Sum over k-points (n, 3) of the integrands -> (n_outputs,)."""
        return self._batch(k)[0].sum(axis=0)

    def _batch(self, k: np.ndarray, radius: np.ndarray | None = None):
        geom = band_geometry(self.interp(k), degen_thresh=self.degen_thresh)
        parts = []
        for q in self.quantities:
            v = q.per_k(geom, temperatures=self.temperatures, mus=self.mus, volume=self.model.volume,
                        options=self.options)
            if q.complex_valued:
                v = np.stack([v.real, v.imag], axis=-1)
            parts.append(v.reshape(len(k), -1))
        ell = None
        if radius is not None:
            ell = fermi_shell_length(E=geom.E_group, speed=np.linalg.norm(geom.velocity, axis=-1),
                                     temperatures=self.temperatures, mus=self.mus, radius=radius)
        return np.concatenate(parts, axis=1), ell

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


def integrate_uniform(*, evaluator: Evaluator, mesh: UniformMesh, parallel: Parallel | None = None) -> np.ndarray:
    """Mean of the integrands over a uniform mesh -> (n_outputs,).

    Batches are distributed round-robin over ranks; every rank receives all batch sums
    and adds them in batch order, so the result does not depend on the number of ranks.
    """
    parallel = parallel or Parallel(None)
    bs = evaluator.batch_size
    nk = mesh.size
    starts = list(range(0, nk, bs))
    mine = starts[parallel.rank::parallel.size]
    t0 = time.perf_counter()
    partial = []
    with parallel.stop_all_on_error():
        parallel.inject_failure_for_tests()
        for i, s in enumerate(mine):
            partial.append(evaluator.batch_sum(mesh.points(s, min(s + bs, nk))))
            if parallel.is_root and (i + 1) % max(1, len(mine) // 10) == 0:
                logger.info("k-points: %d/%d batches on rank 0 (%.1f s)", i + 1, len(mine), time.perf_counter() - t0)
    gathered = parallel.allgather(partial)
    total = np.zeros(evaluator.n_outputs)
    for j in range(len(starts)):  # batch order, whatever rank computed it
        total += gathered[j % parallel.size][j // parallel.size]
    return total / nk
