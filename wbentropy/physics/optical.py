r"""Interband optical (AC) charge and entropy conductivities, absorptive part (paper Eqs. 32–33).

Physics at a batch of k-points only (no grids, no SI units; see the style guide).

Formula
-------
With :math:`r^a_{nm}` the interband Berry connection, :math:`\epsilon_{mn}=\epsilon_m-\epsilon_n`
and a band weight :math:`w_n` (the occupation :math:`f_n` for charge, Eq. 32, or the
entropy per state :math:`s_n` for entropy, Eq. 33; :math:`w_{nm}=w_n-w_m`):

.. math::
    \sigma^{\rm abs}_{ab}(\omega) = \pi\sum_{n\ne m}\epsilon_{mn}\,
        r^a_{nm}r^b_{mn}\,w_{nm}\,\delta_\gamma(\epsilon_{mn}-\omega),

in natural units :math:`e=\hbar=1` (energies eV, lengths Å; times :math:`1/V_{\rm cell}`
and the BZ average this is a conductivity in units of :math:`e^2/\hbar` per Å).

* :math:`\delta_\gamma` is the broadened delta function of the chosen shape and width
  :math:`\gamma` (:func:`broadened_delta`): each transition contributes a Lorentzian or a
  Gaussian line of width γ centred at its transition energy instead of a spike; a
  finite mesh needs γ larger than the spread of transition energies between
  neighbouring k-points, otherwise the spectrum is a comb.  γ plays the role of a
  phenomenological dephasing rate (Lorentzian: γ = ħ/τ of Eq. 13 with ω ≠ 0).
* The prefactor is the transition energy :math:`\epsilon_{mn}`; the paper writes ω,
  which is the same on the resonance.  With ε_mn the Lorentzian result is exactly the
  Hermitian (absorptive) part of the Kubo formula
  :math:`\sigma_{ab}=\sum \epsilon_{mn}\,i r^a_{nm}r^b_{mn}w_{nm}/(\epsilon_{mn}-\omega-i\gamma)`
  that WannierBerri's ``calculators.dynamic.OpticalConductivity`` evaluates; they
  differ by O(γ/ω) relative in the line tails.
* The tensor is Hermitian: :math:`\mathrm{Re}\,\sigma_{ab}` symmetric (:math:`g_{nm}`,
  linear dichroism/absorption), :math:`\mathrm{Im}\,\sigma_{ab}` antisymmetric
  (:math:`\Omega_{nm}`, magnetic circular dichroism); ``r^a_nm r^b_mn = g^ab_nm - (i/2) Omega^ab_nm``.
"""
from __future__ import annotations

import numpy as np

__all__ = ["SMEARINGS", "broadened_delta", "absorptive_interband"]

SMEARINGS = ("lorentzian", "gaussian")


def broadened_delta(x: np.ndarray, *, width: float, kind: str) -> np.ndarray:
    r"""Normalised line shape replacing :math:`\delta(x)`, in 1/eV.

    ``lorentzian``: :math:`\gamma/[\pi(x^2+\gamma^2)]` (γ = half width at half maximum);
    ``gaussian``: :math:`e^{-x^2/\gamma^2}/(\sqrt\pi\,\gamma)` (standard deviation γ/√2).
    Both are WannierBerri's ``utility.Lorentzian``/``Gaussian`` with ``width`` = γ.
    """
    if kind == "lorentzian":
        return width / (np.pi * (x * x + width * width))
    if kind == "gaussian":
        return np.exp(-np.minimum((x / width) ** 2, 700.0)) / (np.sqrt(np.pi) * width)
    raise ValueError(f"smearing must be one of {SMEARINGS}, not {kind!r}")


def absorptive_interband(*, E: np.ndarray, rr: np.ndarray, w: np.ndarray, omegas: np.ndarray,
                         width: float, kind: str) -> np.ndarray:
    r"""Per-k absorptive interband conductivity for a batch of k-points (Eq. 32/33).

    Parameters
    ----------
    E : (nk, nb)
        Band energies (degenerate groups at their mean), eV.
    rr : (nk, nb, nb, 9) complex
        :math:`r^a_{nm}r^b_{mn}` with (a, b) flattened, Å².
    w : (nk, nb, G)
        Band weights (f or s) on a flattened grid G of (T, μ).
    omegas : (nω,)
        Photon energies ħω, eV.
    width, kind
        Broadening (see :func:`broadened_delta`).

    Returns
    -------
    (nk, G, nω, 3, 3) complex
        :math:`\pi\sum_{nm}\epsilon_{mn}r^a_{nm}r^b_{mn}w_{nm}\delta_\gamma(\epsilon_{mn}-\omega)`, Å².
    """
    nk, nb = E.shape
    eps_mn = E[:, None, :] - E[:, :, None]  # [k, n, m] = E_m - E_n
    line = np.pi * eps_mn[..., None] * broadened_delta(eps_mn[..., None] - omegas, width=width, kind=kind)
    line = line.reshape(nk, nb * nb, len(omegas))  # (nk, nb^2, nw)
    wnm = (w[:, :, None, :] - w[:, None, :, :]).reshape(nk, nb * nb, -1)  # (nk, nb^2, G)
    rr = rr.reshape(nk, nb * nb, 9)
    out = np.empty((nk, wnm.shape[-1], len(omegas), 9), dtype=complex)
    for g in range(wnm.shape[-1]):
        W = line * wnm[:, :, g, None]  # (nk, nb^2, nw)
        Wt = np.swapaxes(W, 1, 2)
        out[:, g] = np.matmul(Wt, rr.real) + 1j * np.matmul(Wt, rr.imag)
    return out.reshape(nk, -1, len(omegas), 3, 3)


def resonant_pair_moments(*, E: np.ndarray, rr: np.ndarray, w: np.ndarray, omegas: np.ndarray, width: float,
                          kind: str) -> np.ndarray:
    r"""Weighted moments of :math:`S_{nm}=\epsilon_n+\epsilon_m` over the resonant pairs (Eq. 34 condition).

    Each ordered pair's weight is its contribution to the absorption
    :math:`\mathrm{tr}\,\mathrm{Re}\,\sigma(\omega)`:
    :math:`W_{nm}=|\pi\epsilon_{mn}\,g^{aa}_{nm}\,w_{nm}\,\delta_\gamma(\epsilon_{mn}-\omega)|`.

    Returns
    -------
    (nk, G, nω, 3)
        :math:`(\sum W,\ \sum W S,\ \sum W S^2)` per k-point; the BZ sums give the weighted mean
        and spread of :math:`\epsilon_n+\epsilon_m` on the resonant surface.
    """
    nk, nb = E.shape
    eps_mn = E[:, None, :] - E[:, :, None]
    S = (E[:, None, :] + E[:, :, None]).reshape(nk, nb * nb, 1)
    g = (rr[..., 0].real + rr[..., 4].real + rr[..., 8].real).reshape(nk, nb * nb, 1)
    line = (np.pi * eps_mn[..., None] * broadened_delta(eps_mn[..., None] - omegas, width=width, kind=kind))
    line = line.reshape(nk, nb * nb, len(omegas)) * g
    wnm = (w[:, :, None, :] - w[:, None, :, :]).reshape(nk, nb * nb, -1)
    out = np.empty((nk, wnm.shape[-1], len(omegas), 3))
    for gi in range(wnm.shape[-1]):
        W = np.abs(line * wnm[:, :, gi, None])
        out[:, gi, :, 0] = W.sum(axis=1)
        out[:, gi, :, 1] = (W * S).sum(axis=1)
        out[:, gi, :, 2] = (W * S * S).sum(axis=1)
    return out
