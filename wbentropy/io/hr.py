"""Read and write Wannier90's ``SEED_hr.dat`` and ``SEED_r.dat`` (the lattice comes from ``SEED.win``).

* ``hamiltonian_write_hr`` writes ``'(5I5,2F12.6)' irvec(:, irpt), j, i, ham_r(j, i, irpt)``
  after the ``ndegen`` list: row first, undivided (as in ``_tb.dat``, :mod:`wbentropy.io.tb`).
* ``hamiltonian_write_rmn`` (``_r.dat``) writes only a header, ``num_wann`` and ``nrpts`` --
  **no ndegen list** -- then ``'(5I5,6F12.6)' irvec(:, loop_rpt), n, m, position(:)`` where
  ``position`` is accumulated from ``m_matrix(n, m, nn, nkp)`` with ``fac = exp(-i
  k.R)/num_kpts`` and is *not* divided by ``ndegen``.  We therefore divide ``r`` by the
  ``_hr.dat`` degeneracy of the same R (the R lists are identical: both files are written from
  the same ``irvec``).
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..model import TBModel
from ._assemble import _DEFAULT_HERMITICITY_TOL, _abs, _finish, _Raw, _seed, _warn_missing_wsvec
from ._rvectors import _row_lookup, _unique_rows_in_order
from ._text import (_H_BOUND, _R_BOUND, _R_RANGE_WHY, R_MAX, _as_int, _check_magnitude, _counts_limit, _int_line,
                    _last_line, _matrix_lines, _ndegen_for, _ndegen_lines, _nonblank, _parse_rows, _read_lines,
                    _read_ndegen, _scatter)
from .win import _parse_win, _write_win

__all__ = ["read_hr", "write_hr"]

logger = logging.getLogger(__name__)

_HR_LIMIT = _counts_limit(2, 3, min_line_bytes=14, lines_per_element=1, lines_per_R=0)
_R_LIMIT = _counts_limit(2, 3, min_line_bytes=22, lines_per_element=1, lines_per_R=0)


def _parse_hr(hr_file: str | Path) -> _Raw:
    """Parse ``SEED_hr.dat``: header, num_wann, nrpts, ndegen, then 'R1 R2 R3 m n ReH ImH' lines."""
    path = str(hr_file)
    lines = _read_lines(path, comment_line=True, limit=_HR_LIMIT)
    toks = [line.split() for line in lines]
    nw = _int_line(toks, 1, path=path, what="num_wann")
    nrpts = _int_line(toks, 2, path=path, what="nrpts")
    ndegen, start = _read_ndegen(toks, 3, nrpts, path=path, stop_at_blank=False)
    body, linenos = _nonblank(toks, start)
    need = nrpts * nw * nw
    hint = f" (the file declares num_wann = {nw} at line 2 and nrpts = {nrpts} at line 3)"
    if len(body) < need:
        raise InputError(f"file is truncated: expected {need} data lines, found {len(body)}{hint}",
                         path=path, line=_last_line(toks))
    if len(body) > need:
        raise InputError(f"unexpected extra content after the last Hamiltonian entry{hint}",
                         path=path, line=int(linenos[need]))
    D = _parse_rows(body, linenos, 7, path=path, what="'R1 R2 R3 m n Re(H) Im(H)'", hint=hint)
    Rall = _as_int(D[:, :3], linenos, path=path, what="lattice vector component", bound=R_MAX, why=_R_RANGE_WHY)
    R, iR = _unique_rows_in_order(Rall)
    if len(R) != nrpts:
        raise InputError(f"the file contains {len(R)} distinct lattice vectors but declares nrpts = {nrpts}",
                         path=path, line=3)
    m = _as_int(D[:, 3], linenos, path=path, what="orbital index")
    n = _as_int(D[:, 4], linenos, path=path, what="orbital index")
    _check_magnitude(D[:, 5:], linenos, path=path, **_H_BOUND)
    H, H_lines = _scatter(iR, m, n, D[:, 5] + 1j * D[:, 6], R, nw, linenos, path=path, what="Hamiltonian")
    H = H / ndegen[:, None, None]
    return _Raw(lattice=np.full((3, 3), np.nan), R=R, ndegen=ndegen, H=H, r=None, H_lines=H_lines, path=path)


def _parse_r(r_file: str | Path, hr: _Raw) -> np.ndarray:
    """Parse ``SEED_r.dat`` against the R list and degeneracies of the matching ``_hr.dat``."""
    path = str(r_file)
    lines = _read_lines(path, comment_line=True, limit=_R_LIMIT)
    toks = [line.split() for line in lines]
    nw_hr = hr.H.shape[1]
    nw = _int_line(toks, 1, path=path, what="num_wann")
    if nw != nw_hr:
        raise InputError(f"num_wann = {nw} differs from num_wann = {nw_hr} in {hr.path}", path=path, line=2)
    nrpts = _int_line(toks, 2, path=path, what="nrpts")
    if nrpts != len(hr.R):
        raise InputError(f"nrpts = {nrpts} differs from nrpts = {len(hr.R)} in {hr.path}", path=path, line=3)
    body, linenos = _nonblank(toks, 3)
    need = nrpts * nw * nw
    if len(body) < need:
        raise InputError(f"file is truncated: expected {need} data lines for num_wann = {nw}, nrpts = {nrpts}, "
                         f"found {len(body)}", path=path, line=_last_line(toks))
    if len(body) > need:
        raise InputError("unexpected extra content after the last position entry", path=path,
                         line=int(linenos[need]))
    D = _parse_rows(body, linenos, 11, path=path,
                    what="'R1 R2 R3 m n Re x Im x Re y Im y Re z Im z'")
    Rall = _as_int(D[:, :3], linenos, path=path, what="lattice vector component", bound=R_MAX, why=_R_RANGE_WHY)
    iR = _row_lookup(hr.R, Rall)
    if (iR < 0).any():
        i = int(np.flatnonzero(iR < 0)[0])
        raise InputError(f"R = {tuple(Rall[i].tolist())} is not among the lattice vectors of {hr.path}",
                         path=path, line=int(linenos[i]))
    m = _as_int(D[:, 3], linenos, path=path, what="orbital index")
    n = _as_int(D[:, 4], linenos, path=path, what="orbital index")
    _check_magnitude(D[:, 5:], linenos, path=path, **_R_BOUND)
    r, _ = _scatter(iR, m, n, D[:, 5::2] + 1j * D[:, 6::2], hr.R, nw, linenos, path=path, what="position")
    # _r.dat carries no ndegen list and its values are not divided by it (hamiltonian_write_rmn)
    return r / hr.ndegen[:, None, None, None]


def read_hr(*, hr_file: str | Path, r_file: str | Path | None = None, wsvec_file: str | Path | None = None,
            win_file: str | Path | None = None, name: str | None = None,
            hermiticity_tol: float = _DEFAULT_HERMITICITY_TOL) -> TBModel:
    """Read ``SEED_hr.dat`` (+ optional ``SEED_r.dat``, ``SEED_wsvec.dat``) and the lattice from ``SEED.win``.

    Parameters
    ----------
    hr_file : str or Path
        The ``_hr.dat`` file.
    r_file : str or Path, optional
        The ``_r.dat`` file (same R list; values are divided by the ``_hr.dat`` ndegen,
        since Wannier90 writes them undivided and without a degeneracy list).
    wsvec_file : str or Path, optional
        MDRS image shifts, see :func:`read_tb`.
    win_file : str or Path
        ``SEED.win`` with the ``unit_cell_cart`` block; required (``_hr.dat`` has no lattice).
    name : str, optional
        Model label; default the seed name.
    hermiticity_tol : float
        See :func:`read_tb`.

    Returns
    -------
    TBModel
    """
    if win_file is None:
        raise InputError("the lattice is required but _hr.dat does not contain it: pass win_file (SEED.win)",
                         path=hr_file)
    if wsvec_file is None:
        _warn_missing_wsvec(hr_file, "_hr.dat")
    raw = _parse_hr(hr_file)
    lattice, win_nw, win_nw_line = _parse_win(win_file)
    nw = raw.H.shape[1]
    if win_nw is not None and win_nw != nw:
        raise InputError(f"num_wann = {win_nw} differs from num_wann = {nw} in {hr_file}", path=win_file,
                         line=win_nw_line)
    raw = _Raw(lattice=lattice, R=raw.R, ndegen=raw.ndegen, H=raw.H, r=None, H_lines=raw.H_lines, path=raw.path)
    if r_file is None:
        logger.warning("%s: no _r.dat given: position matrix elements r(R) are unknown, the Berry connection "
                       "is taken as zero (all orbitals at the cell origin); give --r SEED_r.dat", hr_file)
    r = None if r_file is None else _parse_r(r_file, raw)
    sources = {"primary": _abs(hr_file), "tb": "", "hr": _abs(hr_file), "r": _abs(r_file), "win": _abs(win_file),
               "wsvec": _abs(wsvec_file), "format": "hr"}
    return _finish(raw, r=r, wsvec_file=wsvec_file, name=name or _seed(hr_file, "_hr.dat"),
                   hermiticity_tol=hermiticity_tol, sources=sources)


def write_hr(*, model: TBModel, hr_path: str | Path, r_path: str | Path | None = None,
             win_path: str | Path | None = None, ndegen: np.ndarray | None = None,
             header: str = "written by wbentropy") -> None:
    """Write a model as Wannier90 ``SEED_hr.dat`` (+ ``SEED_r.dat``, + a minimal ``SEED.win``).

    Parameters
    ----------
    model : TBModel
        Model to write; H and r are multiplied by ``ndegen`` (``_r.dat`` carries no
        degeneracy list, as in Wannier90).
    hr_path : str or Path
        Output ``_hr.dat``.
    r_path : str or Path, optional
        Output ``_r.dat`` (requires ``model.r``).
    win_path : str or Path, optional
        Output ``.win`` holding only ``num_wann``, ``spinors`` (``.true.`` for a spin degeneracy of
        1, ``.false.`` for 2) and the ``unit_cell_cart`` block (Angstrom).
    ndegen : (nR,) int array, optional
        Wigner-Seitz degeneracies (default all 1).
    header : str
        First line of the data files.
    """
    ndegen = _ndegen_for(model, ndegen)
    nw, nR = model.num_wann, len(model.R)
    out = [" " + header, f" {nw:11d}", f" {nR:11d}"] + _ndegen_lines(ndegen)
    for i, R in enumerate(model.R):
        out += _matrix_lines(model.H[i] * ndegen[i], prefix="".join(f" {x:4d}" for x in R))
    Path(hr_path).write_text("\n".join(out) + "\n")
    if r_path is not None:
        if model.r is None:
            raise InputError("the model has no position matrix elements to write", path=r_path)
        out = [" " + header, f" {nw:11d}", f" {nR:11d}"]
        for i, R in enumerate(model.R):
            out += _matrix_lines(model.r[i] * ndegen[i], prefix="".join(f" {x:4d}" for x in R))
        Path(r_path).write_text("\n".join(out) + "\n")
    if win_path is not None:
        _write_win(model=model, path=win_path)
