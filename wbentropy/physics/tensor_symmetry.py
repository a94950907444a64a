r"""How response tensors transform under a magnetic point group, and Neumann's projection.

A magnetic point-group operation g is a Cartesian rotation R (proper, det R = +1, or improper,
det R = -1), possibly combined with time reversal (an *antiunitary* operation).  A Cartesian
tensor T_{a1..ar} of rank r transforms as

.. math::

    (\rho(g) T)_{a_1..a_r} = s(g)\, R_{a_1 b_1} \cdots R_{a_r b_r}\, T_{b_1..b_r},

with the sign s(g) = (det R if the tensor is axial) x (-1 if g is antiunitary and the tensor odd
under time reversal).  A complex response tensor sigma_ab(omega) of a field and a current (the
absorptive optical conductivity) obeys Onsager's reciprocity sigma_ab(M) = sigma_ba(-M): an
antiunitary operation *transposes* its two indices (WannierBerri's ``transform_trans``, the
``transformTR`` of its ``OpticalConductivity``); its symmetric part is then even and its
antisymmetric (Hall) part odd under time reversal ("mixed").

Neumann's principle: in a crystal whose magnetic point group is G, every equilibrium response
satisfies T = rho(g) T for every g in G, i.e. T equals its group average

.. math::

    P T = \frac{1}{|G|} \sum_{g \in G} \rho(g) T,

the projection onto the symmetry-allowed form (Birss, *Symmetry and Magnetism*, 1966, ch. 4;
WannierBerri's ``PointGroup.symmetrize_tensor``).  P is linear in the 3^r components, so it is
one real (3^r, 3^r) matrix (:func:`projector`) applied to the trailing axes of any array of
tensors (:func:`project`).
"""
from __future__ import annotations

import numpy as np

__all__ = ["PARITIES", "TIME_REVERSAL", "representation", "projector", "project", "symmetry_residual"]

#: how a tensor transforms under an improper rotation: "polar" (true tensor) or "axial" (extra det R)
PARITIES = ("polar", "axial")
#: how it transforms under time reversal: even, odd, or "mixed" (antiunitary operations transpose a rank-2 tensor)
TIME_REVERSAL = ("even", "odd", "mixed")


def representation(rotation: np.ndarray, antiunitary: bool, *, rank: int, parity: str,
                   time_reversal: str) -> np.ndarray:
    """rho(g) of one operation as a real (3^rank, 3^rank) matrix on C-ordered tensor components.

    Parameters
    ----------
    rotation : (3, 3) array
        Cartesian rotation matrix R of the operation (orthogonal; det R = -1 for improper ones).
    antiunitary : bool
        True if the operation includes time reversal.
    rank : int
        Number of Cartesian indices (>= 1).
    parity : {"polar", "axial"}
        "axial" tensors get the extra factor det R.
    time_reversal : {"even", "odd", "mixed"}
        Antiunitary operations act as rho(R) ("even"), -rho(R) ("odd"), or rho(R) followed by the
        transposition of the two indices ("mixed", rank 2 only: Onsager's sigma_ab(M) = sigma_ba(-M)).

    Returns
    -------
    (3^rank, 3^rank) float array
        (rho T).ravel() = rho @ T.ravel() for a tensor T of shape (3,) * rank.
    """
    if parity not in PARITIES:
        raise ValueError(f"parity must be one of {PARITIES}, got {parity!r}")
    if time_reversal not in TIME_REVERSAL:
        raise ValueError(f"time_reversal must be one of {TIME_REVERSAL}, got {time_reversal!r}")
    if rank < 1:
        raise ValueError(f"rank must be >= 1, got {rank}")
    if time_reversal == "mixed" and rank != 2:
        raise ValueError(f"time_reversal 'mixed' (index transposition) is defined for rank 2, got rank {rank}")
    R = np.asarray(rotation, dtype=float)
    rho = R
    for _ in range(rank - 1):
        rho = np.kron(rho, R)
    sign = 1.0
    if parity == "axial":
        sign *= float(np.sign(np.linalg.det(R)))
    if antiunitary and time_reversal == "odd":
        sign = -sign
    rho = sign * rho
    if antiunitary and time_reversal == "mixed":
        swap = np.eye(9)[np.arange(9).reshape(3, 3).T.ravel()]  # (swap t).ravel() = t.T.ravel()
        rho = swap @ rho
    return rho


def projector(rotations: np.ndarray, antiunitary: np.ndarray, *, rank: int, parity: str,
              time_reversal: str) -> np.ndarray:
    """The group average P = (1/|G|) sum_g rho(g), a real (3^rank, 3^rank) matrix (idempotent for a group).

    Parameters
    ----------
    rotations : (n_ops, 3, 3) array
        Cartesian rotations of the operations of the magnetic point group (every operation once).
    antiunitary : (n_ops,) bool array
        Which operations include time reversal.
    rank, parity, time_reversal
        As :func:`representation`.
    """
    rotations = np.asarray(rotations, dtype=float)
    flags = np.asarray(antiunitary, dtype=bool)
    if rotations.ndim != 3 or rotations.shape[1:] != (3, 3) or flags.shape != rotations.shape[:1]:
        raise ValueError(f"need (n, 3, 3) rotations and (n,) flags, got {rotations.shape} and {flags.shape}")
    return np.mean([representation(R, bool(a), rank=rank, parity=parity, time_reversal=time_reversal)
                    for R, a in zip(rotations, flags)], axis=0)


def project(tensors: np.ndarray, P: np.ndarray, *, rank: int) -> np.ndarray:
    """P applied to the trailing ``rank`` Cartesian axes of ``tensors`` (leading axes: T, mu, omega ...).

    Real or complex input; the result has the input's shape and dtype kind.
    """
    T = np.asarray(tensors)
    tail = T.shape[T.ndim - rank:]
    if tail != (3,) * rank:
        raise ValueError(f"the last {rank} axes must have length 3, got shape {T.shape}")
    flat = T.reshape(T.shape[:T.ndim - rank] + (3 ** rank,))
    return (flat @ np.asarray(P).T).reshape(T.shape)


def symmetry_residual(tensors: np.ndarray, P: np.ndarray, *, rank: int) -> float:
    """max |T - P T| over every component and leading index: what the projection removes (T's units)."""
    T = np.asarray(tensors)
    if T.size == 0:
        return 0.0
    return float(np.max(np.abs(T - project(T, P, rank=rank))))
