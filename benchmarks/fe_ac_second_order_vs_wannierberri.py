"""Agreement of the AC and second-order charge responses with WannierBerri on bcc Fe (prints figures).

    PYTHONPATH=$PWD python3 benchmarks/fe_ac_second_order_vs_wannierberri.py

* optical_conductivity vs the Hermitian part of WannierBerri's OpticalConductivity (4^3, 300 K,
  width 0.1 eV, Lorentzian and Gaussian);
* nonlinear_hall_bcd / nonlinear_drude vs WannierBerri's band-resolved sums (exact finite T) and
  vs its NLAHC_FermiSurf / NLDrude_FermiSurf calculators with FermiDiracSmoother at 40 and 80
  energy points per k_BT (6^3, 600 K, tau = 1 fs).
"""
from __future__ import annotations

import numpy as np
from _data import EF_FE, material

from wb_reference import wb_fermi_surface, wb_optical_absorptive, wb_system, wb_tabulated_second_order
from wbentropy.api import compute
from wbentropy.io.w90chk import read_chk
from wbentropy.occupation import kT_eV


def rel(a, b):
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def main() -> None:
    d = material("Fe_Wannier90")
    model, system = read_chk(seed=d / "Fe"), wb_system(seed=d / "Fe")
    w = np.linspace(0.2, 3.0, 8)
    for kind in ("lorentzian", "gaussian"):
        ours = compute(model=model, quantities=["optical_conductivity"], temperatures=[300.0], mus=[EF_FE],
                       kmesh=(4, 4, 4), omegas=w, smearing=kind, smearing_width=0.1)["optical_conductivity"][0]
        wb = wb_optical_absorptive(system=system, mesh=4, mu=[EF_FE], omegas=w, kT_eV=kT_eV(300.0), width=0.1,
                                   kind=kind)
        print(f"optical_conductivity ({kind}): max|ours - WB| / max|WB| = {rel(ours, wb):.2e} "
              f"(max|WB| = {np.max(np.abs(wb)):.4g} S/cm)")
    T = 600.0
    r = compute(model=model, quantities=["nonlinear_hall_bcd", "nonlinear_drude"], temperatures=[T], mus=[EF_FE],
                kmesh=(6, 6, 6), tau_fs=1.0)
    tab = wb_tabulated_second_order(system=system, mesh=6, mu=EF_FE, temperature_K=T)
    for ours, key, calc in (("nonlinear_hall_bcd", "nlahc", "NLAHC_FermiSurf"),
                            ("nonlinear_drude", "nldrude", "NLDrude_FermiSurf")):
        line = f"{ours}: vs WB band-resolved sums {rel(r[ours][0, 0], tab[key]):.2e}"
        for n in (40, 80):
            wb = wb_fermi_surface(system=system, mesh=6, calculator=calc, mu=EF_FE, temperature_K=T,
                                  points_per_kT=n, window_kT=12.0)
            line += f"; vs WB {calc} ({n}/kT) {rel(r[ours][0, 0], wb):.2e}"
        print(line + f"  (max = {np.max(np.abs(tab[key])):.4g} A/V^2 per fs^k)")


if __name__ == "__main__":
    main()
