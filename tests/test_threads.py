"""Threads inside a rank: k-batches evaluated side by side give the same numbers as one thread,
really run on several threads, and the defaults share the node's cores between ranks."""
import json
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

from wbentropy.api import compute
from wbentropy.errors import InputError
from wbentropy.evaluate import Evaluator
from wbentropy.toy_models import qwz_chern_model, random_model
from wbentropy.quantities import Options, get_quantities

pytestmark = pytest.mark.filterwarnings("ignore::wbentropy.errors.ConvergenceWarning")


@pytest.fixture(scope="module")
def model3d():
    return random_model(num_wann=4, seed=11)


@pytest.mark.parametrize("adaptive", [False, True])
def test_threads_give_identical_results(model3d, adaptive):
    """1, 2 and 3 threads: the same batches summed in the same order, so equal to the last bit."""
    kw = dict(model=model3d, quantities=["ahc", "entropy_hall", "drude_conductivity"], temperatures=[100.0, 300.0],
              mus=[-0.2, 0.1], tau_fs=10.0, kmesh=(6, 6, 6) if adaptive else (10, 10, 10), batch_size=64)
    if adaptive:
        kw.update(tolerance=1e-3, max_kpoints=30000)
    res = {t: compute(threads=t, **kw) for t in (1, 2, 3)}
    for t in (2, 3):
        assert res[t].attrs["threads_per_rank"] == t
        assert res[t].attrs["num_kpoints"] == res[1].attrs["num_kpoints"]
        for name in kw["quantities"]:
            np.testing.assert_array_equal(res[t][name], res[1][name])
            if adaptive:
                np.testing.assert_array_equal(res[t].quantities[name].error, res[1].quantities[name].error)


def test_batches_run_on_several_threads():
    """The pool really hands batches to more than one thread (and keeps their order)."""
    ev = Evaluator(model=qwz_chern_model(mass=-1.0), quantities=get_quantities(["ahc"]), temperatures=[0.0],
                   mus=[0.0], options=Options(), batch_size=10, threads=2)
    seen = set()
    barrier = threading.Barrier(2, timeout=10)

    def fn(i):
        seen.add(threading.current_thread().name)
        if i < 2:
            barrier.wait()  # both threads must be inside at once, or this times out
        return i

    assert ev.map_batches(fn, list(range(8))) == list(range(8))
    assert len(seen) == 2


def test_sampling_counts_add_up_over_threads(model3d):
    """The Fermi-surface sampling counts (convergence warnings) are the same with any thread count."""
    stats = {}
    for t in (1, 3):
        ev = Evaluator(model=model3d, quantities=get_quantities(["entropy_hall"]), temperatures=[300.0],
                       mus=[0.0], options=Options(), batch_size=37, threads=t)
        ev.track_fermi_sampling(cell=np.eye(3) * 0.1)
        k = np.random.default_rng(3).random((500, 3))
        ev(k)
        stats[t] = ev.stats
    assert stats[1].n_k == stats[3].n_k == 500
    np.testing.assert_array_equal(stats[1].n_shell, stats[3].n_shell)
    np.testing.assert_array_equal(stats[1].n_cross, stats[3].n_cross)
    assert stats[1].n_degen_near == stats[3].n_degen_near


def test_bad_thread_count_is_an_input_error(model3d):
    with pytest.raises(InputError, match="^threads must be >= 1") as info:
        compute(model=model3d, quantities=["ahc"], temperatures=[0.0], mus=[0.0], kmesh=(2, 2, 2), threads=0)
    assert info.value.param == "threads"


def _defaults(env_extra: dict, cpus=None) -> dict:
    """pool size and BLAS thread variable chosen by ``wbentropy.configure_threads()`` in a fresh process."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "WBENTROPY_THREADS",
                        "PMI_SIZE", "MPI_LOCALNRANKS", "OMPI_COMM_WORLD_LOCAL_SIZE", "SLURM_NTASKS",
                        "SLURM_TASKS_PER_NODE", "SLURM_NTASKS_PER_NODE", "OMPI_COMM_WORLD_SIZE",
                        "MV2_COMM_WORLD_LOCAL_SIZE", "WBENTROPY_BLAS_THREADS_SET")}
    env.update(env_extra)
    code = ("import os, json, wbentropy; wbentropy.configure_threads(); from wbentropy.integrate import threads as t; "
            "print(json.dumps({'pool': t.pool_size(), 'blas': os.environ.get('OPENBLAS_NUM_THREADS'), "
            "'affinity': t.available_cores(), 'node': os.cpu_count()}))")
    pin = (lambda: os.sched_setaffinity(0, cpus)) if cpus is not None else None
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
                         preexec_fn=pin)
    return json.loads(out.stdout)


def test_default_threads_share_the_cores():
    d = _defaults({})
    bound = d["affinity"] < d["node"]  # a launcher or container bound this process to some cores
    cores = d["affinity"]
    assert d["pool"] == cores
    assert d["blas"] == "1"
    two = _defaults({"PMI_SIZE": "2"})  # two ranks on this node share its cores, unless each is bound
    assert two["pool"] == (cores if bound else max(1, d["node"] // 2)) and two["blas"] == "1"
    slurm = _defaults({"SLURM_TASKS_PER_NODE": "2(x4),1"})  # Slurm's own format: 2 ranks on this node
    assert slurm["pool"] == two["pool"]
    assert _defaults({"WBENTROPY_THREADS": "3"})["pool"] == 3
    one = _defaults({"WBENTROPY_THREADS": "1"})  # one core: one pool thread, single-threaded BLAS
    assert one["pool"] == 1 and one["blas"] == "1"
    user = _defaults({"OMP_NUM_THREADS": "2"})  # the user's BLAS threads are respected: pool of one
    assert user["pool"] == 1 and user["blas"] is None
    # a child of a process that imported wbentropy inherits wbentropy's choice, not a user's
    child = _defaults({v: "1" for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
                      | {"WBENTROPY_BLAS_THREADS_SET": "1"})
    assert child["pool"] == d["pool"]
    changed = _defaults({"OMP_NUM_THREADS": "2", "WBENTROPY_BLAS_THREADS_SET": "1"})  # the user changed it
    assert changed["pool"] == 1


def test_a_rank_bound_to_cores_uses_exactly_those():
    """``srun --cpus-per-task=C`` (or ``mpirun --bind-to``) binds a rank to C cores: its pool has C threads."""
    allowed = sorted(os.sched_getaffinity(0))
    if len(allowed) < 2:
        pytest.skip("needs two cores")
    alone = _defaults({}, cpus={allowed[0]})  # one process pinned to one core: one thread, not one per core
    assert alone["affinity"] == 1 and alone["pool"] == 1
    one = _defaults({"PMI_SIZE": "2"}, cpus={allowed[0]})
    assert one["pool"] == 1 and one["blas"] == "1"
    if len(allowed) >= 3:
        assert _defaults({"PMI_SIZE": "8"}, cpus=set(allowed[:2]))["pool"] == 2  # not 2 // 8


@pytest.mark.parametrize("value", ["two", "0"])
def test_malformed_thread_variable_is_a_one_line_error(value):
    env = dict(os.environ, WBENTROPY_THREADS=value)
    proc = subprocess.run([sys.executable, "-m", "wbentropy.cli", "--version"], env=env, capture_output=True,
                          text=True)
    assert proc.returncode != 0
    assert f"WBENTROPY_THREADS='{value}'" in proc.stderr and "Traceback" not in proc.stderr


def test_import_changes_no_thread_variable():
    """``import wbentropy`` (and its lazy attributes) leaves the environment alone and loads no numpy;
    only :func:`wbentropy.configure_threads` sets the BLAS variables."""
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                                            "MKL_NUM_THREADS", "WBENTROPY_BLAS_THREADS_SET",
                                                            "WBENTROPY_THREADS")}
    code = ("import os, sys, json, wbentropy; light = 'numpy' not in sys.modules; before = dict(os.environ); "
            "wbentropy.InputError, wbentropy.TBModel; from wbentropy.integrate import threads; "
            "print(json.dumps({'light': light, 'same': dict(os.environ) == before, 'pool': threads.pool_size()}))")
    out = json.loads(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                    check=True).stdout)
    assert out == {"light": True, "same": True, "pool": 1}
