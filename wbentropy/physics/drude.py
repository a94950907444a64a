r"""Drude (intraband, relaxation-time) charge and entropy conductivities (paper Eqs. 19, 27).

Physics at a batch of k-points only (no grids, no SI units; see the style guide).  Natural units
:math:`e=\hbar=k_B=1`: energies in eV, lengths in Å, :math:`\eta=\hbar/\tau` in eV.

.. math::
    \sigma^D_{ab} = \frac{e^2\tau}{\hbar^2}\sum_n\int v^a_n v^b_n\Big(-\frac{\partial f}{\partial\epsilon}\Big)_n,
    \qquad
    \sigma^{sD}_{ab} = -\frac{e k_B\tau}{\hbar^2}\sum_n\int s_n\,\partial_a\partial_b\epsilon_n
                     = -\frac{e k_B\tau}{\hbar^2}\sum_n\int x_n\Big(-\frac{\partial f}{\partial\epsilon}\Big)_n
                       v^a_n v^b_n ,

:math:`x_n=(\epsilon_n-\mu)/k_BT`; the second form of :math:`\sigma^{sD}` (the first term of the
paper's Eq. 27) is its Fermi-surface form after an integration by parts
(:math:`\partial s/\partial\epsilon = -x(-\partial f/\partial\epsilon)`).  The SI factors are
constants of :mod:`wbentropy.constants`; the entropy-production Drude term is
:func:`wbentropy.physics.entropy_production.drude_integrand`.

Array conventions: ``vv`` (nk, nb, 3, 3) is :math:`v^a_nv^b_n` made gauge-invariant inside degenerate
groups (:func:`wbentropy.physics.geometry.velocity_products`), eV²·Å²; ``mdfde`` and ``x`` are
(nk, nb, G) on a grid G of chemical potentials; results are (nk, 3, 3, G).
"""
from __future__ import annotations

import numpy as np

__all__ = ["drude_conductivity_integrand", "entropy_drude_integrand"]


def drude_conductivity_integrand(*, vv: np.ndarray, mdfde: np.ndarray, eta) -> np.ndarray:
    r"""Per-k Drude conductivity :math:`\sum_n v^a_nv^b_n(-f'_n)/\eta`, Å² (natural units; the SI factor makes S/m).

    Parameters
    ----------
    vv : (nk, nb, 3, 3) float, eV²·Å²
    mdfde : (nk, nb, G) float
        :math:`-\partial f/\partial\epsilon`, 1/eV.
    eta : float
        :math:`\hbar/\tau`, eV.

    Returns
    -------
    (nk, 3, 3, G) float
    """
    return np.einsum("knab,knm->kabm", vv, mdfde, optimize=True) / eta


def entropy_drude_integrand(*, vv: np.ndarray, mdfde: np.ndarray, x: np.ndarray, eta) -> np.ndarray:
    r"""Per-k entropy Drude conductivity :math:`-\sum_n x_n(-f'_n)v^a_nv^b_n/\eta` (paper Eq. 27, first term).

    Parameters
    ----------
    vv : (nk, nb, 3, 3) float, eV²·Å²
    mdfde : (nk, nb, G) float
        :math:`-\partial f/\partial\epsilon`, 1/eV.
    x : (nk, nb, G) float
        :math:`(\epsilon_n-\mu)/k_BT`.
    eta : float
        :math:`\hbar/\tau`, eV.

    Returns
    -------
    (nk, 3, 3, G) float, Å² (natural units; the SI factor makes A/(m K))
    """
    return -np.einsum("knab,knm->kabm", vv, x * mdfde, optimize=True) / eta
