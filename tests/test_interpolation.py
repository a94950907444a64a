"""The fast Fourier sum and Hamiltonian-gauge rotation against their plain definitions."""
import numpy as np
import pytest

from wbentropy.geometry import band_geometry, berry_curvature_bands
from wbentropy.interpolation import ALPHA, BETA, Interpolator
from wbentropy.model import TBModel
from wbentropy.models import random_model


def _direct(model, k):
    """X(k) = sum_R exp(2 pi i k.R) X(R) for H, dH, A, d2H and curl A, by a plain complex sum."""
    ph = np.exp(2j * np.pi * k @ model.R.T)
    Rc = model.R_cart
    H = np.einsum("kR,Rij->kij", ph, model.H)
    dH = np.einsum("kR,Rij,Ra->kaij", ph, model.H, 1j * Rc)
    d2H = np.einsum("kR,Rij,Ra,Rb->kabij", ph, model.H, Rc, -Rc)
    A = np.einsum("kR,Rija->kaij", ph, model.r)
    dA = np.einsum("kR,Rijb,Ra->kabij", ph, model.r, 1j * Rc)  # d_a A_b
    curl = dA[:, ALPHA, BETA] - dA[:, BETA, ALPHA]
    return H, dH, d2H, A, curl


@pytest.mark.parametrize("radius", [1, 2])
def test_real_paired_fourier_sum_equals_complex_sum(radius):
    model = random_model(num_wann=5, radius=radius, seed=7)
    k = np.random.default_rng(0).random((6, 3))
    wg = Interpolator(model=model, second_derivatives=True)(k)
    H, dH, d2H, A, curl = _direct(model, k)
    scale = np.max(np.abs(H))
    assert np.max(np.abs(wg.H - H)) < 1e-13 * scale
    for name, ref in (("dH", dH), ("d2H", d2H), ("A", A), ("curlA", curl)):
        got = wg.get(name)
        assert np.max(np.abs(ref)) > 1e-3
        assert np.max(np.abs(got - ref)) < 1e-12 * np.max(np.abs(ref)), name


def test_non_hermitian_model_gives_the_hermitian_part():
    """A model that breaks X(-R) = X(R)^+ (one R without its opposite, rounding noise)
    is interpolated as the Hermitian part of its Fourier sum."""
    base = random_model(num_wann=3, radius=1, seed=3)
    rng = np.random.default_rng(1)
    R = np.concatenate([base.R, [[2, 0, 0]]])  # (-2, 0, 0) absent
    H = np.concatenate([base.H, 0.1 * (rng.normal(size=(1, 3, 3)) + 1j * rng.normal(size=(1, 3, 3)))])
    H[3] += 1e-3 * rng.normal(size=(3, 3))
    model = TBModel(lattice=base.lattice, R=R, H=H, r=None)
    k = rng.random((4, 3))
    Hk = np.einsum("kR,Rij->kij", np.exp(2j * np.pi * k @ R.T), H)
    herm = 0.5 * (Hk + np.conj(np.swapaxes(Hk, 1, 2)))
    assert np.max(np.abs(Hk - herm)) > 1e-3  # the input really is non-Hermitian
    assert np.allclose(Interpolator(model=model)(k).H, herm, rtol=0, atol=1e-13)


def test_rotations_and_berry_curvature_match_full_matrix_products():
    """band_geometry's batched rotations (full for dH, A; diagonal only for d2H, curl A) and the
    row-sum Berry curvature equal plain U^+ X U products and Wang et al.'s formula with full
    matrix products sum_m X_nm Y_mn."""
    model = random_model(num_wann=6, radius=1, seed=11)
    k = np.random.default_rng(2).random((5, 3))
    geom = band_geometry(Interpolator(model=model, second_derivatives=True)(k))
    H, dH, d2H, A, curl = _direct(model, k)
    E, U = np.linalg.eigh(H)
    rot = lambda X: np.einsum("kin,k...ij,kjm->k...nm", U.conj(), X, U)  # noqa: E731
    # eigenvectors may differ by phases: compare gauge-invariant |X_nm| and diagonals
    assert np.allclose(np.abs(geom.Hbar), np.abs(rot(dH)), atol=1e-12)
    assert np.allclose(np.abs(geom.Abar), np.abs(rot(A)), atol=1e-12)
    assert np.allclose(geom.Obar_nn, np.real(np.einsum("kcnn->kcn", rot(curl))), atol=1e-12)
    assert np.allclose(geom.inverse_mass, np.moveaxis(np.real(np.einsum("kabnn->kabn", rot(d2H))), -1, 1),
                       atol=1e-12)
    # Wang et al. Eq. 27-32 with full products, as the formula is written
    Hb, Ab = rot(dH), rot(A)
    dE = E[:, None, :] - E[:, :, None]
    ok = (np.abs(dE) > 1e-9)[:, None]
    D = np.where(ok, Hb / np.where(ok, dE[:, None], 1), 0)
    diag = lambda X, Y: np.einsum("knm,kmn->kn", X, Y)  # noqa: E731
    ref = np.stack([np.real(np.einsum("knn->kn", rot(curl)[:, c]))
                    - 2 * np.real(diag(D[:, a], Ab[:, b]) - diag(D[:, b], Ab[:, a]))
                    + 2 * np.imag(diag(D[:, a], D[:, b])) for c, (a, b) in enumerate(zip(ALPHA, BETA))], -1)
    assert np.max(np.abs(ref)) > 1e-2
    assert np.allclose(geom.berry_curvature, ref, rtol=1e-10, atol=1e-12 * np.max(np.abs(ref)))
    # the same through the public function with full-layout (non-interleaved) inputs
    again = berry_curvature_bands(D=np.ascontiguousarray(geom.D), Abar=np.ascontiguousarray(geom.Abar),
                                  Obar_nn=geom.Obar_nn)
    assert np.allclose(again, ref, rtol=1e-10, atol=1e-12 * np.max(np.abs(ref)))
