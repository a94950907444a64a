"""Issue 24, input files: inconsistent ``_wsvec.dat``, absurd values, special files, gzip bombs, encodings.

Every case builds a broken input from a valid one (a toy model written by
:mod:`wbentropy.io.tb`, the bundled QWZ files, or the real Fe Wannier90 files) and
asserts the :class:`~wbentropy.errors.InputError`: the file it names, the line and the
words of the message.  Special files (FIFO, character device) and the gzip bomb also run
through the command line: exit 2, one ``wbentropy: error:`` line, no traceback, within a
few seconds (a FIFO must not block the reader).
"""
from __future__ import annotations

import gzip
import os
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pytest

from test_w90text import _hr, _tb, edit_line, files, replace_token, write_wsvec_text  # noqa: F401 (files: fixture)
from wbentropy.api import compute
from wbentropy.errors import InputError
from wbentropy.io.load import load_model
from wbentropy.io.hr import read_hr
from wbentropy.io.tb import read_tb

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"

# The toy _tb.dat (nw = 3, nrpts = 9): lines 2-4 lattice, 5 num_wann, 6 nrpts, 7 ndegen, 8 blank,
# 9 first R, 10-18 its H entries; R = (1, 0, 0) at line 20, its entries at 21-29.
# The toy _wsvec.dat (one shift per block): block e = (iR * 3 + m) * 3 + n has its header at line 2 + 3 e.


def _raises(call, fname: str, line: int | None, needle: str) -> InputError:
    with pytest.raises(InputError) as info:
        call()
    err = info.value
    assert needle in str(err), str(err)
    assert err.path is not None and Path(err.path).name == fname, str(err)
    assert err.line == line, str(err)
    return err


def _block_line(iR: int, m: int, n: int) -> int:
    """Header line of block (R index, m, n) (0-based) in the toy _wsvec.dat with one shift per block."""
    return 2 + 3 * ((iR * 3 + m) * 3 + n)


def _wsvec_blocks(path: Path) -> list[list[str]]:
    """The toy _wsvec.dat as [header line] + blocks of 3 lines."""
    lines = path.read_text().split("\n")
    return [lines[:1]] + [lines[i:i + 3] for i in range(1, len(lines) - 1, 3)]


def _write_blocks(path: Path, blocks: list[list[str]]) -> None:
    path.write_text("\n".join(ln for b in blocks for ln in b) + "\n")


# --------------------------------------------------------------------------- item 2: _wsvec.dat vs the model
def test_wsvec_shifts_of_another_model_break_hermiticity(files):
    """Same num_wann and R set, but image shifts that are not those of this model: H(R) after
    the MDRS expansion is not Hermitian.  Was: a log line 'deviates by inf eV' and a wrong result."""
    R = files["model"].R
    write_wsvec_text(files["wsvec"], R, 3, {((1, 0, 0), 0, 1): [(1, 0, 0), (0, 0, 0)]})
    _raises(_tb(files, wsvec_file=files["wsvec"]), "w_wsvec.dat", _block_line(1, 0, 1),
            "the image shifts do not belong to this model: after the MDRS expansion H(R) is not Hermitian")


def test_wsvec_asymmetric_multiplicity_refused(files):
    """The block of (R, m, n) and of (-R, n, m) must list opposite images: here only one has two."""
    R = files["model"].R
    write_wsvec_text(files["wsvec"], R, 3, {((0, 1, 0), 2, 2): [(0, 0, 0), (0, 0, 1)]})
    _raises(_hr(files, wsvec_file=files["wsvec"]), "w_wsvec.dat", _block_line(3, 2, 2), "is not Hermitian")


def test_wsvec_consistent_nontrivial_shifts_accepted(files):
    """Opposite images for (R, m, n) and (-R, n, m): accepted, Hermitian, R set grows."""
    R = files["model"].R
    write_wsvec_text(files["wsvec"], R, 3, {((1, 0, 0), 0, 1): [(1, 0, 0), (0, 0, 0)],
                                        ((-1, 0, 0), 1, 0): [(-1, 0, 0), (0, 0, 0)]})
    model = read_tb(tb_file=files["tb"], wsvec_file=files["wsvec"])
    assert model.hermiticity_error() < 1e-12
    assert model.sources["mdrs"] == "yes" and len(model.R) == len(R) + 2


def test_wsvec_of_model_with_fewer_wannier_functions(files):
    write_wsvec_text(files["wsvec"], files["model"].R, 2, {})
    n_blocks = len(files["model"].R) * 4
    _raises(_tb(files, wsvec_file=files["wsvec"]), "w_wsvec.dat", 2 + 3 * (n_blocks - 1),
            "the file describes 2 Wannier functions but the Hamiltonian file has num_wann = 3")


def test_wsvec_of_model_with_more_wannier_functions(files):
    write_wsvec_text(files["wsvec"], files["model"].R, 4, {})
    _raises(_tb(files, wsvec_file=files["wsvec"]), "w_wsvec.dat", 2 + 3 * 3, "orbital index 4 exceeds num_wann = 3")


def test_wsvec_with_a_smaller_R_set(files):
    """A wsvec of another model whose R set lacks the last two R of this one."""
    write_wsvec_text(files["wsvec"], files["model"].R[:-2], 3, {})
    n_lines = len(files["wsvec"].read_text().splitlines())
    _raises(_tb(files, wsvec_file=files["wsvec"]), "w_wsvec.dat", n_lines,
            "no wsvec entry for R = (0, 0, 2), (m, n) = (1, 1)")


def test_wsvec_one_block_removed(files):
    blocks = _wsvec_blocks(files["wsvec"])
    del blocks[1 + 13]  # R index 1, (m, n) = (2, 2) 1-based: block e = 13
    _write_blocks(files["wsvec"], blocks)
    _raises(_tb(files, wsvec_file=files["wsvec"]), "w_wsvec.dat", _block_line(1, 1, 1),
            "no wsvec entry for R = (1, 0, 0), (m, n) = (2, 2)")


def test_wsvec_block_duplicated(files):
    blocks = _wsvec_blocks(files["wsvec"])
    blocks.insert(1 + 5, blocks[1 + 4])
    _write_blocks(files["wsvec"], blocks)
    _raises(_tb(files, wsvec_file=files["wsvec"]), "w_wsvec.dat", _block_line(0, 1, 2),
            "duplicate wsvec entry for R = (0, 0, 0), (m, n) = (2, 2)")


def test_wsvec_extra_R(files):
    blocks = _wsvec_blocks(files["wsvec"])
    blocks.append(["    3    0    0    1    1", "    1", "    0    0    0"])
    _write_blocks(files["wsvec"], blocks)
    n = len(files["model"].R) * 9
    _raises(_tb(files, wsvec_file=files["wsvec"]), "w_wsvec.dat", 2 + 3 * n,
            "R = (3, 0, 0) is not among the 9 lattice vectors of the Hamiltonian file")


@pytest.mark.parametrize("count", ["0", "-2"])
def test_wsvec_nonpositive_multiplicity(files, count):
    edit_line(files["wsvec"], _block_line(2, 0, 0) + 1, f"    {count}")
    _raises(_tb(files, wsvec_file=files["wsvec"]), "w_wsvec.dat", _block_line(2, 0, 0) + 1,
            f"number of images must be positive, found {count}")


def test_wsvec_count_larger_than_shifts_listed(files):
    line = _block_line(1, 1, 0)
    edit_line(files["wsvec"], line + 1, "    3")
    _raises(_tb(files, wsvec_file=files["wsvec"]), "w_wsvec.dat", line + 3,
            f"the block starting at line {line} announces 3")


def test_wsvec_huge_shift(files):
    line = _block_line(0, 0, 1) + 2
    edit_line(files["wsvec"], line, "   1000000000    0    0")
    _raises(_tb(files, wsvec_file=files["wsvec"]), "w_wsvec.dat", line,
            "image shift component 1000000000 is out of range: |T| <= 10000")


# --------------------------------------------------------------------------- item 3: absurd values in files
@pytest.mark.parametrize("value", ["1000000000", "-1000000000", "20000"])
def test_tb_absurd_R(files, value):
    replace_token(files["tb"], 20, 0, value)
    _raises(_tb(files), "m_tb.dat", 20, f"lattice vector component {value} is out of range: |R| <= 10000 cells")


def test_hr_absurd_R(files):
    replace_token(files["hr"], 7, 2, "-1000000000")
    _raises(_hr(files), "m_hr.dat", 7, "lattice vector component -1000000000 is out of range")


def test_win_lattice_scaled_by_1e120(files):
    lines = files["win"].read_text().split("\n")
    n = lines.index("ang") + 2
    edit_line(files["win"], n, " ".join(f"{float(x) * 1e120:.6e}" for x in lines[n - 1].split()))
    _raises(_hr(files), "m.win", n, "lattice vector of length 3.0e+120 Angstrom is outside 0.001 .. 10000 Angstrom")


def test_win_lattice_tiny_in_bohr(files):
    lines = files["win"].read_text().split("\n")
    n = lines.index("ang") + 1
    edit_line(files["win"], n, "bohr")
    edit_line(files["win"], n + 3, "  1e-9 0 0.0")
    _raises(_hr(files), "m.win", n + 3, "is outside 0.001 .. 10000 Angstrom")


def test_tb_lattice_fourth_number(files):
    edit_line(files["tb"], 3, files["tb"].read_text().split("\n")[2] + "   7.0")
    _raises(_tb(files), "m_tb.dat", 3, "expected 3 columns (a lattice vector in Angstrom), found 4")


@pytest.mark.parametrize("row", ["nan 0 0", "1e-200 0 0", "0 0 1e-310"])
def test_tb_lattice_nan_or_denormal(files, row):
    edit_line(files["tb"], 4, row)
    _raises(_tb(files), "m_tb.dat", 4, "NaN or Inf" if "nan" in row else "is outside 0.001 .. 10000 Angstrom")


def test_tb_left_handed_lattice_accepted_same_result(tmp_path):
    """A negative determinant (left-handed cell) is a valid description: a3 -> -a3 with R3 -> -R3
    is the same crystal and gives the same Hall conductivity.  Only |det| = 0 is refused."""
    text = (DATA / "qwz_tb.dat").read_text().split("\n")
    text[3] = "  0.0 0.0 -5.0"
    (tmp_path / "lh_tb.dat").write_text("\n".join(text))
    args = dict(quantities=["ahc"], temperatures=[300.0], mus=[0.0], kmesh=(4, 4, 1))
    ref = compute(model=load_model(tb=DATA / "qwz_tb.dat"), **args)["ahc"]
    lh = compute(model=load_model(tb=tmp_path / "lh_tb.dat"), **args)["ahc"]
    assert abs(ref[0, 0, 0, 1]) > 1.0
    np.testing.assert_allclose(lh, ref, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("token", ["1e308", "-3e7", "1.0D+300"])
def test_tb_huge_H(files, token):
    replace_token(files["tb"], 12, 3, token)
    _raises(_tb(files), "m_tb.dat", 12, "Hamiltonian matrix element of magnitude")


def test_hr_huge_H(files):
    replace_token(files["hr"], 9, 5, "1e308")
    _raises(_hr(files), "m_hr.dat", 9, "|H| <= 1e+06 eV")


def test_tb_huge_r(files):
    n = len(files["tb"].read_text().split("\n")) - 5
    replace_token(files["tb"], n, 4, "1e308")
    _raises(_tb(files), "m_tb.dat", n, "position matrix element of magnitude 1e+308 Angstrom")


def test_r_dat_huge_r(files):
    replace_token(files["r"], 6, 7, "-1e300")
    _raises(_hr(files), "m_r.dat", 6, "|r| <= 1e+06 Angstrom")


def test_tb_negative_degeneracy(files):
    replace_token(files["tb"], 7, 3, "-2")
    _raises(_tb(files), "m_tb.dat", 7, "Wigner-Seitz degeneracy must be positive, found -2")


@pytest.mark.parametrize("value", ["20000", "9" * 30])
def test_hr_absurd_degeneracy(files, value):
    """Was an OverflowError traceback for a degeneracy beyond int64."""
    replace_token(files["hr"], 4, 2, value)
    _raises(_hr(files), "m_hr.dat", 4, f"Wigner-Seitz degeneracy {value} is out of range: ndegen <= 10000")


# --------------------------------------------------------------------------- item 11: special files, sizes
def _cli(args: list[str], cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    out = cwd / "o.h5"
    proc = subprocess.run([sys.executable, "-m", "wbentropy.cli", "compute", *args, "--kmesh", "4", "4", "1",
                           "--temperature", "300", "--mu", "0", "--out", str(out)],
                          capture_output=True, text=True, timeout=timeout, cwd=cwd)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("wbentropy: error:")]
    assert len(lines) == 1, proc.stderr
    assert not out.exists()
    return lines[0]


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("kind", ["fifo", "dev_zero", "dev_null"])
def test_cli_tb_special_file_refused_without_reading(tmp_path, kind):
    path = {"fifo": lambda: _fifo(tmp_path / "p_tb.dat"), "dev_zero": lambda: Path("/dev/zero"),
            "dev_null": lambda: Path("/dev/null")}[kind]()
    t0 = time.monotonic()
    line = _cli(["--tb", str(path)], tmp_path, timeout=30)
    assert time.monotonic() - t0 < 20
    want = "a named pipe (FIFO)" if kind == "fifo" else "a character device"
    assert line == f"wbentropy: error: {path}: not a regular file ({want}); inputs must be files on disk"


@pytest.mark.parametrize("which", ["r", "win", "wsvec"])
def test_hr_companion_file_is_a_fifo(files, which):
    fifo = files["dir"] / f"p_{which}"
    os.mkfifo(fifo)
    call = _hr(files, **{f"{which}_file": fifo})
    _raises(call, fifo.name, None, "not a regular file (a named pipe (FIFO))")


def test_tb_is_a_unix_socket(tmp_path):
    import socket

    path = tmp_path / "s_tb.dat"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.bind(str(path))
        _raises(lambda: read_tb(tb_file=path), "s_tb.dat", None, "not a regular file (a socket)")


def test_symlink_to_regular_file_accepted(files):
    link = files["dir"] / "link_tb.dat"
    link.symlink_to(files["tb"])
    np.testing.assert_array_equal(read_tb(tb_file=link).H, read_tb(tb_file=files["tb"]).H)


def _bomb(path: Path, head: bytes, filler_mb: int) -> None:
    """gzip file: a valid-looking head followed by ``filler_mb`` MiB of blank lines (compresses ~1000:1)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunks = [comp.compress(head)]
    block = b" \n" * (1 << 19)
    chunks += [comp.compress(block) for _ in range(filler_mb)]
    chunks.append(comp.flush())
    path.write_bytes(b"".join(chunks))


def test_gzip_bomb_tb_refused_before_decompressing_it(tmp_path):
    """64 MiB of blank lines behind a valid 2-band header: refused after about 1 MiB of inflation."""
    import tracemalloc

    path = tmp_path / "bomb_tb.dat.gz"
    _bomb(path, (DATA / "qwz_tb.dat").read_bytes(), filler_mb=64)
    assert path.stat().st_size < 200_000
    tracemalloc.start()
    try:
        _raises(lambda: read_tb(tb_file=path), "bomb_tb.dat.gz", None, "decompresses to more than 1,")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20  # the whole file would need > 64 MiB


def test_cli_gzip_bomb_hr(tmp_path):
    path = tmp_path / "bomb_hr.dat.gz"
    _bomb(path, (DATA / "qwz_hr.dat").read_bytes(), filler_mb=64)
    line = _cli(["--hr", str(path), "--win", str(DATA / "qwz.win")], tmp_path)
    assert "bomb_hr.dat.gz: decompresses to more than" in line
    assert "num_wann = 2 and nrpts = 7" in line


def test_gzip_valid_file_with_trailing_blank_lines_accepted(tmp_path):
    """Margin: a compressed file a little larger than its data (blank lines, CRLF) is read."""
    text = (DATA / "qwz_tb.dat").read_bytes().replace(b"\n", b"\r\n") + b"\n" * 10000
    (tmp_path / "q_tb.dat.gz").write_bytes(gzip.compress(text))
    np.testing.assert_array_equal(read_tb(tb_file=tmp_path / "q_tb.dat.gz").H, load_model(tb=DATA / "qwz_tb.dat").H)


def test_cli_wsvec_of_a_bigger_model(tmp_path):
    """The 18-band Fe _wsvec.dat given with the 2-band QWZ model: refused after about 1 MiB."""
    line = _cli(["--tb", str(DATA / "qwz_tb.dat"), "--wsvec", str(DATA / "Fe_wsvec.dat.gz")], tmp_path)
    assert line.startswith(f"wbentropy: error: {DATA / 'Fe_wsvec.dat.gz'}: decompresses to more than 1,163,264 "
                           "bytes, the most that num_wann = 2 and the 7 lattice vectors of the Hamiltonian file "
                           "allow; reading stopped there (the _wsvec.dat of another model, or a damaged file?)")


def test_plain_file_much_larger_than_header_announces(tmp_path):
    path = tmp_path / "big_tb.dat"
    with open(path, "wb") as fh:
        fh.write((DATA / "qwz_tb.dat").read_bytes())
        fh.truncate(200 * 1024 * 1024)  # sparse: 200 MiB of NUL bytes after the data
    _raises(lambda: read_tb(tb_file=path), "big_tb.dat", None,
            "file too large: 209,715,200 bytes, but num_wann = 2 and nrpts = 7 in its header allow at most")


def test_win_without_size_header_read_up_to_64_mib(files):
    with open(files["win"], "ab") as fh:
        fh.truncate(65 << 20)
    _raises(_hr(files), "m.win", None, "file too large: 68,157,440 bytes, but wbentropy reads from a file whose size "
            "no header announces at most 67,108,864 bytes")


@pytest.mark.parametrize("line, value", [(5, "1000000000"), (6, "1000000000000")])
def test_tb_header_announces_absurd_size(files, line, value):
    edit_line(files["tb"], line, f"   {value}")
    _raises(_tb(files), "m_tb.dat", line, "bytes, but the file has only")


def test_hr_gz_header_announces_absurd_size(files):
    edit_line(files["hr"], 3, "   1000000000000")
    gz = files["dir"] / "m_hr.dat.gz"
    gz.write_bytes(gzip.compress(files["hr"].read_bytes()))
    _raises(_hr(files, hr_file=gz), "m_hr.dat.gz", 3, "cannot hold")


def test_r_dat_header_announces_absurd_size(files):
    edit_line(files["r"], 2, "   1000000")
    _raises(_hr(files), "m_r.dat", 2, "bytes, but the file has only")


def _fe_seed(tmp: Path, fe_dir: Path, special: str) -> Path:
    d = tmp / "fe"
    d.mkdir()
    for ext in ("chk", "eig", "mmn", "nnkp"):
        if ext == special:
            os.mkfifo(d / f"Fe.{ext}")
        else:
            os.symlink((fe_dir / f"Fe.{ext}").resolve(), d / f"Fe.{ext}")
    return d / "Fe"


@pytest.mark.parametrize("ext", ["chk", "eig", "mmn", "nnkp"])
def test_w90_inputs_must_be_regular_files(tmp_path, fe_dir, ext):
    seed = _fe_seed(tmp_path, fe_dir, ext)
    _raises(lambda: load_model(w90=seed), f"Fe.{ext}", None, "not a regular file (a named pipe (FIFO))")


def test_eig_larger_than_checkpoint_announces(tmp_path, fe_dir):
    seed = _fe_seed(tmp_path, fe_dir, "none")
    eig = seed.with_suffix(".eig")
    eig.unlink()
    with open(eig, "wb") as fh:
        fh.write((fe_dir / "Fe.eig").read_bytes())
        fh.truncate(300 * 1024 * 1024)
    _raises(lambda: load_model(w90=seed), "Fe.eig", None, "file too large: 314,572,800 bytes, but 20 bands x 27 "
            "k-points in Fe.chk allow at most")


# --------------------------------------------------------------------------- item 13: messages, encodings
def test_latin1_header_comment_accepted(files):
    before = read_tb(tb_file=files["tb"])
    raw = files["tb"].read_bytes()
    files["tb"].write_bytes(b" Fe \xe9tude (latin-1) " + raw[raw.index(b"\n"):])
    np.testing.assert_array_equal(read_tb(tb_file=files["tb"]).H, before.H)
    raw = files["hr"].read_bytes()
    files["hr"].write_bytes(b"\xff\xfe header\xa0" + raw[raw.index(b"\n"):])
    assert read_hr(hr_file=files["hr"], win_file=files["win"]).H.shape == files["model"].H.shape


def test_non_utf8_in_numeric_line_refused(files):
    lines = files["tb"].read_bytes().split(b"\n")
    lines[11] = lines[11].replace(b"e", b"\xe9", 1)
    files["tb"].write_bytes(b"\n".join(lines))
    _raises(_tb(files), "m_tb.dat", 12, "not a text file (contains bytes that are not UTF-8 text)")


def test_cli_huge_H_names_file_and_line(tmp_path):
    text = (DATA / "qwz_tb.dat").read_text().split("\n")
    text[15] = "    1    1    1e308  0.0"
    (tmp_path / "h_tb.dat").write_text("\n".join(text))
    line = _cli(["--tb", str(tmp_path / "h_tb.dat")], tmp_path)
    assert line.startswith(f"wbentropy: error: {tmp_path / 'h_tb.dat'}, line 16: Hamiltonian matrix element")
    assert "NaN or Inf" not in line


def test_w90_import_prints_no_pyfftw_warning():
    code = ("import logging, sys; logging.basicConfig(level=logging.WARNING, stream=sys.stderr)\n"
            "from wbentropy.io.w90chk import import_wannierberri\n"
            "wb = import_wannierberri(); print(wb.__name__)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "wannierberri"
    assert "pyfftw" not in proc.stderr, proc.stderr


def test_w90_cli_run_explains_pyfftw_once_at_info(tmp_path, fe_dir):
    """An error after loading Fe through WannierBerri: stderr is the one error line, no pyfftw noise."""
    seed = _fe_seed(tmp_path, fe_dir, "none")
    proc = subprocess.run([sys.executable, "-m", "wbentropy.cli", "compute", "--w90", str(seed), "--mu", "400",
                           "--kmesh", "2", "2", "2", "--temperature", "300", "--out", str(tmp_path / "o.h5")],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("wbentropy: error:"), proc.stderr
    assert "pyfftw" not in proc.stderr
