"""Linear tetrahedron integration of occupation-weighted band quantities on a uniform mesh: an
independent route to the Fe entropy Hall reference, TRIED AND DROPPED (session 10; kept here, out
of the package, so that the finding can be reproduced: benchmarks/fe_tetrahedron.py).

Why it was tried: sigma^s_ab = (e k_B/hbar) sum_n int d^3k/(2pi)^3 s_n Omega_n^ab at 30 K lives in
a 2.6 meV shell around the Fermi surface, far thinner than any affordable mesh spacing.  Here each
cell of a Gamma-centred mesh is cut into six tetrahedra along its shortest main diagonal; E_n(k)
and X_n(k) (= Omega_n) are linear in each, and

    int_tet F(E(k)) X(k) d^3k / V_tet = sum_i W_i X_i                                (1)

is exact for that linear model.  With w_i(E) the linear-tetrahedron (Bloechl) weights of a step at
E (Bloechl, Jepsen and Andersen, PRB 49, 16223 (1994), App. B, no curvature correction),

    W_i = int dE (-dF/dE) w_i(E) = int_{e_1}^{e_4} dE (-dF/dE) w_i(E) + F(e_4)/4,    (2)

for F(+inf) = 0 (f or s); w_i is cubic between corner energies and (2) is integrated by
Gauss-Legendre panels no wider than k_B T, so no shell needs resolving in k.

Why it was dropped: with bands ordered by energy, a near-degenerate pair n, m (an avoided
crossing) has Omega_n ~ -Omega_m ~ 1/Delta^2.  Point sampling evaluates f_n Omega_n + f_m Omega_m
where the gap is Delta, so the pair nearly cancels; the linear model spreads the peak value over
the whole tetrahedron, where the two bands' energies (hence weights) separate, so the cancellation
is lost.  On a random 4-band model even at 30 000 K, 0.34 % of the (cell, band) rows (those within
0.1 eV of a neighbour band) carry 115 % of the difference between (1) and the corner rule; on Fe
sigma^s_xy(300 K) is 37 % off at 128^3 where point sampling is within ~5 %.  Splitting the
tetrahedra of such pairs (:func:`integrate_hall_tetrahedra_refined`) fixes the random model but
not Fe within any affordable budget (docs/adaptive.md).  A pair-resolved variant (interpolating the
smooth (E_n - E_m)^2 Omega_nm and integrating the two-band occupation factor exactly, as
double-delta tetrahedron methods do) would be the next thing to try.
"""
from __future__ import annotations

import itertools
import logging
from typing import Callable

import numpy as np

logger = logging.getLogger(__name__)

__all__ = ["step_weights", "smeared_weights", "cell_tetrahedra", "integrate_hall_tetrahedra"]

#: Gauss-Legendre panels of (2) are at most this many k_B T wide (4 nodes each: error ~1e-9).
PANEL_KT = 1.0
#: -dF/dE is treated as zero more than this many k_B T from mu (f(1-f) < e^-40).
WINDOW_KT = 40.0
_NODES, _GW = np.polynomial.legendre.leggauss(4)
#: (cell, band) rows whose weights are computed at once.
_ROWS = 32768


def _region_weights(region: int, e: np.ndarray, E: np.ndarray) -> np.ndarray:
    """Bloechl step weights w_i(E) of sorted corner energies e (..., 4) for E (..., q) inside
    ``region`` (1: e1 <= E < e2, 2: e2 <= E < e3, 3: e3 <= E < e4, in 1-based corner order);
    fractions of the tetrahedron's volume, (..., q, 4).  Only divisions by the positive energy
    differences of that region occur, so degenerate corners elsewhere are harmless."""
    e0, e1, e2, e3 = (e[..., i, None] for i in range(4))
    if region == 1:
        d = E - e0
        C = d**3 / (4.0 * (e1 - e0) * (e2 - e0) * (e3 - e0))
        w1, w2, w3 = C * d / (e1 - e0), C * d / (e2 - e0), C * d / (e3 - e0)
        w0 = 4.0 * C - w1 - w2 - w3
    elif region == 2:
        C1 = (E - e0) ** 2 / (4.0 * (e3 - e0) * (e2 - e0))
        C2 = (E - e0) * (E - e1) * (e2 - E) / (4.0 * (e3 - e0) * (e2 - e1) * (e2 - e0))
        C3 = (E - e1) ** 2 * (e3 - E) / (4.0 * (e3 - e1) * (e2 - e1) * (e3 - e0))
        w0 = C1 + (C1 + C2) * (e2 - E) / (e2 - e0) + (C1 + C2 + C3) * (e3 - E) / (e3 - e0)
        w1 = C1 + C2 + C3 + (C2 + C3) * (e2 - E) / (e2 - e1) + C3 * (e3 - E) / (e3 - e1)
        w2 = (C1 + C2) * (E - e0) / (e2 - e0) + (C2 + C3) * (E - e1) / (e2 - e1)
        w3 = (C1 + C2 + C3) * (E - e0) / (e3 - e0) + C3 * (E - e1) / (e3 - e1)
    elif region == 3:
        d = e3 - E
        C = d**3 / (4.0 * (e3 - e0) * (e3 - e1) * (e3 - e2))
        w0, w1, w2 = 0.25 - C * d / (e3 - e0), 0.25 - C * d / (e3 - e1), 0.25 - C * d / (e3 - e2)
        w3 = 1.0 - 4.0 * C - (w0 + w1 + w2)  # the weights add up to the occupied fraction 1 - 4C
    else:
        raise ValueError(f"region must be 1, 2 or 3, got {region}")
    return np.stack(np.broadcast_arrays(w0, w1, w2, w3), axis=-1)


def step_weights(e: np.ndarray, E) -> np.ndarray:
    """Linear-tetrahedron weights of a step occupation, theta(E - E_n(k)).

    For E_n(k) linear in a tetrahedron with corner energies ``e`` and a linear X(k),
    int_tet theta(E - E_n(k)) X(k) d^3k / V_tet = sum_i w_i(E) X_i  (Bloechl et al. 1994, App. B).

    Parameters
    ----------
    e : (n, 4) float
        Corner energies, eV, in any order.
    E : float or (n,) float
        Fermi level(s), eV.

    Returns
    -------
    (n, 4) float
        w_i, fractions of the tetrahedron's volume (sum = occupied fraction, 1/4 each when full).
    """
    e = np.asarray(e, dtype=float)
    order = np.argsort(e, axis=1)
    es = np.take_along_axis(e, order, axis=1)
    E = np.broadcast_to(np.asarray(E, dtype=float), (len(e),))[:, None]
    ws = np.zeros(e.shape)
    ws[E[:, 0] >= es[:, 3]] = 0.25
    for region in (1, 2, 3):
        inside = (E[:, 0] >= es[:, region - 1]) & (E[:, 0] < es[:, region])
        if inside.any():
            ws[inside] = _region_weights(region, es[inside], E[inside])[:, 0]
    w = np.empty_like(ws)
    np.put_along_axis(w, order, ws, axis=1)
    return w


def smeared_weights(e: np.ndarray, *, F: Callable, minus_dF: Callable, mu: float, kT: float) -> np.ndarray:
    """Linear-tetrahedron weights of a smooth occupation F(E_n(k)) (Eqs. 1, 2 of the module).

    Parameters
    ----------
    e : (n, 4) float
        Corner energies, eV, in any order.
    F, minus_dF : callables ``(E, *, mu, kT) -> array``
        The occupation (dimensionless; F(+inf) = 0, e.g. :func:`~wbentropy.occupation.fermi`
        or :func:`~wbentropy.occupation.entropy`) and -dF/dE in 1/eV.
    mu, kT : float
        Chemical potential and k_B T, eV (kT > 0).

    Returns
    -------
    (n, 4) float
        W_i with int_tet F(E(k)) X(k) d^3k / V_tet = sum_i W_i X_i for linear E and X.
    """
    if kT <= 0.0:
        raise ValueError("smeared_weights needs kT > 0 (use step_weights at T = 0)")
    e = np.asarray(e, dtype=float)
    lo, hi = mu - WINDOW_KT * kT, mu + WINDOW_KT * kT
    top = e.max(axis=1)
    w = np.repeat(0.25 * F(top, mu=mu, kT=kT)[:, None], 4, axis=1)  # F(e_4)/4: all of (2) outside the window
    near = np.flatnonzero((top > lo) & (e.min(axis=1) < hi))
    if near.size:
        w[near] = _smeared_near(e[near], F=F, minus_dF=minus_dF, mu=mu, kT=kT)
    return w


def _smeared_near(e: np.ndarray, *, F: Callable, minus_dF: Callable, mu: float, kT: float) -> np.ndarray:
    """:func:`smeared_weights` of tetrahedra whose energies reach into the window mu +- WINDOW_KT kT."""
    order = np.argsort(e, axis=1)
    es = np.take_along_axis(e, order, axis=1)
    ws = np.repeat(0.25 * F(es[:, 3], mu=mu, kT=kT)[:, None], 4, axis=1)  # F(e_4)/4
    lo, hi = mu - WINDOW_KT * kT, mu + WINDOW_KT * kT
    for region in (1, 2, 3):
        a = np.maximum(es[:, region - 1], lo)
        b = np.minimum(es[:, region], hi)
        rows = np.flatnonzero(b > a)
        if rows.size == 0:
            continue
        m = np.ceil((b[rows] - a[rows]) / (PANEL_KT * kT)).astype(int)
        rep = np.repeat(rows, m)  # one entry per panel
        first = np.repeat(np.cumsum(m) - m, m)
        h = np.repeat((b[rows] - a[rows]) / m, m)
        start = a[rep] + (np.arange(rep.size) - first) * h
        E = start[:, None] + 0.5 * h[:, None] * (_NODES + 1.0)  # (panels, 4 nodes)
        g = minus_dF(E, mu=mu, kT=kT) * (0.5 * h[:, None] * _GW)
        contrib = np.einsum("pq,pqi->pi", g, _region_weights(region, es[rep], E))
        for i in range(4):
            ws[:, i] += np.bincount(rep, weights=contrib[:, i], minlength=len(e))
    w = np.empty_like(ws)
    np.put_along_axis(w, order, ws, axis=1)
    return w


def cell_tetrahedra(cell_vectors: np.ndarray) -> np.ndarray:
    """The six tetrahedra of one mesh cell, cut along its shortest main diagonal.

    Parameters
    ----------
    cell_vectors : (3, 3) float
        Edge vectors of the cell (rows, Cartesian).

    Returns
    -------
    (6, 4, 3) int
        Corner offsets (0 or 1 along each edge) of each tetrahedron's four corners.
    """
    corners = np.array(list(itertools.product((0, 1), repeat=3)))
    # the diagonal from corner c to 1 - c, for c = 000, 100, 010, 001
    starts = corners[[0, 4, 2, 1]]
    lengths = [np.linalg.norm((1 - 2 * c) @ cell_vectors) for c in starts]
    c0 = starts[int(np.argmin(lengths))]
    out = []
    for perm in itertools.permutations(range(3)):
        path = [np.zeros(3, int)]
        for axis in perm:
            step = path[-1].copy()
            step[axis] = 1
            path.append(step)
        out.append(np.abs(np.array(path) - c0))  # reflect the 000 -> 111 tetrahedra onto c0's diagonal
    return np.array(out)


def _plane_geometry(interp, *, mesh: tuple[int, int, int], plane: int, batch: int, degen_thresh: float):
    """Band energies (N1 N2, nb) and Berry curvature (N1 N2, nb, 3) on k3 = plane/N3, C order."""
    n1, n2, n3 = mesh
    i1, i2 = np.meshgrid(np.arange(n1), np.arange(n2), indexing="ij")
    k = np.stack([i1.ravel() / n1, i2.ravel() / n2, np.full(n1 * n2, plane / n3)], axis=1)
    return _energies_and_curvature(interp, k, batch=batch, degen_thresh=degen_thresh)


def _energies_and_curvature(interp, k, *, batch: int, degen_thresh: float):
    """Band energies (nk, nb) and Berry curvature (nk, nb, 3) at fractional k, in batches."""
    from wbentropy.geometry import band_geometry

    E, X = [], []
    for s in range(0, len(k), batch):
        geom = band_geometry(interp(k[s:s + batch]), degen_thresh=degen_thresh)
        E.append(geom.E)
        X.append(geom.berry_curvature)
    return np.concatenate(E), np.concatenate(X)


def integrate_hall_tetrahedra(*, model, mesh: tuple[int, int, int], quantities=("ahc", "entropy_hall"),
                              temperatures, mus, parallel=None, batch: int = 2048,
                              degen_thresh: float | None = None) -> dict[str, np.ndarray]:
    """Hall tensors sigma_ab = factor/V sum_n <F(E_n) Omega_n^ab>_BZ by linear tetrahedra.

    ``ahc``: sigma^e_ab = -(e^2/hbar) sum_n int d^3k/(2pi)^3 f_n Omega_n^ab in S/cm;
    ``entropy_hall``: sigma^s_ab = (e k_B/hbar) sum_n int d^3k/(2pi)^3 s_n Omega_n^ab in
    A/(m K) (paper Eq. 28).  E_n and Omega_n are interpolated linearly in each of the six
    tetrahedra of every cell of the Gamma-centred mesh (band index by energy order) and the
    occupation is integrated exactly over that linear model (:func:`smeared_weights`).
    The k3 planes are shared out among the ranks of ``parallel`` in contiguous blocks and the
    partial sums added in rank order.

    Parameters
    ----------
    model : TBModel
    mesh : (N1, N2, N3) ints
    quantities : names among ``ahc``, ``entropy_hall``
    temperatures : (nT,) K; T = 0 allowed for ``ahc`` (step occupation) and gives 0 for ``entropy_hall``
    mus : (nmu,) eV
    parallel : Parallel, optional
    batch : int
        k-points per evaluation batch.
    degen_thresh : float, optional
        Degeneracy threshold of the band geometry, eV (default that of :mod:`wbentropy.geometry`).

    Returns
    -------
    dict
        name -> (nT, nmu, 3, 3) array in SI units as above.
    """
    from wbentropy.errors import InputError
    from wbentropy.geometry import DEFAULT_DEGEN_THRESH
    from wbentropy.interpolation import Interpolator
    from wbentropy.quantities import HALL_WEIGHTS, pseudovector_to_tensor

    unknown = [q for q in quantities if q not in HALL_WEIGHTS]
    if unknown:
        raise InputError(f"tetrahedron integration knows {sorted(HALL_WEIGHTS)}, not {unknown}")
    mesh = tuple(int(n) for n in mesh)
    if len(mesh) != 3 or min(mesh) < 1:
        raise InputError(f"k-mesh must be three positive integers, got {mesh}")
    temperatures = np.atleast_1d(np.asarray(temperatures, dtype=float))
    mus = np.atleast_1d(np.asarray(mus, dtype=float))
    degen = DEFAULT_DEGEN_THRESH if degen_thresh is None else degen_thresh
    interp = Interpolator(model=model)
    tets = cell_tetrahedra(model.reciprocal_lattice / np.array(mesh, float)[:, None])
    n1, n2, n3 = mesh
    start, stop = (0, n3) if parallel is None else parallel.split_range(n3)
    sums = np.zeros((len(quantities), len(temperatures), len(mus), 3))
    planes = {}
    for l3 in range(start, stop):
        for p in (l3, (l3 + 1) % n3):
            if p not in planes:
                planes[p] = _plane_geometry(interp, mesh=mesh, plane=p, batch=batch, degen_thresh=degen)
        planes = {p: v for p, v in planes.items() if p in (l3, (l3 + 1) % n3)}
        for tet in tets:
            e, X = _tetrahedron_corners(planes[l3], planes[(l3 + 1) % n3], tet, (n1, n2))
            _accumulate(sums, e, X, quantities=quantities, temperatures=temperatures, mus=mus)
    if parallel is not None and parallel.size > 1:
        sums = np.sum(parallel.allgather(sums), axis=0)  # rank order: a fixed order
    mean = sums / (6.0 * n1 * n2 * n3)
    return {name: pseudovector_to_tensor(mean[iq]) * (HALL_WEIGHTS[name][2] / model.volume)
            for iq, name in enumerate(quantities)}


def _accumulate(sums, e, X, *, quantities, temperatures, mus) -> None:
    """sums[q, T, mu] += sum_rows sum_i w_i X_i: corner energies e (rows, 4), values X (rows, 4, 3)."""
    from wbentropy.occupation import kT_eV
    from wbentropy.quantities import HALL_WEIGHTS

    for iq, name in enumerate(quantities):
        F, minus_dF, _ = HALL_WEIGHTS[name]
        for iT, T in enumerate(temperatures):
            kT = kT_eV(T)
            for im, mu in enumerate(mus):
                if kT == 0 and name != "ahc":
                    continue  # s = 0 at T = 0
                for r0 in range(0, len(e), _ROWS):  # bounded memory: panels grow with the rows
                    er = e[r0:r0 + _ROWS]
                    W = (smeared_weights(er, F=F, minus_dF=minus_dF, mu=mu, kT=kT) if kT > 0
                         else step_weights(er, mu))
                    sums[iq, iT, im] += np.einsum("ri,ric->c", W, X[r0:r0 + _ROWS])


def _tetrahedron_corners(lower, upper, tet: np.ndarray, n12: tuple[int, int]):
    """Corner energies (rows, 4) and band quantities (rows, 4, 3) of one tetrahedron of every
    cell between two k3 planes, one row per (cell, band)."""
    n1, n2 = n12
    i1, i2 = np.meshgrid(np.arange(n1), np.arange(n2), indexing="ij")
    es, xs = [], []
    for d1, d2, d3 in tet:
        E, X = upper if d3 else lower
        flat = (((i1 + d1) % n1) * n2 + (i2 + d2) % n2).ravel()
        es.append(E[flat])
        xs.append(X[flat])
    e = np.stack(es, axis=-1).reshape(-1, 4)  # (cells * nb, 4)
    X = np.stack(xs, axis=2).reshape(-1, 4, 3)  # (cells, nb, 4, 3) -> rows
    return e, X


# ------------------------------------------------------------------ pair-aware refinement
#: Red refinement of a tetrahedron (Bey): points 0-3 its corners, 4-9 the midpoints of edges
#: 01, 02, 03, 12, 13, 23; four corner children and four around the diagonal 02-13, each 1/8.
_EDGES = np.array([(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)])
_CHILDREN = np.array([(0, 4, 5, 6), (4, 1, 7, 8), (5, 7, 2, 9), (6, 8, 9, 3),
                      (4, 5, 6, 8), (4, 5, 7, 8), (5, 6, 8, 9), (5, 7, 8, 9)])


def pair_unresolved(E: np.ndarray, *, lo: float, hi: float, eta: float) -> np.ndarray:
    """Tetrahedra where the linear model of Omega fails at a near-degenerate band pair.

    For adjacent bands n, n+1 (energy order) of which one reaches [lo, hi], the gap
    d_i = E_{n+1,i} - E_{n,i} at the corners; Omega ~ 1/d^2 is far from linear, and the pair's
    cancellation is lost, where d varies across the tetrahedron by more than ``eta`` times its
    smallest value: max_i d_i - min_i d_i > eta min_i d_i.

    Parameters
    ----------
    E : (T, 4, nb) float, eV
    lo, hi : float, eV
    eta : float

    Returns
    -------
    (T,) bool
    """
    d = E[:, :, 1:] - E[:, :, :-1]  # (T, 4, nb - 1)
    reach = (E.max(axis=1) >= lo) & (E.min(axis=1) <= hi)  # (T, nb)
    pair = reach[:, 1:] | reach[:, :-1]
    varies = (d.max(axis=1) - d.min(axis=1)) > eta * d.min(axis=1)
    return np.any(pair & varies, axis=1)


def integrate_hall_tetrahedra_refined(*, model, mesh: tuple[int, int, int], quantities=("ahc", "entropy_hall"),
                                      temperatures, mus, eta: float = 0.5, max_depth: int = 6,
                                      window_kT: float = 12.0, parallel=None, batch: int = 2048,
                                      degen_thresh: float | None = None) -> tuple[dict, dict]:
    """:func:`integrate_hall_tetrahedra` with the tetrahedra of :func:`pair_unresolved` split
    (red refinement, 8 children, new k-points at the edge midpoints) until resolved or
    ``max_depth`` levels deep; bands reaching mu +- ``window_kT`` k_B T (k_B T at least 1 meV)
    are checked.  Returns (tensors as :func:`integrate_hall_tetrahedra`, statistics: k-points
    evaluated, tetrahedra split per level)."""
    from wbentropy.geometry import DEFAULT_DEGEN_THRESH
    from wbentropy.interpolation import Interpolator
    from wbentropy.occupation import kT_eV
    from wbentropy.quantities import HALL_WEIGHTS, pseudovector_to_tensor

    mesh = tuple(int(n) for n in mesh)
    temperatures = np.atleast_1d(np.asarray(temperatures, dtype=float))
    mus = np.atleast_1d(np.asarray(mus, dtype=float))
    degen = DEFAULT_DEGEN_THRESH if degen_thresh is None else degen_thresh
    interp = Interpolator(model=model)
    n1, n2, n3 = mesh
    tets = cell_tetrahedra(model.reciprocal_lattice / np.array(mesh, float)[:, None])
    kmax = max(max(kT_eV(T) for T in temperatures), 1e-3)
    lo, hi = mus.min() - window_kT * kmax, mus.max() + window_kT * kmax
    start, stop = (0, n3) if parallel is None else parallel.split_range(n3)
    sums = np.zeros((len(quantities), len(temperatures), len(mus), 3))
    split = np.zeros(max_depth + 1, dtype=np.int64)
    kpoints = 0
    i1, i2 = (a.ravel() for a in np.meshgrid(np.arange(n1), np.arange(n2), indexing="ij"))

    def evaluate(k):
        return _energies_and_curvature(interp, k, batch=batch, degen_thresh=degen)

    def integrate(vol, E, X):
        nb = E.shape[2]
        e = np.swapaxes(E, 1, 2).reshape(-1, 4)
        Xr = np.swapaxes(X, 1, 2).reshape(-1, 4, 3) * np.repeat(vol, nb)[:, None, None]
        _accumulate(sums, e, Xr, quantities=quantities, temperatures=temperatures, mus=mus)

    planes = {}
    for l3 in range(start, stop):
        for p in (l3, l3 + 1):
            if p not in planes:
                k = np.stack([i1 / n1, i2 / n2, np.full(i1.size, p / n3)], axis=1)
                planes[p] = (k, *evaluate(k))
                kpoints += len(k)
        planes = {p: v for p, v in planes.items() if p in (l3, l3 + 1)}
        K, E, X = [], [], []
        for tet in tets:
            cols = []
            for d1, d2, d3 in tet:
                kk, EE, XX = planes[l3 + d3]
                flat = ((i1 + d1) % n1) * n2 + (i2 + d2) % n2
                wrap = np.stack([i1 + d1 >= n1, i2 + d2 >= n2, np.zeros(i1.size, bool)], axis=1)  # unwrapped k
                cols.append((kk[flat] + wrap, EE[flat], XX[flat]))
            K.append(np.stack([c[0] for c in cols], axis=1))
            E.append(np.stack([c[1] for c in cols], axis=1))
            X.append(np.stack([c[2] for c in cols], axis=1))
        K, E, X = np.concatenate(K), np.concatenate(E), np.concatenate(X)  # (T, 4, ...)
        vol = np.full(len(K), 1.0 / (6.0 * n1 * n2 * n3))
        for depth in range(max_depth + 1):
            flag = pair_unresolved(E, lo=lo, hi=hi, eta=eta) if depth < max_depth else np.zeros(len(K), bool)
            keep = ~flag
            if keep.any():
                integrate(vol[keep], E[keep], X[keep])
            if not flag.any():
                break
            split[depth] += int(flag.sum())
            K, E, X, vol = K[flag], E[flag], X[flag], vol[flag] / 8.0
            km = 0.5 * (K[:, _EDGES[:, 0]] + K[:, _EDGES[:, 1]])  # (T, 6, 3)
            Em, Xm = evaluate(km.reshape(-1, 3))
            kpoints += km.shape[0] * 6
            nb = E.shape[2]
            Kp = np.concatenate([K, km], axis=1)
            Ep = np.concatenate([E, Em.reshape(-1, 6, nb)], axis=1)
            Xp = np.concatenate([X, Xm.reshape(-1, 6, nb, 3)], axis=1)
            K = Kp[:, _CHILDREN].reshape(-1, 4, 3)
            E = Ep[:, _CHILDREN].reshape(-1, 4, nb)
            X = Xp[:, _CHILDREN].reshape(-1, 4, nb, 3)
            vol = np.repeat(vol, 8)
    if parallel is not None and parallel.size > 1:
        sums = np.sum(parallel.allgather(sums), axis=0)
        split = np.sum(parallel.allgather(split), axis=0)
        kpoints = int(np.sum(parallel.allgather(kpoints)))
    out = {name: pseudovector_to_tensor(sums[iq]) * (HALL_WEIGHTS[name][2] / model.volume)
           for iq, name in enumerate(quantities)}
    return out, {"kpoints": kpoints, "split_per_level": split.tolist()}
