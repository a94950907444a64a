"""Occupations near Fermi surfaces inside integration cells (numerics of the adaptive integrator).

:func:`fermi_shell_length` finds the k-space length on which f, s and -df/dE vary in a cell;
:func:`box_mean` averages f, s or -df/dE over the energies a linear band takes in a k-space
box (:class:`OccupationBox`, from :func:`box_of_linear_band`), exactly, from their
antiderivatives up to the third (polylogarithms Li_2..Li_4), for the adaptive integrator's box
occupations.  The occupation functions themselves are in :mod:`wbentropy.physics.occupation`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..physics.occupation import _li_neg, entropy, fermi, kT_eV, minus_dfermi

__all__ = ["fermi_shell_length", "box_mean", "OccupationBox", "box_of_linear_band", "SHELL_WIDTH"]


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
@dataclass(frozen=True)
class OccupationBox:
    """The energies a linear band takes over the k-space box a point stands for.

    Over the box, E(k) = E + shift + sum_a u_a (v.e_a), u_a uniform in [-1/2, 1/2], e_a the box
    edges: ``halfwidths[..., a] = |v.e_a|/2`` (eV) and ``shift = v.(box centre - point)`` (eV).
    Built by :func:`box_of_linear_band`.
    """

    halfwidths: np.ndarray
    shift: np.ndarray


def box_of_linear_band(*, velocity: np.ndarray, edges: np.ndarray, centre_offset: np.ndarray) -> OccupationBox:
    """:class:`OccupationBox` of bands of velocity v over boxes of edge vectors e_a.

    Parameters
    ----------
    velocity : (nk, nb, 3) eV*Angstrom
    edges : (nk, 3, 3) 1/Angstrom, rows e_a
    centre_offset : (nk, 3) 1/Angstrom, box centre minus the point
    """
    ve = np.einsum("knc,kac->kna", velocity, edges)
    return OccupationBox(halfwidths=0.5 * np.abs(ve), shift=np.einsum("knc,kc->kn", velocity, centre_offset))


def _remainder_primitive(m: int, x: np.ndarray) -> np.ndarray:
    """R_m: the m-th antiderivative (vanishing at +inf) of r(x) = f(x) - theta(-x), m = 0..4.

    With u = e^{-|x|}: for x >= 0, R_m = (-1)^{m+1} Li_m(-u); for x < 0 the inversion formulas
    of Li_m(-e^{|x|}) give R_0 = -u/(1+u), R_1 = -ln(1+u), R_2 = pi^2/6 + Li_2(-u),
    R_3 = Li_3(-u) + pi^2 x/6, R_4 = Li_4(-u) + 7 pi^4/360 + pi^2 x^2/12: they grow at most
    like x^2, so differences of them keep their digits (unlike those of f's own antiderivatives,
    which grow like x^m/m!).
    """
    u = np.exp(-np.abs(x))
    neg = x < 0
    if m == 0:
        return np.where(neg, -1.0, 1.0) * u / (1.0 + u)
    if m == 1:
        return -np.log1p(u)
    li = _li_neg(m, u)
    if m == 2:
        return np.where(neg, np.pi**2 / 6 + li, -li)
    if m == 3:
        return np.where(neg, li + np.pi**2 * x / 6, li)
    if m == 4:
        return np.where(neg, li + 7 * np.pi**4 / 360 + np.pi**2 * x**2 / 12, -li)
    raise ValueError(m)


def _step_primitive(m: int, x: np.ndarray) -> np.ndarray:
    """Theta_m: the m-th antiderivative (vanishing at +inf) of theta(-x): (-1)^m max(-x, 0)^m / m!."""
    if m == 0:
        return np.where(x < 0, 1.0, 0.0)  # with R_0(0) = 1/2: f(0) = 1/2
    return (-1.0) ** m * np.maximum(-x, 0.0) ** m / math.factorial(m)


def _primitive(weight, m: int, x: np.ndarray) -> np.ndarray:
    """m-th antiderivative in x of the weight (dimensionless; -df/dx for minus_dfermi)."""
    if weight is fermi:
        return _step_primitive(m, x) + _remainder_primitive(m, x)
    if weight is entropy:  # s = x r - R_1, so S_m = x R_m - (m+1) R_{m+1} (the step parts cancel)
        return entropy(x, mu=0.0, kT=1.0) if m == 0 else x * _remainder_primitive(m, x) - (m + 1) * \
            _remainder_primitive(m + 1, x)
    if weight is minus_dfermi:  # -f' has antiderivative -f
        return minus_dfermi(x, mu=0.0, kT=1.0) if m == 0 else -_primitive(fermi, m - 1, x)
    raise ValueError(f"no box mean for the weight {getattr(weight, '__name__', weight)}")


#: a box whose band sweeps at most this many k_BT either side of its centre (sum_a |v.e_a|/2) keeps
#: the point's own weight: the thermal shell is resolved there, and the Gauss rule keeps its order
_RESOLVED = 1.0
#: a direction sweeping less than this (in k_BT, half-width) is averaged by a 3-point Gauss-Legendre
#: rule (error ~ a^6); wider ones by a difference of antiderivatives (exact, no digits lost)
_ANALYTIC_FROM = 0.1
#: beyond this many k_BT from mu the weights are constant (f = 0 or 1, s = 0) to e^-_FAR
_FAR = 45.0
_GL3 = (np.array([-np.sqrt(0.6), 0.0, np.sqrt(0.6)]), np.array([5.0, 8.0, 5.0]) / 18.0)


def _box_taps(a: np.ndarray, wide: np.ndarray):
    """Offsets (n, 27) and coefficients (n, 27) of the box mean, and the antiderivative order (n,):
    per direction either the difference (A(y + a) - A(y - a)) / (2a) (``wide``: two taps and a zero
    one) or the 3 Gauss nodes (all at y where a = 0)."""
    n = len(a)
    off = np.zeros((n, 1))
    coef = np.ones((n, 1))
    for d in range(a.shape[1]):
        ad, wd = a[:, d:d + 1], wide[:, d:d + 1]
        safe = np.where(wd, ad, 1.0)
        o = np.where(wd, np.array([-1.0, 1.0, 0.0]) * ad, _GL3[0] * ad)
        c = np.where(wd, np.array([-0.5, 0.5, 0.0]) / safe, _GL3[1])
        off = (off[:, :, None] + o[:, None, :]).reshape(n, -1)
        coef = (coef[:, :, None] * c[:, None, :]).reshape(n, -1)
    return off, coef, wide.sum(axis=1)


def box_mean(weight, E: np.ndarray, *, mu, kT: float, box: OccupationBox | None) -> np.ndarray:
    """Occupation weight averaged over the energies a linear band takes in a k-space box.

    With E(k) = E + s + sum_a u_a (v.e_a), u_a uniform in [-1/2, 1/2] (:class:`OccupationBox`:
    half-widths h_a = |v.e_a|/2, shift s), the mean of a weight w over the box is, in
    x = (E + s - mu)/kT and a_a = h_a/kT, with A_m the m-th antiderivative of w,

        <w> = prod_a [(A(. + a_a) - A(. - a_a)) / (2 a_a)] applied to A_3 at x   (exact for a linear band),

    a direction with a_a < 0.1 being averaged by a 3-point Gauss rule instead (error ~ a^6).
    For f the step theta(-x) is split off (its antiderivatives are piecewise polynomials) and the
    rest r = f - theta(-x) uses polylogarithms Li_2..Li_4 (:func:`_remainder_primitive`); for s,
    S_m = x R_m - (m+1) R_{m+1}.  At T = 0, <f> is the occupied fraction of the box (as in the
    linear tetrahedron method) and <s> = 0.  A box over which the band sweeps at most k_BT either
    side (sum_a a_a <= 1: a resolved thermal shell) keeps w(E), the point value, so that the Gauss
    rule keeps its order where the shell is resolved; so does a box whose energies all lie more than
    45 k_BT from mu.  Used by the adaptive integrator (``--box-occupations``): the boxes of a cell's
    Gauss nodes tile the cell, so a Fermi sea of a linear band with constant Berry curvature is
    integrated exactly.

    Parameters
    ----------
    weight : callable
        :func:`fermi`, :func:`entropy` or :func:`minus_dfermi`.
    E : array, eV;  mu : float or array (broadcast with E), eV;  kT : float, eV
    box : OccupationBox (fields broadcast with E; halfwidths with a last axis of 3), or None
        (then ``weight(E)``)

    Returns
    -------
    array, the units of ``weight``
    """
    if box is None:
        return weight(E, mu=mu, kT=kT)
    if weight not in (fermi, entropy, minus_dfermi):
        raise ValueError(f"no box mean for the weight {getattr(weight, '__name__', weight)}")
    if kT == 0.0 and weight is minus_dfermi:
        return minus_dfermi(E, mu=mu, kT=kT)  # raises: a delta at T = 0
    E = np.asarray(E, dtype=float)
    shape = np.broadcast_shapes(E.shape, np.shape(mu), box.shift.shape, box.halfwidths.shape[:-1])
    E, mu, shift = (np.broadcast_to(np.asarray(v, dtype=float), shape) for v in (E, mu, box.shift))
    h = np.broadcast_to(box.halfwidths, shape + box.halfwidths.shape[-1:])
    out = np.array(weight(E, mu=mu, kT=kT), dtype=float)
    if kT == 0.0:
        if weight is entropy:
            return out
        # the occupied fraction: the step's antiderivatives in energy units (no scale needed)
        scale, spread = 1.0, h.sum(axis=-1)
        active = (spread > 0) & (np.abs(E + shift - mu) < spread)
        primitive = _step_primitive
    else:
        scale = kT
        spread = h.sum(axis=-1) / kT
        active = (spread > _RESOLVED) & (np.abs(E + shift - mu) / kT < spread + _FAR)
        primitive = lambda m, y: _primitive(weight, m, y)  # noqa: E731
    if not active.any():
        return out
    x = ((E + shift - mu) / scale)[active]
    a = h[active] / scale
    if kT == 0.0:  # a step has no smooth scale for Gauss taps: every swept direction by differences,
        # dropping those that sweep < 1e-6 of the widest (their differences would lose digits)
        a = np.where(a > 1e-6 * a.max(axis=1, keepdims=True), a, 0.0)
        off, coef, m = _box_taps(a, a > 0)
    else:
        off, coef, m = _box_taps(a, a >= _ANALYTIC_FROM)
    y = x[:, None] + off
    val = np.zeros(len(x))
    for order in np.unique(m):
        sel = m == order
        val[sel] = np.sum(coef[sel] * primitive(int(order), y[sel]), axis=1)
    out[active] = val / (kT if weight is minus_dfermi else 1.0)
    return out
