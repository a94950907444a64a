"""Fe (../shared/data), sigma^e_xy at E_F: where does a uniform mesh's error live, and does a
uniform mesh with accurate integrals in its hottest cells beat it?

    python benchmarks/fe_uniform_error_map.py [--mesh 112] [--temperature 300]
                                              [--base 28] [--hot 10 30 100 300] [--sub 4]

1. The integrand's point values on the Gamma-centred mesh N^3 (N = --mesh, even) are grouped into
   the cells of the N/2 mesh: each coarse cell's point value minus the trapezoid mean of its
   fine points (the N/2 mesh's error against the N mesh, cell by cell).  Printed: how much of the
   total difference the cells with the largest |difference| carry, and how concentrated |F| is.
2. A hybrid: the uniform mesh --base^3 (a sub-mesh of the N^3 points), with the --hot cells of
   largest discrete Laplacian |F - mean of the 6 neighbours| replaced by accurate integrals over
   the cell (--sub^3 sub-cells with 27 Gauss-Legendre nodes each).  Printed: its error against
   --reference (default: the adaptive reference of docs/adaptive.md) for each count of hot cells.

Everything is printed; nothing is asserted.  The figures are in docs/adaptive.md.
"""
from __future__ import annotations

import wbentropy  # noqa: F401,I001  (before numpy: the thread pool and single-threaded BLAS)

import argparse
import logging
import time

import numpy as np
from _data import EF_FE, material

from wbentropy.integrate import Evaluator
from wbentropy.io.load import load_model
from wbentropy.quantities import Options, get_quantities

logger = logging.getLogger("bench")
#: the adaptive references of docs/adaptive.md (last level of the adaptive curves), S/cm
REFERENCE = {300.0: 453.154, 30.0: 446.875}


def xy_values(evaluator: Evaluator, k: np.ndarray, batch: int = 200_000) -> np.ndarray:
    """sigma^e_xy integrand (S/cm, its BZ mean is the AHC) at k-points (n, 3)."""
    probe = np.zeros(evaluator.n_outputs)
    index = None
    for j in range(evaluator.n_outputs):  # the flat output that is the xy component
        probe[:] = 0.0
        probe[j] = 1.0
        v = evaluator.values(probe)[0]
        if np.count_nonzero(v) == 1 and v[0, 0, 0, 1] != 0:
            index, factor = j, v[0, 0, 0, 1]
    out = [evaluator(k[s:s + batch], np.zeros(len(k[s:s + batch])), None)[0][:, index] * factor
           for s in range(0, len(k), batch)]
    return np.concatenate(out)


def mesh_points(n: int) -> np.ndarray:
    i = np.arange(n)
    return np.stack(np.meshgrid(i, i, i, indexing="ij"), -1).reshape(-1, 3) / n


def error_map(F: np.ndarray, ref: float) -> None:
    """Section 1: the N/2 mesh's error against the N mesh, cell by cell."""
    N = F.shape[0]
    C = F[::2, ::2, ::2]
    fine = np.zeros_like(C)
    w = {-1: 0.25, 0: 0.5, 1: 0.25}  # trapezoid weights of the fine points in a coarse cell
    for a in w:
        for b in w:
            for c in w:
                fine += w[a] * w[b] * w[c] * np.roll(F, (-a, -b, -c), axis=(0, 1, 2))[::2, ::2, ::2]
    D = (C - fine).ravel() / C.size
    logger.info("%d^3: %.4f S/cm (%+.2e); %d^3: %.4f S/cm (%+.2e); difference %+.2e of the reference",
                N, F.mean(), F.mean() / ref - 1, N // 2, C.mean(), C.mean() / ref - 1, D.sum() / ref)
    order = np.argsort(-np.abs(D))
    cum = np.cumsum(D[order])
    for frac in (1e-4, 1e-3, 1e-2, 1e-1):
        n = max(1, int(frac * len(D)))
        logger.info("  the %g (%d cells) with the largest |difference| carry %+.4f (absolute sum %.4f)",
                    frac, n, cum[n - 1] / ref, np.abs(D[order[:n]]).sum() / ref)
    logger.info("  sum of |difference| over all cells: %.4f of the reference", np.abs(D).sum() / ref)
    a = np.sort(np.abs(F.ravel()))[::-1]
    logger.info("  largest |F| / median |F| = %.0f", a[0] / np.median(a))
    top = np.argsort(-np.abs(F.ravel()))
    for frac in (1e-4, 1e-3, 1e-2):
        n = int(frac * F.size)
        logger.info("  the %g of the points with the largest |F| carry %+.4f of the integral",
                    frac, F.ravel()[top[:n]].sum() / F.size / ref)


def hybrid(F: np.ndarray, evaluator: Evaluator, base: int, hot: list[int], sub: int, ref: float) -> None:
    """Section 2: the base mesh with accurate integrals in its hottest cells."""
    step = F.shape[0] // base
    if step * base != F.shape[0]:
        raise SystemExit(f"--base {base} must divide --mesh {F.shape[0]}")
    C = F[::step, ::step, ::step]
    lap = np.abs(C - sum(np.roll(C, s, axis=a) for a in range(3) for s in (1, -1)) / 6.0)
    order = np.argsort(-lap.ravel())[:max(hot)]
    x, w = np.polynomial.legendre.leggauss(3)
    centres = (np.arange(sub) + 0.5) / sub - 0.5
    nodes = (centres[:, None] + x[None, :] / (2 * sub)).ravel()
    weights = np.tile(w / (2 * sub), sub)
    G = np.stack(np.meshgrid(nodes, nodes, nodes, indexing="ij"), -1).reshape(-1, 3)
    W = np.einsum("i,j,k->ijk", weights, weights, weights).ravel()
    cells = np.array(np.unravel_index(order, C.shape)).T
    t0 = time.perf_counter()
    Q = xy_values(evaluator, np.mod((cells[:, None, :] + G[None]) / base, 1.0).reshape(-1, 3))
    Q = Q.reshape(len(cells), -1) @ W
    logger.info("base %d^3: %.4f S/cm (%+.2e); %d nodes per corrected cell (%.0f s)",
                base, C.mean(), C.mean() / ref - 1, len(G), time.perf_counter() - t0)
    point = C.ravel()[order]
    for m in hot:
        value = C.mean() + (Q[:m] - point[:m]).sum() / C.size
        logger.info("  %5d hottest cells corrected: %.4f S/cm (%+.2e), %d k-points",
                    m, value, value / ref - 1, base**3 + len(G) * m)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mesh", type=int, default=112)
    p.add_argument("--temperature", type=float, default=300.0)
    p.add_argument("--base", type=int, default=28)
    p.add_argument("--hot", type=int, nargs="+", default=[10, 30, 100, 300])
    p.add_argument("--sub", type=int, default=4)
    p.add_argument("--reference", type=float, help="sigma^e_xy reference, S/cm (default: docs/adaptive.md's)")
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.mesh % 2:
        raise SystemExit("--mesh must be even")
    ref = args.reference if args.reference is not None else REFERENCE.get(args.temperature)
    if ref is None:
        raise SystemExit(f"no reference at {args.temperature} K: pass --reference")
    model = load_model(w90=material("Fe_Wannier90") / "Fe")
    evaluator = Evaluator(model=model, quantities=get_quantities(["ahc"]), temperatures=np.array([args.temperature]),
                          mus=np.array([EF_FE]), options=Options())
    t0 = time.perf_counter()
    F = xy_values(evaluator, mesh_points(args.mesh)).reshape((args.mesh,) * 3)
    logger.info("Fe, sigma^e_xy at E_F, %g K, reference %.3f S/cm; %d^3 point values in %.0f s",
                args.temperature, ref, args.mesh, time.perf_counter() - t0)
    error_map(F, ref)
    hybrid(F, evaluator, args.base, args.hot, args.sub, ref)


if __name__ == "__main__":
    main()
