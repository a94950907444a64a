"""The .chk reader (through WannierBerri) and the WannierBerri AHC reference, on real Fe/GaAs data."""
from __future__ import annotations

import os

import numpy as np
import pytest

from wb_reference import (FE_FERMI_EV, FE_POSTW90_AHC_10, grid_arguments, pseudovector, wb_ahc,
                          wb_eigenvalues, wb_system, wb_system_from_model)
from wbentropy import InputError, TBModel
from wbentropy.io.w90chk import read_chk


@pytest.fixture(scope="session")
def fe_model(fe_dir) -> TBModel:
    return read_chk(seed=fe_dir / "Fe")


@pytest.fixture(scope="session")
def fe_wb(fe_dir):
    return wb_system(seed=fe_dir / "Fe")


@pytest.fixture(scope="session")
def fe_wb_ahc_10(fe_wb):
    return wb_ahc(system=fe_wb, mesh=10, mu=[FE_FERMI_EV - 0.2, FE_FERMI_EV])


def _hk(model: TBModel, k: np.ndarray) -> np.ndarray:
    phase = np.exp(2j * np.pi * k @ model.R.T)
    return np.einsum("kr,rmn->kmn", phase, model.H)


def test_fe_loads_with_expected_shapes(fe_model, fe_wb, fe_dir):
    m = fe_model
    nR = m.R.shape[0]
    assert m.num_wann == 18
    assert m.H.shape == (nR, 18, 18) and m.r.shape == (nR, 18, 18, 3)
    assert m.name == "Fe" and m.sources["primary"] == str(fe_dir / "Fe.chk")
    np.testing.assert_allclose(m.lattice, fe_wb.real_lattice, atol=0)
    assert {tuple(v) for v in m.R} == {tuple(v) for v in fe_wb.rvec.iRvec}
    assert {tuple(-v) for v in m.R} == {tuple(v) for v in m.R}
    assert m.hermiticity_error() < 1e-12
    index = {tuple(v): i for i, v in enumerate(m.R)}
    minus = [index[tuple(-v)] for v in m.R]
    assert np.abs(m.r - np.conj(np.swapaxes(m.r[minus], 1, 2))).max() < 1e-12


def test_fe_arrays_are_wannierberri_arrays(fe_model, fe_wb):
    """H(R) is WB's Ham_R; r(R) is WB's AA_R plus the chk centres on the R=0 diagonal."""
    index = {tuple(v): i for i, v in enumerate(fe_model.R)}
    order = [index[tuple(v)] for v in fe_wb.rvec.iRvec]
    np.testing.assert_allclose(fe_model.H[order], fe_wb.get_R_mat("Ham"), rtol=0, atol=1e-14)
    AA = fe_wb.get_R_mat("AA").copy()
    AA[fe_wb.rvec.iR0, np.arange(18), np.arange(18)] += fe_wb.wannier_centers_cart
    np.testing.assert_allclose(fe_model.r[order], AA, rtol=0, atol=1e-14)


def test_fe_centres(fe_model, fe_wb):
    AA0 = fe_wb.get_R_mat("AA")[fe_wb.rvec.iR0]
    diag_AA0 = np.real(np.einsum("mma->ma", AA0))
    np.testing.assert_allclose(fe_model.centres - diag_AA0, fe_wb.wannier_centers_cart, rtol=0, atol=1e-12)
    # WB's convention-I finite differences leave |AA_nn(0)| up to ~0.011 A for Fe.
    assert np.abs(fe_model.centres - fe_wb.wannier_centers_cart).max() < 0.02


def test_fe_eigenvalues_match_wannierberri(fe_model, fe_wb):
    k = np.random.default_rng(20240601).random((20, 3))
    ours = np.linalg.eigvalsh(_hk(fe_model, k))
    theirs = wb_eigenvalues(system=fe_wb, k=k)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-10)


def test_grid_arguments_give_exact_mesh():
    assert grid_arguments(10) == {"NKdiv": (1, 1, 1), "NKFFT": (10, 10, 10)}
    assert grid_arguments((40, 12, 7)) == {"NKdiv": (4, 1, 1), "NKFFT": (10, 12, 7)}


def test_wb_ahc_reproduces_postw90_readme(fe_wb_ahc_10):
    sigma = fe_wb_ahc_10[1]
    np.testing.assert_allclose(sigma, -sigma.T, atol=0)
    np.testing.assert_allclose(pseudovector(sigma), FE_POSTW90_AHC_10, rtol=0, atol=1.0)


def test_wb_ahc_of_converted_model_is_unchanged(fe_model, fe_wb_ahc_10):
    """Round trip TBModel -> WB (centres re-derived from r) gives the same AHC: r was converted exactly."""
    sigma = wb_ahc(system=wb_system_from_model(fe_model), mesh=10, mu=[FE_FERMI_EV - 0.2, FE_FERMI_EV])
    np.testing.assert_allclose(sigma, fe_wb_ahc_10, rtol=0, atol=1e-7)


def test_wb_ahc_tabulate_route_matches_calculator(fe_wb):
    mu = FE_FERMI_EV + np.array([0.1, -0.3, 0.0])    # non-uniform: one calculator per mu
    a = wb_ahc(system=fe_wb, mesh=4, mu=mu)
    b = wb_ahc(system=fe_wb, mesh=4, mu=mu, method="tabulate")
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-8)
    warm = wb_ahc(system=fe_wb, mesh=4, mu=mu, temperature_K=1e-3)
    np.testing.assert_allclose(warm, a, rtol=0, atol=1e-6)


def test_gaas_loads_without_nnkp(gaas_dir):
    assert not (gaas_dir / "GaAs.nnkp").exists()
    m = read_chk(seed=gaas_dir / "GaAs", name="gaas")
    assert m.name == "gaas" and m.num_wann == 16 and m.sources["nnkp"] is None
    k = np.random.default_rng(1).random((5, 3))
    theirs = wb_eigenvalues(system=wb_system(seed=gaas_dir / "GaAs"), k=k)
    np.testing.assert_allclose(np.linalg.eigvalsh(_hk(m, k)), theirs, rtol=0, atol=1e-10)


# ------------------------------------------------------------------ errors
def _copy_fe(fe_dir, dest, *, skip=(), replace=None):
    dest.mkdir()
    for ext in ("chk", "eig", "mmn", "nnkp"):
        if ext in skip:
            continue
        target = dest / f"Fe.{ext}"
        if replace and ext in replace:
            target.write_bytes(replace[ext])
        else:
            os.symlink((fe_dir / f"Fe.{ext}").resolve(), target)
    return dest / "Fe"


@pytest.mark.parametrize("missing", ["chk", "eig", "mmn"])
def test_missing_file_is_named(fe_dir, tmp_path, missing):
    seed = _copy_fe(fe_dir, tmp_path / "case", skip=(missing,))
    with pytest.raises(InputError, match=rf"Fe\.{missing}.*not found"):
        read_chk(seed=seed)


def test_eig_band_count_mismatch(fe_dir, tmp_path):
    lines = (fe_dir / "Fe.eig").read_text().splitlines()
    fewer = "\n".join(line for line in lines if int(line.split()[0]) <= 19) + "\n"
    seed = _copy_fe(fe_dir, tmp_path / "case", replace={"eig": fewer.encode()})
    with pytest.raises(InputError, match=r"Fe\.eig, line 20: expected band 20 at k-point 1, found band 1 at "
                                         r"k-point 2 \(Fe\.chk has 20 bands at 27 k-points"):
        read_chk(seed=seed)


@pytest.mark.parametrize("content", [b"", b"not a fortran file" * 20, "half"])
def test_unreadable_chk(fe_dir, tmp_path, content):
    if content == "half":
        data = (fe_dir / "Fe.chk").read_bytes()
        content = data[: len(data) // 2]
    seed = _copy_fe(fe_dir, tmp_path / "case", replace={"chk": content})
    with pytest.raises(InputError, match=r"Fe\.chk.*(cannot read|the file is empty)"):
        read_chk(seed=seed)
