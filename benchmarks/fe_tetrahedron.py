"""Linear tetrahedra as the reference for Fe's sigma^s_xy at 30 K: tried and dropped (session 10).

    python benchmarks/fe_tetrahedron.py --checks          # the method's own checks (1 min)
    python benchmarks/fe_tetrahedron.py --meshes 16 --refine 0.5 --max-depth 3 --temperatures 30  # pair splitting
    mpiexec -n 2 python benchmarks/fe_tetrahedron.py [--meshes 32 48 64 96 128] [--temperatures 300 30]
                                                     [--cache tetra.json]

The route (benchmarks/_tetrahedron.py, whose docstring explains it and why it fails) integrates
the occupation exactly over a linear model of E_n(k) and Omega_n(k) in each tetrahedron, so the
2.6 meV shell at 30 K needs no k-resolution.  ``--checks`` prints (1) its weights against 2e6
points sampled in one tetrahedron, (2) its h^2 convergence on the 2D Chern model at 30 K against
a dense uniform mesh, (3) on a random 4-band model at 30 000 K, where the occupation is nearly
linear, the share of the tetrahedron-vs-corner-rule difference carried by the rows next to a
near-degenerate band: the lost pair cancellation.  The Fe run prints sigma^e_xy, sigma^s_xy per
mesh and the h^2 (Richardson) extrapolation of consecutive meshes,
(N2^2 v2 - N1^2 v1)/(N2^2 - N1^2).  Everything is printed; nothing is asserted.
"""
from __future__ import annotations

import wbentropy  # noqa: F401,I001  (before numpy: the thread pool and single-threaded BLAS)

import argparse
import json
import logging
import resource
import time
from pathlib import Path

import numpy as np
from _data import EF_FE, material

from _tetrahedron import (_plane_geometry, _tetrahedron_corners, cell_tetrahedra, integrate_hall_tetrahedra,
                          integrate_hall_tetrahedra_refined, smeared_weights, step_weights)

from wbentropy.io.load import load_model
from wbentropy.parallel import world

logger = logging.getLogger("bench")
Q = ("ahc", "entropy_hall")


def _key(n, args) -> str:
    """Cache key of one run: mesh, temperatures and (if any) the refinement."""
    key = f"{n} T={','.join(f'{T:g}' for T in args.temperatures)}"
    return key + (f" eta={args.refine:g} depth={args.max_depth}" if args.refine > 0 else "")


def checks() -> None:
    """The three checks of the module docstring."""
    from wbentropy.api import compute
    from wbentropy.interpolation import Interpolator
    from wbentropy.models import qwz_chern_model, random_model
    from wbentropy.occupation import entropy, fermi, kT_eV, minus_dentropy, minus_dfermi

    lam = np.random.default_rng(7).dirichlet(np.ones(4), size=2_000_000)  # uniform in a tetrahedron
    X = np.array([1.0, -2.0, 0.5, 3.0])
    worst = 0.0
    for e in (np.array([0.013, -0.041, 0.052, 0.007]), np.array([0.0, 0.0, 0.03, 0.03])):
        Ek, Xk = lam @ e, lam @ X
        for E in np.linspace(e.min(), e.max(), 7):
            worst = max(worst, abs(step_weights(e[None], E)[0] @ X - np.mean((Ek <= E) * Xk)))
        for kT in (0.001, 0.01, 0.1):
            for F, dF in ((fermi, minus_dfermi), (entropy, minus_dentropy)):
                W = smeared_weights(e[None], F=F, minus_dF=dF, mu=0.004, kT=kT)[0]
                worst = max(worst, abs(W @ X - np.mean(F(Ek, mu=0.004, kT=kT) * Xk)))
    logger.info("(1) one tetrahedron, weights against 2e6 sampled points: largest difference %.1e "
                "(sampling error ~4e-4; X of order 1)", worst)
    qwz = qwz_chern_model(mass=-1.0, tz=0.0, a=3.0, c=5.0)
    ref = compute(model=qwz, quantities=["entropy_hall"], temperatures=[30.0], mus=[-1.5], kmesh=(2187, 2187, 1),
                  batch_size=50000)["entropy_hall"][0, 0, 0, 1]
    v = {n: integrate_hall_tetrahedra(model=qwz, mesh=(n, n, 1), temperatures=[30.0], mus=[-1.5],
                                      quantities=["entropy_hall"])["entropy_hall"][0, 0, 0, 1] for n in (81, 243)}
    logger.info("(2) Chern model, 30 K, sigma^s_xy against uniform 2187^2 (%.8g): 81^2 %.2e, 243^2 %.2e, "
                "h^2 extrapolation %.1e", ref, v[81] / ref - 1, v[243] / ref - 1, (9 * v[243] - v[81]) / 8 / ref - 1)
    rnd, n, kT = random_model(num_wann=4, seed=3), 16, kT_eV(30000.0)
    interp = Interpolator(model=rnd)
    planes = [_plane_geometry(interp, mesh=(n, n, n), plane=p, batch=4096, degen_thresh=1e-4) for p in range(n)]
    diff, gap = [], []
    for p in range(n):
        for tet in cell_tetrahedra(rnd.reciprocal_lattice / n):
            e, Xc = _tetrahedron_corners(planes[p], planes[(p + 1) % n], tet, (n, n))
            W = smeared_weights(e, F=fermi, minus_dF=minus_dfermi, mu=0.0, kT=kT)
            diff.append(np.einsum("ri,ri->r", W - fermi(e, mu=0.0, kT=kT) / 4, Xc[..., 2]))
            E4 = e.reshape(n * n, rnd.num_wann, 4)  # (cells, bands, corners), bands in energy order
            g = np.full(E4.shape, np.inf)
            g[:, 1:] = E4[:, 1:] - E4[:, :-1]
            g[:, :-1] = np.minimum(g[:, :-1], E4[:, 1:] - E4[:, :-1])
            gap.append(g.min(axis=2).ravel())
    diff, gap = np.concatenate(diff), np.concatenate(gap)
    near = gap < 0.1
    logger.info("(3) random 4-band model, 16^3, 30 000 K: rows within 0.1 eV of a neighbour band are %.2f %% "
                "of all and carry %.0f %% of the tetrahedron-minus-corner-rule difference in Omega_xy",
                100 * near.mean(), 100 * diff[near].sum() / diff.sum())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--meshes", nargs="+", type=int, default=[32, 48, 64, 96, 128])
    p.add_argument("--temperatures", nargs="+", type=float, default=[300.0, 30.0])
    p.add_argument("--cache", help="JSON file memoising each mesh's values (rerun to add meshes)")
    p.add_argument("--checks", action="store_true", help="run the method's checks instead of Fe")
    p.add_argument("--refine", type=float, default=0.0, help="eta > 0: split the tetrahedra of near-degenerate "
                   "band pairs whose gap varies by more than eta times itself (pair_unresolved)")
    p.add_argument("--max-depth", type=int, default=6)
    args = p.parse_args()
    par = world()
    logging.basicConfig(level=logging.INFO if par.is_root else logging.WARNING, format="%(message)s")
    logging.getLogger("wbentropy").setLevel(logging.WARNING)
    if args.checks:
        checks()
        return
    model = load_model(w90=material("Fe_Wannier90") / "Fe")
    cache = json.loads(Path(args.cache).read_text()) if args.cache and Path(args.cache).exists() else {}
    for n in args.meshes:
        key = _key(n, args)
        if key in cache:
            continue
        t0 = time.perf_counter()
        stats = {"kpoints": n**3}
        if args.refine > 0:
            r, stats = integrate_hall_tetrahedra_refined(model=model, mesh=(n, n, n), temperatures=args.temperatures,
                                                         mus=[EF_FE], parallel=par, eta=args.refine,
                                                         max_depth=args.max_depth)
        else:
            r = integrate_hall_tetrahedra(model=model, mesh=(n, n, n), temperatures=args.temperatures, mus=[EF_FE],
                                          parallel=par)
        dt = time.perf_counter() - t0
        rss = max(par.allgather(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
        cache[key] = {"values": {q: [float(v) for v in r[q][:, 0, 0, 1]] for q in Q}, "seconds": dt,
                      "ranks": par.size, "peak_rss_mb": rss, **stats}
        logger.info("tetrahedra %d^3 done in %.0f s on %d ranks (peak RSS per rank %.0f MB), %d k-points%s", n, dt,
                    par.size, rss, stats["kpoints"], f", split per level {stats['split_per_level']}"
                    if "split_per_level" in stats else "")
        if args.cache and par.is_root:
            Path(args.cache).write_text(json.dumps(cache, indent=1))
    for iT, T in enumerate(args.temperatures):
        logger.info("\n=== T = %g K, mu = E_F = %.4f eV, linear tetrahedra ===", T, EF_FE)
        logger.info("%6s %12s %14s %10s %14s %16s", "mesh", "k-points", "sigma_xy S/cm", "h^2 extr.",
                    "sigma^s_xy A/(m K)", "h^2 extr.")
        rows = []
        for n in sorted(args.meshes):
            v = cache[_key(n, args)]
            rows.append((n, v["values"]["ahc"][iT], v["values"]["entropy_hall"][iT], v["seconds"],
                         v.get("kpoints", n**3)))
        prev = None
        for n, e, s, dt, nk in rows:
            if prev is None:
                ext = ("", "")
            else:
                n0, e0, s0 = prev
                ext = tuple(f"{(n**2 * b - n0**2 * a) / (n**2 - n0**2):.6g}" for a, b in ((e0, e), (s0, s)))
            logger.info("%6d %12d %14.4f %10s %14.6g %16s   (%.0f s)", n, nk, e, ext[0], s, ext[1], dt)
            prev = (n, e, s)


if __name__ == "__main__":
    main()
