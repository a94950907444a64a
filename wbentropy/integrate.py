"""k-space integration machinery: meshes, batches and reduction (no physics here).

The uniform integrator evaluates a Gamma-centred mesh k = (i1/N1, i2/N2, i3/N3)
(reduced coordinates; the same points as postw90's ``berry_kmesh`` and
WannierBerri's ``Grid``) in batches of fixed size.  Each batch's contribution is
kept separately and the batches are added in batch order, so the result does not
depend on how batches are shared among MPI ranks.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np

from .geometry import DEFAULT_DEGEN_THRESH, band_geometry
from .interpolation import Interpolator
from .model import TBModel
from .quantities import Options, Quantity

__all__ = ["UniformMesh", "integrate_uniform", "default_batch_size"]

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


def _batch_contribution(interp, quantities, batch_k, *, temperatures, mus, volume, degen_thresh, options):
    geom = band_geometry(interp(batch_k), degen_thresh=degen_thresh)
    return [q.per_k(geom, temperatures=temperatures, mus=mus, volume=volume, options=options).sum(axis=0)
            for q in quantities]


def integrate_uniform(*, model: TBModel, quantities: list[Quantity], temperatures, mus, mesh: UniformMesh,
                      batch_size: int | None = None, degen_thresh: float = DEFAULT_DEGEN_THRESH,
                      comm=None, max_memory_mb: float = 512.0, options: Options | None = None) -> list[np.ndarray]:
    """Average the quantities' integrands over a uniform mesh.

    Parameters
    ----------
    model : TBModel
    quantities : list of Quantity
    temperatures : (nT,) K
    mus : (nmu,) eV
    mesh : UniformMesh
    batch_size : int, optional
        k-points per batch (memory bound); chosen from ``max_memory_mb`` if None.
        Results do not depend on it beyond round-off.
    degen_thresh : float
        Degeneracy threshold in eV.
    comm : mpi4py communicator or None
        If given, batches are distributed round-robin over ranks and reduced in
        batch order on every rank (rank-count independent).
    options : Options
        Physical parameters (relaxation time, entropy-production form).

    Returns
    -------
    list of arrays, one per quantity, (nT, nmu, 3, 3) (or (nT, nmu, 3) for vectors),
    in each quantity's SI units.
    """
    options = Options() if options is None else options
    temperatures = np.asarray(temperatures, dtype=float)
    mus = np.asarray(mus, dtype=float)
    interp = Interpolator(model=model, second_derivatives=any(q.needs_second_derivatives for q in quantities))
    if batch_size is None:
        batch_size = default_batch_size(interp, max_memory_mb=max_memory_mb,
                                        n_outputs=len(quantities) * len(temperatures) * len(mus) * 9)
    nk = mesh.size
    starts = list(range(0, nk, batch_size))
    rank, size = (0, 1) if comm is None else (comm.Get_rank(), comm.Get_size())
    mine = starts[rank::size]
    t0 = time.perf_counter()
    partial = []
    for i, s in enumerate(mine):
        k = mesh.points(s, min(s + batch_size, nk))
        partial.append(_batch_contribution(interp, quantities, k, temperatures=temperatures, mus=mus,
                                           volume=model.volume, degen_thresh=degen_thresh, options=options))
        if rank == 0 and (i + 1) % max(1, len(mine) // 10) == 0:
            logger.info("k-points: %d/%d batches on rank 0 (%.1f s)", i + 1, len(mine), time.perf_counter() - t0)
    if comm is not None and size > 1:
        gathered = comm.allgather(partial)
        ordered = [None] * len(starts)
        for r, chunk in enumerate(gathered):
            for j, arr in enumerate(chunk):
                ordered[r + j * size] = arr
        partial = ordered
    total = [np.zeros_like(a) for a in partial[0]] if partial else []
    for arrs in partial:
        for t, a in zip(total, arrs):
            t += a
    return [t / nk for t in total]
