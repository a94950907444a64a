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
           "two_band_ratio", "FD_STENCILS"]

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
    from ..occupation import entropy, fermi

    lo, hi = np.asarray(centre) - 0.5 * np.asarray(omega), np.asarray(centre) + 0.5 * np.asarray(omega)
    df = fermi(lo, mu=mu, kT=kT) - fermi(hi, mu=mu, kT=kT)
    ds = entropy(lo, mu=mu, kT=kT) - entropy(hi, mu=mu, kT=kT)
    return -KB_EV * ds / df
