"""Model Hamiltonians with known answers, as :class:`~wbentropy.model.TBModel` objects.

Used by the tests, the bundled example data and the documentation.
"""
from __future__ import annotations

import numpy as np

from .model import TBModel

__all__ = ["qwz_chern_model", "random_model"]

_SX = np.array([[0, 1], [1, 0]], dtype=complex)
_SY = np.array([[0, -1j], [1j, 0]], dtype=complex)
_SZ = np.array([[1, 0], [0, -1]], dtype=complex)


def qwz_chern_model(*, mass: float = -1.0, hopping: float = 1.0, a: float = 3.0, c: float = 5.0,
                    tz: float = 0.0, onsite: float = 0.0) -> TBModel:
    """Stacked Qi-Wu-Zhang Chern insulator on a tetragonal lattice.

    H(k) = t [sin(k.a1) sx + sin(k.a2) sy + (m + cos(k.a1) + cos(k.a2)) sz]
           + (onsite + 2 tz cos(k.a3)) 1

    Each layer has Chern number C = -sign(m) of the lower band for 0 < |m| < 2 (in the
    convention C = (1/2pi) int Omega_xy d^2k) and 0 for |m| > 2; the interlayer hopping
    ``tz`` shifts both bands equally, keeping the gap open for |tz| small.  The two
    orbitals sit at the origin (r(R) = 0).

    Parameters
    ----------
    mass : float
        m (dimensionless, in units of t).
    hopping : float
        t in eV.
    a, c : float
        In-plane and out-of-plane lattice constants, Angstrom.
    tz : float
        Interlayer hopping, eV.
    onsite : float
        Energy offset, eV.
    """
    terms = {
        (0, 0, 0): hopping * mass * _SZ + onsite * np.eye(2),
        (1, 0, 0): hopping * (_SX / 2j + _SZ / 2),
        (-1, 0, 0): hopping * (-_SX / 2j + _SZ / 2),
        (0, 1, 0): hopping * (_SY / 2j + _SZ / 2),
        (0, -1, 0): hopping * (-_SY / 2j + _SZ / 2),
        (0, 0, 1): tz * np.eye(2),
        (0, 0, -1): tz * np.eye(2),
    }
    R = np.array(list(terms.keys()))
    H = np.array(list(terms.values()))
    r = np.zeros(H.shape + (3,), dtype=complex)
    lattice = np.diag([a, a, c])
    return TBModel(lattice=lattice, R=R, H=H, r=r, name="qwz_chern",
                   sources={"primary": "wbentropy.models.qwz_chern_model", "mass": str(mass)})


def random_model(*, num_wann: int = 4, radius: int = 1, seed: int = 0, hopping: float = 0.5,
                 position: float = 0.05, lattice: np.ndarray | None = None) -> TBModel:
    """A random Hermitian tight-binding model with random Hermitian position matrices.

    H(R) and r(R) satisfy X_mn(R) = X_nm(-R)^* exactly; hoppings decay with |R|.
    Wannier centres (diagonal of r(0)) are random inside the cell.  Time reversal
    is broken, so Berry curvatures are generic and nonzero.
    """
    rng = np.random.default_rng(seed)
    if lattice is None:
        lattice = np.array([[2.9, 0.1, 0.0], [0.2, 3.1, 0.1], [0.0, 0.3, 3.3]])
    rng_R = range(-radius, radius + 1)
    R = np.array([(i, j, k) for i in rng_R for j in rng_R for k in rng_R])
    nR = len(R)
    index = {tuple(v): i for i, v in enumerate(R)}
    minus = np.array([index[tuple(-v)] for v in R])
    decay = np.exp(-np.linalg.norm(R, axis=1))[:, None, None]
    H = (rng.normal(size=(nR, num_wann, num_wann)) + 1j * rng.normal(size=(nR, num_wann, num_wann))) * decay
    H = hopping * 0.5 * (H + np.conj(np.swapaxes(H[minus], 1, 2)))
    r = (rng.normal(size=(nR, num_wann, num_wann, 3)) + 1j * rng.normal(size=(nR, num_wann, num_wann, 3)))
    r = position * 0.5 * (r + np.conj(np.swapaxes(r[minus], 1, 2))) * decay[..., None]
    i0 = index[(0, 0, 0)]
    centres = rng.uniform(0, 1, size=(num_wann, 3)) @ lattice
    r[i0][np.arange(num_wann), np.arange(num_wann)] = centres
    return TBModel(lattice=lattice, R=R, H=H, r=r, name=f"random{num_wann}",
                   sources={"primary": "wbentropy.models.random_model", "seed": str(seed)})
