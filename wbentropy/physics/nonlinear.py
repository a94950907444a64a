r"""Second-order (E²) DC responses: Berry curvature dipole, nonlinear Drude, intrinsic nonlinear Hall.

Physics at a batch of k-points only (no grids, no SI units; see the style guide).  Each response is
a Fermi-surface sum weighted by the energy derivative :math:`w'_n` of a band weight: the occupation
(:math:`w=f`, charge current) or the entropy per state (:math:`w=s`, entropy current, the paper's
f → s rule; :func:`weight_derivative`).  Natural units: energies eV, lengths Å; the SI factors
(with their powers of τ) are constants of :mod:`wbentropy.constants`.  Leading axis: ``nk``
k-points; ``wp`` is (nk, nb, G) on a grid G of chemical potentials; results carry G last.

Sign conventions are those of WannierBerri's calculators for electrons (q = −e), checked against
exact displaced-Fermi-sea integrals in ``tests/test_second_order_exact.py``.
"""
from __future__ import annotations

import numpy as np

from .occupation import minus_dfermi

__all__ = ["weight_derivative", "berry_curvature_dipole", "nonlinear_drude", "entropy_nonlinear_drude_exact",
           "intrinsic_nonlinear_hall"]


def weight_derivative(E: np.ndarray, *, mu, kT, kind: str) -> np.ndarray:
    r"""Energy derivative of the band weight, 1/eV: :math:`f'=-(-\partial f/\partial\epsilon)` (``kind="charge"``)
    or :math:`s'=-x(-\partial f/\partial\epsilon)`, :math:`x=(\epsilon-\mu)/k_BT` (``kind="entropy"``).

    Parameters
    ----------
    E : (nk, nb, 1) float
        Band (group) energies, eV, with a trailing axis for the grid of ``mu``.
    mu : (G,) float, eV;  kT : float, eV
    kind : {"charge", "entropy"}

    Returns
    -------
    (nk, nb, G) float
    """
    md = minus_dfermi(E, mu=mu, kT=kT)
    return -md if kind == "charge" else -((E - mu) / kT) * md


def berry_curvature_dipole(*, v: np.ndarray, omega: np.ndarray, wp: np.ndarray) -> np.ndarray:
    r"""Berry curvature dipole :math:`D_{bd}=-\sum_n v^b_n\Omega^d_n w'_n` (Sodemann & Fu, PRL 115, 216806
    (2015) Eq. 8; WannierBerri ``BerryDipole_FermiSurf``), dimensionless per k after /V.

    For electrons the current is :math:`j_a=-\epsilon_{adc}\chi_{bd}E_bE_c`, :math:`\chi=(e^3\tau/\hbar^2)D`:
    the displaced sea :math:`f_0(k+e\tau E/\hbar)` fed through :math:`-(e^2/\hbar)E\times\sum\int f\Omega`
    (the :math:`+\epsilon_{adc}` of WannierBerri's docstring has the opposite sign).  The entropy version is
    exact under f → s (docs/physics.md, section 9).

    Parameters
    ----------
    v : (nk, nb, 3) band velocities, eV·Å;  omega : (nk, nb, 3) Berry curvature (yz, zx, xy), Å²
    wp : (nk, nb, G) :func:`weight_derivative`, 1/eV

    Returns
    -------
    (nk, 3, 3, G): index b of v, d of Ω
    """
    return -np.einsum("knb,knd,knm->kbdm", v, omega, wp, optimize=True)


def nonlinear_drude(*, hessian: np.ndarray, v: np.ndarray, wp: np.ndarray) -> np.ndarray:
    r"""Nonlinear Drude integrand :math:`\sum_n \partial_a\partial_b\epsilon_n\,v^c_n\,w'_n` (WannierBerri
    ``NLDrude_FermiSurf``), eV per k after /V; :math:`j_a=\sigma_{abc}E_bE_c`,
    :math:`\sigma=(e^4\tau^2/\hbar^3)\times` this.

    Parameters
    ----------
    hessian : (nk, nb, 3, 3) :math:`\partial_a\partial_b\epsilon_n`, eV·Å²;  v : (nk, nb, 3), eV·Å
    wp : (nk, nb, G), 1/eV

    Returns
    -------
    (nk, 3, 3, 3, G)
    """
    return np.einsum("knab,knc,knm->kabcm", hessian, v, wp, optimize=True)


def entropy_nonlinear_drude_exact(*, hessian: np.ndarray, v: np.ndarray, wp: np.ndarray, mdfde: np.ndarray,
                                  kT) -> np.ndarray:
    r"""Exact second-order entropy current of the relaxation-time steady state, per k (eV per k after /V).

    With the relaxation applied to ρ (paper Eq. 10), the occupation to O(E²) is f0 + df1 + df2,
    df1 = h·∇f0, df2 = h_a h_b ∂_a∂_b f0 (h = eτE/ħ), and the entropy of the state is
    s(f0 + df1 + df2) = s + s' df2 + s'' df1²/2 (s' = ds/df), while the f → s rule (:func:`nonlinear_drude`
    with the entropy weight) displaces s itself: h_a h_b ∂_a∂_b s = s' df2 + s'' df1².  With
    s''(f) = −1/(f(1−f)) and ∂_a f0 = v_a f'(ε), the difference is −s'' df1²/2 = h_a h_b v_a v_b (−f')/(2kT),
    so the integrand is the f → s one plus :math:`-\tfrac12 v_av_bv_c(-\partial f/\partial\epsilon)/k_BT`.

    Parameters
    ----------
    hessian, v : as :func:`nonlinear_drude`
    wp : (nk, nb, G) :math:`s'` (:func:`weight_derivative` with ``kind="entropy"``), 1/eV
    mdfde : (nk, nb, G) :math:`-\partial f/\partial\epsilon`, 1/eV;  kT : eV

    Returns
    -------
    (nk, 3, 3, 3, G)
    """
    vvv = np.einsum("kna,knb,knc->knabc", v, v, v, optimize=True)
    return nonlinear_drude(hessian=hessian, v=v, wp=wp) - 0.5 * np.einsum("knabc,knm->kabcm", vvv, mdfde,
                                                                          optimize=True) / kT


def intrinsic_nonlinear_hall(*, v: np.ndarray, G: np.ndarray, wp: np.ndarray) -> np.ndarray:
    r"""Intrinsic (τ⁰) nonlinear Hall integrand :math:`\sum_n [v^aG^{bc}-(v^bG^{ac}+v^cG^{ab})/2]_n w'_n`,
    1/eV per k after /V (Gao, Yang & Niu, PRL 112, 166601 (2014)): the Hall current
    :math:`-(e^2/\hbar)E\times\int f\,\nabla\times(eGE)` of the field-induced Berry curvature;
    :math:`j_a=\chi_{abc}E_bE_c`, :math:`\chi=(e^3/\hbar)\times` this.

    Parameters
    ----------
    v : (nk, nb, 3), eV·Å
    G : (nk, nb, 3, 3) Berry connection polarizability
        (:func:`wbentropy.physics.geometry.connection_polarizability`), Å²/eV
    wp : (nk, nb, G), 1/eV

    Returns
    -------
    (nk, 3, 3, 3, G)
    """
    X = np.einsum("kna,knbc->knabc", v, G, optimize=True)
    X = X - 0.5 * (np.swapaxes(X, 2, 3) + np.moveaxis(X, 2, 4))  # v_a G_bc - (v_b G_ac + v_c G_ab)/2
    return np.einsum("knabc,knm->kabcm", X, wp, optimize=True)
