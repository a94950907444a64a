"""Issue 24, command line: absurd options, argparse errors, Ctrl-C / SIGTERM, bad input under MPI.

Every absurd option value is refused before any computation with one line
``wbentropy: error: ...`` naming the option and the accepted range (exit 2, no traceback,
no numpy warning, no output file); ``compute()`` refuses the same values with InputError.
SIGINT (Ctrl-C) and SIGTERM print one line, keep the adaptive checkpoint, say how to resume
and exit 130 / 143, serially and under ``mpiexec -n 2``.  Under MPI a bad input prints one
error line, exits 2 on every rank without ``MPI_Abort`` and leaves no ``/dev/shm`` segment.
"""
from __future__ import annotations

import glob
import math
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from _mpi import mpiexec
from wbentropy.api import band_range, compute
from wbentropy.cli import main
from wbentropy.errors import InputError
from wbentropy.evaluate import Evaluator
from wbentropy.kspace.interpolation import Interpolator
from wbentropy.io.load import load_model
from wbentropy.toy_models import random_model
from _patched_cli import cli_command

ROOT = Path(__file__).resolve().parents[1]
QWZ = ROOT / "data" / "qwz_tb.dat"
FE = ["--hr", str(ROOT / "data" / "Fe_hr.dat.gz"), "--r", str(ROOT / "data" / "Fe_r.dat.gz"),
      "--win", str(ROOT / "data" / "Fe.win"), "--wsvec", str(ROOT / "data" / "Fe_wsvec.dat.gz")]
#: an adaptive Fe run of ~30 s: long enough to be interrupted after its first checkpoint
FE_ADAPTIVE = ["compute", *FE, "--kmesh", "4", "4", "4", "--temperature", "300", "--mu", "17.6",
               "--tolerance", "1e-9", "--max-kpoints", "30000"]


def _qwz_adaptive(n: int) -> list[str]:
    """An adaptive qwz run on an n x n coarse mesh (~10 s with n = 16: many short levels)."""
    return ["compute", "--tb", str(QWZ), "--kmesh", str(n), str(n), "1", "--temperature", "300", "--mu", "0",
            "--tolerance", "1e-12", "--max-kpoints", "5000000"]


def _cli(tmp_path, *extra, kmesh=("4", "4", "1"), mu=("--mu", "0")):
    """compute arguments on qwz with ``extra`` options (later options of the same name win)."""
    return ["compute", "--tb", str(QWZ), "--kmesh", *kmesh, "--temperature", "300", *mu,
            "--out", str(tmp_path / "r.h5"), *extra]


def _refused(capfd, argv) -> str:
    """Run main(argv) in-process; assert exit 2 with exactly one stderr line; return it."""
    with pytest.raises(SystemExit) as info:
        main(argv)
    err = capfd.readouterr().err
    assert info.value.code == 2, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("wbentropy: error: ")
    assert "Traceback" not in err and "Warning" not in err
    return lines[0]


AC = ("--quantities", "optical_conductivity", "--omega-range", "0.5", "1", "0.5")
EP = ("--quantities", "entropy_production")
ADAPTIVE = ("--tolerance", "0.01")

# (id, extra options, words of the message)
ABSURD = [
    ("degen_thresh_100", ("--degen-thresh", "100"), "--degen-thresh must be >= 0 eV and at most 1 eV"),
    ("degen_thresh_nan", ("--degen-thresh", "nan"), "--degen-thresh must be >= 0 eV and at most 1 eV"),
    ("temperature_1e308", ("--temperature", "1e308"), "temperatures must be <= 1e+06 K (k_B T = 86 eV"),
    ("temperature_2e6", ("--temperature", "300", "2e6"), "temperatures must be <= 1e+06 K"),
    ("abs_tolerance_nan", (*ADAPTIVE, "--abs-tolerance", "nan"), "--abs-tolerance must be finite and >= 0"),
    ("abs_tolerance_minus_1e30", (*ADAPTIVE, "--abs-tolerance=-1e30"), "--abs-tolerance must be finite and >= 0"),
    ("tolerance_nan", ("--tolerance", "nan"), "--tolerance must be > 0 and < 1"),
    ("tolerance_inf", ("--tolerance", "inf"), "--tolerance must be > 0 and < 1"),
    ("tolerance_0", ("--tolerance", "0"), "--tolerance must be > 0 and < 1"),
    ("tolerance_minus_1", ("--tolerance", "-1"), "--tolerance must be > 0 and < 1"),
    ("tolerance_1", ("--tolerance", "1"), "--tolerance must be > 0 and < 1"),
    ("max_levels_minus_1", (*ADAPTIVE, "--max-levels", "-1"), "--max-levels must be between 0 and 52"),
    ("max_levels_65", (*ADAPTIVE, "--max-levels", "65"), "--max-levels must be between 0 and 52"),
    ("max_memory_inf", ("--max-memory", "inf"), "--max-memory must be > 0 MB and finite, got inf"),
    ("max_memory_nan", ("--max-memory", "nan"), "--max-memory must be > 0 MB and finite, got nan"),
    ("max_memory_0", ("--max-memory", "0"), "--max-memory must be > 0 MB"),
    ("max_memory_minus_5", ("--max-memory", "-5"), "--max-memory must be > 0 MB"),
    ("max_kpoints_0", ("--max-kpoints", "0"), "--max-kpoints must be >= 1, got 0"),
    ("max_kpoints_minus_1", ("--max-kpoints", "-1"), "--max-kpoints must be >= 1, got -1"),
    ("tau_nan", (*EP, "--tau", "nan"), "the relaxation time must be > 0 fs, got nan"),
    ("tau_inf", (*EP, "--tau", "inf"), "the relaxation time must be > 0 fs, got inf"),
    ("tau_0", (*EP, "--tau", "0"), "the relaxation time must be > 0 fs, got 0"),
    ("tau_minus_1", (*EP, "--tau", "-1"), "the relaxation time must be > 0 fs, got -1"),
    ("tau_1e30", (*EP, "--tau", "1e30"), "--tau must be between 0.001 and 1e+09 fs"),
    ("batch_size_0", ("--batch-size", "0"), "--batch-size must be >= 1, got 0"),
    ("threads_0", ("--threads", "0"), "--threads must be >= 1 and at most 4 per core"),
    ("threads_minus_1", ("--threads", "-1"), "--threads must be >= 1 and at most 4 per core"),
    ("threads_1e6", ("--threads", "1000000"), "--threads must be >= 1 and at most 4 per core"),
    ("smearing_nan", (*AC, "--smearing", "lorentzian", "nan"), "smearing width must be > 0 eV, got nan"),
    ("smearing_inf", (*AC, "--smearing", "lorentzian", "inf"), "smearing width must be > 0 eV, got inf"),
    ("smearing_minus_1", (*AC, "--smearing", "lorentzian", "-1"), "smearing width must be > 0 eV, got -1"),
    ("kmesh_0", ("--kmesh", "0", "4", "4"), "k-mesh must be three positive integers, got (0, 4, 4)"),
    ("kmesh_minus_1", ("--kmesh", "-1", "4", "4"), "k-mesh must be three positive integers, got (-1, 4, 4)"),
    ("kmesh_10000_cubed", ("--kmesh", "10000", "10000", "10000"),
     "--kmesh 10000 10000 10000 has 1e+12 k-points, more than the 2^36 = 68719476736 (4096^3)"),
    ("kmesh_2_to_40", ("--kmesh", "1099511627776", "1", "1"), "--kmesh 1099511627776 1 1 has 1.1e+12 k-points"),
    ("adaptive_coarse_mesh_too_big", (*ADAPTIVE, "--kmesh", "2000", "2000", "100"),
     "the adaptive coarse mesh --kmesh 2000 2000 100 has 400000000 cells"),
    ("omega_range_1e15_points", ("--quantities", "optical_conductivity", "--omega-range", "0", "1e6", "1e-9"),
     "--omega-range 0 1e+06 1e-09 asks for 1e+15 points, more than the 1000000 wbentropy accepts"),
    ("omega_range_1e7_points", ("--quantities", "optical_conductivity", "--omega-range", "0", "10", "1e-6"),
     "--omega-range 0 10 1e-06 asks for 1e+07 points"),
    ("omega_range_nan", ("--quantities", "optical_conductivity", "--omega-range", "0", "nan", "0.1"),
     "--omega-range needs three finite numbers START STOP STEP"),
    ("quantities_empty", ("--quantities", ""), "--quantities needs a comma-separated list of names"),
    ("quantities_commas", ("--quantities", ",,,"), "--quantities needs a comma-separated list of names"),
    ("quantities_hole", ("--quantities", "ahc,,entropy_hall"), "without empty entries"),
    ("quantities_repeated", ("--quantities", "ahc,entropy_hall,ahc"), "--quantities names ahc more than once"),
    ("quantities_unknown", ("--quantities", "ahc,sigma"), "unknown quantity 'sigma'"),
]


@pytest.mark.parametrize("extra,needle", [a[1:] for a in ABSURD], ids=[a[0] for a in ABSURD])
def test_absurd_option_is_refused_before_computing(tmp_path, capfd, extra, needle):
    line = _refused(capfd, _cli(tmp_path, *extra))
    assert needle in line, line
    assert list(tmp_path.iterdir()) == []  # no result, no checkpoint


MU_CASES = [
    ("mu_range_nan", ("--mu-range", "nan", "nan", "nan"), "--mu-range needs three finite numbers START STOP STEP, "
                                                          "got nan nan nan"),
    ("mu_range_inf_stop", ("--mu-range", "0", "inf", "1"), "--mu-range needs three finite numbers START STOP STEP, "
                                                           "got 0 inf 1"),
    ("mu_range_inf_step", ("--mu-range", "0", "1", "inf"), "--mu-range needs three finite numbers START STOP STEP, "
                                                           "got 0 1 inf"),
    ("mu_range_7_pib", ("--mu-range", "0", "1e6", "1e-9"),
     "--mu-range 0 1e+06 1e-09 asks for 1e+15 points, more than the 1000000 wbentropy accepts: use a larger STEP"),
    ("mu_range_zero_step", ("--mu-range", "0", "1", "0"), "--mu-range needs START <= STOP and STEP > 0"),
    ("mu_nan", ("--mu", "nan"), "chemical potentials must be finite, got nan"),
    ("mu_inf", ("--mu", "0", "inf"), "chemical potentials must be finite, got 0, inf"),
]


@pytest.mark.parametrize("mu,needle", [c[1:] for c in MU_CASES], ids=[c[0] for c in MU_CASES])
def test_bad_chemical_potentials_are_one_line(tmp_path, capfd, mu, needle):
    assert needle in _refused(capfd, _cli(tmp_path, mu=mu))


def test_api_refuses_the_same_values():
    """compute() (the Python API) refuses what the command line refuses, naming the parameter."""
    model = load_model(tb=QWZ)
    kw = dict(model=model, quantities=["ahc"], temperatures=[300.0], mus=[0.0], kmesh=(4, 4, 1))
    bad = [({"degen_thresh": 100.0}, "degen_thresh must be >= 0 eV and at most 1 eV"),
           ({"temperatures": [1e308]}, "temperatures must be <= 1e+06 K"),
           ({"quantities": []}, "quantities needs a comma-separated list"),
           ({"quantities": ["ahc", "ahc"]}, "quantities names ahc more than once"),
           ({"tau_fs": 1e30}, "tau_fs must be between"),
           ({"abs_tolerance": math.nan, "tolerance": 0.01}, "abs_tolerance must be finite"),
           ({"max_levels": -1, "tolerance": 0.01}, "max_levels must be between 0 and 52"),
           ({"max_memory_mb": math.inf}, "max_memory_mb must be > 0 MB and finite"),
           ({"kmesh": (10**6, 10**6, 1)}, "kmesh 1000000 1000000 1 has 1e+12 k-points"),
           ({"kmesh": (4.5, 4, 1)}, "k-mesh must be three positive integers"),
           ({"threads": 10**6}, "threads must be >= 1 and at most 4 per core")]
    for change, needle in bad:
        with pytest.raises(InputError) as info:
            compute(**{**kw, **change})
        assert "--" not in str(info.value), str(info.value)  # the Python names, not the options
        assert needle in str(info.value), (change, str(info.value))


def test_degen_thresh_above_the_band_width_is_refused():
    """A threshold below 1 eV but above the whole band width would merge every band (sigma = 0)."""
    model = random_model(num_wann=3, seed=5, hopping=0.01)
    lo, hi = band_range(interpolator=Interpolator(model=model))
    width = hi - lo
    assert 0 < width < 0.5
    kw = dict(model=model, quantities=["ahc"], temperatures=[300.0], mus=[(lo + hi) / 2], kmesh=(3, 3, 3))
    with pytest.raises(InputError, match=r"^degen_thresh [0-9.e-]+ eV is not below the band width of the model"):
        compute(**kw, degen_thresh=min(0.99, 1.5 * width))
    res = compute(**kw, degen_thresh=width / 100)  # a threshold below the width is accepted
    assert np.all(np.isfinite(res["ahc"]))


def test_default_memory_budget_is_named_as_the_default(tmp_path, capfd):
    """Too many outputs per k-point: the message blames the default budget, not a --max-memory never given."""
    line = _refused(capfd, _cli(tmp_path, "--quantities", "optical_conductivity", "--omega-range", "0", "10", "0.001",
                                "--temperature", "300", "400", mu=("--mu-range", "-1", "1", "0.01")))
    assert "the default memory budget of" in line and "--max-memory " not in line.split("is too small")[0], line
    assert "hold the 72367236 outputs per k-point" in line
    assert "ask for fewer of those or give a larger --max-memory" in line
    line = _refused(capfd, _cli(tmp_path, "--quantities", "optical_conductivity", "--omega-range", "0", "1", "0.1",
                                "--max-memory", "0.5", mu=("--mu-range", "-1", "1", "0.01")))
    assert line.startswith("wbentropy: error: --max-memory 0.5 MB is too small: this model needs"), line


PARSE_ERRORS = [
    (["--kmesh", "8.5", "4", "1"], "wbentropy: error: argument --kmesh: invalid int value: '8.5'"),
    (["--temperature", "hot"], "wbentropy: error: argument --temperature: invalid float value: 'hot'"),
    (["--bogus"], "wbentropy: error: unrecognized arguments: --bogus"),
    (["--entropy-production-form", "guess"], "wbentropy: error: argument --entropy-production-form: invalid choice"),
]


@pytest.mark.parametrize("extra,expected", PARSE_ERRORS, ids=["kmesh_float", "temperature_word", "unknown_option",
                                                              "bad_choice"])
def test_argparse_errors_are_one_line(tmp_path, extra, expected):
    proc = subprocess.run([sys.executable, "-m", "wbentropy.cli", *_cli(tmp_path), *extra], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [proc.stderr.strip()]  # one line, no usage block
    assert proc.stderr.startswith(expected), proc.stderr
    assert proc.stdout == ""


def test_missing_subcommand_argument_and_help(capfd):
    """A required option missing from a subcommand is one line too; --help still prints the usage."""
    with pytest.raises(SystemExit) as info:
        main(["verify", "--tb", str(QWZ), "--temperature", "300", "--mu", "0"])
    assert info.value.code == 2
    err = capfd.readouterr().err
    assert err == "wbentropy: error: the following arguments are required: --kmesh\n"
    with pytest.raises(SystemExit) as info:
        main(["compute", "--help"])
    assert info.value.code == 0
    out = capfd.readouterr().out
    assert out.startswith("usage: wbentropy compute") and "--max-levels" in out


def test_verify_refuses_absurd_options(capfd):
    line = _refused(capfd, ["verify", "--tb", str(QWZ), "--kmesh", "4", "4", "1", "--temperature", "1e308",
                            "--mu", "0"])
    assert "temperatures must be <= 1e+06 K" in line
    line = _refused(capfd, ["verify", "--tb", str(QWZ), "--kmesh", "4", "4", "1", "--temperature", "300",
                            "--mu", "0", "--degen-thresh", "50"])
    assert "--degen-thresh must be >= 0 eV and at most 1 eV" in line


def test_plot_kslice_refuses_absurd_options(tmp_path, capfd):
    assert main(_cli(tmp_path)) == 0
    capfd.readouterr()
    result = str(tmp_path / "r.h5")
    line = _refused(capfd, ["plot", result, "--kslice", "k3=0", "--kslice-mesh", "100000"])
    assert "--kslice-mesh must be >= 2 and at most 4096 (N x N k-points), got 100000" in line
    line = _refused(capfd, ["plot", result, "--kslice", "k3=0", "--kslice-temperature", "1e308"])
    assert "temperatures must be <= 1e+06 K" in line
    line = _refused(capfd, ["plot", result, "--kslice", "kz=0", "--kslice-extent", "inf"])
    assert "--kslice-extent must be a finite length > 0" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.h5"]


# ------------------------------------------------------------------ signals
def _start(argv, **kw) -> subprocess.Popen:
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def _wait_for(path: Path, proc: subprocess.Popen, timeout: float = 90) -> None:
    t0 = time.monotonic()
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() - t0 < timeout, "the run never wrote its checkpoint"
        time.sleep(0.05)


def _wait_for_work(proc: subprocess.Popen, timeout: float = 60) -> list[str]:
    """Read stderr of a -v run until the memory plan is logged (the integration is starting)."""
    lines = []
    t0 = time.monotonic()
    for line in proc.stderr:
        lines.append(line)
        if "memory plan" in line:
            return lines
        assert time.monotonic() - t0 < timeout
    raise AssertionError("".join(lines))


@pytest.mark.parametrize("signum,code,twice", [(signal.SIGINT, 130, False), (signal.SIGTERM, 143, False),
                                               (signal.SIGINT, 130, True)], ids=["SIGINT", "SIGTERM", "SIGINT_twice"])
def test_signal_on_a_uniform_run_is_one_line(tmp_path, signum, code, twice):
    out = tmp_path / "u.h5"
    proc = _start([sys.executable, "-m", "wbentropy.cli", "compute", "--tb", str(QWZ), "--kmesh", "1000", "1000", "1",
                   "--temperature", "300", "--mu", "0", "--out", str(out), "-v"])
    _wait_for_work(proc)
    proc.send_signal(signum)
    if twice:  # an impatient user: the second Ctrl-C must not turn the report into a traceback
        time.sleep(0.02)
        if proc.poll() is None:
            proc.send_signal(signum)
    t0 = time.monotonic()
    _, err = proc.communicate(timeout=60)
    assert time.monotonic() - t0 < 10  # within a batch or so
    assert proc.returncode == code
    last = err.strip().splitlines()[-1]
    assert last == (f"wbentropy: interrupted ({signal.Signals(signum).name}): no result written (a uniform-mesh run "
                    "keeps no checkpoint; adaptive runs do)")
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert not out.exists()


def _checkpoint_line(err: str, checkpoint: Path, signame: str = "SIGINT") -> str:
    lines = [ln for ln in err.splitlines() if ln.startswith("wbentropy:")]
    assert len(lines) == 1, err
    prefix = f"wbentropy: interrupted ({signame}); the checkpoint {checkpoint} holds level "
    assert lines[0].startswith(prefix), lines[0]
    assert lines[0].endswith(f"k-points): resume with the same command plus --restart {checkpoint}")
    return lines[0]


def test_ctrl_c_keeps_the_checkpoint_and_says_how_to_resume(tmp_path):
    """Ctrl-C after the first checkpoint: exit 130, one line naming the checkpoint and its level; the
    same command plus --restart resumes from it (it is loaded, not recomputed: level and k-points match)."""
    out = tmp_path / "q.h5"
    checkpoint = Path(str(out) + ".checkpoint.h5")
    cmd = [sys.executable, "-m", "wbentropy.cli", *_qwz_adaptive(16), "--out", str(out)]
    proc = _start(cmd)
    _wait_for(checkpoint, proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    line = _checkpoint_line(err, checkpoint)
    level = int(line.split("holds level ")[1].split()[0])
    import h5py

    with h5py.File(checkpoint) as h:
        assert int(h.attrs["level"]) == level
        n_eval = int(h.attrs["n_evaluations"])
    assert f"level {level} ({n_eval} k-points)" in line
    assert not out.exists()
    resumed = subprocess.run(cli_command([*cmd[3:], "--restart", str(checkpoint), "--kill-after-level", level, "-v"]),
                             capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 17, resumed.stderr  # the simulated kill right after the restored level
    assert f"restarted from {checkpoint} at level {level} ({n_eval} k-points)" in resumed.stderr


def test_signal_before_any_checkpoint_says_nothing_to_resume(tmp_path):
    out = tmp_path / "q.h5"
    proc = _start([sys.executable, "-m", "wbentropy.cli", *_qwz_adaptive(300), "--out", str(out), "-v"])
    _wait_for_work(proc)  # level 0 (2.4 million k-points) takes seconds
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143
    assert err.strip().splitlines()[-1] == ("wbentropy: interrupted (SIGTERM) before the first checkpoint was "
                                            "written: nothing to resume, start again")
    assert "Traceback" not in err


# ------------------------------------------------------------------ MPI
def _orphan_segments(before: set) -> set:
    """mpich shared-memory segments created since ``before`` that no live process maps (leftovers)."""
    time.sleep(0.5)
    new = set(glob.glob("/dev/shm/mpich_shm_*")) - before
    mapped = set()
    for maps in glob.glob("/proc/[0-9]*/maps"):
        try:
            text = Path(maps).read_text()
        except OSError:
            continue
        mapped |= {seg for seg in new if seg in text}
    return new - mapped


def _shm() -> set:
    return set(glob.glob("/dev/shm/mpich_shm_*"))


BAD_INPUTS = [
    ("missing_file", ["--tb", "nothere_tb.dat"], "nothere_tb.dat: file not found"),
    ("absurd_option", ["--tb", str(QWZ), "--degen-thresh", "100"], "--degen-thresh must be >= 0 eV and at most 1 eV"),
    ("mu_outside_bands", ["--tb", str(QWZ), "--mu", "17"], "every chemical potential (17 eV) lies outside the bands"),
    ("memory_too_small", ["--tb", str(QWZ), "--max-memory", "0.001"], "--max-memory 0.001 MB is too small"),
]


@pytest.mark.mpi
@pytest.mark.parametrize("args,needle", [b[1:] for b in BAD_INPUTS], ids=[b[0] for b in BAD_INPUTS])
def test_mpi_bad_input_is_one_line_exit_2_no_abort(tmp_path, args, needle, removes_mpich_leftovers):
    """A bad input seen by every rank: one error line (rank 0), exit 2, no MPI_Abort, no /dev/shm leftover."""
    before = _shm()
    proc = subprocess.run([mpiexec(), "-n", "2", sys.executable, "-m", "wbentropy.cli", "compute", "--kmesh", "4", "4",
                           "1", "--temperature", "300", "--mu", "0", "--out", str(tmp_path / "o.h5"), *args],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("wbentropy: error: ") and needle in lines[0], proc.stderr
    assert "Abort" not in proc.stderr and "MPI rank" not in proc.stderr
    assert _orphan_segments(before) == set()
    assert not (tmp_path / "o.h5").exists()


@pytest.mark.mpi
def test_mpi_restart_from_another_run_is_one_line(tmp_path, removes_mpich_leftovers):
    """A checkpoint of another run (raised inside the adaptive integrator on every rank): one line, exit 2."""
    checkpoint = tmp_path / "q.h5.checkpoint.h5"
    first = subprocess.run(cli_command([*_qwz_adaptive(8), "--out", tmp_path / "q.h5", "--kill-after-level", 0]),
                           capture_output=True, text=True, timeout=60)
    assert first.returncode == 17 and checkpoint.exists(), first.stderr
    before = _shm()
    argv = [*_qwz_adaptive(8), "--out", str(tmp_path / "q.h5"), "--restart", str(checkpoint)]
    argv[argv.index("--mu") + 1] = "0.1"
    proc = subprocess.run([mpiexec(), "-n", "2", sys.executable, "-m", "wbentropy.cli", *argv],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == (f"wbentropy: error: {checkpoint}: checkpoint belongs to a different run: it was made with "
                           "--mu 0 (now 0.1): start without --restart (or restore the inputs and options of the "
                           "checkpoint's run)\n")
    assert _orphan_segments(before) == set()


@pytest.mark.mpi
def test_mpi_normal_run_leaves_no_segment(tmp_path):
    before = _shm()
    proc = subprocess.run([mpiexec(), "-n", "2", sys.executable, "-m", "wbentropy.cli", *_cli(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert _orphan_segments(before) == set()


@pytest.mark.mpi
@pytest.mark.parametrize("signum,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"])
def test_mpi_ctrl_c_is_one_line_exit_130(tmp_path, signum, code, removes_mpich_leftovers):
    """Ctrl-C (or SIGTERM) to mpiexec, forwarded to both ranks: one line in all, exit 130 (143), checkpoint
    kept, no leftover."""
    out = tmp_path / "fe.h5"
    checkpoint = Path(str(out) + ".checkpoint.h5")
    before = _shm()
    proc = _start([mpiexec(), "-n", "2", sys.executable, "-m", "wbentropy.cli", *FE_ADAPTIVE, "--out", str(out)])
    _wait_for(checkpoint, proc)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    _checkpoint_line(err, checkpoint, signal.Signals(signum).name)
    assert checkpoint.exists() and not out.exists()
    assert _orphan_segments(before) == set()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # the lost exception, on purpose
def test_a_signal_lost_in_a_finalizer_still_stops_the_run(monkeypatch):
    """Python drops an exception raised while a finalizer runs ("Exception ignored in ..."): a Ctrl-C
    that lands there must still stop the run before its next batch, not let it finish with exit 0."""
    import gc

    from wbentropy.integrate import parallel

    monkeypatch.setattr(parallel, "_RECEIVED", [])

    class Finalized:
        def __del__(self):
            parallel.raise_on_signal(signal.SIGINT, None)  # the handler, run inside a finalizer

    Finalized()
    gc.collect()  # the KeyboardInterrupt is printed as ignored and lost
    evaluator = Evaluator.__new__(Evaluator)
    evaluator.threads = 2
    done = []
    with pytest.raises(KeyboardInterrupt):
        evaluator.map_batches(done.append, [1, 2, 3])
    assert done == []
    monkeypatch.setattr(parallel, "_RECEIVED", [signal.SIGTERM])
    with pytest.raises(parallel.Interrupted):
        evaluator.map_batches(done.append, [1])
