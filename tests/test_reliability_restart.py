"""Reliability of adaptive runs (issue 24): a checkpoint resumes only the run that wrote it (the
contents of its inputs, the model's numbers and every option that changes a number), a damaged or
foreign checkpoint is refused in one line, the integrator converges when a quantity is identically
zero, and adaptive results are bit-identical for any number of ranks and threads."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from wbentropy.api import compute
from wbentropy.errors import InputError
from wbentropy.models import qwz_chern_model, random_model

DATA = Path(__file__).resolve().parent.parent / "data"
#: adaptive run on the 2-band Chern model: a few levels, well under a second
RUN = ["--kmesh", "6", "6", "1", "--temperature", "300", "--mu", "0", "--quantities", "ahc,entropy_hall",
       "--tolerance", "1e-6", "--max-kpoints", "20000", "--no-progress"]


def _cli(*args, cwd=None, timeout=120):
    return subprocess.run([sys.executable, "-m", "wbentropy.cli", "compute", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, cwd=cwd)


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
    proc = _cli("--tb", model, *RUN, *extra, "--out", folder / "r.h5", "--checkpoint", ckpt, "--_exit-after-level", 1)
    assert proc.returncode == 17 and ckpt.exists(), proc.stderr
    return ckpt


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
def test_restart_with_another_option_is_refused_naming_it(tmp_path, change, said):
    ckpt = _killed_after_level_1(tmp_path, DATA / "qwz_tb.dat")
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
    proc = _cli(*model, *RUN, "--out", tmp_path / "r.h5", "--checkpoint", ckpt, "--_exit-after-level", 0)
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


@pytest.fixture(scope="module")
def good_checkpoint(tmp_path_factory):
    return _killed_after_level_1(tmp_path_factory.mktemp("ckpt"), DATA / "qwz_tb.dat")


@pytest.mark.parametrize("case", list(DAMAGE))
def test_damaged_or_foreign_checkpoint_is_refused_in_one_line(tmp_path, good_checkpoint, case):
    edit, said = DAMAGE[case]
    ckpt = tmp_path / "c.h5"
    shutil.copy(good_checkpoint, ckpt)
    edit(ckpt)
    before = ckpt.read_bytes()
    proc = _cli("--tb", DATA / "qwz_tb.dat", *RUN, "--out", tmp_path / "r.h5", "--restart", ckpt)
    assert said in _one_line_error(proc, ckpt)
    assert ckpt.read_bytes() == before  # left as it was, for the user to look at
    assert not (tmp_path / "r.h5").exists()


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

    from wbentropy.adaptive import _judged_scale, _ratio

    scale = np.array([0.0, 0.0, 2.0])
    error = np.array([0.0, 3e-7, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        judged = _judged_scale(scale, error)
        assert _ratio(error, judged).tolist() == [0.0, 1.0, 0.5]
        leaf_err = np.array([[0.0, 1e-7, 0.5], [0.0, 2e-7, 0.5]], dtype=np.float32)
        ind = _ratio(leaf_err, judged.astype(np.float32))
    assert ind.dtype == np.float32 and np.all(np.isfinite(ind)) and ind[:, 0].tolist() == [0.0, 0.0]
