"""Output files that never damage anything: checks before computing, atomic writes, fallbacks.

Rules, in the order a run meets them:

* :func:`check_output_path` (before any computation): the folder exists and accepts a new
  file (checked by creating and removing a temporary file there), the name is not too
  long, and the path is not a folder nor a special file (device such as ``/dev/null``,
  FIFO, socket).  A symbolic link is followed: the file written is its target (created if
  the link dangles into an existing folder) and the link stays.  Stale temporary files
  of this output (see below) are removed.
* :func:`check_outputs_distinct`: no output is, or resolves to (symbolic links, hard
  links), an input file or another output.
* :func:`write_atomically`: the bytes go to a temporary file in the target's folder, are
  flushed to disk and renamed over the target, so the target holds the old or the new
  file, never a mixture.  A new file gets mode ``0666 & ~umask``; an existing file keeps
  its mode (and, for root, its owner).  On any ``OSError`` (full disk ``ENOSPC``, quota
  ``EDQUOT``, file-size limit ``EFBIG``, ...) the temporary file is removed, the old file
  is untouched, and the error is raised.
* :func:`atomic_hdf5` builds the HDF5 file in memory (h5py core driver) and writes its
  image with :func:`write_atomically`: an I/O error is a Python ``OSError`` here, never an
  error inside the HDF5 library (which can crash the process).  Peak memory during a write
  is about twice the file size.

Temporary files are named ``.NAME.HOST.PID.XXXXXXXX.tmp`` beside the target ``NAME``.  A
temporary file of the same target whose HOST is this host and whose PID is not a running
process is stale (its writer was killed) and is removed by the next check of that output;
files of other outputs, of other hosts or of live processes are never touched.
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import re
import secrets
import socket
import stat
import tempfile
from pathlib import Path

from ..errors import InputError
from ._files import special_kind

__all__ = ["check_outputs", "check_output_path", "check_outputs_distinct", "input_files", "write_atomically",
           "atomic_hdf5", "save_with_fallback", "remove_stale_temporaries"]

logger = logging.getLogger("wbentropy")

# Wannier90 files of a seed that --w90 SEED reads (or that belong to the same calculation)
W90_EXTENSIONS = ("chk", "eig", "mmn", "nnkp", "win", "amn", "spn", "uHu", "uIu", "sHu", "sIu", "wout", "dmn")
#: Options naming input files (the model files and ``--restart``), read by :func:`input_files`
INPUT_OPTIONS = ("--tb", "--tb-down", "--hr", "--r", "--wsvec", "--win", "--w90", "--restart")
_CHUNK = 1 << 28  # bytes per os.write call
_HDF5_BLOCK = 1 << 24  # growth step of the in-memory HDF5 file
_warned: set = set()  # outputs whose write failure was already reported (warn once)


# --------------------------------------------------------------------------- names
def _host() -> str:
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:40] or "host"


def _temp_base(name: str) -> str:
    """The NAME part of the temporary files of target ``name`` (shortened if the name is long)."""
    if len(os.fsencode(name)) <= 160:
        return name
    return os.fsdecode(os.fsencode(name)[:100]) + "~" + hashlib.sha1(os.fsencode(name)).hexdigest()[:12]


def _temp_path(target: Path) -> Path:
    return target.with_name(f".{_temp_base(target.name)}.{_host()}.{os.getpid()}.{secrets.token_hex(4)}.tmp")


def _temp_pattern(target: Path) -> re.Pattern:
    return re.compile(rf"\.{re.escape(_temp_base(target.name))}\.(?P<host>[A-Za-z0-9-]+)\.(?P<pid>\d+)\.[0-9a-f]{{8}}"
                      rf"\.tmp")


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: a process of another user
        return True
    return True


def remove_stale_temporaries(target: str | Path) -> list[Path]:
    """Remove the temporary files left beside ``target`` by killed writers on this host; returns them.

    Only regular files named ``.NAME.HOST.PID.XXXXXXXX.tmp`` for this target's NAME, with HOST
    this host and PID not a running process, are removed (symbolic links are not followed).
    """
    target = Path(target)
    pattern, host, removed = _temp_pattern(target), _host(), []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return removed
    for entry in entries:
        m = pattern.fullmatch(entry.name)
        if m is None or m["host"] != host or _pid_alive(int(m["pid"])):
            continue
        with contextlib.suppress(OSError):
            if entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
                logger.info("removed %s, left by an interrupted write (process %s)", entry.path, m["pid"])
    return removed


# --------------------------------------------------------------------------- checks
def _target(path: Path) -> Path:
    """The file actually written for ``path``: the target of a symbolic link, else ``path``."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def check_output_path(path: str | Path, *, option: str | None = None) -> Path:
    """Check that a result can be written to ``path`` (before hours of computing); returns ``path``.

    Parameters
    ----------
    path : str or Path
        The output file (a symbolic link is followed to its target, which is the file written).
    option : str, optional
        Command-line option naming the path (``"--out"``), shown in messages.

    Raises
    ------
    InputError
        The folder is missing, not a folder or refuses a new file; the path is a folder or
        a special file; the name is too long.  The message names the path.
    """
    path = Path(path)
    where = f"{option} {path}" if option else str(path)
    if not str(path) or path.name in ("", ".", ".."):
        raise InputError(f"{where}: give a file name such as result.h5")
    try:
        _check_path(path)
    except OSError as err:  # anything the checks below did not foresee
        raise InputError(f"cannot be used as an output file ({err.strerror or err})", path=path) from None
    return path


def _check_path(path: Path) -> None:
    folder = path.parent
    _check_name_length(path, path)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"output folder {folder} is not a folder", path=path)
    if not folder.is_dir():
        raise InputError("output folder does not exist", path=path)
    target = _target(path)
    if target != path:
        try:
            os.stat(path)
        except FileNotFoundError:
            if not target.parent.is_dir():
                raise InputError(f"is a symbolic link to {target}, whose folder does not exist", path=path) from None
        except OSError as err:
            raise InputError(f"is a symbolic link that cannot be followed ({err.strerror})", path=path) from None
    if target.is_dir():
        raise InputError("output path is a folder; give a file name such as result.h5", path=path)
    with contextlib.suppress(FileNotFoundError):
        kind = special_kind(os.stat(target).st_mode, example=True)
        if kind is not None:
            raise InputError(f"is {kind}, not a regular file: results are written only to regular files; "
                             "give a file name such as result.h5", path=path)
    _check_name_length(target, path)
    if target.exists() and not os.access(target, os.W_OK):
        raise InputError("output file exists and is not writable", path=path)
    remove_stale_temporaries(target)
    _probe(target, path)


def _check_name_length(target: Path, path: Path) -> None:
    try:
        name_max = os.pathconf(target.parent if target.parent.is_dir() else ".", "PC_NAME_MAX")
    except (OSError, ValueError):
        name_max = 255
    if len(os.fsencode(target.name)) > name_max:
        raise InputError(f"file name is longer than {name_max} bytes, the limit of this file system", path=path)


def _probe(target: Path, path: Path) -> None:
    """Create and remove a temporary file in the target's folder."""
    tmp = _temp_path(target)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
    except OSError as err:
        why = "read-only file system" if err.errno == errno.EROFS else err.strerror
        raise InputError(f"cannot create a file in the output folder {target.parent} ({why})", path=path) from None
    os.close(fd)
    os.unlink(tmp)


def _same_file(a: Path, b: Path) -> bool:
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        sa, sb = os.stat(a), os.stat(b)
    except OSError:
        return False
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def check_outputs_distinct(outputs: dict, inputs: dict, *, allowed: tuple = ()) -> None:
    """Refuse an output that is (or resolves to, by symbolic or hard links) an input or another output.

    Parameters
    ----------
    outputs : dict
        Option (``"--out"``) -> path, list of paths, or None (ignored).
    inputs : dict
        Option (``"--tb"``) -> path, or list of paths (the files of ``--w90 SEED``), or None.
    allowed : tuple of (output option, input option)
        Pairs that may name the same file (``("--checkpoint", "--restart")``: a run resumes from
        and keeps checkpointing to the same file).

    Raises
    ------
    InputError
        ``--out m_tb.dat: is the input file given with --tb; choose another name``.
    """
    outs = [(o, Path(p)) for o, given in outputs.items() for p in _paths(given)]
    for opt, out in outs:
        for iopt, given in inputs.items():
            for inp in _paths(given):
                if (opt, iopt) not in allowed and _same_file(out, Path(inp)):
                    raise InputError(f"{opt} {out}: is the input file given with {iopt}; choose another name")
    for i, (opt, out) in enumerate(outs):
        for opt2, out2 in outs[i + 1:]:
            if _same_file(out, out2):
                raise InputError(f"{opt} {out}: is also the {opt2} file; choose another name")


def _paths(given) -> list:
    return [] if given is None else list(given) if isinstance(given, (list, tuple)) else [given]


def input_files(given: dict) -> dict:
    """Option -> input path(s), with the files an option implies.

    Parameters
    ----------
    given : dict
        Option -> path, list of paths, or None, e.g. ``{"--tb": "m_tb.dat", "--restart": None}``
        (the options of :data:`INPUT_OPTIONS`, and any other inputs).  ``--w90 SEED`` names a
        seed: it stands for the files ``SEED.chk``, ``SEED.eig``, ... of that calculation; a
        ``_tb.dat`` given with ``--tb`` or ``--tb-down`` brings the ``SEED.win`` read beside it
        (for its spinors).
    """
    inputs = {opt: paths for opt, paths in given.items() if opt != "--w90"}
    for tb_option in ("--tb", "--tb-down"):
        tb = given.get(tb_option)
        if tb is not None:
            from .load import win_beside_tb

            inputs[f"{tb_option} (its SEED.win)"] = win_beside_tb(tb)
    seed = given.get("--w90")
    if seed is not None:
        seed = Path(seed)
        inputs["--w90"] = [seed.with_name(f"{seed.name}.{ext}") for ext in W90_EXTENSIONS]
    return inputs


def check_outputs(outputs: dict, inputs: dict) -> None:
    """Every check of the outputs of a command before it computes anything.

    Parameters
    ----------
    outputs : dict
        Option -> output path, list of paths, or None, e.g. ``{"--out": ..., "--checkpoint": ...}``.
    inputs : dict
        Option -> input path, list of paths, or None (see :func:`input_files`); ``--checkpoint``
        may be the ``--restart`` file.
    """
    check_outputs_distinct(outputs, input_files(inputs), allowed=(("--checkpoint", "--restart"),))
    for option, paths in outputs.items():
        for path in _paths(paths):
            check_output_path(path, option=option)


# --------------------------------------------------------------------------- writing
def _write_all(fd: int, data) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view[:_CHUNK]):]


def write_atomically(path: str | Path, data) -> Path:
    """Write ``data`` (bytes-like) to ``path`` atomically; returns the file written (a link's target).

    Raises
    ------
    OSError
        Any failure (full disk, quota, size limit, ...); the temporary file is removed and a
        previous file at ``path`` is untouched.
    """
    target = _target(Path(path))
    try:
        old = os.stat(target)
    except FileNotFoundError:
        old = None
    if old is not None and not stat.S_ISREG(old.st_mode):
        raise OSError(errno.EINVAL, "not a regular file", str(target))
    tmp = _temp_path(target)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
    try:
        try:
            if old is not None:
                os.fchmod(fd, stat.S_IMODE(old.st_mode))
                if os.geteuid() == 0:
                    with contextlib.suppress(OSError):
                        os.fchown(fd, old.st_uid, old.st_gid)
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return target


@contextlib.contextmanager
def atomic_hdf5(path: str | Path, *, on_write_error: str = "warn"):
    """An HDF5 file open for writing that appears at ``path`` only when complete.

    The file is built in memory and written with :func:`write_atomically` when the ``with``
    block ends without an exception (an exception in the block writes nothing).

    Parameters
    ----------
    path : str or Path
    on_write_error : {"warn", "raise"}
        What a failure to write the finished file does: ``"warn"`` (the checkpoints of an
        adaptive run) logs one warning per path, keeps the previous file and lets the run go
        on; ``"raise"`` raises the ``OSError``.
    """
    import h5py

    path = Path(path)
    with h5py.File(f"{path.name}.{secrets.token_hex(8)}.mem", "w", driver="core", backing_store=False,
                   block_size=_HDF5_BLOCK, track_order=True) as h:  # attributes read back in written order
        yield h
        h.flush()
        image = h.id.get_file_image()
    try:
        write_atomically(path, image)
    except OSError as err:
        if on_write_error == "raise":
            raise
        if str(path) not in _warned:
            _warned.add(str(path))
            logger.warning("%s: cannot write the checkpoint (%s); the previous checkpoint is kept and the run goes on",
                           path, err.strerror or err)
        return
    _warned.discard(str(path))


def save_with_fallback(save, path: str | Path, *, option: str = "--out") -> Path:
    """``save(path)``; if that fails, ``save`` into the temporary folder instead and raise.

    Parameters
    ----------
    save : callable
        ``save(path) -> Path`` writing the result (such as :meth:`Result.save`).
    path : str or Path
        Where the result should go.
    option : str
        Option naming ``path`` in the message.

    Returns
    -------
    Path
        ``path``, when the result was written there.

    Raises
    ------
    InputError
        The result could not be written to ``path``: the message says why and where it was
        saved instead (a new file in :func:`tempfile.gettempdir`), or that this failed too.
    """
    try:
        return save(path)
    except (OSError, InputError) as err:
        why = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
    where = f"{option} {path}: cannot write the result ({why})"
    folder = tempfile.gettempdir()
    try:
        fd, spare = tempfile.mkstemp(prefix=f"wbentropy-{Path(path).stem[:60]}-", suffix=".h5", dir=folder)
        os.close(fd)
    except OSError as err:
        raise InputError(f"{where}; saving it in {folder} failed too ({err.strerror}): the tensors are printed "
                         "on standard output") from None
    try:
        save(spare)
    except (OSError, InputError) as err:
        with contextlib.suppress(OSError):
            os.unlink(spare)
        why2 = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        raise InputError(f"{where}; saving it in {folder} failed too ({why2}): the tensors are printed "
                         "on standard output") from None
    raise InputError(f"{where}; it was saved to {spare} instead (move it where you want it)")
