"""Tests for the Wannier90 text readers/writers (wbentropy.io.tb, .hr, .win, .wsvec)."""
from __future__ import annotations

import logging
import math
import tarfile
from pathlib import Path

import numpy as np
import pytest

from wbentropy.errors import InputError
from wbentropy.io.hr import read_hr, write_hr
from wbentropy.io.tb import _parse_tb, read_tb, write_tb
from wbentropy.io.win import W90_BOHR_ANGSTROM, read_win_lattice
from wbentropy.io.wsvec import WSVec, apply_mdrs, read_wsvec, write_wsvec
from wbentropy.model import TBModel, hermitize_position
from wbentropy.toy_models import random_model

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


# --------------------------------------------------------------------------- helpers
def toy_model(*, nw: int = 3, seed: int = 0) -> tuple[TBModel, np.ndarray]:
    """Random Hermitian H(R), r(R) on a symmetric R set, with degeneracies != 1."""
    rng = np.random.default_rng(seed)
    R = np.array([[0, 0, 0], [1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0],
                  [1, 1, 0], [-1, -1, 0], [0, 0, 2], [0, 0, -2]])
    ndegen = np.array([1, 2, 2, 1, 1, 4, 4, 3, 3])
    lattice = np.array([[3.0, 0.1, 0.0], [0.5, 2.8, 0.0], [0.2, -0.3, 4.1]])
    nR = len(R)
    H = rng.normal(size=(nR, nw, nw)) + 1j * rng.normal(size=(nR, nw, nw))
    r = rng.normal(size=(nR, nw, nw, 3)) + 1j * rng.normal(size=(nR, nw, nw, 3))
    r *= 0.1
    r[0, np.arange(nw), np.arange(nw)] = rng.uniform(-1, 1, size=(nw, 3))  # centres
    model = TBModel(lattice=lattice, R=R, H=hermitize_position(R, H), r=hermitize_position(R, r), name="toy")
    return model, ndegen


def fortran_e(x: float) -> str:
    """Fortran E15.8 rendering (0.dddddddddE+xx)."""
    if x == 0:
        return "0.00000000E+00".rjust(15)
    e = math.floor(math.log10(abs(x))) + 1
    return f"{x / 10 ** e:.8f}E{e:+03d}".rjust(15)


def write_wsvec_text(path: Path, R, nw: int, shifts: dict, *, flag: str = ".true.") -> None:
    """Write a _wsvec.dat in Wannier90's exact layout; shifts[(tuple(R), m, n)] (0-based m, n)."""
    out = [f"## written on 24Sep2021 at 03:29:14 with use_ws_distance={flag}"]
    for Rv in R:
        for m in range(nw):
            for n in range(nw):
                Ts = shifts.get((tuple(Rv), m, n), [(0, 0, 0)])
                out.append("%5d%5d%5d%5d%5d" % (*Rv, m + 1, n + 1))
                out.append("%5d" % len(Ts))
                out += ["%5d%5d%5d" % tuple(T) for T in Ts]
    path.write_text("\n".join(out) + "\n")


def assert_models_equal(a: TBModel, b: TBModel, tol: float = 1e-10) -> None:
    np.testing.assert_array_equal(a.R, b.R)
    np.testing.assert_allclose(a.lattice, b.lattice, atol=tol, rtol=0)
    np.testing.assert_allclose(a.H, b.H, atol=tol, rtol=0)
    if a.r is None or b.r is None:
        assert a.r is None and b.r is None
    else:
        np.testing.assert_allclose(a.r, b.r, atol=tol, rtol=0)


def bloch(R: np.ndarray, X: np.ndarray, k) -> np.ndarray:
    return np.einsum("r,r...->...", np.exp(2j * np.pi * (R @ np.asarray(k, float))), X)


# --------------------------------------------------------------------------- round trips
def test_tb_roundtrip(tmp_path):
    model, ndegen = toy_model()
    path = tmp_path / "toy_tb.dat"
    write_tb(model=model, path=path, ndegen=ndegen)
    back = read_tb(tb_file=path)
    assert_models_equal(back, model)
    assert back.name == "toy"
    assert back.sources["format"] == "tb" and back.sources["mdrs"] == "no"
    assert back.sources["primary"] == str(path.resolve())
    # Wannier90 layout: blank line, R line, then 'm n ...' with m (the row) running fastest
    lines = path.read_text().split("\n")
    assert lines[7] == "" and lines[8].split() == ["0", "0", "0"]
    assert [ln.split()[:2] for ln in lines[9:12]] == [["1", "1"], ["2", "1"], ["3", "1"]]
    assert float(lines[10].split()[2]) == pytest.approx(model.H[0, 1, 0].real, abs=1e-14)


def test_hr_roundtrip_and_same_as_tb(tmp_path):
    model, ndegen = toy_model()
    write_tb(model=model, path=tmp_path / "toy_tb.dat", ndegen=ndegen)
    write_hr(model=model, hr_path=tmp_path / "toy_hr.dat", r_path=tmp_path / "toy_r.dat",
             win_path=tmp_path / "toy.win", ndegen=ndegen)
    via_hr = read_hr(hr_file=tmp_path / "toy_hr.dat", r_file=tmp_path / "toy_r.dat", win_file=tmp_path / "toy.win")
    via_tb = read_tb(tb_file=tmp_path / "toy_tb.dat")
    assert_models_equal(via_hr, model)
    assert_models_equal(via_hr, via_tb, tol=0.0)
    assert via_hr.sources["format"] == "hr" and via_hr.sources["r"].endswith("toy_r.dat")
    # _r.dat carries no ndegen list: line 4 is already a data line with 11 columns
    assert len((tmp_path / "toy_r.dat").read_text().split("\n")[3].split()) == 11


def test_hr_without_r_and_tb_without_position_block(tmp_path):
    model, ndegen = toy_model()
    bare = TBModel(lattice=model.lattice, R=model.R, H=model.H, r=None)
    write_hr(model=bare, hr_path=tmp_path / "b_hr.dat", win_path=tmp_path / "b.win", ndegen=ndegen)
    assert read_hr(hr_file=tmp_path / "b_hr.dat", win_file=tmp_path / "b.win").r is None
    write_tb(model=bare, path=tmp_path / "b_tb.dat", ndegen=ndegen)
    back = read_tb(tb_file=tmp_path / "b_tb.dat")
    assert back.r is None
    np.testing.assert_allclose(back.H, model.H, atol=1e-12)


def test_row_index_convention_handwritten_tb(tmp_path):
    """A file in Wannier90's exact fixed format: 'j i ham_r(j, i)' -> H[R, j-1, i-1] / ndegen."""
    h1 = {(1, 2): 0.2 + 0.6j, (2, 1): 0.4}  # (file row, file col) at R = (1,0,0), ndegen 2
    hm1 = {(2, 1): 0.2 - 0.6j, (1, 2): 0.4}  # its Hermitian partner at R = (-1,0,0)
    h0 = {(1, 1): 1.0, (2, 2): -1.0}
    out = [" written on 24Sep2021 at 03:29:14 ",
           "   2.0000000000000000        0.0000000000000000        0.0000000000000000     ",
           "   0.0000000000000000        2.0000000000000000        0.0000000000000000     ",
           "   0.0000000000000000        0.0000000000000000        2.0000000000000000     ",
           "           2", "           3", "    1    2    2"]
    Rs = [(0, 0, 0), (1, 0, 0), (-1, 0, 0)]
    for Rv, h in zip(Rs, (h0, h1, hm1)):
        out += ["", "%5d%5d%5d" % Rv]
        for i in (1, 2):
            for j in (1, 2):
                v = complex(h.get((j, i), 0.0))
                out.append("%5d%5d   %s %s" % (j, i, fortran_e(v.real), fortran_e(v.imag)))
    for Rv in Rs:
        out += ["", "%5d%5d%5d" % Rv]
        for i in (1, 2):
            for j in (1, 2):
                x = 0.25 * j if (Rv == (0, 0, 0) and i == j) else 0.0
                out.append("%5d%5d   " % (j, i) + " ".join([fortran_e(x), fortran_e(0.0)] * 3))
    path = tmp_path / "hand_tb.dat"
    path.write_text("\n".join(out) + "\n")
    m = read_tb(tb_file=path)
    i1 = m.index_of_R((1, 0, 0))
    assert m.H[i1, 0, 1] == pytest.approx((0.2 + 0.6j) / 2)
    assert m.H[i1, 1, 0] == pytest.approx(0.4 / 2)
    assert m.H[m.index_of_R((0, 0, 0)), 1, 1] == pytest.approx(-1.0)
    np.testing.assert_allclose(m.centres, [[0.25] * 3, [0.5] * 3])
    Hk = bloch(m.R, m.H, [0.1, 0.2, 0.3])
    np.testing.assert_allclose(Hk, Hk.conj().T, atol=1e-14)


def test_win_units_comments_and_fortran_numbers(tmp_path):
    win = tmp_path / "x.win"
    win.write_text("! comment\nNum_Wann : 3\nBEGIN Unit_Cell_Cart   # the cell\n  Bohr\n"
                   " 1.0 0 0 ! a1\n 0 2.0 0\n 0 0 3.0\nEnd Unit_Cell_Cart\n")
    np.testing.assert_allclose(read_win_lattice(win_file=win), np.diag([1.0, 2.0, 3.0]) * W90_BOHR_ANGSTROM)
    model, ndegen = toy_model()
    hr = tmp_path / "f_hr.dat"
    write_hr(model=model, hr_path=hr, win_path=tmp_path / "f.win", ndegen=ndegen)
    lines = hr.read_text().split("\n")
    parts = lines[4].split()  # R = 0, (m, n) = (1, 1)
    assert parts[:5] == ["0", "0", "0", "1", "1"]
    parts[5:7] = ["0.12500000D+00", "0.10000000-100"]  # Fortran D exponent; E dropped for |exp| > 99
    lines[4] = " ".join(parts)
    hr.write_text("\n".join(lines))
    back = read_hr(hr_file=hr, win_file=tmp_path / "f.win")
    assert back.H[0, 0, 0] == pytest.approx(0.125 / ndegen[0], abs=1e-15)


# --------------------------------------------------------------------------- MDRS
def mdrs_toy() -> tuple[TBModel, dict]:
    """1D chain, 2 orbitals, R in {0, +-1} on a 2-point ab-initio grid, with image shifts."""
    rng = np.random.default_rng(3)
    R = np.array([[0, 0, 0], [1, 0, 0], [-1, 0, 0]])
    H = rng.normal(size=(3, 2, 2)) + 1j * rng.normal(size=(3, 2, 2))
    r = 0.1 * (rng.normal(size=(3, 2, 2, 3)) + 1j * rng.normal(size=(3, 2, 2, 3)))
    model = TBModel(lattice=np.diag([2.0, 5.0, 5.0]), R=R, H=hermitize_position(R, H),
                    r=hermitize_position(R, r), name="chain")
    shifts = {
        ((1, 0, 0), 0, 1): [(0, 0, 0), (-2, 0, 0)],  # two equidistant images: R = 1 and R = -1
        ((-1, 0, 0), 1, 0): [(0, 0, 0), (2, 0, 0)],  # its Hermitian partner
        ((1, 0, 0), 1, 0): [(2, 0, 0)],  # one image, moved to R = 3
        ((-1, 0, 0), 0, 1): [(-2, 0, 0)],  # partner, moved to R = -3
    }
    return model, shifts


def expected_mdrs(X: np.ndarray) -> dict:
    """The expansion of mdrs_toy worked out by hand; X indexed by [iR] with R order (0, 1, -1)."""
    z = np.zeros_like(X[0])
    exp = {(0, 0, 0): X[0].copy(), (1, 0, 0): X[1].copy(), (-1, 0, 0): X[2].copy(),
           (3, 0, 0): z.copy(), (-3, 0, 0): z.copy()}
    exp[(1, 0, 0)][0, 1] = X[1][0, 1] / 2
    exp[(-1, 0, 0)][0, 1] = X[1][0, 1] / 2
    exp[(1, 0, 0)][1, 0] = X[2][1, 0] / 2
    exp[(-1, 0, 0)][1, 0] = X[2][1, 0] / 2
    exp[(3, 0, 0)][1, 0] = X[1][1, 0]
    exp[(-3, 0, 0)][0, 1] = X[2][0, 1]
    return exp


def test_read_wsvec_and_apply_mdrs_by_hand(tmp_path):
    model, shifts = mdrs_toy()
    ws_path = tmp_path / "chain_wsvec.dat"
    write_wsvec_text(ws_path, model.R, 2, shifts)
    ws = read_wsvec(wsvec_file=ws_path, num_wann=2, R=model.R)
    assert ws.use_ws_distance is True and not ws.is_trivial
    assert ws.ndeg[1, 0, 1] == 2 and ws.ndeg[1, 1, 0] == 1 and ws.ndeg.sum() == 12 + 2
    R_new, (H_new, r_new) = apply_mdrs(R=model.R, mats=[model.H, model.r], wsvec=ws)
    np.testing.assert_array_equal(R_new[:3], model.R)  # original order kept, new R appended
    assert {tuple(v) for v in R_new} == {(0, 0, 0), (1, 0, 0), (-1, 0, 0), (3, 0, 0), (-3, 0, 0)}
    for X, Xn in ((model.H, H_new), (model.r, r_new)):
        exp = expected_mdrs(X)
        for i, v in enumerate(R_new):
            np.testing.assert_allclose(Xn[i], exp[tuple(v)], atol=1e-15)
    # Fourier sums: identical on the 2-point ab-initio grid, different in between,
    # by exactly the amount the image redistribution implies
    H = model.H
    for k in ([0, 0, 0], [0.5, 0, 0], [0.5, 0.3, 0.1]):
        np.testing.assert_allclose(bloch(R_new, H_new, k), bloch(model.R, H, k), atol=1e-13)
    for kx in (0.1, 0.23, 0.37):
        k = [kx, 0, 0]
        diff = bloch(R_new, H_new, k) - bloch(model.R, H, k)
        p = np.exp(2j * np.pi * kx)
        want01 = H[1, 0, 1] / 2 * (1 / p - p) + H[2, 0, 1] * (p ** -3 - 1 / p)
        want10 = H[2, 1, 0] / 2 * (p - 1 / p) + H[1, 1, 0] * (p ** 3 - p)
        np.testing.assert_allclose(diff, [[0, want01], [want10, 0]], atol=1e-13)
        assert abs(want01) > 1e-3
        Hk = bloch(R_new, H_new, k)
        np.testing.assert_allclose(Hk, Hk.conj().T, atol=1e-13)


def test_read_tb_with_wsvec_end_to_end(tmp_path):
    model, shifts = mdrs_toy()
    write_tb(model=model, path=tmp_path / "chain_tb.dat")
    write_wsvec_text(tmp_path / "chain_wsvec.dat", model.R, 2, shifts)
    m = read_tb(tb_file=tmp_path / "chain_tb.dat", wsvec_file=tmp_path / "chain_wsvec.dat")
    assert m.sources["mdrs"] == "yes" and m.sources["wsvec"].endswith("chain_wsvec.dat")
    assert m.hermiticity_error() < 1e-14
    exp = expected_mdrs(model.H)
    for i, v in enumerate(m.R):
        np.testing.assert_allclose(m.H[i], exp[tuple(v)], atol=1e-12)
    # hr route gives the same
    write_hr(model=model, hr_path=tmp_path / "chain_hr.dat", r_path=tmp_path / "chain_r.dat",
             win_path=tmp_path / "chain.win")
    m2 = read_hr(hr_file=tmp_path / "chain_hr.dat", r_file=tmp_path / "chain_r.dat",
                 win_file=tmp_path / "chain.win", wsvec_file=tmp_path / "chain_wsvec.dat")
    assert_models_equal(m, m2, tol=0.0)


def test_trivial_wsvec_and_write_wsvec_roundtrip(tmp_path):
    model, shifts = mdrs_toy()
    write_tb(model=model, path=tmp_path / "c_tb.dat")
    write_wsvec_text(tmp_path / "c_wsvec.dat", model.R, 2, {}, flag=".false.")
    m = read_tb(tb_file=tmp_path / "c_tb.dat", wsvec_file=tmp_path / "c_wsvec.dat")
    assert m.sources["mdrs"] == "no"
    assert_models_equal(m, model)
    write_wsvec_text(tmp_path / "d_wsvec.dat", model.R, 2, shifts)
    ws = read_wsvec(wsvec_file=tmp_path / "d_wsvec.dat", num_wann=2, R=model.R)
    write_wsvec(wsvec=ws, path=tmp_path / "e_wsvec.dat")
    ws2 = read_wsvec(wsvec_file=tmp_path / "e_wsvec.dat", num_wann=2, R=model.R)
    np.testing.assert_array_equal(ws.ndeg, ws2.ndeg)
    np.testing.assert_array_equal(ws.owner, ws2.owner)
    np.testing.assert_array_equal(ws.shifts, ws2.shifts)


def test_warns_when_sibling_wsvec_is_ignored(tmp_path, caplog):
    model, shifts = mdrs_toy()
    write_tb(model=model, path=tmp_path / "s_tb.dat")
    write_wsvec_text(tmp_path / "s_wsvec.dat", model.R, 2, shifts)
    with caplog.at_level(logging.WARNING, logger="wbentropy"), pytest.warns(UserWarning, match="MDRS"):
        m = read_tb(tb_file=tmp_path / "s_tb.dat")
    assert m.sources["mdrs"] == "no"
    assert any("s_wsvec.dat" in rec.getMessage() for rec in caplog.records)


# --------------------------------------------------------------------------- real data
@pytest.fixture(scope="module")
def gaas_tb(tmp_path_factory) -> Path:
    archive = DATA / "GaAs_Wannier90" / "GaAs_tb.dat.tar.gz"
    if not archive.is_file():
        pytest.skip(f"shared data not available: {archive}")
    dest = tmp_path_factory.mktemp("gaas")
    with tarfile.open(archive) as tar:
        tar.extractall(dest, filter="data")
    return dest / "GaAs_tb.dat"


def test_gaas_tb(gaas_tb):
    m = read_tb(tb_file=gaas_tb)
    assert m.name == "GaAs" and m.num_wann == 16 and len(m.R) == 19
    a = 2.8270001176531787
    np.testing.assert_allclose(m.lattice, [[-a, 0, a], [0, a, a], [-a, a, 0]], rtol=0, atol=1e-15)
    # the .win gives the cell in bohr: Wannier90's own Bohr radius reproduces the tb lattice
    win = DATA / "GaAs_Wannier90" / "GaAs.win"
    if win.is_file():
        np.testing.assert_allclose(read_win_lattice(win_file=win), m.lattice, rtol=0, atol=1e-12)
    assert m.hermiticity_error() == 0.0
    assert float(m.sources["H_hermiticity_error"]) < 1e-12  # H in the file is Hermitian to print precision
    # r from the file is Hermitian only to O(b^2) on the 2x2x2 grid: hermitisation changes it by
    # up to 2.89e-2 Angstrom (element (10, 12) at R = (0,-1,0); median change 6e-4 Angstrom); the
    # R = 0 diagonal (the centres) is unchanged.
    raw = _parse_tb(gaas_tb)
    change = np.abs(m.r - raw.r)
    assert 1e-3 < change.max() < 0.1
    assert float(m.sources["r_hermitization_change"]) == pytest.approx(change.max(), rel=1e-3)
    i0 = m.index_of_R((0, 0, 0))
    np.testing.assert_allclose(m.centres, np.einsum("mma->ma", raw.r[i0]).real, atol=1e-12)
    assert np.all(np.abs(m.centres) < 2.0)
    Hk = bloch(m.R, m.H, [0.13, -0.27, 0.41])
    np.testing.assert_allclose(Hk, Hk.conj().T, atol=1e-12)


def test_gaas_tb_matches_wannierberri(gaas_tb):
    """Independent reader: WannierBerri's System_tb gives the same H(R) (row/column convention)."""
    wb = pytest.importorskip("wannierberri")
    from wbentropy.io._rvectors import _row_lookup

    m = read_tb(tb_file=gaas_tb)
    system = wb.system.System_tb(tb_file=str(gaas_tb), berry=False)
    H_wb = system.Ham_R if hasattr(system, "Ham_R") else system.get_R_mat("Ham")
    idx = _row_lookup(m.R, system.rvec.iRvec)
    assert np.all(idx >= 0)
    np.testing.assert_allclose(m.H[idx], H_wb, atol=1e-14, rtol=0)


# --------------------------------------------------------------------------- malformed input
def edit_line(path: Path, lineno: int, new: str) -> None:
    lines = path.read_text().split("\n")
    lines[lineno - 1] = new
    path.write_text("\n".join(lines))


def replace_token(path: Path, lineno: int, col: int, token: str) -> None:
    parts = path.read_text().split("\n")[lineno - 1].split()
    parts[col] = token
    edit_line(path, lineno, "   ".join(parts))


@pytest.fixture
def files(tmp_path) -> dict:
    """A consistent set of toy files: m_tb.dat, m_hr.dat, m_r.dat, m.win, w_wsvec.dat."""
    model, ndegen = toy_model()
    f = {"dir": tmp_path, "tb": tmp_path / "m_tb.dat", "hr": tmp_path / "m_hr.dat", "r": tmp_path / "m_r.dat",
         "win": tmp_path / "m.win", "wsvec": tmp_path / "w_wsvec.dat", "model": model}
    write_tb(model=model, path=f["tb"], ndegen=ndegen)
    write_hr(model=model, hr_path=f["hr"], r_path=f["r"], win_path=f["win"], ndegen=ndegen)
    write_wsvec_text(f["wsvec"], model.R, 3, {})
    return f


def _tb(f, **kw):
    return lambda: read_tb(tb_file=f["tb"], **kw)


def _hr(f, **kw):
    args = dict(hr_file=f["hr"], r_file=f["r"], win_file=f["win"])
    args.update(kw)
    return lambda: read_hr(**args)


# In the toy _tb.dat (nw = 3, nrpts = 9): line 7 ndegen, 8 blank, 9 first R, 10-18 its H entries.
def case_tb_truncated(f):
    lines = f["tb"].read_text().split("\n")
    f["tb"].write_text("\n".join(lines[:40]) + "\n")
    return _tb(f), "m_tb.dat", 40


def case_tb_truncated_in_r(f):
    lines = f["tb"].read_text().split("\n")
    f["tb"].write_text("\n".join(lines[:-30]) + "\n")
    return _tb(f), "m_tb.dat", len(lines) - 30


def case_tb_wrong_num_wann(f):
    edit_line(f["tb"], 5, "           4")
    return _tb(f), "m_tb.dat", 20  # the second R line shows up where a 4th-orbital entry is due


def case_tb_wrong_nrpts(f):
    edit_line(f["tb"], 6, "          10")
    return _tb(f), "m_tb.dat", 8  # degeneracy list too short


def case_tb_non_numeric(f):
    replace_token(f["tb"], 12, 2, "abc")
    return _tb(f), "m_tb.dat", 12


def case_tb_fortran_overflow(f):
    replace_token(f["tb"], 13, 3, "***************")
    return _tb(f), "m_tb.dat", 13


def case_tb_nan(f):
    replace_token(f["tb"], 14, 2, "NaN")
    return _tb(f), "m_tb.dat", 14


def case_tb_inf_in_r(f):
    lines = f["tb"].read_text().split("\n")
    n = len(lines) - 3
    replace_token(f["tb"], n, 6, "-Infinity")
    return _tb(f), "m_tb.dat", n


def case_tb_empty(f):
    f["tb"].write_text("")
    return _tb(f), "m_tb.dat", None


def case_tb_binary(f):
    f["tb"].write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    return _tb(f), "m_tb.dat", 1


def case_tb_nul_bytes(f):
    f["tb"].write_bytes(b" header\n" + b"\x00" * 64)
    return _tb(f), "m_tb.dat", 2


def case_tb_missing(f):
    f["tb"].unlink()
    return _tb(f), "m_tb.dat", None


def case_tb_is_directory(f):
    f["tb"].unlink()
    f["tb"].mkdir()
    return _tb(f), "m_tb.dat", None


def case_tb_ndegen_count(f):
    edit_line(f["tb"], 7, " ".join(f["tb"].read_text().split("\n")[6].split()[:-1]))
    return _tb(f), "m_tb.dat", 8


def case_tb_ndegen_zero(f):
    replace_token(f["tb"], 7, 0, "0")
    return _tb(f), "m_tb.dat", 7


def case_tb_lattice_singular(f):
    edit_line(f["tb"], 4, f["tb"].read_text().split("\n")[1])
    return _tb(f), "m_tb.dat", 2


def case_tb_extra_content(f):
    f["tb"].write_text(f["tb"].read_text() + "    1    2    3\n")
    n = len(f["tb"].read_text().split("\n")) - 1
    return _tb(f), "m_tb.dat", n


def case_tb_not_hermitian(f):
    replace_token(f["tb"], 21, 2, "5.0")  # R = (1,0,0), (m, n) = (1, 1)
    return _tb(f), "m_tb.dat", 21


def case_tb_orbital_index(f):
    replace_token(f["tb"], 11, 0, "7")
    return _tb(f), "m_tb.dat", 11


def case_tb_duplicate_entry(f):
    replace_token(f["tb"], 11, 0, "1")  # (2,1) -> (1,1), which already appeared at line 10
    return _tb(f), "m_tb.dat", 11


def case_tb_r_section_R_mismatch(f):
    lines = f["tb"].read_text().split("\n")
    n = 9 + 9 * 11  # first R line of the position section (each block: blank, R, 9 entries)
    assert lines[n - 1].split() == ["0", "0", "0"]
    edit_line(f["tb"], n, "    0    0    1")
    return _tb(f), "m_tb.dat", n


def case_hr_r_num_wann(f):
    edit_line(f["r"], 2, "           2")
    return _hr(f), "m_r.dat", 2


def case_hr_r_nrpts(f):
    edit_line(f["r"], 3, "           8")
    return _hr(f), "m_r.dat", 3


def case_hr_r_foreign_R(f):
    for n in (4, 5, 6):
        parts = f["r"].read_text().split("\n")[n - 1].split()
        edit_line(f["r"], n, "   ".join(["5", "5", "5"] + parts[3:]))
    return _hr(f), "m_r.dat", 4


def case_hr_ndegen_count(f):
    edit_line(f["hr"], 4, " ".join(f["hr"].read_text().split("\n")[3].split()[:-1]))
    return _hr(f), "m_hr.dat", 5


def case_hr_truncated(f):
    lines = f["hr"].read_text().split("\n")
    f["hr"].write_text("\n".join(lines[:50]) + "\n")
    return _hr(f), "m_hr.dat", 50


def case_hr_non_integer_R(f):
    replace_token(f["hr"], 7, 1, "0.5")
    return _hr(f), "m_hr.dat", 7


def case_hr_wrong_num_wann(f):
    edit_line(f["hr"], 2, "           4")
    return _hr(f), "m_hr.dat", None


def case_hr_no_win(f):
    return _hr(f, win_file=None), "m_hr.dat", None


def case_win_singular(f):
    lines = f["win"].read_text().split("\n")
    begin = lines.index("begin unit_cell_cart") + 1
    edit_line(f["win"], begin + 4, lines[begin + 1])  # a3 := a1
    return _hr(f), "m.win", begin


def case_win_no_cell(f):
    f["win"].write_text("num_wann = 3\n")
    return _hr(f), "m.win", None


def case_win_bad_unit(f):
    lines = f["win"].read_text().split("\n")
    n = lines.index("ang") + 1
    edit_line(f["win"], n, "furlong")
    return _hr(f), "m.win", n


def case_win_num_wann(f):
    edit_line(f["win"], 2, "num_wann = 5")
    return _hr(f), "m.win", 2


def case_wsvec_missing_entry(f):
    lines = f["wsvec"].read_text().split("\n")
    f["wsvec"].write_text("\n".join(lines[:-4]) + "\n")
    return _tb(f, wsvec_file=f["wsvec"]), "w_wsvec.dat", None


def case_wsvec_truncated_block(f):
    lines = f["wsvec"].read_text().split("\n")
    f["wsvec"].write_text("\n".join(lines[:-2]) + "\n")
    return _tb(f, wsvec_file=f["wsvec"]), "w_wsvec.dat", len(lines) - 2


def case_wsvec_num_wann(f):
    write_wsvec_text(f["wsvec"], f["model"].R, 2, {})
    return _tb(f, wsvec_file=f["wsvec"]), "w_wsvec.dat", None


def case_wsvec_foreign_R(f):
    write_wsvec_text(f["wsvec"], np.array([[7, 7, 7]] + f["model"].R[1:].tolist()), 3, {})
    return _hr(f, wsvec_file=f["wsvec"]), "w_wsvec.dat", 2


def case_wsvec_bad_count(f):
    edit_line(f["wsvec"], 3, "    2")
    return _tb(f, wsvec_file=f["wsvec"]), "w_wsvec.dat", 5


def case_wsvec_non_integer(f):
    edit_line(f["wsvec"], 4, "    0  0.5    0")
    return _tb(f, wsvec_file=f["wsvec"]), "w_wsvec.dat", 4


CASES = [v for k, v in sorted(globals().items()) if k.startswith("case_")]


@pytest.mark.parametrize("case", CASES, ids=[c.__name__[5:] for c in CASES])
def test_malformed_input_raises_input_error(files, case):
    call, fname, line = case(files)
    with pytest.raises(InputError) as info:
        call()
    err = info.value
    assert fname in str(err)
    assert err.path is not None and Path(err.path).name == fname
    if line is not None:
        assert err.line == line, str(err)
        assert f"line {line}" in str(err)


def test_wsvec_api_misuse(files):
    model = files["model"]
    ws = read_wsvec(wsvec_file=files["wsvec"], num_wann=3, R=model.R)
    with pytest.raises(InputError):
        apply_mdrs(R=model.R[::-1], mats=[model.H], wsvec=ws)
    with pytest.raises(InputError):
        apply_mdrs(R=model.R, mats=[model.H[:, :2, :2]], wsvec=ws)
    assert isinstance(ws, WSVec) and ws.is_trivial


def test_gzip_compressed_tb_and_wsvec_read_like_plain_files(tmp_path):
    """SEED_tb.dat.gz / SEED_wsvec.dat.gz (how data/Fe_* is bundled) give the identical model."""
    import gzip

    from wbentropy.io.tb import write_tb

    model = random_model(num_wann=3, seed=7)
    write_tb(model=model, path=tmp_path / "m_tb.dat")
    (tmp_path / "m_tb.dat.gz").write_bytes(gzip.compress((tmp_path / "m_tb.dat").read_bytes()))
    a = read_tb(tb_file=tmp_path / "m_tb.dat")
    b = read_tb(tb_file=tmp_path / "m_tb.dat.gz")
    assert b.name == "m" and np.array_equal(a.H, b.H) and np.array_equal(a.r, b.r) and np.array_equal(a.R, b.R)
    (tmp_path / "bad_tb.dat.gz").write_bytes(gzip.compress(b"x" * 100)[:20])
    with pytest.raises(InputError, match="corrupt gzip"):
        read_tb(tb_file=tmp_path / "bad_tb.dat.gz")
