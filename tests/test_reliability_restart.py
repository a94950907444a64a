"""Reliability of adaptive runs (issue 24): a checkpoint resumes only the run that wrote it (the
contents of its inputs, the model's numbers and every option that changes a number), a damaged or
foreign checkpoint is refused in one line, the integrator converges when a quantity is identically
zero, and adaptive results are bit-identical for any number of ranks and threads."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from wbentropy.api import compute
from wbentropy.errors import InputError
from wbentropy.toy_models import qwz_chern_model, random_model
from _patched_cli import cli_command

DATA = Path(__file__).resolve().parent.parent / "data"
#: adaptive run on the 2-band Chern model: a few levels, well under a second
RUN = ["--kmesh", "6", "6", "1", "--temperature", "300", "--mu", "0", "--quantities", "ahc,entropy_hall",
       "--tolerance", "1e-6", "--max-kpoints", "20000", "--no-progress"]


def _cli(*args, cwd=None, timeout=120):
    return subprocess.run(cli_command(["compute", *args]), capture_output=True, text=True, timeout=timeout,
                          cwd=cwd)


def _one_line_error(proc, path) -> str:
    """The run ended with one ``wbentropy: error: PATH: ...`` line, exit 2, no traceback and no result."""
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = [x for x in proc.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert lines[0].startswith(f"wbentropy: error: {path}: "), lines[0]
    assert proc.stdout == "", proc.stdout  # never a number
    return lines[0]


def _set_mass(path: Path, mass: float) -> None:
    """Change H(R = 0) of a Chern-model _tb.dat (the diagonal -m, +m) in place."""
    text = path.read_text()
    old = "    1    1   -1.0000000000000000e+00", "    2    2    1.0000000000000000e+00"
    assert all(o in text for o in old)
    text = text.replace(old[0], f"    1    1 {-mass: .16e}", 1).replace(old[1], f"    2    2 {mass: .16e}", 1)
    path.write_text(text)


def _killed_after_level_1(folder: Path, model: Path, *extra) -> Path:
    ckpt = folder / "c.h5"
    proc = _cli("--tb", model, *RUN, *extra, "--out", folder / "r.h5", "--checkpoint", ckpt, "--kill-after-level", 1)
    assert proc.returncode == 17 and ckpt.exists(), proc.stderr
    return ckpt


@pytest.fixture(scope="module")
def good_checkpoint(tmp_path_factory):
    """A checkpoint of the RUN on qwz_tb.dat after level 1 (tests must not change it)."""
    return _killed_after_level_1(tmp_path_factory.mktemp("ckpt"), DATA / "qwz_tb.dat")


def _value(path, q="ahc"):
    with h5py.File(path) as h:
        return h[q]["value"][()], int(h.attrs["num_kpoints"])


# ----------------------------------------------------------------- 1. changed inputs on restart
def test_restart_after_the_model_file_changed_is_refused(tmp_path):
    """The issue's case: m_tb.dat edited (H(0)) between the kill and the restart: exit 2 naming the
    file and its old and new sha256, never the mixed number (-349.8 S/cm in the issue)."""
    model = tmp_path / "m_tb.dat"
    shutil.copy(DATA / "qwz_tb.dat", model)
    ckpt = _killed_after_level_1(tmp_path, model)
    _set_mass(model, 3.0)
    proc = _cli("--tb", model, *RUN, "--out", tmp_path / "r.h5", "--checkpoint", ckpt, "--restart", ckpt)
    line = _one_line_error(proc, ckpt)
    assert "checkpoint belongs to a different run: it was made with a different m_tb.dat (its contents " \
           "changed since the checkpoint: sha256 " in line
    assert "start without --restart" in line
    assert not (tmp_path / "r.h5").exists()
    with h5py.File(ckpt) as h:  # refused, not consumed: the checkpoint is still the one of level 1
        assert int(h.attrs["level"]) == 1


def test_same_contents_under_another_name_resume_bit_identically(tmp_path):
    """Contents, not paths: the model copied to another folder and name resumes, and ends with the
    uninterrupted run's result to the last bit."""
    model = tmp_path / "m_tb.dat"
    shutil.copy(DATA / "qwz_tb.dat", model)
    full = tmp_path / "full.h5"
    assert _cli("--tb", model, *RUN, "--out", full).returncode == 0
    ckpt = _killed_after_level_1(tmp_path, model)
    moved = tmp_path / "elsewhere" / "renamed_tb.dat"
    moved.parent.mkdir()
    shutil.move(model, moved)
    out = tmp_path / "resumed.h5"
    proc = _cli("--tb", moved, *RUN, "--out", out, "--checkpoint", ckpt, "--restart", ckpt)
    assert proc.returncode == 0, proc.stderr
    (a, na), (b, nb) = _value(full), _value(out)
    assert na == nb and np.array_equal(a, b)


@pytest.mark.parametrize("change, said", [
    (("--temperature", "100"), "with --temperature 300 (now 100)"),
    (("--mu", "0.5"), "with --mu 0 (now 0.5)"),
    (("--quantities", "ahc"), "with --quantities ahc,entropy_hall (now ahc)"),
    (("--tolerance", "1e-5"), "with --tolerance 1e-06 (now 1e-05)"),
    (("--max-kpoints", "30000"), "with --max-kpoints 20000 (now 30000)"),
    (("--abs-tolerance", "1"), "with --abs-tolerance 0 (now 1)"),
    (("--degen-thresh", "0.001"), "with --degen-thresh 0.0001 (now 0.001)"),
    (("--kmesh", "4", "4", "1"), "with --kmesh 6 6 1 (now 4 4 1)"),
    (("--box-occupations",), "with --box-occupations off (now on)"),
])
def test_restart_with_another_option_is_refused_naming_it(tmp_path, good_checkpoint, change, said):
    ckpt = good_checkpoint
    args = list(RUN)
    if change[0] in args:
        i = args.index(change[0])
        n = {"--kmesh": 3}.get(change[0], 1)
        args[i + 1:i + 1 + n] = change[1:]
    else:
        args += change
    proc = _cli("--tb", DATA / "qwz_tb.dat", *args, "--out", tmp_path / "r.h5", "--restart", ckpt)
    line = _one_line_error(proc, ckpt)
    assert f"checkpoint belongs to a different run: it was made {said}: start without --restart" in line


def test_restart_names_the_changed_file_of_an_hr_model(tmp_path):
    """_hr.dat + _r.dat + .win: a change of _r.dat alone (positions: the Berry connection) is caught
    and named; the unchanged files are not mentioned."""
    files = {ext: tmp_path / f"m{ext}" for ext in ("_hr.dat", "_r.dat", ".win")}
    for ext, path in files.items():
        shutil.copy(DATA / f"qwz{ext}", path)
    model = ["--hr", files["_hr.dat"], "--r", files["_r.dat"], "--win", files[".win"]]
    ckpt = tmp_path / "c.h5"
    proc = _cli(*model, *RUN, "--out", tmp_path / "r.h5", "--checkpoint", ckpt, "--kill-after-level", 0)
    assert proc.returncode == 17, proc.stderr
    text = files["_r.dat"].read_text().splitlines()
    i = next(i for i, x in enumerate(text) if len(x.split()) == 11 and x.split()[:5] == ["0", "0", "0", "1", "1"])
    fields = text[i].split()
    fields[5] = "0.25"
    text[i] = "  ".join(fields)
    files["_r.dat"].write_text("\n".join(text) + "\n")
    proc = _cli(*model, *RUN, "--out", tmp_path / "r.h5", "--restart", ckpt)
    line = _one_line_error(proc, ckpt)
    assert "a different m_r.dat (its contents changed" in line
    assert "m_hr.dat" not in line and "m.win" not in line


def test_restart_with_a_different_python_model_is_refused(tmp_path):
    """A model built in Python has no files: the sha256 of its arrays stands for it."""
    from wbentropy.errors import ConvergenceWarning

    ckpt = tmp_path / "c.h5"
    kw = dict(quantities=["ahc"], temperatures=[300.0], mus=[0.0], kmesh=(6, 6, 1), tolerance=1e-9, max_levels=1,
              checkpoint=str(ckpt))
    with pytest.warns(ConvergenceWarning):
        compute(model=qwz_chern_model(mass=-1.0), **kw)
    with pytest.warns(ConvergenceWarning):  # the same numbers: resumes
        compute(model=qwz_chern_model(mass=-1.0), **dict(kw, max_levels=2), restart=str(ckpt))
    with pytest.raises(InputError, match=r"c\.h5: checkpoint belongs to a different run: it was made with a "
                                         r"different model \(the numbers of H\(R\), r\(R\)"):
        compute(model=qwz_chern_model(mass=-1.0 + 1e-12), **dict(kw, max_levels=2), restart=str(ckpt))


def test_model_digest_sees_every_number():
    m = random_model(num_wann=3, seed=4)
    same = random_model(num_wann=3, seed=4)
    assert m.digest() == same.digest()
    changed = []
    for field in ("lattice", "H", "r"):
        arr = getattr(m, field).copy()
        arr.flat[5] = arr.flat[5] + 1e-15 * max(1.0, abs(arr.flat[5]))
        changed.append(type(m)(**{**{f: getattr(m, f) for f in ("lattice", "R", "H", "r")}, field: arr}))
    R = m.R.copy()
    R[[0, 1]] = R[[1, 0]]  # the same numbers at other R vectors
    changed.append(type(m)(lattice=m.lattice, R=R, H=m.H, r=m.r))
    changed.append(type(m)(lattice=m.lattice, R=m.R, H=m.H, r=None))
    digests = {m.digest()} | {c.digest() for c in changed}
    assert len(digests) == 1 + len(changed)


def test_checkpoint_of_an_older_version_is_refused_clearly(tmp_path):
    """A checkpoint written before the contents were recorded (paths only, no signature version)
    cannot be checked against this run: a clear refusal, not a KeyError traceback."""
    ckpt = _killed_after_level_1(tmp_path, DATA / "qwz_tb.dat")
    with h5py.File(ckpt, "r+") as h:
        sig = json.loads(h.attrs["signature"])
        for key in ("signature_version", "input_files", "model_sha256", "omegas", "smearing", "smearing_width"):
            del sig[key]
        sig["inputs"] = {"primary": str(DATA / "qwz_tb.dat"), "tb": str(DATA / "qwz_tb.dat")}
        h.attrs["signature"] = json.dumps(sig, sort_keys=True)
    proc = _cli("--tb", DATA / "qwz_tb.dat", *RUN, "--out", tmp_path / "r.h5", "--restart", ckpt)
    line = _one_line_error(proc, ckpt)
    assert "checkpoint of an older wbentropy: it does not record the contents of the input files" in line


# ----------------------------------------------------------------- 10. damaged and foreign checkpoints
def _edit_attr(name, value):
    def edit(path):
        with h5py.File(path, "r+") as h:
            h.attrs[name] = value
    return edit


def _edit_signature(key, value):
    def edit(path):
        with h5py.File(path, "r+") as h:
            sig = json.loads(h.attrs["signature"])
            sig[key] = value
            h.attrs["signature"] = json.dumps(sig, sort_keys=True)
    return edit


def _replace_dataset(name, fn):
    def edit(path):
        with h5py.File(path, "r+") as h:
            data = h[name][()]
            del h[name]
            new = fn(data)
            if new is not None:
                h.create_dataset(name, data=new)
    return edit


def _delete_attr(name):
    def edit(path):
        with h5py.File(path, "r+") as h:
            del h.attrs[name]
    return edit


def _perturb_value(path):
    with h5py.File(path, "r+") as h:
        q = h["leaf_Q"][()]
        q.flat[np.argmax(np.abs(q))] *= 1 + 1e-12
        h["leaf_Q"][...] = q


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])


def _group_for_dataset(path):
    with h5py.File(path, "r+") as h:
        del h["leaf_level"]
        h.create_group("leaf_level")


def _result_file(path):
    path.unlink()
    proc = _cli("--tb", DATA / "qwz_tb.dat", "--kmesh", "4", "4", "1", "--temperature", "300", "--mu", "0",
                "--out", path)
    assert proc.returncode == 0, proc.stderr


DAMAGE = {
    "signature not JSON": (_edit_attr("signature", "{'quantities': [ahc"), "its run signature is not a JSON object"),
    "signature a JSON list": (_edit_attr("signature", "[1, 2]"), "its run signature is not a JSON object"),
    "n_outputs differ": (_edit_signature("n_outputs", 3), "with outputs per k-point 3 (now 18)"),
    "leaf_Q wrong shape": (_replace_dataset("leaf_Q", lambda q: q[:, :1]),
                           "damaged checkpoint: leaf_Q is float64 (54, 1), expected float (n, 18)"),
    "leaf_err wrong dtype": (_replace_dataset("leaf_err", lambda e: np.zeros(e.shape, dtype="S4")),
                             "damaged checkpoint: leaf_err is |S4 (54, 18), expected float (n, 18)"),
    "leaf_corner wrong shape": (_replace_dataset("leaf_corner", lambda c: c[:, :2]),
                                "damaged checkpoint: leaf_corner is int64 (54, 2), expected integer (n, 3)"),
    "leaf_ell fewer rows": (_replace_dataset("leaf_ell", lambda e: e[:-1]),
                            "damaged checkpoint: leaf_ell is float64 (53,), expected float (n)"),
    "leaf_ell missing": (_replace_dataset("leaf_ell", lambda e: None), "damaged checkpoint: leaf_ell missing"),
    "leaf_level a group": (_group_for_dataset, "damaged checkpoint: leaf_level is a group, not an array"),
    "n_evaluations missing": (_delete_attr("n_evaluations"), "damaged checkpoint: n_evaluations missing"),
    "history not JSON": (_edit_attr("history", "[{"), "its counters or history are unreadable"),
    "a value changed": (_perturb_value, "its contents do not match the checksum written with them"),
    "truncated": (_truncate, "not an HDF5 file (truncated, damaged or not a checkpoint)"),
    "garbage": (lambda p: p.write_bytes(np.random.default_rng(0).bytes(4096)),
                "not an HDF5 file (truncated, damaged or not a checkpoint)"),
    "empty file": (lambda p: p.write_bytes(b""), "not an HDF5 file (truncated, damaged or not a checkpoint)"),
    "a result file": (_result_file, "not a wbentropy checkpoint (an HDF5 file without a run signature)"),
}


#: the damage cases also run through the command line (one line, exit 2); the others through the API
DAMAGE_CLI = ("signature not JSON", "leaf_Q wrong shape", "truncated", "a result file")


@pytest.mark.parametrize("case", list(DAMAGE))
def test_damaged_or_foreign_checkpoint_is_refused_in_one_line(tmp_path, good_checkpoint, case):
    edit, said = DAMAGE[case]
    ckpt = tmp_path / "c.h5"
    shutil.copy(good_checkpoint, ckpt)
    edit(ckpt)
    before = ckpt.read_bytes()
    if case in DAMAGE_CLI:
        proc = _cli("--tb", DATA / "qwz_tb.dat", *RUN, "--out", tmp_path / "r.h5", "--restart", ckpt)
        assert said in _one_line_error(proc, ckpt)
        assert not (tmp_path / "r.h5").exists()
    else:
        from wbentropy.io.load import load_model

        with pytest.raises(InputError) as err:
            compute(model=load_model(tb=DATA / "qwz_tb.dat"), quantities=["ahc", "entropy_hall"],
                    temperatures=[300.0], mus=[0.0], kmesh=(6, 6, 1), tolerance=1e-6, max_kpoints=20000,
                    restart=str(ckpt))
        assert str(err.value).startswith(f"{ckpt}: ") and said in str(err.value)
        assert "\n" not in str(err.value)
    assert ckpt.read_bytes() == before  # left as it was, for the user to look at


def test_undamaged_copy_of_the_checkpoint_resumes(tmp_path, good_checkpoint):
    """The control of the damage cases: the same copy, unedited, resumes."""
    ckpt = tmp_path / "c.h5"
    shutil.copy(good_checkpoint, ckpt)
    proc = _cli("--tb", DATA / "qwz_tb.dat", *RUN, "--out", tmp_path / "r.h5", "--restart", ckpt)
    assert proc.returncode == 0, proc.stderr
    assert _value(tmp_path / "r.h5")[1] > 540  # refined beyond the checkpoint's level 1


# ----------------------------------------------------------------- 4. identically zero quantities
def _adaptive_T0(quantities, **kw):
    """Adaptive run at T = 0 (the issue's command) with every RuntimeWarning an error."""
    import warnings

    from wbentropy.io.load import load_model

    model = load_model(tb=DATA / "qwz_tb.dat")
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        return compute(model=model, quantities=quantities, temperatures=[0.0], mus=kw.pop("mus", [0.0]),
                       kmesh=kw.pop("kmesh", (8, 8, 2)), tolerance=1e-3, max_kpoints=300000, **kw)


def test_zero_entropy_quantity_at_T0_does_not_stall_the_refinement():
    """sigma^s = 0 identically at T = 0: the default quantities converge as ahc alone does (the issue:
    a NaN indicator, one cell per level, 50 levels, 14 256 k-points, error 5.6e-2), without a
    RuntimeWarning, at the same k-points and to the same sigma_xy."""
    both = _adaptive_T0(["ahc", "entropy_hall"])
    alone = _adaptive_T0(["ahc"])
    assert both.attrs["converged"] and alone.attrs["converged"]
    assert both.attrs["num_kpoints"] == alone.attrs["num_kpoints"] < 50000
    assert both.attrs["refinement_levels"] < 15
    assert np.array_equal(both["ahc"], alone["ahc"])
    assert abs(both["ahc"][0, 0, 0, 1] + 774.8) < 0.5  # the Chern number 1 plateau, e^2/h per layer spacing
    assert not np.any(both["entropy_hall"]) and not np.any(both.quantities["entropy_hall"].error)


@pytest.mark.parametrize("quantities, kw", [
    (["entropy_hall"], {}),  # every quantity zero: converged on the coarse mesh
    (["entropy_hall"], {"abs_tolerance": 1.0}),  # an absolute tolerance with zero tensors
    (["entropy_hall", "entropy_current_zero_field"], {"mus": [-0.5, 0.0, 0.5]}),  # several zero quantities, mu
])
def test_all_quantities_zero_converge_on_the_coarse_mesh(quantities, kw):
    res = _adaptive_T0(quantities, **kw)
    assert res.attrs["converged"] and res.attrs["refinement_levels"] == 0
    assert res.attrs["num_kpoints"] == 8 * 8 * 2 * 27
    assert all(not np.any(res[q]) for q in quantities)


def test_mu_in_a_band_at_T0_refines_without_nan():
    """mu = 1.5 eV crosses the upper band at T = 0: the Fermi-sea step is refined by its error (finite
    indicators), and the zero entropy quantity does not change where the ahc-only run refines."""
    both = _adaptive_T0(["ahc", "entropy_hall"], mus=[1.5], kmesh=(6, 6, 1))
    alone = _adaptive_T0(["ahc"], mus=[1.5], kmesh=(6, 6, 1))
    assert both.attrs["num_kpoints"] == alone.attrs["num_kpoints"]
    assert np.array_equal(both["ahc"], alone["ahc"])
    assert np.all(np.isfinite([h["rel_error"] for h in both.attrs["history"]]))


def test_zero_scale_is_judged_without_nan():
    """A zero error on a zero scale is converged (0); a nonzero error on a zero scale counts as a
    relative error of 1 (refined, finite); other components are unchanged."""
    import warnings

    from wbentropy.integrate.adaptive import _judged_scale, _ratio

    scale = np.array([0.0, 0.0, 2.0])
    error = np.array([0.0, 3e-7, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        judged = _judged_scale(scale, error)
        assert _ratio(error, judged).tolist() == [0.0, 1.0, 0.5]
        leaf_err = np.array([[0.0, 1e-7, 0.5], [0.0, 2e-7, 0.5]], dtype=np.float32)
        ind = _ratio(leaf_err, judged.astype(np.float32))
    assert ind.dtype == np.float32 and np.all(np.isfinite(ind)) and ind[:, 0].tolist() == [0.0, 0.0]


# ----------------------------------------------------------------- 5. bit-identical for any ranks and threads
def _mpiexec():
    from _mpi import mpiexec

    return mpiexec()


@pytest.fixture(scope="module")
def rounding_model(tmp_path_factory):
    """A random 10-band model with 125 R vectors: a k-point evaluated alone (a 1-row matrix product)
    differs from the same k-point in a batch in the last bits, so batch composition shows."""
    from wbentropy.io.tb import write_tb

    path = tmp_path_factory.mktemp("rounding") / "m_tb.dat"
    write_tb(model=random_model(num_wann=10, radius=2, seed=5), path=path)
    return path


def _layouts(tmp_path, model, args, layouts):
    """Run ``args`` under each (ranks, threads) layout; the values of every quantity, per layout."""
    out = {}
    for ranks, threads in layouts:
        path = tmp_path / f"n{ranks}t{threads}.h5"
        launch = [_mpiexec(), "-n", str(ranks)] if ranks > 1 else []
        proc = subprocess.run(launch + [sys.executable, "-m", "wbentropy.cli", "compute", "--tb", str(model), *args,
                                        "--threads", str(threads), "--out", str(path)],
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        with h5py.File(path) as h:
            assert h.attrs["mpi_ranks"] == ranks and h.attrs["threads_per_rank"] == threads
            out[ranks, threads] = {q: h[q]["value"][()] for q in ("ahc", "entropy_hall")}, int(h.attrs["num_kpoints"])
    return out


def _assert_bit_identical(res):
    (ref, n_ref), *_ = res.values()
    for layout, (values, n) in res.items():
        assert n == n_ref, layout
        for q, v in values.items():
            assert np.any(v) and np.array_equal(v, ref[q]), (layout, q, np.max(np.abs(v - ref[q])))


ADAPTIVE = ["--kmesh", "3", "3", "3", "--temperature", "300", "--mu", "0", "--quantities", "ahc,entropy_hall",
            "--no-progress"]


@pytest.mark.mpi
def test_adaptive_coarse_level_is_bit_identical_for_ranks_and_threads(tmp_path, rounding_model):
    """729 nodes in batches of 52: on 2 ranks the old equal shares (365 + 364) left node 364 alone in
    a batch (1e-16 relative change of sigma_xy); whole batches per rank give the same bits."""
    args = ADAPTIVE + ["--max-kpoints", "729", "--batch-size", "52"]
    _assert_bit_identical(_layouts(tmp_path, rounding_model, args, [(1, 1), (2, 1), (1, 2), (3, 1)]))


@pytest.mark.mpi
def test_refined_adaptive_run_is_bit_identical_for_ranks_and_threads(tmp_path, rounding_model):
    """Several refinement levels, default batch size and memory: 1 rank x 1 or 2 threads, 2 ranks x 1."""
    res = _layouts(tmp_path, rounding_model, ADAPTIVE + ["--tolerance", "1e-9", "--max-kpoints", "3500"],
                   [(1, 1), (1, 2), (2, 1)])
    assert res[1, 1][1] > 2000  # refined
    _assert_bit_identical(res)


@pytest.mark.mpi
@pytest.mark.parametrize("fourier", ["direct", "fft"])
def test_uniform_mesh_stays_bit_identical_for_ranks_and_threads(tmp_path, rounding_model, fourier):
    """Batch sums added in batch order: direct sums (125 R vectors, batches of 52 over 75 points
    with a 1-point batch) and the FFT route (343 R vectors: enough for the FFT to pay)."""
    if fourier == "fft":
        from wbentropy.io.tb import write_tb

        rounding_model = tmp_path / "fft_tb.dat"
        write_tb(model=random_model(num_wann=6, radius=3, seed=6), path=rounding_model)
    mesh = ["5", "5", "3"] if fourier == "direct" else ["8", "8", "8"]
    args = ["--kmesh", *mesh, "--temperature", "300", "--mu", "0", "--quantities", "ahc,entropy_hall",
            "--batch-size", "52" if fourier == "direct" else "512"]
    res = _layouts(tmp_path, rounding_model, args, [(1, 1), (2, 1), (1, 2)])
    with h5py.File(tmp_path / "n1t1.h5") as h:
        assert ("FFT" in h.attrs["fourier"]) == (fourier == "fft")
    _assert_bit_identical(res)


def _rounds(model_path, round_points, monkeypatch, batch_size=52):
    from wbentropy.evaluate import Evaluator
    from wbentropy.io.load import load_model

    if round_points is not None:
        monkeypatch.setattr(Evaluator, "round_points", lambda self: round_points)
    from wbentropy.errors import ConvergenceWarning

    # a budget-cut run, on purpose
    with pytest.warns(ConvergenceWarning, match="stopped before reaching the tolerance"):
        res = compute(model=load_model(tb=model_path), quantities=["ahc", "entropy_hall"], temperatures=[300.0],
                      mus=[0.0], kmesh=(3, 3, 3), tolerance=1e-9, max_kpoints=4000, batch_size=batch_size, threads=1)
    monkeypatch.undo()
    return res


@pytest.mark.parametrize("round_points", [52, 729, 1000])
def test_round_size_does_not_change_a_bit(rounding_model, monkeypatch, round_points):
    """Rounds (memory-bounded slices of a level) are whole batches counted from the level's first
    node, and a cell straddling two rounds is completed in the second: any round size gives the
    same bits (729 = 27 cells: the old rounds of whole cells restarted the batches at each round)."""
    ref = _rounds(rounding_model, None, monkeypatch)
    res = _rounds(rounding_model, round_points, monkeypatch)
    assert res.attrs["num_kpoints"] == ref.attrs["num_kpoints"] > 2000
    for q in ("ahc", "entropy_hall"):
        assert np.array_equal(res[q], ref[q]), q


class _FakeRanks:
    """A stand-in for :class:`wbentropy.integrate.parallel.Parallel` with ``size`` ranks (this process is rank 0)."""

    def __init__(self, size):
        self.size, self.rank, self.is_root = size, 0, True

    def allgather(self, obj):
        return [obj] * self.size

    def shared_array(self, shape, dtype, fill):
        return fill()


@pytest.mark.parametrize("model", ["qwz", "random10", "Fe"])
def test_default_batch_size_does_not_depend_on_ranks_or_threads(model):
    """The batches fix the rounding, so their size must be the same for every layout of the cores:
    with the default memory budget it is, for 1 rank x 1 or 2 threads, 2 ranks x 1 and 4 x 4 (on a
    machine with a few GB free; where the budget is tight it shrinks the batch: --batch-size pins it)."""
    from wbentropy.evaluate import Evaluator
    from wbentropy.io.load import load_model
    from wbentropy.quantities import Options, get_quantities

    m = {"qwz": lambda: load_model(tb=DATA / "qwz_tb.dat"),
         "random10": lambda: random_model(num_wann=10, radius=2, seed=5),
         "Fe": lambda: load_model(hr=DATA / "Fe_hr.dat.gz", r=DATA / "Fe_r.dat.gz", win=DATA / "Fe.win",
                                  wsvec=DATA / "Fe_wsvec.dat.gz")}[model]()
    sizes = {}
    for ranks, threads in ((1, 1), (1, 2), (2, 1), (4, 4)):
        ev = Evaluator(model=m, quantities=get_quantities(["ahc", "entropy_hall", "entropy_production"]),
                       temperatures=[300.0], mus=[0.0], options=Options(tau_fs=10.0),
                       parallel=_FakeRanks(ranks), threads=threads)
        sizes[ranks, threads] = ev.batch_size
        assert ev.round_points() % ev.batch_size == 0
    assert len(set(sizes.values())) == 1, sizes


@pytest.mark.mpi
def test_one_rank_checkpoint_resumed_on_two_ranks_is_bit_identical(tmp_path, rounding_model):
    """Killed on 1 rank after level 1, resumed under mpiexec -n 2: the uninterrupted 1-rank result, bit for bit."""
    args = ["--tb", str(rounding_model), *ADAPTIVE, "--tolerance", "1e-9", "--max-kpoints", "3500",
            "--batch-size", "52"]
    cli = [sys.executable, "-m", "wbentropy.cli", "compute", *args]
    full, resumed, ckpt = tmp_path / "full.h5", tmp_path / "resumed.h5", tmp_path / "c.h5"
    assert subprocess.run(cli + ["--out", str(full)], capture_output=True, timeout=300).returncode == 0
    proc = subprocess.run(cli_command(cli[3:] + ["--out", str(resumed), "--checkpoint", str(ckpt),
                                                 "--kill-after-level", "1"]), capture_output=True, timeout=300)
    assert proc.returncode == 17
    proc = subprocess.run([_mpiexec(), "-n", "2"] + cli + ["--out", str(resumed), "--restart", str(ckpt)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    for q in ("ahc", "entropy_hall"):
        (a, na), (b, nb) = _value(full, q), _value(resumed, q)
        assert na == nb and np.array_equal(a, b), q
