"""wbentropy vs WannierBerri vs postw90 on the same Fe calculation, side by side.

    python benchmarks/compare_peers.py --meshes 32 64 --reps 3     # the full comparison
    python benchmarks/compare_peers.py --meshes 16 --reps 1        # smoke run (~1 min)

The calculation: bcc Fe (``shared/data/Fe_Wannier90``, 18 Wannier functions), anomalous
Hall conductivity at E_F = 17.6255 eV on the Gamma-centred N^3 mesh k = i/N, no symmetry,
no refinement.  Each run is its own process, timed by ``/usr/bin/time -v`` (wall time,
peak resident memory), and the runs are interleaved A/B/C/D, A/B/C/D, ... over the
repetitions so that a change in machine load hits every code alike:

A, B  wbentropy (Python API, ``ahc`` + ``entropy_hall`` at T = 0 and 300 K in one pass),
      1 rank (its default: a pool of one thread per core, single-threaded BLAS), and 2 ranks
      under ``mpiexec -n 2`` (one thread each); A1 is 1 rank with one thread
      (``WBENTROPY_THREADS=1``: one core, single-threaded BLAS, for the record);
C     WannierBerri serial: ``wannierberri.run`` with its ``AHC`` calculator, the same
      Gamma-centred grid (``Grid(NKdiv, NKFFT)`` with NKdiv * NKFFT = N), no refinement,
      no symmetrisation, ``parallel=False``;
D     Debian's ``postw90.x`` (Wannier90 3.1): ``berry = true``, ``berry_task = ahc``,
      ``berry_kmesh = N N N``, ``berry_curv_adpt_kmesh = 1`` (no adaptive refinement),
      ``fermi_energy = E_F``, ``use_ws_distance = true``, ``transl_inv = true``, reading the
      shared ``Fe.chk`` (unformatted; postw90 3.1 reads it as is) with ``Fe.eig``, ``Fe.mmn``.

Checks.  WannierBerri's ``AHC`` and postw90's ``berry_task = ahc`` are T = 0 Fermi-sea sums
with a step occupation (WannierBerri: E <= E_F occupied, groups of bands within 1e-4 eV
together; postw90: E < E_F); neither smears, so wbentropy's T = 0 value is compared:
* with WannierBerri (both read Fe.chk/.mmn through WannierBerri's reader): 1e-6 relative;
* with postw90 on the same real-space model: postw90 builds H(R), r(R) itself from
  Fe.chk/.mmn, differently from WannierBerri (position matrix, MDRS), which moves the AHC by
  ~1e-3 relative (shown for information).  So wbentropy is also run (untimed) on the model
  that Debian's ``wannier90.x`` writes from the same Fe.chk (``restart = plot``,
  ``write_tb``, ``use_ws_distance``), and compared with postw90 to 1e-4 S/cm (its printed
  precision) plus 1e-5 relative.  The 300 K AHC and entropy Hall values of the timed
  wbentropy pass are printed for the record.

Timings: "wall" is the whole process (imports, reading Fe.chk/.mmn, the k-sum) and "cpu"
its user + system time (robust against other load for single-threaded codes, but it adds
up BLAS threads); "k-sum" is the time inside the process spent on the mesh (wbentropy
``compute``, WannierBerri ``run``, both wall time; for postw90 its "Total Execution Time",
which is CPU time and includes its set-up).  Every code runs with the machine's default BLAS threads; wbentropy with 2
ranks gives each rank cores/2 threads.  The peak memory of an ``mpiexec`` run is that of
its largest process.

Per-k cost of the production run: the wall time per k-point of wbentropy's k-sum (1 rank,
default threads) against the single-threaded batched ``eigh`` below (numpy runs a batched
``eigh`` on one core: that is the irreducible work as numpy does it).

Per-k cost (robust even on a busy machine: CPU time of one single-threaded process, best of
several interleaved passes): the time per k-point of wbentropy's batch evaluation (Fourier sum, eigh,
rotations, Berry curvature, occupations for both quantities and temperatures) against
batched ``numpy.linalg.eigh`` of the same 18x18 matrices H(k), and its components.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
EF_FE = 17.6255
TEMPERATURES = (0.0, 300.0)
POSTW90 = "/usr/bin/postw90.x"
WANNIER90 = "/usr/bin/wannier90.x"
TIME = "/usr/bin/time"


# ----------------------------------------------------------------------------- workers
def _worker_wbentropy(seed: str, n: int, out: str) -> None:
    import wbentropy

    wbentropy.configure_threads()  # first: BLAS threads per MPI rank, before numpy
    from wbentropy.api import compute
    from wbentropy.io.load import load_model
    from wbentropy.integrate.parallel import world

    t0 = time.perf_counter()
    model = load_model(w90=seed)
    t1 = time.perf_counter()
    par = world()
    res = compute(model=model, quantities=["ahc", "entropy_hall"], temperatures=list(TEMPERATURES), mus=[EF_FE],
                  kmesh=(n, n, n), parallel=par)
    t2 = time.perf_counter()
    if par.is_root:
        pv = lambda t: [float(t[1, 2]), float(t[2, 0]), float(t[0, 1])]  # noqa: E731
        Path(out).write_text(json.dumps({
            "load_s": t1 - t0, "ksum_s": t2 - t1, "ahc_T0": pv(res["ahc"][0, 0]), "ahc_300": pv(res["ahc"][1, 0]),
            "entropy_hall_300": pv(res["entropy_hall"][1, 0]), "ranks": par.size}))


def _worker_wbentropy_tb(folder: str, n: int, out: str) -> None:
    """T = 0 AHC of the real-space model written by wannier90.x (Fe_tb.dat + Fe_wsvec.dat)."""
    import wbentropy

    wbentropy.configure_threads()
    from wbentropy.api import compute
    from wbentropy.io.load import load_model

    model = load_model(tb=Path(folder) / "Fe_tb.dat", wsvec=Path(folder) / "Fe_wsvec.dat")
    t = compute(model=model, quantities=["ahc"], temperatures=[0.0], mus=[EF_FE], kmesh=(n, n, n))["ahc"][0, 0]
    Path(out).write_text(json.dumps({"ahc_T0": [float(t[1, 2]), float(t[2, 0]), float(t[0, 1])]}))


def wannierberri_uniform(seed: str, n: int, calculators: dict):
    """WannierBerri's ``run`` of ``calculators`` on exactly the Gamma-centred n^3 mesh, serial, no symmetry, no
    refinement; returns (result, set-up seconds, k-sum seconds).

    ``Grid(NKdiv=d, NKFFT=f)`` evaluates every k = j/(d f) once; f is the largest divisor of n up to 16.
    """
    import wannierberri as wb

    t0 = time.perf_counter()
    data = wb.w90files.WannierData.from_w90_files(seedname=seed, files=("chk", "eig", "mmn"),
                                                  readnnkp=os.path.isfile(seed + ".nnkp"))
    system = wb.system.System_R.from_wannierdata(data, berry=True, symmetrize=False, fftlib="numpy", silent=True)
    t1 = time.perf_counter()
    fft = max(f for f in range(1, min(n, 16) + 1) if n % f == 0)
    grid = wb.Grid(system, NKdiv=n // fft, NKFFT=fft, use_symmetry=False)
    with tempfile.TemporaryDirectory(prefix="wb_peer_") as tmp:
        result = wb.run(system, grid=grid, calculators=calculators,
                        adpt_num_iter=0, use_irred_kpt=False, symmetrize=False, parallel=False,
                        fout_name=os.path.join(tmp, "result"), file_Klist_path=os.path.join(tmp, "klist"),
                        parameters_K={"fftlib": "numpy"}, print_progress_step_time=1e9)
    return result, t1 - t0, time.perf_counter() - t1


def _worker_wannierberri(seed: str, n: int, out: str) -> None:
    """WannierBerri's T = 0 AHC on the n^3 mesh (:func:`wannierberri_uniform`).  ``AHC`` returns (sigma_yz,
    sigma_zx, sigma_xy) in S/m."""
    import numpy as np
    from wannierberri.calculators.static import AHC

    result, load_s, ksum_s = wannierberri_uniform(seed, n, {"ahc": AHC(Efermi=np.array([EF_FE]), save_mode="")})
    ahc_s_per_cm = result.results["ahc"].data[0] * 1e-2
    Path(out).write_text(json.dumps({"load_s": load_s, "ksum_s": ksum_s,
                                     "ahc_T0": [float(x) for x in ahc_s_per_cm]}))


def _worker_per_k(seed: str, n: int, out: str) -> None:
    """Per-k-point costs inside one process (best of several interleaved passes)."""
    import wbentropy

    wbentropy.configure_threads()
    import numpy as np

    from wbentropy.kspace.geometry import band_geometry
    from wbentropy.evaluate import Evaluator
    from wbentropy.integrate.uniform import UniformMesh
    from wbentropy.io.load import load_model
    from wbentropy.quantities import Options, get_quantities

    model = load_model(w90=seed)
    ev = Evaluator(model=model, quantities=get_quantities(["ahc", "entropy_hall"]), temperatures=list(TEMPERATURES),
                   mus=[EF_FE], options=Options())
    mesh = UniformMesh((n, n, n))
    nk = min(ev.batch_size, mesh.size)
    k = mesh.points(0, nk)
    wg = ev.interp(k)
    H = np.ascontiguousarray(wg.H)
    steps = {
        "eigh": lambda: np.linalg.eigh(H),
        "fourier": lambda: ev.interp(k),
        "eigh_and_rotations": lambda: band_geometry(wg),
        "geometry_and_berry_curvature": lambda: band_geometry(wg).berry_curvature,
        "batch": lambda: ev.batch_sum(k),
    }
    best = {name: float("inf") for name in steps}
    for _ in range(7):
        for name, f in steps.items():
            t0 = time.process_time()  # CPU time of this single-threaded process: robust to other load
            f()
            best[name] = min(best[name], time.process_time() - t0)
    ms = {name: 1e3 * t / nk for name, t in best.items()}
    parts = {"fourier": ms["fourier"], "eigh": ms["eigh"],
             "rotations": ms["eigh_and_rotations"] - ms["eigh"],
             "berry_curvature": ms["geometry_and_berry_curvature"] - ms["eigh_and_rotations"],
             "occupations_and_rest": ms["batch"] - ms["fourier"] - ms["geometry_and_berry_curvature"]}
    Path(out).write_text(json.dumps({"nk": nk, "num_wann": model.num_wann, "nR": int(model.R.shape[0]),
                                     "ms_per_k": ms, "parts_ms_per_k": parts}))


# ----------------------------------------------------------------------------- driver
def _postw90_dir(root: Path, seed: Path, n: int) -> Path:
    d = root / f"postw90_{n}"
    d.mkdir(parents=True, exist_ok=True)
    for ext in ("chk", "eig", "mmn"):
        link = d / f"Fe.{ext}"
        if not link.exists():
            link.symlink_to(Path(f"{seed}.{ext}").resolve())
    win = Path(f"{seed}.win").read_text()
    win = re.sub(r"(?im)^\s*(berry\w*|fermi_energy|use_ws_distance|transl_inv)\s*[=:].*$", "", win)
    win += ("\n! compare_peers.py\nfermi_energy = %.6f\nberry = true\nberry_task = ahc\n"
            "berry_kmesh = %d %d %d\nberry_curv_adpt_kmesh = 1\nuse_ws_distance = true\ntransl_inv = true\n"
            % (EF_FE, n, n, n))
    (d / "Fe.win").write_text(win)
    return d


def _wannier90_tb(root: Path, seed: Path) -> Path:
    """Fe_tb.dat + Fe_wsvec.dat written by Debian's wannier90.x from the shared Fe.chk (restart = plot,
    no new Wannierisation): the real-space H(R), r(R) that postw90 builds for itself."""
    d = root / "wannier90_tb"
    if (d / "Fe_tb.dat").exists():
        return d
    d.mkdir(parents=True, exist_ok=True)
    shutil.copy(f"{seed}.chk", d / "Fe.chk")  # a copy: wannier90.x must not touch the shared file
    for ext in ("eig", "mmn", "nnkp", "amn"):
        if Path(f"{seed}.{ext}").exists():
            (d / f"Fe.{ext}").symlink_to(Path(f"{seed}.{ext}").resolve())
    win = re.sub(r"(?im)^\s*(restart|write_tb|write_hr|use_ws_distance|transl_inv)\s*[=:].*$", "",
                 Path(f"{seed}.win").read_text())
    (d / "Fe.win").write_text(win + "\nrestart = plot\nwrite_tb = true\nwrite_hr = true\nuse_ws_distance = true\n")
    subprocess.run([WANNIER90, "Fe"], cwd=d, check=True, capture_output=True)
    if not (d / "Fe_tb.dat").exists():
        raise RuntimeError(f"wannier90.x wrote no Fe_tb.dat in {d}")
    return d


def _timed(cmd, *, cwd=None, env=None) -> dict:
    """Run ``cmd`` under /usr/bin/time -v; wall seconds and peak RSS (MB)."""
    t0 = time.perf_counter()
    proc = subprocess.run([TIME, "-v"] + cmd, cwd=cwd, env=env, capture_output=True, text=True)
    wall_py = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    m = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", proc.stderr)
    wall = (int(m.group(1) or 0) * 3600 + int(m.group(2)) * 60 + float(m.group(3))) if m else wall_py
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    cpu = sum(float(x) for x in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", proc.stderr))
    return {"wall_s": wall, "cpu_s": cpu, "rss_mb": int(rss.group(1)) / 1024 if rss else float("nan"),
            "stdout": proc.stdout}


def _run_tool(tool: str, *, seed: Path, n: int, work: Path, env: dict) -> dict:
    out = work / f"{tool}_{n}.json"
    out.unlink(missing_ok=True)
    me = [sys.executable, str(Path(__file__).resolve())]  # the workers below
    if tool == "wbentropy_1":
        r = _timed(me + ["--worker", "wbentropy", str(seed), str(n), str(out)], env=env)
    elif tool == "wbentropy_1t":
        r = _timed(me + ["--worker", "wbentropy", str(seed), str(n), str(out)], env=dict(env, WBENTROPY_THREADS="1"))
    elif tool == "wbentropy_2":
        r = _timed([shutil.which("mpiexec") or "mpiexec", "-n", "2"] + me
                   + ["--worker", "wbentropy", str(seed), str(n), str(out)], env=env)
    elif tool == "wannierberri":
        r = _timed(me + ["--worker", "wannierberri", str(seed), str(n), str(out)], env=env)
    elif tool == "postw90":
        d = _postw90_dir(work, seed, n)
        (d / "Fe.wpout").unlink(missing_ok=True)
        r = _timed([POSTW90, "Fe"], cwd=d, env=env)
        text = (d / "Fe.wpout").read_text()
        m = re.search(r"AHC \(S/cm\)\s+x\s+y\s+z\s*\n\s*=+\s+(\S+)\s+(\S+)\s+(\S+)", text)
        t = re.search(r"Total Execution Time\s+([\d.]+)", text)
        if m is None:
            raise RuntimeError(f"no AHC in {d / 'Fe.wpout'}:\n{text[-2000:]}")
        out.write_text(json.dumps({"ahc_T0": [float(x) for x in m.groups()],
                                   "ksum_s": float(t.group(1)) if t else float("nan")}))
    else:
        raise ValueError(tool)
    r.update(json.loads(out.read_text()))
    r.pop("stdout", None)
    return r


def _fmt_vec(v) -> str:
    return "(" + ", ".join(f"{x:10.4f}" for x in v) + ")"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--meshes", type=int, nargs="+", default=[32, 64], help="N of the N^3 meshes")
    p.add_argument("--reps", type=int, default=3, help="interleaved repetitions (median reported)")
    tools = ["wbentropy_1", "wbentropy_1t", "wbentropy_2", "wannierberri", "postw90"]
    p.add_argument("--tools", nargs="+", default=tools, choices=tools)
    p.add_argument("--workdir", default=None, help="scratch folder (default: a new temp folder)")
    p.add_argument("--json", default=None, help="also write all measurements to this JSON file")
    p.add_argument("--worker", nargs=4, metavar=("KIND", "SEED", "N", "OUT"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        kind, seed, n, out = args.worker
        {"wbentropy": _worker_wbentropy, "wannierberri": _worker_wannierberri, "wbentropy_tb": _worker_wbentropy_tb,
         "per_k": _worker_per_k}[kind](seed, int(n), out)
        return 0

    sys.path.insert(0, str(HERE))
    work = Path(args.workdir or tempfile.mkdtemp(prefix="compare_peers_"))
    os.environ.setdefault("WBENTROPY_BENCH_TMP", str(work))
    from _data import material

    seed = material("Fe_Wannier90") / "Fe"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    tools = [t for t in args.tools if t != "postw90" or os.access(POSTW90, os.X_OK)]
    if "postw90" in args.tools and "postw90" not in tools:
        print(f"note: {POSTW90} not found, postw90 skipped (apt-get install wannier90)")
    if not os.access(TIME, os.X_OK):
        raise SystemExit(f"{TIME} is needed (apt-get install time)")

    print(f"# compare_peers: Fe, meshes {args.meshes}, {args.reps} interleaved repetitions, "
          f"host {os.uname().nodename}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start")
    me = [sys.executable, str(Path(__file__).resolve())]
    per_k, tb_check = {}, {}
    for n in args.meshes:  # per-k costs first (one process per mesh size, same batch as production)
        out = work / f"per_k_{n}.json"
        one_thread = dict(env, **{v: "1" for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")})
        subprocess.run(me + ["--worker", "per_k", str(seed), str(n), str(out)], env=one_thread, check=True)
        per_k[n] = json.loads(out.read_text())
        if "postw90" in tools and os.access(WANNIER90, os.X_OK):  # untimed: same real-space model as postw90
            out = work / f"wbentropy_tb_{n}.json"
            subprocess.run(me + ["--worker", "wbentropy_tb", str(_wannier90_tb(work, seed)), str(n), str(out)],
                           env=env, check=True)
            tb_check[n] = json.loads(out.read_text())["ahc_T0"]
    runs = {(t, n): [] for t in tools for n in args.meshes}
    for rep in range(args.reps):
        for n in args.meshes:
            for tool in tools:
                r = _run_tool(tool, seed=seed, n=n, work=work, env=env)
                runs[tool, n].append(r)
                print(f"  rep {rep + 1} {n:3d}^3 {tool:13s} wall {r['wall_s']:8.2f} s  cpu {r['cpu_s']:8.2f} s  "
                      f"k-sum {r['ksum_s']:8.2f} s  peak {r['rss_mb']:7.0f} MB", flush=True)
    print(f"# load average {os.getloadavg()[0]:.2f} at end")

    ok = True

    def check(name, ref, other, tol_abs, tol_rel):
        nonlocal ok
        scale = max(abs(x) for x in ref)
        diff = max(abs(a - b) for a, b in zip(ref, other))
        good = diff <= tol_abs + tol_rel * scale
        ok &= good
        print(f"AHC {name}: max |diff| {diff:.2e} S/cm = {diff / scale:.1e} relative "
              f"(allowed {tol_abs + tol_rel * scale:.1e}) {'OK' if good else 'MISMATCH'}")

    for n in args.meshes:
        nk = n**3
        med = {t: statistics.median(r["wall_s"] for r in runs[t, n]) for t in tools}
        cpu = {t: statistics.median(r["cpu_s"] for r in runs[t, n]) for t in tools}
        medk = {t: statistics.median(r["ksum_s"] for r in runs[t, n]) for t in tools}
        rss = {t: max(r["rss_mb"] for r in runs[t, n]) for t in tools}
        print(f"\n## Fe {n}^3 = {nk} k-points (median of {args.reps})")
        print(f"{'code':14s} {'wall s':>9s} {'cpu s':>9s} {'k-sum s':>9s} {'ms/k':>8s} {'peak MB':>8s}"
              f"   AHC T=0 (yz, zx, xy) S/cm")
        for t in tools:
            print(f"{t:14s} {med[t]:9.2f} {cpu[t]:9.2f} {medk[t]:9.2f} {1e3 * medk[t] / nk:8.4f} {rss[t]:8.0f}   "
                  f"{_fmt_vec(runs[t, n][0]['ahc_T0'])}")
        if "wbentropy_1" in tools:
            w = runs["wbentropy_1", n][0]
            print(f"wbentropy 300 K: AHC {_fmt_vec(w['ahc_300'])} S/cm, entropy Hall "
                  f"{_fmt_vec(w['entropy_hall_300'])} A/(m K)")
            if "wbentropy_2" in tools:
                check("wbentropy 1 rank vs 2 ranks", w["ahc_T0"], runs["wbentropy_2", n][0]["ahc_T0"], 0.0, 1e-12)
            if "wbentropy_1t" in tools:
                check("wbentropy threads vs 1 thread", w["ahc_T0"], runs["wbentropy_1t", n][0]["ahc_T0"], 0.0, 1e-12)
            if "wannierberri" in tools:
                check("wbentropy vs WannierBerri (same input files)", w["ahc_T0"],
                      runs["wannierberri", n][0]["ahc_T0"], 0.0, 1e-6)
            if "postw90" in tools:
                pw = runs["postw90", n][0]["ahc_T0"]
                if n in tb_check:
                    check("wbentropy on wannier90.x's Fe_tb.dat vs postw90 (same real-space model)",
                          tb_check[n], pw, 1e-4, 1e-5)
                scale = max(abs(x) for x in w["ahc_T0"])
                diff = max(abs(a - b) for a, b in zip(w["ahc_T0"], pw))
                print(f"AHC WannierBerri-read model vs postw90 (r(R) built differently, information only): "
                      f"max |diff| {diff:.2e} S/cm = {diff / scale:.1e} relative")
            for t in ("wannierberri", "postw90"):
                if t in tools:  # postw90's own timer is CPU time: no k-sum ratio against a wall time
                    ksum = f", k-sum {medk['wbentropy_1'] / medk[t]:.3f}" if t == "wannierberri" else ""
                    print(f"ratio wbentropy(1 rank)/{t}: wall {med['wbentropy_1'] / med[t]:.3f}, "
                          f"cpu {cpu['wbentropy_1'] / cpu[t]:.3f}{ksum}")
                    if "wbentropy_1t" in tools:
                        print(f"ratio wbentropy(1 rank, 1 thread)/{t}: wall {med['wbentropy_1t'] / med[t]:.3f}")
            if "wbentropy_2" in tools:
                print(f"MPI speed-up 1 -> 2 ranks: wall {med['wbentropy_1'] / med['wbentropy_2']:.2f}x, "
                      f"k-sum {medk['wbentropy_1'] / medk['wbentropy_2']:.2f}x")
        pk = per_k[n]
        ms, parts = pk["ms_per_k"], pk["parts_ms_per_k"]
        print(f"per-k cost, one thread, CPU time ({pk['nk']} k-points of this mesh, {pk['num_wann']}x{pk['num_wann']}, "
              f"nR = {pk['nR']}): batch {ms['batch']:.4f} ms/k = {ms['batch'] / ms['eigh']:.2f} x batched eigh "
              f"({ms['eigh']:.4f} ms/k)")
        print("  parts (ms/k, x eigh): " + ", ".join(f"{k} {v:.4f} ({v / ms['eigh']:.2f})" for k, v in parts.items()))
        if "wbentropy_1" in tools:
            wk = 1e3 * medk["wbentropy_1"] / nk
            print(f"per-k cost of the production run (1 rank, default threads, wall time of the k-sum incl. set-up): "
                  f"{wk:.4f} ms/k = {wk / ms['eigh']:.2f} x single-threaded batched eigh")
            if "wbentropy_1t" in tools:
                wk1 = 1e3 * medk["wbentropy_1t"] / nk
                print(f"  the same with one thread: {wk1:.4f} ms/k = {wk1 / ms['eigh']:.2f} x eigh")
        if "wannierberri" in tools:
            print(f"  WannierBerri k-sum per k: {1e3 * medk['wannierberri'] / nk:.4f} ms/k = "
                  f"{1e3 * medk['wannierberri'] / nk / ms['eigh']:.1f} x eigh")
    if args.json:
        Path(args.json).write_text(json.dumps({"per_k": per_k, "runs": {f"{t} {n}": v for (t, n), v in runs.items()}},
                                              indent=1))
    print("\nAHC agreement:", "OK" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
