"""bcc Fe with spin-orbit coupling from scratch: Quantum ESPRESSO -> Wannier90 -> wbentropy.

Runs, in ``OUT`` (default ``$TMPDIR/wbentropy_fe_dft``):

1. ``pw.x`` scf: PBE, fully relativistic ultrasoft pseudopotential
   ``Fe.rel-pbe-spn-rrkjus_psl.0.2.1.UPF`` (Debian package ``quantum-espresso-data``),
   noncollinear spins with spin-orbit coupling, magnetisation along +z;
2. ``pw.x`` nscf on the full Gamma-centred N x N x N grid (no symmetry), 36 bands;
3. ``wannier90.x -pp``; 4. ``pw2wannier90.x`` (``.amn``, ``.mmn``, ``.eig``);
5. ``wannier90.x``: 18 spinor Wannier functions (s, p, d) disentangled from the bands
   above the 3s/3p semicore states, writing ``Fe_tb.dat``, ``Fe_hr.dat``, ``Fe_r.dat``,
   ``Fe_wsvec.dat``, ``Fe_centres.xyz``;
6. a check that the Wannier-interpolated bands reproduce the DFT eigenvalues inside the
   frozen window at every ab-initio k-point;
7. ``wbentropy compute`` (``ahc``, ``entropy_hall``) at E_F on ``--berry-kmesh`` and on the
   small ``--check-kmesh``, from ``Fe_tb.dat`` + ``Fe_wsvec.dat``;
8. ``postw90.x`` (``berry = true``, ``berry_task = ahc``, same ``berry_kmesh`` and
   ``fermi_energy``) on the same Wannier functions (``Fe.chk``), for comparison, in
   ``OUT/postw90_N/``;
9. a mu scan (E_F +- 0.5 eV, 100 and 300 K, with entropy production for tau = 10 fs) and
   ``wbentropy plot`` of it, with k-resolved maps on the plane kz = 0 and the convergence
   of sigma^e, sigma^s at E_F over the two comparison meshes and the scan mesh.

Every step's wall time goes to ``OUT/timings.txt``, the comparison to ``OUT/summary.txt``.
A step whose output already exists is skipped (delete ``OUT`` to start over), so an
interrupted run can be resumed.  Run from the repository root::

    python examples/fe_dft/run_fe_dft.py --out /tmp/fe_dft --np 2

With ``--symmetry-adapted`` steps 1-4 are followed instead by projection-like Wannier functions that
WannierBerri's symmetrizer accepts (``wbentropy compute --symmetrize``), in ``OUT/symmetry_adapted``
(``symmetry_adapted.py``; bundled as ``data/Fe_sa_*``).

See ``examples/fe_dft/README.md`` for the settings, their justification and the results.
"""
from __future__ import annotations

import argparse
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

logger = logging.getLogger("fe_dft")

PSEUDO = "Fe.rel-pbe-spn-rrkjus_psl.0.2.1.UPF"
PSEUDO_DIRS = ("/usr/share/espresso/pseudo", "/usr/share/quantum-espresso/pseudo")
ALAT_BOHR = 5.4235  # experimental bcc Fe lattice constant 2.870 angstrom
N_SEMICORE = 8  # 3s (2) + 3p (6) spinor bands below the valence s-p-d manifold
NUM_WANN = 18  # s, p, d x spinor


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "wbentropy_fe_dft")
    p.add_argument("--np", type=int, default=2, help="MPI ranks for pw.x / pw2wannier90.x (default 2)")
    p.add_argument("--mpirun", default=None,
                   help="MPI launcher for Debian's pw.x (default: /usr/bin/mpirun if present, else serial)")
    p.add_argument("--ecutwfc", type=float, default=64.0,
                   help="wave-function cutoff in Ry (default 64, the pseudopotential's suggested value)")
    p.add_argument("--ecutrho", type=float, default=782.0,
                   help="charge-density cutoff in Ry (default 782, the pseudopotential's suggested value)")
    p.add_argument("--scf-kmesh", type=int, default=8, help="scf Monkhorst-Pack mesh N^3 (default 8)")
    p.add_argument("--nscf-kmesh", type=int, default=8,
                   help="ab-initio mesh N^3 for the Wannier functions (default 8)")
    p.add_argument("--nbnd", type=int, default=36, help="bands in the nscf run (default 36)")
    p.add_argument("--degauss", type=float, default=0.02, help="Marzari-Vanderbilt smearing in Ry (default 0.02)")
    p.add_argument("--froz-above", type=float, default=2.0,
                   help="top of the frozen window above E_F in eV (default 2.0)")
    p.add_argument("--berry-kmesh", type=int, default=20,
                   help="interpolation mesh N^3 for wbentropy and postw90 (default 20; postw90 is slow)")
    p.add_argument("--check-kmesh", type=int, default=12,
                   help="second, small mesh N^3 of the wbentropy/postw90 comparison (default 12)")
    p.add_argument("--scan-kmesh", type=int, default=24,
                   help="mesh N^3 of the mu scan E_F +- 0.5 eV with entropy production, tau = 10 fs (default 24)")
    p.add_argument("--kslice-mesh", type=int, default=120, help="points per direction of the kz = 0 maps")
    p.add_argument("--temperature", nargs="+", type=float, default=[0.0, 100.0, 300.0], metavar="K")
    p.add_argument("--pseudo-dir", default=None, help="folder holding " + PSEUDO)
    p.add_argument("--skip-postw90", action="store_true")
    p.add_argument("--symmetry-adapted", action="store_true",
                   help="after steps 1-4, Wannierise symmetry-adapted functions into OUT/symmetry_adapted "
                        "instead of the maximally localised ones (examples/fe_dft/symmetry_adapted.py)")
    return p.parse_args(argv)


# ---------------------------------------------------------------- inputs
def pw_input(*, calculation: str, pseudo_dir: str, ecutwfc: float, ecutrho: float, degauss: float,
             kpoints: str, nbnd: int | None = None) -> str:
    """A pw.x input for bcc Fe, noncollinear with spin-orbit coupling, moment along +z."""
    extra_sys = f"  nbnd = {nbnd}\n  nosym = .true.\n  noinv = .true.\n" if nbnd else ""
    extra_el = "  diago_full_acc = .true.\n" if calculation == "nscf" else ""
    return f"""&control
  calculation = '{calculation}'
  prefix = 'Fe'
  outdir = './tmp'
  pseudo_dir = '{pseudo_dir}'
/
&system
  ibrav = 3
  celldm(1) = {ALAT_BOHR}
  nat = 1
  ntyp = 1
  ecutwfc = {ecutwfc}
  ecutrho = {ecutrho}
  noncolin = .true.
  lspinorb = .true.
  starting_magnetization(1) = 0.5
  angle1(1) = 0.0
  angle2(1) = 0.0
  occupations = 'smearing'
  smearing = 'mv'
  degauss = {degauss}
{extra_sys}/
&electrons
  conv_thr = 1.0d-10
  mixing_beta = 0.3
{extra_el}/
ATOMIC_SPECIES
Fe 55.845 {PSEUDO}
ATOMIC_POSITIONS crystal
Fe 0.0 0.0 0.0
K_POINTS {kpoints}
"""


def full_grid(n: int) -> np.ndarray:
    """The Gamma-centred n^3 grid in crystal coordinates, in Wannier90's order."""
    i = np.arange(n) / n
    return np.array(np.meshgrid(i, i, i, indexing="ij")).reshape(3, -1).T


def lattice_bohr() -> np.ndarray:
    """bcc primitive vectors of pw.x's ibrav = 3 (rows, bohr)."""
    h = ALAT_BOHR / 2
    return np.array([[h, h, h], [-h, h, h], [-h, -h, h]])


MLWF_BLOCK = """! disentanglement: outer window = all bands above the semicore states,
! frozen (inner) window from the bottom of the valence band to E_F + {froz_above} eV
dis_froz_min = -100.0
dis_froz_max = {froz_max:.6f}
dis_num_iter = 1000
dis_conv_tol = 1.0d-10
num_iter = 400
conv_tol = 1.0d-10
conv_window = 5
"""

# Projection-like functions: the same windows, no iterations.  The subspace outside the frozen window is
# the projection of the p-like part of the s, p, d projections onto the remaining bands, and the gauge the
# Loewdin orthonormalisation of Fe.amn: both transform like the projections, so the functions keep
# their s, p, d character (README: "Symmetry-adapted Wannier functions").
PROJECTION_BLOCK = """! symmetry-adapted (projection-like) Wannier functions:
! no disentanglement or localisation iterations;
! outer window = all bands above the semicore states, frozen window up to E_F + {froz_above} eV
dis_froz_min = -100.0
dis_froz_max = {froz_max:.6f}
dis_num_iter = 0
num_iter = 0
"""

BLOCKS = {"mlwf": MLWF_BLOCK, "projection": PROJECTION_BLOCK}


def win_input(*, fermi: float, froz_above: float, n: int, berry_kmesh: int, nbnd: int, method: str = "mlwf") -> str:
    """Wannier90/postw90 input: 18 s, p, d spinor WFs, frozen window up to E_F + froz_above; ``method``
    "mlwf" (maximally localised) or "projection" (symmetry-adapted, :data:`BLOCKS`)."""
    cell = "\n".join(" ".join(f"{x:.8f}" for x in row) for row in lattice_bohr())
    kpts = "\n".join(" ".join(f"{x:.10f}" for x in k) for k in full_grid(n))
    block = BLOCKS[method].format(froz_above=froz_above, froz_max=fermi + froz_above)
    return f"""num_wann = {NUM_WANN}
num_bands = {nbnd - N_SEMICORE}
exclude_bands = 1-{N_SEMICORE}
spinors = .true.
begin projections
Fe: s;p;d
end projections

{block}
! outputs read by wbentropy: tight-binding files with the MDRS correction data
write_tb = .true.
write_hr = .true.
write_rmn = .true.
write_xyz = .true.
use_ws_distance = .true.

! postw90: anomalous Hall conductivity at E_F on the same mesh as wbentropy
fermi_energy = {fermi:.6f}
berry = .true.
berry_task = ahc
berry_kmesh = {berry_kmesh} {berry_kmesh} {berry_kmesh}

begin unit_cell_cart
bohr
{cell}
end unit_cell_cart
begin atoms_frac
Fe 0.0 0.0 0.0
end atoms_frac
mp_grid = {n} {n} {n}
begin kpoints
{kpts}
end kpoints
"""


PW2WAN = """&inputpp
  outdir = './tmp'
  prefix = 'Fe'
  seedname = 'Fe'
  write_amn = .true.
  write_mmn = .true.
  write_unk = .false.
/
"""


# ---------------------------------------------------------------- running
class Runner:
    def __init__(self, out: Path, timings: Path):
        self.out = out
        self.timings = timings

    def run(self, name: str, cmd: list[str], *, stdout: Path | None = None, done: Path,
            cwd: Path | None = None) -> None:
        """Run ``cmd`` in OUT unless ``done`` exists; append the wall time to timings.txt."""
        if done.exists():
            logger.info("%s: %s exists, skipped", name, done.name)
            return
        logger.info("%s: %s", name, " ".join(cmd))
        env = dict(os.environ, OMP_NUM_THREADS="1")
        t0 = time.perf_counter()
        log = stdout or self.out / f"{name.replace(' ', '_').replace('^', '')}.log"
        with open(log, "w") as fout:
            proc = subprocess.run(cmd, cwd=cwd or self.out, stdin=subprocess.DEVNULL, stdout=fout,
                                  stderr=subprocess.STDOUT, env=env)
        dt = time.perf_counter() - t0
        if proc.returncode != 0 or not done.exists() and not name.startswith(("pw.x", "postw90")):
            raise SystemExit(f"{name} failed (exit {proc.returncode}); see {log}")
        with open(self.timings, "a") as f:
            f.write(f"{name:<14s} {dt:9.1f} s   {' '.join(cmd)}\n")
        logger.info("%s: %.1f s", name, dt)


def fermi_from_pw(path: Path) -> float:
    m = re.findall(r"the Fermi energy is\s+([-\d.]+)\s+ev", path.read_text())
    if not m:
        raise SystemExit(f"no Fermi energy in {path}")
    return float(m[-1])


def magnetisation_from_pw(path: Path) -> tuple[float, float, float]:
    m = re.findall(r"total magnetization\s+=\s+([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)", path.read_text())
    return tuple(float(x) for x in m[-1])


def postw90_ahc(path: Path) -> np.ndarray:
    """(sigma_x, sigma_y, sigma_z) = (sigma_yz, sigma_zx, sigma_xy) in S/cm from ``Fe.wpout``."""
    m = re.search(r"AHC \(S/cm\)\s+x\s+y\s+z\s*\n\s*=+\s+([-\d.Ee+]+)\s+([-\d.Ee+]+)\s+([-\d.Ee+]+)",
                  path.read_text())
    if not m:
        raise SystemExit(f"no AHC in {path}")
    return np.array([float(x) for x in m.groups()])


def frozen_window_check(out: Path, fermi: float, froz_max: float) -> float:
    """Max |E_Wannier - E_DFT| (eV) over all states below the frozen-window top at every ab-initio k."""
    from wbentropy.kspace.interpolation import Interpolator
    from wbentropy.io.load import load_model

    model = load_model(tb=str(out / "Fe_tb.dat"), wsvec=str(out / "Fe_wsvec.dat"))
    eig = np.loadtxt(out / "Fe.eig")
    nk = int(eig[:, 1].max())
    nb = int(eig[:, 0].max())
    e_dft = eig[:, 2].reshape(nk, nb)
    n = round(nk ** (1 / 3))
    kpts = full_grid(n)
    e_w = np.linalg.eigvalsh(Interpolator(model=model, position=False, derivatives=False)(kpts).H)  # H(k) alone
    worst = 0.0
    for ik in range(nk):  # small, once
        d = e_dft[ik][e_dft[ik] < froz_max]
        worst = max(worst, float(np.abs(d - e_w[ik, :len(d)]).max()))
    return worst


def main(argv=None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    for exe in ("pw.x", "pw2wannier90.x", "wannier90.x", "postw90.x"):
        if shutil.which(exe) is None:
            raise SystemExit(f"{exe} not found: apt-get install quantum-espresso wannier90")
    pseudo_dir = args.pseudo_dir or next((d for d in PSEUDO_DIRS if (Path(d) / PSEUDO).is_file()), None)
    if pseudo_dir is None:
        raise SystemExit(f"{PSEUDO} not found; apt-get install quantum-espresso-data or give --pseudo-dir")
    mpirun = args.mpirun or ("/usr/bin/mpirun" if Path("/usr/bin/mpirun").exists() and args.np > 1 else None)
    par = [mpirun, "-np", str(args.np)] if mpirun else []
    if mpirun and os.geteuid() == 0 and "orterun" in os.path.realpath(mpirun):
        par.append("--allow-run-as-root")  # Open MPI refuses root otherwise (containers)
    pools = ["-nk", str(args.np)] if par else []
    timings = out / "timings.txt"
    r = Runner(out, timings)

    common = dict(pseudo_dir=pseudo_dir, ecutwfc=args.ecutwfc, ecutrho=args.ecutrho, degauss=args.degauss)
    n = args.scf_kmesh
    (out / "scf.in").write_text(pw_input(calculation="scf", kpoints=f"automatic\n{n} {n} {n} 0 0 0\n", **common))
    r.run("pw.x scf", par + ["pw.x"] + pools + ["-in", "scf.in"], stdout=out / "scf.out", done=out / "scf.done")
    (out / "scf.done").touch()
    fermi = fermi_from_pw(out / "scf.out")
    mag = magnetisation_from_pw(out / "scf.out")
    logger.info("E_F = %.4f eV, total magnetisation %s Bohr mag/cell", fermi, mag)

    grid = full_grid(args.nscf_kmesh)
    klist = f"crystal\n{len(grid)}\n" + "".join(f"{k[0]:.10f} {k[1]:.10f} {k[2]:.10f} {1 / len(grid):.10e}\n"
                                                   for k in grid)
    (out / "nscf.in").write_text(pw_input(calculation="nscf", kpoints=klist, nbnd=args.nbnd, **common))
    r.run("pw.x nscf", par + ["pw.x"] + pools + ["-in", "nscf.in"], stdout=out / "nscf.out",
          done=out / "nscf.done")
    (out / "nscf.done").touch()

    froz_max = fermi + args.froz_above
    (out / "Fe.win").write_text(win_input(fermi=fermi, froz_above=args.froz_above, n=args.nscf_kmesh,
                                          berry_kmesh=args.berry_kmesh, nbnd=args.nbnd))
    r.run("wannier90 -pp", ["wannier90.x", "-pp", "Fe"], done=out / "Fe.nnkp")
    (out / "pw2wan.in").write_text(PW2WAN)
    r.run("pw2wannier90", par + ["pw2wannier90.x", "-in", "pw2wan.in"], stdout=out / "pw2wan.out",
          done=out / "Fe.mmn")
    if args.symmetry_adapted:
        from symmetry_adapted import symmetry_adapted_route

        lines = symmetry_adapted_route(r, out, args, fermi=fermi, mag=mag)
        print("\n".join(lines))
        print(timings.read_text())
        return 0
    r.run("wannier90", ["wannier90.x", "Fe"], done=out / "Fe_tb.dat")
    worst = frozen_window_check(out, fermi, froz_max)
    logger.info("Wannier vs DFT bands below E_F + %.1f eV: max deviation %.2e eV", args.froz_above, worst)

    lines = [f"E_F (scf) = {fermi:.4f} eV; total magnetisation {mag} Bohr mag/cell",
             f"max |E_Wannier - E_DFT| below E_F + {args.froz_above} eV at the {len(grid)} ab-initio k-points: "
             f"{worst:.2e} eV"]
    win = dict(fermi=fermi, froz_above=args.froz_above, n=args.nscf_kmesh, nbnd=args.nbnd)
    for nb in (args.check_kmesh, args.berry_kmesh):
        lines += compare_ahc(r, out, nb=nb, temps=args.temperature, fermi=fermi, win=win,
                             postw90=not args.skip_postw90)
    ns = args.scan_kmesh
    r.run("wbentropy scan", [sys.executable, "-m", "wbentropy.cli", "compute", "--tb", "Fe_tb.dat", "--wsvec",
                             "Fe_wsvec.dat", "--kmesh", str(ns), str(ns), str(ns), "--temperature", "100", "300",
                             "--mu-range", f"{fermi - 0.5:.6f}", f"{fermi + 0.5 + 1e-6:.6f}", "0.02",
                             "--quantities", "ahc,entropy_hall,entropy_production,entropy_production_drude,"
                             "entropy_production_interband", "--tau", "10", "--out", "Fe_scan.h5"],
          stdout=out / "wbentropy_scan.out", done=out / "Fe_scan.h5")
    r.run("wbentropy plot", [sys.executable, "-m", "wbentropy.cli", "plot", "Fe_scan.h5", "--kslice", "kz=0",
                             "--kslice-mesh", str(args.kslice_mesh), "--convergence",
                             f"Fe_wbentropy_{args.check_kmesh}.h5", f"Fe_wbentropy_{args.berry_kmesh}.h5"],
          stdout=out / "wbentropy_plot.out", done=out / "Fe_scan_kslice.png")
    (out / "summary.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(timings.read_text())
    return 0


def compare_ahc(r: Runner, out: Path, *, nb: int, temps, fermi: float, win: dict, postw90: bool) -> list[str]:
    """wbentropy (tb + wsvec) and postw90 (chk) AHC at E_F on the same nb^3 mesh."""
    from wbentropy.results import Result

    h5 = f"Fe_wbentropy_{nb}.h5"
    r.run(f"wbentropy {nb}^3", [sys.executable, "-m", "wbentropy.cli", "compute", "--tb", "Fe_tb.dat", "--wsvec",
                                "Fe_wsvec.dat", "--kmesh", str(nb), str(nb), str(nb), "--temperature",
                                *[str(t) for t in temps], "--mu", f"{fermi:.6f}", "--quantities",
                                "ahc,entropy_hall", "--out", h5],
          stdout=out / f"wbentropy_{nb}.out", done=out / h5)
    res = Result.load(out / h5)
    ahc = np.asarray(res["ahc"])[0, 0]  # first temperature, mu = E_F
    ahc_vec = np.array([ahc[1, 2], ahc[2, 0], ahc[0, 1]])
    lines = [f"wbentropy AHC (sigma_yz, sigma_zx, sigma_xy) at E_F, T = {temps[0]} K, {nb}^3 mesh: "
             f"{np.array2string(ahc_vec, precision=3)} S/cm"]
    sh = np.asarray(res["entropy_hall"])[:, 0]
    for it, t in enumerate(temps):
        if t > 0:
            lines.append(f"wbentropy sigma^s (yz, zx, xy) at E_F, T = {t} K, {nb}^3 mesh: "
                         f"{np.array2string(sh[it][[1, 2, 0], [2, 0, 1]], precision=5)} A/(m K)")
    if postw90:
        sub = out / f"postw90_{nb}"
        sub.mkdir(exist_ok=True)
        for f in ("Fe.chk", "Fe.eig", "Fe.mmn"):
            if not (sub / f).exists():
                (sub / f).symlink_to(out / f)
        (sub / "Fe.win").write_text(win_input(berry_kmesh=nb, **win))
        r.run(f"postw90 {nb}^3", ["postw90.x", "Fe"], done=sub / "Fe.wpout.done", cwd=sub)
        (sub / "Fe.wpout.done").touch()
        pw = postw90_ahc(sub / "Fe.wpout")
        lines.append(f"postw90 AHC (x, y, z) at E_F, {nb}^3 mesh: {np.array2string(pw, precision=3)} S/cm; "
                     f"max difference to wbentropy {np.abs(pw - ahc_vec).max():.3f} S/cm")
    return lines


if __name__ == "__main__":
    sys.exit(main())
