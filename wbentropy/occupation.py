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

:func:`box_mean` averages f, s or -df/dE over an energy range [E - W, E + W] from their
antiderivatives (int f dx = -ln(1 + e^{-x}); int s dx with the dilogarithm Li2), for the
adaptive integrator's box occupations; :func:`box_halfwidth` is the range a linear band
sweeps over a k-space box.
"""
from __future__ import annotations

import numpy as np
from scipy.special import expit, spence

from .constants import KB_EV

__all__ = ["fermi", "entropy", "minus_dfermi", "grand_potential", "kT_eV", "fermi_shell_length", "box_mean",
           "box_halfwidth"]


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


# ------------------------------------------------------------------ occupations averaged over a box
# Dimensionless antiderivatives A(x) of the weights in x = (E - mu)/kT, and the factor that turns
# (A(x+a) - A(x-a)) / (2a) into the mean of the weight over [E - W, E + W] (a = W/kT).
def _fermi_primitive(x):
    """int f dx = -ln(1 + e^{-x}): the grand potential per state in units of kT (g' = f)."""
    return grand_potential(x, mu=0.0, kT=1.0)


def _entropy_primitive(x):
    """int_0^x s dt = sign(x) (pi^2/6 - R(|x|)), R(y) = int_y^inf s = -2 Li2(-e^{-y}) + y ln(1 + e^{-y})."""
    y = np.abs(x)
    u = np.exp(-y)
    R = -2.0 * spence(1.0 + u) + y * np.log1p(u)  # scipy: spence(z) = Li2(1 - z)
    return np.sign(x) * (np.pi**2 / 6.0 - R)


def _mdfermi_primitive(x):
    """int (-df/dx) dx = -f(x)."""
    return -expit(-x)


_PRIMITIVES = {fermi: (_fermi_primitive, False), entropy: (_entropy_primitive, False),
               minus_dfermi: (_mdfermi_primitive, True)}
#: below this half-width (in k_B T) the mean is taken by a 3-point Gauss-Legendre rule (error ~ a^6),
#: above it from the antiderivative (whose difference would lose digits for small a)
_ANALYTIC_FROM = 0.1
#: beyond this many k_BT from mu the weights are constant (f = 0 or 1, s = 0) to e^-_FAR
_FAR = 45.0
_GL3 = (np.array([-np.sqrt(0.6), 0.0, np.sqrt(0.6)]), np.array([5.0, 8.0, 5.0]) / 18.0)


def box_mean(weight, E: np.ndarray, *, mu, kT: float, halfwidth: np.ndarray | None) -> np.ndarray:
    """Occupation weight averaged over the energies a band sweeps inside a k-space box.

    With the band linear across the box, E(k) = E + v.dk, the energies it takes are spread about
    E with a half-width W (:func:`box_halfwidth`); this returns the mean of ``weight`` (one of
    :func:`fermi`, :func:`entropy`, :func:`minus_dfermi`) over [E - W', E + W'], W' = max(W - kT, 0):

        <w> = (A(x + a) - A(x - a)) / (2a),  x = (E - mu)/kT, a = W'/kT, A' = w (dimensionless).

    A band whose energy changes by less than kT across the box is taken at E (W' = 0), so a
    resolved thermal shell keeps the Gauss rule's point values; a step or shell thinner than the
    box (T = 0: the occupied fraction of the box, as in the linear tetrahedron method) is
    integrated over the box instead of being hit or missed by the node (cf. adaptive smearing,
    Yates et al., PRB 75, 195121 (2007)).

    Parameters
    ----------
    weight : callable
        :func:`fermi`, :func:`entropy` or :func:`minus_dfermi`.
    E : array, eV;  mu : float or array (broadcast with E), eV;  kT : float, eV
    halfwidth : array (broadcast with E), eV, or None (then ``weight(E)``)

    Returns
    -------
    array, the units of ``weight``
    """
    if halfwidth is None:
        return weight(E, mu=mu, kT=kT)
    if weight not in _PRIMITIVES:
        raise ValueError(f"no box mean for the weight {getattr(weight, '__name__', weight)}")
    W = np.maximum(halfwidth - kT, 0.0)
    if kT == 0.0:
        if weight is entropy:
            return np.zeros(np.broadcast(E, mu, W).shape)
        if weight is minus_dfermi:
            return minus_dfermi(E, mu=mu, kT=kT)  # raises: a delta at T = 0
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = np.clip((mu - E + W) / (2.0 * W), 0.0, 1.0)
        return np.where(W > 0, frac, fermi(E, mu=mu, kT=kT))
    E, mu, W = np.broadcast_arrays(np.asarray(E, dtype=float), np.asarray(mu, dtype=float), W)
    out = np.array(weight(E, mu=mu, kT=kT), dtype=float)  # W' = 0, and far from mu (below)
    a = W / kT
    x = (E - mu) / kT
    small = (a > 0) & (a < _ANALYTIC_FROM)
    if small.any():
        Es, ms, Ws = E[small], mu[small], W[small]
        nodes, wts = _GL3
        out[small] = sum(c * weight(Es + t * Ws, mu=ms, kT=kT) for t, c in zip(nodes, wts))
    # the swept range reaches within _FAR k_BT of mu: elsewhere the weight is constant on it to e^-_FAR
    big = (a >= _ANALYTIC_FROM) & (np.abs(x) < a + _FAR)
    if big.any():
        xb, ab = x[big], a[big]
        prim, per_kT = _PRIMITIVES[weight]
        out[big] = (prim(xb + ab) - prim(xb - ab)) / (2.0 * ab) / (kT if per_kT else 1.0)
    return out


def box_halfwidth(*, velocity: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Half-width W of the energies a band sweeps inside a box, (nk, nb) eV.

    For E(k) = E + v.dk with dk uniform in the parallelepiped of edge vectors e_a, v.dk has the
    variance sum_a (v.e_a)^2 / 12; W = (1/2) sqrt(sum_a (v.e_a)^2) is the half-width of the uniform
    spread with that variance.

    Parameters
    ----------
    velocity : (nk, nb, 3) eV*Angstrom;  edges : (nk, 3, 3) 1/Angstrom (rows e_a)
    """
    return 0.5 * np.sqrt(np.sum(np.einsum("knc,kac->kna", velocity, edges) ** 2, axis=-1))
