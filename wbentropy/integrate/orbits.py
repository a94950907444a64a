"""Irreducible k-points of a Gamma-centred mesh under a group of k-space operations (no physics here).

A mesh point k = (i1/N1, i2/N2, i3/N3) goes to k' = K k (mod 1) under an operation given by its
reduced k-space matrix K (time reversal included as a sign: :attr:`wbentropy.symmetry.SymmetryGroup.k_ops`).
The mesh is invariant if K maps mesh points to mesh points: K_ab N_a / N_b is an integer for
every a, b; then i'_a = sum_b (K_ab N_a / N_b) i_b mod N_a in integer arithmetic.  The points of
one orbit {K k} are represented by the one with the smallest flat index, weighted by the orbit's
size; the weights add up to the number of mesh points (as WannierBerri's ``use_irred_kpt``).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

__all__ = ["IrreducibleMesh", "mesh_operations", "irreducible_mesh", "MAX_REDUCED_POINTS"]

logger = logging.getLogger(__name__)

#: largest mesh reduced (one int64 orbit label per point, 8 bytes each: 1 GiB); larger meshes run in full
MAX_REDUCED_POINTS = 2**27
#: mesh points labelled per block (bounds the (points, 3) index arrays)
_BLOCK = 2**20


@dataclass(frozen=True)
class IrreducibleMesh:
    """The irreducible points of a ``shape`` mesh: flat (C-order) indices of the representatives and the
    number of mesh points each stands for."""

    shape: tuple[int, int, int]
    indices: np.ndarray
    weights: np.ndarray

    @property
    def size(self) -> int:
        """Number of irreducible points."""
        return len(self.indices)

    @property
    def full_size(self) -> int:
        """Number of points of the full mesh (the sum of the weights)."""
        return int(np.prod(self.shape))

    def points(self, start: int, stop: int) -> np.ndarray:
        """Reduced coordinates (n, 3) of the irreducible points [start, stop)."""
        i = np.unravel_index(self.indices[start:stop], self.shape)
        return np.stack([i[a] / self.shape[a] for a in range(3)], axis=1)


def mesh_operations(k_ops: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray | None:
    """Integer matrices M (n, 3, 3), i' = M i mod N, of the operations on mesh indices; None if an
    operation does not map the mesh to itself (or is not an integer matrix in reduced coordinates)."""
    K = np.asarray(k_ops, dtype=float)
    N = np.asarray(shape, dtype=float)
    M = K * N[None, :, None] / N[None, None, :]
    Mi = np.rint(M)
    if not np.all(np.abs(M - Mi) < 1e-6):
        return None
    return Mi.astype(np.int64)


def irreducible_mesh(k_ops: np.ndarray, shape: tuple[int, int, int]) -> IrreducibleMesh | None:
    """The irreducible points of the Gamma-centred ``shape`` mesh under ``k_ops`` (n, 3, 3), with weights.

    Returns None, with a log line saying why, if the mesh is not invariant under every operation or is
    larger than :data:`MAX_REDUCED_POINTS`: the caller then integrates the full mesh.
    """
    shape = tuple(int(n) for n in shape)
    M = mesh_operations(k_ops, shape)
    if M is None:
        logger.info("the %s mesh is not invariant under the %d symmetry operations (their images of mesh points "
                    "leave the mesh): integrating the full mesh", "x".join(map(str, shape)), len(k_ops))
        return None
    size = int(np.prod(shape))
    if size > MAX_REDUCED_POINTS:
        logger.info("the %s mesh has more than %d points: integrating it in full, without symmetry reduction",
                    "x".join(map(str, shape)), MAX_REDUCED_POINTS)
        return None
    N = np.asarray(shape, dtype=np.int64)
    label = np.empty(size, dtype=np.int64)
    for start in range(0, size, _BLOCK):
        flat = np.arange(start, min(start + _BLOCK, size), dtype=np.int64)
        idx = np.stack(np.unravel_index(flat, shape), axis=1)  # (n, 3)
        best = flat.copy()
        for m in M:
            image = (idx @ m.T) % N
            best = np.minimum(best, np.ravel_multi_index(image.T, shape))
        label[start:start + len(flat)] = best
    weights = np.bincount(label, minlength=size)
    indices = np.flatnonzero(weights)
    return IrreducibleMesh(shape=shape, indices=indices, weights=weights[indices])
