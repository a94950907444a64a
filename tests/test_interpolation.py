"""The fast Fourier sum and Hamiltonian-gauge rotation against their plain definitions."""
import numpy as np
import pytest

from wbentropy.kspace.geometry import band_geometry
from wbentropy.kspace.interpolation import Interpolator
from wbentropy.model import TBModel
from wbentropy.physics.geometry import ALPHA, BETA, berry_curvature_bands
from wbentropy.toy_models import random_model


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



def test_without_derivatives_only_h_and_the_operators_are_built():
    """derivatives=False (band energies): H(k) alone (with position=False), a quarter of the operator array, equal
    to the plain complex sum and to the route with derivatives, by the direct sum and by the mixed FFT; with the
    position operator A(k) but not its curl."""
    model = random_model(num_wann=5, radius=2, seed=7)
    nfft, offset = (3, 4, 2), np.array([0.1, 0.0, 0.25])
    m = np.stack(np.meshgrid(*[np.arange(n) for n in nfft], indexing="ij"), axis=-1).reshape(-1, 3)
    k = offset + m / np.asarray(nfft)
    H, _, _, A, _ = _direct(model, k)
    bare = Interpolator(model=model, position=False, derivatives=False)
    full = Interpolator(model=model, position=False)
    assert bare.layout == {} and bare.operator_bytes * 4 == full.operator_bytes
    for wg in (bare(k), bare.fft_block(offset=offset, nfft=nfft)):
        assert wg.full.shape[2] == wg.diag.shape[2] == 0
        assert np.max(np.abs(wg.H - H)) < 1e-13 * np.max(np.abs(H))
    assert np.max(np.abs(bare(k).H - full(k).H)) < 1e-14 * np.max(np.abs(H))    # round-off of the product
    with_A = Interpolator(model=model, derivatives=False, second_derivatives=True)
    assert set(with_A.layout) == {"A"}
    assert np.max(np.abs(with_A(k).get("A") - A)) < 1e-12 * np.max(np.abs(A))

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


@pytest.mark.parametrize("nfft,offset", [((4, 4, 4), (0.1, 0.02, 0.3)), ((3, 5, 2), (0.0, 0.0, 0.0)),
                                         ((6, 1, 4), (0.05, 0.0, 0.1))])
def test_mixed_fft_equals_the_plain_complex_sum(nfft, offset):
    """The FFT sub-grid route (fold R onto the grid with phases, then FFT) against the plain sum,
    with R-vectors longer than the sub-grid (radius 2 on a 3- or 2-point direction: aliasing)."""
    model = random_model(num_wann=4, radius=2, seed=3)
    m = np.stack(np.meshgrid(*[np.arange(n) for n in nfft], indexing="ij"), axis=-1).reshape(-1, 3)
    k = np.asarray(offset) + m / np.asarray(nfft)
    wg = Interpolator(model=model, second_derivatives=True).fft_block(offset=np.asarray(offset), nfft=nfft)
    H, dH, d2H, A, curl = _direct(model, k)
    assert np.max(np.abs(wg.H - H)) < 1e-13 * np.max(np.abs(H))
    for name, ref in (("dH", dH), ("d2H", d2H), ("A", A), ("curlA", curl)):
        assert np.max(np.abs(wg.get(name) - ref)) < 1e-12 * np.max(np.abs(ref)), name


def test_uniform_mesh_by_fft_subgrids_equals_direct_sums():
    """integrate_uniform on FFT sub-grids = on consecutive batches of direct sums, every quantity
    family (Berry curvature, metric, Drude, Hessian), for meshes whose sides factor in several ways."""
    from wbentropy.evaluate import Evaluator
    from wbentropy.integrate.uniform import UniformMesh, integrate_uniform
    from wbentropy.quantities import Options, get_quantities

    model = random_model(num_wann=4, radius=2, seed=5)
    names = ["ahc", "entropy_hall", "entropy_production", "drude_conductivity", "entropy_drude"]
    ev = Evaluator(model=model, quantities=get_quantities(names), temperatures=[100.0, 300.0], mus=[-0.1, 0.2],
                   options=Options(tau_fs=10.0), batch_size=100)
    for shape in [(12, 12, 12), (10, 6, 1), (7, 9, 5)]:
        mesh = UniformMesh(shape)
        direct = integrate_uniform(evaluator=ev, mesh=mesh, fft=False)
        fft = integrate_uniform(evaluator=ev, mesh=mesh, fft=True)
        assert np.max(np.abs(direct)) > 0
        assert np.max(np.abs(fft - direct)) < 1e-12 * np.max(np.abs(direct)), shape


def test_fft_subgrid_choice():
    from wbentropy.integrate.uniform import UniformMesh

    mesh = UniformMesh((32, 32, 32))
    assert mesh.fft_subgrid(4096) == (16, 16, 16)
    assert mesh.fft_subgrid(2600) == (8, 16, 16)
    assert UniformMesh((7, 9, 5)).fft_subgrid(100) == (7, 9, 1)
    off = mesh.offsets((16, 16, 16))
    assert off.shape == (8, 3) and np.allclose(off[-1], [1 / 32, 1 / 32, 1 / 32])


def test_bundled_fe_model_takes_the_fft_route_and_agrees():
    """The project's Fe model (881 R-vectors) is evaluated by FFT sub-grids by default; the result
    equals the direct sums (to round-off) on the README's kind of run."""
    from pathlib import Path

    from wbentropy.api import compute
    from wbentropy.evaluate import Evaluator
    from wbentropy.integrate.uniform import UniformMesh, integrate_uniform
    from wbentropy.io.load import load_model
    from wbentropy.quantities import Options, get_quantities

    data = Path(__file__).resolve().parents[1] / "data"
    model = load_model(hr=data / "Fe_hr.dat.gz", r=data / "Fe_r.dat.gz", wsvec=data / "Fe_wsvec.dat.gz",
                       win=data / "Fe.win")
    res = compute(model=model, quantities=["ahc"], temperatures=[300.0], mus=[17.3811], kmesh=(8, 8, 8))
    assert res.attrs["fourier"].startswith("mixed FFT")
    ev = Evaluator(model=model, quantities=get_quantities(["ahc", "entropy_hall"]), temperatures=[300.0],
                   mus=[17.3811], options=Options())
    mesh = UniformMesh((8, 8, 8))
    a = integrate_uniform(evaluator=ev, mesh=mesh, fft=False)
    b = integrate_uniform(evaluator=ev, mesh=mesh, fft=True)
    # round-off of the two Fourier routes (1e-15 in H) is amplified by the hot spots, where the
    # Berry curvature goes as 1/gap^2: measured 1.4e-11 relative here
    assert np.max(np.abs(b - a)) < 1e-9 * np.max(np.abs(a))
    np.testing.assert_allclose(res["ahc"][0, 0], ev.values(b)[0][0, 0], rtol=0, atol=1e-12 * np.max(np.abs(a)))
