"""Failure modes: atomic result files, MPI failures on one rank, memory-bounded batches."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from wbentropy.api import compute
from wbentropy.errors import InputError
from wbentropy.io.tb import write_tb
from wbentropy.toy_models import random_model
from wbentropy.results import QuantityResult, Result
from _mpi import mpiexec as _mpiexec
from _patched_cli import cli_command


def _result(value: float) -> Result:
    v = np.full((1, 2, 3, 3), value)
    return Result(temperature=np.array([300.0]), mu=np.array([0.0, 0.1]),
                  quantities={"ahc": QuantityResult(value=v, units="S/cm"),
                              "entropy_hall": QuantityResult(value=2 * v, units="A/(m*K)")},
                  attrs={"note": "good"})


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


# ------------------------------------------------------------------ atomic writes
@pytest.mark.parametrize("exc", [OSError("disk full"), KeyboardInterrupt()])
def test_failed_write_keeps_the_good_file(tmp_path, monkeypatch, exc):
    """An exception in the middle of writing (after some datasets are written) leaves the
    previous result byte for byte and no temporary file; the new result is not half-written."""
    out = tmp_path / "res.h5"
    _result(1.0).save(out)
    before = out.read_bytes()
    calls = []
    orig = h5py.Group.create_dataset

    def failing(self, name, *a, **k):
        calls.append(name)
        if len(calls) == 4:  # temperature, mu, ahc/value written; fail on the next
            raise exc
        return orig(self, name, *a, **k)

    monkeypatch.setattr(h5py.Group, "create_dataset", failing)
    with pytest.raises(type(exc)):
        _result(5.0).save(out)
    assert len(calls) == 4  # the failure did happen mid-write
    monkeypatch.undo()
    assert out.read_bytes() == before
    assert Result.load(out)["ahc"][0, 0, 0, 0] == 1.0
    assert _leftovers(tmp_path) == []
    _result(5.0).save(out)  # and a later good write replaces it
    assert Result.load(out)["ahc"][0, 0, 0, 0] == 5.0
    assert _leftovers(tmp_path) == []


def test_failed_first_write_leaves_no_file(tmp_path):
    bad = _result(1.0)
    bad.attrs["unstorable"] = object()  # h5py cannot store it: fails after the datasets are written
    with pytest.raises(TypeError):
        bad.save(tmp_path / "new.h5")
    assert list(tmp_path.iterdir()) == []


KILL_SCRIPT = r"""
import sys, time, h5py, numpy as np
from wbentropy.results import Result, QuantityResult
orig = h5py.Group.create_dataset
def slow(self, name, *a, **k):
    out = orig(self, name, *a, **k)
    if name == "value":
        self.file.flush()
        print("writing", flush=True)
        time.sleep(60)
    return out
h5py.Group.create_dataset = slow
v = np.full((1, 1, 3, 3), 7.0)
Result(temperature=np.array([1.0]), mu=np.array([0.0]), quantities={"ahc": QuantityResult(value=v, units="S/cm")}
       ).save(sys.argv[1])
"""


def test_killed_write_never_corrupts_the_result(tmp_path):
    """SIGKILL in the middle of a write: the result path still holds the previous good file."""
    out = tmp_path / "res.h5"
    _result(1.0).save(out)
    before = out.read_bytes()
    script = tmp_path / "kill.py"
    script.write_text(KILL_SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script), str(out)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert out.read_bytes() == before
    assert Result.load(out)["ahc"][0, 0, 0, 0] == 1.0
    # the interrupted temporary file is hidden beside it, never at the result path
    assert all(name.startswith(".res.h5.") for name in _leftovers(tmp_path))


def test_unwritable_output_fails_before_computing(tmp_path, monkeypatch):
    """The CLI checks --out before loading the model: no computation is wasted."""
    from wbentropy import cli

    called = []
    monkeypatch.setattr("wbentropy.io.load.load_model", lambda **k: called.append(1))
    with pytest.raises(SystemExit) as info:
        cli.main(["compute", "--tb", "x_tb.dat", "--kmesh", "2", "2", "2", "--temperature", "300", "--mu", "0",
                  "--out", str(tmp_path / "missing" / "r.h5")])
    assert info.value.code == 2 and not called


# ------------------------------------------------------------------ MPI failures


@pytest.mark.mpi
@pytest.mark.parametrize("adaptive", [False, True])
def test_user_error_on_one_rank_stops_all_ranks(tmp_path, adaptive, removes_mpich_leftovers):
    """An InputError raised on rank 1 only (inside the uniform or adaptive integration loop)
    stops both ranks within seconds with that rank's one-line message, no traceback, no output."""
    model = tmp_path / "m_tb.dat"
    write_tb(model=random_model(num_wann=3, seed=2), path=model)
    extra = ["--tolerance", "1e-6"] if adaptive else []
    cmd = [_mpiexec(), "-n", "2", *cli_command(["compute", "--tb", model, "--kmesh", "6", "6", "6", "--temperature",
                                                 "300", "--mu", "0", "--out", tmp_path / "o.h5", *extra,
                                                 "--fail-on-rank", "1", "--fail-kind", "input"])]
    env = dict(os.environ)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    elapsed = time.perf_counter() - t0
    assert proc.returncode != 0
    assert "wbentropy: error (MPI rank 1): injected.dat, line 7: injected failure on rank 1" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert elapsed < 30, elapsed  # measured ~3 s; a hang would hit the timeout
    assert not (tmp_path / "o.h5").exists()


@pytest.mark.mpi
def test_user_error_on_every_rank_is_one_clean_message(tmp_path, removes_mpich_leftovers):
    """A bad input file under mpiexec: every rank fails identically; no traceback, no hang."""
    bad = tmp_path / "bad_tb.dat"
    bad.write_text("")
    cmd = [_mpiexec(), "-n", "2", sys.executable, "-m", "wbentropy.cli", "compute", "--tb", str(bad),
           "--kmesh", "2", "2", "2", "--temperature", "300", "--mu", "0", "--out", str(tmp_path / "o.h5")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert f"{bad}: file is empty" in proc.stderr
    assert "Traceback" not in proc.stderr


# ------------------------------------------------------------------ memory bound
def _peak_of_one_batch(model, quantities, nmu, max_memory_mb, mu0=0.0):
    """tracemalloc peak (bytes) of building an Evaluator and evaluating one full batch."""
    import tracemalloc

    from wbentropy.evaluate import Evaluator
    from wbentropy.quantities import Options, get_quantities

    mus = mu0 + np.linspace(-0.5, 0.5, nmu)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        ev = Evaluator(model=model, quantities=get_quantities(quantities), temperatures=[300.0, 600.0], mus=mus,
                       options=Options(tau_fs=10.0), max_memory_mb=max_memory_mb, threads=1)
        k = np.random.default_rng(0).random((ev.batch_size, 3))
        total = ev.batch_sum(k)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert np.all(np.isfinite(total))
    return peak, ev


@pytest.mark.parametrize("nw,quantities,nmu,budget", [
    (8, ["entropy_production"], 40, 6.0),
    (8, ["ahc", "entropy_hall"], 300, 4.0),
    (6, ["entropy_production_qm", "entropy_production_nonqm", "drude_conductivity"], 10, 8.0),
    (12, ["ahc", "entropy_hall", "entropy_production"], 3, 20.0),
])
def test_batch_size_rule_honours_the_memory_bound(nw, quantities, nmu, budget):
    """The arrays of one evaluation (operators + one batch + integrand blocks), measured with
    tracemalloc, stay under --max-memory, and use a fair share of it (the rule is not just tiny)."""
    peak, ev = _peak_of_one_batch(random_model(num_wann=nw, seed=5, radius=2), quantities, nmu, budget)
    assert peak <= budget * 2**20, (peak / 2**20, ev.batch_size)
    assert peak >= 0.25 * budget * 2**20, (peak / 2**20, ev.batch_size)
    assert ev.memory.bound_bytes <= budget * 2**20


def test_memory_bound_on_fe(fe_dir):
    from wbentropy.io.w90chk import read_chk

    fe = read_chk(seed=fe_dir / "Fe")
    peak, ev = _peak_of_one_batch(fe, ["ahc", "entropy_hall", "entropy_production"], 20, 48.0, mu0=17.6255)
    assert 0.25 * 48 * 2**20 <= peak <= 48 * 2**20, (peak / 2**20, ev.batch_size)


def test_too_small_memory_budget_is_a_clear_error():
    with pytest.raises(InputError, match=r"max_memory_mb 0.01 MB is too small: this model needs [0-9.]+ MB"):
        compute(model=random_model(num_wann=8, seed=1), quantities=["ahc"], temperatures=[300], mus=[0.0],
                kmesh=(2, 2, 2), max_memory_mb=0.01)


def test_default_memory_budget_is_bounded():
    from wbentropy.integrate.uniform import default_max_memory_mb

    assert 64.0 <= default_max_memory_mb() <= 2048.0
    assert default_max_memory_mb(ranks=10**6) == 64.0


def test_failed_checkpoint_write_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    """Adaptive checkpoints use the same atomic writer: a failing write keeps the last good one."""
    from wbentropy.integrate import adaptive
    from wbentropy.integrate.parallel import Parallel

    leaves = type("L", (), {f: np.arange(3.0) for f in ("level", "corner", "Q", "err", "ell", "shell")})()
    ckpt = tmp_path / "c.h5"
    adaptive._save_checkpoint(ckpt, Parallel(None), leaves, 10, 1, [{"level": 1}], {"a": 1})
    before = ckpt.read_bytes()
    orig = h5py.Group.create_dataset

    def failing(self, name, *a, **k):
        if name == "leaf_Q":
            raise OSError("disk full")
        return orig(self, name, *a, **k)

    monkeypatch.setattr(h5py.Group, "create_dataset", failing)
    with pytest.raises(OSError):
        adaptive._save_checkpoint(ckpt, Parallel(None), leaves, 20, 2, [{"level": 2}], {"a": 1})
    assert ckpt.read_bytes() == before and _leftovers(tmp_path) == []


def test_adaptive_level_is_evaluated_in_batches():
    """A level of the adaptive integrator is evaluated one batch of Gauss nodes at a time: the
    peak memory stays far below the (nodes x outputs) array of the whole level (106 MB here)."""
    import tracemalloc

    from wbentropy.integrate.adaptive import AdaptiveSettings, integrate_adaptive
    from wbentropy.evaluate import Evaluator
    from wbentropy.toy_models import qwz_chern_model
    from wbentropy.quantities import Options, get_quantities

    ev = Evaluator(model=qwz_chern_model(), quantities=get_quantities(["ahc", "entropy_hall"]),
                   temperatures=[300.0], mus=np.linspace(-2, 2, 20), options=Options(), max_memory_mb=8.0)
    settings = AdaptiveSettings(coarse_mesh=(64, 64, 1), tolerance=1e-12, max_kpoints=64 * 64 * 9)
    whole_level = 64 * 64 * 9 * ev.n_outputs * 8
    tracemalloc.start()
    try:
        res = integrate_adaptive(evaluator=ev, settings=settings)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert res.n_evaluations == 64 * 64 * 9 and ev.batch_size < 64 * 64 * 9 // 10
    assert whole_level > 100 * 2**20
    assert peak < 0.5 * whole_level, peak / 2**20


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty", "not_a_result"])
def test_show_damaged_result_file_is_one_line_error(tmp_path, damage):
    out = tmp_path / "r.h5"
    _result(1.0).save(out)
    data = out.read_bytes()
    if damage == "truncated":
        out.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        out.write_bytes(bytes(range(256)) * 8)
    elif damage == "empty":
        out.write_bytes(b"")
    else:
        with h5py.File(out, "w") as h:
            h.create_dataset("something", data=[1, 2])
    with pytest.raises(InputError, match=r"r\.h5: not a wbentropy result file"):
        Result.load(out)
    proc = subprocess.run([sys.executable, "-m", "wbentropy.cli", "show", str(out)], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"wbentropy: error: {out}: not a wbentropy result file")
