"""Progress reports of rank 0: lines with k-points done, rate and time left, within a stage, printed once."""
from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from _mpi import mpiexec

from wbentropy.integrate.progress import Progress, progress_interval

DATA = Path(__file__).resolve().parents[1] / "data"
QWZ = DATA / "qwz_tb.dat"
LINE = r"wbentropy: {stage}: [0-9 ]+ / {total} k-points \([0-9.]+ %\), [0-9 ]+ k-points/s, [0-9]+ s left"


def test_line_counts_all_ranks_and_estimates_the_time_left(monkeypatch):
    monkeypatch.setenv("WBENTROPY_PROGRESS_INTERVAL", "1e-9")
    out = io.StringIO()
    p = Progress(enabled=True, ranks=4, stream=out)
    p.start("uniform mesh 10x10x10", 1000)
    p._t0 -= 2.0  # two seconds ago
    p.advance(50)  # this rank: 50, all four ranks: 200 of 1000 in 2 s -> 100/s, 8 s left
    (line,) = out.getvalue().splitlines()
    assert line.startswith("wbentropy: uniform mesh 10x10x10: 200 / 1 000 k-points (20.0 %), ")
    assert line.endswith(" k-points/s, 8 s left")
    rate = int(line.split(", ")[1].split(" k-points/s")[0].replace(" ", ""))
    assert 99 <= rate <= 100


@pytest.mark.parametrize("value, expected", [("0", 0.0), ("5", 5.0), ("junk", 30.0), ("-1", 30.0)])
def test_interval_from_the_environment(monkeypatch, value, expected):
    monkeypatch.setenv("WBENTROPY_PROGRESS_INTERVAL", value)
    assert progress_interval() == expected
    assert Progress(enabled=True, stream=io.StringIO()).enabled == (expected > 0)


def test_disabled_rank_and_zero_interval_print_nothing(monkeypatch):
    monkeypatch.setenv("WBENTROPY_PROGRESS_INTERVAL", "1e-9")
    out = io.StringIO()
    p = Progress(enabled=False, stream=out)  # rank != 0
    p.start("x", 10)
    p.advance(10)
    monkeypatch.setenv("WBENTROPY_PROGRESS_INTERVAL", "0")
    q = Progress(enabled=True, stream=out)
    q.start("x", 10)
    q.advance(10)
    assert out.getvalue() == ""


def _run(argv, *, launcher=(), interval="1e-9"):
    env = dict(os.environ, WBENTROPY_PROGRESS_INTERVAL=interval)
    return subprocess.run([*launcher, sys.executable, "-m", "wbentropy.cli", *argv], capture_output=True, text=True,
                          env=env, timeout=300)


def test_uniform_and_adaptive_runs_report_in_a_batch_job(tmp_path):
    """stderr is a pipe here, as under mpiexec or Slurm: plain lines, within the mesh and each level."""
    uni = _run(["compute", "--tb", str(QWZ), "--kmesh", "64", "64", "1", "--temperature", "300", "--mu", "0",
                "--batch-size", "256", "--out", str(tmp_path / "u.h5")])
    assert uni.returncode == 0, uni.stderr
    lines = [ln for ln in uni.stderr.splitlines() if ln.startswith("wbentropy: uniform")]
    assert len(lines) >= 2 and all(re.fullmatch(LINE.format(stage="uniform mesh 64x64x1", total="4 096"), ln)
                                 for ln in lines)
    ada = _run(["compute", "--tb", str(QWZ), "--kmesh", "4", "4", "1", "--temperature", "300", "--mu", "-1",
                "--tolerance", "0.01", "--batch-size", "64", "--out", str(tmp_path / "a.h5")])
    assert ada.returncode == 0, ada.stderr
    stages = {ln.split(":")[1].strip() for ln in ada.stderr.splitlines() if ln.startswith("wbentropy: adaptive")}
    assert "adaptive, coarse mesh" in stages and "adaptive, level 1" in stages
    quiet = _run(["compute", "--tb", str(QWZ), "--kmesh", "64", "64", "1", "--temperature", "300", "--mu", "0",
                  "--batch-size", "256", "--no-progress", "--out", str(tmp_path / "q.h5")])
    assert quiet.returncode == 0 and "k-points/s" not in quiet.stderr


@pytest.mark.mpi
def test_under_mpiexec_only_rank_0_reports_and_verbose_logs_once(tmp_path):
    proc = _run(["compute", "--tb", str(QWZ), "--kmesh", "64", "64", "1", "--temperature", "300", "--mu", "0",
                 "--batch-size", "256", "-v", "--out", str(tmp_path / "m.h5")], launcher=(mpiexec(), "-n", "2"))
    assert proc.returncode == 0, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("wbentropy: uniform")]
    assert lines and all(ln.count("wbentropy:") == 1 for ln in lines)
    assert proc.stderr.count("INFO wbentropy.io.tb: read") <= 1
    wrote = [ln for ln in proc.stderr.splitlines() if "wrote" in ln]
    assert len(wrote) == 1
