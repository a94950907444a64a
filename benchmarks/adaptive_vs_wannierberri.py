"""Wall time of a certified adaptive sigma^e_xy against WannierBerri's uniform mesh of equal true error, one core each.

    python benchmarks/adaptive_vs_wannierberri.py [--tolerances 0.02 0.01] [--wb-meshes 48 64] [--reps 1]

The calculation (issue 28): bcc Fe (``shared/data/Fe_Wannier90``, ``--w90``), sigma_xy (AHC) at T = 300 K,
mu = E_F = 17.6255 eV, true errors against the uniform 400^3 mesh (453.057 S/cm).  Every run is its own
process on one core (``OMP/OPENBLAS/MKL/NUMBA_NUM_THREADS=1``, ``WBENTROPY_THREADS=1``, no MPI) under
``/usr/bin/time -v`` ("cpu" = user + system time, robust against other load for a single-threaded process),
the runs interleaved over ``--reps`` repetitions:

* wbentropy, adaptive: ``compute(quantities=["ahc"], kmesh=(8, 8, 8), tolerance=eps)`` for each ``--tolerances``
  (as ``wbentropy compute --w90 Fe --kmesh 8 8 8 --temperature 300 --mu 17.6255 --quantities ahc
  --tolerance eps``): k-points, reported and true error;
* WannierBerri, uniform N^3 (``--wb-meshes``; the code path of ``compare_peers.py``: ``wannierberri.run`` with
  its ``AHC`` calculator, ``Grid(NKdiv, NKFFT)``, no symmetry, no refinement, ``parallel=False``).  Its AHC is a
  T = 0 Fermi-sea sum; its finite-T value is its own route, a ``FermiDiracSmoother(T = 300 K)`` over an
  ``Efermi`` grid (E_F +- ``--wb-window`` eV, step ``--wb-step`` eV): sigma(300 K) = int sigma_0(E) (-f'(E)) dE,
  exact for a Fermi-sea quantity.  Its value is compared with wbentropy's uniform N^3 at 300 K (untimed,
  2 threads): equal to the smoothing's accuracy, so WannierBerri's true error on N^3 is wbentropy's;
* the uniform mesh of equal true error: the meshes from which every Gamma-centred N^3 stays within 1e-2, 1e-3
  and 3e-4 of the reference are 112^3, 256^3 and 384^3 (docs/adaptive.md, "Measured figures": N = 16 ... 140
  every 4, 144, 160, 192, 256, 384; a single mesh can be lucky: 64^3 is 1.1e-3 off, 100^3 2.9e-2).  For each
  adaptive run, WannierBerri's time on the smallest such mesh whose bound is at or below the run's true error
  is its measured CPU time per k-point (the densest ``--wb-meshes``) times N^3, plus its set-up; a true error
  below 3e-4 needs a mesh beyond 384^3, and 400^3 (the reference itself) gives a lower bound.

Nothing is asserted.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
EF_FE = 17.6255
T_K = 300.0
REFERENCE = 453.057  # S/cm, sigma_xy(300 K) from the uniform 400^3 mesh (issue 28, adaptive_certification.py)
#: (error bound, N): every Gamma-centred N'^3 with N' >= N is within the bound of the 400^3 reference at 300 K
#: (docs/adaptive.md, "Measured figures"; 400^3 is the reference itself: a lower bound below 3e-4)
UNIFORM_STAYS_WITHIN = ((1e-2, 112), (1e-3, 256), (3e-4, 384), (0.0, 400))
ONE_CORE = {v: "1" for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS",
                             "WBENTROPY_THREADS")}


# ----------------------------------------------------------------------------- workers (one process each)
def _worker_adaptive(seed: str, tol: str, out: str) -> None:
    import wbentropy

    wbentropy.configure_threads()
    from wbentropy.api import compute
    from wbentropy.io.load import load_model

    t0 = time.perf_counter()
    model = load_model(w90=seed)
    t1 = time.perf_counter()
    r = compute(model=model, quantities=["ahc"], temperatures=[T_K], mus=[EF_FE], kmesh=(8, 8, 8),
                tolerance=float(tol))
    t2 = time.perf_counter()
    Path(out).write_text(json.dumps({
        "load_s": t1 - t0, "ksum_s": t2 - t1, "kpoints": int(r.attrs["num_kpoints"]),
        "value": float(r["ahc"][0, 0, 0, 1]), "error": float(r.quantities["ahc"].error[0, 0, 0, 1]),
        "estimated_rel_error": float(r.attrs["estimated_rel_error"])}))


def _worker_uniform(seed: str, n: str, out: str) -> None:
    import wbentropy

    wbentropy.configure_threads()
    from wbentropy.api import compute
    from wbentropy.io.load import load_model

    r = compute(model=load_model(w90=seed), quantities=["ahc"], temperatures=[T_K], mus=[EF_FE], kmesh=(int(n),) * 3)
    Path(out).write_text(json.dumps({"value": float(r["ahc"][0, 0, 0, 1])}))


def _worker_wannierberri(seed: str, n: str, window: str, step: str, out: str) -> None:
    """WannierBerri's AHC on the Gamma-centred n^3 mesh (``compare_peers.wannierberri_uniform``: serial, no
    symmetry, no refinement), smoothed to 300 K by its FermiDiracSmoother."""
    import numpy as np
    from compare_peers import wannierberri_uniform
    from wannierberri.calculators.static import AHC
    from wannierberri.smoother import FermiDiracSmoother

    n, w, dE = int(n), float(window), float(step)
    efermi = EF_FE + dE * np.arange(-round(w / dE), round(w / dE) + 1)
    calc = AHC(Efermi=efermi, smoother=FermiDiracSmoother(efermi, T_K), save_mode="")
    result, load_s, ksum_s = wannierberri_uniform(seed, n, {"ahc": calc})
    i = int(np.argmin(np.abs(efermi - EF_FE)))
    res = result.results["ahc"]
    Path(out).write_text(json.dumps({"load_s": load_s, "ksum_s": ksum_s, "kpoints": n ** 3,
                                     "value": float(res.dataSmooth[i][2]) * 1e-2,  # (yz, zx, xy) S/m -> S/cm
                                     "value_T0": float(res.data[i][2]) * 1e-2}))


# ----------------------------------------------------------------------------- driver
def _equal_error_mesh(true_error: float) -> int:
    """The smallest N of :data:`UNIFORM_STAYS_WITHIN` whose meshes all stay within ``true_error``."""
    return next(n for bound, n in UNIFORM_STAYS_WITHIN if bound <= true_error)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tolerances", type=float, nargs="+", default=[0.02, 0.01])
    p.add_argument("--wb-meshes", type=int, nargs="+", default=[48, 64], help="WannierBerri's timed N^3 meshes")
    p.add_argument("--wb-window", type=float, default=0.3, help="half-width (eV) of WannierBerri's Efermi grid")
    p.add_argument("--wb-step", type=float, default=0.002, help="step (eV) of WannierBerri's Efermi grid")
    p.add_argument("--reps", type=int, default=1, help="interleaved repetitions (median reported)")
    p.add_argument("--workdir", default=None, help="scratch folder (default: a new temp folder)")
    p.add_argument("--json", default=None, help="keep every measurement in this JSON file (a rerun reuses it)")
    p.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        kind, *rest = args.worker
        {"adaptive": _worker_adaptive, "uniform": _worker_uniform, "wannierberri": _worker_wannierberri}[kind](*rest)
        return 0

    sys.path.insert(0, str(HERE))
    from compare_peers import _timed

    work = Path(args.workdir or tempfile.mkdtemp(prefix="adaptive_vs_wb_"))
    os.environ.setdefault("WBENTROPY_BENCH_TMP", str(work))
    from _data import material

    seed = str(material("Fe_Wannier90") / "Fe")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    me = [sys.executable, str(Path(__file__).resolve()), "--worker"]
    store = Path(args.json) if args.json else None
    runs = json.loads(store.read_text()) if store and store.is_file() else {}

    def run(key: str, cmd: list, one_core: bool = True) -> dict:
        if key not in runs:
            out = work / "out.json"
            r = _timed(me + cmd + [str(out)], env=dict(env, **ONE_CORE) if one_core else env)
            r.pop("stdout", None)
            r.update(json.loads(out.read_text()))
            runs[key] = r
            if store:
                store.write_text(json.dumps(runs, indent=1))
        return runs[key]

    print(f"# Fe sigma_xy, {T_K:g} K, mu = {EF_FE} eV, reference {REFERENCE} S/cm (400^3); one core each; "
          f"load average {os.getloadavg()[0]:.2f} at start")
    for rep in range(args.reps):
        for tol in args.tolerances:
            r = run(f"adaptive {tol:g} #{rep}", ["adaptive", seed, str(tol)])
            print(f"  rep {rep + 1} adaptive {tol:g}: {r['kpoints']} k-points, cpu {r['cpu_s']:.1f} s", flush=True)
        for n in args.wb_meshes:
            r = run(f"wannierberri {n} #{rep}", ["wannierberri", seed, str(n), str(args.wb_window), str(args.wb_step)])
            print(f"  rep {rep + 1} WannierBerri {n}^3: cpu {r['cpu_s']:.1f} s", flush=True)
    print(f"# load average {os.getloadavg()[0]:.2f} at end")

    def med(key: str, field: str) -> float:
        return statistics.median(runs[f"{key} #{i}"][field] for i in range(args.reps))

    print("\n| run | k-points | wall s | cpu s | sigma_xy (S/cm) | reported error | true error |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for tol in args.tolerances:
        r, k = runs[f"adaptive {tol:g} #0"], f"adaptive {tol:g}"
        print(f"| wbentropy adaptive, --tolerance {tol:g} | {r['kpoints']} | {med(k, 'wall_s'):.1f} | "
              f"{med(k, 'cpu_s'):.1f} | {r['value']:.3f} | {abs(r['error']) / abs(r['value']):.1e} | "
              f"{abs(r['value'] - REFERENCE) / REFERENCE:.1e} |")
    for n in args.wb_meshes:
        r, k = runs[f"wannierberri {n} #0"], f"wannierberri {n}"
        check = run(f"uniform {n}", ["uniform", seed, str(n)], one_core=False)["value"]
        print(f"| WannierBerri uniform {n}^3 (wbentropy's uniform {n}^3 at 300 K: {check:.3f}) | {n ** 3} | "
              f"{med(k, 'wall_s'):.1f} | {med(k, 'cpu_s'):.1f} | {r['value']:.3f} | — | "
              f"{abs(r['value'] - REFERENCE) / REFERENCE:.1e} |")
    dense = max(args.wb_meshes)
    k = f"wannierberri {dense}"
    setup, per_k = med(k, "load_s"), (med(k, "cpu_s") - med(k, "load_s")) / dense ** 3
    print(f"\nWannierBerri: {1e3 * per_k:.3f} ms CPU per k-point ({dense}^3, {T_K:g} K smoother), set-up {setup:.1f} s")
    for bound, n in UNIFORM_STAYS_WITHIN[:-1]:
        print(f"  every mesh from {n}^3 within {bound:g}: WannierBerri {setup + per_k * n ** 3:.0f} s CPU")
    for tol in args.tolerances:
        r = runs[f"adaptive {tol:g} #0"]
        true = abs(r["value"] - REFERENCE) / REFERENCE
        n = _equal_error_mesh(true)
        wb = setup + per_k * n ** 3
        bound = "at least " if n == UNIFORM_STAYS_WITHIN[-1][1] else ""
        ours = med(f"adaptive {tol:g}", "cpu_s")
        print(f"--tolerance {tol:g}: true error {true:.1e} -> uniform {n}^3 ({n ** 3} k-points); WannierBerri "
              f"{bound}{wb:.0f} s CPU against wbentropy {ours:.0f} s: {bound}{wb / ours:.0f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
