r"""Universal relations between charge and entropy responses (paper Eqs. 28–31, 34).

Pure formulas on numbers that have already been integrated over the Brillouin zone
(no grids, no k-points).  SI conventions of :mod:`wbentropy.constants`: electrons of
charge q = −e; σ^e in S/m, σ^s in A/(m·K), μ and k_BT in eV.

Entropy per state and occupation follow from the grand potential g(ε; T, μ):
f = −∂_μ g, k_B s = −∂_T g (``s`` dimensionless), so ∂_T f = k_B ∂_μ s state by state.
With σ^e = −(e²/ħ)∫fΩ and σ^s = +(e k_B/ħ)∫sΩ this gives the Maxwell relation

.. math:: \partial_T\sigma^e = -e\,\partial_\mu\sigma^s
          \quad(\text{S/(m·K)} = \text{A/(m·K) per V}),

i.e. the paper's Eq. (30) *without* its factor 1/T (the paper's s_n = −(1/T)∂_T g_n is
off by T; with s_n = −∂_T g_n the printed 1/T is wrong).
"""
from __future__ import annotations

import numpy as np

from ..constants import KB_EV

__all__ = ["SOMMERFELD_COEFFICIENTS", "sommerfeld_entropy_hall", "nernst_kernel",
           "two_band_ratio", "FD_STENCILS", "lorenz_ratio", "lorenz_ratio_lines", "WF_SOMMERFELD_COEFFICIENT",
           "wiedemann_franz_correction", "thermal_hall_kernel"]

#: Coefficients c_n of sigma^s = -(k_B/e) sum_n c_n (k_BT)^(2n+1) d^(2n+1) sigma^e(T, mu)/d mu^(2n+1),
#: with sigma^e at the SAME temperature: (1 - pi t cot pi t)/t^2 = pi^2/3 + pi^4 t^2/45 + 2 pi^6 t^4/945 + ...
#: (paper Eq. 31: pi^2/3 and pi^4/45).  With the T = 0 curve sigma^e_0 instead, the coefficients are
#: int x^(2n) s(x) dx/(2n)! = pi^2/3, 7 pi^4/90, 31 pi^6/2520, ...
SOMMERFELD_COEFFICIENTS = (np.pi**2 / 3, np.pi**4 / 45, 2 * np.pi**6 / 945)
#: Same for derivatives of the zero-temperature curve sigma^e_0(mu).
SOMMERFELD_COEFFICIENTS_T0 = (np.pi**2 / 3, 7 * np.pi**4 / 90, 31 * np.pi**6 / 2520)

#: Central finite-difference stencils on 7 points mu + j h, j = -3..3: (order of derivative, weights * h^order).
FD_STENCILS = {
    1: np.array([-1 / 60, 3 / 20, -3 / 4, 0.0, 3 / 4, -3 / 20, 1 / 60]),   # O(h^6)
    3: np.array([1 / 8, -1.0, 13 / 8, 0.0, -13 / 8, 1.0, -1 / 8]),          # O(h^4)
    5: np.array([-1 / 2, 2.0, -5 / 2, 0.0, 5 / 2, -2.0, 1 / 2]),            # O(h^2)
}
#: Same for the second derivative, O(h^6) (for the Wiedemann-Franz correction).
FD_SECOND = np.array([1 / 90, -3 / 20, 3 / 2, -49 / 18, 3 / 2, -3 / 20, 1 / 90])


def sommerfeld_entropy_hall(*, derivatives: dict, kT: float, zero_temperature: bool = False) -> list[np.ndarray]:
    r"""Terms of the Sommerfeld (Mott) series for σ^s from derivatives of σ^e with respect to μ.

    .. math:: \sigma^s = -\frac{k_B}{e}\sum_n c_n (k_BT)^{2n+1}\,\partial_\mu^{2n+1}\sigma^e,

    the SI form of Eq. (31) for electrons (q = −e; the first term is the Mott relation).
    ``derivatives[k]`` is ∂^k σ^e/∂μ^k in S/m per eV^k (k = 1, 3, 5).  By default σ^e is
    taken at the same T (coefficients π²/3, π⁴/45, 2π⁶/945 — the paper's); with
    ``zero_temperature`` the derivatives are of the T = 0 curve (π²/3, 7π⁴/90, 31π⁶/2520).

    Returns
    -------
    list of arrays
        The individual terms in A/(m·K), first-order term first.
    """
    coeffs = SOMMERFELD_COEFFICIENTS_T0 if zero_temperature else SOMMERFELD_COEFFICIENTS
    return [-KB_EV * c * kT ** (2 * n + 1) * np.asarray(derivatives[2 * n + 1])
            for n, c in enumerate(coeffs) if (2 * n + 1) in derivatives]


def nernst_kernel(*, E: np.ndarray, mu: float, kT: float) -> np.ndarray:
    r"""Weights turning the T = 0 AHC curve into the anomalous Nernst coefficient.

    .. math:: \alpha = -\frac1q\int dE\,\frac{\partial f}{\partial E}\,\sigma^e_0(E)\,\frac{E-\mu}{T},
              \qquad q=-e,

    (Xiao et al., PRL 97, 026603 (2006)).  With E, μ, k_BT in eV and σ in S/m,
    −(1/q)(∂f/∂E)(E − μ)/T = −(−∂f/∂E)[1/eV] k_B[eV/K] x [V/K per eV], x = (E − μ)/k_BT;
    returns w(E) such that α [A/(m·K)] = ∫ dE[eV] w(E) σ^e_0(E)[S/m].  By Onsager
    reciprocity α equals σ^s (Eq. 28).
    """
    x = (np.asarray(E, dtype=float) - mu) / kT
    ax = np.abs(x)
    minus_dfde = np.exp(-ax) / (1.0 + np.exp(-ax)) ** 2 / kT  # 1/eV
    return -minus_dfde * KB_EV * x


def two_band_ratio(*, omega, centre, mu: float, kT: float) -> np.ndarray:
    r"""Eq. (34): σ^s(ω)/σ^e(ω) = −(k_B/e)(s_− − s_+)/(f_− − f_+) at ε_∓ = c ∓ ω/2, in V/K.

    Exact only if ε_+ + ε_− = 2c is the same for every resonant pair (e.g. a particle–hole
    symmetric two-band model); ``centre`` is c (eV).
    """
    from .occupation import entropy, fermi

    lo, hi = np.asarray(centre) - 0.5 * np.asarray(omega), np.asarray(centre) + 0.5 * np.asarray(omega)
    df = fermi(lo, mu=mu, kT=kT) - fermi(hi, mu=mu, kT=kT)
    ds = entropy(lo, mu=mu, kT=kT) - entropy(hi, mu=mu, kT=kT)
    return -KB_EV * ds / df


# ----------------------------------------------------------------------------- thermal Hall, Wiedemann-Franz
#: kappa/(L_0 T) - sigma^e(T) = WF_SOMMERFELD_COEFFICIENT (k_BT)^2 d^2 sigma^e/d mu^2 + O(T^4), see
#: :func:`wiedemann_franz_correction`.
WF_SOMMERFELD_COEFFICIENT = 8 * np.pi**2 / 15


def thermal_hall_kernel(*, E: np.ndarray, mu: float, kT: float) -> np.ndarray:
    r"""Weights turning the T = 0 AHC curve into the thermal Hall conductivity.

    .. math:: \kappa_{ab} = \frac{1}{e^2T}\int dE\,(E-\mu)^2\Big(-\frac{\partial f}{\partial E}\Big)\sigma^e_0(E)
              = \frac{k_B^2T}{e^2}\int dE\,x^2\Big(-\frac{\partial f}{\partial E}\Big)\sigma^e_0(E),

    (the Smrcka-Streda/Bergman-Oganesyan form of Qin, Niu & Shi's kappa = -(k_B^2T/hbar) sum int c_2(f) Omega:
    by parts, dc_2/dx = -x^2 f(1-f) and sigma^e_0(E) = -(e^2/hbar) sum int theta(E - E_n) Omega_n).  With E, mu,
    k_BT in eV and sigma in S/m, (k_B^2 T/e^2) x^2 (-df/dE) = k_BT[eV] k_B[eV/K] x^2 (-df/dE)[1/eV] in V^2/K per eV;
    returns w(E) such that kappa [W/(m K)] = int dE[eV] w(E) sigma^e_0(E)[S/m].  For a constant sigma^e_0 this is
    L_0 T sigma^e_0 (int x^2 f(1 - f) dx = pi^2/3).
    """
    x = (np.asarray(E, dtype=float) - mu) / kT
    ax = np.abs(x)
    minus_dfde = np.exp(-ax) / (1.0 + np.exp(-ax)) ** 2 / kT  # 1/eV
    return kT * KB_EV * x * x * minus_dfde


def wiedemann_franz_correction(*, sigma: np.ndarray, d2sigma: np.ndarray, kT: float) -> np.ndarray:
    r"""Leading Sommerfeld correction to the Wiedemann-Franz law, kappa/(L_0 T sigma^e) - 1.

    With sigma^e_0(E) the T = 0 curve, kappa/(L_0T) = (3/pi^2) int x^2 f(1-f) sigma^e_0(mu + k_BT x) dx
    = sigma^e_0 + (7 pi^2/10)(k_BT)^2 sigma^e_0'' + ... (int x^4 f(1-f) dx = 7 pi^4/15), while
    sigma^e(T) = sigma^e_0 + (pi^2/6)(k_BT)^2 sigma^e_0'' + ...; hence

    .. math:: \frac{\kappa}{L_0T\sigma^e(T)} - 1 = \frac{8\pi^2}{15}(k_BT)^2\,
              \frac{\partial_\mu^2\sigma^e}{\sigma^e} + O(T^4)

    (sigma^e'' at T or at T = 0: the difference is O(T^4)).  ``d2sigma`` in the units of ``sigma`` per eV^2,
    ``kT`` in eV; returns the dimensionless correction (inf where sigma = 0).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        return WF_SOMMERFELD_COEFFICIENT * kT**2 * np.asarray(d2sigma) / np.asarray(sigma)


def lorenz_ratio(*, kappa: np.ndarray, sigma: np.ndarray, temperature) -> np.ndarray:
    r"""L/L_0 = kappa/(L_0 T sigma^e) component by component (kappa in W/(m K), sigma in S/m, T in K).

    NaN where T = 0 or sigma = 0 (the ratio is undefined there; kappa = 0 at T = 0)."""
    from ..constants import LORENZ_NUMBER

    T = np.asarray(temperature, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.asarray(kappa, dtype=float) / (LORENZ_NUMBER * T * np.asarray(sigma, dtype=float))
    return np.where(np.isfinite(out), out, np.nan)


def lorenz_ratio_lines(*, temperatures, mus, kappa: np.ndarray, sigma_s_per_cm: np.ndarray) -> list[str]:
    """Text block of L_ab/L_0 = kappa_ab/(L_0 T sigma_ab) for (yz, zx, xy), one row per (T, mu), for ``wbentropy show``.

    ``kappa`` (nT, nmu, 3, 3) W/(m K) (``thermal_hall``), ``sigma_s_per_cm`` (nT, nmu, 3, 3) S/cm (``ahc``)."""
    from ..constants import S_PER_CM_TO_S_PER_M

    comps = [(1, 2), (2, 0), (0, 1)]
    T = np.asarray(temperatures, dtype=float)[:, None, None]
    k = np.stack([np.asarray(kappa)[..., a, b] for a, b in comps], axis=-1)
    s = np.stack([np.asarray(sigma_s_per_cm)[..., a, b] for a, b in comps], axis=-1) * S_PER_CM_TO_S_PER_M
    ratio = lorenz_ratio(kappa=k, sigma=s, temperature=T)
    lines = ["", "## lorenz_ratio  [L_ab/L_0 = kappa_ab/(L_0 T sigma_ab), L_0 = pi^2 k_B^2/(3 e^2)]",
             f"{'T[K]':>9} {'mu[eV]':>12} " + " ".join(f"{c:>14}" for c in ("yz", "zx", "xy"))]
    for iT, temp in enumerate(np.ravel(temperatures)):
        for im, mu in enumerate(np.ravel(mus)):
            lines.append(f"{temp:9.3f} {mu:12.6f} " + " ".join(f"{v:14.6e}" for v in ratio[iT, im]))
    lines.append("# nan where T = 0 or sigma = 0; at low T, L/L_0 - 1 = (8 pi^2/15)(k_BT)^2 sigma''/sigma "
                 "(docs/physics.md)")
    return lines
