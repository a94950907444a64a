"""Quick orientation: wbentropy (AHC + entropy Hall, 300 K) vs WannierBerri's AHC on Fe, same mesh.

    python benchmarks/quick_vs_wannierberri.py [--mesh 32] [--repeats 2]

Not the full peer comparison of issue 5 (postw90, interleaving, 2 ranks): a first figure.
"""
from __future__ import annotations

import argparse
import logging
import time

from _data import EF_FE, material
from wb_reference import wb_ahc, wb_system

from wbentropy.api import compute
from wbentropy.io.load import load_model

logger = logging.getLogger("bench")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mesh", type=int, default=32)
    p.add_argument("--repeats", type=int, default=2)
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    seed = material("Fe_Wannier90") / "Fe"
    model, system = load_model(w90=seed), wb_system(seed=seed)
    n = args.mesh
    for rep in range(args.repeats):
        t0 = time.perf_counter()
        compute(model=model, quantities=["ahc", "entropy_hall"], temperatures=[300.0], mus=[EF_FE], kmesh=(n, n, n))
        t1 = time.perf_counter() - t0
        t0 = time.perf_counter()
        wb_ahc(system=system, mesh=(n, n, n), mu=[EF_FE])
        t2 = time.perf_counter() - t0
        logger.info("%d^3: wbentropy %.2f s, WannierBerri AHC %.2f s, ratio %.2f", n, t1, t2, t1 / t2)


if __name__ == "__main__":
    main()
