"""Real Wannier90 data (bcc Fe, GaAs from ../shared/data) against WannierBerri.

Fe: E_F = 17.6255 eV (scf.out).  GaAs: highest occupied level 7.7209 eV (scf.out).
"""
import numpy as np
import pytest
from scipy import constants as sc

from wb_reference import wb_ahc, wb_system

from wbentropy import constants as C
from wbentropy.api import compute
from wbentropy.io.w90chk import read_chk

EF_FE = 17.6255
EF_GAAS_VBM = 7.7209


@pytest.fixture(scope="module")
def fe_model(fe_dir):
    return read_chk(seed=fe_dir / "Fe")


@pytest.fixture(scope="module")
def fe_wb(fe_dir):
    return wb_system(seed=fe_dir / "Fe")


def test_fe_ahc_matches_wannierberri_same_mesh(fe_model, fe_wb):
    mesh = (12, 12, 12)
    mus = [EF_FE - 0.3, EF_FE, EF_FE + 0.2]
    ours = compute(model=fe_model, quantities=["ahc"], temperatures=[0.0], mus=mus, kmesh=mesh)["ahc"][0]
    ref = wb_ahc(system=fe_wb, mesh=mesh, mu=mus)
    assert np.max(np.abs(ref)) > 100.0  # S/cm: a real magnetic metal
    for i in range(len(mus)):
        assert np.allclose(ours[i], ref[i], rtol=0, atol=1e-6 * np.max(np.abs(ref[i])))


def test_fe_entropy_hall_equals_nernst_from_wannierberri_ahc_curve(fe_model, fe_wb):
    """Onsager: sigma^s(T, mu) = alpha = -(1/q) int dE (df/dE) sigma(E) (E-mu)/T (q = -e, the
    electron charge) with sigma(E) the T = 0 AHC curve from WannierBerri (another code)."""
    mesh = (8, 8, 8)
    T = 300.0
    kT = sc.k * T / sc.e
    E = EF_FE + kT * np.linspace(-25, 25, 20001)
    sigma = wb_ahc(system=fe_wb, mesh=mesh, mu=E) * 100.0  # S/m
    x = (E - EF_FE) / kT
    dfde = -np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x))) ** 2 / kT
    volts = C.E_CHARGE / C.ELECTRON_CHARGE  # (E - mu)[J]/q per eV of E - mu
    alpha = -volts * np.trapezoid(dfde[:, None, None] * sigma * (E - EF_FE)[:, None, None] / T, E, axis=0)
    ours = compute(model=fe_model, quantities=["entropy_hall"], temperatures=[T], mus=[EF_FE],
                   kmesh=mesh)["entropy_hall"][0, 0]
    scale = np.max(np.abs(alpha))
    assert scale > 1.0
    assert np.allclose(ours, alpha, rtol=0, atol=1e-3 * scale)


def test_fe_finite_temperature_ahc_matches_wannierberri_band_resolved(fe_model, fe_wb):
    mesh = (6, 6, 6)
    ours = compute(model=fe_model, quantities=["ahc"], temperatures=[300.0], mus=[EF_FE], kmesh=mesh)["ahc"][0, 0]
    ref = wb_ahc(system=fe_wb, mesh=mesh, mu=[EF_FE], temperature_K=300.0)[0]
    assert np.allclose(ours, ref, rtol=0, atol=1e-6 * np.max(np.abs(ref)))


def test_gaas_hall_tensors_negligible(gaas_dir, fe_model):
    gaas = read_chk(seed=gaas_dir / "GaAs")
    mesh = (8, 8, 8)
    mus = [EF_GAAS_VBM - 0.5, EF_GAAS_VBM + 0.5]
    g = compute(model=gaas, quantities=["ahc", "entropy_hall"], temperatures=[300.0], mus=mus, kmesh=mesh)
    fe = compute(model=fe_model, quantities=["ahc", "entropy_hall"], temperatures=[300.0], mus=[EF_FE], kmesh=mesh)
    fe_ahc = np.max(np.abs(fe["ahc"]))
    fe_s = np.max(np.abs(fe["entropy_hall"]))
    print(f"GaAs max|sigma^e| = {np.max(np.abs(g['ahc'])):.3e} S/cm (Fe {fe_ahc:.1f}); "
          f"max|sigma^s| = {np.max(np.abs(g['entropy_hall'])):.3e} A/(m K) (Fe {fe_s:.2f})")
    assert np.max(np.abs(g["ahc"])) < 1e-3 * fe_ahc
    assert np.max(np.abs(g["entropy_hall"])) < 1e-3 * fe_s
