"""Fermi-Dirac occupation, entropy density and their derivatives, numerically stable.

With x = (E - mu)/(k_B T):

    f(x)       = 1/(e^x + 1)                          = expit(-x)
    s(x)       = -f ln f - (1-f) ln(1-f)              = log1p(e^{-|x|}) + |x| expit(-|x|)
    -df/dE     = f (1 - f)/(k_B T)                    = expit(x) expit(-x)/(k_B T)
    g(x)       = -k_B T ln(1 + e^{-x})                (grand potential per state, paper below Eq. 24)

All forms are exact rewritings that never evaluate exp of a large positive number,
so they are stable for |x| up to 1e3 and beyond.  T = 0 is the step-function limit:
f = theta(mu - E) (1/2 at E = mu), s = 0, g = min(E - mu, 0).  Entropy is in units
of k_B; energies in eV; temperatures in K.
"""
from __future__ import annotations

import numpy as np
from scipy.special import expit

from .constants import KB_EV

__all__ = ["fermi", "entropy", "minus_dfermi", "grand_potential", "kT_eV"]


def kT_eV(temperature: float) -> float:
    """k_B T in eV for T in K."""
    return KB_EV * float(temperature)


def fermi(E: np.ndarray, *, mu: float, kT: float) -> np.ndarray:
    """Fermi-Dirac occupation f(E) (dimensionless); kT in eV, kT = 0 gives the step."""
    if kT == 0.0:
        return np.where(E < mu, 1.0, np.where(E > mu, 0.0, 0.5))
    return expit(-(E - mu) / kT)


def entropy(E: np.ndarray, *, mu: float, kT: float) -> np.ndarray:
    """Entropy per state s = -f ln f - (1-f) ln(1-f) in units of k_B (paper Eq. 1, below Eq. 23)."""
    if kT == 0.0:
        return np.where(E == mu, np.log(2.0), 0.0)
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
