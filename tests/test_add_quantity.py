"""The example of docs/adding_a_quantity.md: a quantity defined here, registered, computed through the CLI and
through a WannierBerri calculator, with its units in the HDF5 file."""
from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from wbentropy import constants as C
from wbentropy import quantities as Q
from wbentropy.api import compute
from wbentropy.cli import main
from wbentropy.io.load import load_model
from wbentropy.physics.occupation import fermi

QWZ = Path(__file__).resolve().parents[1] / "data" / "qwz_tb.dat"


# ---- 1. the physics function: the integrand at each k-point of a batch (docs/adding_a_quantity.md, step 1)
def berry_curvature_sea_per_k(geom, *, temperatures, mus, volume, options):
    """Omega^sea_ab = sum_n int d^3k/(2pi)^3 f_n Omega_n^ab, per k-point, in 1/m.

    The mean over the BZ of (1/V) sum_n f_n Omega_n [Angstrom^2/Angstrom^3 = 1/Angstrom]; times 1e10 in 1/m.
    For a 2D insulator on layers a distance c apart, 2 pi c Omega^sea_xy is the Chern number.
    """
    p = Q.occupation_weighted(geom.E_group, geom.berry_curvature, weight=fermi, temperatures=temperatures, mus=mus,
                              block=options.block_floats, box=geom.occupation_box)
    return Q.pseudovector_to_tensor(p) * (C.PER_ANGSTROM_TO_PER_M / volume)


# ---- 2. the catalogue entry (step 2)
BERRY_CURVATURE_SEA = Q.Quantity(
    name="berry_curvature_sea", units="1/m", symbol=r"\Omega^{sea}",
    formula="Omega^sea_ab = sum_n int d3k/(2pi)^3 f_n Omega_n^ab",
    per_k=berry_curvature_sea_per_k, antisymmetric=True, time_reversal="odd", operators=("H", "AA"))


@pytest.fixture
def registered():
    Q.register(BERRY_CURVATURE_SEA)
    yield BERRY_CURVATURE_SEA
    Q.unregister(BERRY_CURVATURE_SEA.name)


@pytest.fixture(scope="module")
def qwz():
    return load_model(tb=str(QWZ))


# ---- 3. the tests (step 3)
def test_through_the_cli_with_units_in_the_file(registered, qwz, tmp_path):
    out = tmp_path / "sea.h5"
    assert main(["compute", "--tb", str(QWZ), "--quantities", "berry_curvature_sea,ahc", "--kmesh", "24", "24", "1",
                 "--temperature", "30", "--mu", "0", "--out", str(out)]) == 0
    with h5py.File(out, "r") as h:
        g = h["berry_curvature_sea"]
        assert g["value"].attrs["units"] == "1/m"
        assert g.attrs["formula"] == registered.formula
        sea, ahc = g["value"][0, 0], h["ahc"]["value"][0, 0]
    # independent routes: the ahc of the same run, sigma^e = -(e^2/hbar) Omega^sea (S/cm -> S/m: x 100) ...
    assert sea == pytest.approx(ahc * 100 / -(C.E2_OVER_HBAR), rel=1e-12, abs=0)
    # ... and the Chern number of the QWZ model in its gap: 2 pi c Omega^sea_xy = +-1 (c: out-of-plane length, m)
    c = abs(np.linalg.det(qwz.lattice)) / np.linalg.norm(np.cross(qwz.lattice[0], qwz.lattice[1])) * 1e-10
    assert abs(2 * np.pi * c * sea[0, 1]) == pytest.approx(1.0, abs=1e-3)
    assert sea[0, 1] == -sea[1, 0]


def test_unknown_once_unregistered(registered, tmp_path):
    Q.unregister(registered.name)
    try:
        with pytest.raises(SystemExit) as exc:
            main(["compute", "--tb", str(QWZ), "--quantities", "berry_curvature_sea", "--kmesh", "4", "4", "1",
                  "--out", str(tmp_path / "x.h5")])
        assert exc.value.code == 2
        assert not (tmp_path / "x.h5").exists()
    finally:
        Q.register(registered)


def test_a_name_is_registered_once(registered):
    with pytest.raises(ValueError, match="'berry_curvature_sea' is already in the catalogue"):
        Q.register(registered)
    with pytest.raises(ValueError, match="'ahc' is already in the catalogue"):
        Q.register(Q.QUANTITIES["ahc"])


def test_through_a_wannierberri_calculator(registered, qwz, tmp_path):
    pytest.importorskip("wannierberri")
    from wb_reference import _run, wb_system_from_model

    from wbentropy.wannierberri import calculator_class

    calc = calculator_class("berry_curvature_sea")
    assert calc.transformTR.factor == -1 and calc._units == "1/m, pseudovector (yz, zx, xy)"
    mus = np.array([-0.5, 0.0, 0.5])
    res = _run(wb_system_from_model(qwz), (8, 8, 1), {"sea": calc(Efermi=mus, temperature=300.0)}, 16)
    data = res.results["sea"].data  # (nmu, 3) = (yz, zx, xy)
    ref = compute(model=qwz, quantities=["berry_curvature_sea"], temperatures=[300.0], mus=mus,
                  kmesh=[8, 8, 1])["berry_curvature_sea"][0]
    assert data[:, 2] == pytest.approx(ref[:, 0, 1], rel=1e-8, abs=1e-8 * np.max(np.abs(ref)))
