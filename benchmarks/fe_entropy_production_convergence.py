"""Fe (../shared/data) entropy production at E_F, 300 K, tau = 10 fs versus uniform mesh size.

Prints Pi_xx/E^2 (Drude, interband exact, interband paper) and the Drude conductivity for
N^3 meshes, to show that the interband part converges with the mesh once the relaxation
rate eta = hbar/tau is kept in the denominator (Eq. 13).

    python benchmarks/fe_entropy_production_convergence.py [--meshes 10 20 30 40 50]
"""
from __future__ import annotations

import _threads  # noqa: F401  (before numpy: the thread pool and single-threaded BLAS)

import argparse
import logging
import time

from _data import EF_FE, material

from wbentropy.api import compute
from wbentropy.io.load import load_model

logger = logging.getLogger("bench")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--meshes", nargs="+", type=int, default=[10, 20, 30, 40, 50])
    p.add_argument("--tau", type=float, default=10.0)
    p.add_argument("--temperature", type=float, default=300.0)
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    model = load_model(w90=material("Fe_Wannier90") / "Fe")
    q = ["entropy_production_drude", "entropy_production_interband", "drude_conductivity"]
    logger.info("%5s %14s %14s %14s %14s %8s", "N", "PiD_xx", "PiI_xx exact", "PiI_xx paper", "sigmaD_xx", "time")
    logger.info("%5s %14s %14s %14s %14s %8s", "", "S/(m K)", "S/(m K)", "S/(m K)", "S/cm", "s")
    for n in args.meshes:
        t0 = time.perf_counter()
        r = compute(model=model, quantities=q, temperatures=[args.temperature], mus=[EF_FE], kmesh=(n, n, n),
                    tau_fs=args.tau)
        rp = compute(model=model, quantities=["entropy_production_interband"], temperatures=[args.temperature],
                     mus=[EF_FE], kmesh=(n, n, n), tau_fs=args.tau, entropy_production_form="paper")
        dt = time.perf_counter() - t0
        logger.info("%5d %14.6e %14.6e %14.6e %14.6e %8.1f", n, r["entropy_production_drude"][0, 0, 0, 0],
                    r["entropy_production_interband"][0, 0, 0, 0], rp["entropy_production_interband"][0, 0, 0, 0],
                    r["drude_conductivity"][0, 0, 0, 0], dt)


if __name__ == "__main__":
    main()
