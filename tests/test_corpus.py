"""Corpus of malformed and inconsistent inputs: every one is a clear user error.

Each case builds a broken input from a valid one (the bundled ``data/qwz_tb.dat``, a toy
model written by :mod:`wbentropy.io.tb`, or the real Fe Wannier90 files of the shared
data, whose big files are symlinked and whose small files are altered copies) and asserts
that the error is an :class:`~wbentropy.errors.InputError` naming the file (and line where
it applies) and the problem.  A representative subset runs through the command line in a
subprocess: exit code 2, one ``wbentropy: error:`` line, no traceback, no output file.
The text-file cases of :mod:`test_w90text` (about 40) complete the corpus; docs/errors.md
lists every case with its message (checked below).
"""
from __future__ import annotations

import math
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

from wb_reference import FE_FERMI_EV, shared_data_dir
from wbentropy.api import compute
from wbentropy.errors import InputError
from wbentropy.io.load import load_model
from wbentropy.io.tb import write_tb
from wbentropy.toy_models import random_model

ROOT = Path(__file__).resolve().parents[1]
QWZ = ROOT / "data" / "qwz_tb.dat"


@dataclass
class Case:
    """A broken input.  ``build(ctx)`` returns (API call, CLI arguments or None)."""

    name: str
    build: Callable
    file: str | None  # file name the message must name (None: an option)
    line: int | None
    needle: str  # words of the message
    cli: bool = False
    extra: dict = field(default_factory=dict)


class Ctx:
    """Where a case builds its files."""

    def __init__(self, tmp: Path, fe_dir: Path | None):
        self.tmp, self.fe_dir = tmp, fe_dir

    def fe_copy(self, *, replace: dict | None = None, skip=(), link: dict | None = None) -> Path:
        """Folder with Fe.chk/.eig/.mmn/.nnkp symlinked, some replaced by altered bytes."""
        if self.fe_dir is None:
            pytest.skip("shared Fe data not available")
        d = self.tmp / "fe"
        d.mkdir(exist_ok=True)
        for ext in ("chk", "eig", "mmn", "nnkp"):
            target = d / f"Fe.{ext}"
            if ext in skip:
                continue
            if replace and ext in replace:
                data = replace[ext](self.fe_text(ext) if ext != "chk" else (self.fe_dir / "Fe.chk").read_bytes())
                target.write_bytes(data if isinstance(data, bytes) else data.encode())
            else:
                os.symlink((link or {}).get(ext, (self.fe_dir / f"Fe.{ext}").resolve()), target)
        return d / "Fe"

    def fe_text(self, ext: str) -> str:
        return (self.fe_dir / f"Fe.{ext}").read_text()

    def toy_tb(self, edit: Callable[[list[str]], list[str]] | None = None) -> Path:
        path = self.tmp / "toy_tb.dat"
        write_tb(model=random_model(num_wann=2, seed=3), path=path)
        if edit is not None:
            path.write_text("\n".join(edit(path.read_text().split("\n"))))
        return path


def _w90(seed: Path):
    return (lambda: load_model(w90=seed)), ["--w90", str(seed), "--mu", str(FE_FERMI_EV)]


def _tb(path: Path):
    return (lambda: load_model(tb=path)), ["--tb", str(path)]


def _eig_lines(text: str, keep) -> str:
    return "\n".join(ln for ln in text.splitlines() if keep(ln)) + "\n"


def _set_eig_energy(text: str, lineno: int, value: str) -> str:
    lines = text.splitlines()
    parts = lines[lineno - 1].split()
    lines[lineno - 1] = f"{parts[0]:>5}{parts[1]:>5}   {value}"
    return "\n".join(lines) + "\n"


def _run(**kw):
    """An API call of compute() on the bundled QWZ model with defaults overridden by kw."""
    args = dict(quantities=["ahc"], temperatures=[300.0], mus=[0.0], kmesh=(4, 4, 1))
    args.update(kw)
    return lambda: compute(model=load_model(tb=QWZ), **args)


def _cli(*extra):
    return ["--tb", str(QWZ), *extra]


CASES = [
    # ---- Wannier90 checkpoint route (--w90 SEED, read through WannierBerri), real Fe files
    Case("chk_truncated", lambda c: _w90(c.fe_copy(replace={"chk": lambda b: b[: len(b) // 3]})),
         "Fe.chk", None, "cannot read the Wannier90 checkpoint (truncated", cli=True),
    Case("chk_binary_garbage", lambda c: _w90(c.fe_copy(replace={"chk": lambda b: bytes(range(256)) * 40})),
         "Fe.chk", None, "not a Fortran unformatted .chk"),
    Case("chk_empty", lambda c: _w90(c.fe_copy(replace={"chk": lambda b: b""})), "Fe.chk", None, "the file is empty"),
    Case("chk_from_another_seed",
         lambda c: _w90(c.fe_copy(link={"chk": shared_data_dir() / "GaAs_Wannier90" / "GaAs.chk"})),
         "Fe.chk", None, "Fe.chk and Fe.nnkp belong to different calculations (a .chk from another seed?)",
         cli=True),
    Case("chk_missing", lambda c: _w90(c.fe_copy(skip=("chk",))), "Fe.chk", None, ".chk file not found"),
    Case("eig_band_count_mismatch",
         lambda c: _w90(c.fe_copy(replace={"eig": lambda t: _eig_lines(t, lambda ln: int(ln.split()[0]) <= 19)})),
         "Fe.eig", 20, "expected band 20 at k-point 1, found band 1 at k-point 2 (Fe.chk has 20 bands", cli=True),
    Case("eig_truncated", lambda c: _w90(c.fe_copy(replace={"eig": lambda t: "\n".join(t.splitlines()[:333])})),
         "Fe.eig", 333, "the file ends after 333 lines, but Fe.chk has 20 bands x 27 k-points = 540"),
    Case("eig_nan", lambda c: _w90(c.fe_copy(replace={"eig": lambda t: _set_eig_energy(t, 57, "NaN")})),
         "Fe.eig", 57, "band energy is NaN"),
    Case("eig_inf", lambda c: _w90(c.fe_copy(replace={"eig": lambda t: _set_eig_energy(t, 58, "-Infinity")})),
         "Fe.eig", 58, "band energy is -Infinity"),
    Case("eig_not_a_number", lambda c: _w90(c.fe_copy(replace={"eig": lambda t: _set_eig_energy(t, 9, "12.3.4")})),
         "Fe.eig", 9, "expected 'band k-point energy'"),
    Case("eig_binary_garbage", lambda c: _w90(c.fe_copy(replace={"eig": lambda t: b"\x00\xff\xfe" * 500})),
         "Fe.eig", None, "not a text file (binary data)"),
    Case("eig_empty", lambda c: _w90(c.fe_copy(replace={"eig": lambda t: ""})), "Fe.eig", None, "the file is empty"),
    Case("mmn_missing_berry_connection", lambda c: _w90(c.fe_copy(skip=("mmn",))), "Fe.mmn", None,
         "needed for the Berry connection", cli=True),
    Case("mmn_truncated",
         lambda c: _w90(c.fe_copy(replace={"mmn": lambda t: "".join(t.splitlines(True)[:5000])})),
         "Fe.mmn", None, "cannot read overlap matrices (truncated or damaged .mmn?)"),
    Case("mmn_nan",
         lambda c: _w90(c.fe_copy(replace={"mmn": lambda t: "".join(
             ln if i != 100 else "  NaN  0.0\n" for i, ln in enumerate(t.splitlines(True)))})),
         "Fe.mmn", None, "overlap matrices contain NaN or Inf"),
    Case("mmn_empty", lambda c: _w90(c.fe_copy(replace={"mmn": lambda t: ""})), "Fe.mmn", None,
         "the file is empty"),
    Case("nnkp_garbage", lambda c: _w90(c.fe_copy(replace={"nnkp": lambda t: "garbage\n"})), "Fe.nnkp", None,
         "cannot read the b-vectors"),
    # ---- text files (more in test_w90text.py): through the CLI here
    Case("tb_truncated", lambda c: _tb(c.toy_tb(lambda ls: ls[:30])), "toy_tb.dat", 30, "", cli=True),
    Case("tb_nan", lambda c: _tb(c.toy_tb(lambda ls: ls[:10] + [ls[10].rsplit(None, 1)[0] + " NaN"] + ls[11:])),
         "toy_tb.dat", 11, "NaN", cli=True),
    Case("tb_binary_garbage", lambda c: _tb(c.toy_tb(lambda ls: ["\x00\x01\x02\xff" * 50])), "toy_tb.dat", 1,
         "not a text file", cli=True),
    Case("tb_empty", lambda c: _tb(c.toy_tb(lambda ls: [""])), "toy_tb.dat", None, "empty", cli=True),
    Case("tb_missing", lambda c: _tb(c.tmp / "nothere_tb.dat"), "nothere_tb.dat", None, "not found", cli=True),
    # ---- run parameters
    Case("mu_outside_band_range", lambda c: (_run(mus=[17.6]), _cli("--mu", "17.6")), "qwz_tb.dat", None,
         "every chemical potential (17.6 eV) lies outside the bands of the model", cli=True),
    Case("mu_nan", lambda c: (_run(mus=[math.nan]), _cli("--mu", "nan")), None, None,
         "chemical potentials must be finite"),
    Case("mu_range_reversed", lambda c: (None, _cli("--mu-range", "1", "-1", "0.1")), None, None,
         "--mu-range needs START <= STOP and STEP > 0", cli=True),
    Case("temperature_negative", lambda c: (_run(temperatures=[-5.0]), _cli("--temperature", "-5")), None, None,
         "temperatures must be finite and >= 0 K", cli=True),
    Case("temperature_zero_fermi_surface",
         lambda c: (_run(temperatures=[0.0], quantities=["entropy_production"], tau_fs=10.0),
                    _cli("--temperature", "0", "--quantities", "entropy_production", "--tau", "10")),
         None, None, "entropy_production needs T > 0", cli=True),
    Case("tau_negative", lambda c: (_run(quantities=["entropy_production"], tau_fs=-3.0),
                                    _cli("--quantities", "entropy_production", "--tau", "-3")),
         None, None, "the relaxation time must be > 0 fs, got -3", cli=True),
    Case("tau_missing", lambda c: (_run(quantities=["drude_conductivity"]), None), None, None,
         "needs the relaxation time: give tau_fs"),
    Case("kmesh_zero", lambda c: (_run(kmesh=(0, 4, 4)), _cli("--kmesh", "0", "4", "4")), None, None,
         "k-mesh must be three positive integers", cli=True),
    Case("unknown_quantity", lambda c: (_run(quantities=["ahc", "entropy_hal"]), _cli("--quantities", "entropy_hal")),
         None, None, "unknown quantity 'entropy_hal'", cli=True),
    Case("degen_thresh_negative", lambda c: (_run(degen_thresh=-1e-4), None), None, None,
         "degen_thresh must be >= 0 eV"),
    Case("batch_size_zero", lambda c: (_run(batch_size=0), None), None, None, "batch_size must be >= 1"),
    Case("max_memory_zero", lambda c: (_run(max_memory_mb=0.0), _cli("--max-memory", "0")), None, None,
         "must be > 0 MB and finite, got 0"),
    Case("tolerance_negative", lambda c: (_run(tolerance=-1e-3), _cli("--tolerance", "-1e-3")), None, None,
         "must be > 0 and < 1 (a relative error"),
    Case("box_occupations_uniform", lambda c: (_run(box_occupations=True), _cli("--box-occupations")), None, None,
         "--box-occupations applies to adaptive integration"),
    Case("output_folder_missing", lambda c: (None, _cli("--out", str(c.tmp / "no" / "r.h5"))), "r.h5", None,
         "output folder does not exist", cli=True),
    Case("output_path_is_a_folder", lambda c: (None, _cli("--out", str(c.tmp))), None, None,
         "output path is a folder", cli=True),
    Case("output_parent_is_a_file", lambda c: (None, _cli("--out", str(QWZ) + "/r.h5")), "r.h5", None,
         "is not a folder", cli=True),
]
IDS = [c.name for c in CASES]


@pytest.fixture
def ctx(tmp_path, request):
    needs_fe = request.node.callspec.params["case"].name.split("_")[0] in ("chk", "eig", "mmn", "nnkp")
    fe_dir = request.getfixturevalue("fe_dir") if needs_fe else None
    return Ctx(tmp_path, fe_dir)


def _check_message(text: str, case: Case) -> None:
    assert case.needle in text, text
    if case.file is not None:
        assert case.file in text, text
    if case.line is not None:
        assert f"{case.file}, line {case.line}:" in text, text


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_api_raises_input_error(case, ctx):
    call, _ = case.build(ctx)
    if call is None:
        pytest.skip("command-line only")
    with pytest.raises(InputError) as info:
        call()
    err = info.value
    _check_message(str(err), case)
    if case.file is not None:
        assert Path(err.path).name == case.file
        assert err.line == case.line


CLI_CASES = [c for c in CASES if c.cli]


@pytest.mark.parametrize("case", CLI_CASES, ids=[c.name for c in CLI_CASES])
def test_cli_one_line_error_exit_2(case, ctx):
    _, argv = case.build(ctx)
    out = ctx.tmp / "o.h5"
    base = {"--kmesh": ["4", "4", "1"], "--temperature": ["300"], "--mu": ["0"], "--out": [str(out)]}
    for k, v in base.items():
        if k not in argv and not (k == "--mu" and "--mu-range" in argv):
            argv = argv + [k] + v
    proc = subprocess.run([sys.executable, "-m", "wbentropy.cli", "compute", *argv], capture_output=True,
                          text=True, timeout=120, cwd=ctx.tmp)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("wbentropy: error:")]
    assert len(lines) == 1, proc.stderr
    _check_message(lines[0], case)
    assert proc.stdout == ""
    assert not out.exists()


def test_corpus_size_and_documented():
    """At least 20 cases here (plus the text-file cases of test_w90text), each listed in docs/errors.md."""
    from test_w90text import CASES as TEXT_CASES

    assert len(CASES) >= 20 and len(CASES) + len(TEXT_CASES) >= 60
    doc = (ROOT / "docs" / "errors.md").read_text()
    missing = [c.name for c in CASES if f"`{c.name}`" not in doc]
    missing += [c.__name__[5:] for c in TEXT_CASES if f"`{c.__name__[5:]}`" not in doc]
    assert not missing, missing


def test_some_mu_outside_band_range_warns_and_computes():
    with pytest.warns(UserWarning, match=r"chemical potentials 9 eV lie outside the bands"):
        res = compute(model=load_model(tb=QWZ), quantities=["ahc"], temperatures=[0.0], mus=[-1.5, 9.0],
                      kmesh=(8, 8, 1))
    assert res["ahc"][0, 1, 0, 1] == pytest.approx(0.0, abs=1e-9)  # all bands full: no net curvature
    assert abs(res["ahc"][0, 0, 0, 1]) > 1.0


def test_temperature_zero_allowed_for_fermi_sea():
    """T = 0 K is allowed for Fermi-sea quantities (step occupations, s_n = 0)."""
    res = compute(model=load_model(tb=QWZ), quantities=["ahc", "entropy_hall"], temperatures=[0.0],
                  mus=[-1.5], kmesh=(8, 8, 1))
    assert abs(res["ahc"][0, 0, 0, 1]) > 1.0
    assert res["entropy_hall"][0, 0, 0, 1] == 0.0
