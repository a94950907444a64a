"""Neumann's projection and the irreducible k-points of a symmetrized model: the tables of docs/symmetry.md.

The model: the shared ``Fe_sym`` made symmetric by WannierBerri's symmetrizer (4/mm'm', M along -z), written
as Fe_sym_tb.dat beside Fe_sym.win in a scratch folder, and run with ``symmetrize=True`` (accepted by the band
check: it already is symmetric).

1. Every quantity of the catalogue on the full N^3 mesh (``symmetry_reduction=False``): the residual removed by
   the projection, max |T - P T| / max |T| (for tensors the group forbids entirely: / max |T| of the raw,
   unsymmetrized Fe_sym), and max |T_irreducible - T_full| / max |T_full| (same scale).
2. For each mesh: k-points diagonalised with and without the reduction, their ratio, and the wall times
   (ahc and entropy_hall, 300 K, mu = 17.6 eV, one thread).

    python benchmarks/symmetry_reduction.py --mesh 12 --meshes 16 24 32 48
"""
from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np

from _data import material

PROJ = ["Fe:sp3d2;t2g"]
SYM = dict(symmetrize=True, magmom=[0, 0, -1], projections=PROJ)


def symmetric_fe_sym(src: Path) -> tuple:
    """(raw model, symmetric model) with the symmetric one's Fe_sym_tb.dat written beside Fe_sym.win."""
    from wbentropy.io.load import load_model
    from wbentropy.io.tb import write_tb
    from wbentropy.io.win import read_win_structure
    from wbentropy.symmetry import _symmetrize_system, from_system_r

    raw = load_model(w90=str(src / "Fe_sym"))
    system = _symmetrize_system(raw, structure=read_win_structure(win_file=src / "Fe_sym.win"), projections=PROJ,
                                magmom=np.array([[0.0, 0.0, -1.0]]))
    out = src / "symmetric"
    out.mkdir(exist_ok=True)
    write_tb(model=from_system_r(system, like=raw), path=out / "Fe_sym_tb.dat")
    (out / "Fe_sym.win").write_text((src / "Fe_sym.win").read_text())
    return raw, load_model(tb=out / "Fe_sym_tb.dat")


def every_quantity(raw, model, n: int) -> None:
    from wbentropy.api import compute
    from wbentropy.quantities import QUANTITIES

    run = dict(quantities=list(QUANTITIES), temperatures=[300.0], mus=[17.4, 17.6], kmesh=(n, n, n), tau_fs=10.0,
               omegas=[0.5, 1.0], threads=1)
    scale_raw = compute(model=raw, **run)
    t0 = time.perf_counter()
    full = compute(model=model, **run, **SYM, symmetry_reduction=False)
    t1 = time.perf_counter()
    reduced = compute(model=model, **run, **SYM)
    t2 = time.perf_counter()
    print(f"\n{n}^3, T = 300 K, mu = 17.4, 17.6 eV: full mesh {full.attrs['num_kpoints']} k-points {t1 - t0:.1f} s, "
          f"irreducible {reduced.attrs['num_kpoints']} k-points {t2 - t1:.1f} s")
    print("| quantity | max abs T (full) | residual of P / max abs T | irreducible - full / max abs T |")
    print("|---|---|---|---|")
    for name in QUANTITIES:
        size = np.max(np.abs(full[name]))
        forbidden = size == 0.0
        scale = np.max(np.abs(scale_raw[name])) if forbidden else size
        residual = full.quantities[name].attrs["symmetry_residual"] / scale
        diff = np.max(np.abs(reduced[name] - full[name])) / scale
        note = " (forbidden: / raw model's)" if forbidden else ""
        print(f"| `{name}` | {size:.4g} {full.quantities[name].units} | {residual:.1e}{note} | {diff:.1e} |")


def meshes(model, sizes) -> None:
    from wbentropy.api import compute

    print("\n| mesh | k-points full | irreducible | ratio | wall full (s) | wall irreducible (s) "
          "| max rel. difference |")
    print("|---|---|---|---|---|---|---|")
    for n in sizes:
        run = dict(model=model, quantities=["ahc", "entropy_hall"], temperatures=[300.0], mus=[17.6],
                   kmesh=(n, n, n), threads=1, **SYM)
        t0 = time.perf_counter()
        full = compute(**run, symmetry_reduction=False)
        t1 = time.perf_counter()
        reduced = compute(**run)
        t2 = time.perf_counter()
        diff = max(np.max(np.abs(reduced[q] - full[q])) / np.max(np.abs(full[q])) for q in ("ahc", "entropy_hall"))
        nf, nr = full.attrs["num_kpoints"], reduced.attrs["num_kpoints"]
        print(f"| {n}^3 | {nf} | {nr} | {nf / nr:.1f} | {full.attrs['wall_time_s']:.2f} "
              f"| {reduced.attrs['wall_time_s']:.2f} | {diff:.1e} |  (with symmetrization: {t1 - t0:.1f} s, "
              f"{t2 - t1:.1f} s)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mesh", type=int, default=12, help="mesh of the every-quantity table (default 12)")
    p.add_argument("--meshes", type=int, nargs="*", default=[16, 24, 32, 48], help="meshes of the k-point table")
    args = p.parse_args()
    warnings.simplefilter("ignore")  # Fermi-surface sampling warnings of the coarse meshes
    raw, model = symmetric_fe_sym(material("Fe_sym_Wannier90"))
    every_quantity(raw, model, args.mesh)
    meshes(model, args.meshes)


if __name__ == "__main__":
    main()
