"""The command-line and HDF5 contract, tb vs hr+r equivalence, and real MPI runs."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from wbentropy import __version__, constants as C
from wbentropy.api import compute
from wbentropy.cli import main
from wbentropy.io.load import load_model
from wbentropy.io.hr import write_hr
from wbentropy.io.tb import write_tb
from wbentropy.toy_models import random_model
from _mpi import assert_same_results, rank_results
from _mpi import mpiexec as _mpiexec

DATA = Path(__file__).resolve().parents[1] / "data"


def test_compute_contract_and_show(tmp_path, capsys):
    out = tmp_path / "res.h5"
    rc = main(["compute", "--tb", str(DATA / "qwz_tb.dat"), "--kmesh", "32", "32", "2",
               "--temperature", "0", "77.5", "300", "--mu", "0.0", "-1.3", "0.25",
               "--quantities", "ahc,entropy_hall", "--out", str(out)])
    assert rc == 0
    with h5py.File(out) as h:
        assert np.array_equal(h["temperature"][()], [0, 77.5, 300])
        assert np.array_equal(h["mu"][()], [0.0, -1.3, 0.25])  # any list, not only sorted/even
        for q, units in (("ahc", "S/cm"), ("entropy_hall", "A/(m*K)")):
            assert h[q]["value"].shape == (3, 3, 3, 3)
            assert h[q]["value"].attrs["units"] == units
        assert h.attrs["wbentropy_version"] == __version__
        assert list(h.attrs["kmesh"]) == [32, 32, 2] or h.attrs["kmesh"] == "[32, 32, 2]"
        assert str(DATA / "qwz_tb.dat") in h.attrs["input_tb"]
        sxy = h["ahc"]["value"][0, 0, 0, 1]
    assert sxy == pytest.approx(-C.E2_OVER_H / 5e-8, rel=1e-6)  # one quantum per c = 5 A
    capsys.readouterr()
    assert main(["show", str(out)]) == 0
    text = capsys.readouterr().out
    assert "## ahc  [S/cm]" in text and "-7.748092e+02" in text


def test_mu_range_inclusive(tmp_path):
    out = tmp_path / "r.h5"
    main(["compute", "--tb", str(DATA / "qwz_tb.dat"), "--kmesh", "4", "4", "1", "--temperature", "300",
          "--mu-range", "-1", "1", "0.5", "--out", str(out)])
    with h5py.File(out) as h:
        assert np.allclose(h["mu"][()], [-1, -0.5, 0, 0.5, 1])


def test_tb_and_hr_routes_give_identical_results(tmp_path):
    model = random_model(num_wann=3, seed=4)
    write_tb(model=model, path=tmp_path / "m_tb.dat")
    write_hr(model=model, hr_path=tmp_path / "m_hr.dat", r_path=tmp_path / "m_r.dat", win_path=tmp_path / "m.win")
    kw = dict(quantities=["ahc", "entropy_hall"], temperatures=[0, 300], mus=[-0.3, 0.1], kmesh=(6, 5, 4))
    a = compute(model=load_model(tb=tmp_path / "m_tb.dat"), **kw)
    b = compute(model=load_model(hr=tmp_path / "m_hr.dat", r=tmp_path / "m_r.dat", win=tmp_path / "m.win"), **kw)
    c = compute(model=model, **kw)
    for q in ("ahc", "entropy_hall"):
        assert np.max(np.abs(a[q])) > 0
        assert np.array_equal(a[q], b[q])
        assert np.allclose(a[q], c[q], rtol=1e-10, atol=1e-12 * np.max(np.abs(c[q])))


@pytest.mark.parametrize("args,needle", [
    (["--tb", "nonexistent_tb.dat"], "nonexistent_tb.dat"),
    (["--tb", "DATA/qwz_tb.dat", "--quantities", "ahc,nonsense"], "unknown quantity 'nonsense'"),
    (["--tb", "DATA/qwz_tb.dat", "--temperature", "-5"], "temperatures must be finite and >= 0"),
    (["--tb", "DATA/qwz_tb.dat", "--kmesh", "0", "4", "4"], "k-mesh must be three positive integers"),
    (["--tb", "DATA/qwz_tb.dat", "--out", "/nonexistent_dir/x.h5"], "output folder does not exist"),
    (["--hr", "DATA/qwz_hr.dat"], "win"),
])
def test_user_errors_are_one_line_no_traceback(args, needle, tmp_path):
    base = {"--kmesh": ["4", "4", "1"], "--temperature": ["300"], "--mu": ["0"], "--out": [str(tmp_path / "o.h5")]}
    argv = ["compute"] + [a.replace("DATA", str(DATA)) for a in args]
    for k, v in base.items():
        if k not in argv:
            argv += [k] + v
    proc = subprocess.run([sys.executable, "-m", "wbentropy.cli"] + argv, capture_output=True, text=True)
    assert proc.returncode == 2
    assert needle in proc.stderr
    assert "Traceback" not in proc.stderr


def test_warns_when_wsvec_beside_tb_not_given(tmp_path):
    shutil.copy(DATA / "qwz_tb.dat", tmp_path / "qwz_tb.dat")
    (tmp_path / "qwz_wsvec.dat").write_text("## use_ws_distance=.true.\n")
    with pytest.warns(UserWarning, match="wsvec"):
        load_model(tb=tmp_path / "qwz_tb.dat")


def test_missing_wsvec_warning_once_in_the_callers_words(tmp_path):
    """On the command line the missing-_wsvec warning is printed once and names the option --wsvec."""
    for name in ("Fe_hr.dat.gz", "Fe_r.dat.gz", "Fe_wsvec.dat.gz", "Fe.win"):
        shutil.copy(DATA / name, tmp_path / name)
    proc = subprocess.run([sys.executable, "-m", "wbentropy.cli", "compute", "--hr", "Fe_hr.dat.gz", "--r",
                           "Fe_r.dat.gz", "--win", "Fe.win", "--kmesh", "2", "2", "2", "--temperature", "300",
                           "--mu", "17.38", "--quantities", "ahc", "--out", "w.h5"],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("Fe_wsvec.dat.gz exists but was not given") == 1, proc.stderr
    assert "--wsvec Fe_wsvec.dat.gz" in proc.stderr and "wsvec_file" not in proc.stderr




@pytest.mark.mpi
def test_mpiexec_two_ranks_equals_one_rank(tmp_path):
    """Real MPI: mpiexec -n 2 and -n 1 give the same tensors (batches reduced in a fixed order)."""
    model = random_model(num_wann=4, seed=9)
    write_tb(model=model, path=tmp_path / "m_tb.dat")
    results = {}
    for n in (1, 2):
        out = tmp_path / f"n{n}.h5"
        cmd = [_mpiexec(), "-n", str(n), sys.executable, "-m", "wbentropy.cli", "compute", "--tb",
               str(tmp_path / "m_tb.dat"), "--kmesh", "7", "6", "5", "--temperature", "0", "300",
               "--mu", "-0.2", "0.1", "--batch-size", "16", "--out", str(out)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=dict(os.environ))
        assert proc.returncode == 0, proc.stderr
        results[n] = rank_results(out, n)
    assert_same_results(results[1], results[2])


def test_python_dash_m_wbentropy_is_the_command():
    """``python -m wbentropy`` runs the command line (``--version``, and a one-line error with exit 2)."""
    import subprocess
    import sys

    from wbentropy import __version__

    proc = subprocess.run([sys.executable, "-m", "wbentropy", "--version"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == f"wbentropy {__version__}"
    proc = subprocess.run([sys.executable, "-m", "wbentropy", "compute", "--kmesh", "8.5"], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and proc.stderr.startswith("wbentropy: error:")
