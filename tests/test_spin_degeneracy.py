"""Spin degeneracy (issue 25, item 3): electrons per band, where it is read, and that it multiplies
every Brillouin-zone integral once.

Independent route: a spinless model written as a block-diagonal spinor model (H x 1_2, r x 1_2)
has every band twice; integrated with one electron per band it must give the same totals as the
spinless model with two electrons per band.
"""
from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from wbentropy.api import compute
from wbentropy.errors import InputError
from wbentropy.io.load import load_model, resolve_spin_degeneracy, spin_warning
from wbentropy.io.hr import write_hr
from wbentropy.io.tb import write_tb
from wbentropy.io.win import read_win_spinors
from wbentropy.model import TBModel
from wbentropy.toy_models import random_model
from _patched_cli import cli_command

DATA = Path(__file__).resolve().parents[1] / "data"
ASSUMED_1 = "assumed spinor Wannier functions (one electron per band): give --spin-degeneracy 2 for a spinless model"

QUANTITIES = ["ahc", "entropy_hall", "thermal_hall", "drude_conductivity", "entropy_production",
              "optical_conductivity", "nonlinear_drude"]
KW = dict(temperatures=[300.0], mus=[0.0, 0.4], kmesh=(3, 3, 3), tau_fs=10.0, omegas=[0.5, 1.5],
          smearing_width=0.1, threads=1)


def _spinless() -> TBModel:
    return random_model(num_wann=3, seed=7)


def _doubled(model: TBModel) -> TBModel:
    """The same orbitals with spin up and spin down: H(R) x 1_2, r(R) x 1_2 (one electron per band)."""
    one = np.eye(2)
    H = np.einsum("Rmn,st->Rmsnt", model.H, one).reshape(len(model.R), 2 * model.num_wann, 2 * model.num_wann)
    r = np.einsum("Rmna,st->Rmsnta", model.r, one).reshape(len(model.R), 2 * model.num_wann,
                                                           2 * model.num_wann, 3)
    return TBModel(lattice=model.lattice, R=model.R, H=H, r=r, name="doubled", spin_degeneracy=1)


@pytest.fixture(scope="module")
def doubled_and_spinless():
    spinless = _spinless().with_spin_degeneracy(2, source="test")
    a = compute(model=_doubled(_spinless()), quantities=QUANTITIES, **KW)
    b = compute(model=spinless, quantities=QUANTITIES, **KW)
    return a, b


@pytest.mark.parametrize("name", QUANTITIES)
def test_block_diagonal_spinor_model_equals_spinless_with_two_electrons(doubled_and_spinless, name):
    a, b = doubled_and_spinless
    scale = np.max(np.abs(b[name]))
    assert scale > 0
    np.testing.assert_allclose(a[name], b[name], rtol=0, atol=1e-12 * scale)


def test_two_electrons_per_band_is_exactly_twice_one():
    """The factor is applied once, to every quantity (a power of two: exact to the last bit)."""
    model = _spinless()
    one = compute(model=model, quantities=QUANTITIES, **KW)
    two = compute(model=model.with_spin_degeneracy(2, source="test"), quantities=QUANTITIES, **KW)
    for name in QUANTITIES:
        assert np.array_equal(two[name], 2 * one[name]), name
    assert one.attrs["spin_degeneracy"] == 1 and two.attrs["spin_degeneracy"] == 2


def test_adaptive_integration_doubles_values_and_errors():
    model = _spinless()
    kw = dict(quantities=["ahc", "drude_conductivity"], temperatures=[300.0], mus=[0.0], kmesh=(2, 2, 2),
              tau_fs=10.0, max_kpoints=400, threads=1)
    one = compute(model=model, **kw)
    two = compute(model=model.with_spin_degeneracy(2, source="test"), **kw)
    for name in kw["quantities"]:
        np.testing.assert_allclose(two[name], 2 * one[name], rtol=1e-13, atol=0)
        np.testing.assert_allclose(two.quantities[name].error, 2 * one.quantities[name].error, rtol=1e-12, atol=0)


# ------------------------------------------------------------------ the .win keyword
@pytest.mark.parametrize("line, value", [
    ("spinors = true", True), ("SPINORS : .TRUE.", True), ("spinors T", True), ("Spinors=.t.", True),
    ("spinors = .false. ! no SOC", False), ("spinors = F", False), ("spinors: false", False),
    ("# spinors = true", None), ("! spinors = .true.", None), ("", None),
])
def test_win_spinors_keyword(tmp_path, line, value):
    win = tmp_path / "m.win"
    win.write_text(f"num_wann = 2\n{line}\nbegin unit_cell_cart\n1 0 0\n0 1 0\n0 0 1\nend unit_cell_cart\n")
    assert read_win_spinors(win_file=win) == (value, 2 if value is not None else None)


@pytest.mark.parametrize("line, message", [
    ("spinors = maybe", "m.win, line 2: spinors must be .true. or .false., found 'maybe'"),
    ("spinors =", "m.win, line 2: spinors has no value (expected .true. or .false.)"),
])
def test_win_spinors_bad_value_names_file_and_line(tmp_path, line, message):
    win = tmp_path / "m.win"
    win.write_text(f"num_wann = 2\n{line}\n")
    with pytest.raises(InputError) as info:
        read_win_spinors(win_file=win)
    assert str(info.value).endswith(message)


def _hr_files(tmp_path, spinors_line: str | None):
    model = _spinless()
    write_hr(model=model, hr_path=tmp_path / "m_hr.dat", r_path=tmp_path / "m_r.dat", win_path=tmp_path / "m.win")
    lines = [x for x in (tmp_path / "m.win").read_text().splitlines() if not x.startswith("spinors")]
    if spinors_line is not None:
        lines.insert(2, spinors_line)
    (tmp_path / "m.win").write_text("\n".join(lines) + "\n")
    return dict(hr=tmp_path / "m_hr.dat", r=tmp_path / "m_r.dat", win=tmp_path / "m.win")


@pytest.mark.parametrize("line, g, source", [
    ("spinors = .true.", 1, "m.win, line 3: spinors = .true."),
    ("spinors = false", 2, "m.win, line 3: spinors = .false."),
    (None, 2, "assumed: spinless Wannier functions (m.win does not set spinors; Wannier90's default is .false.)"),
])
def test_win_sets_spin_degeneracy(tmp_path, line, g, source):
    model = load_model(**_hr_files(tmp_path, line))
    assert (model.spin_degeneracy, model.spin_degeneracy_source) == (g, source)


def test_win_without_keyword_warns_with_the_way_out(tmp_path):
    model = load_model(**_hr_files(tmp_path, None))
    assert spin_warning(model) == ("assumed spinless Wannier functions (two electrons per band): m.win does not "
                                   "set spinors (Wannier90's default .false.); give --spin-degeneracy 1 for "
                                   "spinor Wannier functions")


@pytest.mark.parametrize("given", [1, 2])
def test_option_overrides_win(tmp_path, given):
    model = load_model(**_hr_files(tmp_path, "spinors = .false." if given == 1 else "spinors = .true."),
                       spin_degeneracy=given)
    assert (model.spin_degeneracy, model.spin_degeneracy_source) == (given, f"given: --spin-degeneracy {given}")
    assert spin_warning(model) is None


@pytest.mark.parametrize("bad", [0, 3, True, 1.5])
def test_invalid_spin_degeneracy_is_an_input_error(bad):
    with pytest.raises(InputError, match="must be 1 \\(spinor Wannier functions\\) or 2 \\(spinless\\)"):
        resolve_spin_degeneracy(_spinless(), win=None, given=bad)
    with pytest.raises(InputError, match="must be 1 .* or 2"):
        TBModel(lattice=np.eye(3), R=np.zeros((1, 3), int), H=np.zeros((1, 1, 1)), spin_degeneracy=bad)


def test_tb_reads_the_win_beside_it(tmp_path):
    write_tb(model=_spinless(), path=tmp_path / "Cu_tb.dat")
    alone = load_model(tb=tmp_path / "Cu_tb.dat")
    assert alone.spin_degeneracy == 1 and spin_warning(alone) == ASSUMED_1
    assert alone.sources["win"] == ""
    (tmp_path / "Cu.win").write_text("num_wann = 3\nspinors = .false.\n")
    beside = load_model(tb=tmp_path / "Cu_tb.dat")
    assert (beside.spin_degeneracy, beside.spin_degeneracy_source) == (2, "Cu.win, line 2: spinors = .false.")
    assert beside.sources["win"] == str((tmp_path / "Cu.win").resolve())  # fingerprinted for restarts
    assert np.array_equal(beside.H, alone.H)


def test_bundled_models_are_spinor_models():
    for kw in (dict(tb=DATA / "qwz_tb.dat"), dict(hr=DATA / "qwz_hr.dat", r=DATA / "qwz_r.dat", win=DATA / "qwz.win"),
               dict(hr=DATA / "Fe_hr.dat.gz", r=DATA / "Fe_r.dat.gz", win=DATA / "Fe.win",
                    wsvec=DATA / "Fe_wsvec.dat.gz")):
        model = load_model(**kw)
        assert model.spin_degeneracy == 1 and spin_warning(model) is None, kw


def test_w90_reads_seed_win(fe_dir):
    model = load_model(w90=fe_dir / "Fe")
    assert (model.spin_degeneracy, model.spin_degeneracy_source) == (1, "Fe.win, line 18: spinors = .true.")
    assert model.sources["win"] == str((fe_dir / "Fe.win").resolve())


def test_digest_changes_with_the_degeneracy_and_rotation_keeps_it():
    model = _spinless()
    two = model.with_spin_degeneracy(2, source="test")
    assert model.digest() != two.digest()
    assert model.digest() == model.with_spin_degeneracy(1, source="other").digest()
    rotated = two.rotated(np.eye(3))
    assert (rotated.spin_degeneracy, rotated.spin_degeneracy_source) == (2, "test")


def test_write_hr_records_spinors_and_round_trips(tmp_path):
    model = _spinless().with_spin_degeneracy(2, source="test")
    write_hr(model=model, hr_path=tmp_path / "x_hr.dat", r_path=tmp_path / "x_r.dat", win_path=tmp_path / "x.win")
    assert "spinors = .false.\n" in (tmp_path / "x.win").read_text()
    assert load_model(hr=tmp_path / "x_hr.dat", r=tmp_path / "x_r.dat", win=tmp_path / "x.win").spin_degeneracy == 2


# ------------------------------------------------------------------ command line
def _cli(args, cwd):
    return subprocess.run(cli_command(["compute", *args]), cwd=cwd, capture_output=True, text=True, timeout=120)


RUN = ["--kmesh", "4", "4", "1", "--temperature", "300", "--mu", "0", "--quantities", "ahc"]


def test_cli_tb_without_win_logs_the_assumption_once_and_records_it(tmp_path):
    (tmp_path / "m_tb.dat").write_bytes((DATA / "qwz_tb.dat").read_bytes())
    p = _cli(["--tb", "m_tb.dat", *RUN, "--out", "a.h5"], tmp_path)
    assert p.returncode == 0, p.stderr
    assert p.stderr.count("assumed spinor") == 1
    assert f"WARNING wbentropy.api: {ASSUMED_1}\n" in p.stderr
    with h5py.File(tmp_path / "a.h5") as h:
        assert h.attrs["spin_degeneracy"] == 1
        assert h.attrs["spin_degeneracy_source"].startswith("assumed: spinor Wannier functions")
        one = h["ahc/value"][()]
    p = _cli(["--tb", "m_tb.dat", *RUN, "--out", "b.h5", "--spin-degeneracy", "2"], tmp_path)
    assert p.returncode == 0 and "assumed" not in p.stderr, p.stderr
    with h5py.File(tmp_path / "b.h5") as h:
        assert h.attrs["spin_degeneracy"] == 2
        assert h.attrs["spin_degeneracy_source"] == "given: --spin-degeneracy 2"
        assert np.array_equal(h["ahc/value"][()], 2 * one)


def test_cli_bundled_tb_with_its_win_is_silent(tmp_path):
    p = _cli(["--tb", DATA / "qwz_tb.dat", *RUN, "--out", "a.h5"], tmp_path)
    assert p.returncode == 0 and p.stderr == "", p.stderr
    with h5py.File(tmp_path / "a.h5") as h:
        assert h.attrs["spin_degeneracy_source"] == "qwz.win, line 3: spinors = .true."


def test_cli_rejects_other_degeneracies(tmp_path):
    p = _cli(["--tb", DATA / "qwz_tb.dat", *RUN, "--out", "a.h5", "--spin-degeneracy", "4"], tmp_path)
    assert p.returncode == 2
    assert p.stderr == "wbentropy: error: argument --spin-degeneracy: invalid choice: 4 (choose from 1, 2)\n"
    assert not (tmp_path / "a.h5").exists()


def test_api_compute_logs_the_assumption_once(caplog):
    model = resolve_spin_degeneracy(_spinless(), win=None, given=None)
    with caplog.at_level(logging.WARNING, logger="wbentropy"):
        compute(model=model, quantities=["ahc"], temperatures=[0.0], mus=[0.0], kmesh=(2, 2, 2), threads=1)
    assert [r.getMessage() for r in caplog.records] == [ASSUMED_1]


# ------------------------------------------------------------------ collinear spin-polarised pair
def test_identical_channels_equal_the_spinless_model_with_two_electrons():
    from wbentropy.api import compute_collinear

    model = _spinless()
    pair = compute_collinear(up=model, down=model, quantities=QUANTITIES, **KW)
    two = compute(model=model.with_spin_degeneracy(2, source="test"), quantities=QUANTITIES, **KW)
    for name in QUANTITIES:
        assert np.array_equal(pair[name], two[name]), name
        assert np.array_equal(pair.quantities[name].channels["up"].value, two[name] / 2)
        assert np.array_equal(pair.quantities[name].channels["down"].value, two[name] / 2)
    assert pair.attrs["spin_degeneracy"] == 1 and "collinear" in pair.attrs["spin_degeneracy_source"]


def test_different_channels_add_up_and_are_kept_apart(tmp_path):
    from wbentropy.api import compute_collinear
    from wbentropy.results import Result

    up, down = random_model(num_wann=3, seed=7), random_model(num_wann=2, seed=8)
    kw = dict(KW, quantities=["ahc", "drude_conductivity", "optical_conductivity"])
    pair = compute_collinear(up=up, down=down, **kw)
    a, b = compute(model=up, **kw), compute(model=down, **kw)
    pair.save(tmp_path / "p.h5")
    back = Result.load(tmp_path / "p.h5")
    for name in kw["quantities"]:
        assert np.array_equal(pair[name], a[name] + b[name])
        assert np.array_equal(back[name], a[name] + b[name])
        assert np.array_equal(back.quantities[name].channels["up"].value, a[name])
        assert np.array_equal(back.quantities[name].channels["down"].value, b[name])
    assert not np.allclose(a["ahc"], b["ahc"])
    with h5py.File(tmp_path / "p.h5") as h:
        assert sorted(k for k in h["ahc"]) == ["down", "up", "value"]


def test_adaptive_pair_adds_errors_and_kpoints():
    from wbentropy.api import compute_collinear

    up, down = random_model(num_wann=3, seed=7), random_model(num_wann=2, seed=8)
    kw = dict(quantities=["ahc"], temperatures=[300.0], mus=[0.0], kmesh=(2, 2, 2), max_kpoints=300, threads=1)
    pair = compute_collinear(up=up, down=down, **kw)
    a, b = compute(model=up, **kw), compute(model=down, **kw)
    assert np.array_equal(pair.quantities["ahc"].error, a.quantities["ahc"].error + b.quantities["ahc"].error)
    assert pair.attrs["num_kpoints"] == a.attrs["num_kpoints"] + b.attrs["num_kpoints"]


@pytest.mark.parametrize("change, message", [
    ("spinless", "the spin-down channel of a collinear pair must hold one electron per band, but its spin "
                 "degeneracy is 2 (test)"),
    ("lattice", "the spin-up and spin-down models have different lattices"),
])
def test_pair_rejects_inconsistent_channels(change, message):
    from wbentropy.api import compute_collinear

    up = _spinless()
    down = up.with_spin_degeneracy(2, source="test") if change == "spinless" else \
        random_model(num_wann=3, seed=7, lattice=2 * up.lattice)
    with pytest.raises(InputError) as info:
        compute_collinear(up=up, down=down, quantities=["ahc"], temperatures=[0.0], mus=[0.0], kmesh=(2, 2, 2))
    assert message in str(info.value)


@pytest.fixture
def pair_files(tmp_path):
    model = _spinless()
    for name in ("m_up_tb.dat", "m_dn_tb.dat", "m_tb.dat"):
        write_tb(model=model, path=tmp_path / name)
    return tmp_path


def test_cli_pair_equals_spinless_run_with_degeneracy_two(pair_files):
    run = ["--kmesh", "3", "3", "3", "--temperature", "300", "--mu", "0", "--quantities", "ahc,drude_conductivity",
           "--tau", "10"]
    p = _cli(["--tb", "m_up_tb.dat", "--tb-down", "m_dn_tb.dat", *run, "--out", "pair.h5"], pair_files)
    assert p.returncode == 0 and "assumed" not in p.stderr, p.stderr
    q = _cli(["--tb", "m_tb.dat", "--spin-degeneracy", "2", *run, "--out", "two.h5"], pair_files)
    assert q.returncode == 0, q.stderr
    with h5py.File(pair_files / "pair.h5") as a, h5py.File(pair_files / "two.h5") as b:
        for name in ("ahc", "drude_conductivity"):
            assert np.array_equal(a[f"{name}/value"][()], b[f"{name}/value"][()])
            assert np.array_equal(a[f"{name}/up/value"][()], b[f"{name}/value"][()] / 2)
            assert np.array_equal(a[f"{name}/down/value"][()], b[f"{name}/value"][()] / 2)
        assert a.attrs["input_tb"].endswith("m_up_tb.dat") and a.attrs["down_input_tb"].endswith("m_dn_tb.dat")
    s = subprocess.run([sys.executable, "-m", "wbentropy.cli", "show", "pair.h5"], cwd=pair_files,
                       capture_output=True, text=True, timeout=60)
    assert s.returncode == 0 and "## ahc" in s.stdout


@pytest.mark.parametrize("extra, message", [
    (["--hr", "m_tb.dat", "--tb-down", "m_dn_tb.dat"],
     "--tb-down: give the spin-up channel with --tb (a collinear pair is read from two _tb.dat files)"),
    (["--tb", "m_up_tb.dat", "--wsvec-down", "m_dn_tb.dat"],
     "--wsvec-down: applies to the spin-down channel given with --tb-down"),
    (["--tb", "m_up_tb.dat", "--tb-down", "m_dn_tb.dat", "--spin-degeneracy", "2"],
     "--spin-degeneracy: each channel of a collinear pair (--tb-down) holds one electron per band; drop the option"),
    (["--tb", "m_up_tb.dat", "--tb-down", "m_dn_tb.dat", "--max-kpoints", "100", "--checkpoint", "c.h5"],
     "--checkpoint/--restart: not available for a collinear spin-polarised pair (--tb-down); integrate each "
     "channel in a run of its own to checkpoint it"),
])
def test_cli_pair_errors(pair_files, extra, message):
    p = _cli([*extra, *RUN, "--out", "x.h5"], pair_files)
    assert (p.returncode, p.stderr) == (2, f"wbentropy: error: {message}\n")
    assert not (pair_files / "x.h5").exists()


def test_cli_pair_refuses_to_overwrite_the_down_file(pair_files):
    before = (pair_files / "m_dn_tb.dat").read_bytes()
    p = _cli(["--tb", "m_up_tb.dat", "--tb-down", "m_dn_tb.dat", *RUN, "--out", "m_dn_tb.dat"], pair_files)
    assert (p.returncode, p.stderr) == (2, "wbentropy: error: --out m_dn_tb.dat: is the input file given with "
                                           "--tb-down; choose another name\n")
    assert (pair_files / "m_dn_tb.dat").read_bytes() == before


@pytest.mark.parametrize("how", ["option", "win"])
def test_restart_with_another_spin_degeneracy_is_refused(tmp_path, how):
    """A checkpoint of a one-electron run must not be finished with two electrons per band (or back)."""
    (tmp_path / "m_tb.dat").write_bytes((DATA / "qwz_tb.dat").read_bytes())
    run = ["--tb", "m_tb.dat", "--kmesh", "4", "4", "1", "--temperature", "300", "--mu", "0", "--quantities", "ahc",
           "--tolerance", "1e-6", "--max-kpoints", "5000", "--no-progress", "--out", "r.h5", "--checkpoint", "c.h5"]
    first = _cli([*run, "--spin-degeneracy", "1", "--kill-after-level", "1"], tmp_path)
    assert first.returncode == 17, first.stderr
    before = (tmp_path / "c.h5").read_bytes()
    if how == "win":
        (tmp_path / "m.win").write_text("spinors = .false.\n")
        again = _cli([*run, "--restart", "c.h5"], tmp_path)
    else:
        again = _cli([*run, "--restart", "c.h5", "--spin-degeneracy", "2"], tmp_path)
    assert again.returncode == 2 and again.stderr.count("\n") == 1, again.stderr
    assert again.stderr.startswith("wbentropy: error: c.h5: checkpoint belongs to a different run")
    assert (tmp_path / "c.h5").read_bytes() == before and not (tmp_path / "r.h5").exists()


def test_mpi_two_ranks_pair_and_warning_once(pair_files):
    """mpiexec -n 2: the pair's totals and channels equal one rank's, and an assumed degeneracy is
    reported once, not once per rank."""
    from _mpi import mpiexec

    run = ["--kmesh", "3", "3", "3", "--temperature", "300", "--mu", "0", "--quantities", "ahc"]
    out = {}
    for n in (1, 2):
        p = subprocess.run([mpiexec(), "-n", str(n), sys.executable, "-m", "wbentropy.cli", "compute", "--tb",
                            "m_up_tb.dat", "--tb-down", "m_dn_tb.dat", *run, "--out", f"p{n}.h5"],
                           cwd=pair_files, capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr
        with h5py.File(pair_files / f"p{n}.h5") as h:
            assert h.attrs["mpi_ranks"] == n
            out[n] = [h[k][()] for k in ("ahc/value", "ahc/up/value", "ahc/down/value")]
    for a, b in zip(out[1], out[2]):
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-12 * np.max(np.abs(a)))
    p = subprocess.run([mpiexec(), "-n", "2", sys.executable, "-m", "wbentropy.cli", "compute", "--tb", "m_tb.dat",
                        *run, "--out", "w.h5"], cwd=pair_files, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and p.stderr.count("assumed spinor") == 1, p.stderr
