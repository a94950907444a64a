"""Make the bcc-Fe figures of docs/tutorial_dft.md from the bundled model.

Writes ``docs/img/fe_dft_{hall,entropy_production,convergence,kslice}.png``.  Run from the
repository root (about 2 minutes on 2 cores):

    python docs/make_fe_figures.py

It runs, in a temporary folder, the commands the tutorial shows: a 24^3 mu scan E_F +- 0.5 eV
(step 0.02 eV) at 100 and 300 K with entropy production (tau = 10 fs), the same job on 12^3
and 20^3 for the convergence figure, and ``wbentropy plot`` with k-resolved maps on the plane
kz = 0 (120 x 120).
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODEL = ["--hr", str(ROOT / "data/Fe_hr.dat.gz"), "--r", str(ROOT / "data/Fe_r.dat.gz"),
         "--wsvec", str(ROOT / "data/Fe_wsvec.dat.gz"), "--win", str(ROOT / "data/Fe.win")]
SCAN = ["--temperature", "100", "300", "--mu-range", "-0.5", "0.5", "0.02", "--mu-relative", "--tau", "10",
        "--quantities", "ahc,entropy_hall,entropy_production,entropy_production_drude,entropy_production_interband"]


def wbentropy(*args: str, cwd: Path) -> None:
    subprocess.run([sys.executable, "-m", "wbentropy.cli", *args], cwd=cwd, check=True)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="wbentropy_fe_figures_") as tmp:
        cwd = Path(tmp)
        for n in (12, 20, 24):
            wbentropy("compute", *MODEL, "--kmesh", str(n), str(n), str(n), *SCAN, "--out", f"Fe_{n}.h5", cwd=cwd)
        wbentropy("plot", "Fe_24.h5", "--out", "fe_dft", "--kslice", "kz=0", "--kslice-mesh", "120",
                  "--convergence", "Fe_12.h5", "Fe_20.h5", *MODEL, cwd=cwd)
        for name in ("hall", "entropy_production", "convergence", "kslice"):
            shutil.copy(cwd / f"fe_dft_{name}.png", ROOT / "docs" / "img" / f"fe_dft_{name}.png")
            print(ROOT / "docs" / "img" / f"fe_dft_{name}.png")


if __name__ == "__main__":
    main()
