r"""Leading-order (E²) entropy production of Bloch electrons under the RTA.

Physics at a batch of k-points only: no grids, no Brillouin-zone sums, no
conversion to SI (see the style guide).  References are to
*entropy-hall-paper.md*, Eqs. (6)–(21).

Derivation in one line
----------------------
With the RTA dissipator :math:`\mathcal D[\rho]=-(\rho-\rho^{eq})/\tau`
(Eq. 10), Eq. (9) reads :math:`\Pi=-\tau^{-1}\,\mathrm{Tr}\{[\varphi(\rho)-
\varphi(\rho^{eq})](\rho-\rho^{eq})\}` with :math:`\varphi(x)=\ln((1-x)/x)`.
To second order in the field, :math:`\varphi(\rho)-\varphi(\rho^{eq})` is the
Fréchet derivative of the matrix function :math:`\varphi` at the diagonal
:math:`\rho^{eq}=\mathrm{diag}(f_n)`, given by the Daleckii–Krein formula
:math:`[\varphi(f_n)-\varphi(f_m)]/(f_n-f_m)\,\rho^{(1)}_{nm}`.  Hence

.. math:: \Pi^{(2)} = \frac1\tau\sum_{nm} K_{nm}\,|\rho^{(1)}_{nm}|^2,\qquad
          K_{nm} = \frac{\varphi(f_n)-\varphi(f_m)}{f_m-f_n}
                 = \frac{\epsilon_n-\epsilon_m}{k_BT\,(f_m-f_n)},

the Kubo–Mori (Bogoliubov) kernel, since :math:`\varphi(f_n)=(\epsilon_n-\mu)/k_BT`
exactly.  The paper's Eq. (18) instead uses :math:`1/[f_n(1-f_n)]` for every
pair (it treats :math:`\hat\beta^{(1)}` of Eq. 16 as if it commuted with
:math:`\rho-\rho^{eq}`); that is correct only for :math:`n=m` (Drude term)
and overestimates the interband term (by :math:`\sinh x/x`,
:math:`x=\Delta/2k_BT`, for two bands with μ mid-gap).

Units
-----
Natural units :math:`\hbar=e=k_B=1`; energies in eV, lengths in Å:

* ``E``, ``mu``, ``kT`` (:math:`k_BT`): eV;
* ``eta`` :math:`=\hbar/\tau`: eV, i.e. :math:`\tau = 1/\eta` in units of ħ/eV;
* ``v`` :math:`=\partial\epsilon/\partial k`: eV·Å; ``vab``
  :math:`=\langle n|\partial_a\partial_b H|n\rangle`: eV·Å²;
* ``r`` (interband Berry connection): Å; ``f``: dimensionless;
  ``mdfde`` :math:`=-\partial f/\partial\epsilon`: 1/eV;
* the field enters as :math:`eE_a` in eV/Å.

Every function returns the coefficient :math:`\pi^{ab}(\mathbf k)` of
:math:`(eE_a)(eE_b)` in the entropy production per k-point, in Å²/eV; the
rate :math:`\pi^{ab}\,eE_a\,eE_b` is then in eV, i.e. in units of
:math:`k_B\,\mathrm{eV}/\hbar`.  Multiply by :math:`1/\hbar` for
:math:`k_B/\mathrm s`, and by the Brillouin-zone measure
:math:`\int d^dk/(2\pi)^d` (and spin degeneracy, if any) for a density.

Array conventions
-----------------
Leading axis: a batch of ``nk`` k-points.  ``f`` and ``mdfde`` may carry
trailing grid axes ``G`` (e.g. a grid of μ, or of (T, μ)); ``kT``, ``eta`` and
``mu`` are then scalars or arrays broadcastable (right-aligned) against ``G``.
Results have shape ``(nk, 3, 3, *G)``.  ``r`` must be Hermitian in the band
indices, :math:`r^a_{mn}=(r^a_{nm})^*`, with zero diagonal.
"""
from __future__ import annotations

import numpy as np

__all__ = [
    "kubo_mori_kernel",
    "drude_integrand",
    "interband_integrand",
    "drude_sea_integrands",
    "qm_decomposition",
    "effective_inverse_mass",
    "check_positive_semidefinite",
]

#: largest exponent whose exp() still leaves headroom for a sum over band pairs
_LOG_BIG = float(np.log(np.finfo(float).max)) - 20.0
#: below this |Δε|/kT the divided difference is replaced by its closed form
_NEAR_DEGENERATE = 1e-3


def _grid_axes(a: np.ndarray, ngrid: int) -> np.ndarray:
    """Append ``ngrid`` length-1 axes so that ``a`` broadcasts against grid axes."""
    return np.reshape(a, a.shape + (1,) * ngrid)


def _check_eta(eta) -> None:
    if np.any(np.asarray(eta) <= 0):
        raise ValueError("eta = hbar/tau must be > 0 (eV)")


def _log_f_one_minus_f_from_x(x: np.ndarray) -> np.ndarray:
    r""":math:`\ln[f(1-f)] = -\ln(2+2\cosh x) = -|x| - 2\ln(1+e^{-|x|})`, exact for all x."""
    ax = np.abs(x)
    return -ax - 2.0 * np.log1p(np.exp(-ax))


def _log_f_one_minus_f_from_f(f: np.ndarray) -> np.ndarray:
    r""":math:`\ln[f(1-f)]` from occupations, clipped into the representable range.

    For :math:`f` within machine epsilon of 1 a double carries no information on
    :math:`1-f`; it is then clipped to :math:`2^{-53}` (so the result is finite,
    never inf or nan, but saturates).  Pass ``mu`` to the public functions to
    avoid this.
    """
    tiny = np.finfo(float).tiny
    fc = np.clip(f, tiny, 1.0 - np.finfo(float).epsneg)
    return np.log(fc) + np.log1p(-fc)


def _log_x_over_sinh_x(d: np.ndarray) -> np.ndarray:
    r""":math:`\ln(d/\sinh d)`, stable for d → 0 and |d| → ∞."""
    ad = np.abs(d)
    small = ad < 1e-4
    ads = np.where(small, 1.0, ad)
    big = np.log(2.0 * ads) - ads - np.log1p(-np.exp(-2.0 * ads))
    return np.where(small, -d * d / 6.0, big)


def kubo_mori_kernel(E_n, E_m, f_n, f_m, kT, *, mu=None):
    r"""Kubo–Mori (Daleckii–Krein) kernel of :math:`-\varphi`, :math:`\varphi(x)=\ln\frac{1-x}{x}`.

    .. math::
        K_{nm} = \frac{\varphi(f_n)-\varphi(f_m)}{f_m-f_n}
               = \frac{\epsilon_n-\epsilon_m}{k_BT\,(f_m-f_n)}
               = \frac{d/\sinh d}{\sqrt{f_n(1-f_n)\,f_m(1-f_m)}},
        \qquad d=\frac{\epsilon_n-\epsilon_m}{2k_BT},

    with diagonal limit :math:`K_{nn}=1/[f_n(1-f_n)]=2+2\cosh((\epsilon_n-\mu)/k_BT)`.
    The leading entropy production is :math:`\Pi^{(2)}=\tau^{-1}\sum_{nm}K_{nm}
    |\rho^{(1)}_{nm}|^2` (Eq. 9 expanded to O(E²) with the RTA dissipator
    Eq. 10).  :math:`K_{nm}>0`, symmetric, and
    :math:`K_{nm}\le[K_{nn}+K_{mm}]/2` (so the paper's Eq. 18 overestimates).

    Parameters
    ----------
    E_n, E_m : array_like
        Band energies (eV), broadcastable.
    f_n, f_m : array_like
        Their Fermi–Dirac occupations at the same (μ, kT); must be consistent
        with ``E_n``, ``E_m`` (the last two forms above use this).
    kT : float or array_like
        :math:`k_BT` in eV.
    mu : float or array_like, optional
        Chemical potential (eV).  If given, K is evaluated from the energies
        alone by the closed form in log space, accurate for every
        :math:`(\epsilon-\mu)/k_BT` (``f_n``, ``f_m`` are then not used).

    Returns
    -------
    ndarray
        :math:`K_{nm}`, dimensionless, finite and :math:`\ge 4`.

    Notes
    -----
    Differs from the paper: Eq. (18) uses :math:`1/[f_n(1-f_n)]` for all pairs;
    that is the diagonal limit of this kernel only.

    Numerics: for :math:`|\epsilon_n-\epsilon_m|>10^{-3}k_BT` the divided
    difference is used (its denominator :math:`f_m-f_n` is then accurate);
    for near-degenerate pairs the closed :math:`d/\sinh d` form in log space
    (no 0/0).  Values are capped at ~1e299 (no overflow).  Without ``mu``, a
    double ``f`` within machine epsilon of 1 carries no information on
    :math:`1-f`, so K of a pair of states *both* more than ~36 kT below μ is
    not accurate (it is then floored at the exact lower bound 4 =
    min 1/[f(1-f)]).  In the entropy production K only appears as
    :math:`f_{nm}^2K_{nm}`, which :func:`interband_integrand` evaluates without
    K (and to which such pairs contribute < 1e-15).
    """
    E_n, E_m, f_n, f_m = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (E_n, E_m, f_n, f_m)))
    dx = (E_n - E_m) / kT
    if mu is not None:
        log_k = _log_x_over_sinh_x(0.5 * dx) - 0.5 * (_log_f_one_minus_f_from_x((E_n - mu) / kT)
                                                      + _log_f_one_minus_f_from_x((E_m - mu) / kT))
        return np.exp(np.minimum(log_k, _LOG_BIG))
    df = f_m - f_n
    use_dd = (np.abs(dx) > _NEAR_DEGENERATE) & (df != 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        k_dd = dx / np.where(use_dd, df, 1.0)
    log_k = _log_x_over_sinh_x(0.5 * dx) - 0.5 * (_log_f_one_minus_f_from_f(f_n) + _log_f_one_minus_f_from_f(f_m))
    k_cf = np.exp(np.minimum(log_k, _LOG_BIG))
    return np.maximum(np.where(use_dd, np.minimum(k_dd, np.exp(_LOG_BIG)), k_cf), 4.0)


def _contract_metric(w: np.ndarray, r: np.ndarray) -> np.ndarray:
    r""":math:`\sum_{nm} w_{nm}\, g^{ab}_{nm}` for w (nk, nb, nb, *G) → (nk, 3, 3, *G)."""
    out = np.einsum("knm...,knma,knmb->kab...", w.astype(complex), r, np.conj(r), optimize=True)
    return np.real(out)


def drude_integrand(*, mdfde: np.ndarray, kT, eta, v: np.ndarray | None = None,
                    vv: np.ndarray | None = None) -> np.ndarray:
    r"""Drude (intraband) entropy production per k-point, Eq. (19) (Fermi-surface form).

    .. math::
        \pi^{ab}_D(\mathbf k) = \frac{\tau}{T}\sum_n v^a_n v^b_n
        \Big(-\frac{\partial f}{\partial\epsilon}\Big)_n
        = \frac{1}{\eta\,k_BT}\sum_n v^a_n v^b_n\,(-f'_n),

    from :math:`\Pi=\tau^{-1}\sum_n|\rho^{(1)}_{nn}|^2/[f_n(1-f_n)]`,
    :math:`\rho^{(1)}_{nn}=\tau\,\partial_af_n\,E_a=\tau f'_n v^a_nE_a` (Eq. 14)
    and :math:`f'=-f(1-f)/k_BT`.  Equals :math:`J^D\cdot E/T`.
    Diagonal pairs are the one place where the paper's Eq. (18) is exact.

    Parameters
    ----------
    v : (nk, nb, 3) ndarray
        :math:`\partial\epsilon_n/\partial k_a`, eV·Å.
    vv : (nk, nb, 3, 3) ndarray, alternative to ``v``
        Velocity products :math:`v^a_nv^b_n`, eV²·Å²; inside a degenerate group
        pass the group trace :math:`\sum_{m\in G(n)}\mathrm{Re}\,v^a_{nm}v^b_{mn}`
        (gauge-invariant, see :attr:`wbentropy.kspace.geometry.BandGeometry.velocity_products`).
    mdfde : (nk, nb, *G) ndarray
        :math:`-\partial f/\partial\epsilon`, 1/eV.
    kT, eta : float or array broadcastable against G
        :math:`k_BT` and :math:`\eta=\hbar/\tau`, eV.

    Returns
    -------
    (nk, 3, 3, *G) ndarray
        Coefficient of :math:`eE_a\,eE_b`, Å²/eV (natural units, see module).
        Proportional to τ.
    """
    _check_eta(eta)
    if (v is None) == (vv is None):
        raise ValueError("give exactly one of v and vv")
    if vv is None:
        vv = v[:, :, :, None] * v[:, :, None, :]
    out = np.einsum("knab,kn...->kab...", vv, mdfde, optimize=True)
    return out / (np.asarray(eta) * np.asarray(kT))


def interband_integrand(*, E: np.ndarray, f: np.ndarray, r: np.ndarray, kT, eta,
                        form: str = "exact", mu=None) -> np.ndarray:
    r"""Interband (quantum-metric) entropy production per k-point.

    With the DC first-order density matrix of Eq. (13),
    :math:`\rho^{(1)}_{mn}=i f_{mn} r^a_{mn}E_a/(i\epsilon_{mn}+\eta)`, so
    :math:`|\rho^{(1)}_{nm}|^2=f_{nm}^2 g^{ab}_{nm}E_aE_b/(\epsilon_{nm}^2+\eta^2)`:

    ``form="exact"`` (Eq. 9 to O(E²), Kubo–Mori kernel):

    .. math::
        \pi^{ab}_{\rm inter} = \frac1\tau\sum_{n\ne m}
        \frac{f_{nm}^2K_{nm}}{\epsilon_{nm}^2+\eta^2}g^{ab}_{nm}
        = \eta\sum_{n\ne m}\frac{(f_m-f_n)(\epsilon_n-\epsilon_m)/k_BT}
        {\epsilon_{nm}^2+\eta^2}\,g^{ab}_{nm}
        \;\xrightarrow{\eta\to0}\;\frac{1}{\tau T}\sum_{n\ne m}
        \frac{f_m-f_n}{\epsilon_n-\epsilon_m}g^{ab}_{nm}\ \ (\ge 0).

    ``form="paper"`` (second term of Eq. 18, with η kept in the denominator):

    .. math::
        \pi^{ab}_{\rm paper} = \eta\sum_{n\ne m}
        \frac{f_{nm}^2}{f_n(1-f_n)(\epsilon_{nm}^2+\eta^2)}g^{ab}_{nm}.

    Parameters
    ----------
    E : (nk, nb) ndarray
        Band energies, eV.
    f : (nk, nb, *G) ndarray
        Occupations.
    r : (nk, nb, nb, 3) complex ndarray
        Interband Berry connection, Å (Hermitian in n, m; zero diagonal).
    kT, eta : float or array broadcastable against G
        :math:`k_BT`, :math:`\eta=\hbar/\tau`, eV (η > 0).
    form : {"exact", "paper"}
    mu : float or array broadcastable against G, optional
        Chemical potential, eV.  Used only by ``form="paper"`` to evaluate
        :math:`1/[f(1-f)]=2+2\cosh((\epsilon-\mu)/k_BT)` in log space; without
        it :math:`f(1-f)` is taken from ``f`` (clipped, saturating ~36 kT
        below μ).

    Returns
    -------
    (nk, 3, 3, *G) ndarray
        Coefficient of :math:`eE_a\,eE_b`, Å²/eV.  ∝ 1/τ for η ≪ gaps.

    Notes
    -----
    Differs from the paper: the paper's :math:`1/[f_n(1-f_n)]` is replaced by
    the Kubo–Mori kernel (the paper's Eq. 16 expansion ignores that
    :math:`\hat\beta^{(1)}` and :math:`\rho-\rho^{eq}` do not commute).  The
    paper form is kept for comparison only; it overestimates by
    :math:`\sinh x/x`, :math:`x=\Delta/2k_BT`, for two bands with μ mid-gap.

    Numerics: the exact form never builds K: :math:`f_{nm}^2K_{nm}=(f_m-f_n)
    (\epsilon_n-\epsilon_m)/k_BT` is bounded (no 1/f, no 0/0; degenerate pairs
    give 0, as they must).  The paper weight is formed in log space and capped
    at ~1e299, so it is never inf or nan.
    """
    _check_eta(eta)
    if form not in ("exact", "paper"):
        raise ValueError(f"form must be 'exact' or 'paper', not {form!r}")
    f = np.asarray(f, dtype=float)
    ngrid = f.ndim - 2
    Eg = _grid_axes(np.asarray(E, dtype=float), ngrid)  # (nk, nb, 1...)
    de = Eg[:, :, None] - Eg[:, None, :]  # eps_n - eps_m, (nk, nb, nb, 1...)
    eta = np.asarray(eta)
    kT = np.asarray(kT)
    denom = de * de + eta * eta
    if form == "exact":
        w = eta * (f[:, None, :] - f[:, :, None]) * de / (kT * denom)
    else:
        w = _paper_pair_weight(f=f, Eg=Eg, mu=mu, kT=kT, eta_over_denom=eta / denom)
    return _contract_metric(w, r)


def _paper_pair_weight(*, f: np.ndarray, Eg: np.ndarray, mu, kT, eta_over_denom: np.ndarray) -> np.ndarray:
    r"""The paper's pair weight :math:`\eta f_{nm}^2/[f_n(1-f_n)(\epsilon_{nm}^2+\eta^2)]`, in log space and
    capped at ~1e299 (never inf or nan); :math:`f(1-f)` from ``mu`` if given, else from ``f`` (clipped)."""
    if mu is None:
        log_f1f = _log_f_one_minus_f_from_f(f)
    else:
        log_f1f = _log_f_one_minus_f_from_x((Eg - np.asarray(mu)) / kT)
    fnm = f[:, :, None] - f[:, None, :]
    with np.errstate(divide="ignore"):
        log_w = 2.0 * np.log(np.abs(fnm)) - log_f1f[:, :, None] + np.log(eta_over_denom)
    return np.exp(np.minimum(log_w, _LOG_BIG))


def drude_sea_integrands(*, E: np.ndarray, f: np.ndarray, r: np.ndarray, vab: np.ndarray,
                         kT, eta) -> tuple[np.ndarray, np.ndarray]:
    r"""The two Fermi-sea pieces of the Drude entropy production, Eq. (20).

    Integrating Eq. (19) by parts over the Brillouin zone and using
    :math:`\partial_a\partial_b\epsilon_n=v^{ab}_n+2\sum_{m\ne n}\epsilon_{nm}g^{ab}_{nm}`:

    .. math::
        \pi^{ab}_{\rm band} = \frac{\tau}{T}\sum_n v^{ab}_n f_n,\qquad
        \pi^{ab}_{\rm geom} = \frac{\tau}{T}\sum_{n\ne m}2\epsilon_{nm}g^{ab}_{nm}f_n .

    Only the BZ integral of their sum equals that of :func:`drude_integrand`
    (per k-point they differ by a total derivative).  Each piece is ∝ τ/T and,
    for μ in a gap at low T, they are individually large and cancel
    (:math:`\pi_{\rm geom}<0`).

    Parameters
    ----------
    E : (nk, nb) ndarray
        Band energies, eV.
    f : (nk, nb, *G) ndarray
        Occupations.
    r : (nk, nb, nb, 3) complex ndarray
        Interband Berry connection, Å.
    vab : (nk, nb, 3, 3) ndarray
        :math:`v^{ab}_n=\langle n|\partial_a\partial_bH|n\rangle`, eV·Å².
    kT, eta : float or array broadcastable against G
        eV.

    Returns
    -------
    band, geom : (nk, 3, 3, *G) ndarrays
        Å²/eV.
    """
    _check_eta(eta)
    f = np.asarray(f, dtype=float)
    ngrid = f.ndim - 2
    pref = 1.0 / (np.asarray(eta) * np.asarray(kT))
    band = np.einsum("knab,kn...->kab...", vab, f, optimize=True) * pref
    Eg = _grid_axes(np.asarray(E, dtype=float), ngrid)
    w = 2.0 * (Eg[:, :, None] - Eg[:, None, :]) * f[:, :, None] * pref
    geom = _contract_metric(w, r)
    return band, geom


def qm_decomposition(*, E: np.ndarray, f: np.ndarray, r: np.ndarray, vab: np.ndarray, kT, eta,
                     form: str = "exact", mu=None) -> tuple[np.ndarray, np.ndarray]:
    r"""Quantum-metric / non-quantum-metric split of the entropy production, Eq. (21).

    .. math::
        \pi^{ab}_{\rm QM} = \sum_{nm}\lambda_{nm}g^{ab}_{nm},\qquad
        \lambda_{nm} = \frac{2\tau\,\epsilon_{nm}f_n}{T}
                     + \frac{1}{\tau}\frac{f_{nm}^2\,W_{nm}}{\epsilon_{nm}^2+\eta^2},
        \qquad
        \pi^{ab}_{\rm non\text{-}QM} = \frac{\tau}{T}\sum_n v^{ab}_n f_n,

    with :math:`W_{nm}=K_{nm}` (``form="exact"``) or :math:`1/[f_n(1-f_n)]`
    (``form="paper"``, the paper's Eq. 21).  After a BZ integral,
    QM + non-QM = Drude (Eq. 19) + interband (:func:`interband_integrand`).

    Parameters
    ----------
    E, f, r, vab, kT, eta, mu
        As in :func:`drude_sea_integrands` and :func:`interband_integrand`.
    form : {"exact", "paper"}
        Interband kernel.

    Returns
    -------
    qm, non_qm : (nk, 3, 3, *G) ndarrays
        Å²/eV.

    Notes
    -----
    Differs from the paper in two places.  (i) The first term of
    :math:`\lambda_{nm}` carries τ: the paper's :math:`2\epsilon_{nm}f_n/T` is
    dimensionless while the second term is a rate; τ follows from the τ/T
    prefactor of Eq. (20).  (ii) The non-QM part is returned, not dropped: it
    is not negligible (for μ in a gap it cancels the ∝τ/T, negative geometric
    Drude piece, and dropping it makes Π < 0).
    """
    band, geom = drude_sea_integrands(E=E, f=f, r=r, vab=vab, kT=kT, eta=eta)
    inter = interband_integrand(E=E, f=f, r=r, kT=kT, eta=eta, form=form, mu=mu)
    return geom + inter, band


def effective_inverse_mass(*, band_hessian: np.ndarray, E: np.ndarray, g: np.ndarray) -> np.ndarray:
    r""":math:`v^{ab}_{\rm eff,n}=\partial_a\partial_b\epsilon_n-2\sum_m\epsilon_{nm}g^{ab}_{nm}`, eV·Å².

    The band term of Eq. (21) with the full interband metric, so that QM + non-QM equals Drude +
    interband exactly after the BZ sum (in a complete basis it is :math:`\langle n|\partial_a\partial_bH|n\rangle`,
    the paper's :math:`v^{ab}_n`; with a finite Wannier basis the two differ).

    Parameters
    ----------
    band_hessian : (nk, nb, 3, 3) :math:`\partial_a\partial_b\epsilon_n`, eV·Å²
        (:func:`wbentropy.physics.geometry.band_hessian`).
    E : (nk, nb) band energies, eV.
    g : (nk, nb, nb, 3, 3) quantum metric :math:`g^{ab}_{nm}`, Å² (:func:`wbentropy.physics.geometry.quantum_metric`).

    Returns
    -------
    (nk, nb, 3, 3) float, eV·Å²
    """
    g_term = 2.0 * np.einsum("knm,knmab->knab", E[:, :, None] - E[:, None, :], g, optimize=True)
    return band_hessian - g_term


def check_positive_semidefinite(value: np.ndarray, *, name: str, rtol: float = 1e-10) -> None:
    """Raise if the symmetric part of a tensor has a negative eigenvalue beyond round-off.

    Pi >= 0 is the second law (paper, below Eq. 9); a violation is a bug, reported loudly,
    never clipped.  Applied to the quantities whose catalogue record says
    ``positive_semidefinite`` (the total, Drude and interband entropy production; the
    quantum-metric and non-quantum-metric parts of Eq. (21) are not separately positive).

    Parameters
    ----------
    value : (..., 3, 3) array
    name : str
        The quantity's name, for the message.
    rtol : float
        Negative eigenvalues down to -rtol times the largest |eigenvalue| are round-off.
    """
    sym = 0.5 * (value + np.swapaxes(value, -1, -2))
    eig = np.linalg.eigvalsh(sym)
    scale = np.max(np.abs(eig), axis=-1, keepdims=True)
    bad = eig < -rtol * np.maximum(scale, np.finfo(float).tiny)
    if np.any(bad):
        raise RuntimeError(f"BUG: {name} has a negative eigenvalue {eig[bad].min():.3e} "
                           f"(largest {scale.max():.3e}): entropy production must be >= 0")
