"""Read and write Wannier90's ``SEED_tb.dat`` (lattice, H(R) and r(R) in one file).

``hamiltonian_write_tb`` (src/hamiltonian.F90, Wannier90 v3.1 and ``develop`` agree) loops
``do irpt; do i; do j`` and writes ``write(.., '(2I5,3x,2(E15.8,1x))') j, i, ham_r(j, i,
irpt)``, so the *first* orbital column is the row index (and runs fastest).  Same for the
position block, which writes ``j, i, pos_r(:)`` with ``pos_r`` built from ``m_matrix(j, i, nn,
ik)`` (row j), i.e. ``<j 0|r|i R>``.  Neither block is divided by ``ndegen``; the ``ndegen``
list (``'(15I5)'``) precedes them.  WannierBerri's ``get_system_tb`` reads it the same way (its
``.transpose((1, 0, 2))`` turns the loop order ``[i][j]`` back into ``[j, i]``).
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..model import TBModel
from ._assemble import _DEFAULT_HERMITICITY_TOL, _abs, _finish, _Raw, _seed, _warn_missing_wsvec
from ._text import (_H_BOUND, _R_BOUND, _R_RANGE_WHY, R_MAX, _as_int, _check_distinct, _check_lattice,
                    _check_magnitude, _counts_limit, _int_line, _last_line, _matrix_lines, _ndegen_for, _ndegen_lines,
                    _nonblank, _parse_rows, _read_lines, _read_ndegen, _scatter)

__all__ = ["read_tb", "write_tb"]

logger = logging.getLogger(__name__)

_TB_LIMIT = _counts_limit(5, 6, min_line_bytes=8, lines_per_element=2, lines_per_R=4)


def _parse_tb(tb_file: str | Path) -> _Raw:
    """Parse ``SEED_tb.dat`` (see module docstring for the layout)."""
    path = str(tb_file)
    lines = _read_lines(path, comment_line=True, limit=_TB_LIMIT)
    toks = [line.split() for line in lines]
    lattice, nw, nrpts, ndegen, start = _tb_header(toks, path=path)
    body, linenos = _nonblank(toks, start)
    hint = f" (the file declares num_wann = {nw} at line 5 and nrpts = {nrpts} at line 6)"
    has_r = _tb_layout(body, linenos, nw=nw, nrpts=nrpts, last_line=_last_line(toks), path=path, hint=hint)
    section = dict(body=body, linenos=linenos, nw=nw, nrpts=nrpts, path=path, hint=hint)
    R, R_lines, M, M_lines = _tb_section(offset=0, ncols=4, what="'m n Re Im' of H", **section)
    _check_distinct(R, R_lines, path=path)
    iR = np.repeat(np.arange(nrpts), nw * nw)
    m = _as_int(M[:, 0], M_lines, path=path, what="orbital index")
    n = _as_int(M[:, 1], M_lines, path=path, what="orbital index")
    _check_magnitude(M[:, 2:], M_lines, path=path, **_H_BOUND)
    H, H_lines = _scatter(iR, m, n, M[:, 2] + 1j * M[:, 3], R, nw, M_lines, path=path, what="Hamiltonian")
    H = H / ndegen[:, None, None]
    r = None
    if has_r:
        R2, R2_lines, A, A_lines = _tb_section(offset=nrpts * (1 + nw * nw), ncols=8,
                                               what="'m n Re x Im x Re y Im y Re z Im z' of r", **section)
        mismatch = np.flatnonzero(np.any(R2 != R, axis=1))
        if mismatch.size:
            i = int(mismatch[0])
            raise InputError(f"R = {tuple(R2[i].tolist())} in the position section does not match "
                             f"R = {tuple(R[i].tolist())} of the Hamiltonian section", path=path,
                             line=int(R2_lines[i]))
        m = _as_int(A[:, 0], A_lines, path=path, what="orbital index")
        n = _as_int(A[:, 1], A_lines, path=path, what="orbital index")
        _check_magnitude(A[:, 2:], A_lines, path=path, **_R_BOUND)
        r, _ = _scatter(iR, m, n, A[:, 2::2] + 1j * A[:, 3::2], R, nw, A_lines, path=path, what="position")
        r = r / ndegen[:, None, None, None]
    return _Raw(lattice=lattice, R=R, ndegen=ndegen, H=H, r=r, H_lines=H_lines, path=path)


def _tb_header(toks: list[list[str]], *, path: str) -> tuple[np.ndarray, int, int, np.ndarray, int]:
    """Lattice, num_wann, nrpts, ndegen and the index of the first line after the degeneracy list."""
    if len(toks) < 7:
        raise InputError("file is truncated: a _tb.dat file starts with a header line, 3 lattice vectors, "
                         "num_wann, nrpts and the degeneracy list", path=path, line=_last_line(toks))
    lattice = _parse_rows([toks[i] for i in (1, 2, 3)], np.array([2, 3, 4]), 3, path=path,
                          what="a lattice vector in Angstrom")
    _check_lattice(lattice, np.array([2, 3, 4]), path=path)
    if abs(np.linalg.det(lattice)) < 1e-8 * max(np.prod(np.linalg.norm(lattice, axis=1)), 1e-300):
        raise InputError("lattice vectors (lines 2-4) are linearly dependent: the cell volume is zero",
                         path=path, line=2)
    nw = _int_line(toks, 4, path=path, what="num_wann")
    nrpts = _int_line(toks, 5, path=path, what="nrpts")
    ndegen, start = _read_ndegen(toks, 6, nrpts, path=path, stop_at_blank=True)
    return lattice, nw, nrpts, ndegen, start


def _tb_layout(body: list[list[str]], linenos: np.ndarray, *, nw: int, nrpts: int, last_line: int, path: str,
               hint: str) -> bool:
    """Check the column counts and the number of data lines; True if the position block is present.

    The layout is checked before any number, so that a wrong num_wann/nrpts is reported where it shows.
    """
    block = 1 + nw * nw
    need = nrpts * block
    lens = np.fromiter((len(t) for t in body), dtype=np.intp, count=len(body))
    k = np.arange(min(len(body), 2 * need))
    expected = np.where(k % block == 0, 3, np.where(k >= need, 8, 4))
    bad = np.flatnonzero(lens[: k.size] != expected)
    if bad.size:
        i = int(bad[0])
        what = {3: "a lattice vector 'R1 R2 R3'", 4: "'m n Re Im' of H",
                8: "'m n Re x Im x Re y Im y Re z Im z' of r"}[int(expected[i])]
        raise InputError(f"expected {expected[i]} columns ({what}), found {lens[i]}{hint}",
                         path=path, line=int(linenos[i]))
    if len(body) < need:
        raise InputError(f"file is truncated: the Hamiltonian section needs {need} non-blank lines for "
                         f"num_wann = {nw}, nrpts = {nrpts}, found {len(body)}", path=path, line=last_line)
    if len(body) == need:
        logger.warning("%s has no position block; r(R) is unknown (Berry connection taken as zero)", path)
        return False
    if len(body) < 2 * need:
        raise InputError(f"file is truncated inside the position section: expected {2 * need} non-blank data "
                         f"lines for num_wann = {nw}, nrpts = {nrpts}, found {len(body)}",
                         path=path, line=last_line)
    if len(body) > 2 * need:
        raise InputError(f"unexpected extra content after the position section{hint}",
                         path=path, line=int(linenos[2 * need]))
    return True


def _tb_section(*, body: list[list[str]], linenos: np.ndarray, offset: int, ncols: int, what: str, nw: int,
                nrpts: int, path: str, hint: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """R vectors and 'm n values' rows of one section (H or r) starting at non-blank line ``offset``.

    Returns (R, their line numbers, rows of ``ncols`` numbers, their line numbers).
    """
    r_pos = offset + np.arange(nrpts) * (1 + nw * nw)
    m_pos = (r_pos[:, None] + 1 + np.arange(nw * nw)[None, :]).reshape(-1)
    R = _parse_rows([body[k] for k in r_pos], linenos[r_pos], 3, path=path,
                    what="a lattice vector 'R1 R2 R3'", hint=hint)
    R = _as_int(R, linenos[r_pos], path=path, what="lattice vector component", bound=R_MAX, why=_R_RANGE_WHY)
    M = _parse_rows([body[k] for k in m_pos], linenos[m_pos], ncols, path=path, what=what, hint=hint)
    return R, linenos[r_pos], M, linenos[m_pos]


def read_tb(*, tb_file: str | Path, wsvec_file: str | Path | None = None, name: str | None = None,
            hermiticity_tol: float = _DEFAULT_HERMITICITY_TOL) -> TBModel:
    """Read a Wannier90 ``SEED_tb.dat`` (optionally with ``SEED_wsvec.dat``).

    Parameters
    ----------
    tb_file : str or Path
        The ``_tb.dat`` file (lattice, ndegen, <m0|H|nR> and <m0|r|nR>).
    wsvec_file : str or Path, optional
        The ``_wsvec.dat`` of the same run; if given, H and r are expanded onto the
        MDRS images (after hermitisation).  If absent but the file exists next to
        ``tb_file``, a warning is emitted.
    name : str, optional
        Model label; default the seed name.
    hermiticity_tol : float
        Largest accepted ``|H_mn(R) - H_nm(-R)^*|`` in eV (absolute); within it H is
        symmetrised, beyond it an :class:`InputError` is raised.

    Returns
    -------
    TBModel
        H divided by ndegen and symmetrised, r hermitised (:func:`hermitize_position`)
        before the MDRS expansion; ``r`` is None if the file has no position block.
    """
    if wsvec_file is None:
        _warn_missing_wsvec(tb_file, "_tb.dat")
    raw = _parse_tb(tb_file)
    sources = {"primary": _abs(tb_file), "tb": _abs(tb_file), "hr": "", "r": "", "win": "",
               "wsvec": _abs(wsvec_file), "format": "tb"}
    return _finish(raw, r=raw.r, wsvec_file=wsvec_file, name=name or _seed(tb_file, "_tb.dat"),
                   hermiticity_tol=hermiticity_tol, sources=sources)


def write_tb(*, model: TBModel, path: str | Path, ndegen: np.ndarray | None = None,
             header: str = "written by wbentropy") -> None:
    """Write a model in Wannier90's ``SEED_tb.dat`` layout (full double precision).

    Parameters
    ----------
    model : TBModel
        Its (final) H and r are written multiplied by ``ndegen``; the position block is
        omitted if ``model.r`` is None.
    path : str or Path
        Output file.
    ndegen : (nR,) int array, optional
        Wigner-Seitz degeneracies to write (default all 1).
    header : str
        First line.
    """
    ndegen = _ndegen_for(model, ndegen)
    out = [" " + header]
    out += ["".join(f" {x: .16e}" for x in row) for row in model.lattice]
    out += [f" {model.num_wann:11d}", f" {len(model.R):11d}"]
    out += _ndegen_lines(ndegen)
    blocks = [model.H] if model.r is None else [model.H, model.r]
    for X in blocks:
        for i, R in enumerate(model.R):
            out.append("")
            out.append("".join(f" {x:4d}" for x in R))
            out += _matrix_lines(X[i] * ndegen[i])
    Path(path).write_text("\n".join(out) + "\n")
