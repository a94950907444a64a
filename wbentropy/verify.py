"""``wbentropy verify``: the paper's relations checked on the user's own system.

At one (T, mu) and k-mesh, every check computes both sides of a relation by independent
routes and reports PASS/FAIL with the numbers.  A row FAILs only when its relation is violated
by more than a tolerance derived from the run's own error estimates (quadrature, finite
differences, omitted Sommerfeld terms, mesh or adaptive integration error); where the relation
cannot be tested at this T and mesh (its condition of validity is not met, the Sommerfeld series
does not converge, or the mesh does not resolve the thermal shell and adaptive refinement within
its budget does not either) the row is INFO, without a deviation, saying why and what would
resolve it.  INFO rows never fail the run.

===============  ==========================================================================
onsager          sigma^s_ab (Eq. 28) = anomalous Nernst alpha_ab from the T = 0 AHC curve
mott-1, mott-2   Eq. (31) with one and two Sommerfeld terms (sigma^e at the same T); tolerance:
                 the omitted terms; INFO if the terms do not decrease
maxwell          d_T sigma^e = -e d_mu sigma^s (finite differences); the paper's Eq. (30),
                 with an extra 1/T, is reported beside it
wf               Wiedemann-Franz: kappa_ab/(L_0 T sigma^e_ab) - 1 = (8 pi^2/15)(k_BT)^2 sigma''/sigma + O(T^4);
                 tolerance: the O(T^4) term; INFO if the terms do not decrease
eq34             two-band ratio sigma^s(w)/sigma^e(w) = -(k_B/e)(s_- - s_+)/(f_- - f_+) where the
                 spread of eps_+ + eps_- over the resonant pairs is <= k_BT (INFO "not applicable" otherwise)
js0              zero-field entropy current (Eq. 24) vanishes
pi>=0            entropy production tensor positive semi-definite at sampled k and on the mesh
eq20-k           d_a d_b eps_n (finite differences of the bands) = v^ab_n + 2 sum_m eps_nm g_nm
                 at sampled k (the identity behind Eq. 20)
eq20-bz          Fermi-surface (Eq. 19) = Fermi-sea (Eq. 20) Drude entropy production on the mesh
===============  ==========================================================================

Exit status: 0 if no check FAILs, 1 otherwise.  The checks are functions returning
:class:`Check` objects, usable from Python (:func:`verify`).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from . import constants as C
from .api import compute
from .errors import InputError
from .evaluate import Evaluator
from .integrate.uniform import UniformMesh
from .kspace.geometry import DEFAULT_DEGEN_THRESH, band_geometry
from .kspace.interpolation import Interpolator
from .model import TBModel
from .physics.geometry import connection_products, quantum_metric
from .physics import optical as OPT
from .physics import relations as REL
from .physics.occupation import entropy, fermi, kT_eV
from .quantities import Options, get_quantities

__all__ = ["Check", "verify", "check_onsager", "check_mott", "check_maxwell", "check_wiedemann_franz",
           "check_two_band_ratio",
           "check_zero_field_current", "check_entropy_production_positive", "check_band_hessian_identity",
           "check_drude_sum_rule", "format_table"]

logger = logging.getLogger(__name__)

_S_PER_CM = C.S_PER_CM_TO_S_PER_M


@dataclass
class Check:
    """One verified relation.

    Attributes
    ----------
    name : str
        Short label (table row).
    relation : str
        The relation, in words/formula.
    status : {"PASS", "FAIL", "INFO"}
    lhs, rhs : float
        The two sides (a representative component), in ``units``.
    deviation : float
        |lhs - rhs| relative to the scale stated in ``note``.
    tolerance : float
        Allowed deviation.
    units : str
    note : str
        What the numbers are and why the tolerance is what it is.
    """

    name: str
    relation: str
    status: str
    lhs: float
    rhs: float
    deviation: float
    tolerance: float
    units: str = ""
    note: str = ""


#: Values below this fraction of the natural unit (the response of one Angstrom^2 of Berry curvature
#: per cell) are treated as zero when forming relative deviations (e.g. mu deep in a gap at low T).
_NOISE = 1e-9
#: Relative round-off of a sum over up to ~1e6 k-points of terms each accurate to ~1e-13 (eigh, Fourier sums):
#: added to every derived tolerance.
_ROUNDOFF = 1e-9
#: Sensitivity of the two checks of a vanishing mesh sum (js0, eq20-bz): their integrals are converged
#: (adaptively) until the error estimate is below this fraction of the scale, so a violation larger than it shows.
RESOLVE = 1e-3
#: Adaptive budget of those checks, in units of the user's mesh (cost at most this many times the mesh's).
ADAPTIVE_BUDGET = 4


def _unit_entropy_hall(model: TBModel) -> float:
    """(e k_B/hbar)/V per Angstrom^2: natural scale of sigma^s, A/(m K)."""
    return C.ENTROPY_HALL_FACTOR_A_PER_MK / model.volume


def _unit_ahc_si(model: TBModel) -> float:
    """(e^2/hbar)/V per Angstrom^2: natural scale of sigma^e, S/m."""
    return abs(C.AHC_FACTOR_S_PER_CM) * _S_PER_CM / model.volume


def _status(deviation: float, tolerance: float) -> str:
    return "PASS" if np.isfinite(deviation) and deviation <= tolerance else "FAIL"


def _largest(t: np.ndarray) -> tuple:
    """Index of the largest |component| of a tensor."""
    return np.unravel_index(np.argmax(np.abs(t)), t.shape)


_LABELS = "xyz"


def _mesh_batches(mesh: UniformMesh, batch: int):
    for s in range(0, mesh.size, batch):
        yield mesh.points(s, min(s + batch, mesh.size))


def _comp(idx) -> str:
    return "".join(_LABELS[i] for i in idx)


# ----------------------------------------------------------------------------- Onsager
def ahc_curve(*, model: TBModel, kmesh, energies, degen_thresh: float = DEFAULT_DEGEN_THRESH,
              batch: int = 256) -> np.ndarray:
    """T = 0 anomalous Hall conductivity sigma^e_0(E) on the uniform mesh at many energies, (nE, 3, 3) S/cm.

    Equal to ``compute(quantities=["ahc"], temperatures=[0], mus=energies)`` but summed over k
    batch by batch (no per-k output), so that thousands of energies are cheap.
    """
    from .quantities import ahc_curve_sum

    interp = Interpolator(model=model)
    mesh = UniformMesh(tuple(kmesh))
    energies = np.asarray(energies, dtype=float)
    total = np.zeros((len(energies), 3, 3))
    for k in _mesh_batches(mesh, batch):
        total += ahc_curve_sum(band_geometry(interp(k), degen_thresh=degen_thresh), energies=energies,
                               volume=model.volume)
    return total / mesh.size


def check_onsager(*, model: TBModel, temperature: float, mu: float, kmesh, points_per_kT: int = 100,
                  window_kT: float = 25.0, **kw) -> Check:
    """sigma^s (Eq. 28) vs the anomalous Nernst coefficient from the T = 0 AHC curve (Onsager).

    alpha = -(1/q) int dE (df/dE) sigma^e_0(E) (E - mu)/T, q = -e, with sigma^e_0 on an energy
    grid of ``points_per_kT`` points per k_BT over mu +- ``window_kT`` k_BT (trapezoid rule; the
    kernel's tail beyond the window is below e^-25).  Both sides are sums over the same mesh
    states, so the relation holds on any mesh up to the quadrature error: on a mesh sigma^e_0 is a
    staircase and that error is first order in the grid step h, estimated from the same
    quadrature on the grids of step 2h and 4h (subsets of the grid): the tolerance is
    |alpha_h - alpha_2h| + |alpha_2h - alpha_4h| (+ round-off).
    """
    kT = kT_eV(temperature)
    E = mu + kT * np.linspace(-window_kT, window_kT, 4 * int(window_kT * points_per_kT / 2) + 1)
    sig0 = ahc_curve(model=model, kmesh=kmesh, energies=E, **kw) * _S_PER_CM
    integrand = REL.nernst_kernel(E=E, mu=mu, kT=kT)[:, None, None] * sig0
    alpha, alpha2, alpha4 = (np.trapezoid(integrand[::s], E[::s], axis=0) for s in (1, 2, 4))
    ss = compute(model=model, quantities=["entropy_hall"], temperatures=[temperature], mus=[mu], kmesh=kmesh,
                 **kw)["entropy_hall"][0, 0]
    scale = max(np.max(np.abs(ss)), _NOISE * _unit_entropy_hall(model))
    dev = np.max(np.abs(ss - alpha)) / scale
    # states beyond the window: |kernel| <= s(window_kT) k_B/e per unit of sigma^e_0 jump (bounded by 2 max|sigma^e_0|)
    tail = C.KB_EV * float(entropy(np.array(mu + window_kT * kT), mu=mu, kT=kT)) * 2 * np.max(np.abs(sig0))
    tol = float((np.max(np.abs(alpha - alpha2) + np.abs(alpha2 - alpha4)) + tail) / scale) + _ROUNDOFF
    idx = _largest(ss)
    return Check(name="onsager", relation="sigma^s_ab = alpha_ab (anomalous Nernst from T=0 AHC curve)",
                 status=_status(dev, tol), lhs=float(ss[idx]), rhs=float(alpha[idx]), deviation=float(dev),
                 tolerance=tol, units="A/(m K)",
                 note=f"component {_comp(idx)}; deviation = max over components / max|sigma^s|; energy grid "
                      f"{points_per_kT}/kT over +-{window_kT:g} kT; tolerance = quadrature error estimated from "
                      "the grids of step 2h and 4h + the states beyond the window")


# ----------------------------------------------------------------------------- Mott / Sommerfeld
#: Central 7-point stencil of the fourth derivative, O(h^4) (weights * h^4).
FD_FOURTH = np.array([-1 / 6, 2.0, -13 / 2, 28 / 3, -13 / 2, 2.0, -1 / 6])
#: Coefficient of the O(T^4) term of kappa/(L_0 T sigma^e) - 1 = (8 pi^2/15) t^2 s^(2)/s + (8 pi^4/105) t^4 s^(4)/s,
#: t = k_BT, s = sigma^e(T): from the moments int x^(2n) f(1-f) dx = 1, pi^2/3, 7 pi^4/15, 31 pi^6/21 of
#: kappa/(L_0T) = (3/pi^2) int x^2 f(1-f) sigma^e_0 and sigma^e = int f(1-f) sigma^e_0, eliminating sigma^e_0:
#: pi^4 (1/120 - 7/60 + 31/168) = 8 pi^4/105.
WF_SECOND_COEFFICIENT = 8 * np.pi**4 / 105


#: Central 9-point stencil of the seventh derivative, O(h^2) (weights * h^7), for the fourth Sommerfeld term.
FD_SEVENTH = np.array([-1 / 2, 3.0, -7.0, 7.0, 0.0, -7.0, 7.0, -3.0, 1 / 2])
#: Fourth coefficient of (1 - pi t cot pi t)/t^2 = sum_k 2 zeta(2k) t^(2k-2): 2 zeta(8) = pi^8/4725.
SOMMERFELD_FOURTH = np.pi**8 / 4725


def _stencil(order: int) -> np.ndarray:
    return {2: REL.FD_SECOND, 4: FD_FOURTH}.get(order, REL.FD_STENCILS.get(order))


def _mu_series(*, model, quantities, temperature, mu, kmesh, h, **kw) -> dict:
    """The quantities at mu + j h, j = -6..6 (13 points), same T and mesh: name -> (13, ...)."""
    r = compute(model=model, quantities=list(quantities), temperatures=[temperature], mus=mu + h * np.arange(-6, 7),
                kmesh=kmesh, **kw)
    return {q: r[q][0] for q in quantities}


def _mu_derivative(values: np.ndarray, order: int, h: float) -> tuple[np.ndarray, np.ndarray]:
    """d^order/dmu^order at the centre of 13 values spaced h: the 7-point difference of step h and its
    error estimate |D_h - D_2h| (D_2h: the same stencil on every other point; its truncation error is
    2^p times larger, so the difference bounds the error of D_h)."""
    w = _stencil(order)
    d_h = np.tensordot(w, values[3:10], axes=(0, 0)) / h**order
    d_2h = np.tensordot(w, values[::2], axes=(0, 0)) / (2 * h) ** order
    return d_h, np.abs(d_h - d_2h)


def _series_ratio(mags, start: int) -> float:
    """Largest |t_j|/|t_(j-1)| for j >= start (inf where a term grows from zero, 0 if both vanish)."""
    out = 0.0
    for j in range(start, len(mags)):
        if mags[j] > 0:
            out = max(out, mags[j] / mags[j - 1] if mags[j - 1] > 0 else np.inf)
    return out


def _half(kmesh) -> tuple:
    return tuple(max(1, n // 2) for n in kmesh)


def _sommerfeld_terms(sigma: np.ndarray, *, h: float, kT: float) -> tuple[list, list]:
    """Terms 1-4 of Eq. (31) from sigma^e (13, 3, 3) at mu + j h, and the finite-difference errors of terms 1-3."""
    der = {k: _mu_derivative(sigma, k, h) for k in (1, 3, 5)}
    terms = REL.sommerfeld_entropy_hall(derivatives={k: d for k, (d, _) in der.items()}, kT=kT)
    fd_err = [np.abs(t) for t in REL.sommerfeld_entropy_hall(derivatives={k: e for k, (_, e) in der.items()}, kT=kT)]
    d7 = np.tensordot(FD_SEVENTH, sigma[2:11], axes=(0, 0)) / h**7
    terms.append(-C.KB_EV * SOMMERFELD_FOURTH * kT**7 * d7)  # only to bound the tail
    return terms, fd_err


def check_mott(*, model: TBModel, temperature: float, mu: float, kmesh, **kw) -> list[Check]:
    """Eq. (31): sigma^s vs the Sommerfeld series in mu-derivatives of sigma^e(T, mu), 1 and 2 terms.

    The derivatives (orders 1, 3, 5) are 7-point differences with step k_BT/4 of the finite-T AHC on
    the same mesh (sigma^e(T) is smooth on the scale k_BT), with their error estimated from step
    k_BT/2; a fourth term (order 7, 9 points) serves only to bound the tail.  Both sides are sums over
    the same mesh states, so the relation holds on any mesh where the series converges.  An n-term
    truncation is tested only if the computed terms decrease from the n-th on (every
    |t_j/t_(j-1)| < 1, j >= n); its remainder is then of the size of the omitted computed terms
    plus the geometric tail of the last (the series is asymptotic: on QWZ at 300 K the remainder
    after two terms is 1.3 times that), and the tolerance is twice that plus the
    finite-difference errors of the terms used (+ round-off).  If a term is not smaller than the one
    before, the series does not converge at this T (sigma^e has structure on the scale k_BT, e.g. the
    staircase of a coarse mesh): INFO.
    """
    kT = kT_eV(temperature)
    h = kT / 4
    v = _mu_series(model=model, quantities=["ahc", "entropy_hall"], temperature=temperature, mu=mu, kmesh=kmesh,
                   h=h, **kw)
    ss = v["entropy_hall"][6]
    terms, fd_err = _sommerfeld_terms(v["ahc"] * _S_PER_CM, h=h, kT=kT)
    half = _mu_series(model=model, quantities=["ahc"], temperature=temperature, mu=mu, kmesh=_half(kmesh), h=h, **kw)
    mesh_err = [np.abs(a - b) for a, b in zip(terms, _sommerfeld_terms(half["ahc"] * _S_PER_CM, h=h, kT=kT)[0])]
    idx = _largest(ss)
    scale = max(abs(ss[idx]), _NOISE * _unit_entropy_hall(model))
    mags = [float(abs(t[idx])) for t in terms]
    shown = ", ".join(f"{m / scale:.2e}" for m in mags)
    out = []
    for n in (1, 2):
        approx = sum(terms[:n])
        err = float(np.max(np.abs(ss - approx)))
        r = _series_ratio(mags, n)
        relation = (f"Eq. (31), {n} term{'s' if n > 1 else ''}: "
                    "sigma^s = -(k_B/e) sum c_n (kT)^(2n+1) d^(2n+1)sigma^e(T)")
        note = f"component {_comp(idx)}; |terms 1-4|/|sigma^s| = {shown}"
        if r >= 1:
            out.append(Check(name=f"mott-{n}", relation=relation, status="INFO", lhs=float(ss[idx]),
                             rhs=float(approx[idx]), deviation=float("nan"), tolerance=float("nan"), units="A/(m K)",
                             note=note + "; INFO: series does not converge at this T (a term is not smaller than the "
                                         "one before: sigma^e(T) has structure on the scale k_BT; a lower "
                                         "--temperature, or a finer --kmesh if it is the mesh's staircase)"))
            continue
        tail = sum(mags[n:-1]) + mags[-1] / (1 - mags[-1] / mags[-2])
        tol = (2 * tail + float(np.max(sum(fd_err) + sum(mesh_err)))) / scale + _ROUNDOFF
        out.append(Check(name=f"mott-{n}", relation=relation, status=_status(err / scale, tol), lhs=float(ss[idx]),
                         rhs=float(approx[idx]), deviation=err / scale, tolerance=tol, units="A/(m K)",
                         note=note + "; tolerance = 2 x (the omitted computed terms + the last / (1 - its ratio to "
                                     "the one before)) + finite-difference error + change of the terms "
                                     "from the mesh N/2"))
    return out


# ----------------------------------------------------------------------------- Maxwell
def check_maxwell(*, model: TBModel, temperature: float, mu: float, kmesh, rel_step: float = 2e-3,
                  **kw) -> list[Check]:
    """d_T sigma^e = -e d_mu sigma^s by central differences (dT = rel_step T, dmu = rel_step kT).

    The identity holds state by state (d_T f = k_B d_mu s), so on any mesh only the O(h^2)
    finite-difference error remains; it is estimated for each side from the difference with the
    step 2h, and the tolerance is the sum of the two estimates (+ round-off).  The paper's Eq. (30)
    (an extra 1/T on the right) is reported as a second, informational row.
    """
    if temperature <= 0:
        raise InputError("the Maxwell check needs T > 0")
    kT = kT_eV(temperature)
    hT, hmu = rel_step * temperature, rel_step * kT
    j = np.arange(-2, 3)
    r = compute(model=model, quantities=["ahc", "entropy_hall"], temperatures=temperature + hT * j,
                mus=mu + hmu * j, kmesh=kmesh, **kw)
    sig, ss = r["ahc"][:, 2] * _S_PER_CM, r["entropy_hall"][2]

    def central(v, step):
        return (v[3] - v[1]) / (2 * step), (v[4] - v[0]) / (4 * step)

    dsig_dT, dsig_dT2 = central(sig, hT)       # S/(m K)
    dss_dmu, dss_dmu2 = central(ss, hmu)       # A/(m K) per V
    ours = -dss_dmu
    idx = _largest(dsig_dT)
    scale = max(abs(dsig_dT[idx]), _NOISE * _unit_ahc_si(model) / temperature)
    dev = float(np.max(np.abs(dsig_dT - ours)) / scale)
    tol = float(np.max(np.abs(dsig_dT - dsig_dT2) + np.abs(dss_dmu - dss_dmu2)) / scale) + _ROUNDOFF
    paper = ours / temperature
    dev_paper = float(np.max(np.abs(dsig_dT - paper)) / scale)
    return [Check(name="maxwell", relation="d_T sigma^e = -e d_mu sigma^s  (from f = -d_mu g, k_B s = -d_T g)",
                  status=_status(dev, tol), lhs=float(dsig_dT[idx]), rhs=float(ours[idx]), deviation=dev,
                  tolerance=tol, units="S/(m K)",
                  note=f"component {_comp(idx)}; central differences dT = {hT:.3g} K, dmu = {hmu:.3g} eV; "
                       "tolerance = their error estimated from steps 2 dT, 2 dmu"),
            Check(name="maxwell-paper", relation="paper Eq. (30): d_T sigma^e = -(e/T) d_mu sigma^s (for comparison)",
                  status="INFO", lhs=float(dsig_dT[idx]), rhs=float(paper[idx]), deviation=dev_paper,
                  tolerance=float("nan"), units="S/(m K)",
                  note=f"off by the factor T = {temperature:g} K: the paper's extra 1/T is wrong (docs/errata.md)")]


# ----------------------------------------------------------------------------- Eq. 34
def resonant_spread(*, model: TBModel, temperature: float, mu: float, kmesh, omegas, smearing: str,
                    smearing_width: float, degen_thresh: float = DEFAULT_DEGEN_THRESH,
                    batch: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Mean and spread (std) of eps_n + eps_m over the pairs resonant at each omega, weighted by
    their absorption; (nomega,) each, eV."""
    interp = Interpolator(model=model)
    kT = kT_eV(temperature)
    mom = np.zeros((len(omegas), 3))
    for k in _mesh_batches(UniformMesh(tuple(kmesh)), batch):
        g = band_geometry(interp(k), degen_thresh=degen_thresh)
        r = g.r
        rr = connection_products(r).reshape(r.shape[:3] + (9,))
        w = fermi(g.E_group, mu=mu, kT=kT)[..., None]
        mom += OPT.resonant_pair_moments(E=g.E_group, rr=rr, w=w, omegas=np.asarray(omegas, float),
                                         width=smearing_width, kind=smearing).sum(axis=0)[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = mom[:, 1] / mom[:, 0]
        var = np.maximum(mom[:, 2] / mom[:, 0] - mean**2, 0.0)
    return mean, np.sqrt(var)


def check_two_band_ratio(*, model: TBModel, temperature: float, mu: float, kmesh, omegas, smearing: str = "lorentzian",
                         smearing_width: float = 0.05, **kw) -> Check:
    """Eq. (34) at the frequency among ``omegas`` where |tr Re sigma^s(w)| is largest.

    Compares tr Re sigma^s(w) / tr Re sigma^e(w) with R(c) = -(k_B/e)(s_- - s_+)/(f_- - f_+) at
    eps_-+ = c -+ w/2, c the absorption-weighted mean of (eps_n + eps_m)/2 over the resonant
    pairs.  The relation is exact only when eps_+ + eps_- is the same for all of them; its condition
    here is that their spread S (weighted standard deviation) is at most k_BT, otherwise the row is
    INFO "not applicable" with S in units of k_BT and no deviation.  Under the condition the
    tolerance is what the spread and the line width can do to the ratio: the change of R over
    c +- S (two standard deviations of the centre S/2), plus its change over w +- gamma, relative to
    R (+ round-off).
    """
    kT = kT_eV(temperature)
    omegas = np.atleast_1d(np.asarray(omegas, dtype=float))
    r = compute(model=model, quantities=["optical_conductivity", "optical_entropy_conductivity"],
                temperatures=[temperature], mus=[mu], kmesh=kmesh, omegas=omegas, smearing=smearing,
                smearing_width=smearing_width, **kw)
    se = np.trace(r["optical_conductivity"][0, 0].real, axis1=-2, axis2=-1) * _S_PER_CM   # (nw,) S/m
    ss = np.trace(r["optical_entropy_conductivity"][0, 0].real, axis1=-2, axis2=-1)     # A/(m K)
    iw = int(np.argmax(np.abs(ss)))  # where the entropy response is; the charge one may peak far from mu
    w = omegas[iw]
    mean, spread = resonant_spread(model=model, temperature=temperature, mu=mu, kmesh=kmesh, omegas=[w],
                                   smearing=smearing, smearing_width=smearing_width, **kw)
    centre, S = 0.5 * mean[0], float(spread[0])
    measured = float(ss[iw] / se[iw]) if se[iw] != 0 else float("nan")

    def ratio(omega=w, c=centre):
        return float(REL.two_band_ratio(omega=omega, centre=c, mu=mu, kT=kT))

    predicted = ratio()
    relation = "sigma^s(w)/sigma^e(w) = -(k_B/e)(s_- - s_+)/(f_- - f_+)  (two-band, Eq. 34)"
    cond = (f"w = {w:.4g} eV (largest |tr Re sigma^s|); spread of eps_+ + eps_- over the resonant pairs "
            f"{S:.3e} eV = {S / kT:.3g} k_BT (mean {mean[0]:.4g} eV)")
    if not (np.isfinite(S) and S <= kT and np.isfinite(measured) and predicted != 0):
        why = (f"eps_+ + eps_- spreads by {S / kT:.3g} k_BT > 1 k_BT over the resonant pairs" if np.isfinite(S)
               and S > kT else "no resonant pairs or a vanishing ratio at this w")
        return Check(name="eq34", relation=relation, status="INFO", lhs=measured, rhs=predicted,
                     deviation=float("nan"), tolerance=float("nan"), units="V/K",
                     note=f"{cond}; INFO: not applicable: {why} (Eq. 34 needs it constant)")
    dev = abs(measured - predicted) / abs(predicted)
    from_spread = max(abs(ratio(c=centre + S) - predicted), abs(ratio(c=centre - S) - predicted))
    from_line = max(abs(ratio(omega=w + smearing_width) - predicted), abs(ratio(omega=w - smearing_width) - predicted))
    tol = (from_spread + from_line) / abs(predicted) + _ROUNDOFF
    if tol >= 1:
        return Check(name="eq34", relation=relation, status="INFO", lhs=measured, rhs=predicted,
                     deviation=float("nan"), tolerance=float("nan"), units="V/K",
                     note=f"{cond}; INFO: unresolved: the ratio changes by more than itself over w +- the line width "
                          f"({from_line / abs(predicted):.2e}): needs a narrower --smearing width or a higher T")
    return Check(name="eq34", relation=relation, status=_status(dev, tol), lhs=measured, rhs=predicted,
                 deviation=dev, tolerance=tol, units="V/K",
                 note=f"{cond}; tolerance = change of the ratio over the centre +- the spread "
                      f"({from_spread / abs(predicted):.2e}) and over w +- the line width {smearing_width:g} eV "
                      f"({from_line / abs(predicted):.2e})")


# ----------------------------------------------------------------------------- j^s(0), Pi >= 0
def _quiet_compute(**kw):
    """:func:`compute` without its convergence warnings (the check reports the convergence itself)."""
    import warnings

    log = logging.getLogger("wbentropy")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return compute(**kw)
    finally:
        log.setLevel(level)


def _needs(*, kmesh, res: float, temperature: float) -> str:
    """The mesh or temperature at which the mesh spacing is one thermal shell."""
    factor = res if res > 1 else 2.0  # resolved shell, but the sum not yet converged: a mesh twice as fine
    need = tuple(int(np.ceil(n * factor)) if n > 1 else 1 for n in kmesh)
    return (f"INFO: unresolved: needs --kmesh {' '.join(map(str, need))} or --temperature >= "
            f"{temperature * factor:.3g} K (the mesh spacing is {res:.3g} thermal shells k_BT/|v|_FS")


def _unresolved(*, kmesh, res: float, temperature: float, result) -> str:
    """What would resolve a mesh sum that did not converge: a mesh or a temperature."""
    return (_needs(kmesh=kmesh, res=res, temperature=temperature) + "; "
            f"adaptive refinement stopped unconverged after {result.attrs['num_kpoints']} k-points, "
            f"{ADAPTIVE_BUDGET}x the mesh, estimated error {result.attrs['estimated_rel_error']:.2e})")


def _vanishing_sum(*, value_of, uniform, scale: float, res: float, model, temperature, mu, kmesh, quantities,
                   abs_tolerance, **kw) -> tuple:
    """Status of a mesh sum that must vanish: (status, deviation, tolerance, how, adaptive result or None).

    ``value_of(result)`` -> (residual array, its error array) in the units of ``scale``.  Zero to round-off on
    the user's mesh: PASS.  If the mesh resolves the thermal shell (``res`` <= 1: the periodic integrand is
    smooth on the mesh scale, so its mesh sums converge exponentially), the error of the mesh sum is
    estimated as its difference from the sum on the mesh N_i // 2; if that is below :data:`RESOLVE` x scale,
    PASS if the residual is within it (+ round-off), FAIL if not.  Otherwise the integral is refined adaptively
    (coarse mesh N_i // 3: as many Gauss nodes as the user's mesh has points; error below
    :data:`RESOLVE` x scale, at most :data:`ADAPTIVE_BUDGET` x its k-points): converged, PASS if the residual
    is within its error estimate (+ round-off), FAIL if not; not converged, INFO "unresolved".
    """
    dev = float(np.max(np.abs(value_of(uniform)[0])) / scale)
    if dev <= _ROUNDOFF:
        return "PASS", dev, _ROUNDOFF, "zero to round-off on the mesh", None
    if res <= 1:
        half = compute(model=model, quantities=quantities, temperatures=[temperature], mus=[mu],
                       kmesh=tuple(max(1, n // 2) for n in kmesh), **kw)
        err = float(np.max(np.abs(value_of(uniform)[0] - value_of(half)[0])) / scale)
        if err <= RESOLVE:
            tol = err + _ROUNDOFF
            return _status(dev, tol), dev, tol, "tolerance = |sum on this mesh - sum on the mesh N/2|", None
    coarse = tuple(max(1, n // 3) for n in kmesh)  # 27 Gauss nodes per cell: as many points as the mesh
    r = _quiet_compute(model=model, quantities=quantities, temperatures=[temperature], mus=[mu], kmesh=coarse,
                       tolerance=RESOLVE, abs_tolerance=abs_tolerance,
                       max_kpoints=max(ADAPTIVE_BUDGET * int(np.prod(kmesh)), 27 * int(np.prod(coarse))), **kw)
    value, error = value_of(r)
    if not r.attrs["converged"]:
        return "INFO", float("nan"), float("nan"), None, r
    dev = float(np.max(np.abs(value)) / scale)
    tol = float(np.max(error) / scale) + _ROUNDOFF
    return _status(dev, tol), dev, tol, (f"adaptive: {r.attrs['num_kpoints']} k-points, tolerance = its error "
                                         "estimate"), r


def check_zero_field_current(*, model: TBModel, temperature: float, mu: float, kmesh,
                             degen_thresh: float = DEFAULT_DEGEN_THRESH, batch: int = 512, **kw) -> Check:
    """j^s(0) = k_B sum_n int v_n s_n / hbar = 0 (Eq. 24; the integrand is a total derivative).

    Relative to the same integral with |v_n|.  On a uniform mesh the sum of a periodic total
    derivative vanishes to round-off once the thermal shell k_BT/|v| is resolved; otherwise the
    integral is converged adaptively (:func:`_vanishing_sum`), and where that is out of reach the
    row is INFO "unresolved: needs ..." with the mesh or temperature that would resolve it.
    """
    name = "entropy_current_zero_field"
    js = compute(model=model, quantities=[name], temperatures=[temperature], mus=[mu],
                 kmesh=kmesh, degen_thresh=degen_thresh, **kw)
    interp = Interpolator(model=model, position=False)
    mesh = UniformMesh(tuple(kmesh))
    kT = kT_eV(temperature)
    tot = 0.0
    for k in _mesh_batches(mesh, batch):
        g = band_geometry(interp(k), degen_thresh=degen_thresh)
        tot += float(np.sum(np.abs(g.velocity) * entropy(g.E_group, mu=mu, kT=kT)[..., None]))
    scale = tot / mesh.size * C.ENTROPY_CURRENT_FACTOR / model.volume / 3.0
    res = thermal_shell_resolution(model=model, temperature=temperature, mu=mu, kmesh=kmesh,
                                   degen_thresh=degen_thresh)
    relation = "j^s(0) = k_B sum_n int v_n s_n = 0  (Eq. 24)"
    if scale <= 0:
        return Check(name="js0", relation=relation, status="PASS", lhs=0.0, rhs=0.0, deviation=0.0,
                     tolerance=_ROUNDOFF, units="W/(K m^2)", note="no states within reach of mu: s_n = 0")

    def value_of(r):
        e = r.quantities[name].error
        return r[name][0, 0], (np.zeros(3) if e is None else np.abs(e[0, 0]))

    status, dev, tol, how, r = _vanishing_sum(value_of=value_of, uniform=js, scale=scale, res=res, model=model,
                                              temperature=temperature, mu=mu, kmesh=kmesh, quantities=[name],
                                              abs_tolerance=scale, degen_thresh=degen_thresh, **kw)
    shown = (r if r is not None and status != "INFO" else js)[name][0, 0]
    idx = int(np.argmax(np.abs(shown)))
    note = (f"largest component {_LABELS[idx]}, relative to k_B int |v| s = {scale:.3e} W/(K m^2); "
            f"mesh spacing = {res:.3g} thermal shells k_BT/|v|_FS; ")
    note += _unresolved(kmesh=kmesh, res=res, temperature=temperature, result=r) if status == "INFO" else how
    return Check(name="js0", relation=relation, status=status, lhs=float(shown[idx]), rhs=0.0, deviation=dev,
                 tolerance=tol, units="W/(K m^2)", note=note)


def thermal_shell_resolution(*, model: TBModel, temperature: float, mu: float, kmesh,
                             degen_thresh: float = DEFAULT_DEGEN_THRESH, batch: int = 512) -> float:
    """Mesh spacing in units of the thermal shell width, max_i (|b_i|/N_i) <|v.b_i/|b_i||>_FS / k_BT.

    <.>_FS is the mean over the band states whose mesh cell can reach the thermal shell
    (|eps_n - mu| <= sum_i |v.b_i/|b_i|| |b_i|/(2 N_i) + 3 k_BT) of the band speed along the reciprocal
    vector b_i; unlike a -df/dE weight this also counts the states of a mesh that steps over the Fermi
    surface.  Fermi-surface integrands (-df/dE) are resolved by a uniform mesh when this is of order 1
    or below (periodic smooth integrands then converge exponentially).
    """
    interp = Interpolator(model=model, position=False)
    mesh = UniformMesh(tuple(kmesh))
    kT = kT_eV(temperature)
    bnorm = np.linalg.norm(model.reciprocal_lattice, axis=1)
    bhat = model.reciprocal_lattice / bnorm[:, None]
    spacing = bnorm / np.asarray(mesh.shape)
    w_sum, wv_sum = 0.0, np.zeros(3)
    for k in _mesh_batches(mesh, batch):
        g = band_geometry(interp(k), degen_thresh=degen_thresh)
        speed = np.abs(g.velocity @ bhat.T)  # (nk, nband, 3)
        w = (np.abs(g.E_group - mu) <= 0.5 * speed @ spacing + 3 * kT).astype(float)
        w_sum += float(w.sum())
        wv_sum += np.einsum("kn,kni->i", w, speed)
    if w_sum == 0:
        return 0.0
    return float(np.max(spacing * wv_sum / w_sum) / kT)


def _sample_k(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random((n, 3))


def check_entropy_production_positive(*, model: TBModel, temperature: float, mu: float, kmesh, tau_fs: float,
                                      n_samples: int = 64, seed: int = 0, rtol: float = _ROUNDOFF,
                                      degen_thresh: float = DEFAULT_DEGEN_THRESH, **kw) -> Check:
    """Pi_ab >= 0 (second law): smallest eigenvalue of the per-k integrand at sampled k, and of the
    BZ tensor on the mesh, relative to the largest."""
    q = get_quantities(["entropy_production"])
    ev = Evaluator(model=model, quantities=q, temperatures=[temperature], mus=[mu],
                   options=Options(tau_fs=tau_fs), degen_thresh=degen_thresh)
    per_k = ev(_sample_k(n_samples, seed)).reshape(n_samples, 3, 3)
    eig_k = np.linalg.eigvalsh(0.5 * (per_k + np.swapaxes(per_k, -1, -2)))
    rel_k = float(np.min(eig_k / np.maximum(np.max(np.abs(eig_k), axis=1, keepdims=True), 1e-300)))
    bz = compute(model=model, quantities=["entropy_production"], temperatures=[temperature], mus=[mu],
                 kmesh=kmesh, tau_fs=tau_fs, degen_thresh=degen_thresh, **kw)["entropy_production"][0, 0]
    eig = np.linalg.eigvalsh(0.5 * (bz + bz.T))
    rel = float(eig.min() / np.max(np.abs(eig)))
    worst = min(rel, rel_k)
    return Check(name="pi>=0", relation="Pi_ab/E^2 positive semi-definite (second law)",
                 status="PASS" if worst >= -rtol else "FAIL", lhs=float(eig.min()), rhs=float(eig.max()),
                 deviation=max(0.0, -worst), tolerance=rtol, units="S/(m K)",
                 note=f"lhs/rhs = smallest/largest eigenvalue on the mesh; smallest/largest per k at {n_samples} "
                      f"sampled k: {rel_k:.2e} (tau = {tau_fs:g} fs)")


# ----------------------------------------------------------------------------- Eq. 20
def check_band_hessian_identity(*, model: TBModel, n_samples: int = 16, seed: int = 1, step: float = 1e-4,
                                min_gap: float = 5e-2, degen_thresh: float = DEFAULT_DEGEN_THRESH) -> Check:
    """d_a d_b eps_n = v^ab_n + 2 sum_m eps_nm g^ab_nm at sampled k (the identity turning Eq. 19 into Eq. 20).

    Left: central finite differences (step ``step`` 1/Angstrom) of the band energies alone.
    Right: <n|d_a d_b H|n> and the quantum metric of the Hamiltonian part of the connection
    (r = iD; in a complete basis the full r).  Bands closer than ``min_gap`` eV to another
    band are skipped (finite differences of crossing bands are meaningless).  Tolerance: the
    finite-difference error, estimated from the same differences with step 2 ``step``, plus their
    round-off (10 eps max|eps_n| per eigenvalue, 4 eigenvalues over step^2).
    """
    interp = Interpolator(model=model, second_derivatives=True, position=False)
    k = _sample_k(n_samples, seed)
    g = band_geometry(interp(k), degen_thresh=degen_thresh)
    gD = quantum_metric(np.moveaxis(1j * g.D, 1, -1))
    dE = g.E[:, :, None] - g.E[:, None, :]
    rhs = g.inverse_mass + 2.0 * np.einsum("knm,knmab->knab", dE, gD)
    to_red = model.lattice / (2 * np.pi)  # k_red = lattice @ k_cart / 2 pi

    def bands(dk_cart):
        return np.linalg.eigvalsh(interp(k + dk_cart @ to_red.T).H)

    e0 = g.E

    def hessian(h):
        out = np.empty_like(rhs)
        for a in range(3):
            for b in range(a, 3):
                ea, eb = np.eye(3)[a] * h, np.eye(3)[b] * h
                if a == b:
                    out[:, :, a, a] = (bands(ea) - 2 * e0 + bands(-ea)) / h**2
                else:
                    out[:, :, a, b] = out[:, :, b, a] = (bands(ea + eb) - bands(ea - eb) - bands(-ea + eb)
                                                         + bands(-ea - eb)) / (4 * h**2)
        return out

    lhs, lhs2 = hessian(step), hessian(2 * step)
    gap = np.min(np.where(np.eye(g.E.shape[1], dtype=bool), np.inf, np.abs(dE)), axis=2)
    ok = gap > min_gap
    scale = np.max(np.abs(rhs[ok]))
    dev = float(np.max(np.abs(lhs[ok] - rhs[ok])) / scale)
    rtol = float((np.max(np.abs(lhs[ok] - lhs2[ok])) + 40 * np.finfo(float).eps * np.max(np.abs(e0)) / step**2)
                 / scale) + _ROUNDOFF
    i = np.unravel_index(np.argmax(np.abs(rhs) * ok[..., None, None]), rhs.shape)
    return Check(name="eq20-k", relation="d_a d_b eps_n = v^ab_n + 2 sum_m eps_nm g^ab_nm (behind Eq. 20), sampled k",
                 status=_status(dev, rtol), lhs=float(lhs[i]), rhs=float(rhs[i]), deviation=dev, tolerance=rtol,
                 units="eV A^2", note=f"{int(ok.sum())} band states at {n_samples} random k (gap > {min_gap:g} eV); "
                                      f"finite-difference step {step:g} 1/A; tolerance = its error estimated from step "
                                      f"{2 * step:g} 1/A")


def check_drude_sum_rule(*, model: TBModel, temperature: float, mu: float, kmesh, tau_fs: float, **kw) -> Check:
    """Drude entropy production: Fermi-surface form (Eq. 19) = Fermi-sea form (Eq. 20).

    The Fermi-sea form is computed as QM + non-QM - interband (Eq. 21 parts).  The two forms
    differ per k-point by a total derivative, so their difference vanishes to round-off on a mesh
    that resolves the thermal shell k_BT/|v|; otherwise the integrals are converged adaptively
    (:func:`_vanishing_sum`; tolerance: the sum of the four error estimates), and where that is out
    of reach the row is INFO "unresolved: needs ..." with the mesh or temperature that would
    resolve it.
    """
    names = ["entropy_production_drude", "entropy_production_qm", "entropy_production_nonqm",
             "entropy_production_interband"]
    r0 = compute(model=model, quantities=names, temperatures=[temperature], mus=[mu], kmesh=kmesh, tau_fs=tau_fs,
                 **kw)

    def parts(r):
        return [r[n][0, 0] for n in names]

    surf, qm, nonqm, inter = parts(r0)
    idx = _largest(surf)
    scale = abs(surf[idx])
    relation = "Drude entropy production: Fermi surface (Eq. 19) = Fermi sea (Eq. 20)"
    res = thermal_shell_resolution(model=model, temperature=temperature, mu=mu, kmesh=kmesh, **kw)
    if scale == 0:
        return Check(name="eq20-bz", relation=relation, status="PASS" if not np.any(qm + nonqm - inter) else "FAIL",
                     lhs=0.0, rhs=float(np.max(np.abs(qm + nonqm - inter))), deviation=0.0, tolerance=0.0,
                     units="S/(m K)", note="no states within reach of mu")

    def value_of(r):
        s_, q_, n_, i_ = parts(r)
        errs = [r.quantities[n].error for n in names]
        err = sum(np.abs(e[0, 0]) for e in errs) if all(e is not None for e in errs) else np.zeros_like(s_)
        return q_ + n_ - i_ - s_, err

    status, dev, tol, how, r = _vanishing_sum(value_of=value_of, uniform=r0, scale=scale, res=res, model=model,
                                              temperature=temperature, mu=mu, kmesh=kmesh, quantities=names,
                                              abs_tolerance=0.0, tau_fs=tau_fs, **kw)
    shown = parts(r if r is not None and status != "INFO" else r0)
    note = f"component {_comp(idx)}; mesh {tuple(kmesh)}: spacing = {res:.3g} thermal shells k_BT/|v|_FS; "
    note += _unresolved(kmesh=kmesh, res=res, temperature=temperature, result=r) if status == "INFO" else how
    return Check(name="eq20-bz", relation=relation, status=status, lhs=float(shown[0][idx]),
                 rhs=float((shown[1] + shown[2] - shown[3])[idx]), deviation=dev, tolerance=tol, units="S/(m K)",
                 note=note)


# ----------------------------------------------------------------------------- Wiedemann-Franz
def _wf_terms(sigma: np.ndarray, *, h: float, kT: float) -> tuple[float, float, float]:
    """t_1, t_2 of kappa/(L_0 T sigma^e) - 1 from sigma^e (13,) at mu + j h, and their finite-difference error."""
    s0 = float(sigma[6])
    d2, e2 = _mu_derivative(sigma, 2, h)
    d4, e4 = _mu_derivative(sigma, 4, h)
    t1 = float(REL.wiedemann_franz_correction(sigma=s0, d2sigma=d2, kT=kT))
    t2 = WF_SECOND_COEFFICIENT * kT**4 * float(d4) / s0
    fd = (abs(float(REL.wiedemann_franz_correction(sigma=s0, d2sigma=e2, kT=kT)))
          + WF_SECOND_COEFFICIENT * kT**4 * float(e4) / abs(s0))
    return t1, t2, fd


def check_wiedemann_franz(*, model: TBModel, temperature: float, mu: float, kmesh, **kw) -> Check:
    """Wiedemann-Franz for the anomalous Hall pair with its Sommerfeld correction.

    kappa (``thermal_hall``) and sigma^e (``ahc``) on the same mesh satisfy
    kappa/(L_0 T sigma^e) - 1 = t_1 + t_2 + ..., t_1 = (8 pi^2/15)(k_BT)^2 d^2sigma/sigma
    (:func:`wbentropy.physics.relations.wiedemann_franz_correction`), t_2 = (8 pi^4/105)(k_BT)^4
    d^4sigma/sigma (:data:`WF_SECOND_COEFFICIENT`), with the mu-derivatives of sigma^e at the same T
    from 7-point differences of step k_BT/4 (error estimated from step k_BT/2).  Both are sums over the
    same mesh states, so the relation holds on any mesh where the series converges.  The row tests
    kappa/(L_0 T sigma) - 1 = t_1 within 2 |t_2|/(1 - |t_2/t_1|) (the series is asymptotic, see
    :func:`check_mott`) plus the finite-difference errors (+ round-off); INFO unless 1 > |t_1| > |t_2|
    (the series does not converge at this T) or if sigma^e vanishes (the ratio is undefined).  The
    finite-difference error includes the change of t_1, t_2 from the mesh N_i // 2.
    """
    kT = kT_eV(temperature)
    h = kT / 4
    v = _mu_series(model=model, quantities=["ahc", "thermal_hall"], temperature=temperature, mu=mu, kmesh=kmesh,
                   h=h, **kw)
    sigma = v["ahc"] * _S_PER_CM  # (13, 3, 3) S/m
    kappa = v["thermal_hall"][6]
    idx = _largest(sigma[6])
    s0, k0 = float(sigma[6][idx]), float(kappa[idx])
    relation = ("kappa_ab/(L_0 T sigma^e_ab) = 1 + (8 pi^2/15)(k_BT)^2 d^2sigma/sigma + O(T^4) "
                "(Wiedemann-Franz, Sommerfeld)")
    if abs(s0) <= _NOISE * _unit_ahc_si(model):
        return Check(name="wf", relation=relation, status="INFO", lhs=k0, rhs=0.0, deviation=float("nan"),
                     tolerance=float("nan"), units="W/(m K)", note="sigma^e = 0 here: the Lorenz ratio is undefined")
    t1, t2, fd = _wf_terms(sigma[:, idx[0], idx[1]], h=h, kT=kT)
    half = _mu_series(model=model, quantities=["ahc"], temperature=temperature, mu=mu, kmesh=_half(kmesh), h=h, **kw)
    t1h, t2h, _ = _wf_terms(half["ahc"][:, idx[0], idx[1]] * _S_PER_CM, h=h, kT=kT)
    fd += abs(t1 - t1h) + abs(t2 - t2h)
    ratio = float(REL.lorenz_ratio(kappa=k0, sigma=s0, temperature=temperature))
    rhs = C.LORENZ_NUMBER * temperature * s0 * (1 + t1)
    note = f"component {_comp(idx)}; L/L_0 = {ratio:.6f}; Sommerfeld terms t_1 = {t1:.3e}, t_2 = {t2:.3e}"
    if not abs(t2) < abs(t1) < 1:
        return Check(name="wf", relation=relation, status="INFO", lhs=k0, rhs=rhs, deviation=float("nan"),
                     tolerance=float("nan"), units="W/(m K)",
                     note=note + "; INFO: series does not converge at this T (not 1 > |t_1| > |t_2|: sigma^e(T) has "
                                 "structure on the scale k_BT; a lower --temperature, or a finer --kmesh if it is "
                                 "the mesh's staircase)")
    dev = abs(ratio - 1.0 - t1)
    tol = 2 * abs(t2) / (1 - abs(t2 / t1)) + fd + _ROUNDOFF
    return Check(name="wf", relation=relation, status=_status(dev, tol), lhs=k0, rhs=rhs, deviation=dev,
                 tolerance=tol, units="W/(m K)",
                 note=note + "; deviation = |L/L_0 - 1 - t_1|; tolerance = 2 |t_2|/(1 - |t_2/t_1|) (omitted terms) "
                             "+ finite-difference error + change of t_1, t_2 from the mesh N/2")


# ----------------------------------------------------------------------------- all
#: Photon energies (eV) scanned by the Eq. (34) check when none are given.
DEFAULT_OMEGAS = np.linspace(0.1, 4.0, 40)


def _check_inputs(*, temperature, mu, tau_fs, omegas, smearing, smearing_width, kmesh=None,
                  degen_thresh: float = DEFAULT_DEGEN_THRESH, n_samples: int = 1) -> np.ndarray:
    """Validate verify's parameters (InputError on bad values); returns the photon energies."""
    from .api import check_grid, check_kmesh, check_omegas, check_options

    if not (np.isfinite(temperature) and temperature > 0):
        raise InputError(f"verify needs one temperature > 0 K, got {temperature}")
    if not np.isfinite(mu):
        raise InputError(f"verify needs a finite chemical potential, got {mu}")
    check_grid(temperatures=[temperature], mus=[mu])
    Options(tau_fs=tau_fs).eta
    check_options(degen_thresh=degen_thresh, tau_fs=tau_fs)
    if kmesh is not None:
        check_kmesh(kmesh)
    if not 1 <= n_samples <= 10**6:
        raise InputError(f"{{n_samples}} must be between 1 and 1000000, got {n_samples}", param="n_samples")
    return check_omegas(omegas=omegas, smearing=smearing, smearing_width=smearing_width)


def verify(*, model: TBModel, temperature: float, mu: float, kmesh, tau_fs: float = 10.0, omegas=None,
           smearing: str = "lorentzian", smearing_width: float = 0.05, n_samples: int = 32, seed: int = 0,
           degen_thresh: float = DEFAULT_DEGEN_THRESH) -> list[Check]:
    """Run every check at one (T, mu) on the uniform mesh ``kmesh``; see the module docstring.

    ``omegas`` (eV) default to :data:`DEFAULT_OMEGAS` (0.1 to 4 eV) for the Eq. (34) check.
    """
    omegas = DEFAULT_OMEGAS if omegas is None else omegas
    omegas = _check_inputs(temperature=temperature, mu=mu, tau_fs=tau_fs, omegas=omegas, smearing=smearing,
                           smearing_width=smearing_width, kmesh=kmesh, degen_thresh=degen_thresh, n_samples=n_samples)
    kw = dict(degen_thresh=degen_thresh)
    common = dict(model=model, temperature=float(temperature), mu=float(mu), kmesh=tuple(kmesh))
    checks = [check_onsager(**common, **kw)]
    checks += check_mott(**common, **kw)
    checks += check_maxwell(**common, **kw)
    checks.append(check_wiedemann_franz(**common, **kw))
    checks.append(check_two_band_ratio(**common, omegas=omegas, smearing=smearing, smearing_width=smearing_width, **kw))
    checks.append(check_zero_field_current(**common, **kw))
    checks.append(check_entropy_production_positive(**common, tau_fs=tau_fs, n_samples=n_samples, seed=seed, **kw))
    checks.append(check_band_hessian_identity(model=model, n_samples=max(4, n_samples // 2), seed=seed + 1, **kw))
    checks.append(check_drude_sum_rule(**common, tau_fs=tau_fs, **kw))
    return checks


def _num(x: float, width: int, digits: int) -> str:
    """``x`` in e-format, or "-" where it is not a number (a row without a meaningful deviation)."""
    return f"{x:{width}.{digits}e}" if np.isfinite(x) else f"{'-':>{width}}"


def format_table(checks: list[Check], *, header: str = "") -> str:
    """Readable table of the checks, then one line per check with its relation and note."""
    lines = [header] if header else []
    lines.append(f"{'check':<14} {'status':<6} {'lhs':>13} {'rhs':>13} {'deviation':>10} {'tolerance':>10}  units")
    for c in checks:
        lines.append(f"{c.name:<14} {c.status:<6} {_num(c.lhs, 13, 5)} {_num(c.rhs, 13, 5)} "
                     f"{_num(c.deviation, 10, 2)} {_num(c.tolerance, 10, 2)}  {c.units}")
    lines.append("")
    for c in checks:
        lines.append(f"{c.name}: {c.relation}")
        if c.note:
            lines.append(f"    {c.note}")
    n_fail = sum(c.status == "FAIL" for c in checks)
    n_pass = sum(c.status == "PASS" for c in checks)
    lines.append("")
    lines.append(f"{n_pass} PASS, {n_fail} FAIL, {len(checks) - n_pass - n_fail} INFO")
    return "\n".join(lines) + "\n"
