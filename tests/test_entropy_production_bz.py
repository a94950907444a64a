"""Entropy production and Drude responses integrated over the Brillouin zone of lattice models."""
import numpy as np
import pytest

from wbentropy import constants as C
from wbentropy.api import compute
from wbentropy.kspace.geometry import band_geometry
from wbentropy.kspace.interpolation import Interpolator
from wbentropy.toy_models import qwz_chern_model, random_model

EP = ["entropy_production", "entropy_production_drude", "entropy_production_interband",
      "entropy_production_qm", "entropy_production_nonqm", "drude_conductivity", "entropy_drude"]


@pytest.fixture(scope="module")
def qwz():
    return qwz_chern_model(mass=-1.0, tz=0.3, a=3.0, c=5.0)


@pytest.fixture(scope="module")
def qwz_result(qwz):
    # Fermi-surface integrands need k_B T larger than the mesh's energy resolution: the
    # sea/surface identities below are exact only in the continuum (adaptive meshes: issue 4).
    return compute(model=qwz, quantities=EP + ["entropy_current_zero_field"], temperatures=[300.0, 3000.0],
                   mus=[-1.6, -0.9, 0.0, 1.2], kmesh=(64, 64, 40), tau_fs=10.0)


def test_drude_part_is_sigma_drude_over_T(qwz_result):
    r = qwz_result
    T = r.temperature[:, None, None, None]
    assert np.max(np.abs(r["drude_conductivity"])) > 1e3  # S/cm
    expected = r["drude_conductivity"] * C.S_PER_CM_TO_S_PER_M / T
    assert np.allclose(r["entropy_production_drude"], expected, rtol=1e-10, atol=1e-12 * np.max(np.abs(expected)))


def test_fermi_surface_and_fermi_sea_drude_agree(qwz_result):
    """Eq. 19 (Fermi surface, -df/dE v v) vs Eq. 20 (Fermi sea, v^ab + 2 sum eps g): QM + nonQM - interband."""
    r = qwz_result
    sea = (r["entropy_production_qm"] + r["entropy_production_nonqm"] - r["entropy_production_interband"])[1]
    surf = r["entropy_production_drude"][1]  # 3000 K
    scale = np.max(np.abs(surf), axis=(-1, -2), keepdims=True)
    assert np.all(scale > 1.0)
    assert np.all(np.abs(sea - surf) <= 1e-5 * scale)


def test_positive_and_symmetric_everywhere_scanned(qwz):
    mus = np.linspace(-3.0, 3.0, 31)
    r = compute(model=qwz, quantities=["entropy_production", "entropy_production_interband"],
                temperatures=[30.0, 300.0, 3000.0], mus=mus, kmesh=(24, 24, 4), tau_fs=5.0)
    for q in ("entropy_production", "entropy_production_interband"):
        v = r[q]
        assert np.allclose(v, np.swapaxes(v, -1, -2), rtol=0, atol=1e-12 * np.max(np.abs(v)))
        eig = np.linalg.eigvalsh(v)
        assert np.all(eig >= -1e-12 * np.max(np.abs(eig)))
    # the interband part is strictly positive in-plane at any mu (quantum metric of a Chern band)
    assert np.all(r["entropy_production_interband"][..., 0, 0] > 0)


def test_tau_scaling(qwz):
    kw = dict(model=qwz, quantities=["entropy_production_drude", "entropy_production_interband"],
              temperatures=[300.0], mus=[-1.6, 0.0], kmesh=(32, 32, 4))
    a = compute(tau_fs=10.0, **kw)
    b = compute(tau_fs=20.0, **kw)
    assert np.allclose(b["entropy_production_drude"], 2 * a["entropy_production_drude"], rtol=1e-12)
    # interband ~ 1/tau while hbar/tau << gaps (eta = 0.066 and 0.033 eV vs gaps >= 2 eV)
    ia, ib = a["entropy_production_interband"][..., 0, 0], b["entropy_production_interband"][..., 0, 0]
    assert np.allclose(ib, ia / 2, rtol=2e-3)


def test_paper_form_overestimates_interband(qwz):
    kw = dict(model=qwz, quantities=["entropy_production_interband"], temperatures=[300.0], mus=[0.0],
              kmesh=(24, 24, 4), tau_fs=10.0)
    exact = compute(**kw)
    paper = compute(entropy_production_form="paper", **kw)
    ratio = paper["entropy_production_interband"][0, 0, 0, 0] / exact["entropy_production_interband"][0, 0, 0, 0]
    assert ratio > 1e10  # exp(gap/2kT) with a >= 2 eV gap at 300 K
    assert "Eq. (18) as printed" in paper.quantities["entropy_production_interband"].attrs["form"]
    assert "Kubo-Mori" in exact.quantities["entropy_production_interband"].attrs["form"]


def test_zero_field_entropy_current_vanishes(qwz_result):
    j = qwz_result["entropy_current_zero_field"]
    # scale: the same sum with |v| (no cancellation between +k and -k)
    assert j.shape == (2, 4, 3)
    assert np.max(np.abs(j)) < 1e-6 * C.ENTROPY_CURRENT_FACTOR / (3.0 * 3.0 * 5.0)


def test_band_hessian_matches_finite_differences():
    model = random_model(num_wann=4, seed=2)
    interp = Interpolator(model=model, second_derivatives=True)
    k0 = np.array([[0.13, 0.27, 0.41]])
    geom = band_geometry(interp(k0))
    B = model.lattice  # k_red = k_cart . a_i / 2pi
    h = 1e-4
    E = lambda kc: np.linalg.eigvalsh(interp(k0 + (B @ kc)[None] / (2 * np.pi)).H)[0]  # noqa: E731
    hess = np.zeros((4, 3, 3))
    for a in range(3):
        for b in range(3):
            ea, eb = np.eye(3)[a] * h, np.eye(3)[b] * h
            hess[:, a, b] = (E(ea + eb) - E(ea - eb) - E(-ea + eb) + E(-ea - eb)) / (4 * h * h)
    assert np.allclose(geom.band_hessian[0], hess, rtol=1e-5, atol=1e-5 * np.max(np.abs(hess)))
    v_fd = np.stack([(E(np.eye(3)[a] * h) - E(-np.eye(3)[a] * h)) / (2 * h) for a in range(3)], -1)
    assert np.allclose(geom.velocity[0], v_fd, rtol=1e-6, atol=1e-8)  # O(h^2) finite differences


def test_entropy_drude_fermi_surface_equals_fermi_sea(qwz):
    """Eq. 27 first term: -tau sum_n int s_n d_a d_b E_n (Fermi sea, band Hessian) equals the
    Fermi-surface form used by the code, -tau int x (-df/dE) v v."""
    from wbentropy.integrate.uniform import UniformMesh
    from wbentropy.physics.occupation import entropy, kT_eV

    T, mu, tau = 3000.0, -1.6, 10.0
    mesh = UniformMesh((64, 64, 40))
    interp = Interpolator(model=qwz, second_derivatives=True)
    geom = band_geometry(interp(mesh.points(0, mesh.size)))
    s = entropy(geom.E_group, mu=mu, kT=kT_eV(T))
    sea = -np.einsum("kn,knab->ab", s, geom.band_hessian) / mesh.size
    eta = C.HBAR_EV_FS / tau
    sea *= C.ENTROPY_HALL_FACTOR_A_PER_MK / (qwz.volume * eta)
    code = compute(model=qwz, quantities=["entropy_drude"], temperatures=[T], mus=[mu], kmesh=mesh.shape,
                   tau_fs=tau)["entropy_drude"][0, 0]
    assert np.max(np.abs(code)) > 0.1
    assert np.allclose(code, sea, rtol=0, atol=1e-6 * np.max(np.abs(code)))


def test_entropy_production_gauge_invariant_with_degenerate_bands():
    """Two identical copies of a random model (every band doubly degenerate), rotated by a random
    unitary mixing the copies: velocities inside degenerate pairs are basis dependent, group traces
    are not."""
    base = random_model(num_wann=3, seed=8)
    from wbentropy.model import TBModel

    H = np.zeros((base.H.shape[0], 6, 6), dtype=complex)
    r = np.zeros(H.shape + (3,), dtype=complex)
    H[:, :3, :3] = H[:, 3:, 3:] = base.H
    r[:, :3, :3] = r[:, 3:, 3:] = base.r
    doubled = TBModel(lattice=base.lattice, R=base.R, H=H, r=r, name="doubled")
    rng = np.random.default_rng(0)
    U = np.linalg.qr(rng.normal(size=(6, 6)) + 1j * rng.normal(size=(6, 6)))[0]
    kw = dict(quantities=["entropy_production_drude", "entropy_production_interband", "drude_conductivity",
                          "entropy_drude", "ahc", "entropy_hall"],
              temperatures=[300.0], mus=[0.0, 0.2], kmesh=(5, 5, 5), tau_fs=10.0)
    a = compute(model=doubled, **kw)
    b = compute(model=doubled.rotated(U), **kw)
    single = compute(model=base, **kw)
    for q in kw["quantities"]:
        scale = np.max(np.abs(a[q]))
        assert scale > 0, q
        assert np.max(np.abs(a[q] - b[q])) < 1e-9 * scale, q
        assert np.allclose(a[q], 2 * single[q], rtol=1e-9, atol=1e-9 * scale), q


def test_errors_for_missing_tau_and_zero_temperature(qwz):
    from wbentropy.errors import InputError

    with pytest.raises(InputError, match="give tau_fs"):
        compute(model=qwz, quantities=["entropy_production"], temperatures=[300.0], mus=[0.0], kmesh=(4, 4, 1))
    with pytest.raises(InputError, match="T > 0"):
        compute(model=qwz, quantities=["entropy_production"], temperatures=[0.0], mus=[0.0], kmesh=(4, 4, 1),
                tau_fs=10)
    with pytest.raises(InputError, match="> 0 fs"):
        compute(model=qwz, quantities=["drude_conductivity"], temperatures=[10.0], mus=[0.0], kmesh=(4, 4, 1),
                tau_fs=-1)
