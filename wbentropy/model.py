"""The Wannier tight-binding model: a store of real-space operators X(R) by name.

Convention (Wannier90's own, "convention II"): the Bloch sums carry no
Wannier-centre phase,

    H_mn(k) = sum_R exp(2 pi i k.R) H_mn(R),   H_mn(R) = <m 0|H|n R>,
    A_mn(k) = sum_R exp(2 pi i k.R) r_mn(R),   r_mn(R) = <m 0|r|n R>,

and the same for every operator of the store, with k in reduced (fractional) coordinates and R
integer lattice vectors.  The Wannier centres sit on the diagonal of r(R = 0).  The arrays stored
here are final: divided by the Wigner-Seitz degeneracies and, where a ``_wsvec.dat`` was given,
already expanded onto the minimal-distance (MDRS) images, so the Fourier sum above is all an
interpolator has to do.

The operators are held by name (:attr:`TBModel.operators`), with WannierBerri's names for its
``System_R._XX_R`` arrays: "H" (its ``Ham``), "AA" (position), and room for "SS" (spin), "BB",
"CC", ... (:data:`OPERATORS`).  ``TBModel.H`` and ``TBModel.r`` are the "H" and "AA" entries.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from .errors import InputError

__all__ = ["TBModel", "OperatorSpec", "OPERATORS", "hermitize_position"]

_DEFAULT_SPIN_SOURCE = "default: spinor Wannier functions (one electron per band)"


@dataclass(frozen=True)
class OperatorSpec:
    """What one operator of the store is.

    Attributes
    ----------
    name : str
        Its name in :attr:`TBModel.operators`.
    description, units : str
        The matrix element <m 0|X|n R> it holds and its units.
    shape : tuple of int
        Trailing shape of its array after (nR, nw, nw): () for a scalar, (3,) for a Cartesian vector.
    wannierberri : str
        The key of the same array in WannierBerri's ``System_R`` (``set_R_mat``/``get_R_mat``).
    position : bool
        True for the position operator itself: its R = 0 diagonal holds the Wannier centres, which
        WannierBerri's convention I leaves out (see :mod:`wbentropy.symmetry`).
    origin_dependent : bool
        The matrix elements depend on where the position origin is (convention I and II differ).
    """

    name: str
    description: str
    units: str
    shape: tuple[int, ...]
    wannierberri: str
    position: bool = False
    origin_dependent: bool = False


#: The operators a model may hold, by name (WannierBerri's ``System_R`` names; "H" is its "Ham").
#: Every name is accepted in the store; these are checked for their shape.
OPERATORS: dict[str, OperatorSpec] = {s.name: s for s in (
    OperatorSpec("H", "Hamiltonian <m0|H|nR>", "eV", (), "Ham"),
    OperatorSpec("AA", "position <m0|r_a|nR>", "Angstrom", (3,), "AA", position=True, origin_dependent=True),
    OperatorSpec("SS", "spin <m0|sigma_a|nR> (Pauli matrices: spin in units of hbar/2)", "1", (3,), "SS"),
    OperatorSpec("BB", "<m0|H (r_a - R_a)|nR> (WannierBerri's BB_R)", "eV*Angstrom", (3,), "BB",
                 origin_dependent=True),
    OperatorSpec("CC", "i eps_abc <m0|r_a H (r_b - R_b)|nR> (WannierBerri's CC_R)", "eV*Angstrom^2", (3,), "CC",
                 origin_dependent=True),
)}

#: How the arrays are named in messages (and in the content digest, for "H" and "AA").
_LABELS = {"H": "H(R)", "AA": "r(R)"}


def _label(name: str) -> str:
    return _LABELS.get(name, f"{name}(R)")


def hermitize_position(R: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Make real-space matrix elements exactly Hermitian (any operator of the store; r by name).

    Wannier90 computes r(R) from a finite-difference formula that is Hermitian
    only to O(b^2).  The operator r is Hermitian, i.e.
    r_mn(R) = r_nm(-R)^*; we impose it as r_mn(R) -> [r_mn(R) + r_nm(-R)^*]/2.
    Without this, Berry curvatures depend at the 1e-3 level on whether Wannier
    centres are put into the Fourier phase.

    Parameters
    ----------
    R : (nR, 3) int array
        Lattice vectors (reduced coordinates); must contain -R for every R.
    r : (nR, nw, nw, ...) complex array
        Matrix elements, e.g. the position in Angstrom.

    Returns
    -------
    (nR, nw, nw, ...) complex array
    """
    index = {tuple(v): i for i, v in enumerate(np.asarray(R, dtype=int))}
    minus = np.array([index.get(tuple(-v), -1) for v in R])
    if np.any(minus < 0):
        missing = np.asarray(R)[minus < 0][0]
        raise InputError(f"the list of R vectors contains {tuple(missing)} but not its opposite; "
                         "cannot impose Hermiticity of r(R)")
    return 0.5 * (r + np.conj(np.swapaxes(r[minus], 1, 2)))


def _checked_store(store: dict, *, nR: int, where) -> dict:
    """The operators as complex arrays, "H" first and "AA" second; raises on a wrong shape, NaN or Inf."""
    H = np.asarray(store["H"], dtype=complex)
    if H.ndim != 3 or H.shape[0] != nR or H.shape[1] != H.shape[2]:
        raise InputError(f"H(R) must have shape (nR, nw, nw) with nR={nR}, got {H.shape}", path=where)
    out = {}
    for key in ["H", "AA"] + [k for k in store if k not in ("H", "AA")]:
        if store.get(key) is None:
            continue
        X = np.asarray(store[key], dtype=complex)
        spec = OPERATORS.get(key)
        want = H.shape + spec.shape if spec is not None else H.shape
        if X.shape[:3] != H.shape or (spec is not None and X.shape != want):
            raise InputError(f"{_label(key)} must have shape {want}, got {X.shape}", path=where)
        if not np.all(np.isfinite(X)):
            raise InputError(f"{_label(key)} contains NaN or Inf", path=where)
        out[key] = X
    return out


@dataclass(frozen=True, eq=False, init=False)
class TBModel:
    """Real-space Wannier operators: the Hamiltonian, position matrix elements and any other, by name.

    Parameters (keyword-only)
    -------------------------
    lattice : (3, 3) float array
        Real-space lattice vectors as rows, in Angstrom.
    R : (nR, 3) int array
        Lattice vectors in reduced coordinates.
    H : (nR, nw, nw) complex array
        ``H[i, m, n] = <m 0|H|n R_i>`` in eV (final, see module docstring): the store's "H".
    r : (nR, nw, nw, 3) complex array or None
        ``r[i, m, n, a] = <m 0|r_a|n R_i>`` in Angstrom (Cartesian a), or None if
        no position matrix elements are known (then the Berry connection is
        taken as zero: all orbitals at the origin of their cell): the store's "AA".
    operators : dict name -> array, optional
        The store itself (:data:`OPERATORS`): every operator as (nR, nw, nw[, 3 ...]).  ``H`` and ``r``,
        if given too, add "H" and "AA" to it.
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

    Attributes
    ----------
    operators : dict name -> array
        The store, "H" first, then "AA" if known, then the others in the order given.  Treat it as
        read-only: a model with other operators is made by :meth:`with_operators`.
    """

    lattice: np.ndarray
    R: np.ndarray
    operators: dict
    name: str = "model"
    sources: dict = field(default_factory=dict)
    spin_degeneracy: int = 1
    spin_degeneracy_source: str = _DEFAULT_SPIN_SOURCE

    def __init__(self, *, lattice, R, H=None, r=None, operators: dict | None = None, name: str = "model",
                 sources: dict | None = None, spin_degeneracy: int = 1,
                 spin_degeneracy_source: str = _DEFAULT_SPIN_SOURCE) -> None:
        store = dict(operators or {})
        for key, value in (("H", H), ("AA", r)):
            if value is not None:
                if key in store:
                    raise InputError(f"{_label(key)} given twice (as an argument and in operators)")
                store[key] = value
        sources = {} if sources is None else sources
        where = sources.get("primary")
        lattice = np.asarray(lattice, dtype=float)
        R = np.asarray(R, dtype=int)
        if lattice.shape != (3, 3) or not np.all(np.isfinite(lattice)):
            raise InputError(f"lattice must be a finite 3x3 array, got shape {lattice.shape}", path=where)
        if abs(np.linalg.det(lattice)) < 1e-8:
            raise InputError("lattice vectors are linearly dependent (cell volume is zero)", path=where)
        if R.ndim != 2 or R.shape[1] != 3:
            raise InputError(f"R vectors must have shape (nR, 3), got {R.shape}", path=where)
        if "H" not in store:
            raise InputError("a model needs its Hamiltonian H(R)", path=where)
        store = _checked_store(store, nR=R.shape[0], where=where)
        if spin_degeneracy not in (1, 2) or isinstance(spin_degeneracy, bool):
            raise InputError(f"the spin degeneracy must be 1 (spinor Wannier functions) or 2 (spinless), "
                             f"got {spin_degeneracy!r}", path=where)
        values = dict(lattice=lattice, R=R, operators=store, name=name, sources=sources,
                      spin_degeneracy=int(spin_degeneracy), spin_degeneracy_source=spin_degeneracy_source)
        for key, value in values.items():
            object.__setattr__(self, key, value)  # frozen dataclass

    @property
    def H(self) -> np.ndarray:
        """The Hamiltonian H(R), (nR, nw, nw) complex, eV: the store's "H"."""
        return self.operators["H"]

    @property
    def r(self) -> np.ndarray | None:
        """Position matrix elements r(R), (nR, nw, nw, 3) complex, Angstrom, or None: the store's "AA"."""
        return self.operators.get("AA")

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
        """sha256 (hex) of every number the model holds: lattice, R vectors and every operator of the store.

        Two models with the same digest give the same results to the last bit; any change of
        a number (H(0), a Wigner-Seitz degeneracy or MDRS image, a lattice vector, the spin
        degeneracy) changes it.  "H" and "AA" are hashed as "H" and "r" (an absent r as "none"), the
        other operators under their names; a spin degeneracy of 1 and an empty rest of the store add
        nothing to the hash, so the digests of models holding H and r are those of earlier versions.
        """
        import hashlib

        h = hashlib.sha256()
        arrays = [("lattice", self.lattice), ("R", self.R), ("H", self.H), ("r", self.r)]
        arrays += [(name, X) for name, X in self.operators.items() if name not in ("H", "AA")]
        for name, a in arrays:
            if a is None:
                h.update(f"{name}:none;".encode())
                continue
            a = np.ascontiguousarray(a)
            h.update(f"{name}:{a.dtype.str}:{a.shape};".encode())
            h.update(a.tobytes())
        if self.spin_degeneracy != 1:
            h.update(f"spin_degeneracy:{self.spin_degeneracy};".encode())
        return h.hexdigest()

    def hermiticity_error(self, operator: str = "H") -> float:
        """max |X_mn(R) - X_nm(-R)^*| of the store's ``operator`` (default the Hamiltonian, eV)."""
        index = {tuple(v): i for i, v in enumerate(self.R)}
        minus = np.array([index.get(tuple(-v), -1) for v in self.R])
        if np.any(minus < 0):
            return float("inf")
        X = self.operators[operator]
        return float(np.max(np.abs(X - np.conj(np.swapaxes(X[minus], 1, 2)))))

    # ------------------------------------------------------------ transformations
    def hermitized(self) -> "TBModel":
        """The same model with every operator of the store made exactly Hermitian, X_mn(R) = X_nm(-R)^*
        (:func:`hermitize_position`)."""
        return self.with_operators(**{name: hermitize_position(self.R, X) for name, X in self.operators.items()})

    def rotated(self, U: np.ndarray) -> "TBModel":
        """Same physics in a rotated Wannier basis |w'_n> = sum_m U_mn |w_m>.

        X'(R) = U^dagger X(R) U for every operator of the store (H, r, ...); every physical
        output must be unchanged (gauge invariance).
        """
        U = np.asarray(U, dtype=complex)
        rotated = {}
        for name, X in self.operators.items():
            tail = "abcdefgh"[:X.ndim - 3]  # Cartesian indices
            rotated[name] = np.einsum(f"im,Rij{tail},jn->Rmn{tail}", U.conj(), X, U, optimize=True)
        return dataclasses.replace(self, operators=rotated, sources=dict(self.sources, rotated=True))

    def with_operators(self, **operators: np.ndarray) -> "TBModel":
        """The same model with the given operators added to (or replacing those of) the store, e.g.
        ``model.with_operators(SS=spin)`` with ``spin`` of shape (nR, nw, nw, 3)."""
        return dataclasses.replace(self, operators={**self.operators, **operators})

    def with_spin_degeneracy(self, spin_degeneracy: int, *, source: str) -> "TBModel":
        """The same model with ``spin_degeneracy`` electrons per band (1 or 2), recorded as from ``source``."""
        return dataclasses.replace(self, spin_degeneracy=spin_degeneracy, spin_degeneracy_source=source)
