"""Fe (../shared/data): error of sigma^s_xy and sigma^e_xy at E_F versus k-point evaluations,
uniform Gamma-centred meshes vs the adaptive integrator, against a dense reference; the
evaluation ratio needed for 1 % error; the 1 -> 2 rank speed-up and peak memory per rank.

    python benchmarks/fe_adaptive.py [--temperatures 300 30] [--uniform 16 24 32 48 64 96]
                                     [--tolerances 0.1 0.03 0.01 0.003] [--reference-tolerance 3e-4]
                                     [--reference-file REF.h5] [--cache runs.json]
    python benchmarks/fe_adaptive.py --curves --temperatures 30 --curve-budget 20000000 ...
    python benchmarks/fe_adaptive.py --curves --curve-quantities entropy_hall --box-occupations ...

Each quantity is integrated adaptively on its own (its k-points are refined for it alone;
--joint adds runs of both together).  With --curves, one adaptive run per quantity is
recorded level by level and its last level is the reference (where no uniform mesh can be
one, e.g. the 2.6 meV thermal shell at 30 K).  The run also records (by wrapping the integrator's split step) the result
that every ``--max-kpoints`` budget between its levels would give, one run per split cell, so the
k-points from which the adaptive error stays within a target are found to the cell, not only at
the levels (levels are about 1.6x apart; the uniform meshes N^3 are run every few N).

A dense uniform reference is best computed separately under MPI, e.g.
``mpiexec -n 2 wbentropy compute --w90 Fe --kmesh 192 192 192 --temperature 30 300 --mu 17.6255
--quantities ahc,entropy_hall --out ref192.h5``, and passed with ``--reference-file`` (printed
beside the curve's own reference; ``--reference-source file`` judges against it) or with
``--uniform-file`` (added to the uniform curve: the verdict "stays within" needs the denser meshes
too, since a lucky last mesh counts as within).

Everything is printed; nothing is asserted (tests/test_adaptive.py holds the assertions).
"""
from __future__ import annotations

import _threads  # noqa: F401  (before numpy: the thread pool and single-threaded BLAS)

import argparse
import contextlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _data import EF_FE, material

from wbentropy.api import compute
from wbentropy.io.load import load_model
from wbentropy.results import Result

logger = logging.getLogger("bench")
Q = ["ahc", "entropy_hall"]


def xy(res):
    """(sigma^e_xy, sigma^s_xy) at the first (T, mu); NaN for a quantity the run did not compute."""
    return tuple(float(res[q][0, 0, 0, 1]) if q in res.quantities else float("nan") for q in Q)


def needed(points, errors, target=0.01):
    """Smallest evaluation count from which the error stays below target (None if never)."""
    ok = None
    for n, e in sorted(zip(points, errors), reverse=True):
        if e < target:
            ok = n
        else:
            break
    return ok


def _uniform_bound(uniform, n_adaptive, target):
    """(uniform count, ratio) texts when no uniform mesh run stays within ``target``: the ratio is
    bounded below by the largest mesh run; a bound below 1 says nothing and is not printed as one."""
    biggest = max(r[0] for r in uniform)
    if biggest < n_adaptive:
        return (f"> {biggest}", f"not bounded (no uniform mesh run within {target:g}, the largest has "
                f"{biggest} k-points, fewer than the adaptive run: add denser meshes, --uniform or --uniform-file)")
    return f"> {biggest}", f"> {biggest / n_adaptive:.2f}x (uniform not within {target:g} up to {biggest} k-points)"


def report_needed(label, uniform, adaptive, target=0.01):
    """Log the k-points each method needs to stay within ``target``, and their ratio;
    ``uniform`` and ``adaptive`` are lists of (k-points, relative error)."""
    nu = needed([r[0] for r in uniform], [r[1] for r in uniform], target)
    na = needed([r[0] for r in adaptive], [r[1] for r in adaptive], target)
    if nu and na:
        ratio = f"{nu / na:.1f}x"
    elif na:  # the uniform meshes run never stay within the target: a lower bound
        nu, ratio = _uniform_bound(uniform, na, target)
    else:
        ratio = f"n/a ({target:g} not reached by the adaptive runs)"
    logger.info("%g relative error in %s: uniform needs %s, adaptive %s k-points -> ratio %s",
                target, label, nu, na, ratio)


def report_tolerance_run(label, uniform, curve, ref, target):
    """Log what ``--tolerance target`` would use: the curve's first level at which the run's own
    stopping rule holds (relative error estimate of the whole tensor within ``target``, no unresolved
    Fermi-surface cell: a run at that tolerance stops there), its true xy error against ``ref``, and
    the uniform mesh needed (the oracle-free view: the curves above know the reference, a user's run
    only its estimate).  ``curve`` rows are (k-points, value, xy error estimate, seconds, relative
    error estimate, unresolved Fermi-surface cells); ``uniform`` rows (k-points, relative error)."""
    if any(len(r) < 6 for r in curve):
        logger.info("  --tolerance %g: the cached curve lacks the run's stopping figures (rerun it)", target)
        return
    stop = next((r for r in curve if r[4] <= target and r[5] == 0), None)
    if stop is None:
        logger.info("  --tolerance %g: not reached within the curve's %d k-points (estimate there %.1e)",
                    target, curve[-1][0], curve[-1][4])
        return
    nu = needed([r[0] for r in uniform], [r[1] for r in uniform], target)
    if nu:
        nu, ratio = str(nu), f"{nu / stop[0]:.2f}x"
    else:  # no uniform mesh run stays within the target: a lower bound
        nu, ratio = _uniform_bound(uniform, stop[0], target)
    logger.info("  --tolerance %g would stop at %d k-points (estimate %.1e, true error %.1e); uniform needs %s "
                "-> ratio %s", target, stop[0], stop[4], abs(stop[1] / ref - 1), nu, ratio)


def _cached(args, key, fn):
    """Memoise (value_e, value_s, k-points, seconds) of one run in the --cache JSON file."""
    cache = json.loads(Path(args.cache).read_text()) if args.cache and Path(args.cache).exists() else {}
    if key not in cache:
        t0 = time.perf_counter()
        r = fn()
        cache[key] = list(xy(r)) + [int(r.attrs["num_kpoints"]), time.perf_counter() - t0]
        if args.cache:
            Path(args.cache).write_text(json.dumps(cache, indent=1))
    return cache[key]


def uniform_all_temperatures(model, args):
    """Uniform meshes serve every temperature at once: run each mesh once and cache per T."""
    if not args.cache:
        return
    cache = json.loads(Path(args.cache).read_text()) if Path(args.cache).exists() else {}
    for n in args.uniform:
        if all(f"uniform {n} T={T}" in cache for T in args.temperatures):
            continue
        t0 = time.perf_counter()
        r = compute(model=model, quantities=Q, temperatures=list(args.temperatures), mus=[EF_FE], kmesh=(n, n, n))
        dt = time.perf_counter() - t0
        for iT, T in enumerate(args.temperatures):
            cache[f"uniform {n} T={T}"] = [r["ahc"][iT, 0, 0, 1], r["entropy_hall"][iT, 0, 0, 1], n**3, dt]
        Path(args.cache).write_text(json.dumps(cache, indent=1))
        logger.info("uniform %d^3 done in %.0f s", n, dt)


def file_values(path, T):
    """(k-points, (sigma^e_xy, sigma^s_xy), integrator) of a result file (wbentropy compute --out)
    at T and mu = E_F, its first mu; a clear error if the file holds neither."""
    r = Result.load(path)
    iT = int(np.argmin(np.abs(r.temperature - T)))
    if abs(r.temperature[iT] - T) > 1e-9 or abs(r.mu[0] - EF_FE) > 1e-9:
        raise SystemExit(f"{path} has no T = {T} K at mu = {EF_FE} eV first")
    return int(r.attrs["num_kpoints"]), tuple(float(r[q][iT, 0, 0, 1]) for q in Q), str(r.attrs.get("integrator"))


def uniform_files(args, T):
    """(k-points, (sigma^e_xy, sigma^s_xy)) of the uniform-mesh result files --uniform-file at T."""
    out = []
    for path in args.uniform_file:
        nk, values, integrator = file_values(path, T)
        if not integrator.startswith("uniform"):
            raise SystemExit(f"{path}: not a uniform-mesh result (integrator: {integrator})")
        out.append((nk, values))
    return out


def run_T(model, T, args):
    logger.info("\n=== T = %g K, mu = E_F = %.4f eV ===", T, EF_FE)
    if args.reference_file:
        nref, (ref_e, ref_s), integrator = file_values(args.reference_file, T)
        label = f"{args.reference_file} ({integrator})"
    elif args.reference_mesh:
        n = args.reference_mesh
        ref_e, ref_s, nref, _ = _cached(args, f"uniform {n} T={T}", lambda: compute(
            model=model, quantities=Q, temperatures=[T], mus=[EF_FE], kmesh=(n, n, n)))
        label = f"uniform {n}^3"
    else:
        ref_e, ref_s, nref, _ = _cached(args, f"adaptive {args.reference_tolerance} T={T}", lambda: compute(
            model=model, quantities=Q, temperatures=[T], mus=[EF_FE], kmesh=(8, 8, 8),
            tolerance=args.reference_tolerance, max_kpoints=args.reference_max_kpoints))
        label = f"adaptive tol {args.reference_tolerance:.1e}"
    logger.info("reference: %s, %d k-points: sigma_xy = %.4f S/cm, sigma^s_xy = %.6g A/(m K)",
                label, nref, ref_e, ref_s)
    rows = {"uniform": [], "adaptive": []}
    for n in args.uniform:
        e, s, nk, dt = _cached(args, f"uniform {n} T={T}", lambda: compute(
            model=model, quantities=Q, temperatures=[T], mus=[EF_FE], kmesh=(n, n, n)))
        rows["uniform"].append((nk, abs(e / ref_e - 1), abs(s / ref_s - 1), dt))
    # each quantity in its own adaptive run (its k-points are refined for it alone), and, with
    # --joint, both in one run (one refined set serving both: the stricter one decides)
    runs = [("adaptive[ahc]", ["ahc"]), ("adaptive[entropy_hall]", ["entropy_hall"])]
    if args.joint:
        runs.append(("adaptive", Q))
    c = args.coarse
    for kind, quantities in runs:
        rows[kind] = []
        for tol in args.tolerances:
            key = f"{kind} {tol} T={T}" + ("" if c == 8 else f" coarse={c}")
            e, s, nk, dt = _cached(args, key, lambda: compute(
                model=model, quantities=quantities, temperatures=[T], mus=[EF_FE], kmesh=(c, c, c),
                tolerance=tol, max_kpoints=args.adaptive_max_kpoints))
            rows[kind].append((nk, abs(e / ref_e - 1), abs(s / ref_s - 1), dt, tol))
    logger.info("%-24s %6s %10s %12s %12s %8s", "method", "tol", "k-points", "err sigma^e", "err sigma^s", "time s")
    for kind, rr in rows.items():
        for n, ee, es, dt, *tol in rr:
            logger.info("%-24s %6s %10d %12.2e %12.2e %8.1f", kind, f"{tol[0]:g}" if tol else "", n, ee, es, dt)
    for label, col, kind in (("sigma^e_xy", 1, "adaptive[ahc]"), ("sigma^s_xy", 2, "adaptive[entropy_hall]")):
        report_needed(label, [(r[0], r[col]) for r in rows["uniform"]], [(r[0], r[col]) for r in rows[kind]])


@contextlib.contextmanager
def recording_splits(record):
    """Within the block, every refinement level of the adaptive integrator calls ``record(cost, changes)``
    with the k-points per split cell and each split cell's change of the integral (dict name -> array,
    in the order a run cut short by ``max_kpoints`` takes the cells): a run with budget
    ``k-points of the level + m * cost`` ends with the level's value plus ``changes[:m].sum(0)``."""
    from wbentropy.integrate import adaptive

    mark, refine, marks = adaptive._mark, adaptive._refine, []

    def marking(*a):
        marks.append(mark(*a))
        return marks[-1]

    def refining(evaluator, geo, settings, parallel, leaves, marked, shell_forced, *rest):
        out = refine(evaluator, geo, settings, parallel, leaves, marked, shell_forced, *rest)
        chosen, taken = marks.pop()
        ordered = out[2][np.searchsorted(np.flatnonzero(chosen), taken)]
        reduction = rest[2] if len(rest) > 2 else None  # over a wedge: the changes of the full-zone integral
        ordered = ordered if reduction is None else reduction.project(ordered)
        record(geo.n_children * geo.n_nodes, dict(zip((q.name for q in evaluator.quantities),
                                                      evaluator.values(ordered))))
        return out

    adaptive._mark, adaptive._refine = marking, refining
    try:
        yield
    finally:
        adaptive._mark, adaptive._refine = mark, refine


def adaptive_curve(model, T, quantity, args):
    """One adaptive run of one quantity to --curve-tolerance / --curve-budget, recorded level by
    level (a run stopped at a looser tolerance is one of these levels): rows of (k-points,
    value_xy, estimated error_xy, seconds, the run's relative error estimate, its unresolved
    Fermi-surface cells), cached in --cache (older caches hold the first four)."""
    key = f"curve[{quantity}] T={T} coarse={args.coarse} tol={args.curve_tolerance} budget={args.curve_budget}"
    key += " box-linear" if args.box_occupations else ""  # (" box": the earlier uniform-spread model)
    cache = json.loads(Path(args.cache).read_text()) if args.cache and Path(args.cache).exists() else {}
    if key not in cache:
        rows, steps, t0 = [], [], time.perf_counter()

        def record(level, n, values, errors):
            rows.append([n, float(values[quantity][0, 0, 0, 1]), float(errors[quantity][0, 0, 0, 1]),
                         time.perf_counter() - t0])
            logger.info("  %s level %d: %d k-points, xy = %.6g +- %.2g", quantity, level, n, rows[-1][1], rows[-1][2])

        def record_split(cost, changes):  # the result of every --max-kpoints between the levels
            steps.append([len(rows) - 1, rows[-1][0], cost, np.cumsum(changes[quantity][:, 0, 0, 0, 1]).tolist()])

        c = args.coarse
        with recording_splits(record_split):
            r = compute(model=model, quantities=[quantity], temperatures=[T], mus=[EF_FE], kmesh=(c, c, c),
                        tolerance=args.curve_tolerance, max_kpoints=args.curve_budget, on_level=record,
                        box_occupations=args.box_occupations)
        for row, h in zip(rows, r.attrs["history"]):  # the run's own stopping figures at each level
            row += [h["rel_error"], h.get("unresolved_fermi_cells", 0)]
        cache = json.loads(Path(args.cache).read_text()) if args.cache and Path(args.cache).exists() else {}
        cache[key], cache[key + " steps"] = rows, steps
        if args.cache:
            Path(args.cache).write_text(json.dumps(cache))
        return rows, steps
    return cache[key], cache.get(key + " steps")


def budget_curve(curve, steps, ref, end):
    """(k-points, relative error) of the run at every --max-kpoints budget below ``end``: each level's
    value plus the first m cell changes of its split (``steps``: level, k-points, k-points per cell,
    cumulative xy changes in the order a budget cut takes the cells), m = 0 ... all."""
    out = [(r[0], abs(r[1] / ref - 1)) for r in curve if r[0] < end]
    for level, n, cost, cum in steps:
        assert curve[level][0] == n, (level, n)
        base = curve[level][1]
        out += [(n + m * cost, abs((base + c) / ref - 1)) for m, c in enumerate(cum, 1) if n + m * cost < end]
    return sorted(out)


def run_curves(model, T, args):
    """Uniform meshes and adaptive level curves against the last level of each curve (the
    densest adaptive result: the reference where no uniform mesh can be, e.g. a 30 K shell)."""
    logger.info("\n=== T = %g K, mu = E_F = %.4f eV: adaptive level curves ===", T, EF_FE)
    ref_file = file_values(args.reference_file, T)[1] if args.reference_file else None
    files = uniform_files(args, T)  # denser uniform meshes run separately (e.g. under MPI)
    for col, q in enumerate(Q):
        if q not in args.curve_quantities:
            continue
        curve, steps = adaptive_curve(model, T, q, args)
        n_ref, ref, ref_err = curve[-1][:3]
        logger.info("%s reference: adaptive, last level, %d k-points: xy = %.6g +- %.2g (estimate, %.1e relative)",
                    q, n_ref, ref, ref_err, ref_err / abs(ref))
        if len(curve) > 2:  # how settled the reference is (a last level cut short by the budget adds
            # little, so the two levels before it count too): a verdict at a target near this is fragile
            drift = max(abs(r[1] / ref - 1) for r in curve[-3:-1])
            logger.info("  its two previous levels (%d, %d k-points) differ by up to %.1e relative%s", curve[-3][0],
                        curve[-2][0], drift, "  [comparable to a target: that verdict depends on the reference]"
                        if any(drift > t / 3 for t in args.targets) else "")
        if ref_file is not None:
            other = ref_file[col]
            logger.info("  %s: %.6g, relative difference %.2e", args.reference_file, other, abs(other / ref - 1))
            if args.reference_source == "file":
                ref = other
                logger.info("  errors below are against %s", args.reference_file)
        uni = []
        for n in args.uniform:
            v = _cached(args, f"uniform {n} T={T}", lambda: compute(
                model=model, quantities=Q, temperatures=[T], mus=[EF_FE], kmesh=(n, n, n)))
            uni.append((n**3, abs(v[col] / ref - 1)))
        for nk, v in files:
            uni.append((nk, abs(v[col] / ref - 1)))
        uni.sort()
        levels = curve if ref_file is not None and args.reference_source == "file" else curve[:-1]
        ada = [(r[0], abs(r[1] / ref - 1), r[2] / abs(ref)) for r in levels]
        logger.info("%-10s %10s %12s %12s", "method", "k-points", "err xy", "estimate")
        for n, e in uni:
            logger.info("%-10s %10d %12.2e", "uniform", n, e)
        for n, e, est in ada:
            logger.info("%-10s %10d %12.2e %12.2e", "adaptive", n, e, est)
        dense = budget_curve(curve, steps, ref, levels[-1][0] + 1) if steps else None
        if dense is None:
            logger.info("  (the cached curve lacks the results between its levels: rerun it for every budget)")
        else:
            logger.info("  every --max-kpoints budget up to %d k-points: %d runs (one per split cell)",
                        levels[-1][0], len(dense))
        for target in args.targets:
            report_needed(f"{q}_xy", uni, [r[:2] for r in ada], target)
            if dense is not None:
                report_needed(f"{q}_xy at every budget", uni, dense, target)
            report_tolerance_run(f"{q}_xy", uni, curve, ref, target)


def mpi_speedup(seed, args):
    """Wall time of the same adaptive CLI run with 1 and 2 MPI ranks of one thread each (the MPI
    scaling: WBENTROPY_THREADS=1), and with 1 rank using every core through its thread pool (the
    default without mpiexec), and peak RSS per rank; also the integration alone (the result's
    wall_time_s), without start-up and reading the model."""
    mpiexec = shutil.which("mpiexec")
    if mpiexec is None:
        logger.info("mpiexec not found: no speed-up measurement")
        return
    tmp = tempfile.mkdtemp()
    base = [sys.executable, "-m", "wbentropy.cli", "compute", "--w90", str(seed), "--kmesh", "8", "8", "8",
            "--temperature", "300", "--mu", str(EF_FE), "--quantities", "ahc,entropy_hall",
            "--tolerance", str(args.speedup_tolerance), "--no-progress"]
    times, integration = {}, {}
    layouts = {1: "1 rank x 1 thread", 2: "2 ranks x 1 thread", "pool": "1 rank x default threads"}
    for n in (1, 2, "pool"):
        best = np.inf
        env = dict(os.environ) if n == "pool" else dict(os.environ, WBENTROPY_THREADS="1")
        for rep in range(args.repeats):
            out = os.path.join(tmp, f"r{n}_{rep}.h5")
            ranks = 1 if n == "pool" else n
            cmd = [mpiexec, "-n", str(ranks), "/usr/bin/time", "-f", "peak_rss_kb %M"] + base + ["--out", out]
            t0 = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
            dt = time.perf_counter() - t0
            if proc.returncode != 0:
                logger.info("run failed: %s", proc.stderr[-2000:])
                return
            # one "peak_rss_kb N" per rank; the ranks' stderr lines may interleave, so search, not split lines
            rss = [int(x) / 1024 for x in re.findall(r"peak_rss_kb (\d+)", proc.stderr)]
            wall = float(Result.load(out).attrs["wall_time_s"])  # the integration alone (rank 0's clock)
            logger.info("%s, repeat %d: %.1f s (integration %.1f s), peak RSS per rank %s MB", layouts[n], rep, dt,
                        wall, ", ".join(f"{x:.0f}" for x in rss))
            if dt < best:
                best, integration[n] = dt, wall
        times[n] = best
    logger.info("1 -> 2 rank speed-up, one thread per rank (best of %d): %.2fx (integration alone: %.2fx; the rest, "
                "start-up and reading the model, %.1f s and %.1f s, does not shrink with ranks)", args.repeats,
                times[1] / times[2], integration[1] / integration[2], times[1] - integration[1],
                times[2] - integration[2])
    logger.info("1 rank x 1 thread -> 1 rank with its thread pool: %.2fx", times[1] / times["pool"])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--temperatures", nargs="+", type=float, default=[300.0, 30.0])
    p.add_argument("--uniform", nargs="+", type=int, default=[16, 24, 32, 48, 64, 96])
    p.add_argument("--tolerances", nargs="+", type=float, default=[0.1, 0.03, 0.01, 0.003])
    p.add_argument("--reference-mesh", type=int, default=0, help="uniform N^3 reference (0: adaptive)")
    p.add_argument("--reference-file", help="result file (wbentropy compute --out) holding the reference at "
                   "mu = E_F and each temperature, e.g. a dense uniform mesh run under mpiexec")
    p.add_argument("--uniform-file", nargs="+", default=[], help="with --curves: uniform-mesh result files "
                   "(wbentropy compute --out, e.g. 192^3 or 256^3 under mpiexec) added to the uniform curve")
    p.add_argument("--reference-source", choices=["curve", "file"], default="curve",
                   help="with --curves: errors against each curve's last level (curve) or --reference-file (file)")
    p.add_argument("--cache", help="JSON file memoising every run's values (rerun to add runs or change reference)")
    p.add_argument("--reference-tolerance", type=float, default=3e-4)
    p.add_argument("--reference-max-kpoints", type=int, default=6_000_000)
    p.add_argument("--adaptive-max-kpoints", type=int, default=3_000_000)
    p.add_argument("--coarse", type=int, default=8, help="coarse mesh of the adaptive runs (N^3 cells)")
    p.add_argument("--curves", action="store_true", help="one adaptive run per quantity, recorded level by level "
                   "and used as the reference (its last level), instead of runs at --tolerances")
    p.add_argument("--targets", nargs="+", type=float, default=[0.01, 0.001],
                   help="relative errors at which --curves compares the k-points needed")
    p.add_argument("--curve-tolerance", type=float, default=1e-3)
    p.add_argument("--curve-budget", type=int, default=20_000_000)
    p.add_argument("--curve-quantities", nargs="+", choices=Q, default=Q,
                   help="quantities whose curves --curves draws (e.g. one at a time, each with its own budget)")
    p.add_argument("--box-occupations", action="store_true",
                   help="--curves runs average f_n, s_n over each node's box (wbentropy compute --box-occupations)")
    p.add_argument("--joint", action="store_true", help="also run both quantities in one adaptive run")
    p.add_argument("--speedup-tolerance", type=float, default=0.1)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--skip-speedup", action="store_true")
    p.add_argument("--only-speedup", action="store_true")
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("wbentropy").setLevel(logging.WARNING)
    seed = material("Fe_Wannier90") / "Fe"
    model = load_model(w90=seed)
    if not args.only_speedup:
        uniform_all_temperatures(model, args)
    for T in ([] if args.only_speedup else args.temperatures):
        if args.curves:
            run_curves(model, T, args)
        else:
            run_T(model, T, args)
    if not args.skip_speedup:
        mpi_speedup(seed, args)


if __name__ == "__main__":
    main()
