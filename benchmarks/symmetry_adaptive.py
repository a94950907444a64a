"""Adaptive integration over the irreducible wedge vs the full zone, on the symmetrized shared Fe_sym model
(bcc Fe, M along -z, magnetic point group 4/mm'm', 16 operations; ../shared/data/Fe_sym_Wannier90).

    nice python benchmarks/symmetry_adaptive.py [--tolerance 0.01] [--temperature 300] [--mu 17.6]
        [--kmesh 4] [--quantities ahc] [--deltas 0.002 0.005 0.02 0.05] [--reference-tolerance 0.002]
        [--reference wedge|full] [--cache runs.json]

The model is WannierBerri's symmetrization of Fe_sym (projections Fe:sp3d2;t2g, magmom 0 0 -1), as
tests/test_symmetrize.py builds it, written once as a _tb.dat beside Fe_sym.win; every run passes
``symmetrize=True`` (the check of the symmetrization runs, the group is found from the .win).
Rows: the full-zone adaptive run (``symmetry_reduction=False``) and the wedge run for each step width
delta (a fraction of the shortest reciprocal vector, :data:`wbentropy.kspace.wedge.DEFAULT_DELTA_FRACTION`
patched), at ``--tolerance``; k-points diagonalised, wall time, sigma_xy of each quantity, the reported
relative error, and the true relative error max_ab |I_ab - ref_ab| / max_ab |ref_ab| per tensor.

The reference is an adaptive run at ``--reference-tolerance`` (default 2e-3, five times tighter than the
runs judged), computed once and kept in ``--cache``: over the wedge with the default delta
(``--reference wedge``, default: a full-zone run that tight costs ~10x more; the reduction itself is exact,
sum_k F = project(sum_k w F) to 1e-11 on symmetric uniform meshes, tests/test_symmetry_adaptive.py) or over
the full zone (``--reference full``); the table also gives the full-zone run's true error against it.
Everything is printed; nothing is asserted (tests/test_symmetry_adaptive.py holds the assertions).
"""
from __future__ import annotations

import _threads  # noqa: F401  (before numpy: the thread pool and single-threaded BLAS)

import argparse
import json
import logging
import time
from pathlib import Path

import numpy as np
from _data import material

import wbentropy.kspace.wedge as wedge_module
from wbentropy.api import compute
from wbentropy.io.load import load_model

PROJECTIONS = ["Fe:sp3d2;t2g"]
MAGMOM = [0.0, 0.0, -1.0]


def symmetrized_fe_sym(scratch: Path) -> Path:
    """Fe_sym_tb.dat (WannierBerri's symmetrization of the shared Fe_sym) beside Fe_sym.win; made once."""
    from wbentropy.io.tb import write_tb
    from wbentropy.io.win import read_win_structure
    from wbentropy.symmetry import _symmetrize_system, from_system_r

    tb = scratch / "Fe_sym_tb.dat"
    if tb.is_file():
        return tb
    src = material("Fe_sym_Wannier90")
    raw = load_model(w90=str(src / "Fe_sym"))
    structure = read_win_structure(win_file=src / "Fe_sym.win")
    system = _symmetrize_system(raw, structure=structure, projections=PROJECTIONS, magmom=np.array([MAGMOM]))
    scratch.mkdir(parents=True, exist_ok=True)
    write_tb(model=from_system_r(system, like=raw), path=tb)
    (scratch / "Fe_sym.win").write_text((src / "Fe_sym.win").read_text())
    return tb


def run(model, args, *, tolerance: float, reduction: bool, delta: float | None) -> dict:
    """One adaptive run; its k-points, time, tensors and reported errors."""
    if delta is not None:
        wedge_module.DEFAULT_DELTA_FRACTION = delta
    t0 = time.perf_counter()
    res = compute(model=model, quantities=args.quantities.split(","), temperatures=[args.temperature],
                  mus=[args.mu], kmesh=(args.kmesh,) * 3, tolerance=tolerance, symmetrize=True, magmom=MAGMOM,
                  projections=PROJECTIONS, symmetry_reduction=reduction, max_kpoints=args.max_kpoints)
    wall = time.perf_counter() - t0
    return {"kpoints": int(res.attrs["num_kpoints"]), "seconds": wall,
            "values": {q: res[q][0, 0].tolist() for q in res.quantities},
            "errors": {q: res.quantities[q].error[0, 0].tolist() for q in res.quantities},
            "estimated_rel_error": float(res.attrs["estimated_rel_error"]), "converged": bool(res.attrs["converged"])}


def cached(cache: dict, key: str, make) -> dict:
    if key not in cache:
        cache[key] = make()
    return cache[key]


def true_error(values: list, reference: list) -> float:
    v, r = np.asarray(values), np.asarray(reference)
    return float(np.max(np.abs(v - r)) / np.max(np.abs(r)))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tolerance", type=float, default=0.01)
    p.add_argument("--temperature", type=float, default=300.0)
    p.add_argument("--mu", type=float, default=17.6)
    p.add_argument("--kmesh", type=int, default=4)
    p.add_argument("--quantities", default="ahc")
    p.add_argument("--deltas", type=float, nargs="+", default=[wedge_module.DEFAULT_DELTA_FRACTION])
    p.add_argument("--reference-tolerance", type=float, default=2e-3)
    p.add_argument("--reference", choices=("wedge", "full"), default="wedge")
    p.add_argument("--max-kpoints", type=int, default=50_000_000)
    p.add_argument("--scratch", default="/tmp/wbentropy_symmetry_adaptive")
    p.add_argument("--cache", default=None, help="JSON file keeping the runs (the reference above all)")
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING)
    model = load_model(tb=symmetrized_fe_sym(Path(args.scratch)))
    cache_path = Path(args.cache) if args.cache else None
    cache = json.loads(cache_path.read_text()) if cache_path and cache_path.is_file() else {}
    base = f"T={args.temperature:g};mu={args.mu:g};mesh={args.kmesh};q={args.quantities}"
    default_delta = wedge_module.DEFAULT_DELTA_FRACTION

    def save():
        if cache_path:
            cache_path.write_text(json.dumps(cache, indent=1))

    rows = []
    for d in args.deltas:
        rows.append((f"wedge, delta {d:g} |b|", cached(
            cache, f"{base};wedge;delta={d:g};tol={args.tolerance:g}",
            lambda d=d: run(model, args, tolerance=args.tolerance, reduction=True, delta=d))))
        save()
    rows.insert(0, ("full zone", cached(cache, f"{base};full;tol={args.tolerance:g}",
                                        lambda: run(model, args, tolerance=args.tolerance, reduction=False,
                                                    delta=None))))
    save()
    ref = cached(cache, f"{base};reference;{args.reference};delta={default_delta:g};tol={args.reference_tolerance:g}",
                 lambda: run(model, args, tolerance=args.reference_tolerance, reduction=args.reference == "wedge",
                             delta=default_delta))
    save()
    wedge_module.DEFAULT_DELTA_FRACTION = default_delta
    names = args.quantities.split(",")
    print(f"Fe_sym symmetrized (4/mm'm', 16 operations), T = {args.temperature:g} K, mu = {args.mu:g} eV, coarse "
          f"{args.kmesh}^3, tolerance {args.tolerance:g}; reference: {args.reference} adaptive at tolerance "
          f"{args.reference_tolerance:g} ({ref['kpoints']} k-points, {ref['seconds']:.0f} s): "
          + ", ".join(f"{q}_xy = {ref['values'][q][0][1]:.2f}" for q in names))
    head = f"{'run':24s} {'k-points':>10s} {'ratio':>6s} {'time s':>8s}"
    for q in names:
        head += f" {q + '_xy':>16s} {'est.':>7s} {'true':>7s}"
    print(head)
    full = rows[0][1]["kpoints"]
    for label, r in rows:
        line = f"{label:24s} {r['kpoints']:>10d} {full / r['kpoints']:>6.1f} {r['seconds']:>8.1f}"
        for q in names:
            est = np.max(r["errors"][q]) / np.max(np.abs(r["values"][q]))
            line += (f" {r['values'][q][0][1]:>16.3f} {est:>7.4f}"
                     f" {true_error(r['values'][q], ref['values'][q]):>7.4f}")
        print(line)


if __name__ == "__main__":
    main()
