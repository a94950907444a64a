"""Wannier interpolation: R-space matrices to k-space matrices in the Wannier gauge.

For a batch of k-points (reduced coordinates) this evaluates

    H(k)        = sum_R e^{2 pi i k.R} H(R)
    d_a H(k)    = sum_R i R_a e^{2 pi i k.R} H(R)              (R_a Cartesian, Angstrom)
    d_a d_b H   = -sum_R R_a R_b e^{2 pi i k.R} H(R)
    A_a(k)      = sum_R e^{2 pi i k.R} r_a(R)                   (Berry connection, Wannier gauge)
    Obar_c(k)   = eps_cab d_a A_b = sum_R e^{2 pi i k.R} i eps_cab R_a r_b(R)

    X(k)        = sum_R e^{2 pi i k.R} X(R)                     (any other operator of the store, e.g. spin)

(Wang, Yates, Souza, Vanderbilt, PRB 74, 195118 (2006), Eqs. 37-40, in Wannier90's
phase convention, see :mod:`wbentropy.model`).  Only the blocks a run needs are built: the
operators its quantities name (:attr:`wbentropy.quantities.Quantity.operators`) and d_a d_b H if
one needs second derivatives (:func:`plan_components`).  Memory is bounded by the batch size.
This module knows nothing about bands, occupations or integration.

How the sum is done (speed).  Every operator is Hermitian, X(-R) = X(R)^+, so with one
representative R of each pair {R, -R},

    X(k) = X(0) + sum_R' [cos(2 pi k.R) (X(R) + X(R)^+) + sin(2 pi k.R) i (X(R) - X(R)^+)],

a sum of Hermitian matrices with *real* coefficients.  One real matrix product
[1, cos, sin](nk, nR) @ ops(nR, 2 * ncol), whose columns hold the real and imaginary
parts of every matrix element side by side, gives the complex matrices directly (the
result is viewed as complex, no copy): a quarter of the floating-point work of the
complex product phases(nk, nR) @ X(nR, ncol).  Should a model violate X(-R) = X(R)^+
(e.g. rounding in a text file), the Hermitian part of its Fourier sum is used, which is
also all that a Hermitian eigensolver reads.

Uniform meshes: mixed Fourier transform (:meth:`Interpolator.fft_block`).  On the points
k = K0 + m/n of an FFT sub-grid (m in Z_n1 x Z_n2 x Z_n3, a fixed offset K0), with
cos/sin written as exponentials,

    X(k_m) = sum_rho e^{2 pi i m.rho/n} Y(rho),
    Y(rho) = sum_{R = rho mod n} e^{2 pi i K0.R} Z(R),   Z(+-R') = (P -+ i M)/2, Z(0) = X(0),

with P, M the rows X(R)+X(R)^+ and i(X(R)-X(R)^+) above: a "slow" fold of the R-vectors
onto the n-grid (one sparse product, nnz = 1 + 4 nP) and a "fast" FFT over it.  Per
k-point that is ~nR/n^3 + 5 log2(n^3) operations per matrix element instead of ~2 nR: the
route of WannierBerri's NKFFT grids.  Both give the same matrices to round-off (tested).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..errors import InputError
from ..model import TBModel
from ..physics.geometry import ALPHA, BETA

__all__ = ["WannierGauge", "Interpolator", "Component", "COMPONENTS", "hermitian_pairs", "FFT_MIN_ROWS"]

#: The mixed FFT (:meth:`Interpolator.fft_block`) costs ~0.04 ms per k-point for 18 Wannier
#: functions whatever the number of R-vectors (memory-bound), the direct sum ~0.035 ms at
#: 95 operator rows (1 + 2 nP, the shared Fe model) and ~0.25 ms at 881 (this project's Fe model),
#: on one core here: the FFT pays from about 110 rows on; above this many it is used.
FFT_MIN_ROWS = 128


@dataclass(frozen=True)
class Component:
    """One block of Wannier-gauge matrices built from an operator of the model's store.

    Attributes
    ----------
    name : str
        The block's name in :attr:`WannierGauge.layout`.
    operator : str
        The store operator it is built from (:attr:`wbentropy.model.TBModel.operators`).
    group : {"full", "diag"}
        "full": the whole Hamiltonian-gauge matrix U^+ X U is needed; "diag": only its diagonal.
    size : int
        Number of matrices (Cartesian components).
    build : callable(X (nR, nw, nw, ...), R_cart (nR, 3)) -> (nR, nw, nw, size)
        The R-space matrices whose Fourier sum is the block.
    second_derivative : bool
        Built only when second derivatives are asked for.
    derivative : bool
        A k-derivative of its operator: left out when no derivatives are asked for (band energies only).
    """

    name: str
    operator: str
    group: str
    size: int
    build: Callable[[np.ndarray, np.ndarray], np.ndarray]
    second_derivative: bool = False
    derivative: bool = False


def _d2H(H: np.ndarray, Rc: np.ndarray) -> np.ndarray:
    RR = Rc[:, :, None] * Rc[:, None, :]
    return (-H[..., None, None] * RR[:, None, None]).reshape(H.shape + (9,))


#: The derivatives of H and AA (module docstring), in the order of their columns within each group; every
#: other operator of the store is one "full" block of its own name (:func:`plan_components`).
COMPONENTS = (
    Component("dH", "H", "full", 3, lambda H, Rc: 1j * H[..., None] * Rc[:, None, None, :], derivative=True),
    Component("A", "AA", "full", 3, lambda r, Rc: r),
    Component("d2H", "H", "diag", 9, _d2H, second_derivative=True, derivative=True),
    Component("curlA", "AA", "diag", 3, lambda r, Rc: 1j * (Rc[:, None, None, ALPHA] * r[..., BETA]
                                                             - Rc[:, None, None, BETA] * r[..., ALPHA]),
              derivative=True),
)


def _plain(X: np.ndarray, Rc: np.ndarray) -> np.ndarray:
    return X.reshape(X.shape[:3] + (-1,))


def plan_components(model: TBModel, *, operators, second_derivatives: bool,
                    derivatives: bool = True) -> list[Component]:
    """The blocks to interpolate for ``operators`` (store names; "H" always): "full" blocks first.

    ``derivatives=False`` leaves out every k-derivative (dH, d2H, curlA, whatever ``second_derivatives``):
    H(k) and the operators' own matrices only.

    Raises InputError for an operator the model does not hold, except "AA" (then the Berry
    connection is taken as zero: all orbitals at the origin of their cell).
    """
    missing = [name for name in operators if name not in model.operators and name != "AA"]
    if missing:
        raise InputError(f"the model holds no operator {', '.join(missing)} (it holds "
                         f"{', '.join(model.operators)}); a reader must put it into the model's store")
    wanted = {"H"} | {name for name in operators if name in model.operators}
    known = [c for c in COMPONENTS if c.operator in wanted and (second_derivatives or not c.second_derivative)
             and (derivatives or not c.derivative)]
    extra = [Component(name, name, "full", int(np.prod(model.operators[name].shape[3:])), _plain)
             for name in model.operators if name in wanted and name not in {c.operator for c in COMPONENTS}]
    full = [c for c in known if c.group == "full"] + extra
    return full + [c for c in known if c.group == "diag"]


@dataclass(frozen=True)
class WannierGauge:
    """k-space matrices in the Wannier gauge for a batch of k-points.

    The matrices other than H are stored row-interleaved, ``X[k, i, c, j]`` = element
    (i, j) of component c, so that the Hamiltonian-gauge rotation U^+ X U of all
    components is two batched matrix products without copies (see
    :func:`wbentropy.kspace.geometry.band_geometry`).

    Attributes
    ----------
    H : (nk, nw, nw) complex, eV
    full : (nk, nw, nfull, nw) complex
        Components whose full Hamiltonian-gauge matrices are needed: ``dH`` (3,
        eV*Angstrom), ``A`` (3, Angstrom) and the other store operators asked for (e.g. ``SS``).
    diag : (nk, nw, ndiag, nw) complex
        Components of which only the diagonal in the Hamiltonian gauge is needed:
        ``d2H`` (9 = 3x3, eV*Angstrom^2) and ``curlA`` (3, Angstrom^2, pseudovector
        index c: yz, zx, xy).
    layout : dict name -> ("full" or "diag", slice of axis 2)
    operators : tuple of str
        The blocks of ``full`` that are operators of the model's store as such (e.g. "SS"), not
        derivatives of H or AA.
    """

    H: np.ndarray
    full: np.ndarray
    diag: np.ndarray
    layout: dict
    operators: tuple[str, ...] = ()

    def get(self, name: str) -> np.ndarray | None:
        """One block as (nk, ncomp, nw, nw) (``d2H`` as (nk, 3, 3, nw, nw)), or None if absent."""
        if name not in self.layout:
            return None
        group, sl = self.layout[name]
        block = np.moveaxis(getattr(self, group)[:, :, sl], 2, 1)
        return block.reshape(block.shape[0], 3, 3, *block.shape[2:]) if name == "d2H" else block


def hermitian_pairs(R: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Representatives of the pairs {R, -R} of a list of lattice vectors.

    Returns
    -------
    reps : (nP, 3) int, one vector of each pair with R != 0 (first non-zero component > 0)
    plus, minus : (nP,) int
        Index in ``R`` of each representative and of its opposite, -1 where absent.
    zero : int
        Index of R = 0, -1 if absent.
    """
    R = np.asarray(R, dtype=int)
    index = {tuple(v): i for i, v in enumerate(R)}
    reps = {}
    for v in R:
        v = tuple(int(x) for x in v)
        nz = next((x for x in v if x != 0), 0)
        if nz != 0:
            rep = v if nz > 0 else tuple(-x for x in v)
            reps[rep] = None
    reps = np.array(sorted(reps), dtype=int).reshape(-1, 3)
    plus = np.array([index.get(tuple(v), -1) for v in reps], dtype=int)
    minus = np.array([index.get(tuple(-v), -1) for v in reps], dtype=int)
    return reps, plus, minus, index.get((0, 0, 0), -1)


class Interpolator:
    """Fourier-interpolate the operators of a :class:`~wbentropy.model.TBModel` at batches of k-points.

    Parameters
    ----------
    model : TBModel
        The real-space model.
    operators : sequence of str
        The store operators to evaluate (default "H" and "AA"): "H" always, with its first
        derivatives (unless ``derivatives=False``); "AA" adds the Berry connection A and its curl; any
        other name X its matrices X(k) as a block named X (:func:`plan_components`).
    second_derivatives : bool
        Also build d_a d_b H (needed for inverse masses / Fermi-sea Drude forms).
    position : bool
        False leaves out "AA" (the Berry connection terms).  If the model has no r(R), A = 0 and
        these are skipped.
    derivatives : bool
        False builds no k-derivatives (dH, d2H, curlA): with ``position=False``, H(k) alone, for band
        energies (a quarter of the operator array and of the Fourier sum's work).
    parallel : Parallel, optional
        Under MPI the operator array (the largest object) is held once per node in
        shared memory.
    """

    def __init__(self, *, model: TBModel, operators=("H", "AA"), second_derivatives: bool = False,
                 position: bool = True, derivatives: bool = True, parallel=None) -> None:
        self.model = model
        nR, nw, _ = model.H.shape
        self.num_wann = nw
        wanted = [name for name in operators if position or name != "AA"]
        self.components = plan_components(model, operators=wanted, second_derivatives=second_derivatives,
                                          derivatives=derivatives)
        self.operators = tuple(dict.fromkeys(["H"] + [c.operator for c in self.components]))
        self.has_position = "AA" in self.operators
        self._nfull = sum(c.size for c in self.components if c.group == "full")
        self._ndiag = sum(c.size for c in self.components if c.group == "diag")
        self._ncomp = 1 + self._nfull + self._ndiag
        self._reps, self._plus, self._minus, self._zero = hermitian_pairs(model.R)
        shape = (1 + 2 * len(self._reps), 2 * nw * nw * self._ncomp)
        build = self._build_operators
        self._ops = build() if parallel is None else parallel.shared_array(shape, float, build)
        self._Rp = self._reps.astype(float)
        self._fold_cache: dict = {}  # nfft -> (rho_plus, rho_minus) of fft_block
        self.layout = {}
        for group in ("full", "diag"):
            start = 0
            for c in self.components:
                if c.group == group:
                    self.layout[c.name] = (group, slice(start, start + c.size))
                    start += c.size
        self._store_blocks = tuple(c.name for c in self.components if c.build is _plain)

    @property
    def operator_bytes(self) -> int:
        """Memory of the R-space operator array (bytes)."""
        return int(self._ops.nbytes)

    def _build_operators(self) -> np.ndarray:
        """Real operator matrix (1 + 2 nP, 2 * ncomp * nw^2): rows X(0), X(R)+X(R)^+, i(X(R)-X(R)^+)."""
        model = self.model
        nR, nw, _ = model.H.shape
        Rc = model.R_cart  # (nR, 3)
        # one array (index -1: a missing R, zero), filled component by component (bounded peak memory)
        X = np.zeros((nR + 1, nw, nw, self._ncomp), complex)  # (i, j, c)
        X[:nR, ..., 0] = model.H
        c0 = 1
        for comp in self.components:
            X[:nR, ..., c0:c0 + comp.size] = comp.build(model.operators[comp.operator], Rc)
            c0 += comp.size
        dag = lambda Y: np.conj(np.swapaxes(Y, 1, 2))  # noqa: E731
        # Y(R) = [X(R) + X(-R)^+]/2: the Hermitian part of the Fourier sum (= X(R) for a Hermitian model)
        nP = len(self._plus)
        rows = np.empty((1 + 2 * nP,) + X.shape[1:], complex)  # (1 + 2nP, i, j, c), Hermitian in (i, j)
        rows[0] = 0.5 * (X[self._zero] + dag(X[[self._zero]])[0])
        for s0 in range(0, nP, 8):  # chunks keep the temporaries small
            sl = slice(s0, min(nP, s0 + 8))
            Yp = 0.5 * (X[self._plus[sl]] + dag(X[self._minus[sl]]))
            rows[1 + sl.start:1 + sl.stop] = Yp + dag(Yp)
            rows[1 + nP + sl.start:1 + nP + sl.stop] = 1j * (Yp - dag(Yp))
            del Yp
        del X
        # columns: H (i, j), then the "full" and the "diag" components, each row-interleaved (i, c, j)
        nrow, nf = len(rows), 1 + self._nfull
        cols = np.empty((nrow, rows[0].size), complex)
        start = 0
        for b in (rows[..., 0], np.moveaxis(rows[..., 1:nf], -1, 2), np.moveaxis(rows[..., nf:], -1, 2)):
            n = b[0].size
            cols[:, start:start + n].reshape(b.shape)[...] = b  # a view: no temporary copy of b
            start += n
        del rows
        return np.ascontiguousarray(cols).view(float)  # re, im side by side

    def __call__(self, k: np.ndarray) -> WannierGauge:
        """Evaluate at k-points ``k`` of shape (nk, 3), reduced coordinates."""
        k = np.atleast_2d(np.asarray(k, dtype=float))
        nk = k.shape[0]
        theta = 2.0 * np.pi * (k @ self._Rp.T)
        coef = np.concatenate([np.ones((nk, 1)), np.cos(theta), np.sin(theta)], axis=1)
        out = (coef @ self._ops).view(complex)  # (nk, ncomp * nw^2)
        return self._gauge(out)

    @property
    def fft_pays(self) -> bool:
        """True if :meth:`fft_block` is expected to be faster than the direct sum (``FFT_MIN_ROWS``)."""
        return self._ops.shape[0] >= FFT_MIN_ROWS

    def fft_block(self, *, offset: np.ndarray, nfft: tuple[int, int, int]) -> WannierGauge:
        """Wannier-gauge matrices at k = offset + m/nfft for all m of the nfft grid (C order).

        The mixed Fourier transform of the module docstring; equals ``self(k)`` at those points.

        Parameters
        ----------
        offset : (3,) float, reduced coordinates
        nfft : (n1, n2, n3) ints >= 1
        """
        import scipy.fft
        import scipy.sparse

        nfft = tuple(int(n) for n in nfft)
        nk = int(np.prod(nfft))
        rho_p, rho_m = self._fft_fold(nfft)
        nP = len(self._reps)
        phase = np.exp(2j * np.pi * (self._Rp @ np.asarray(offset, dtype=float)))  # e^{2 pi i K0.R}
        rows = np.concatenate([[0], rho_p, rho_m, rho_p, rho_m])
        cols = np.concatenate([[0], 1 + np.arange(nP), 1 + np.arange(nP), 1 + nP + np.arange(nP),
                               1 + nP + np.arange(nP)])
        vals = np.concatenate([[1.0], 0.5 * phase, 0.5 * np.conj(phase), -0.5j * phase, 0.5j * np.conj(phase)])
        fold = scipy.sparse.csr_matrix((vals, (rows, cols)), shape=(nk, 1 + 2 * nP))  # duplicates add up
        Y = fold @ self._ops.view(complex)  # (nk, ncol)
        out = scipy.fft.ifftn(Y.reshape(nfft + (-1,)), axes=(0, 1, 2), norm="forward", overwrite_x=True,
                              workers=1).reshape(nk, -1)
        return self._gauge(out)

    def _fft_fold(self, nfft: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray]:
        """Flat indices on the nfft grid of R mod nfft and -R mod nfft for the pair representatives."""
        if nfft not in self._fold_cache:
            n = np.array(nfft)
            flat = lambda R: np.ravel_multi_index(tuple(np.mod(R, n).T), nfft)  # noqa: E731
            self._fold_cache[nfft] = (flat(self._reps), flat(-self._reps))
        return self._fold_cache[nfft]

    def _gauge(self, out: np.ndarray) -> WannierGauge:
        """Split the (nk, ncomp * nw^2) complex array into the blocks of :class:`WannierGauge` (views)."""
        nk, nw = out.shape[0], self.num_wann
        H = out[:, :nw * nw].reshape(nk, nw, nw)
        a, b = nw * nw, nw * nw * (1 + self._nfull)
        full = out[:, a:b].reshape(nk, nw, self._nfull, nw)
        diag = out[:, b:].reshape(nk, nw, self._ndiag, nw)
        return WannierGauge(H=H, full=full, diag=diag, layout=self.layout, operators=self._store_blocks)

    def bytes_per_kpoint(self) -> int:
        """Approximate memory per k-point of one evaluation (bytes), for batch sizing."""
        return 16 * self.num_wann**2 * (self._ncomp * 3 + 8) + 16 * self._ops.shape[0]
