"""``wbentropy verify``: the paper's relations checked on the user's own system.

At one (T, mu) and k-mesh, every check computes both sides of a relation by independent
routes and reports PASS/FAIL with the numbers (INFO where a relation's own condition of
validity is not met by the system; INFO rows never fail the run):

===============  ==========================================================================
onsager          sigma^s_ab (Eq. 28) = anomalous Nernst alpha_ab from the T = 0 AHC curve
mott-1, mott-2   Eq. (31) with one and two Sommerfeld terms (sigma^e at the same T); the
                 tolerance is the size of the first omitted term
maxwell          d_T sigma^e = -e d_mu sigma^s (finite differences); the paper's Eq. (30),
                 with an extra 1/T, is reported beside it
wf               Wiedemann-Franz: kappa_ab/(L_0 T sigma^e_ab) = 1 + (8 pi^2/15)(k_BT)^2 sigma''/sigma + O(T^4);
                 the tolerance is 3x that Sommerfeld term (sigma'' from the data on the mesh)
eq34             two-band ratio sigma^s(w)/sigma^e(w) = -(k_B/e)(s_- - s_+)/(f_- - f_+), with the
                 spread of eps_+ + eps_- over the resonant pairs (the condition of Eq. 34)
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

import argparse
import logging
import sys
from dataclasses import dataclass

import numpy as np

from . import constants as C
from .api import compute
from .errors import InputError
from .geometry import DEFAULT_DEGEN_THRESH, band_geometry, quantum_metric_pairs
from .integrate import Evaluator, UniformMesh
from .interpolation import Interpolator
from .model import TBModel
from .occupation import entropy, fermi, kT_eV, minus_dfermi
from .physics import optical as OPT
from .physics import relations as REL
from .quantities import Options, get_quantities

__all__ = ["Check", "verify", "check_onsager", "check_mott", "check_maxwell", "check_wiedemann_franz",
           "check_two_band_ratio",
           "check_zero_field_current", "check_entropy_production_positive", "check_band_hessian_identity",
           "check_drude_sum_rule", "format_table", "add_verify_parser", "run_verify"]

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
                  window_kT: float = 25.0, rtol: float = 5e-3, **kw) -> Check:
    """sigma^s (Eq. 28) vs the anomalous Nernst coefficient from the T = 0 AHC curve (Onsager).

    alpha = -(1/q) int dE (df/dE) sigma^e_0(E) (E - mu)/T, q = -e, with sigma^e_0 on an energy
    grid of ``points_per_kT`` points per k_BT over mu +- ``window_kT`` k_BT (trapezoid rule).
    On a finite mesh sigma^e_0 is a staircase, so the quadrature error is O(1/points_per_kT).
    """
    kT = kT_eV(temperature)
    E = mu + kT * np.linspace(-window_kT, window_kT, int(2 * window_kT * points_per_kT) + 1)
    sig0 = ahc_curve(model=model, kmesh=kmesh, energies=E, **kw)
    alpha = np.trapezoid(REL.nernst_kernel(E=E, mu=mu, kT=kT)[:, None, None] * sig0 * _S_PER_CM, E, axis=0)
    ss = compute(model=model, quantities=["entropy_hall"], temperatures=[temperature], mus=[mu], kmesh=kmesh,
                 **kw)["entropy_hall"][0, 0]
    scale = max(np.max(np.abs(ss)), _NOISE * _unit_entropy_hall(model))
    dev = np.max(np.abs(ss - alpha)) / scale
    idx = _largest(ss)
    return Check(name="onsager", relation="sigma^s_ab = alpha_ab (anomalous Nernst from T=0 AHC curve)",
                 status=_status(dev, rtol), lhs=float(ss[idx]), rhs=float(alpha[idx]), deviation=float(dev),
                 tolerance=rtol, units="A/(m K)",
                 note=f"component {_comp(idx)}; deviation = max over components / max|sigma^s|; "
                      f"energy grid {points_per_kT}/kT over +-{window_kT:g} kT")


# ----------------------------------------------------------------------------- Mott / Sommerfeld
def _mu_derivatives(*, model, quantity, temperature, mu, kmesh, h, **kw) -> dict:
    mus = mu + h * np.arange(-3, 4)
    v = compute(model=model, quantities=[quantity], temperatures=[temperature], mus=mus, kmesh=kmesh,
                **kw)[quantity][0]
    return {k: np.tensordot(w, v, axes=(0, 0)) / h**k for k, w in REL.FD_STENCILS.items()}, v[3]


def check_mott(*, model: TBModel, temperature: float, mu: float, kmesh, safety: float = 3.0,
               floor: float = 1e-4, applicable: float = 0.2, **kw) -> list[Check]:
    """Eq. (31): sigma^s vs the Sommerfeld series in mu-derivatives of sigma^e(T, mu), 1 and 2 terms.

    The derivatives are 7-point finite differences with step k_BT/4 of the finite-T AHC (smooth
    on the scale k_BT).  The expected accuracy of an n-term truncation is the size of the first
    omitted term; a check passes if its error is below ``safety`` times that (plus ``floor``
    times |sigma^s| for round-off).  If that term exceeds ``applicable`` times |sigma^s| the
    low-temperature expansion does not apply at this T (or the mesh's staircase sigma^e_0 is
    not smooth on the scale k_BT) and the row is INFO.
    """
    kT = kT_eV(temperature)
    d, _ = _mu_derivatives(model=model, quantity="ahc", temperature=temperature, mu=mu, kmesh=kmesh, h=kT / 4, **kw)
    d = {k: v * _S_PER_CM for k, v in d.items()}
    terms = REL.sommerfeld_entropy_hall(derivatives=d, kT=kT)
    ss = compute(model=model, quantities=["entropy_hall"], temperatures=[temperature], mus=[mu], kmesh=kmesh,
                 **kw)["entropy_hall"][0, 0]
    idx = _largest(ss)
    scale = max(abs(ss[idx]), _NOISE * _unit_entropy_hall(model))
    out = []
    for n in (1, 2):
        approx = sum(terms[:n])
        err = float(abs(ss[idx] - approx[idx]))
        expected = float(abs(terms[n][idx]))
        tol = safety * expected + floor * scale
        status = "PASS" if err <= tol else "FAIL"
        if expected > applicable * scale:
            status = "INFO"
        out.append(Check(name=f"mott-{n}", relation=f"Eq. (31), {n} term{'s' if n > 1 else ''}: "
                                                     "sigma^s = -(k_B/e) sum c_n (kT)^(2n+1) d^(2n+1)sigma^e(T)",
                         status=status, lhs=float(ss[idx]), rhs=float(approx[idx]),
                         deviation=err / scale, tolerance=tol / scale,
                         units="A/(m K)",
                         note=f"component {_comp(idx)}; expected accuracy = {safety:g} x next term "
                              f"({expected:.3e} A/(m K), {expected / scale if scale else 0:.2e} relative)"
                              + ("; INFO: next term > {:g} x sigma^s, the Sommerfeld series does not converge "
                                 "here (T too high for the structure of sigma^e, or mesh too coarse)".format(applicable)
                                 if status == "INFO" else "")))
    return out


# ----------------------------------------------------------------------------- Maxwell
def check_maxwell(*, model: TBModel, temperature: float, mu: float, kmesh, rel_step: float = 2e-3,
                  rtol: float = 1e-3, **kw) -> list[Check]:
    """d_T sigma^e = -e d_mu sigma^s by central differences (dT = rel_step T, dmu = rel_step kT).

    The identity holds state by state (d_T f = k_B d_mu s), so only the O(rel_step^2)
    finite-difference error remains.  The paper's Eq. (30) (an extra 1/T on the right) is
    reported as a second, informational row.
    """
    if temperature <= 0:
        raise InputError("the Maxwell check needs T > 0")
    kT = kT_eV(temperature)
    hT, hmu = rel_step * temperature, rel_step * kT
    r = compute(model=model, quantities=["ahc", "entropy_hall"], temperatures=[temperature - hT, temperature,
                                                                              temperature + hT],
                mus=[mu - hmu, mu, mu + hmu], kmesh=kmesh, **kw)
    dsig_dT = (r["ahc"][2, 1] - r["ahc"][0, 1]) / (2 * hT) * _S_PER_CM          # S/(m K)
    dss_dmu = (r["entropy_hall"][1, 2] - r["entropy_hall"][1, 0]) / (2 * hmu)  # A/(m K) per V
    ours = -dss_dmu
    idx = _largest(dsig_dT)
    scale = max(abs(dsig_dT[idx]), _NOISE * _unit_ahc_si(model) / temperature)
    dev = float(np.max(np.abs(dsig_dT - ours)) / scale)
    paper = ours / temperature
    dev_paper = float(np.max(np.abs(dsig_dT - paper)) / scale)
    return [Check(name="maxwell", relation="d_T sigma^e = -e d_mu sigma^s  (from f = -d_mu g, k_B s = -d_T g)",
                  status=_status(dev, rtol), lhs=float(dsig_dT[idx]), rhs=float(ours[idx]), deviation=dev,
                  tolerance=rtol, units="S/(m K)",
                  note=f"component {_comp(idx)}; central differences dT = {hT:.3g} K, dmu = {hmu:.3g} eV"),
            Check(name="maxwell-paper", relation="paper Eq. (30): d_T sigma^e = -(e/T) d_mu sigma^s (for comparison)",
                  status="INFO", lhs=float(dsig_dT[idx]), rhs=float(paper[idx]), deviation=dev_paper,
                  tolerance=rtol, units="S/(m K)",
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
        rr = (r[..., :, None] * np.conj(r[..., None, :])).reshape(r.shape[:3] + (9,))
        w = fermi(g.E_group, mu=mu, kT=kT)[..., None]
        mom += OPT.resonant_pair_moments(E=g.E_group, rr=rr, w=w, omegas=np.asarray(omegas, float),
                                         width=smearing_width, kind=smearing).sum(axis=0)[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = mom[:, 1] / mom[:, 0]
        var = np.maximum(mom[:, 2] / mom[:, 0] - mean**2, 0.0)
    return mean, np.sqrt(var)


def check_two_band_ratio(*, model: TBModel, temperature: float, mu: float, kmesh, omegas, smearing: str = "lorentzian",
                         smearing_width: float = 0.05, rtol: float = 1e-3, condition_kT: float = 1e-3,
                         **kw) -> Check:
    """Eq. (34) at the frequency among ``omegas`` where |tr Re sigma^s(w)| is largest.

    Compares tr Re sigma^s(w) / tr Re sigma^e(w) with -(k_B/e)(s_- - s_+)/(f_- - f_+) at
    eps_-+ = c -+ w/2, c the absorption-weighted mean of (eps_n + eps_m)/2 over the resonant
    pairs.  The relation is exact only when eps_+ + eps_- is the same for all of them (and, with a
    broadening gamma, when the ratio does not vary over the line).  Status: PASS if it holds to
    ``rtol``; INFO (the system does not meet the condition, and by how much) if the spread of
    eps_+ + eps_- exceeds ``condition_kT`` k_BT or the ratio varies over the line by more than
    ``rtol``; FAIL only if the condition is met and the relation still fails.
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
                                   smearing=smearing, smearing_width=smearing_width)
    centre = 0.5 * mean[0]
    measured = ss[iw] / se[iw] if se[iw] != 0 else np.nan
    predicted = float(REL.two_band_ratio(omega=w, centre=centre, mu=mu, kT=kT))
    dev = float(abs(measured - predicted) / abs(predicted)) if predicted else float("nan")
    line_var = float(abs(REL.two_band_ratio(omega=w + smearing_width, centre=centre, mu=mu, kT=kT)
                         - REL.two_band_ratio(omega=w - smearing_width, centre=centre, mu=mu, kT=kT))
                     / (2 * abs(predicted))) if predicted else float("nan")
    condition = spread[0] <= condition_kT * kT and line_var <= rtol
    status = "PASS" if dev <= rtol else ("FAIL" if condition else "INFO")
    return Check(name="eq34", relation="sigma^s(w)/sigma^e(w) = -(k_B/e)(s_- - s_+)/(f_- - f_+)  (two-band, Eq. 34)",
                 status=status, lhs=float(measured), rhs=predicted, deviation=dev, tolerance=rtol, units="V/K",
                 note=f"w = {w:.4g} eV (largest |tr Re sigma^s|); condition: spread of eps_+ + eps_- over "
                      f"resonant pairs = {spread[0]:.3e} eV = {spread[0] / kT:.3g} kT (mean {mean[0]:.4g} eV); "
                      f"ratio varies by {line_var:.2e} over the line width {smearing_width:g} eV")


# ----------------------------------------------------------------------------- j^s(0), Pi >= 0
def check_zero_field_current(*, model: TBModel, temperature: float, mu: float, kmesh, rtol: float = 1e-6,
                             degen_thresh: float = DEFAULT_DEGEN_THRESH, batch: int = 512, **kw) -> Check:
    """j^s(0) = k_B sum_n int v_n s_n / hbar = 0 (Eq. 24; the integrand is a total derivative).

    Relative to the same integral with |v_n|.  On a uniform mesh the sum of a periodic total
    derivative converges exponentially with the mesh density once the thermal shell k_BT/|v|
    is resolved; a coarse mesh at low T shows a visible residual.
    """
    js = compute(model=model, quantities=["entropy_current_zero_field"], temperatures=[temperature], mus=[mu],
                 kmesh=kmesh, degen_thresh=degen_thresh, **kw)["entropy_current_zero_field"][0, 0]
    interp = Interpolator(model=model, position=False)
    mesh = UniformMesh(tuple(kmesh))
    kT = kT_eV(temperature)
    tot = 0.0
    for k in _mesh_batches(mesh, batch):
        g = band_geometry(interp(k), degen_thresh=degen_thresh)
        tot += float(np.sum(np.abs(g.velocity) * entropy(g.E_group, mu=mu, kT=kT)[..., None]))
    scale = tot / mesh.size * C.ENTROPY_CURRENT_FACTOR / model.volume / 3.0
    dev = float(np.max(np.abs(js)) / scale) if scale > 0 else 0.0
    idx = int(np.argmax(np.abs(js)))
    res = thermal_shell_resolution(model=model, temperature=temperature, mu=mu, kmesh=kmesh,
                                   degen_thresh=degen_thresh)
    return Check(name="js0", relation="j^s(0) = k_B sum_n int v_n s_n = 0  (Eq. 24)", status=_status(dev, rtol),
                 lhs=float(js[idx]), rhs=0.0, deviation=dev, tolerance=rtol, units="W/(K m^2)",
                 note=f"largest component {_LABELS[idx]}, relative to k_B int |v| s = {scale:.3e} W/(K m^2); "
                      f"mesh spacing = {res:.3g} thermal shells k_BT/|v|_FS (a FAIL with a spacing >> 1 means the "
                      "mesh does not resolve the Fermi surface at this T: denser mesh)")


def thermal_shell_resolution(*, model: TBModel, temperature: float, mu: float, kmesh,
                             degen_thresh: float = DEFAULT_DEGEN_THRESH, batch: int = 512) -> float:
    """Mesh spacing in units of the thermal shell width, max_i (|b_i|/N_i) <|v.b_i/|b_i||>_FS / k_BT.

    <.>_FS is the Fermi-surface (-df/dE weighted) mean over bands and k of the band speed along
    the reciprocal vector b_i.  Fermi-surface integrands (-df/dE) are resolved by a uniform mesh
    when this is of order 1 or below (periodic smooth integrands then converge exponentially).
    """
    interp = Interpolator(model=model, position=False)
    mesh = UniformMesh(tuple(kmesh))
    kT = kT_eV(temperature)
    bhat = model.reciprocal_lattice / np.linalg.norm(model.reciprocal_lattice, axis=1)[:, None]
    w_sum, wv_sum = 0.0, np.zeros(3)
    for k in _mesh_batches(mesh, batch):
        g = band_geometry(interp(k), degen_thresh=degen_thresh)
        w = minus_dfermi(g.E_group, mu=mu, kT=kT)
        w_sum += float(w.sum())
        wv_sum += np.einsum("kn,kni->i", w, np.abs(g.velocity @ bhat.T))
    if w_sum == 0:
        return 0.0
    spacing = np.linalg.norm(model.reciprocal_lattice, axis=1) / np.asarray(mesh.shape)
    return float(np.max(spacing * wv_sum / w_sum) / kT)


def _sample_k(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random((n, 3))


def check_entropy_production_positive(*, model: TBModel, temperature: float, mu: float, kmesh, tau_fs: float,
                                      n_samples: int = 64, seed: int = 0, rtol: float = 1e-10,
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
                                min_gap: float = 5e-2, rtol: float = 1e-4,
                                degen_thresh: float = DEFAULT_DEGEN_THRESH) -> Check:
    """d_a d_b eps_n = v^ab_n + 2 sum_m eps_nm g^ab_nm at sampled k (the identity turning Eq. 19 into Eq. 20).

    Left: central finite differences (step ``step`` 1/Angstrom) of the band energies alone.
    Right: <n|d_a d_b H|n> and the quantum metric of the Hamiltonian part of the connection
    (r = iD; in a complete basis the full r).  Bands closer than ``min_gap`` eV to another
    band are skipped (finite differences of crossing bands are meaningless).
    """
    interp = Interpolator(model=model, second_derivatives=True, position=False)
    k = _sample_k(n_samples, seed)
    g = band_geometry(interp(k), degen_thresh=degen_thresh)
    rD = 1j * g.D
    gD = quantum_metric_pairs(rD)
    dE = g.E[:, :, None] - g.E[:, None, :]
    rhs = g.inverse_mass + 2.0 * np.einsum("knm,knmab->knab", dE, gD)
    to_red = model.lattice / (2 * np.pi)  # k_red = lattice @ k_cart / 2 pi

    def bands(dk_cart):
        return np.linalg.eigvalsh(interp(k + dk_cart @ to_red.T).H)

    lhs = np.empty_like(rhs)
    e0 = g.E
    for a in range(3):
        for b in range(a, 3):
            ea, eb = np.eye(3)[a] * step, np.eye(3)[b] * step
            if a == b:
                lhs[:, :, a, a] = (bands(ea) - 2 * e0 + bands(-ea)) / step**2
            else:
                lhs[:, :, a, b] = lhs[:, :, b, a] = (bands(ea + eb) - bands(ea - eb) - bands(-ea + eb)
                                                     + bands(-ea - eb)) / (4 * step**2)
    gap = np.min(np.where(np.eye(g.E.shape[1], dtype=bool), np.inf, np.abs(dE)), axis=2)
    ok = gap > min_gap
    scale = np.max(np.abs(rhs[ok]))
    dev = float(np.max(np.abs(lhs[ok] - rhs[ok])) / scale)
    i = np.unravel_index(np.argmax(np.abs(rhs) * ok[..., None, None]), rhs.shape)
    return Check(name="eq20-k", relation="d_a d_b eps_n = v^ab_n + 2 sum_m eps_nm g^ab_nm (behind Eq. 20), sampled k",
                 status=_status(dev, rtol), lhs=float(lhs[i]), rhs=float(rhs[i]), deviation=dev, tolerance=rtol,
                 units="eV A^2", note=f"{int(ok.sum())} band states at {n_samples} random k (gap > {min_gap:g} eV); "
                                      f"finite-difference step {step:g} 1/A")


def check_drude_sum_rule(*, model: TBModel, temperature: float, mu: float, kmesh, tau_fs: float,
                         rtol: float = 1e-3, **kw) -> Check:
    """Drude entropy production: Fermi-surface form (Eq. 19) = Fermi-sea form (Eq. 20), on the mesh.

    The Fermi-sea form is computed as QM + non-QM - interband (Eq. 21 parts).  The two forms
    differ per k-point by a total derivative, so they agree once the mesh resolves the thermal
    shell k_BT/|v| (raise the mesh or T if this fails).
    """
    r = compute(model=model, quantities=["entropy_production_drude", "entropy_production_qm",
                                         "entropy_production_nonqm", "entropy_production_interband"],
                temperatures=[temperature], mus=[mu], kmesh=kmesh, tau_fs=tau_fs, **kw)
    surf = r["entropy_production_drude"][0, 0]
    sea = (r["entropy_production_qm"] + r["entropy_production_nonqm"] - r["entropy_production_interband"])[0, 0]
    idx = _largest(surf)
    scale = abs(surf[idx])
    dev = float(np.max(np.abs(sea - surf)) / scale) if scale else float(np.max(np.abs(sea)))
    res = thermal_shell_resolution(model=model, temperature=temperature, mu=mu, kmesh=kmesh, **kw)
    return Check(name="eq20-bz", relation="Drude entropy production: Fermi surface (Eq. 19) = Fermi sea (Eq. 20)",
                 status=_status(dev, rtol), lhs=float(surf[idx]), rhs=float(sea[idx]), deviation=dev, tolerance=rtol,
                 units="S/(m K)", note=f"component {_comp(idx)}; mesh {tuple(kmesh)}: spacing = {res:.3g} thermal "
                                       "shells k_BT/|v|_FS (the two forms agree once it is <~ 1)")


# ----------------------------------------------------------------------------- Wiedemann-Franz
def check_wiedemann_franz(*, model: TBModel, temperature: float, mu: float, kmesh, safety: float = 3.0,
                          floor: float = 1e-6, applicable: float = 0.2, **kw) -> Check:
    """Wiedemann-Franz for the anomalous Hall pair: kappa_ab = L_0 T sigma^e_ab at low T.

    kappa (``thermal_hall``) and sigma^e (``ahc``) are computed on the same mesh; their ratio departs from
    L_0 T by the Sommerfeld term (8 pi^2/15)(k_BT)^2 sigma''/sigma + O(T^4)
    (:func:`wbentropy.physics.relations.wiedemann_franz_correction`), with sigma'' = d^2 sigma^e/d mu^2 from the
    data (7-point difference, step k_BT/2, of sigma^e at the same T on the same mesh: on a coarse mesh the
    staircase of sigma^e_0 shows up here and widens the tolerance).  PASS if |kappa/(L_0 T sigma) - 1| is at most
    ``safety`` times that term (plus ``floor`` for round-off); INFO if the term exceeds ``applicable`` (the
    low-temperature expansion does not apply at this T, or the mesh does not resolve sigma^e on the scale k_BT)
    or if sigma^e vanishes (the ratio is undefined).
    """
    kT = kT_eV(temperature)
    h = kT / 2
    r = compute(model=model, quantities=["ahc", "thermal_hall"], temperatures=[temperature],
                mus=mu + h * np.arange(-3, 4), kmesh=kmesh, **kw)
    sigma = r["ahc"][0] * _S_PER_CM  # (7, 3, 3) S/m
    kappa = r["thermal_hall"][0, 3]
    idx = _largest(sigma[3])
    s0, k0 = float(sigma[3][idx]), float(kappa[idx])
    relation = "kappa_ab/(L_0 T sigma^e_ab) = 1 + (8 pi^2/15)(k_BT)^2 sigma''/sigma (Wiedemann-Franz, Sommerfeld)"
    if abs(s0) <= _NOISE * _unit_ahc_si(model):
        return Check(name="wf", relation=relation, status="INFO", lhs=k0, rhs=0.0, deviation=float("nan"),
                     tolerance=float("nan"), units="W/(m K)", note="sigma^e = 0 here: the Lorenz ratio is undefined")
    ratio = float(REL.lorenz_ratio(kappa=k0, sigma=s0, temperature=temperature))
    term = float(REL.wiedemann_franz_correction(sigma=s0, d2sigma=REL.FD_SECOND @ sigma[:, idx[0], idx[1]] / h**2,
                                                kT=kT))
    dev, tol = abs(ratio - 1.0), safety * abs(term) + floor
    status = "INFO" if abs(term) > applicable else _status(dev, tol)
    return Check(name="wf", relation=relation, status=status, lhs=k0, rhs=C.LORENZ_NUMBER * temperature * s0,
                 deviation=dev, tolerance=tol, units="W/(m K)",
                 note=f"component {_comp(idx)}; L/L_0 = {ratio:.6f}; Sommerfeld term {term:.3e} "
                      f"(tolerance {safety:g}x it)"
                      + (f"; INFO: the term exceeds {applicable:g}, the low-T expansion does not apply here "
                         "(T too high for the structure of sigma^e, or mesh too coarse)" if status == "INFO" else ""))


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
    Options(tau_fs=tau_fs).eta  # noqa: B018  (raises on a missing or non-positive tau)
    check_options(degen_thresh=degen_thresh, tau_fs=tau_fs)
    if kmesh is not None:
        check_kmesh(kmesh)
    if not 1 <= n_samples <= 10**6:
        raise InputError(f"--samples must be between 1 and 1000000, got {n_samples}")
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


def format_table(checks: list[Check], *, header: str = "") -> str:
    """Readable table of the checks, then one line per check with its relation and note."""
    lines = [header] if header else []
    lines.append(f"{'check':<14} {'status':<6} {'lhs':>13} {'rhs':>13} {'deviation':>10} {'tolerance':>10}  units")
    for c in checks:
        lines.append(f"{c.name:<14} {c.status:<6} {c.lhs:13.5e} {c.rhs:13.5e} {c.deviation:10.2e} "
                     f"{c.tolerance:10.2e}  {c.units}")
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


# ----------------------------------------------------------------------------- CLI
def add_verify_parser(sub) -> argparse.ArgumentParser:
    """The ``verify`` subcommand (same model options as ``compute``)."""
    from .cli import add_model_arguments

    v = sub.add_parser("verify", help="check the paper's relations (Onsager, Mott, Maxwell, Eq. 34, ...) "
                                      "on a system; exit status 1 if any check fails")
    add_model_arguments(v)
    v.add_argument("--kmesh", nargs=3, type=int, required=True, metavar=("N1", "N2", "N3"))
    v.add_argument("--temperature", type=float, required=True, metavar="K", help="temperature in K (> 0)")
    v.add_argument("--mu", type=float, required=True, metavar="EV", help="chemical potential in eV")
    v.add_argument("--tau", type=float, default=10.0, metavar="FS",
                   help="relaxation time for the entropy-production checks (default 10 fs)")
    v.add_argument("--omega-range", nargs=3, type=float, default=None, metavar=("START", "STOP", "STEP"),
                   help="photon energies for the Eq. (34) check, eV (default 0.1..4 eV)")
    v.add_argument("--smearing", nargs=2, default=("lorentzian", "0.05"), metavar=("SHAPE", "WIDTH"),
                   help="broadening of the AC conductivities (default: lorentzian 0.05)")
    v.add_argument("--samples", type=int, default=32, help="random k-points for the per-k checks (default 32)")
    v.add_argument("--degen-thresh", type=float, default=DEFAULT_DEGEN_THRESH, metavar="EV")
    v.add_argument("-v", "--verbose", action="store_true")
    return v


def run_verify(args) -> int:
    """Implementation of ``wbentropy verify``; returns the exit status."""
    from .cli import ac_options
    from .io.load import load_model

    ac = ac_options(args)
    omegas = DEFAULT_OMEGAS if ac["omegas"] is None else ac["omegas"]
    _check_inputs(temperature=args.temperature, mu=args.mu, tau_fs=args.tau, omegas=omegas,
                  smearing=ac["smearing"], smearing_width=ac["smearing_width"], kmesh=args.kmesh,
                  degen_thresh=args.degen_thresh, n_samples=args.samples)  # before the (slow) model load
    model = load_model(w90=args.w90, tb=args.tb, hr=args.hr, r=args.r, wsvec=args.wsvec, win=args.win,
                       spin_degeneracy=args.spin_degeneracy)
    checks = verify(model=model, temperature=args.temperature, mu=args.mu, kmesh=args.kmesh, tau_fs=args.tau,
                    omegas=omegas, smearing=ac["smearing"], smearing_width=ac["smearing_width"],
                    n_samples=args.samples, degen_thresh=args.degen_thresh)
    header = (f"# wbentropy verify: {model.name} ({model.num_wann} Wannier functions), T = {args.temperature:g} K, "
              f"mu = {args.mu:g} eV, mesh {tuple(args.kmesh)}")
    sys.stdout.write(format_table(checks, header=header))
    return 1 if any(c.status == "FAIL" for c in checks) else 0
