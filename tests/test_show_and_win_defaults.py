"""The command line reads E_F and the mesh from the .win, takes mu - E_F, and ``show`` prints parts and CSV."""
from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import numpy as np
import pytest

from wbentropy.cli import main
from wbentropy.results import Result

DATA = Path(__file__).resolve().parents[1] / "data"
QWZ = DATA / "qwz_tb.dat"


@pytest.fixture
def qwz_with_win(tmp_path):
    """qwz_tb.dat beside a .win with fermi_energy and berry_kmesh (as postw90 would read it)."""
    shutil.copy(QWZ, tmp_path / "q_tb.dat")
    win = (DATA / "qwz.win").read_text() + "fermi_energy = 0.25\nberry_kmesh = 6 6 1\n"
    (tmp_path / "q.win").write_text(win)
    return tmp_path / "q_tb.dat"


def _run(argv, capsys) -> str:
    assert main(argv) == 0
    return capsys.readouterr().out


def test_win_supplies_mesh_and_fermi_energy(qwz_with_win, tmp_path, capsys):
    """No --kmesh, no --mu: berry_kmesh and mu = E_F from the .win, the same numbers as given explicitly."""
    _run(["compute", "--tb", str(qwz_with_win), "--temperature", "300", "--out", str(tmp_path / "a.h5")], capsys)
    _run(["compute", "--tb", str(QWZ), "--temperature", "300", "--kmesh", "6", "6", "1", "--mu", "0.25",
          "--out", str(tmp_path / "b.h5")], capsys)
    a, b = Result.load(tmp_path / "a.h5"), Result.load(tmp_path / "b.h5")
    assert a.attrs["kmesh"] == "[6, 6, 1]" and list(a.mu) == [0.25]
    assert a.attrs["fermi_energy_eV"] == 0.25
    assert a.attrs["fermi_energy_source"] == f"{qwz_with_win.with_name('q.win')}, line 11 (fermi_energy)"
    np.testing.assert_array_equal(a["ahc"], b["ahc"])
    assert "fermi_energy_eV" not in b.attrs  # qwz.win has no fermi_energy


def test_mu_relative_and_options_override_the_win(qwz_with_win, tmp_path, capsys):
    out = _run(["compute", "--tb", str(qwz_with_win), "--temperature", "300", "--mu-range", "-0.5", "0.5", "0.5",
                "--mu-relative", "--fermi-energy", "0.5", "--kmesh", "4", "4", "1",
                "--out", str(tmp_path / "r.h5")], capsys)
    r = Result.load(tmp_path / "r.h5")
    np.testing.assert_allclose(r.mu, [0.0, 0.5, 1.0])
    assert r.attrs["kmesh"] == "[4, 4, 1]" and r.attrs["fermi_energy_eV"] == 0.5
    assert r.attrs["fermi_energy_source"] == "--fermi-energy"
    assert "mu-E_F[eV]" in out and "  300.000     1.000000    0.500000" in out


@pytest.mark.parametrize("argv, message", [
    (["--mu", "0"], "--kmesh: required and {win} has no berry_kmesh (give --kmesh N1 N2 N3)"),
    (["--kmesh", "4", "4", "1"], "--mu: give --mu or --mu-range (no fermi_energy in a .win and no --fermi-energy)"),
    (["--kmesh", "4", "4", "1", "--mu", "0", "--mu-relative"],
     "--mu-relative: E_F is unknown: give --fermi-energy EV (or fermi_energy in the .win)"),
    (["--kmesh", "4", "4", "1", "--mu-relative", "--fermi-energy", "0"],
     "--mu-relative: give --mu or --mu-range (values relative to E_F)"),
    (["--kmesh", "4", "4", "1", "--fermi-energy", "nan"], "--fermi-energy must be a finite energy in eV, got nan"),
])
def test_missing_defaults_are_one_line_errors(tmp_path, capfd, argv, message):
    with pytest.raises(SystemExit) as info:
        main(["compute", "--tb", str(QWZ), "--temperature", "300", *argv, "--out", str(tmp_path / "x.h5")])
    assert info.value.code == 2
    assert capfd.readouterr().err == "wbentropy: error: " + message.format(win=DATA / "qwz.win") + "\n"
    assert not (tmp_path / "x.h5").exists()


@pytest.fixture(scope="module")
def scan(tmp_path_factory):
    path = tmp_path_factory.mktemp("scan") / "s.h5"
    assert main(["compute", "--tb", str(QWZ), "--temperature", "100", "300", "--mu-range", "-1", "1", "0.5",
                 "--fermi-energy", "0.5", "--kmesh", "6", "6", "1", "--quantities", "ahc,entropy_hall",
                 "--out", str(path)]) == 0
    return path


def test_show_csv_has_one_row_per_entry_in_full_precision(scan, capsys):
    _run(["show", str(scan)], capsys)
    text = _run(["show", str(scan), "--csv"], capsys)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert text.splitlines()[0] == "quantity,units,T_K,mu_eV,mu_minus_EF_eV,omega_eV,component,value,imag,error"
    res = Result.load(scan)
    assert len(rows) == 2 * 2 * 5 * 3  # quantities x T x mu x (yz, zx, xy)
    for row in rows:
        iT = list(res.temperature).index(float(row["T_K"]))
        im = list(res.mu).index(float(row["mu_eV"]))
        a, b = "xyz".index(row["component"][0]), "xyz".index(row["component"][1])
        assert float(row["value"]) == res[row["quantity"]][iT, im, a, b]  # bit for bit
        assert float(row["mu_minus_EF_eV"]) == pytest.approx(float(row["mu_eV"]) - 0.5, abs=1e-12)
        assert row["error"] == "" and row["omega_eV"] == "" and row["imag"] == ""


def test_show_selects_quantity_component_temperature_and_mu(scan, capsys):
    out = _run(["show", str(scan), "--quantities", "entropy_hall", "--component", "xy", "--temperature", "300",
                "--mu", "0", "--mu-relative"], capsys)
    blocks = [ln for ln in out.splitlines() if ln.startswith("## ")]
    assert blocks == ["## entropy_hall  [A/(m*K)]"]
    rows = [ln for ln in out.splitlines() if ln and not ln.startswith("#")]
    assert rows[0].split() == ["T[K]", "mu[eV]", "mu-E_F[eV]", "xy"]
    assert rows[1].split()[:3] == ["300.000", "0.500000", "0.000000"] and len(rows) == 2
    res = Result.load(scan)
    assert float(rows[1].split()[3]) == pytest.approx(res["entropy_hall"][1, 3, 0, 1], rel=1e-6)


@pytest.mark.parametrize("argv, message", [
    (["--temperature", "7"], "--temperature 7 K is not in the result (its values: 100, 300)"),
    (["--mu", "0.3"], "--mu 0.3 eV is not in the result (its values: -1, -0.5, 0, 0.5, 1)"),
    (["--quantities", "ahc,foo"], "--quantities: foo not in the result (it holds ahc, entropy_hall)"),
    (["--component", "xq"], "--component: xq is not a component (one to three of x, y, z, e.g. xy)"),
])
def test_show_selection_errors(scan, capfd, argv, message):
    with pytest.raises(SystemExit) as info:
        main(["show", str(scan), *argv])
    assert info.value.code == 2
    assert capfd.readouterr().err == f"wbentropy: error: {message}\n"


def test_adaptive_entries_carry_their_error(tmp_path, capsys):
    out = _run(["compute", "--tb", str(QWZ), "--temperature", "300", "--mu", "-1", "--kmesh", "4", "4", "1",
                "--tolerance", "0.05", "--quantities", "ahc", "--out", str(tmp_path / "a.h5")], capsys)
    res = Result.load(tmp_path / "a.h5")
    row = next(ln for ln in out.splitlines() if ln.startswith("  300.000"))
    assert row.split()[-1] == f"±{abs(res.quantities['ahc'].error[0, 0, 0, 1]):8.2e}".replace(" ", "")
    text = _run(["show", str(tmp_path / "a.h5"), "--csv", "--component", "xy"], capsys)
    (only,) = list(csv.DictReader(io.StringIO(text)))
    assert float(only["error"]) == abs(res.quantities["ahc"].error[0, 0, 0, 1])
