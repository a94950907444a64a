"""Second-order DC currents (Berry curvature dipole, nonlinear Drude), charge and entropy versions."""
import numpy as np
import pytest

from wbentropy.api import compute
from wbentropy.toy_models import random_model

PAIRS = [("nonlinear_hall_bcd", "entropy_nonlinear_hall_bcd"), ("nonlinear_drude", "entropy_nonlinear_drude_fs"),
         ("intrinsic_nonlinear_hall", "entropy_intrinsic_nonlinear_hall")]


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
    kw = dict(model=model, quantities=[q for p in PAIRS for q in p] + ["entropy_nonlinear_drude"], temperatures=[400.0],
              mus=[0.0], kmesh=(5, 5, 5))
    a, b = compute(tau_fs=1.0, **kw), compute(tau_fs=2.0, **kw)
    for q in ("nonlinear_hall_bcd", "entropy_nonlinear_hall_bcd"):
        np.testing.assert_allclose(b[q], 2 * a[q], rtol=1e-12)
        assert a[q].shape == (1, 1, 3, 3)
    for q in ("intrinsic_nonlinear_hall", "entropy_intrinsic_nonlinear_hall"):
        np.testing.assert_array_equal(b[q], a[q])  # tau^0
    for q in ("nonlinear_drude", "entropy_nonlinear_drude", "entropy_nonlinear_drude_fs"):
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


def _tilted_qwz():
    """2D QWZ (gapped everywhere, no band crossings) with an inversion-breaking tilt 0.3 sin k_x and a band
    shift 0.2 cos k_y (eV): a smooth connection polarizability and a nonzero intrinsic nonlinear Hall tensor."""
    from wbentropy.model import TBModel
    from wbentropy.toy_models import qwz_chern_model

    q = qwz_chern_model(mass=-1.0, tz=0.0)
    H, R = q.H.copy(), [tuple(x) for x in q.R]
    H[R.index((1, 0, 0))] += 0.3 / 2j * np.eye(2)
    H[R.index((-1, 0, 0))] -= 0.3 / 2j * np.eye(2)
    H[R.index((0, 1, 0))] += 0.1 * np.eye(2)
    H[R.index((0, -1, 0))] += 0.1 * np.eye(2)
    return TBModel(lattice=q.lattice, R=q.R, H=H, r=q.r, name="tilted_qwz")


def test_connection_polarizability_is_the_stark_curvature_of_the_bands():
    """G^ab_n = d^2 eps_n(F)/dF_a dF_b of H(F) = diag(E) + F.r (r the interband connection, band basis):
    second-order perturbation theory checked against exact diagonalisation (finite differences in F)."""
    from wbentropy.kspace.geometry import band_geometry
    from wbentropy.kspace.interpolation import Interpolator

    model = random_model(num_wann=4, seed=7)
    k = np.random.default_rng(2).random((6, 3))
    g = band_geometry(Interpolator(model=model)(k))
    G = g.connection_polarizability
    r = g.r  # (nk, n, m, a)
    h = 2e-4

    def energies(F):
        return np.linalg.eigvalsh(np.einsum("nm,kn->knm", np.eye(4), g.E) + np.einsum("knma,a->knm", r, F))

    fd = np.empty_like(G)
    for a in range(3):
        for b in range(3):
            ea, eb = np.eye(3)[a] * h, np.eye(3)[b] * h
            fd[:, :, a, b] = (energies(ea + eb) - energies(ea - eb) - energies(eb - ea)
                              + energies(-ea - eb)) / (4 * h * h)
    gaps = np.min(np.abs(g.E[:, :, None] - g.E[:, None, :]) + np.eye(4) * 1e9, axis=2)
    assert np.min(gaps) > 0.05 and np.max(np.abs(G)) > 1e-2
    np.testing.assert_allclose(fd, G, rtol=0, atol=1e-5 * np.max(np.abs(G)))


def test_intrinsic_nonlinear_hall_fermi_sea_form_and_hall_property():
    """Fermi surface form (the quantity) = Fermi-sea form -(e^3/hbar) int f [d_a G_bc - (d_b G_ac + d_c G_ab)/2]
    with d G from finite differences in k, on a gapped model at 3000 K (64^2); and j.E = chi_abc E_a E_b E_c = 0."""
    from wbentropy import constants as C
    from wbentropy.kspace.geometry import band_geometry
    from wbentropy.integrate.uniform import UniformMesh
    from wbentropy.kspace.interpolation import Interpolator
    from wbentropy.physics.occupation import fermi, kT_eV

    model, T, mu, N = _tilted_qwz(), 3000.0, 0.0, 64
    surf = compute(model=model, quantities=["intrinsic_nonlinear_hall"], temperatures=[T], mus=[mu],
                   kmesh=(N, N, 1))["intrinsic_nonlinear_hall"][0, 0]
    interp = Interpolator(model=model)
    k = UniformMesh((N, N, 1)).points(0, N * N)
    f = fermi(band_geometry(interp(k)).E_group, mu=mu, kT=kT_eV(T))
    h, to_red = 1e-4, model.lattice / (2 * np.pi)
    S = np.zeros((3, 3, 3))  # [d, b, c] = <sum_n f_n d_d G_n^bc>
    for d in range(2):
        dk = (np.eye(3)[d] * h) @ to_red.T
        dG = (band_geometry(interp(k + dk)).connection_polarizability
              - band_geometry(interp(k - dk)).connection_polarizability) / (2 * h)
        S[d] = np.einsum("kn,knbc->bc", f, dG) / len(k)
    sea = -C.INTRINSIC_NL_HALL_FACTOR / model.volume * (S - 0.5 * (np.swapaxes(S, 0, 1) + np.transpose(S, (1, 2, 0))))
    assert np.max(np.abs(surf)) > 1e-8
    np.testing.assert_allclose(surf, sea, rtol=0, atol=1e-6 * np.max(np.abs(surf)))
    E = np.random.default_rng(0).normal(size=(4, 3))
    assert np.max(np.abs(np.einsum("abc,ia,ib,ic->i", surf, E, E, E))) < 1e-12 * np.max(np.abs(surf))


def test_charge_versions_equal_wannierberri_band_resolved_sums_fe(fe_dir):
    """Exact finite-T comparison: WannierBerri's tabulated v, Omega and d_a d_b E (same 6^3 mesh) summed with
    -df/dE and its factor_nlahc/factor_nldrude give our tensors to round-off (observed 1e-12), at 300 and 600 K."""
    from wb_reference import FE_FERMI_EV, wb_system, wb_tabulated_second_order
    from wbentropy.io.w90chk import read_chk

    model, system = read_chk(seed=fe_dir / "Fe"), wb_system(seed=fe_dir / "Fe")
    for T in (300.0, 600.0):
        wb = wb_tabulated_second_order(system=system, mesh=6, mu=FE_FERMI_EV, temperature_K=T)
        r = compute(model=model, quantities=["nonlinear_hall_bcd", "nonlinear_drude"], temperatures=[T],
                    mus=[FE_FERMI_EV], kmesh=(6, 6, 6), tau_fs=1.0)
        for ours, theirs in (("nonlinear_hall_bcd", "nlahc"), ("nonlinear_drude", "nldrude")):
            assert np.max(np.abs(wb[theirs])) > 1e-5
            np.testing.assert_allclose(r[ours][0, 0], wb[theirs], rtol=0, atol=1e-9 * np.max(np.abs(wb[theirs])))
