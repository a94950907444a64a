"""Second-order DC currents (Berry curvature dipole, nonlinear Drude), charge and entropy versions."""
import numpy as np
import pytest

from wbentropy.api import compute
from wbentropy.models import random_model

PAIRS = [("nonlinear_hall_bcd", "entropy_nonlinear_hall_bcd"), ("nonlinear_drude", "entropy_nonlinear_drude")]


@pytest.mark.parametrize("charge,entropy", PAIRS)
def test_maxwell_relation_for_second_order_pairs(charge, entropy):
    """f -> s with k_B s = -d_T g and f = -d_mu g holds state by state, hence for every response built
    from f and its energy derivatives: d_T sigma^e = -e d_mu sigma^s ([A/(V^2 K)] = -[A/(V K)] per V)."""
    model = random_model(num_wann=4, seed=3)
    T, mu, hT, hmu = 500.0, 0.1, 0.5, 5e-5
    r = compute(model=model, quantities=[charge, entropy], temperatures=[T - hT, T, T + hT],
                mus=[mu - hmu, mu, mu + hmu], kmesh=(6, 6, 6), tau_fs=3.0)
    d_T = (r[charge][2, 1] - r[charge][0, 1]) / (2 * hT)
    d_mu = (r[entropy][1, 2] - r[entropy][1, 0]) / (2 * hmu)
    scale = np.max(np.abs(d_T))
    assert scale > 0
    np.testing.assert_allclose(d_T, -d_mu, rtol=0, atol=2e-4 * scale)


def test_tau_scaling_and_units():
    model = random_model(num_wann=3, seed=5)
    kw = dict(model=model, quantities=[q for p in PAIRS for q in p], temperatures=[400.0], mus=[0.0], kmesh=(5, 5, 5))
    a, b = compute(tau_fs=1.0, **kw), compute(tau_fs=2.0, **kw)
    for q in ("nonlinear_hall_bcd", "entropy_nonlinear_hall_bcd"):
        np.testing.assert_allclose(b[q], 2 * a[q], rtol=1e-12)
        assert a[q].shape == (1, 1, 3, 3)
    for q in ("nonlinear_drude", "entropy_nonlinear_drude"):
        np.testing.assert_allclose(b[q], 4 * a[q], rtol=1e-12)
        assert a[q].shape == (1, 1, 3, 3, 3)
        np.testing.assert_allclose(a[q], np.swapaxes(a[q], 2, 3), atol=1e-12 * np.max(np.abs(a[q])))  # d_a d_b E
    assert b.quantities["nonlinear_drude"].attrs["axes"] == "temperature, mu, a, b, c"
    assert "xyz" in b.to_text()


@pytest.mark.parametrize("ours,theirs", [("nonlinear_hall_bcd", "NLAHC_FermiSurf"),
                                         ("nonlinear_drude", "NLDrude_FermiSurf")])
def test_charge_versions_match_wannierberri_fe(fe_dir, ours, theirs):
    """Same mesh (6^3), T = 600 K, tau = 1 fs: WannierBerri's Fermi-surface calculators, finite T by its own
    FermiDiracSmoother on an energy grid of 40 points per k_BT.  The residual (4e-3 of the largest
    component) is WannierBerri's energy-grid discretisation: it halves with 80 points per k_BT."""
    from wb_reference import FE_FERMI_EV, wb_fermi_surface, wb_system
    from wbentropy.io.w90chk import read_chk

    model = read_chk(seed=fe_dir / "Fe")
    T, mu = 600.0, FE_FERMI_EV
    val = compute(model=model, quantities=[ours], temperatures=[T], mus=[mu], kmesh=(6, 6, 6), tau_fs=1.0)[ours][0, 0]
    wb = wb_fermi_surface(system=wb_system(seed=fe_dir / "Fe"), mesh=6, calculator=theirs, mu=mu, temperature_K=T,
                          points_per_kT=40, window_kT=12.0)
    assert np.max(np.abs(wb)) > 1e-4
    np.testing.assert_allclose(val, wb, rtol=0, atol=1e-2 * np.max(np.abs(wb)))
