"""Fermi-Dirac occupation, entropy density and their derivatives, numerically stable.

With x = (E - mu)/(k_B T):

    f(x)       = 1/(e^x + 1)                          = expit(-x)
    s(x)       = -f ln f - (1-f) ln(1-f)              = log1p(e^{-|x|}) + |x| expit(-|x|)
    -df/dE     = f (1 - f)/(k_B T)                    = expit(x) expit(-x)/(k_B T)
    g(x)       = -k_B T ln(1 + e^{-x})                (grand potential per state, paper below Eq. 24)

All forms are exact rewritings that never evaluate exp of a large positive number,
so they are stable for |x| up to 1e3 and beyond.  T = 0 is the step-function limit:
f = 1 for E <= mu and 0 above (WannierBerri's convention: a band exactly at mu counts
as occupied), s = 0, g = min(E - mu, 0).  Entropy is in units
of k_B; energies in eV; temperatures in K.
"""
from __future__ import annotations

import numpy as np
from scipy.special import expit

from .constants import KB_EV

__all__ = ["fermi", "entropy", "minus_dfermi", "grand_potential", "kT_eV", "fermi_shell_length"]


def kT_eV(temperature: float) -> float:
    """k_B T in eV for T in K."""
    return KB_EV * float(temperature)


def fermi(E: np.ndarray, *, mu: float, kT: float) -> np.ndarray:
    """Fermi-Dirac occupation f(E) (dimensionless); kT in eV, kT = 0 gives the step."""
    if kT == 0.0:
        return np.where(E <= mu, 1.0, 0.0)
    return expit(-(E - mu) / kT)


def entropy(E: np.ndarray, *, mu: float, kT: float) -> np.ndarray:
    """Entropy per state s = -f ln f - (1-f) ln(1-f) in units of k_B (paper Eq. 1, below Eq. 23)."""
    if kT == 0.0:
        return np.zeros(np.broadcast(E, mu).shape)
    ax = np.abs(E - mu) / kT
    return np.log1p(np.exp(-ax)) + ax * expit(-ax)


def minus_dfermi(E: np.ndarray, *, mu: float, kT: float) -> np.ndarray:
    """-df/dE = f(1-f)/kT in 1/eV.  Not defined as a function at kT = 0 (a delta)."""
    if kT == 0.0:
        raise ValueError("-df/dE is a delta function at T = 0; use a finite temperature")
    x = (E - mu) / kT
    return expit(x) * expit(-x) / kT


def grand_potential(E: np.ndarray, *, mu: float, kT: float) -> np.ndarray:
    """g = -kT ln(1 + e^{-(E-mu)/kT}) in eV (f = -dg/dmu, s = -dg/dT / k_B)."""
    if kT == 0.0:
        return np.minimum(E - mu, 0.0)
    x = (E - mu) / kT
    # ln(1+e^{-x}) = max(-x, 0) + log1p(e^{-|x|})
    return -kT * (np.maximum(-x, 0.0) + np.log1p(np.exp(-np.abs(x))))


#: A Fermi surface "crosses" a cell if |E - mu| < |v| * radius + SHELL_WIDTH * kT.
SHELL_WIDTH = 8.0


def fermi_shell_length(*, E: np.ndarray, speed: np.ndarray, temperatures, mus, radius: np.ndarray) -> np.ndarray:
    """k-space length on which occupations vary, near Fermi surfaces crossing each cell.

    For a point with bands E_n and speeds |v_n| = |dE_n/dk| in a cell of k-space radius
    rho, the thermal shell of width ~k_B T around the Fermi surface mu is present in the
    cell if |E_n - mu| < |v_n| rho + SHELL_WIDTH k_B T; there f, s and -df/dE change on the
    length k_B T/|v_n|.  Returns the smallest such length over bands, T > 0 and mu, or inf
    where no Fermi surface is near (T = 0 steps have no finite length and are left to the
    integrand-based error estimate).

    Parameters
    ----------
    E : (nk, nb) eV;  speed : (nk, nb) eV*Angstrom;  radius : (nk,) 1/Angstrom
    temperatures : (nT,) K;  mus : (nmu,) eV

    Returns
    -------
    (nk,) 1/Angstrom
    """
    ell = np.full(E.shape[0], np.inf)
    mus = np.asarray(mus, dtype=float)
    with np.errstate(divide="ignore"):
        for T in temperatures:
            kT = kT_eV(T)
            if kT <= 0:
                continue
            length = kT / speed  # (nk, nb)
            reach = speed * radius[:, None] + SHELL_WIDTH * kT
            dist = np.min(np.abs(E[:, :, None] - mus[None, None, :]), axis=2)  # nearest mu, (nk, nb)
            near = dist < reach
            ell = np.minimum(ell, np.min(np.where(near, length, np.inf), axis=1))
    return ell
