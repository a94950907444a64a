"""The Wannier tight-binding model: real-space matrices H(R) and r(R).

Convention (Wannier90's own, "convention II"): the Bloch sums carry no
Wannier-centre phase,

    H_mn(k) = sum_R exp(2 pi i k.R) H_mn(R),   H_mn(R) = <m 0|H|n R>,
    A_mn(k) = sum_R exp(2 pi i k.R) r_mn(R),   r_mn(R) = <m 0|r|n R>,

with k in reduced (fractional) coordinates and R integer lattice vectors.  The
Wannier centres sit on the diagonal of r(R = 0).  The arrays stored here are
final: divided by the Wigner-Seitz degeneracies and, where a ``_wsvec.dat``
was given, already expanded onto the minimal-distance (MDRS) images, so the
Fourier sum above is all an interpolator has to do.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import InputError

__all__ = ["TBModel", "hermitize_position"]


def hermitize_position(R: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Make position matrix elements exactly Hermitian.

    Wannier90 computes r(R) from a finite-difference formula that is Hermitian
    only to O(b^2).  The operator r is Hermitian, i.e.
    r_mn(R) = r_nm(-R)^*; we impose it as r_mn(R) -> [r_mn(R) + r_nm(-R)^*]/2.
    Without this, Berry curvatures depend at the 1e-3 level on whether Wannier
    centres are put into the Fourier phase.

    Parameters
    ----------
    R : (nR, 3) int array
        Lattice vectors (reduced coordinates); must contain -R for every R.
    r : (nR, nw, nw, 3) complex array
        Position matrix elements in Angstrom.

    Returns
    -------
    (nR, nw, nw, 3) complex array
    """
    index = {tuple(v): i for i, v in enumerate(np.asarray(R, dtype=int))}
    minus = np.array([index.get(tuple(-v), -1) for v in R])
    if np.any(minus < 0):
        missing = np.asarray(R)[minus < 0][0]
        raise InputError(f"the list of R vectors contains {tuple(missing)} but not its opposite; "
                         "cannot impose Hermiticity of r(R)")
    return 0.5 * (r + np.conj(np.swapaxes(r[minus], 1, 2)))


@dataclass(frozen=True, eq=False)
class TBModel:
    """Real-space Wannier Hamiltonian and position matrix elements.

    Parameters
    ----------
    lattice : (3, 3) float array
        Real-space lattice vectors as rows, in Angstrom.
    R : (nR, 3) int array
        Lattice vectors in reduced coordinates.
    H : (nR, nw, nw) complex array
        ``H[i, m, n] = <m 0|H|n R_i>`` in eV (final, see module docstring).
    r : (nR, nw, nw, 3) complex array or None
        ``r[i, m, n, a] = <m 0|r_a|n R_i>`` in Angstrom (Cartesian a), or None if
        no position matrix elements are known (then the Berry connection is
        taken as zero: all orbitals at the origin of their cell).
    name : str
        A label (the seed name).
    sources : dict
        Provenance: input file paths and reading options.
    spin_degeneracy : {1, 2}
        Electrons per band: 1 for spinor Wannier functions (spin-orbit coupling, or one channel of
        a collinear spin-polarised run), 2 for spinless ones (each band holds spin up and down).
        Every Brillouin-zone integral is multiplied by it.  The readers set it from ``spinors`` in
        ``SEED.win`` (:func:`wbentropy.io.load.load_model`); default 1.
    spin_degeneracy_source : str
        Where :attr:`spin_degeneracy` came from (recorded in the result file).
    """

    lattice: np.ndarray
    R: np.ndarray
    H: np.ndarray
    r: np.ndarray | None = None
    name: str = "model"
    sources: dict = field(default_factory=dict)
    spin_degeneracy: int = 1
    spin_degeneracy_source: str = "default: spinor Wannier functions (one electron per band)"

    def __post_init__(self) -> None:
        lattice = np.asarray(self.lattice, dtype=float)
        R = np.asarray(self.R, dtype=int)
        H = np.asarray(self.H, dtype=complex)
        where = self.sources.get("primary")
        if lattice.shape != (3, 3) or not np.all(np.isfinite(lattice)):
            raise InputError(f"lattice must be a finite 3x3 array, got shape {lattice.shape}", path=where)
        if abs(np.linalg.det(lattice)) < 1e-8:
            raise InputError("lattice vectors are linearly dependent (cell volume is zero)", path=where)
        if R.ndim != 2 or R.shape[1] != 3:
            raise InputError(f"R vectors must have shape (nR, 3), got {R.shape}", path=where)
        if H.ndim != 3 or H.shape[0] != R.shape[0] or H.shape[1] != H.shape[2]:
            raise InputError(f"H(R) must have shape (nR, nw, nw) with nR={R.shape[0]}, got {H.shape}",
                             path=where)
        if not np.all(np.isfinite(H)):
            raise InputError("H(R) contains NaN or Inf", path=where)
        if self.spin_degeneracy not in (1, 2) or isinstance(self.spin_degeneracy, bool):
            raise InputError(f"the spin degeneracy must be 1 (spinor Wannier functions) or 2 (spinless), "
                             f"got {self.spin_degeneracy!r}", path=where)
        object.__setattr__(self, "spin_degeneracy", int(self.spin_degeneracy))
        object.__setattr__(self, "lattice", lattice)
        object.__setattr__(self, "R", R)
        object.__setattr__(self, "H", H)
        if self.r is not None:
            r = np.asarray(self.r, dtype=complex)
            if r.shape != H.shape + (3,):
                raise InputError(f"r(R) must have shape {H.shape + (3,)}, got {r.shape}", path=where)
            if not np.all(np.isfinite(r)):
                raise InputError("r(R) contains NaN or Inf", path=where)
            object.__setattr__(self, "r", r)

    # ------------------------------------------------------------------ derived
    @property
    def num_wann(self) -> int:
        """Number of Wannier functions."""
        return self.H.shape[1]

    @property
    def volume(self) -> float:
        """Unit-cell volume in Angstrom^3."""
        return float(abs(np.linalg.det(self.lattice)))

    @property
    def reciprocal_lattice(self) -> np.ndarray:
        """Reciprocal lattice vectors as rows, 1/Angstrom, with a_i . b_j = 2 pi delta_ij."""
        return 2.0 * np.pi * np.linalg.inv(self.lattice).T

    @property
    def R_cart(self) -> np.ndarray:
        """Lattice vectors in Cartesian coordinates, (nR, 3), Angstrom."""
        return self.R @ self.lattice

    @property
    def centres(self) -> np.ndarray:
        """Wannier centres (nw, 3) in Angstrom: the diagonal of r(R=0), zeros if r is unknown."""
        if self.r is None:
            return np.zeros((self.num_wann, 3))
        i0 = self.index_of_R((0, 0, 0))
        return np.real(np.einsum("mma->ma", self.r[i0]))

    def index_of_R(self, vec) -> int:
        """Index of lattice vector ``vec`` in :attr:`R`; raises if absent."""
        hits = np.flatnonzero(np.all(self.R == np.asarray(vec, dtype=int), axis=1))
        if hits.size == 0:
            raise InputError(f"R = {tuple(vec)} is not among the model's lattice vectors",
                             path=self.sources.get("primary"))
        return int(hits[0])

    def digest(self) -> str:
        """sha256 (hex) of every number the model holds: lattice, R vectors, H(R) and r(R).

        Two models with the same digest give the same results to the last bit; any change of
        a number (H(0), a Wigner-Seitz degeneracy or MDRS image, a lattice vector, the spin
        degeneracy) changes it.  A spin degeneracy of 1 adds nothing to the hash, so the digests
        of spinor models are those of earlier versions.
        """
        import hashlib

        h = hashlib.sha256()
        for name, a in (("lattice", self.lattice), ("R", self.R), ("H", self.H), ("r", self.r)):
            if a is None:
                h.update(f"{name}:none;".encode())
                continue
            a = np.ascontiguousarray(a)
            h.update(f"{name}:{a.dtype.str}:{a.shape};".encode())
            h.update(a.tobytes())
        if self.spin_degeneracy != 1:
            h.update(f"spin_degeneracy:{self.spin_degeneracy};".encode())
        return h.hexdigest()

    def hermiticity_error(self) -> float:
        """max |H_mn(R) - H_nm(-R)^*| in eV."""
        index = {tuple(v): i for i, v in enumerate(self.R)}
        minus = np.array([index.get(tuple(-v), -1) for v in self.R])
        if np.any(minus < 0):
            return float("inf")
        return float(np.max(np.abs(self.H - np.conj(np.swapaxes(self.H[minus], 1, 2)))))

    # ------------------------------------------------------------ transformations
    def rotated(self, U: np.ndarray) -> "TBModel":
        """Same physics in a rotated Wannier basis |w'_n> = sum_m U_mn |w_m>.

        H'(R) = U^dagger H(R) U and r'(R) = U^dagger r(R) U; every physical
        output must be unchanged (gauge invariance).
        """
        U = np.asarray(U, dtype=complex)
        H = np.einsum("im,Rij,jn->Rmn", U.conj(), self.H, U, optimize=True)
        r = None
        if self.r is not None:
            r = np.einsum("im,Rija,jn->Rmna", U.conj(), self.r, U, optimize=True)
        return TBModel(lattice=self.lattice, R=self.R, H=H, r=r, name=self.name,
                       sources=dict(self.sources, rotated=True), spin_degeneracy=self.spin_degeneracy,
                       spin_degeneracy_source=self.spin_degeneracy_source)

    def with_spin_degeneracy(self, spin_degeneracy: int, *, source: str) -> "TBModel":
        """The same model with ``spin_degeneracy`` electrons per band (1 or 2), recorded as from ``source``."""
        import dataclasses

        return dataclasses.replace(self, spin_degeneracy=spin_degeneracy, spin_degeneracy_source=source)
