"""Symmetry-adapted Wannier functions of bcc Fe (``run_fe_dft.py --symmetry-adapted``).

Reuses steps 1-4 of ``run_fe_dft.py`` (scf, nscf on the full grid, ``Fe.amn``/``Fe.mmn``/``Fe.eig``) and
writes into ``OUT/symmetry_adapted``:

a. the Wannier functions, by ``--sa-method``:

   * ``projection`` (default): Wannier90 with the same windows as the maximally localised route but
     ``dis_num_iter = num_iter = 0``: projection-like functions that keep the character of the
     ``Fe: s;p;d`` projections;
   * ``sitesym``: WannierBerri's symmetry-adapted disentanglement (``wannierise(..., sitesym=True)``,
     band symmetry matrices from the nscf wave functions by ``irrep``), its gauge V(k) written as
     ``Fe.amn`` and replayed by Wannier90 without iterations and without a frozen window;

   Wannier90 writes ``Fe_tb.dat``, ``Fe_hr.dat``, ``Fe_r.dat``, ``Fe_wsvec.dat``;
b. the frozen-window check (Wannier = DFT bands) and wbentropy's symmetrization check
   (``wbentropy.symmetry.symmetrize_model``, M || +z; a refusal stops the run with its message);
c. ``wbentropy compute`` of sigma^e and sigma^s at E_F on ``--berry-kmesh`` and ``--scan-kmesh``, with and
   without ``--symmetrize --magmom 0 0 1``.

Every step's wall time goes to ``OUT/timings.txt``, the figures to ``OUT/symmetry_adapted/summary.txt``.
"""
from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import numpy as np

from run_fe_dft import N_SEMICORE, frozen_window_check, win_input

logger = logging.getLogger("fe_dft")

MAGMOM = (0.0, 0.0, 1.0)  # the scf's magnetisation is along +z (angle1 = angle2 = 0)


def sitesym_gauge(out: Path, *, nbnd: int, froz_max: float, ecut: float, num_iter: int) -> np.ndarray:
    """WannierBerri's symmetry-adapted disentanglement of ``OUT/Fe.{amn,mmn,eig}``; its gauge V (nk, nb, nw)."""
    from irrep.bandstructure import BandStructure
    from wannierberri.symmetry.projections import Projection
    from wannierberri.symmetry.sawf import SymmetrizerSAWF
    from wannierberri.w90files.wandata import WannierData

    bands = BandStructure.from_espresso(prefix=str(out / "tmp" / "Fe"), Ecut=ecut, normalize=False,
                          magmom=[list(MAGMOM)], include_TR=True, IBstart=N_SEMICORE, IBend=nbnd)
    logger.info("irrep: %d k-points, %d symmetry operations", len(bands.kpoints), bands.spacegroup.size)
    symmetrizer = SymmetrizerSAWF.from_irrep(bands)
    orbitals = Projection(position_num=[[0.0, 0.0, 0.0]], orbital="s;p;d", spacegroup=bands.spacegroup,
                          rotate_basis=False)
    symmetrizer.set_D_wann_from_projections([orbitals])
    del bands
    data = WannierData.from_w90_files(seedname=str(out / "Fe"), files=["win", "mmn", "amn", "eig"])
    data.set_symmetrizer(symmetrizer)
    data.wannierise(froz_min=-100.0, froz_max=froz_max, num_iter=num_iter, conv_tol=1e-10, mix_ratio_z=1.0,
                    print_progress_every=50, sitesym=True, localise=False, parallel=False, savechk=False)
    return np.array([data.chk.v_matrix[ik] for ik in range(data.chk.num_kpts)])


def write_amn(path: Path, V: np.ndarray, comment: str) -> None:
    """Wannier90 ``.amn``: A_mn(k) = V[k, m, n] (k slowest, then n, then m)."""
    nk, nb, nw = V.shape
    k, n, m = np.meshgrid(np.arange(nk), np.arange(nw), np.arange(nb), indexing="ij")
    vals = V.transpose(0, 2, 1).ravel()
    rows = np.column_stack([m.ravel() + 1, n.ravel() + 1, k.ravel() + 1, vals.real, vals.imag])
    with open(path, "w") as f:
        f.write(comment[:60] + "\n")
        f.write(f"{nb:12d}{nk:12d}{nw:12d}\n")
        np.savetxt(f, rows, fmt="%5d%5d%5d%20.12f%20.12f")


def symmetry_check(sub: Path, fermi: float) -> list[str]:
    """wbentropy's checked symmetrization of the new model (refuses if the bands move)."""
    from wbentropy.io.load import load_model
    from wbentropy.symmetry import symmetrize_model

    model = load_model(tb=str(sub / "Fe_tb.dat"), wsvec=str(sub / "Fe_wsvec.dat"))
    t0 = time.perf_counter()
    _, record = symmetrize_model(model, win=sub / "Fe.win", magmom=MAGMOM, mus=[fermi])
    return [f"symmetrization check passed in {time.perf_counter() - t0:.1f} s: {record['symmetry_group']} "
            f"({record['symmetry_group_order']} operations); band breaking within E_F +- 1 eV "
            f"{record['symmetry_breaking_before_eV']:.2e} eV -> {record['symmetry_breaking_after_eV']:.2e} eV"]


def compare_symmetrize(r, sub: Path, *, nb: int, fermi: float, temps) -> list[str]:
    """sigma^e, sigma^s at E_F on nb^3 with and without ``--symmetrize --magmom 0 0 1``."""
    from wbentropy.results import Result

    lines = []
    for sym in (False, True):
        h5 = f"Fe_{nb}{'_sym' if sym else ''}.h5"
        extra = ["--symmetrize", "--magmom", *[str(x) for x in MAGMOM]] if sym else []
        r.run(f"wbentropy {nb}^3{' sym' if sym else ''}",
              [sys.executable, "-m", "wbentropy.cli", "compute", "--tb", "Fe_tb.dat", "--wsvec", "Fe_wsvec.dat",
               "--kmesh", str(nb), str(nb), str(nb), "--temperature", *[str(t) for t in temps], "--mu",
               f"{fermi:.6f}", "--quantities", "ahc,entropy_hall", *extra, "--out", h5],
              stdout=sub / f"wbentropy_{nb}{'_sym' if sym else ''}.out", done=sub / h5, cwd=sub)
        res = Result.load(sub / h5)
        for name, unit in (("ahc", "S/cm"), ("entropy_hall", "A/(m K)")):
            for it, t in enumerate(temps):
                s = np.asarray(res[name])[it, 0]
                lines.append(f"{name} (yz, zx, xy) at E_F, T = {t} K, {nb}^3{', --symmetrize' if sym else ''}: "
                             f"{np.array2string(s[[1, 2, 0], [2, 0, 1]], precision=6)} {unit}")
    return lines


def symmetry_adapted_route(r, out: Path, args, *, fermi: float, mag) -> list[str]:
    """Steps a-e of this module's docstring; returns the summary lines."""
    sub = out / "symmetry_adapted"
    sub.mkdir(exist_ok=True)
    froz_max = fermi + args.froz_above
    if args.sa_method == "projection" and not (sub / "Fe.amn").exists():
        (sub / "Fe.amn").symlink_to(out / "Fe.amn")
    elif not (sub / "Fe.amn").exists():
        t0 = time.perf_counter()
        V = sitesym_gauge(out, nbnd=args.nbnd, froz_max=froz_max, ecut=args.irrep_ecut, num_iter=args.sa_num_iter)
        write_amn(sub / "Fe.amn", V, "symmetry-adapted gauge (WannierBerri sitesym)")
        dt = time.perf_counter() - t0
        with open(r.timings, "a") as f:
            f.write(f"{'sitesym':<14s} {dt:9.1f} s   irrep + WannierBerri wannierise(sitesym=True)\n")
        logger.info("symmetry-adapted disentanglement: %.1f s", dt)
    for name in ("Fe.mmn", "Fe.eig"):
        if not (sub / name).exists():
            (sub / name).symlink_to(out / name)
    (sub / "Fe.win").write_text(win_input(fermi=fermi, froz_above=args.froz_above, n=args.nscf_kmesh,
                                          berry_kmesh=args.berry_kmesh, nbnd=args.nbnd, method=args.sa_method))
    r.run("wannier90 SA", ["wannier90.x", "Fe"], stdout=sub / "wannier90.log", done=sub / "Fe_tb.dat", cwd=sub)
    worst = frozen_window_check(sub, fermi, froz_max)
    lines = [f"E_F (scf) = {fermi:.4f} eV; total magnetisation {mag} Bohr mag/cell",
             f"symmetry-adapted Wannier functions: max |E_Wannier - E_DFT| below E_F + {args.froz_above} eV at the "
             f"{args.nscf_kmesh ** 3} ab-initio k-points: {worst:.2e} eV"]
    lines += symmetry_check(sub, fermi)
    for nb in (args.berry_kmesh, args.scan_kmesh):
        lines += compare_symmetrize(r, sub, nb=nb, fermi=fermi, temps=args.temperature)
    (sub / "summary.txt").write_text("\n".join(lines) + "\n")
    return lines
