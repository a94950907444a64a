"""Model Hamiltonians with known answers, as :class:`~wbentropy.model.TBModel` objects.

Used by the tests, the bundled example data and the documentation.
"""
from __future__ import annotations

import numpy as np

from .model import TBModel

__all__ = ["qwz_chern_model", "random_model", "flat_two_band_model"]

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
                   sources={"primary": "wbentropy.toy_models.qwz_chern_model", "mass": str(mass)})


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
                   sources={"primary": "wbentropy.toy_models.random_model", "seed": str(seed)})


def flat_two_band_model(*, gap: float = 2.0, dispersion: float = 0.0, a: float = 3.0, c: float = 5.0,
                        centre: float = 0.0) -> TBModel:
    """Two bands with a k-independent transition energy and tunable band-centre dispersion.

    H(k) = (gap/2) [cos(k.a1) sz + sin(k.a1) sx] + (centre + dispersion cos(k.a2)) 1

    Bands eps_+- = centre + dispersion cos(k.a2) +- gap/2: every interband transition is at
    hbar*omega = gap exactly, and eps_+ + eps_- = 2 (centre + dispersion cos(k.a2)) is
    constant over the Brillouin zone iff ``dispersion`` = 0.  The pseudospin turns
    uniformly along k_x, so the interband quantum metric is g^xx_+- = a^2/4 (Angstrom^2)
    at every k (all other components zero; the Berry curvature vanishes).  Orbitals at
    the origin (r(R) = 0).  Used to test the paper's Eq. (34) exactly.
    """
    half = 0.5 * gap
    terms = {
        (0, 0, 0): centre * np.eye(2, dtype=complex),
        (1, 0, 0): half * (_SZ / 2 + _SX / 2j),
        (-1, 0, 0): half * (_SZ / 2 - _SX / 2j),
        (0, 1, 0): 0.5 * dispersion * np.eye(2, dtype=complex),
        (0, -1, 0): 0.5 * dispersion * np.eye(2, dtype=complex),
    }
    R = np.array(list(terms.keys()))
    H = np.array(list(terms.values()))
    r = np.zeros(H.shape + (3,), dtype=complex)
    return TBModel(lattice=np.diag([a, a, c]), R=R, H=H, r=r, name="flat_two_band",
                   sources={"primary": "wbentropy.toy_models.flat_two_band_model", "gap": str(gap),
                            "dispersion": str(dispersion)})
