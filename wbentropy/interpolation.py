"""Wannier interpolation: R-space matrices to k-space matrices in the Wannier gauge.

For a batch of k-points (reduced coordinates) this evaluates, by one complex
matrix product phases(nk, nR) @ operators(nR, ...),

    H(k)        = sum_R e^{2 pi i k.R} H(R)
    d_a H(k)    = sum_R i R_a e^{2 pi i k.R} H(R)              (R_a Cartesian, Angstrom)
    d_a d_b H   = -sum_R R_a R_b e^{2 pi i k.R} H(R)
    A_a(k)      = sum_R e^{2 pi i k.R} r_a(R)                   (Berry connection, Wannier gauge)
    Obar_c(k)   = eps_cab d_a A_b = sum_R e^{2 pi i k.R} i eps_cab R_a r_b(R)

(Wang, Yates, Souza, Vanderbilt, PRB 74, 195118 (2006), Eqs. 37-40, in Wannier90's
phase convention, see :mod:`wbentropy.model`).  Memory is bounded by the batch size.
This module knows nothing about bands, occupations or integration.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .model import TBModel

__all__ = ["WannierGauge", "Interpolator"]

#: Cartesian index pairs (a, b) of the Levi-Civita pseudovector c: (y,z), (z,x), (x,y).
ALPHA = np.array([1, 2, 0])
BETA = np.array([2, 0, 1])


@dataclass(frozen=True)
class WannierGauge:
    """k-space matrices in the Wannier gauge for a batch of k-points (components first).

    Attributes
    ----------
    H : (nk, nw, nw) complex, eV
    derivatives : (nk, ncomp, nw, nw) complex
        Every other matrix stacked along axis 1 (one contiguous array, so that the
        Hamiltonian-gauge rotation is one batched product); ``layout`` names the slices:
        ``dH`` (3, eV*Angstrom), ``d2H`` (9 = 3x3, eV*Angstrom^2), ``A`` (3, Angstrom),
        ``curlA`` (3, Angstrom^2, pseudovector index c: yz, zx, xy).
    layout : dict name -> slice of axis 1
    """

    H: np.ndarray
    derivatives: np.ndarray
    layout: dict

    def get(self, name: str) -> np.ndarray | None:
        """One block, (nk, ncomp, nw, nw) (``d2H`` as (nk, 3, 3, nw, nw)), or None if absent."""
        if name not in self.layout:
            return None
        block = self.derivatives[:, self.layout[name]]
        return block.reshape(block.shape[0], 3, 3, *block.shape[2:]) if name == "d2H" else block


class Interpolator:
    """Fourier-interpolate a :class:`~wbentropy.model.TBModel` at batches of k-points.

    Parameters
    ----------
    model : TBModel
        The real-space model.
    second_derivatives : bool
        Also build d_a d_b H (needed for inverse masses / Fermi-sea Drude forms).
    position : bool
        Build the Berry connection terms (A and its curl).  If the model has no
        r(R), A = 0 and these are skipped.
    parallel : Parallel, optional
        Under MPI the operator array (the largest object) is held once per node in
        shared memory.
    """

    def __init__(self, *, model: TBModel, second_derivatives: bool = False, position: bool = True,
                 parallel=None) -> None:
        self.model = model
        nR, nw, _ = model.H.shape
        self.num_wann = nw
        self.has_position = position and model.r is not None
        names = [("H", 1), ("dH", 3)]
        if second_derivatives:
            names.append(("d2H", 9))
        if self.has_position:
            names += [("A", 3), ("curlA", 3)]
        self._names = names
        self._ncomp = sum(n for _, n in names)
        shape = (nR, nw * nw * self._ncomp)
        build = lambda: self._build_operators(second_derivatives)  # noqa: E731
        # (nR, ncomp*nw*nw), component-major: one GEMM per batch gives (nk, ncomp, nw, nw)
        self._ops = build() if parallel is None else parallel.shared_array(shape, complex, build)
        self._R = model.R.astype(float)

    def _build_operators(self, second_derivatives: bool) -> np.ndarray:
        model = self.model
        nR, nw, _ = model.H.shape
        Rc = model.R_cart  # (nR, 3)
        blocks = [model.H[..., None], 1j * model.H[..., None] * Rc[:, None, None, :]]
        if second_derivatives:
            RR = Rc[:, :, None] * Rc[:, None, :]
            blocks.append((-model.H[..., None, None] * RR[:, None, None]).reshape(nR, nw, nw, 9))
        if self.has_position:
            r = model.r
            curl = 1j * (Rc[:, None, None, ALPHA] * r[..., BETA] - Rc[:, None, None, BETA] * r[..., ALPHA])
            blocks += [r, curl]
        ops = np.concatenate(blocks, axis=-1)  # (nR, nw, nw, ncomp)
        return np.ascontiguousarray(np.moveaxis(ops, -1, 1).reshape(nR, -1))

    def __call__(self, k: np.ndarray) -> WannierGauge:
        """Evaluate at k-points ``k`` of shape (nk, 3), reduced coordinates."""
        k = np.atleast_2d(np.asarray(k, dtype=float))
        phase = np.exp(2j * np.pi * (k @ self._R.T))
        nk, nw = k.shape[0], self.num_wann
        full = (phase @ self._ops).reshape(nk, self._ncomp, nw, nw)
        layout, start = {}, 1
        for name, n in self._names[1:]:
            layout[name] = slice(start - 1, start - 1 + n)
            start += n
        return WannierGauge(H=full[:, 0], derivatives=full[:, 1:], layout=layout)

    def bytes_per_kpoint(self) -> int:
        """Approximate memory per k-point of one evaluation (bytes), for batch sizing."""
        return 16 * self.num_wann**2 * (self._ncomp * 3 + 8) + 16 * self._R.shape[0]
