r"""Proof (or refutation) of the entropy-production formulas against Eq. (9) evaluated exactly.

Independent route: Eq. (9) with the RTA dissipator (Eq. 10),
``Pi(E) = Tr{[phi(rho) - phi(rho_eq)] D[rho]}``, ``D[rho] = -(rho - rho_eq)/tau``,
``phi(rho) = ln((1 - rho) rho^-1)``, is evaluated as a genuine matrix function
(eigendecomposition of rho in mpmath at 40+ digits beyond the smallest
occupation), for rho = rho_eq + h*rho1, where rho1 is the first-order density
matrix of Eq. (13) at omega = 0.  The E^2 coefficient is Richardson-extrapolated
from symmetric differences at h and h/2.  Nothing in that route uses the
Daleckii-Krein / Kubo-Mori closed form.

Natural units hbar = e = k_B = 1, energies and kT in eV, eta = hbar/tau in eV
(tau = 1/eta), lengths in Angstrom.
"""
from __future__ import annotations

import warnings

import mpmath as mp
import numpy as np
import pytest
from scipy.special import expit

from wbentropy.physics.entropy_production import (
    drude_integrand,
    drude_sea_integrands,
    interband_integrand,
    kubo_mori_kernel,
    qm_decomposition,
)
from wbentropy.physics.geometry import quantum_metric

LN10 = float(np.log(10.0))


# ----------------------------------------------------------------------------------------------
# helpers: occupations in double precision (stable) and in mpmath
# ----------------------------------------------------------------------------------------------
def occupations(E, mu, kT):
    """f and -df/de (1/eV), stable for any (E - mu)/kT."""
    x = (np.asarray(E) - mu) / kT
    ax = np.abs(x)
    return expit(-x), np.exp(-ax - 2.0 * np.log1p(np.exp(-ax))) / kT


def mp_fermi(e, mu, kT):
    return 1 / (1 + mp.exp((mp.mpf(e) - mu) / kT))


def phi_matrix(rho):
    """phi(rho) = ln((1 - rho) rho^-1) as a matrix function (Hermitian rho, spectrum in (0, 1))."""
    w, Q = mp.eighe(rho)
    for x in w:
        assert 0 < x < 1, "perturbation too large: rho left (0, 1)"
    return Q * mp.diag([mp.log((1 - x) / x) for x in w]) * Q.H


def pi_eq9(f, rho1, tau, h):
    """Eq. (9) with the RTA dissipator, exactly, for rho = diag(f) + h*rho1."""
    n = len(f)
    rho_eq = mp.diag(f)
    drho = h * rho1
    rho = rho_eq + drho
    phi_eq = mp.diag([mp.log((1 - x) / x) for x in f])  # phi of a diagonal matrix
    D = -drho / tau
    prod = (phi_matrix(rho) - phi_eq) * D
    tr = mp.fsum(prod[i, i] for i in range(n))
    assert abs(mp.im(tr)) <= 1e-20 * abs(tr) + mp.mpf(10) ** (-mp.mp.dps + 5)
    return mp.re(tr)


def e2_coefficient(f, rho1, tau, h):
    """Coefficient of h^2 in Pi(h): S(h) = [Pi(h)+Pi(-h)]/2h^2 = A + O(h^2); Richardson h, h/2."""
    def S(hh):
        return (pi_eq9(f, rho1, tau, hh) + pi_eq9(f, rho1, tau, -hh)) / (2 * hh * hh)
    s1, s2 = S(h), S(h / 2)
    return (4 * s2 - s1) / 3, s1


def precision_for(E, mu, kT):
    """mp.dps and the smallest of f, 1-f for these energies."""
    xmax = float(np.max(np.abs((np.asarray(E) - mu) / kT)))
    return int(xmax / LN10) + 45, mp.exp(-mp.mpf(xmax))


def random_case(rng, nb, kT_over_gap, eta=0.02, E=None):
    """Random Hermitian H (eigenbasis) and interband r.

    mu mid-gap of the largest gap of the random spectrum, or, if sorted energies E are
    given, of the gap around e = 0.  kT = kT_over_gap * that gap.
    """
    A = rng.normal(size=(nb, nb)) + 1j * rng.normal(size=(nb, nb))
    if E is None:
        E = np.linalg.eigvalsh(0.5 * (A + A.conj().T))  # spread of a few eV
        i = int(np.argmax(np.diff(E)))
    else:
        E = np.asarray(E, dtype=float)
        i = int(np.searchsorted(E, 0.0)) - 1
    gaps = np.diff(E)
    mu = 0.5 * (E[i] + E[i + 1])
    kT = kT_over_gap * gaps[i]
    r = rng.normal(size=(nb, nb, 3)) + 1j * rng.normal(size=(nb, nb, 3))
    r = 0.5 * (r + np.conj(np.swapaxes(r, 0, 1)))
    r[np.arange(nb), np.arange(nb)] = 0.0
    return E, mu, kT, r, eta


def interband_rho1_mp(E, f_mp, r, e_hat, eta):
    """rho1_mn = i f_mn (r_mn . e) / (i eps_mn + eta), Eq. (13) at omega = 0, per unit field; no diagonal."""
    nb = len(E)
    rho1 = mp.matrix(nb, nb)
    for m in range(nb):
        for n in range(nb):
            if m != n:
                rE = mp.mpc(complex(r[m, n] @ e_hat))
                rho1[m, n] = 1j * (f_mp[m] - f_mp[n]) * rE / (1j * (mp.mpf(E[m]) - mp.mpf(E[n])) + eta)
    return rho1


def exact_interband(E, mu, kT, r, eta, e_hat):
    """E^2 coefficient of Eq. (9) for the interband rho1, with enough digits for any kT."""
    dps, fmin = precision_for(E, mu, kT)
    with mp.workdps(dps):
        f = [mp_fermi(e, mp.mpf(mu), mp.mpf(kT)) for e in E]
        rho1 = interband_rho1_mp(E, f, r, e_hat, mp.mpf(eta))
        scale = max(abs(rho1[i, j]) for i in range(len(E)) for j in range(len(E)))
        h = mp.mpf("1e-3") * fmin / scale
        A, S1 = e2_coefficient(f, rho1, 1 / mp.mpf(eta), h)
        return float(A), float(S1)


def quad(T, e_hat):
    return float(e_hat @ T @ e_hat)


# ----------------------------------------------------------------------------------------------
# 1. Kubo-Mori kernel
# ----------------------------------------------------------------------------------------------
def test_kubo_mori_kernel_matches_divided_difference_of_phi():
    kT, mu = 0.037, 0.11
    xs = np.array([-9.0, -3.0, -0.5, 0.0, 1e-9, 1e-4, 0.3, 2.0, 7.5, 25.0])
    En = mu + kT * xs[:, None] * np.ones((1, xs.size))
    Em = mu + kT * xs[None, :] * np.ones((xs.size, 1))
    fn, _ = occupations(En, mu, kT)
    fm, _ = occupations(Em, mu, kT)
    K = kubo_mori_kernel(En, Em, fn, fm, kT)
    with mp.workdps(50):
        def phi(x):
            return mp.log((1 - x) / x)
        for i in range(xs.size):
            for j in range(xs.size):
                a = mp_fermi(En[i, j], mu, kT)
                b = mp_fermi(Em[i, j], mu, kT)
                ref = -mp.diff(phi, a) if a == b else (phi(a) - phi(b)) / (b - a)
                assert K[i, j] == pytest.approx(float(ref), rel=1e-9), (xs[i], xs[j])
    assert np.all(K > 0) and np.allclose(K, K.T, rtol=1e-12)
    # diagonal limit 1/(f(1-f)) = 2 + 2 cosh x
    assert np.allclose(np.diag(K), 2 + 2 * np.cosh(xs), rtol=1e-12)
    # K_nm <= [K_nn + K_mm]/2: the paper's kernel (symmetrised) is never smaller
    assert np.all(K <= 0.5 * (np.diag(K)[:, None] + np.diag(K)[None, :]) * (1 + 1e-12))


def test_kubo_mori_kernel_is_finite_for_extreme_arguments():
    kT, mu = 0.01, 0.0
    x = np.array([-2000.0, -800.0, -40.0, -40.0 + 1e-12, 0.0, 40.0, 800.0, 2000.0])
    E = mu + kT * x
    f, _ = occupations(E, mu, kT)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        K = kubo_mori_kernel(E[:, None], E[None, :], f[:, None], f[None, :], kT)
        Kmu = kubo_mori_kernel(E[:, None], E[None, :], f[:, None], f[None, :], kT, mu=mu)
    assert np.all(np.isfinite(K)) and np.all(K >= 4.0)
    assert np.all(np.isfinite(Kmu)) and np.all(Kmu >= 4.0)
    # with mu the kernel is accurate everywhere (up to the cap ~1e299)
    with mp.workdps(1000):
        for i in range(x.size):
            for j in range(x.size):
                a, b = mp_fermi(E[i], mu, kT), mp_fermi(E[j], mu, kT)
                ref = 1 / (a * (1 - a)) if i == j else (mp.log((1 - a) / a) - mp.log((1 - b) / b)) / (b - a)
                if ref < mp.mpf("1e290"):
                    assert Kmu[i, j] == pytest.approx(float(ref), rel=1e-9)
                else:  # capped
                    assert 1e290 < Kmu[i, j] < 1e300
    # the product that enters Pi is bounded and needs no K: f_nm^2 K_nm = (f_m - f_n)(x_n - x_m)
    prod = (f[:, None] - f[None, :]) ** 2 * K
    ref = (f[None, :] - f[:, None]) * (x[:, None] - x[None, :])
    ok = np.broadcast_to(np.abs(x[:, None]) < 30, prod.shape)  # n within double's reach of 1 - f
    assert np.allclose(prod[ok], ref[ok], rtol=1e-9, atol=1e-300)


# ----------------------------------------------------------------------------------------------
# 2. Eq. (9) evaluated exactly vs the closed forms
# ----------------------------------------------------------------------------------------------
WIDE = [-6.0, -5.3, -0.4, 0.6, 5.5]  # gap 1 eV around 0; at kT = 0.05 eV, |e - mu|/kT = 120, f ~ 1e-52


@pytest.mark.parametrize("nb,seed,E", [(2, 1, None), (3, 2, None), (4, 3, None), (5, 4, WIDE)])
@pytest.mark.parametrize("kT_over_gap", [0.2, 0.05])
def test_interband_exact_form_equals_eq9(nb, seed, E, kT_over_gap):
    """WIDE: bands ~100 kT from mu (f, 1 - f ~ 1e-52), far beyond a double-precision logm."""
    rng = np.random.default_rng(seed)
    E, mu, kT, r, eta = random_case(rng, nb, kT_over_gap, E=E)
    f, _ = occupations(E, mu, kT)
    T_exact = interband_integrand(E=E[None], f=f[None], r=r[None], kT=kT, eta=eta)[0]
    T_paper = interband_integrand(E=E[None], f=f[None], r=r[None], kT=kT, eta=eta, form="paper", mu=mu)[0]
    for _ in range(2):
        e_hat = rng.normal(size=3)
        e_hat /= np.linalg.norm(e_hat)
        A, S1 = exact_interband(E, mu, kT, r, eta, e_hat)
        assert A > 0
        assert S1 == pytest.approx(A, rel=1e-5)  # h is in the asymptotic (quadratic) regime
        assert quad(T_exact, e_hat) == pytest.approx(A, rel=1e-8)
        assert quad(T_paper, e_hat) / A > 1.02  # the paper's Eq. (18) overestimates


@pytest.mark.parametrize("kT_over_gap", [0.2, 0.05])
def test_drude_equals_eq9_diagonal(kT_over_gap):
    rng = np.random.default_rng(7)
    nb, eta = 4, 0.02
    E, mu, kT, _, _ = random_case(rng, nb, kT_over_gap, eta)
    v = rng.normal(size=(nb, 3)) * 2.0  # eV Angstrom
    f, mdfde = occupations(E, mu, kT)
    T_drude = drude_integrand(v=v[None], mdfde=mdfde[None], kT=kT, eta=eta)[0]
    e_hat = np.array([0.3, -0.5, 0.81])
    e_hat /= np.linalg.norm(e_hat)
    dps, fmin = precision_for(E, mu, kT)
    with mp.workdps(dps):
        tau = 1 / mp.mpf(eta)
        fm = [mp_fermi(e, mp.mpf(mu), mp.mpf(kT)) for e in E]
        # rho1_nn = tau d_a f_n E_a = tau f'(eps_n) v_n . e,   f' = -f(1-f)/kT
        rho1 = mp.diag([-tau * x * (1 - x) / kT * mp.mpf(float(v[n] @ e_hat)) for n, x in enumerate(fm)])
        scale = max(abs(rho1[i, i]) for i in range(nb))
        A, _ = e2_coefficient(fm, rho1, tau, mp.mpf("1e-3") * fmin / scale)
    assert quad(T_drude, e_hat) == pytest.approx(float(A), rel=1e-8)


# ----------------------------------------------------------------------------------------------
# 3. Size of the paper's error: two bands, mu mid-gap -> paper/exact = sinh(x)/x, x = Delta/2kT
# ----------------------------------------------------------------------------------------------
RATIO_AT = {0.2: 2.420081792415915, 0.05: 1101.3232874703393}  # sinh(x)/x at x = 2.5, 10


@pytest.mark.parametrize("kT_over_gap", [0.2, 0.05])
def test_two_band_paper_over_exact_ratio(kT_over_gap):
    gap, eta = 1.0, 1e-3
    E = np.array([-0.5, 0.5]) * gap
    kT = kT_over_gap * gap
    x = gap / (2 * kT)
    r = np.zeros((2, 2, 3), complex)
    r[0, 1] = [0.7 + 0.2j, -0.3j, 1.1]
    r[1, 0] = np.conj(r[0, 1])
    f, _ = occupations(E, 0.0, kT)
    T_e = interband_integrand(E=E[None], f=f[None], r=r[None], kT=kT, eta=eta)[0]
    T_p = interband_integrand(E=E[None], f=f[None], r=r[None], kT=kT, eta=eta, form="paper", mu=0.0)[0]
    e_hat = np.array([1.0, 0.0, 0.0])
    A, _ = exact_interband(E, 0.0, kT, r, eta, e_hat)
    # closed form: Pi = 2 eta g f12 * Delta/kT / (Delta^2 + eta^2),   f12 = tanh(Delta/4kT)
    g = abs(r[0, 1, 0]) ** 2
    assert A == pytest.approx(2 * eta * g * np.tanh(x / 2) * (gap / kT) / (gap**2 + eta**2), rel=1e-10)
    assert quad(T_e, e_hat) == pytest.approx(A, rel=1e-8)
    ratio = quad(T_p, e_hat) / A
    assert ratio == pytest.approx(np.sinh(x) / x, rel=1e-8)
    assert ratio == pytest.approx(RATIO_AT[kT_over_gap], rel=1e-8)
    # the same ratio for every tensor component (both forms are proportional to the same g_12)
    nz = np.abs(T_e) > 1e-12 * np.abs(T_e).max()
    assert np.allclose(T_p[nz] / T_e[nz], np.sinh(x) / x, rtol=1e-10)


def test_paper_error_grows_like_exp_gap_over_2kT():
    gap, eta = 1.0, 1e-3
    E = np.array([[-0.5, 0.5]])
    r = np.zeros((1, 2, 2, 3), complex)
    r[0, 0, 1, 0] = r[0, 1, 0, 0] = 1.0
    kTs = gap * np.array([0.04, 0.02, 0.01, 0.005])
    f = np.stack([occupations(E, 0.0, kT)[0] for kT in kTs], axis=-1)  # (1, 2, nT) grid axis
    T_e = interband_integrand(E=E, f=f, r=r, kT=kTs, eta=eta)[0, 0, 0]
    T_p = interband_integrand(E=E, f=f, r=r, kT=kTs, eta=eta, form="paper", mu=0.0)[0, 0, 0]
    x = gap / (2 * kTs)
    ratio = T_p / T_e
    # ratio = (e^x - e^-x)/2x  ->  ratio * (Delta/kT) * e^{-Delta/2kT} = 1 - e^{-2x} -> 1
    assert np.allclose(ratio * 2 * x * np.exp(-x), 1 - np.exp(-2 * x), rtol=1e-10)
    slope = np.diff(np.log(ratio * 2 * x)) / np.diff(1 / kTs)
    assert np.allclose(slope, gap / 2, rtol=1e-9)  # d ln(ratio * Delta/kT) / d(1/kT) = Delta/2
    # ratio -> 1 at high T (the forms agree only there)
    fh, _ = occupations(E, 0.0, 50 * gap)
    hi = [interband_integrand(E=E, f=fh, r=r, kT=50 * gap, eta=eta, form=s, mu=0.0)[0, 0, 0]
          for s in ("paper", "exact")]
    assert hi[0] / hi[1] == pytest.approx(1.0, abs=2e-5)


def test_paper_form_saturates_without_nan():
    """1/(f(1-f)) ~ e^{|x|} overflows for |x| > 709: the weight is capped, never inf*0 = nan."""
    E = np.array([[-7.5, 7.5]])
    r = np.zeros((1, 2, 2, 3), complex)
    r[0, 0, 1, 0] = r[0, 1, 0, 0] = 1.0  # zero y and z components
    kT = 0.01  # |x| = 750
    f, _ = occupations(E, 0.0, kT)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for mu in (None, 0.0):
            T = interband_integrand(E=E, f=f, r=r, kT=kT, eta=1e-3, form="paper", mu=mu)
            assert np.all(np.isfinite(T)) and T[0, 1, 1] == 0.0 and T[0, 0, 0] > 1e250
        T = interband_integrand(E=E, f=f, r=r, kT=kT, eta=1e-3)
        assert np.all(np.isfinite(T)) and T[0, 0, 0] > 0


# ----------------------------------------------------------------------------------------------
# 4. Positivity, PSD of (paper - exact), tau scaling, grid axes
# ----------------------------------------------------------------------------------------------
def _random_batch(rng, nk, nb):
    A = rng.normal(size=(nk, nb, nb)) + 1j * rng.normal(size=(nk, nb, nb))
    E = np.linalg.eigvalsh(0.5 * (A + np.conj(np.swapaxes(A, 1, 2))))
    r = rng.normal(size=(nk, nb, nb, 3)) + 1j * rng.normal(size=(nk, nb, nb, 3))
    r = 0.5 * (r + np.conj(np.swapaxes(r, 1, 2)))
    r[:, np.arange(nb), np.arange(nb)] = 0.0
    v = rng.normal(size=(nk, nb, 3))
    return E, r, v


@pytest.mark.parametrize("nb", [2, 3, 6])
def test_positivity_random_scan(nb):
    rng = np.random.default_rng(100 + nb)
    E, r, v = _random_batch(rng, 300, nb)
    kTs = np.array([1e-3, 1e-2, 0.05, 0.3, 1.0])
    mu, eta = 0.1, 0.01
    f = np.stack([occupations(E, mu, kT)[0] for kT in kTs], -1)
    md = np.stack([occupations(E, mu, kT)[1] for kT in kTs], -1)
    T_e = interband_integrand(E=E, f=f, r=r, kT=kTs, eta=eta)
    T_p = interband_integrand(E=E, f=f, r=r, kT=kTs, eta=eta, form="paper", mu=mu)
    T_d = drude_integrand(v=v, mdfde=md, kT=kTs, eta=eta)
    for T in (T_e, T_d, T_p - T_e):
        M = np.moveaxis(T, (1, 2), (-2, -1))
        w = np.linalg.eigvalsh(M)
        norm = np.abs(M).max(axis=(-2, -1))
        assert np.all(w >= -1e-14 * norm[..., None] - 1e-300)  # (absolute part: denormals)
    assert np.all(np.isfinite(T_p))


def test_interband_scales_as_1_over_tau_and_drude_as_tau():
    rng = np.random.default_rng(5)
    E, r, v = _random_batch(rng, 50, 3)
    E = E + 0.5 * np.arange(3)  # make every gap >= 0.5 eV
    kT, mu = 0.05, 0.0
    f, md = occupations(E, mu, kT)
    etas = np.array([1e-4, 1e-5])
    Ti = [interband_integrand(E=E, f=f, r=r, kT=kT, eta=eta) for eta in etas]
    Td = [drude_integrand(v=v, mdfde=md, kT=kT, eta=eta) for eta in etas]
    # Pi_inter / eta = Pi_inter * tau -> constant (error (eta/gap)^2 < 4e-8)
    assert np.allclose(Ti[0] / etas[0], Ti[1] / etas[1], rtol=1e-7, atol=1e-14 * np.abs(Ti[0] / etas[0]).max())
    assert np.allclose(Td[0] * etas[0], Td[1] * etas[1], rtol=1e-14)
    # and the eta -> 0 limit is (1/(tau T)) sum (f_m - f_n)/(e_n - e_m) g_nm
    de = E[:, :, None] - E[:, None, :]
    off = ~np.eye(3, dtype=bool)
    w = np.zeros_like(de)
    w[:, off] = ((f[:, None, :] - f[:, :, None])[:, off] / de[:, off])
    lim = etas[1] / kT * np.einsum("knm,knmab->kab", w, quantum_metric(r))
    assert np.allclose(Ti[1], lim, rtol=1e-8, atol=1e-14 * np.abs(lim).max())


def test_trailing_grid_axes_match_scalar_calls():
    rng = np.random.default_rng(9)
    E, r, v = _random_batch(rng, 7, 3)
    vab = rng.normal(size=(7, 3, 3, 3))
    vab = 0.5 * (vab + np.swapaxes(vab, 2, 3))
    kTs, mus, eta = np.array([0.02, 0.1]), np.array([-0.5, 0.0, 0.4]), 0.01
    f = occupations(E[..., None, None], mus, kTs[:, None])[0]  # (nk, nb, nT, nmu)
    md = occupations(E[..., None, None], mus, kTs[:, None])[1]
    kTg = kTs[:, None]
    res = {
        "d": drude_integrand(v=v, mdfde=md, kT=kTg, eta=eta),
        "e": interband_integrand(E=E, f=f, r=r, kT=kTg, eta=eta),
        "p": interband_integrand(E=E, f=f, r=r, kT=kTg, eta=eta, form="paper", mu=mus),
        "q": qm_decomposition(E=E, f=f, r=r, vab=vab, kT=kTg, eta=eta)[0],
    }
    for i, kT in enumerate(kTs):
        for j, mu in enumerate(mus):
            fs, mds = occupations(E, mu, kT)
            one = {
                "d": drude_integrand(v=v, mdfde=mds, kT=kT, eta=eta),
                "e": interband_integrand(E=E, f=fs, r=r, kT=kT, eta=eta),
                "p": interband_integrand(E=E, f=fs, r=r, kT=kT, eta=eta, form="paper", mu=mu),
                "q": qm_decomposition(E=E, f=fs, r=r, vab=vab, kT=kT, eta=eta)[0],
            }
            for key in res:
                assert np.allclose(res[key][..., i, j], one[key], rtol=1e-13, atol=0), key


# ----------------------------------------------------------------------------------------------
# 5. Eq. (19) vs Eq. (20) and the dimensional check of Eq. (21) on a two-band lattice model
# ----------------------------------------------------------------------------------------------
_PAULI = np.array([[[1, 0], [0, 1]], [[0, 1], [1, 0]], [[0, -1j], [1j, 0]], [[1, 0], [0, -1]]], complex)


def two_band_lattice(n, a=2.0, t=0.5, b=0.5, m=0.5, c=0.1):
    """Square-lattice two-band model H = d0 + d.sigma (Qi-Wu-Zhang type plus a d0 term), lattice a (A).

    d0 = c(cos kx a + cos ky a), d = (t sin kx a, t sin ky a, m + b(2 - cos kx a - cos ky a)), eV.
    Direct gap 2m = 1 eV at Gamma; bands in [-2.7, 2.3] eV.  Returns E (nk, 2) eV,
    v (nk, 2, 3) eV A, r (nk, 2, 2, 3) A, vab (nk, 2, 3, 3) eV A^2 on a uniform n x n mesh.
    """
    k = 2 * np.pi / a * np.arange(n) / n
    kx, ky = (q.ravel() for q in np.meshgrid(k, k, indexing="ij"))
    sx, cx, sy, cy = np.sin(kx * a), np.cos(kx * a), np.sin(ky * a), np.cos(ky * a)
    z = np.zeros_like(kx)
    d = np.stack([c * (cx + cy), t * sx, t * sy, m + b * (2 - cx - cy)], -1)
    grad = np.stack([np.stack([-c * a * sx, t * a * cx, z, b * a * sx], -1),
                     np.stack([-c * a * sy, z, t * a * cy, b * a * sy], -1),
                     np.zeros((kx.size, 4))], 1)
    hess = np.zeros((kx.size, 3, 3, 4))
    hess[:, 0, 0] = np.stack([-c * a * a * cx, -t * a * a * sx, z, b * a * a * cx], -1)
    hess[:, 1, 1] = np.stack([-c * a * a * cy, z, -t * a * a * sy, b * a * a * cy], -1)
    E, U = np.linalg.eigh(np.einsum("ki,ist->kst", d, _PAULI))
    Uh = np.conj(np.swapaxes(U, 1, 2))
    dH = np.einsum("kns,kai,ist,ktm->knma", Uh, grad, _PAULI, U)
    v = np.real(np.einsum("knna->kna", dH))
    vab = np.real(np.einsum("kns,kabi,ist,ktn->knab", Uh, hess, _PAULI, U))
    off = ~np.eye(2, dtype=bool)
    r = np.zeros_like(dH)
    r[:, off] = 1j * dH[:, off] / (E[:, None, :] - E[:, :, None])[:, off][..., None]  # i <n|dH|m>/(e_m - e_n)
    return E, v, r, vab


@pytest.fixture(scope="module")
def lattice():
    return two_band_lattice(120)


def _bz(E, v, r, vab, mu, kT, eta, form="paper"):
    f, md = occupations(E, mu, kT)
    out = {"fs": drude_integrand(v=v, mdfde=md, kT=kT, eta=eta).mean(0)}
    band, geom = drude_sea_integrands(E=E, f=f, r=r, vab=vab, kT=kT, eta=eta)
    out["band"], out["geom"] = band.mean(0), geom.mean(0)
    out["inter"] = interband_integrand(E=E, f=f, r=r, kT=kT, eta=eta, form=form, mu=mu).mean(0)
    qm, nq = qm_decomposition(E=E, f=f, r=r, vab=vab, kT=kT, eta=eta, form=form, mu=mu)
    out["qm"], out["nonqm"] = qm.mean(0), nq.mean(0)
    return out


@pytest.mark.parametrize("mu", [0.0, 0.8])  # in the gap [-0.3, 0.7] (insulator) and in the upper band (metal)
def test_eq19_fermi_surface_equals_eq20_fermi_sea(lattice, mu):
    o = _bz(*lattice, mu=mu, kT=0.1, eta=0.01)
    assert np.allclose(o["band"] + o["geom"], o["fs"], rtol=1e-6, atol=1e-6 * np.abs(o["fs"]).max())
    assert o["fs"][0, 0] > 1.0 and o["fs"][0, 0] == pytest.approx(o["fs"][1, 1], rel=1e-10)  # C4


@pytest.mark.parametrize("form", ["paper", "exact"])
def test_eq21_needs_tau_in_lambda_and_the_vab_part(lattice, form):
    E, v, r, vab = lattice
    mu, kT, eta = 0.8, 0.1, 0.01  # metal; tau = 100 hbar/eV
    o = _bz(E, v, r, vab, mu, kT, eta, form)
    eq18 = o["fs"] + o["inter"]  # Drude (Eq. 19) + interband
    # tau restored + the v^ab part: Eq. (21) + non-QM = Drude + interband  (after the BZ sum)
    assert np.allclose(o["qm"] + o["nonqm"], eq18, rtol=1e-6, atol=1e-6 * np.abs(eq18).max())
    # literal Eq. (21): lambda's first term without tau (= geom * eta, since geom carries tau = 1/eta).
    # Both sides share the interband term, so compare what is left of the Drude part:
    drude_literal = o["geom"] * eta
    for candidate in (drude_literal, drude_literal + o["nonqm"]):
        assert abs(candidate[0, 0] - o["fs"][0, 0]) > 0.5 * abs(o["fs"][0, 0])
    # ... and it has the wrong tau scaling: halving eta (doubling tau) leaves it unchanged
    o2 = _bz(E, v, r, vab, mu, kT, eta / 2, form)
    assert o2["geom"][0, 0] * (eta / 2) == pytest.approx(o["geom"][0, 0] * eta, rel=1e-12)
    assert o2["fs"][0, 0] == pytest.approx(2 * o["fs"][0, 0], rel=1e-12)
    # dropping the v^ab ("non-quantum-metric") part is not negligible: it is 6.2x the Drude term here
    if form == "exact":
        frac = o["nonqm"][0, 0] / (o["qm"][0, 0] + o["nonqm"][0, 0])
        assert frac == pytest.approx(6.2171, rel=1e-4)


def test_dropping_vab_violates_second_law_in_an_insulator(lattice):
    """mu in the gap, kT = 0.2 gap, tau = 1 ps: Eq. (21) without v^ab (tau restored, paper's kernel) gives Pi_xx < 0."""
    eta = 6.582119569e-16 / 1e-12  # hbar/tau in eV for tau = 1 ps
    for form in ("paper", "exact"):
        o = _bz(*lattice, mu=0.0, kT=0.2, eta=eta, form=form)
        assert o["qm"][0, 0] < -1e3  # Eq. (21) alone: negative entropy production
        assert o["qm"][0, 0] + o["nonqm"][0, 0] > 0  # restored: positive
        assert o["nonqm"][0, 0] > 15 * (o["qm"][0, 0] + o["nonqm"][0, 0])


def test_paper_form_on_lattice_is_dominated_by_states_far_from_mu(lattice):
    """BZ-integrated paper/exact at kT = 0.05 gap: not sinh(x)/x = 1101 but 4.6e18, growing like e^{max|e-mu|/kT}."""
    o_p = _bz(*lattice, mu=0.0, kT=0.05, eta=0.01, form="paper")
    o_e = _bz(*lattice, mu=0.0, kT=0.05, eta=0.01, form="exact")
    ratio = o_p["inter"][0, 0] / o_e["inter"][0, 0]
    assert 1e18 < ratio < 1e19
    # d ln(ratio) / d(1/kT) -> max|e - mu| = 2.7 eV (bottom of the lower band), not Delta/2 = 0.5 eV
    E, v, r, vab = lattice
    kTs = np.array([0.025, 0.0125])
    f = np.stack([occupations(E, 0.0, kT)[0] for kT in kTs], -1)
    R = (interband_integrand(E=E, f=f, r=r, kT=kTs, eta=0.01, form="paper", mu=0.0).mean(0)[0, 0]
         / interband_integrand(E=E, f=f, r=r, kT=kTs, eta=0.01).mean(0)[0, 0])
    slope = np.diff(np.log(R))[0] / np.diff(1 / kTs)[0]
    assert 2.6 < slope < 2.7
