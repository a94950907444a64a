"""Fermi-Dirac occupation, entropy density and their derivatives, numerically stable.

With x = (E - mu)/(k_B T):

    f(x)       = 1/(e^x + 1)                          = expit(-x)
    s(x)       = -f ln f - (1-f) ln(1-f)              = log1p(e^{-|x|}) + |x| expit(-|x|)
    -df/dE     = f (1 - f)/(k_B T)                    = expit(x) expit(-x)/(k_B T)
    -ds/dE     = x f (1 - f)/(k_B T)                  = x (-df/dE)
    g(x)       = -k_B T ln(1 + e^{-x})                (grand potential per state, paper below Eq. 24)
    c2(f)      = int_0^f ln^2((1-t)/t) dt = int_x^inf y^2 f(1-f) dy    (thermal Hall weight, Qin et al. 2011)

All forms are exact rewritings that never evaluate exp of a large positive number,
so they are stable for |x| up to 1e3 and beyond.  T = 0 is the step-function limit:
f = 1 for E <= mu and 0 above (WannierBerri's convention: a band exactly at mu counts
as occupied), s = 0, g = min(E - mu, 0).  Entropy is in units
of k_B; energies in eV; temperatures in K.

Their averages over the energies a linear band takes in a k-space box, for the adaptive
integrator, are in :mod:`wbentropy.integrate.boxes`.
"""
from __future__ import annotations

import numpy as np
from scipy.special import expit

from ..constants import KB_EV

__all__ = ["fermi", "entropy", "minus_dfermi", "minus_dentropy", "grand_potential", "kT_eV", "c2_of_x",
           "heat_weight", "minus_dheat_weight"]


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


def minus_dentropy(E: np.ndarray, *, mu: float, kT: float) -> np.ndarray:
    """-ds/dE = x f(1-f)/kT in 1/eV, x = (E - mu)/kT (from ds/dx = -x f(1-f)).  Undefined at kT = 0."""
    if kT == 0.0:
        raise ValueError("-ds/dE is not a function at T = 0; use a finite temperature")
    x = (E - mu) / kT
    return x * expit(x) * expit(-x) / kT


def grand_potential(E: np.ndarray, *, mu: float, kT: float) -> np.ndarray:
    """g = -kT ln(1 + e^{-(E-mu)/kT}) in eV (f = -dg/dmu, s = -dg/dT / k_B)."""
    if kT == 0.0:
        return np.minimum(E - mu, 0.0)
    x = (E - mu) / kT
    # ln(1+e^{-x}) = max(-x, 0) + log1p(e^{-|x|})
    return -kT * (np.maximum(-x, 0.0) + np.log1p(np.exp(-np.abs(x))))


# Li_n(-u) for 0 <= u <= 1, n = 2, 3, 4: the power series for u <= 1/2; above, the Taylor series in
# t = -ln u about u = 1 (radius pi): Li_n(-e^{-t}) = sum_j (-t)^j/j! Li_{n-j}(-1), Li_s(-1) = -eta(s).
_LI_SERIES_TERMS = 56   # 2^-56 < 1.4e-17
_LI_TAYLOR_TERMS = 32   # (ln 2/pi)^32 < 1e-20


def _eta_table(n_max: int, terms: int) -> dict:
    """Dirichlet eta(s) for s = n_max, n_max - 1, ..., n_max - terms + 1."""
    from scipy.special import bernoulli, zeta

    B = bernoulli(terms + 2)
    known = {4: 7 * np.pi**4 / 720, 3: 0.75 * zeta(3), 2: np.pi**2 / 12, 1: np.log(2.0), 0: 0.5}
    return {s: known[s] if s >= 0 else (2.0 ** (1 - s) - 1) * B[1 - s] / (1 - s)
            for s in range(n_max - terms + 1, n_max + 1)}


_ETA = _eta_table(4, _LI_TAYLOR_TERMS + 3)


def _li_neg(n: int, u: np.ndarray) -> np.ndarray:
    """Li_n(-u), 0 <= u <= 1 (n = 2, 3, 4), to ~1e-16 relative."""
    out = np.empty_like(u)
    lo = u <= 0.5
    ul = u[lo]
    term, acc = -ul, np.zeros_like(ul)
    for k in range(1, _LI_SERIES_TERMS + 1):
        acc += term / k**n
        term = -term * ul
    out[lo] = acc
    t = -np.log(u[~lo])
    power, acc = np.ones_like(t), np.zeros_like(t)
    for j in range(_LI_TAYLOR_TERMS):
        acc -= power * _ETA[n - j]
        power = power * (-t) / (j + 1)
    out[~lo] = acc
    return out


def c2_of_x(x: np.ndarray) -> np.ndarray:
    r"""c_2(f) = int_0^f ln^2((1-t)/t) dt of the occupation f = 1/(e^x + 1), dimensionless.

    The heat-current weight of the thermal Hall conductivity (Qin, Niu & Shi, PRL 107, 236601
    (2011)).  With t = f(y), ln((1-t)/t) = y and dt = -f(1-f) dy, so c_2 = int_x^inf y^2 f(1-f) dy:
    c_2 falls from pi^2/3 (x -> -inf, the filled sea) to 0 (x -> +inf), c_2(x = 0) = pi^2/6, and
    c_2(1 - f) = pi^2/3 - c_2(f), i.e. c_2(-x) = pi^2/3 - c_2(x).  For x >= 0, by parts with the
    antiderivatives -ln(1 + e^{-y}) of f and Li_2(-e^{-y}) of ln(1 + e^{-y}),

        c_2(x) = x^2 f(x) + 2 x ln(1 + e^{-x}) - 2 Li_2(-e^{-x}),

    a sum of positive terms of size ~ x^2 e^{-x} (no cancellation; Li_2(-u) by the series of
    :func:`_li_neg`, which keeps its relative accuracy for tiny u, unlike scipy's
    ``spence(1 + u)``); x < 0 by the reflection.  Relative accuracy 1e-13 for |x| <= 700 (the result
    underflows to 0 beyond x ~ 745); no exp of a positive number.
    """
    x = np.asarray(x, dtype=float)
    ax = np.abs(x)
    u = np.exp(-ax)
    tail = ax * ax * expit(-ax) + 2.0 * ax * np.log1p(u) - 2.0 * _li_neg(2, u.ravel()).reshape(u.shape)
    return np.where(x >= 0, tail, np.pi**2 / 3 - tail)


def heat_weight(E: np.ndarray, *, mu: float, kT: float) -> np.ndarray:
    """Thermal Hall band weight k_BT c_2(f(E)) in eV (c_2: :func:`c2_of_x`).

    kappa = -(k_B^2 T/hbar) sum_n int c_2(f_n) Omega_n = -(k_B/hbar) sum_n int [k_BT c_2(f_n)] Omega_n
    (SI factor: :data:`wbentropy.constants.THERMAL_HALL_FACTOR_W_PER_MK`).  At T = 0 the weight is 0
    (k_BT c_2 -> 0: the thermal Hall conductivity vanishes at T = 0, while kappa/T -> L_0 sigma stays
    finite).
    """
    if kT == 0.0:
        return np.zeros(np.broadcast(E, mu).shape)
    return kT * c2_of_x((E - mu) / kT)


def minus_dheat_weight(E: np.ndarray, *, mu: float, kT: float) -> np.ndarray:
    """-d(k_BT c_2)/dE = x^2 f(1-f), dimensionless, x = (E - mu)/kT (from dc_2/dx = -x^2 f(1-f))."""
    if kT == 0.0:
        return np.zeros(np.broadcast(E, mu).shape)
    x = (E - mu) / kT
    return x * x * expit(x) * expit(-x)
