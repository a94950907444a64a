"""Symmetry-adapted Wannier functions of bcc Fe (``run_fe_dft.py --symmetry-adapted``).

Reuses steps 1-4 of ``run_fe_dft.py`` (scf, nscf on the full grid, ``Fe.amn``/``Fe.mmn``/``Fe.eig``) and
writes into ``OUT/symmetry_adapted``:

a. projection-like Wannier functions: Wannier90 with the windows of the maximally localised route but
   ``dis_num_iter = num_iter = 0``, so that the functions keep the character of the ``Fe: s;p;d``
   projections (``Fe_tb.dat``, ``Fe_hr.dat``, ``Fe_r.dat``, ``Fe_wsvec.dat``);
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

from run_fe_dft import frozen_window_check, win_input

logger = logging.getLogger("fe_dft")

MAGMOM = (0.0, 0.0, 1.0)  # the scf's magnetisation is along +z (angle1 = angle2 = 0)


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
    for name in ("Fe.amn", "Fe.mmn", "Fe.eig"):
        if not (sub / name).exists():
            (sub / name).symlink_to(out / name)
    (sub / "Fe.win").write_text(win_input(fermi=fermi, froz_above=args.froz_above, n=args.nscf_kmesh,
                                          berry_kmesh=args.berry_kmesh, nbnd=args.nbnd, method="projection"))
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
