"""Brillouin-zone quantities: how band geometry is weighted by occupations and summed.

A :class:`Quantity` turns the :class:`~wbentropy.geometry.BandGeometry` of a batch of
k-points into the batch's contribution to a (nT, nmu, 3, 3) tensor in SI units, for
every requested (T, mu) at once.  The integrator adds batch contributions and divides
by the number of k-points of the mesh; it knows no physics.  The geometry of a
k-point is computed once and reused for all (T, mu) and all quantities.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import constants as C
from .geometry import BandGeometry
from .occupation import entropy, fermi, kT_eV

__all__ = ["Quantity", "QUANTITIES", "get_quantities", "pseudovector_to_tensor", "occupation_weighted_sum"]

#: Upper bound on the number of floats in one (T, mu, k, band) weight block.
_WEIGHT_BLOCK = 4_000_000


def pseudovector_to_tensor(p: np.ndarray) -> np.ndarray:
    """Antisymmetric tensor t_ab = eps_abc p_c from a pseudovector (..., 3) -> (..., 3, 3).

    Component order of p is (yz, zx, xy), so t_yz = p_x, t_zx = p_y, t_xy = p_z.
    """
    t = np.zeros(p.shape[:-1] + (3, 3))
    t[..., 1, 2], t[..., 2, 0], t[..., 0, 1] = p[..., 0], p[..., 1], p[..., 2]
    return t - np.swapaxes(t, -1, -2)


def occupation_weighted_sum(E: np.ndarray, X: np.ndarray, *, weight: Callable, temperatures, mus) -> np.ndarray:
    """sum_{k,n} w(E_kn; T, mu) X_kn... for every (T, mu).

    Parameters
    ----------
    E : (nk, nb) band energies, eV
    X : (nk, nb, ...) band-resolved quantity
    weight : callable(E, *, mu, kT) -> array, e.g. :func:`~wbentropy.occupation.fermi`
    temperatures : (nT,) K;  mus : (nmu,) eV

    Returns
    -------
    (nT, nmu, ...) array
    """
    mus = np.asarray(mus, dtype=float)
    nk, nb = E.shape
    tail = X.shape[2:]
    Xf = X.reshape(nk * nb, -1)
    out = np.empty((len(temperatures), len(mus), Xf.shape[1]))
    chunk = max(1, _WEIGHT_BLOCK // max(1, nk * nb))
    for iT, T in enumerate(temperatures):
        kT = kT_eV(T)
        for i0 in range(0, len(mus), chunk):
            mu = mus[i0:i0 + chunk, None, None]
            w = weight(E[None], mu=mu, kT=kT).reshape(mu.shape[0], nk * nb)
            out[iT, i0:i0 + chunk] = w @ Xf
    return out.reshape((len(temperatures), len(mus)) + tail)


@dataclass(frozen=True)
class Quantity:
    """One BZ-integrated response tensor.

    Attributes
    ----------
    name : str
        Name on the command line and in the HDF5 file.
    units : str
        SI units of the reported tensor.
    formula : str
        The formula, for file attributes and ``wbentropy show``.
    batch_sum : callable(geometry, *, temperatures, mus, volume) -> (nT, nmu, 3, 3)
        Sum over the batch's k-points of the integrand, already multiplied by the
        SI factor and divided by the cell volume; the integrator divides by the
        total number of k-points.
    needs_second_derivatives : bool
    """

    name: str
    units: str
    formula: str
    batch_sum: Callable[..., np.ndarray]
    needs_second_derivatives: bool = False


def _ahc_batch(geom: BandGeometry, *, temperatures, mus, volume) -> np.ndarray:
    """sigma^e_ab = -(e^2/hbar) sum_n int d^3k/(2pi)^3 f_n Omega_n^ab  [S/cm]."""
    p = occupation_weighted_sum(geom.E_group, geom.berry_curvature, weight=fermi, temperatures=temperatures, mus=mus)
    return pseudovector_to_tensor(p) * (C.AHC_FACTOR_S_PER_CM / volume)


def _entropy_hall_batch(geom: BandGeometry, *, temperatures, mus, volume) -> np.ndarray:
    """sigma^s_ab = +(e k_B/hbar) sum_n int d^3k/(2pi)^3 s_n Omega_n^ab  [A/(m K)] (paper Eq. 28, electrons q = -e)."""
    p = occupation_weighted_sum(geom.E_group, geom.berry_curvature, weight=entropy, temperatures=temperatures, mus=mus)
    return pseudovector_to_tensor(p) * (C.ENTROPY_HALL_FACTOR_A_PER_MK / volume)


QUANTITIES: dict[str, Quantity] = {
    q.name: q
    for q in [
        Quantity(name="ahc", units=C.UNITS["ahc"],
                 formula="sigma^e_ab = -(e^2/hbar) sum_n int d3k/(2pi)^3 f_n Omega_n^ab",
                 batch_sum=_ahc_batch),
        Quantity(name="entropy_hall", units=C.UNITS["entropy_hall"],
                 formula="sigma^s_ab = +(e k_B/hbar) sum_n int d3k/(2pi)^3 s_n Omega_n^ab (paper Eq. 28)",
                 batch_sum=_entropy_hall_batch),
    ]
}


def get_quantities(names) -> list[Quantity]:
    """Look up quantities by name; raises InputError listing the known names."""
    from .errors import InputError

    out = []
    for n in names:
        if n not in QUANTITIES:
            raise InputError(f"unknown quantity {n!r}; known quantities: {', '.join(sorted(QUANTITIES))}")
        out.append(QUANTITIES[n])
    return out
