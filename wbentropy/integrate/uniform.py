"""k-space integration machinery: meshes, batches and reduction (no physics here).

The uniform integrator evaluates a Gamma-centred mesh k = (i1/N1, i2/N2, i3/N3)
(reduced coordinates; the same points as postw90's ``berry_kmesh`` and
WannierBerri's ``Grid``) in batches of fixed size.  Each batch's contribution is
kept separately and the batches are added in batch order, so the result does not
depend on how batches are shared among MPI ranks.  The adaptive integrator
(:mod:`wbentropy.integrate.adaptive`) uses the same evaluator (:class:`wbentropy.evaluate.Evaluator`).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable, Protocol

import numpy as np

from .orbits import IrreducibleMesh
from .parallel import Parallel
from .progress import Progress

__all__ = ["UniformMesh", "integrate_uniform", "uniform_route", "plan_memory", "MemoryPlan",
           "default_max_memory_mb"]


class BatchEvaluator(Protocol):
    """What the integrators need of an evaluator (:class:`wbentropy.evaluate.Evaluator` is one)."""

    batch_size: int
    n_outputs: int
    interp: Any  # its ``fft_pays`` says whether FFT sub-grids pay

    def batch_sum(self, k: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray: ...

    def block_sum(self, offset: np.ndarray, shape: tuple) -> np.ndarray: ...

    def map_batches(self, fn: Callable, items: list) -> list: ...

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class UniformMesh:
    """Gamma-centred uniform mesh of N1 x N2 x N3 k-points (reduced coordinates)."""

    shape: tuple[int, int, int]

    def __post_init__(self) -> None:
        from ..errors import InputError

        if len(self.shape) != 3 or any(int(n) < 1 for n in self.shape):
            raise InputError(f"k-mesh must be three positive integers, got {self.shape}")
        object.__setattr__(self, "shape", tuple(int(n) for n in self.shape))

    @property
    def size(self) -> int:
        """Number of k-points."""
        return int(np.prod(self.shape))

    def cell_vectors(self, reciprocal_lattice: np.ndarray) -> np.ndarray:
        """Edge vectors b_i / N_i (rows) of one mesh cell, in the units of ``reciprocal_lattice``."""
        return np.asarray(reciprocal_lattice, dtype=float) / np.asarray(self.shape, dtype=float)[:, None]

    def points(self, start: int, stop: int) -> np.ndarray:
        """k-points with flat indices [start, stop) in C order (i3 fastest), (n, 3)."""
        idx = np.arange(start, stop)
        i1, i2, i3 = np.unravel_index(idx, self.shape)
        return np.stack([i1 / self.shape[0], i2 / self.shape[1], i3 / self.shape[2]], axis=1)

    def fft_subgrid(self, max_points: int) -> tuple[int, int, int]:
        """The FFT sub-grid (n1, n2, n3), n_i dividing N_i, with the most points <= ``max_points``.

        The mesh is the union of the shifted sub-grids K0 + m/n, K0 = j/N for j on the
        (N1/n1, N2/n2, N3/n3) grid of offsets (:meth:`offsets`).  Ties go to the most even shape.
        """
        divisors = [[d for d in range(1, n + 1) if n % d == 0] for n in self.shape]
        best = (1, 1, 1)
        for a in divisors[0]:
            for b in divisors[1]:
                for c in divisors[2]:
                    p = a * b * c
                    key = (p, min(a, b, c), -max(a, b, c))
                    if p <= max_points and key > (int(np.prod(best)), min(best), -max(best)):
                        best = (a, b, c)
        return best

    def offsets(self, nfft: tuple[int, int, int]) -> np.ndarray:
        """Offsets K0 = j/N (reduced coordinates) of the sub-grids of :meth:`fft_subgrid`, C order."""
        div = [n // f for n, f in zip(self.shape, nfft)]
        j = np.stack(np.meshgrid(*[np.arange(d) for d in div], indexing="ij"), axis=-1).reshape(-1, 3)
        return j / np.asarray(self.shape, dtype=float)


#: float64 arrays of one (k, band, band, mu) block alive at once in the pair integrands
#: (measured 5.3 for entropy production on Fe with tracemalloc; margin)
_BLOCK_ARRAYS = 8
#: bytes per output float per k-point (per-quantity arrays, their concatenation, sums; measured ~15)
_OUTPUT_BYTES = 24
#: margin on :meth:`Interpolator.bytes_per_kpoint` for the band-geometry arrays (measured 0.75x of it on Fe)
_GEOMETRY_MARGIN = 1.25
#: the uniform mesh is evaluated on FFT sub-grids (mixed Fourier transform) when they hold at
#: least this many points (below it the fold and FFT overheads outweigh the gain)
MIN_FFT_POINTS = 64
#: largest batch: beyond a few thousand k-points nothing is gained, progress is coarse and the
#: batches of a rank's thread pool balance badly.  It does not depend on ranks or threads, so the
#: batches (and the order of their sums) are the same for every parallel layout.
MAX_BATCH = 4096
#: a batch's arrays are kept near this size so that they stay in cache and reuse the allocator's
#: memory: Fe (18 WFs, 250 kB per k-point) ran fastest with 128-256 k-points per batch (4.2 s
#: single-threaded on 32^3 vs 5.7 s with 4096)
CACHE_BATCH_BYTES = 48 * 2**20


@dataclass(frozen=True)
class MemoryPlan:
    """How one evaluation is cut to stay within a memory budget.

    Attributes
    ----------
    batch_size : int
        k-points per batch.
    block_floats : int
        Floats in one (k, band[, band], mu) block of an integrand (passed to the quantities
        through :class:`~wbentropy.quantities.Options`).
    fixed_bytes : int
        The R-space operators (independent of the batch).
    per_kpoint_bytes : int
        Arrays per k-point of a batch (Wannier gauge, band geometry, outputs, one mu).
    """

    batch_size: int
    block_floats: int
    fixed_bytes: int
    per_kpoint_bytes: int
    threads: int = 1

    @property
    def bound_bytes(self) -> int:
        """Upper estimate of the evaluation's peak array memory (every thread holding a batch)."""
        return self.fixed_bytes + self.threads * (self.batch_size * self.per_kpoint_bytes
                                                  + 8 * _BLOCK_ARRAYS * self.block_floats)


def plan_memory(*, max_memory_mb: float, fixed_bytes: int, geometry_bytes_per_kpoint: int, num_bands: int,
                n_outputs: int, pairs: bool, threads: int = 1, default: bool = False) -> MemoryPlan:
    """The batch-size rule: keep the arrays of one evaluation under ``max_memory_mb``.

    After the fixed R-space operators, half of the budget goes to the k-batch (Wannier-gauge and
    band-geometry arrays, outputs, and the integrand block of one mu per k-point: nb^2 floats
    for band-pair quantities, nb otherwise) and half to the mu-blocks of the integrands.
    ``max_memory_mb`` bounds the computation's arrays, not the interpreter and its libraries.
    With ``threads`` > 1 every thread holds one batch: what is left after the operators is
    shared equally between them.  Batches are also kept near ``CACHE_BATCH_BYTES`` (faster),
    and at most ``MAX_BATCH`` k-points.

    ``default`` says that ``max_memory_mb`` is the automatic budget, not the user's ``--max-memory``
    (for the error message).

    Raises
    ------
    InputError
        If the budget does not even hold the R-space operators and one k-point; the message says
        how much the outputs (one per temperature, mu, photon energy and component) take.
    """
    from ..errors import InputError

    per_mu = 8 * _BLOCK_ARRAYS * num_bands * (num_bands if pairs else 1)
    per_k = int(_GEOMETRY_MARGIN * geometry_bytes_per_kpoint) + _OUTPUT_BYTES * n_outputs + per_mu
    budget = (max_memory_mb * 2**20 - fixed_bytes) / max(1, int(threads))
    if budget < 2 * per_k:
        n = max(1, int(threads))
        given = (f"the default memory budget of {max_memory_mb:g} MB per rank (a quarter of the available memory, "
                 f"64..2048 MB for each of its {n} threads)" if default else f"{{max_memory_mb}} {max_memory_mb:g} MB")
        raise InputError(f"{given} is too small: this model needs {(fixed_bytes + n * 2 * per_k) / 2**20:.3g} MB for "
                         f"its R-space operators and one k-point per thread, of which "
                         f"{n * 2 * _OUTPUT_BYTES * n_outputs / 2**20:.3g} MB hold the {n_outputs} outputs per k-point "
                         "(temperatures x chemical potentials x photon energies x components): ask for fewer of "
                         "those or give a larger {max_memory_mb}", param="max_memory_mb")
    batch = int(max(1, min(MAX_BATCH, budget / 2 // per_k, max(16, CACHE_BATCH_BYTES // per_k))))
    block = int(max(num_bands * (num_bands if pairs else 1), budget / 2 // (8 * _BLOCK_ARRAYS)))
    return MemoryPlan(batch_size=batch, block_floats=block, fixed_bytes=int(fixed_bytes), per_kpoint_bytes=per_k,
                      threads=max(1, int(threads)))


def default_max_memory_mb(*, ranks: int = 1) -> float:
    """Automatic budget: a quarter of the available memory shared by ``ranks`` workers, within 64..2048 MB each."""
    avail = None
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    avail = int(line.split()[1]) / 1024.0  # kB -> MB
    except OSError:
        pass
    if avail is None:
        return 512.0
    return float(min(2048.0, max(64.0, avail / 4 / max(1, ranks))))


def uniform_route(*, evaluator: BatchEvaluator, mesh: UniformMesh, fft: bool | None = None) -> tuple | None:
    """The FFT sub-grid that :func:`integrate_uniform` evaluates the mesh on, or None for direct sums."""
    nfft = mesh.fft_subgrid(evaluator.batch_size)
    if fft is None:
        fft = evaluator.interp.fft_pays and int(np.prod(nfft)) >= min(MIN_FFT_POINTS, mesh.size)
    return nfft if fft else None


def integrate_uniform(*, evaluator: BatchEvaluator, mesh: UniformMesh, parallel: Parallel | None = None,
                      fft: bool | None = None, progress: bool = False,
                      irreducible: IrreducibleMesh | None = None) -> np.ndarray:
    """Mean of the integrands over a uniform mesh -> (n_outputs,).

    The mesh is cut into batches: FFT sub-grids (:meth:`UniformMesh.fft_subgrid`, evaluated by
    the mixed Fourier transform :meth:`Interpolator.fft_block`) when the model has enough
    R-vectors for the FFT to pay (:attr:`Interpolator.fft_pays`) and a sub-grid of at least
    ``MIN_FFT_POINTS`` points fits in a batch, else runs of consecutive points (direct Fourier
    sums).  ``fft`` forces the choice.  With ``irreducible`` (:func:`~wbentropy.integrate.orbits.irreducible_mesh`)
    only its points are evaluated (direct sums), each weighted by the mesh points it stands for: the
    result is then the mean over the mesh of the representatives' integrands, which the caller
    symmetrizes.  Batches are distributed round-robin over ranks; every rank receives all batch sums
    and adds them in batch order, so the result does not depend on the number of ranks or threads.
    """
    parallel = parallel or Parallel(None)
    if irreducible is not None:
        one, starts, count, label = _irreducible_batches(evaluator, irreducible)
    else:
        one, starts, count, label = _mesh_batches(evaluator, mesh, fft)
    mine = starts[parallel.rank::parallel.size]
    report = Progress(enabled=progress and parallel.is_root, ranks=parallel.size)
    report.start(label, count)

    def tracked(s: int) -> np.ndarray:
        total, n = one(s)
        report.advance(n)
        return total

    with parallel.stop_all_on_error():
        partial = evaluator.map_batches(tracked, mine)  # in the order of ``mine``, whichever thread ran a batch
    report.finish()
    gathered = parallel.allgather(partial)
    total = np.zeros(evaluator.n_outputs)
    for j in range(len(starts)):  # batch order, whatever rank computed it
        total += gathered[j % parallel.size][j // parallel.size]
    return total / mesh.size


def _mesh_batches(evaluator: BatchEvaluator, mesh: UniformMesh, fft: bool | None):
    """(batch function -> (sum, points), batch starts, points, label) of the full mesh."""
    bs, nk = evaluator.batch_size, mesh.size
    nfft = uniform_route(evaluator=evaluator, mesh=mesh, fft=fft)
    label = "uniform mesh " + "x".join(str(n) for n in mesh.shape)
    if nfft is not None:
        offsets = mesh.offsets(nfft)
        logger.info("uniform mesh %s: %d FFT sub-grids of %s points", mesh.shape, len(offsets), nfft)
        return (lambda s: (evaluator.block_sum(offsets[s], nfft), int(np.prod(nfft))),
                list(range(len(offsets))), nk, label)
    return (lambda s: (evaluator.batch_sum(mesh.points(s, min(s + bs, nk))), min(s + bs, nk) - s),
            list(range(0, nk, bs)), nk, label)


def _irreducible_batches(evaluator: BatchEvaluator, irreducible: IrreducibleMesh):
    """(batch function -> (weighted sum, points), batch starts, points, label) of the irreducible points."""
    bs, n = evaluator.batch_size, irreducible.size
    logger.info("uniform mesh %s: %d irreducible k-points of %d", irreducible.shape, n, irreducible.full_size)

    def one(s: int):
        stop = min(s + bs, n)
        return evaluator.batch_sum(irreducible.points(s, stop), irreducible.weights[s:stop].astype(float)), stop - s

    return one, list(range(0, n, bs)), n, "irreducible k-points of " + "x".join(str(m) for m in irreducible.shape)
