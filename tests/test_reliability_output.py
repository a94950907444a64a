"""Output files (issue 24, items 6-9 and part of 10): never overwrite an input or a special file,
keep modes and symbolic links, survive a full disk, clean stale temporaries, check early, and
read back only well-formed result files.

Full disks are made with ``RLIMIT_FSIZE`` in a subprocess (``SIGXFSZ`` ignored, so writes fail
with ``EFBIG``) and with a small tmpfs (skipped where it cannot be mounted); read-only folders
with a read-only bind mount (skipped likewise).
"""
from __future__ import annotations

import contextlib
import logging
import os
import resource
import shutil
import signal
import socket
import stat
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from wbentropy.io import outputs
from wbentropy.errors import InputError
from wbentropy.results import QuantityResult, Result
from _patched_cli import cli_command

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
RUN = ["--kmesh", "4", "4", "1", "--temperature", "300", "--mu", "0"]
ADAPTIVE = ["--tolerance", "1e-3", "--max-kpoints", "3000"]


def _cli(*argv, cwd, timeout=60, preexec_fn=None, env=None):
    return subprocess.run(cli_command(list(argv)), capture_output=True, text=True,
                          timeout=timeout, cwd=cwd, preexec_fn=preexec_fn, env=env)


class _Proc:
    """The outcome of an in-process ``wbentropy`` run, shaped like ``subprocess.CompletedProcess``."""

    def __init__(self, returncode, stdout, stderr):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def _main(*argv, cwd, monkeypatch, capsys) -> _Proc:
    """``wbentropy ARGV`` in this process (for refusals, which happen before any computation)."""
    from wbentropy import cli

    monkeypatch.chdir(cwd)
    try:
        code = cli.main(list(map(str, argv)))
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return _Proc(code, out.out, out.err)


def _one_error(proc) -> str:
    """The single ``wbentropy: error:`` line of a failed run (exit 2, no traceback)."""
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("wbentropy: error:")]
    assert len(lines) == 1, proc.stderr
    return lines[0]


def _temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def _result(value: float = 1.0, tail=(3, 3)) -> Result:
    v = np.full((1, 2) + tuple(tail), value)
    return Result(temperature=np.array([300.0]), mu=np.array([0.0, 0.1]),
                  quantities={"ahc": QuantityResult(value=v, units="S/cm")}, attrs={"note": "good"})


@pytest.fixture
def model(tmp_path) -> Path:
    """A folder with m_tb.dat, m_hr.dat, m_r.dat, m.win (copies of the bundled QWZ model)."""
    shutil.copy(DATA / "qwz_tb.dat", tmp_path / "m_tb.dat")
    shutil.copy(DATA / "qwz_hr.dat", tmp_path / "m_hr.dat")
    shutil.copy(DATA / "qwz_r.dat", tmp_path / "m_r.dat")
    shutil.copy(DATA / "qwz.win", tmp_path / "m.win")
    return tmp_path


def _snapshot(folder: Path) -> dict:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file() and not p.is_symlink()}


# ------------------------------------------------------------------ item 6: output = input
HR = ["--hr", "m_hr.dat", "--r", "m_r.dat", "--win", "m.win"]
SAME = [  # (inputs, extra options, expected message after "wbentropy: error: ")
    (["--tb", "m_tb.dat"], ["--out", "m_tb.dat"],
     "--out m_tb.dat: is the input file given with --tb; choose another name"),
    (HR, ["--out", "m.win"], "--out m.win: is the input file given with --win; choose another name"),
    (HR, ["--out", "m_r.dat"], "--out m_r.dat: is the input file given with --r; choose another name"),
    (HR, ["--out", "m_hr.dat"], "--out m_hr.dat: is the input file given with --hr; choose another name"),
    (["--tb", "m_tb.dat", "--wsvec", "m_wsvec.dat"], ["--out", "m_wsvec.dat"],
     "--out m_wsvec.dat: is the input file given with --wsvec; choose another name"),
    (["--tb", "m_tb.dat"], ["--out", "sub/../m_tb.dat"],
     "--out sub/../m_tb.dat: is the input file given with --tb; choose another name"),
    (["--tb", "m_tb.dat"], ["--out", "link.h5"],
     "--out link.h5: is the input file given with --tb; choose another name"),
    (["--tb", "m_tb.dat"], ["--out", "hard.h5"],
     "--out hard.h5: is the input file given with --tb; choose another name"),
    (["--tb", "m_tb.dat"], ["--out", "r.h5", "--checkpoint", "m_tb.dat", *ADAPTIVE],
     "--checkpoint m_tb.dat: is the input file given with --tb; choose another name"),
    (["--tb", "m_tb.dat"], ["--out", "r.h5", "--checkpoint", "r.h5", *ADAPTIVE],
     "--out r.h5: is also the --checkpoint file; choose another name"),
    (["--tb", "m_tb.dat"], ["--out", "ck.h5", "--restart", "ck.h5"],
     "--out ck.h5: is the input file given with --restart; choose another name"),
    (["--w90", "Fe"], ["--out", "Fe.chk"], "--out Fe.chk: is the input file given with --w90; choose another name"),
    (["--w90", "Fe"], ["--out", "Fe.win"], "--out Fe.win: is the input file given with --w90; choose another name"),
]


@pytest.mark.parametrize("inputs,extra,message", SAME, ids=[f"{i}-{m.split(':')[0]}" for i, (_, _, m) in
                                                            enumerate(SAME)])
def test_output_naming_an_input_is_refused_and_the_input_untouched(model, inputs, extra, message, monkeypatch,
                                                                  capsys):
    shutil.copy(model / "m_tb.dat", model / "m_wsvec.dat")  # contents do not matter: refused before reading
    (model / "sub").mkdir()
    (model / "link.h5").symlink_to("m_tb.dat")
    os.link(model / "m_tb.dat", model / "hard.h5")
    for ext in ("chk", "eig", "mmn", "win"):
        (model / f"Fe.{ext}").write_bytes(b"pretend Wannier90 file " + ext.encode())
    (model / "ck.h5").write_bytes(b"pretend checkpoint")
    before = _snapshot(model)
    proc = _main("compute", *inputs, *RUN, *extra, cwd=model, monkeypatch=monkeypatch, capsys=capsys)
    assert _one_error(proc) == f"wbentropy: error: {message}"
    assert proc.stdout == ""
    assert _snapshot(model) == before
    assert (model / "link.h5").is_symlink() and _temporaries(model) == []


def test_checkpoint_may_be_the_restart_file(model):
    """Resuming from a checkpoint and writing the next checkpoints to the same file is the normal case."""
    first = _cli("compute", "--tb", "m_tb.dat", *RUN, *ADAPTIVE, "--out", "a.h5", "--checkpoint", "ck.h5",
                 "--kill-after-level", "1", cwd=model)
    assert first.returncode == 17, first.stderr
    again = _cli("compute", "--tb", "m_tb.dat", *RUN, *ADAPTIVE, "--out", "a.h5", "--checkpoint", "ck.h5",
                 "--restart", "ck.h5", cwd=model)
    assert again.returncode == 0, again.stderr
    fresh = _cli("compute", "--tb", "m_tb.dat", *RUN, *ADAPTIVE, "--out", "b.h5", cwd=model)
    assert fresh.returncode == 0, fresh.stderr
    assert np.array_equal(Result.load(model / "a.h5")["ahc"], Result.load(model / "b.h5")["ahc"])


def test_check_outputs_distinct_api(tmp_path):
    a = tmp_path / "a.dat"
    a.write_text("x")
    outputs.check_outputs_distinct({"--out": tmp_path / "b.h5", "--checkpoint": None}, {"--tb": a, "--r": None})
    with pytest.raises(InputError, match=r"^--out .*a\.dat: is the input file given with --tb; choose another name$"):
        outputs.check_outputs_distinct({"--out": a}, {"--tb": a})
    outputs.check_outputs_distinct({"--checkpoint": a}, {"--restart": a}, allowed=(("--checkpoint", "--restart"),))


# ------------------------------------------------------------------ item 7: special files, links, modes
def _special(kind: str, folder: Path) -> Path:
    """A special file in ``folder`` (never the real /dev/null: the unfixed code replaced it by a file)."""
    path = folder / kind
    if kind in ("chardev", "link_to_dev_null"):
        node = folder / "null"
        try:
            os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # the device numbers of /dev/null
        except OSError:
            pytest.skip("cannot create a device node here (needs root)")
        if kind == "chardev":
            return node
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "socket":
        s = socket.socket(socket.AF_UNIX)
        s.bind(str(path))
        s.close()
    elif kind == "link_to_dev_null":
        path.symlink_to(node)
    return path


@pytest.mark.parametrize("kind,words", [("chardev", "a character device (such as /dev/null)"),
                                        ("fifo", "a named pipe (FIFO)"), ("socket", "a socket"),
                                        ("link_to_dev_null", "a character device (such as /dev/null)")])
@pytest.mark.parametrize("option", ["--out", "--checkpoint"])
def test_special_file_output_is_refused(model, kind, words, option, monkeypatch, capsys):
    path = _special(kind, model)
    mode = os.lstat(path).st_mode
    extra = ["--out", path] if option == "--out" else ["--out", "r.h5", "--checkpoint", path, *ADAPTIVE]
    proc = _main("compute", "--tb", "m_tb.dat", *RUN, *extra, cwd=model, monkeypatch=monkeypatch, capsys=capsys)
    assert _one_error(proc) == (f"wbentropy: error: {path}: is {words}, not a regular file: results are written "
                                "only to regular files; give a file name such as result.h5")
    assert os.lstat(path).st_mode == mode and not (model / "r.h5").exists()


@pytest.mark.parametrize("umask,mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_new_file_mode_follows_the_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        _result().save(tmp_path / "r.h5")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "r.h5").st_mode) == mode


def test_existing_file_keeps_its_mode(model):
    out = model / "r.h5"
    _result(5.0).save(out)
    os.chmod(out, 0o640)
    proc = _cli("compute", "--tb", "m_tb.dat", *RUN, "--out", out, cwd=model,
                preexec_fn=lambda: os.umask(0o022))
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o640
    assert Result.load(out)["ahc"][0, 0, 0, 1] != 5.0  # replaced by the new result


def test_symlink_is_written_through_and_kept(model, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    target = elsewhere / "real.h5"
    _result(5.0).save(target)
    os.chmod(target, 0o640)
    (model / "r.h5").symlink_to(target)
    proc = _cli("compute", "--tb", "m_tb.dat", *RUN, "--out", "r.h5", cwd=model)
    assert proc.returncode == 0, proc.stderr
    assert (model / "r.h5").is_symlink() and os.readlink(model / "r.h5") == str(target)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640
    assert Result.load(target)["ahc"][0, 0, 0, 1] != 5.0
    assert _temporaries(model) == [] and _temporaries(elsewhere) == []


def test_dangling_symlink_creates_its_target(model, tmp_path_factory):
    """Decision: a link into an existing folder is followed and its target created (as a shell's ``>``)."""
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    (model / "r.h5").symlink_to(elsewhere / "new.h5")
    proc = _cli("compute", "--tb", "m_tb.dat", *RUN, "--out", "r.h5", cwd=model)
    assert proc.returncode == 0, proc.stderr
    assert (model / "r.h5").is_symlink() and (elsewhere / "new.h5").is_file()
    assert Result.load(model / "r.h5")["ahc"].shape == (1, 1, 3, 3)


@pytest.mark.parametrize("how,words", [("missing_folder", "whose folder does not exist"),
                                       ("loop", "is a symbolic link that cannot be followed (Too many levels")])
def test_unfollowable_symlink_is_refused(model, how, words):
    if how == "missing_folder":
        (model / "r.h5").symlink_to(model / "nowhere" / "new.h5")
    else:
        (model / "r.h5").symlink_to("s.h5")
        (model / "s.h5").symlink_to("r.h5")
    proc = _cli("compute", "--tb", "m_tb.dat", *RUN, "--out", "r.h5", cwd=model)
    assert _one_error(proc).startswith("wbentropy: error: r.h5: is a symbolic link")
    assert words in _one_error(proc)
    assert (model / "r.h5").is_symlink()


# ------------------------------------------------------------------ item 8: full disk
def _fsize_limit(limit: int):
    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_size_limit_on_final_write_keeps_old_file_and_prints_the_tensors(model, tmp_path_factory):
    """RLIMIT_FSIZE below the result's size: everywhere fails (also TMPDIR); the tensors reach stdout,
    one error line, the old result byte for byte, no temporary file anywhere, no crash."""
    out = model / "r.h5"
    _result(5.0).save(out)  # 4 kB, smaller than the new result
    before = out.read_bytes()
    spare = tmp_path_factory.mktemp("spare")
    proc = _cli("compute", "--tb", "m_tb.dat", *RUN, "--out", out, cwd=model, preexec_fn=_fsize_limit(len(before) + 1),
                env=dict(os.environ, TMPDIR=str(spare)))
    line = _one_error(proc)
    assert line == (f"wbentropy: error: --out {out}: cannot write the result (File too large); saving it in {spare} "
                    "failed too (File too large): the tensors are printed on standard output")
    assert "## ahc  [S/cm]" in proc.stdout and "## entropy_hall" in proc.stdout
    assert out.read_bytes() == before
    assert _temporaries(model) == [] and list(spare.iterdir()) == []


def test_vanished_output_folder_result_saved_in_tmpdir(model, tmp_path_factory):
    """The output folder passes the early check and is gone at the end of the run: the result goes
    to TMPDIR (a private new file) and the message says where."""
    spare = tmp_path_factory.mktemp("spare")
    res = _result(3.0)
    out = model / "gone" / "r.h5"
    out.parent.mkdir()
    outputs.check_output_path(out)
    out.parent.rmdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("tempfile.tempdir", str(spare))
        with pytest.raises(InputError) as info:
            outputs.save_with_fallback(res.save, out)
    msg = str(info.value)
    assert msg.startswith(f"--out {out}: cannot write the result (") and "output folder does not exist" in msg
    saved = Path(msg.split("it was saved to ")[1].split(" instead")[0])
    assert saved.parent == spare and saved.name.startswith("wbentropy-r-") and saved.suffix == ".h5"
    assert np.array_equal(Result.load(saved)["ahc"], res["ahc"])
    assert stat.S_IMODE(os.stat(saved).st_mode) == 0o600  # private in a shared temporary folder


def test_checkpoint_size_limit_warns_once_and_the_run_goes_on(model):
    """Checkpoints grow with the levels: past the limit each write fails; one warning, the last checkpoint
    that fitted is kept (a valid file of an earlier level), the run ends normally with the right numbers."""
    limit = 30000
    proc = _cli("compute", "--tb", "m_tb.dat", *RUN, *ADAPTIVE, "--out", "a.h5", "--checkpoint", "ck.h5", cwd=model,
                preexec_fn=_fsize_limit(limit))
    assert proc.returncode == 0, proc.stderr
    warnings = [ln for ln in proc.stderr.splitlines() if "checkpoint" in ln]
    assert warnings == ["WARNING wbentropy: ck.h5: cannot write the checkpoint (File too large); the previous "
                        "checkpoint is kept and the run goes on"]
    assert "Traceback" not in proc.stderr and _temporaries(model) == []
    with h5py.File(model / "ck.h5") as h:
        kept_level = int(h.attrs["level"])
    assert 0 < kept_level and (model / "ck.h5").stat().st_size <= limit
    fresh = _cli("compute", "--tb", "m_tb.dat", *RUN, *ADAPTIVE, "--out", "b.h5", cwd=model)
    assert fresh.returncode == 0, fresh.stderr
    assert np.array_equal(Result.load(model / "a.h5")["ahc"], Result.load(model / "b.h5")["ahc"])
    assert Result.load(model / "a.h5").attrs["refinement_levels"] > kept_level


@contextlib.contextmanager
def _tmpfs(folder: Path, size: str):
    folder.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                                           capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def _fill(folder: Path) -> None:
    with open(folder / "filler", "wb", buffering=0) as f:
        with contextlib.suppress(OSError):
            while f.write(b"\0" * 4096):
                pass


def test_full_tmpfs_result_goes_to_tmpdir(model, tmp_path_factory):
    spare = tmp_path_factory.mktemp("spare")
    with _tmpfs(model / "small", "64k") as small:
        out = small / "r.h5"
        _result(5.0).save(out)
        before = out.read_bytes()
        _fill(small)
        proc = _cli("compute", "--tb", "m_tb.dat", *RUN, "--out", out, cwd=model,
                    env=dict(os.environ, TMPDIR=str(spare)))
        line = _one_error(proc)
        assert line.startswith(f"wbentropy: error: --out {out}: cannot write the result (No space left on device); "
                               f"it was saved to {spare}/wbentropy-r-")
        saved = Path(line.split("it was saved to ")[1].split(" instead")[0])
        assert line.endswith(" instead (move it where you want it)")
        assert out.read_bytes() == before and _temporaries(small) == []
        assert Result.load(saved).quantities.keys() == {"ahc", "entropy_hall"}
        assert "## ahc" in proc.stdout


def test_full_tmpfs_checkpoint_run_completes(model):
    with _tmpfs(model / "small", "64k") as small:
        _fill(small)
        proc = _cli("compute", "--tb", "m_tb.dat", *RUN, *ADAPTIVE, "--out", "a.h5", "--checkpoint", small / "ck.h5",
                    cwd=model)
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr.count("cannot write the checkpoint (No space left on device)") == 1
        assert not (small / "ck.h5").exists() and _temporaries(small) == []
        assert Result.load(model / "a.h5").attrs["converged"]


@pytest.mark.mpi
def test_full_tmpfs_under_mpi_still_prints_the_tensors(model, removes_mpich_leftovers):
    """Under mpiexec the failing write ends the job with MPI_Abort: the tensors must be on stdout before."""
    from _mpi import mpiexec

    with _tmpfs(model / "small", "64k") as small:
        _fill(small)
        proc = subprocess.run([mpiexec(), "-n", "2", sys.executable, "-m", "wbentropy.cli", "compute", "--tb",
                               "m_tb.dat", *RUN, "--out", small / "r.h5"], capture_output=True, text=True,
                              timeout=120, cwd=model)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
        assert f"--out {small}/r.h5: cannot write the result (No space left on device)" in proc.stderr
        assert proc.stdout.count("## ahc  [S/cm]") == 1 and proc.stdout.count("## entropy_hall") == 1
        saved = Path(proc.stderr.split("it was saved to ")[1].split(" instead")[0])
        assert Result.load(saved).quantities.keys() == {"ahc", "entropy_hall"}
        saved.unlink()
        assert _temporaries(small) == []


def test_write_failure_in_process_keeps_previous_checkpoint(tmp_path, monkeypatch, caplog):
    """API: the second checkpoint write fails (ENOSPC); the first stays byte for byte; one warning."""
    import errno

    from wbentropy.io.outputs import atomic_hdf5

    path = tmp_path / "ck.h5"
    with atomic_hdf5(path) as h:
        h.create_dataset("x", data=[1.0])
    before = path.read_bytes()

    def full(fd, data):
        os.write(fd, bytes(data)[:100])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(outputs, "_write_all", full)
    caplog.set_level(logging.WARNING, logger="wbentropy")
    for _ in range(3):
        with atomic_hdf5(path) as h:
            h.create_dataset("x", data=np.arange(1000.0))
    assert path.read_bytes() == before and _temporaries(tmp_path) == []
    assert [r.getMessage() for r in caplog.records] == [
        f"{path}: cannot write the checkpoint (No space left on device); the previous checkpoint is kept and the "
        "run goes on"]
    with pytest.raises(OSError, match="No space left"):
        _result().save(tmp_path / "r.h5")
    assert list(tmp_path.iterdir()) == [path]


# ------------------------------------------------------------------ item 8: stale temporaries
KILLED_WRITER = r"""
import os, sys, time
from wbentropy.io import outputs
from wbentropy.results import Result, QuantityResult
import numpy as np
def slow(fd, data):
    os.write(fd, bytes(data)[:64])
    print("writing", flush=True)
    time.sleep(60)
outputs._write_all = slow
Result(temperature=np.array([1.0]), mu=np.array([0.0]),
       quantities={"ahc": QuantityResult(value=np.ones((1, 1, 3, 3)), units="S/cm")}).save(sys.argv[1])
"""


def _kill_writer_mid_write(out: Path) -> int:
    """Run a writer of ``out`` that stops after 64 bytes of the file; SIGKILL it there; returns its pid."""
    (out.parent / "writer.py").write_text(KILLED_WRITER)
    with subprocess.Popen([sys.executable, "writer.py", out.name], cwd=out.parent, stdout=subprocess.PIPE,
                          text=True) as writer:
        assert writer.stdout.readline() == "writing\n"
        writer.kill()
    return writer.pid


def test_stale_temporary_of_a_killed_writer_is_removed_by_the_next_run(model):
    out = model / "r.h5"
    pid = _kill_writer_mid_write(out)
    host = outputs._host()
    [stale] = _temporaries(model)
    assert stale.startswith(f".r.h5.{host}.{pid}.") and not out.exists()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    keep = [f".r.h5.otherhost.{dead}.0123abcd.tmp",  # another host: its process may be alive
            f".r.h5.{host}.{os.getpid()}.0123abcd.tmp",  # a live writer
            f".other.h5.{host}.{dead}.0123abcd.tmp",  # another output
            ".r.h5.k2j4h5g6.tmp",  # old-style name, no owner recorded
            f".r.h5.{host}.{dead}.0123abcd.tmp.bak", "r.h5.notes"]
    for name in keep:
        (model / name).write_text("keep me")
    (model / f".r.h5.{host}.{dead}.89abcdef.tmp").symlink_to("m_tb.dat")  # a link is never followed nor removed
    also_stale = model / f".r.h5.{host}.{dead}.fedcba98.tmp"
    also_stale.write_text("stale")
    run = _cli("compute", "--tb", "m_tb.dat", *RUN, "--out", "r.h5", cwd=model)
    assert run.returncode == 0, run.stderr
    assert not (model / stale).exists() and not also_stale.exists()
    assert all((model / name).read_text() == "keep me" for name in keep)
    assert (model / f".r.h5.{host}.{dead}.89abcdef.tmp").is_symlink()
    assert Result.load(out).quantities.keys() == {"ahc", "entropy_hall"}


# ------------------------------------------------------------------ item 9: unwritable places found early
@contextlib.contextmanager
def _read_only_folder(base: Path):
    src, ro = base / "src", base / "ro"
    src.mkdir()
    ro.mkdir()
    ok = (os.geteuid() == 0
          and subprocess.run(["mount", "--bind", str(src), str(ro)], capture_output=True).returncode == 0)
    if ok and subprocess.run(["mount", "-o", "remount,bind,ro", str(ro)], capture_output=True).returncode != 0:
        subprocess.run(["umount", str(ro)], capture_output=True)
        ok = False
    if not ok:
        pytest.skip("cannot make a read-only bind mount here")
    try:
        yield ro
    finally:
        subprocess.run(["umount", "-l", str(ro)], capture_output=True)


UNWRITABLE = [
    ("/proc/x.h5", "/proc/x.h5: cannot create a file in the output folder /proc (No such file or directory)"),
    ("/sys/x.h5", "/sys/x.h5: cannot create a file in the output folder /sys ("),
    ("TMP/missing/r.h5", "TMP/missing/r.h5: output folder does not exist"),
    ("TMP/m_tb.dat/r.h5", "TMP/m_tb.dat/r.h5: output folder TMP/m_tb.dat is not a folder"),
    ("TMP/" + "x" * 300 + ".h5", "TMP/" + "x" * 300 + ".h5: file name is longer than 255 bytes"),
    ("TMP", "TMP: output path is a folder; give a file name such as result.h5"),
    ("RO/r.h5", "RO/r.h5: cannot create a file in the output folder RO (read-only file system)"),
]


@pytest.mark.parametrize("out,message", UNWRITABLE, ids=[u[0][:16] for u in UNWRITABLE])
@pytest.mark.parametrize("option", ["--out", "--checkpoint"])
def test_unwritable_output_fails_before_loading_the_model(model, monkeypatch, capsys, out, message, option):
    from wbentropy import cli

    with contextlib.ExitStack() as stack:
        if "RO" in out:
            ro = stack.enter_context(_read_only_folder(model))
            out, message = out.replace("RO", str(ro)), message.replace("RO", str(ro))
        out, message = out.replace("TMP", str(model)), message.replace("TMP", str(model))
        called = []
        monkeypatch.setattr("wbentropy.io.load.load_model", lambda **k: called.append(1))
        extra = ["--out", out] if option == "--out" else ["--out", str(model / "r.h5"), "--checkpoint", out, *ADAPTIVE]
        with pytest.raises(SystemExit) as info:
            cli.main(["compute", "--tb", str(model / "m_tb.dat"), *RUN, *extra])
        err = capsys.readouterr().err
        assert info.value.code == 2 and not called
        assert err.startswith(f"wbentropy: error: {message}") and err.count("\n") == 1, err
        assert _temporaries(model) == []


@pytest.mark.parametrize("stem", ["y" * 200, "\u00e9" * 120])
def test_long_output_name_has_short_temporaries(tmp_path, stem):
    """A 203- or 243-byte name is legal; its temporary files (longer names) must still fit the limit."""
    out = tmp_path / (stem + ".h5")
    _result(2.0).save(out)
    assert Result.load(out)["ahc"][0, 0, 0, 0] == 2.0 and _temporaries(tmp_path) == []


# ------------------------------------------------------------------ item 10: show of malformed result files
def _bad_result(path: Path, how: str) -> None:
    _result().save(path)
    with h5py.File(path, "a") as h:
        if how in ("1d", "0d", "6d", "strings", "wrong_grid"):
            del h["ahc/value"]
            data = {"1d": np.ones(4), "0d": np.float64(1.0), "6d": np.ones((1, 2, 3, 3, 3, 3)),
                    "strings": np.array([b"a", b"b"]), "wrong_grid": np.ones((2, 2, 3, 3))}[how]
            h["ahc"].create_dataset("value", data=data)
        elif how == "no_value":
            del h["ahc/value"]
        elif how == "error_shape":
            h["ahc"].create_dataset("error", data=np.ones(3))
        elif how == "temperature_2d":
            del h["temperature"]
            h.create_dataset("temperature", data=np.ones((1, 1)))
        elif how == "value_is_group":
            del h["ahc/value"]
            h["ahc"].create_group("value")


MALFORMED = {
    "1d": "/ahc/value has shape (4,); expected (1, 2, 3) or (1, 2, 3, 3) or (1, 2, 3, 3, 3)",
    "0d": "/ahc/value has shape (); expected",
    "6d": "/ahc/value has shape (1, 2, 3, 3, 3, 3); expected",
    "wrong_grid": "/ahc/value has shape (2, 2, 3, 3); expected",
    "strings": "/ahc/value holds |S1 data, not numbers",
    "no_value": "group /ahc has no dataset 'value'",
    "error_shape": "/ahc/error has shape (3,), /ahc/value (1, 2, 3, 3)",
    "temperature_2d": "/temperature has shape (1, 1); expected a non-empty list of values",
    "value_is_group": "/ahc/value is not a dataset",
}


@pytest.mark.parametrize("how", list(MALFORMED))
def test_show_malformed_result_is_one_line_naming_the_dataset(tmp_path, how):
    path = tmp_path / "r.h5"
    _bad_result(path, how)
    with pytest.raises(InputError, match="not a wbentropy result file: "):
        Result.load(path)
    proc = _cli("show", path, cwd=tmp_path)
    assert _one_error(proc).startswith(f"wbentropy: error: {path}: not a wbentropy result file: {MALFORMED[how]}")
    assert proc.stdout == ""


@pytest.mark.parametrize("kind", ["fifo", "folder"])
def test_show_of_a_non_regular_file(tmp_path, kind):
    path = tmp_path / "r.h5"
    os.mkfifo(path) if kind == "fifo" else path.mkdir()
    proc = _cli("show", path, cwd=tmp_path, timeout=30)
    assert _one_error(proc) == (f"wbentropy: error: {path}: not a regular file (a folder, device or FIFO); give a "
                                "result file written by wbentropy compute")


@pytest.mark.parametrize("tail", [(4,), (), (3, 3, 3, 3), (2, 2)])
def test_to_text_of_an_unusual_shape_prints_the_numbers(tail):
    res = _result(1.5, tail)
    text = res.to_text()
    assert f"# value of shape {(1, 2) + tail}, components flattened" in text
    assert text.count("1.500000e+00") == 2 * int(np.prod(tail))


def test_to_text_of_a_value_off_the_grid_prints_the_array():
    res = _result()
    res.quantities["ahc"].value = np.arange(4.0)
    text = res.to_text()
    assert "# value of shape (4,), components flattened" in text and "[0. 1. 2. 3.]" in text


# ------------------------------------------------------------------ plot: the same rules for the figures
@pytest.mark.parametrize("case", ["figure_links_to_result", "figure_links_to_model", "figure_is_fifo", "proc"])
def test_plot_outputs_are_checked_before_plotting(model, case):
    res = model / "r.h5"
    _result().save(res)
    argv, expected = ["plot", res, "--out", model / "p"], None
    if case == "figure_links_to_result":
        (model / "p_convergence.png").symlink_to(res)
        expected = f"--out {model}/p_convergence.png: is the input file given with RESULT.h5; choose another name"
    elif case == "figure_links_to_model":
        (model / "p_kslice.png").symlink_to(model / "m_tb.dat")
        argv += ["--tb", model / "m_tb.dat", "--kslice", "k3=0", "--kslice-mesh", "8"]
        expected = f"--out {model}/p_kslice.png: is the input file given with --tb; choose another name"
    elif case == "figure_is_fifo":
        os.mkfifo(model / "p_hall.png")
        expected = (f"{model}/p_hall.png: is a named pipe (FIFO), not a regular file: results are written only "
                    "to regular files; give a file name such as result.h5")
    else:
        argv[-1] = "/proc/p"
        expected = "/proc/p_hall.png: cannot create a file in the output folder /proc (No such file or directory)"
    before, figures = _snapshot(model), sorted(model.glob("p_*"))
    proc = _cli(*argv, cwd=model, timeout=60)
    assert _one_error(proc) == f"wbentropy: error: {expected}"
    assert _snapshot(model) == before and sorted(model.glob("p_*")) == figures


def test_out_naming_the_win_read_beside_a_tb_file_is_refused(tmp_path):
    """A ``SEED.win`` beside ``SEED_tb.dat`` is read (for ``spinors``): it is an input, never overwritten."""
    root = Path(__file__).resolve().parents[1] / "data"
    (tmp_path / "m_tb.dat").write_bytes((root / "qwz_tb.dat").read_bytes())
    win = tmp_path / "m.win"
    win.write_bytes((root / "qwz.win").read_bytes())
    before = win.read_bytes()
    proc = subprocess.run([sys.executable, "-m", "wbentropy.cli", "compute", "--tb", "m_tb.dat", "--kmesh", "4", "4",
                           "1", "--temperature", "300", "--mu", "0", "--out", "m.win"],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == ("wbentropy: error: --out m.win: is the input file given with --tb (its SEED.win); "
                           "choose another name\n")
    assert win.read_bytes() == before
