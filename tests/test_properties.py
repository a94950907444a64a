"""Property-based tests (hypothesis): parsers and physics invariants on random small models.

* write_tb -> read_tb and write_hr -> read_hr reproduce any Hermitian model;
* random bytes, random text and random damage to a valid file give an InputError or a
  valid model, never any other exception;
* gauge invariance: a random unitary rotation of the Wannier basis changes no output;
* Pi >= 0 (second law), symmetric Pi and Drude tensors, antisymmetric Hall tensors, Hermitian H(k).
Examples are few and models small, so the whole file runs in seconds.
"""
from __future__ import annotations

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from wbentropy.api import compute  # noqa: E402
from wbentropy.errors import InputError  # noqa: E402
from wbentropy.kspace.interpolation import Interpolator  # noqa: E402
from wbentropy.io.w90chk import read_eig  # noqa: E402
from wbentropy.io.hr import read_hr, write_hr  # noqa: E402
from wbentropy.io.tb import read_tb, write_tb  # noqa: E402
from wbentropy.io.wsvec import read_wsvec  # noqa: E402
from wbentropy.model import TBModel, hermitize_position  # noqa: E402
from wbentropy.toy_models import random_model  # noqa: E402

FAST = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                        HealthCheck.too_slow])


@st.composite
def tb_models(draw):
    """A random Hermitian model: 1-4 orbitals, a random R set closed under -R, random lattice,
    entries spanning 1e-6..1e2 eV, random Wigner-Seitz degeneracies."""
    nw = draw(st.integers(1, 4))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    half = {tuple(v) for v in rng.integers(-2, 3, size=(draw(st.integers(0, 5)), 3)) if any(v)}
    half = sorted({max(v, tuple(-x for x in v)) for v in half})
    R = np.array([(0, 0, 0)] + [v for v in half] + [tuple(-x for x in v) for v in half], dtype=int)
    lattice = np.diag(rng.uniform(2, 6, 3)) + rng.uniform(-0.5, 0.5, (3, 3))
    scale = 10.0 ** rng.uniform(-6, 2, size=(len(R), nw, nw))
    H = (rng.normal(size=(len(R), nw, nw)) + 1j * rng.normal(size=(len(R), nw, nw))) * scale
    r = rng.normal(size=(len(R), nw, nw, 3)) + 1j * rng.normal(size=(len(R), nw, nw, 3))
    model = TBModel(lattice=lattice, R=R, H=hermitize_position(R, H), r=hermitize_position(R, r), name="rand")
    ndegen = rng.integers(1, 9, size=len(R))
    return model, ndegen


def _close(a, b):
    for x, y in ((a.H, b.H), (a.r, b.r)):
        np.testing.assert_allclose(x, y, rtol=1e-13, atol=1e-13 * np.max(np.abs(y)))
    np.testing.assert_array_equal(a.R, b.R)
    np.testing.assert_allclose(a.lattice, b.lattice, rtol=1e-15, atol=1e-15)


@FAST
@given(tb_models())
def test_write_read_tb_roundtrip(tmp_path_factory, case):
    model, ndegen = case
    d = tmp_path_factory.mktemp("rt")
    write_tb(model=model, path=d / "x_tb.dat", ndegen=ndegen)
    _close(read_tb(tb_file=d / "x_tb.dat"), model)
    write_hr(model=model, hr_path=d / "x_hr.dat", r_path=d / "x_r.dat", win_path=d / "x.win", ndegen=ndegen)
    _close(read_hr(hr_file=d / "x_hr.dat", r_file=d / "x_r.dat", win_file=d / "x.win"), model)


def _only_input_errors(call):
    """Run a reader: a TBModel/array or an InputError are fine, anything else fails the test."""
    try:
        out = call()
    except InputError as err:
        assert err.path is not None  # the message names the file
        return None
    return out


@FAST
@pytest.mark.filterwarnings("ignore:.*_wsvec.dat exists but was not given")  # it does: the noise
@given(st.binary(max_size=3000))
def test_random_bytes_give_input_error(tmp_path_factory, data):
    d = tmp_path_factory.mktemp("bytes")
    for name in ("g_tb.dat", "g_hr.dat", "g.win", "g_wsvec.dat", "g.eig"):
        (d / name).write_bytes(data)
    _only_input_errors(lambda: read_tb(tb_file=d / "g_tb.dat"))
    _only_input_errors(lambda: read_hr(hr_file=d / "g_hr.dat", win_file=d / "g.win"))
    _only_input_errors(lambda: read_wsvec(wsvec_file=d / "g_wsvec.dat", num_wann=2, R=np.zeros((1, 3), int)))
    _only_input_errors(lambda: read_eig(path=d / "g.eig", num_bands=2, num_kpts=3))


@FAST
@given(st.text(alphabet=st.sampled_from(list("0123456789 .-+eEdD\nNaInf*")), max_size=2000))
def test_random_numeric_text_gives_input_error(tmp_path_factory, text):
    d = tmp_path_factory.mktemp("text")
    (d / "t_tb.dat").write_text(text)
    (d / "t.eig").write_text(text)
    _only_input_errors(lambda: read_tb(tb_file=d / "t_tb.dat"))
    _only_input_errors(lambda: read_eig(path=d / "t.eig", num_bands=2, num_kpts=3))


_DAMAGE = st.sampled_from(["delete", "duplicate", "replace_token", "truncate", "swap"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(damage=_DAMAGE, where=st.floats(0, 1), token=st.sampled_from(["0", "-1", "7", "1e400", "nan", "x", "",
                                                                       "1.5", "2 3", "***"]))
def test_damaged_tb_file_is_input_error_or_valid(tmp_path_factory, damage, where, token):
    """One random damage to a valid _tb.dat: either InputError naming the file, or (if the
    damage happens to keep the file valid) a model that passes every TBModel check."""
    d = tmp_path_factory.mktemp("dmg")
    write_tb(model=random_model(num_wann=2, seed=1, radius=1), path=d / "m_tb.dat")
    lines = (d / "m_tb.dat").read_text().split("\n")
    i = min(int(where * len(lines)), len(lines) - 1)
    if damage == "delete":
        del lines[i]
    elif damage == "duplicate":
        lines.insert(i, lines[i])
    elif damage == "truncate":
        lines = lines[:i]
    elif damage == "swap" and i + 1 < len(lines):
        lines[i], lines[i + 1] = lines[i + 1], lines[i]
    else:
        parts = lines[i].split() or [""]
        parts[int(where * 997) % len(parts)] = token
        lines[i] = "  ".join(parts)
    (d / "m_tb.dat").write_text("\n".join(lines))
    model = _only_input_errors(lambda: read_tb(tb_file=d / "m_tb.dat"))
    if model is not None:
        assert np.all(np.isfinite(model.H)) and model.hermiticity_error() < 1e-6


# ------------------------------------------------------------------ physics invariants
def _random_unitary(n: int, rng) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n)))
    return q * (np.diag(r) / np.abs(np.diag(r)))


def _inside_bands(model, x: float) -> float:
    """The chemical potential at fraction x of the model's band range."""
    from wbentropy.api import band_range
    from wbentropy.kspace.interpolation import Interpolator

    lo, hi = band_range(interpolator=Interpolator(model=model, second_derivatives=False))
    return lo + x * (hi - lo)


_PHYS = settings(max_examples=8, deadline=None)
_QS = ["ahc", "entropy_hall", "entropy_production", "drude_conductivity"]


@_PHYS
@given(seed=st.integers(0, 10**6), nw=st.integers(2, 4), T=st.floats(50, 2000), x=st.floats(0.05, 0.95),
       tau=st.floats(1, 100))
def test_gauge_invariance_under_random_unitary(seed, nw, T, x, tau):
    model = random_model(num_wann=nw, seed=seed)
    mu = _inside_bands(model, x)
    U = _random_unitary(nw, np.random.default_rng(seed + 1))
    # the mid-band mu gives each quantity's typical size: near the band edges the Hall sums cancel
    # (sum_n Omega_n = 0 over full bands), and round-off is relative to the band terms, not the sum
    kw = dict(quantities=_QS, temperatures=[T], mus=[mu, _inside_bands(model, 0.5)], kmesh=(3, 3, 3), tau_fs=tau)
    a, b = compute(model=model, **kw), compute(model=model.rotated(U), **kw)
    for q in _QS:
        scale = np.max(np.abs(a[q]))
        np.testing.assert_allclose(b[q], a[q], rtol=0, atol=1e-9 * scale + 1e-300, err_msg=q)


@_PHYS
@given(seed=st.integers(0, 10**6), nw=st.integers(2, 4), T=st.floats(10, 3000), x=st.floats(0.0, 1.0),
       tau=st.floats(0.5, 500), form=st.sampled_from(["exact", "paper"]))
def test_tensor_symmetries_and_second_law(seed, nw, T, x, tau, form):
    model = random_model(num_wann=nw, seed=seed)
    mu = _inside_bands(model, x)
    res = compute(model=model, quantities=_QS + ["entropy_production_interband", "entropy_production_drude"],
                  temperatures=[T], mus=[mu], kmesh=(3, 3, 2), tau_fs=tau, entropy_production_form=form)
    for q in ("ahc", "entropy_hall"):  # Hall tensors are antisymmetric
        t = res[q][0, 0]
        np.testing.assert_allclose(t, -t.T, atol=1e-12 * np.max(np.abs(t)) + 1e-300)
    for q in ("entropy_production", "entropy_production_interband", "entropy_production_drude",
              "drude_conductivity"):
        t = res[q][0, 0]
        scale = np.max(np.abs(t))
        np.testing.assert_allclose(t, t.T, atol=1e-10 * scale + 1e-300, err_msg=q)
        # Pi >= 0 (second law); the Drude conductivity is positive semidefinite likewise
        assert np.linalg.eigvalsh(t).min() >= -1e-10 * scale, (q, np.linalg.eigvalsh(t))


@_PHYS
@given(seed=st.integers(0, 10**6), nw=st.integers(1, 5), k=st.lists(st.floats(-1, 1), min_size=3, max_size=3))
def test_interpolated_hamiltonian_is_hermitian(seed, nw, k):
    wg = Interpolator(model=random_model(num_wann=nw, seed=seed), second_derivatives=True)(np.array([k]))
    np.testing.assert_allclose(wg.H, np.conj(np.swapaxes(wg.H, -1, -2)), atol=1e-13)
    for name in ("dH", "A"):  # derivatives of a Hermitian matrix and the Berry connection are Hermitian
        X = wg.get(name)
        np.testing.assert_allclose(X, np.conj(np.swapaxes(X, -1, -2)), atol=1e-13, err_msg=name)
