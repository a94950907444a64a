r"""Band quantum geometry from the covariant pieces of the Wannier interpolation.

Pure formulas at a batch of k-points (no grids, no occupations, no SI units: eV and Angstrom).
The inputs are the Hamiltonian-gauge matrices that :mod:`wbentropy.kspace.geometry` builds
(Wang, Yates, Souza & Vanderbilt, PRB 74, 195118 (2006); WannierBerri ``formula/covariant.py``):

    D_a,nm = (U^+ d_a H U)_nm / (E_m - E_n)      (n, m not degenerate, else 0), Angstrom
    r^a_nm = (U^+ A_a U)_nm + i D_a,nm           (interband Berry connection), Angstrom

and ``r`` is Hermitian in the band indices, r^a_mn = (r^a_nm)^*.  Pseudovector components are
ordered (yz, zx, xy): c = 0, 1, 2 with (a, b) = (:data:`ALPHA`\ [c], :data:`BETA`\ [c]).
"""
from __future__ import annotations

import numpy as np

__all__ = ["ALPHA", "BETA", "connection_products", "quantum_metric", "berry_curvature_pairs",
           "berry_curvature_bands", "connection_polarizability", "velocity_products", "band_hessian"]

#: Cartesian index pairs (a, b) of the Levi-Civita pseudovector c: (y,z), (z,x), (x,y).
ALPHA = np.array([1, 2, 0])
BETA = np.array([2, 0, 1])


def connection_products(r: np.ndarray) -> np.ndarray:
    r"""The products :math:`r^a_{nm}r^b_{mn}=r^a_{nm}(r^b_{nm})^*` of the interband Berry connection.

    :math:`r^a_{nm}r^b_{mn}=g^{ab}_{nm}-\tfrac i2\Omega^{ab}_{nm}` (paper, below Eq. 18): its real part is the
    band-resolved quantum metric (:func:`quantum_metric`), its imaginary part the band-resolved Berry
    curvature (:func:`berry_curvature_pairs`); the optical tensors weight it directly (paper Eqs. 32-33).

    Parameters
    ----------
    r : (nk, nb, nb, 3) complex
        :math:`r^a_{nm}` with the Cartesian index last, Angstrom (Hermitian in n, m).

    Returns
    -------
    (nk, nb, nb, 3, 3) complex, Angstrom^2
    """
    return r[..., :, None] * np.conj(r[..., None, :])


def quantum_metric(r: np.ndarray) -> np.ndarray:
    r"""Band-resolved quantum metric :math:`g^{ab}_{nm}=\mathrm{Re}\,r^a_{nm}r^b_{mn}` (paper, below Eq. 18).

    Parameters
    ----------
    r : (nk, nb, nb, 3) complex
        Interband Berry connection :math:`r^a_{nm}=\langle n|i\partial_a m\rangle`, Angstrom.

    Returns
    -------
    (nk, nb, nb, 3, 3) float
        :math:`g^{ab}_{nm}` in Angstrom^2.  Memory ``9 nk nb^2``: the entropy-production integrands
        (:mod:`wbentropy.physics.entropy_production`) contract ``r`` directly instead of building it.
    """
    return np.real(connection_products(r))


def berry_curvature_pairs(r: np.ndarray) -> np.ndarray:
    r"""Band-resolved Berry curvature :math:`\Omega^c_{nm}=i(r^a_{nm}r^b_{mn}-r^b_{nm}r^a_{mn})
    =-2\,\mathrm{Im}\,r^a_{nm}r^b_{mn}`, (a, b, c) cyclic (paper, below Eq. 18).

    Parameters
    ----------
    r : (nk, nb, nb, 3) complex, Angstrom

    Returns
    -------
    (nk, nb, nb, 3) float, Angstrom^2 (pseudovector: yz, zx, xy)
    """
    return -2.0 * np.imag(connection_products(r)[..., ALPHA, BETA])


def berry_curvature_bands(*, D: np.ndarray, Abar: np.ndarray | None, Obar_nn: np.ndarray | None) -> np.ndarray:
    """Band Berry curvature Omega_n (pseudovector) from the covariant pieces.

    Omega_n^c = Re Obar_c,nn - 2 Re sum_m (D_a,nm Abar_b,mn - D_b,nm Abar_a,mn)
                + 2 Im sum_m D_a,nm D_b,mn,  (a, b, c) cyclic.

    Wang et al., PRB 74, 195118 (2006), Eq. 27-32; the diagonal of their Omega^H.

    Evaluated with row sums only: Abar is Hermitian and D anti-Hermitian
    (D_mn = -D_nm^*), so sum_m X_nm Y_mn = +-sum_m X_nm Y_nm^*, and with
    G_c = Abar_c + (i/2) D_c the three sums combine into

        Omega_n^c = Re Obar_c,nn + 2 Re sum_m (D_b,nm G_a,nm^* - D_a,nm G_b,nm^*).

    Parameters
    ----------
    D : (nk, 3, nb, nb) complex, Angstrom
    Abar : (nk, 3, nb, nb) complex or None, Angstrom
    Obar_nn : (nk, 3, nb) float or None, Angstrom^2

    Returns
    -------
    (nk, nb, 3) float, Angstrom^2
    """
    G = 0.5j * D if Abar is None else Abar + 0.5j * D
    # P[k, n, x, y] = Re sum_m D_x,nm G_y,nm^* = sum over the (re, im) pairs of row n
    P = np.einsum("kxnm,kynm->knxy", _as_real_pairs(D), _as_real_pairs(G), optimize=True)
    omega = 2.0 * (P[..., BETA, ALPHA] - P[..., ALPHA, BETA])
    if Obar_nn is not None:
        omega += np.moveaxis(Obar_nn, 1, 2)
    return omega


def _as_real_pairs(X: np.ndarray) -> np.ndarray:
    """Complex (..., nb) -> float (..., 2 nb) (re, im side by side), a view when possible."""
    if X.strides[-1] != X.itemsize:
        X = np.ascontiguousarray(X)
    return X.view(float)


def connection_polarizability(*, r_cov: np.ndarray, inv_dE: np.ndarray) -> np.ndarray:
    """Berry connection polarizability G^ab_n = 2 Re sum_m r^a_nm r^b_mn/(E_n - E_m) = 2 sum_m g^ab_nm/(E_n - E_m).

    Gao, Yang & Niu, PRL 112, 166601 (2014): the field-induced Berry connection of band n is
    A'_n = e G_n E for electrons (H' = e E.r).  Contracted over m without building the products.

    Parameters
    ----------
    r_cov : (nk, 3, nb, nb) complex, Angstrom (Cartesian index first; zero inside degenerate groups)
    inv_dE : (nk, nb, nb), 1/(E_m - E_n) in 1/eV, zero inside degenerate groups

    Returns
    -------
    (nk, nb, 3, 3) float, Angstrom^2/eV
    """
    rT = np.swapaxes(r_cov, -1, -2)  # r^b_mn at [n, m]
    w = -inv_dE  # 1/(E_n - E_m)
    G = 2.0 * np.real(np.einsum("kanm,kbnm,knm->knab", r_cov, rT, w.astype(complex), optimize=True))
    return G


def velocity_products(*, Hbar: np.ndarray, degenerate: np.ndarray) -> np.ndarray:
    """v^a_n v^b_n made gauge-invariant: sum_{m in G(n)} Re Hbar_a,nm Hbar_b,mn, (eV*Angstrom)^2.

    For a non-degenerate band this is v^a_n v^b_n; summed over a degenerate group G it is the
    basis-independent trace Tr_G(Hbar_a P_G Hbar_b P_G) (the Drude weights, paper Eq. 19).

    Parameters
    ----------
    Hbar : (nk, 3, nb, nb) complex
        U^+ d_a H U, eV*Angstrom.
    degenerate : (nk, nb, nb) bool
        True where n and m are in one degenerate group (diagonal included).

    Returns
    -------
    (nk, nb, 3, 3) float
    """
    Hs = np.where(degenerate[:, None], Hbar, 0.0)  # intra-group blocks only
    prod = np.einsum("kanm,kbmn->knab", Hs, Hs, optimize=True)
    return np.real(prod)


def band_hessian(*, inverse_mass: np.ndarray, Hbar: np.ndarray, inv_dE: np.ndarray) -> np.ndarray:
    """d_a d_b E_n = Re <n|d_a d_b H|n> + 2 sum_{m not in G(n)} Re(Hbar_a,nm Hbar_b,mn)/(E_n - E_m).

    Second-order perturbation theory of the Wannier-interpolated bands (the identity behind paper
    Eq. 20); sums over degenerate groups are gauge-invariant.

    Parameters
    ----------
    inverse_mass : (nk, nb, 3, 3) float
        v^ab_n = Re <n|d_a d_b H|n>, eV*Angstrom^2.
    Hbar : (nk, 3, nb, nb) complex
        U^+ d_a H U, eV*Angstrom.
    inv_dE : (nk, nb, nb) float
        1/(E_m - E_n), 1/eV, zero inside degenerate groups.

    Returns
    -------
    (nk, nb, 3, 3) float, eV*Angstrom^2
    """
    inv = -inv_dE  # 1/(E_n - E_m), zero inside groups
    prod = np.einsum("kanm,kbmn,knm->knab", Hbar, Hbar, inv.astype(complex), optimize=True)
    return inverse_mass + 2.0 * np.real(prod)
