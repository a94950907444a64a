"""Read and write Wannier90's text outputs: ``_tb.dat``, ``_hr.dat``, ``_r.dat``, ``_wsvec.dat``.

All readers return a :class:`~wbentropy.model.TBModel` whose arrays are final:
divided by the Wigner-Seitz degeneracies, made exactly Hermitian and, if a
``SEED_wsvec.dat`` is given, expanded onto the minimal-distance (MDRS) images.

Conventions, checked against the Wannier90 sources (v3.1 and the current
``develop`` branch, which agree on all of this):

* ``hamiltonian_write_tb`` (src/hamiltonian.F90) loops ``do irpt; do i; do j``
  and writes ``write(.., '(2I5,3x,2(E15.8,1x))') j, i, ham_r(j, i, irpt)``, so
  the *first* orbital column is the row index (and runs fastest).  Same for the
  position block, which writes ``j, i, pos_r(:)`` with ``pos_r`` built from
  ``m_matrix(j, i, nn, ik)`` (row j), i.e. ``<j 0|r|i R>``.  Neither block is
  divided by ``ndegen``; the ``ndegen`` list (``'(15I5)'``) precedes them.
  WannierBerri's ``get_system_tb`` reads it the same way (its
  ``.transpose((1, 0, 2))`` turns the loop order ``[i][j]`` back into ``[j, i]``).
* ``hamiltonian_write_hr`` writes ``'(5I5,2F12.6)' irvec(:, irpt), j, i,
  ham_r(j, i, irpt)`` after the ``ndegen`` list: again row first, undivided.
* ``hamiltonian_write_rmn`` (``_r.dat``) writes only a header, ``num_wann`` and
  ``nrpts`` -- **no ndegen list** -- then ``'(5I5,6F12.6)' irvec(:, loop_rpt),
  n, m, position(:)`` where ``position`` is accumulated from
  ``m_matrix(n, m, nn, nkp)`` with ``fac = exp(-i k.R)/num_kpts`` and is *not*
  divided by ``ndegen``.  We therefore divide ``r`` by the ``_hr.dat``
  degeneracy of the same R (the R lists are identical: both files are written
  from the same ``irvec``).
* ``ws_write_vec`` (src/ws_distance.F90) loops ``do irpt; do iw; do jw`` and
  writes ``irvec(:, irpt), iw, jw``, then ``ndeg(iw, jw, irpt)``, then the
  shifts ``irdist(:, ideg, iw, jw, irpt) - irvec(:, irpt)``.  ``irdist`` is the
  image of WF ``jw`` in cell R nearest to WF ``iw`` in cell 0 (``R_wz_sc(-c_iw +
  R + c_jw)``), and postw90 (``pw90common_fourier_R_to_k``) uses it as
  ``OO(i, j) += exp(2 pi i k.irdist(:, ideg, i, j, ir)) / (ndegen(ir) *
  ndeg(i, j, ir)) * OO_R(i, j, ir)``.  So the pair is (row, column), the shift
  T is additive (R -> R + T) and the element is split equally over the images.
  The same ``_wsvec.dat`` serves ``_hr.dat`` and ``_tb.dat`` (plot.F90 writes
  it once for ``write_hr .or. write_tb``); its header records
  ``use_ws_distance=.true./.false.`` (with ``.false.`` every shift is zero).
* Every file is opened through :mod:`wbentropy.io._files` (regular files only, reads
  bounded by what the header announces) and every number is checked where it is read:
  |R| <= ``R_MAX`` cells, lattice vectors within ``LATTICE_RANGE`` Angstrom, |H| <= ``H_MAX``
  eV, |r| <= ``R_ELEMENT_MAX`` Angstrom; a ``_wsvec.dat`` must cover exactly the model's
  (R, m, n) and keep H(R) Hermitian after the expansion.  Errors name the file and line.
* Lattices in ``.win`` given in ``bohr`` are converted with Wannier90's own
  Bohr radius (``bohr_angstrom_internal``, CODATA 2006 in constants.F90), so
  that ``read_hr`` reproduces the lattice Wannier90 writes into ``_tb.dat``.
"""
from __future__ import annotations

import itertools
import logging
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..model import TBModel, hermitize_position
from ._files import LINE_BYTES, SLACK_BYTES, Limit, read_input_bytes

__all__ = [
    "WSVec",
    "apply_mdrs",
    "read_hr",
    "read_tb",
    "read_win_lattice",
    "read_win_structure",
    "read_win_spinors",
    "read_wsvec",
    "write_hr",
    "write_tb",
    "write_wsvec",
]

logger = logging.getLogger(__name__)

#: Bohr radius in Angstrom as used by Wannier90 3.x to convert ``unit_cell_cart``
#: given in ``bohr`` (constants.F90, default CODATA 2006 block).  Deliberately not
#: taken from scipy.constants (CODATA 2022: 0.529177210544): this is a file-format
#: convention, and matching it reproduces Wannier90's own ``_tb.dat`` lattice.
W90_BOHR_ANGSTROM = 0.52917720859

_DEFAULT_HERMITICITY_TOL = 1e-6  # eV, absolute


# --------------------------------------------------------------------------- reading text
def _read_lines(path: str | Path, *, lenient_encoding: bool = False, comment_line: bool = False,
                limit=None) -> list[str]:
    """Read a text file (plain or gzip-compressed) into lines without terminators, with user-facing errors.

    Parameters
    ----------
    path : str or Path
        A regular file (see :func:`~wbentropy.io._files.read_input_bytes`).
    lenient_encoding : bool
        Decode non-UTF-8 text as latin-1 (free-text files such as ``.win``).
    comment_line : bool
        The first line is a free-text comment (Wannier90's header): any bytes are accepted
        there, while the data lines must still be UTF-8 text.
    limit : Limit or callable, optional
        Size bound, see :func:`~wbentropy.io._files.read_input_bytes`.
    """
    data = read_input_bytes(path, limit=limit)
    if not data.strip():
        raise InputError("file is empty", path=path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        text = _decode_leniently(data, exc, lenient=lenient_encoding, comment_line=comment_line)
        if text is None:
            line = data.count(b"\n", 0, exc.start) + 1
            raise InputError("not a text file (contains bytes that are not UTF-8 text)",
                             path=path, line=line) from None
    nul = text.find("\x00")
    if nul >= 0:
        raise InputError("not a text file (contains NUL bytes)", path=path, line=text.count("\n", 0, nul) + 1)
    return [line.rstrip("\r") for line in text.split("\n")]


def _decode_leniently(data: bytes, exc: UnicodeDecodeError, *, lenient: bool, comment_line: bool) -> str | None:
    """Text of ``data`` that is not UTF-8, where allowed; None where it is not."""
    if lenient and b"\x00" not in data:
        return data.decode("latin-1")
    end = data.find(b"\n")
    if not comment_line or end < 0 or exc.start > end or b"\x00" in data[:end]:
        return None  # the offending byte is in a data line (or the file is binary)
    try:
        rest = data[end:].decode("utf-8")
    except UnicodeDecodeError:
        return None
    return data[:end].decode("utf-8", errors="replace") + rest


#: Largest accepted |R| component, in cells.  Wannier90's R vectors span the Wigner-Seitz
#: supercell of the ab-initio k mesh (a few cells to a few tens); 10^4 would mean a k mesh of
#: 10^4 points along one direction.
R_MAX = 10_000
#: Largest accepted Wigner-Seitz degeneracy (the number of equidistant supercell images of an R).
NDEGEN_MAX = R_MAX
#: Accepted length of a lattice vector, Angstrom (a unit cell edge: 1e-3 .. 1e4).
LATTICE_RANGE = (1e-3, 1e4)
#: Largest accepted |Re| or |Im| of a Hamiltonian matrix element, eV (band widths are ~10 eV).
H_MAX = 1e6
#: Largest accepted |Re| or |Im| of a position matrix element, Angstrom.
R_ELEMENT_MAX = 1e6
_H_BOUND = dict(what="Hamiltonian matrix element", symbol="H", bound=H_MAX, unit="eV")
_R_BOUND = dict(what="position matrix element", symbol="r", bound=R_ELEMENT_MAX, unit="Angstrom")
#: Bytes allowed per (R, m, n) block of a _wsvec.dat (a header, a count and typically 1-8 shifts).
_WSVEC_BLOCK_BYTES = 8 * LINE_BYTES
_R_RANGE_WHY = (f"|R| <= {R_MAX} cells (Wannier90's lattice vectors span the Wigner-Seitz supercell of the "
                f"k mesh; more means a damaged file)")


def _header_counts(head: bytes, nw_line: int, nrpts_line: int) -> tuple[int, int] | None:
    """num_wann and nrpts from their header lines (1-based), or None if unreadable (the parser says why)."""
    lines = head.split(b"\n", max(nw_line, nrpts_line))
    try:
        nw, nrpts = int(lines[nw_line - 1].split()[0]), int(lines[nrpts_line - 1].split()[0])
    except (IndexError, ValueError):
        return None
    return (nw, nrpts) if nw > 0 and nrpts > 0 else None


def _counts_limit(nw_line: int, nrpts_line: int, *, min_line_bytes: int, lines_per_element: int,
                  lines_per_R: int):
    """Size bound of a file whose header gives num_wann and nrpts (see :mod:`wbentropy.io._files`).

    ``min_line_bytes`` is the shortest possible data line (its number of columns, each one
    character and a separator); the bound allows ``LINE_BYTES`` per expected line.
    """
    def limit(head: bytes) -> Limit | None:
        counts = _header_counts(head, nw_line, nrpts_line)
        if counts is None:
            return None
        nw, nrpts = counts
        elements = nrpts * nw * nw
        lines = lines_per_element * elements + lines_per_R * nrpts + nrpts // 15 + 10
        return Limit(max_bytes=lines * LINE_BYTES + SLACK_BYTES, min_bytes=elements * min_line_bytes,
                     what=f"num_wann = {nw} and nrpts = {nrpts}", source="in its header",
                     line=nw_line if nw * nw >= nrpts else nrpts_line)
    return limit


_TB_LIMIT = _counts_limit(5, 6, min_line_bytes=8, lines_per_element=2, lines_per_R=4)
_HR_LIMIT = _counts_limit(2, 3, min_line_bytes=14, lines_per_element=1, lines_per_R=0)
_R_LIMIT = _counts_limit(2, 3, min_line_bytes=22, lines_per_element=1, lines_per_R=0)


def _check_lattice(lattice: np.ndarray, linenos: np.ndarray, *, path: str) -> None:
    """Every lattice vector between LATTICE_RANGE[0] and LATTICE_RANGE[1] Angstrom long (no overflow)."""
    lo, hi = LATTICE_RANGE
    scale = np.abs(lattice).max(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        length = scale * np.linalg.norm(np.where(scale[:, None] > 0, lattice / scale[:, None], 0.0), axis=1)
    bad = np.flatnonzero(~((length >= lo) & (length <= hi)))
    if bad.size:
        i = int(bad[0])
        raise InputError(f"lattice vector of length {length[i]:.1e} Angstrom is outside {lo:g} .. {hi:g} Angstrom "
                         f"(a unit cell edge; check the numbers and the unit)", path=path, line=int(linenos[i]))


def _check_magnitude(values: np.ndarray, linenos: np.ndarray, *, path: str, what: str, symbol: str,
                     bound: float, unit: str) -> None:
    """No entry of ``values`` (one row per line) larger than ``bound`` in magnitude."""
    big = (np.abs(values) > bound).reshape(len(linenos), -1)
    if big.any():
        i = int(np.flatnonzero(big.any(axis=1))[0])
        v = float(np.abs(values.reshape(len(linenos), -1)[i][big[i]][0]))
        raise InputError(f"{what} of magnitude {v:.3g} {unit} is out of range: |{symbol}| <= {bound:.0e} {unit} "
                         f"(a damaged file?)", path=path, line=int(linenos[i]))


_FORTRAN_EXP = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+))([+-]\d{2,4})$")


def _to_float(token: str) -> float:
    """float() that also accepts Fortran's exponent forms ``1.0D+00`` and ``0.12-100``."""
    try:
        return float(token)
    except ValueError:
        fixed = token.replace("D", "E").replace("d", "e")
        m = _FORTRAN_EXP.match(fixed)
        if m:
            fixed = m.group(1) + "E" + m.group(2)
        return float(fixed)  # raises ValueError if still not a number


def _parse_rows(toks: list[list[str]], linenos: np.ndarray, ncols: int, *, path: str, what: str,
                hint: str = "") -> np.ndarray:
    """Parse whitespace-split lines with exactly ``ncols`` numbers each into a float array.

    Fast path: one ``np.array(..., dtype=float)`` over all tokens; the offending line
    is located only if that fails.  NaN/Inf are rejected.
    """
    lens = np.fromiter((len(t) for t in toks), dtype=np.intp, count=len(toks))
    bad = np.flatnonzero(lens != ncols)
    if bad.size:
        i = int(bad[0])
        raise InputError(f"expected {ncols} columns ({what}), found {lens[i]}{hint}",
                         path=path, line=int(linenos[i]))
    flat = list(itertools.chain.from_iterable(toks))
    try:
        values = np.array(flat, dtype=float)
    except ValueError:
        rows = []
        for t, ln in zip(toks, linenos):
            try:
                rows.append([_to_float(x) for x in t])
            except ValueError:
                bad_token = next(x for x in t if not _is_number(x))
                raise InputError(f"non-numeric entry {bad_token!r} where {what} was expected",
                                 path=path, line=int(ln)) from None
        values = np.array(rows, dtype=float)
    values = values.reshape(len(toks), ncols)
    finite = np.isfinite(values).all(axis=1)
    if not finite.all():
        i = int(np.flatnonzero(~finite)[0])
        raise InputError(f"NaN or Inf in {what}", path=path, line=int(linenos[i]))
    return values


def _is_number(token: str) -> bool:
    try:
        _to_float(token)
    except ValueError:
        return False
    return True


def _as_int(values: np.ndarray, linenos: np.ndarray, *, path: str, what: str, bound: int = 2**31,
            why: str = "") -> np.ndarray:
    """Integer-valued float array (one row per line) -> int array; error at the first non-integer entry
    or the first entry larger than ``bound`` in magnitude (``why`` explains the bound)."""
    rows = values.reshape(len(linenos), -1)
    bad = rows != np.round(rows)
    if bad.any():
        i = int(np.flatnonzero(bad.any(axis=1))[0])
        raise InputError(f"{what} must be an integer, found {float(rows[i][bad[i]][0]):g}", path=path,
                         line=int(linenos[i]))
    big = np.abs(rows) > bound
    if big.any():
        i = int(np.flatnonzero(big.any(axis=1))[0])
        v = float(rows[i][big[i]][0])
        shown = f"{v:.0f}" if abs(v) < 1e15 else f"{v:g}"
        raise InputError(f"{what} {shown} is out of range: {why or f'|value| <= {bound}'}", path=path,
                         line=int(linenos[i]))
    return values.astype(np.int64)


def _int_line(toks: list[list[str]], idx: int, *, path: str, what: str) -> int:
    """A line holding a single positive integer (num_wann, nrpts)."""
    if idx >= len(toks) or not toks[idx]:
        raise InputError(f"file is truncated or malformed: expected {what} on this line",
                         path=path, line=min(idx + 1, len(toks)))
    t = toks[idx]
    try:
        value = int(t[0])
    except ValueError:
        raise InputError(f"expected {what} (a positive integer), found {t[0]!r}", path=path, line=idx + 1) from None
    if len(t) != 1 or value <= 0:
        raise InputError(f"expected {what} (a single positive integer), found {' '.join(t)!r}",
                         path=path, line=idx + 1)
    return value


def _read_ndegen(toks: list[list[str]], start: int, nrpts: int, *, path: str,
                 stop_at_blank: bool) -> tuple[np.ndarray, int]:
    """Read the ``'(15I5)'`` degeneracy list; returns (ndegen, index of the next line)."""
    values: list[str] = []
    token_lines: list[int] = []
    idx = start
    while len(values) < nrpts:
        if idx >= len(toks):
            raise InputError(f"file ends inside the list of Wigner-Seitz degeneracies (found {len(values)} "
                             f"of nrpts = {nrpts})", path=path, line=len(toks))
        t = toks[idx]
        if not t:
            if stop_at_blank and values:
                raise InputError(f"the list of Wigner-Seitz degeneracies has {len(values)} entries but "
                                 f"nrpts = {nrpts}", path=path, line=idx + 1)
            idx += 1
            continue
        values.extend(t)
        token_lines.extend([idx + 1] * len(t))
        idx += 1
    if len(values) != nrpts:
        raise InputError(f"the list of Wigner-Seitz degeneracies has more entries than nrpts = {nrpts} "
                         f"(or nrpts is wrong)", path=path, line=token_lines[nrpts])
    ndegen = np.empty(nrpts, dtype=np.int64)
    for k, (v, ln) in enumerate(zip(values, token_lines)):
        try:
            value = int(v)
        except ValueError:
            raise InputError(f"Wigner-Seitz degeneracy must be an integer, found {v!r}", path=path, line=ln) from None
        if value <= 0:
            raise InputError(f"Wigner-Seitz degeneracy must be positive, found {v}", path=path, line=ln)
        if value > NDEGEN_MAX:
            raise InputError(f"Wigner-Seitz degeneracy {v} is out of range: ndegen <= {NDEGEN_MAX} (it counts "
                             f"equidistant supercell images, a handful)", path=path, line=ln)
        ndegen[k] = value
    return ndegen, idx


def _nonblank(toks: list[list[str]], start: int) -> tuple[list[list[str]], np.ndarray]:
    """Non-blank lines from ``start`` on, with their 1-based line numbers."""
    idx = [i for i in range(start, len(toks)) if toks[i]]
    return [toks[i] for i in idx], np.array(idx, dtype=np.int64) + 1


def _last_line(toks: list[list[str]]) -> int:
    for i in range(len(toks) - 1, -1, -1):
        if toks[i]:
            return i + 1
    return 1


# --------------------------------------------------------------------------- R-vector helpers
def _row_lookup(table: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Index of each query row in ``table`` (rows unique), -1 where absent. Vectorised."""
    table = np.asarray(table, dtype=np.int64).reshape(-1, 3)
    queries = np.asarray(queries, dtype=np.int64).reshape(-1, 3)
    if queries.shape[0] == 0 or table.shape[0] == 0:
        return np.full(queries.shape[0], -1, dtype=np.int64)
    lo = min(table.min(), queries.min())
    base = int(max(table.max(), queries.max()) - lo + 1)

    def key(a: np.ndarray) -> np.ndarray:
        a = a - lo
        return (a[:, 0] * base + a[:, 1]) * base + a[:, 2]

    if base ** 3 >= 2 ** 62:  # absurdly large R: fall back to a dictionary
        index = {tuple(v): i for i, v in enumerate(table.tolist())}
        return np.array([index.get(tuple(v), -1) for v in queries.tolist()], dtype=np.int64)
    kt, kq = key(table), key(queries)
    order = np.argsort(kt, kind="stable")
    sorted_keys = kt[order]
    pos = np.clip(np.searchsorted(sorted_keys, kq), 0, len(kt) - 1)
    return np.where(sorted_keys[pos] == kq, order[pos], -1)


def _minus_index(R: np.ndarray) -> np.ndarray:
    """For each R, the index of -R (or -1)."""
    return _row_lookup(R, -np.asarray(R))


def _unique_rows_in_order(R: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of R in order of first appearance, and the index of each row into them."""
    _, first, inverse = np.unique(R, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return R[first[order]], rank[inverse]


def _check_distinct(R: np.ndarray, linenos: np.ndarray, *, path: str) -> None:
    _, first, inverse = np.unique(R, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    dup = np.flatnonzero(first[inverse] != np.arange(len(R)))
    if dup.size:
        i = int(dup[0])
        raise InputError(f"lattice vector R = {tuple(R[i].tolist())} appears twice", path=path, line=int(linenos[i]))


def _scatter(iR: np.ndarray, m: np.ndarray, n: np.ndarray, values: np.ndarray, R: np.ndarray, nw: int,
             linenos: np.ndarray, *, path: str, what: str,
             missing_line: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Place values[k] at [iR[k], m[k]-1, n[k]-1] checking that every element occurs exactly once.

    Returns the (nR, nw, nw, ...) array and the (nR, nw, nw) map of source line numbers.  A
    missing element is reported at the first entry that follows it in Wannier90's order (R,
    then m, then n), or at ``missing_line`` if none does.
    """
    nR = len(R)
    for col, label in ((m, "first orbital index"), (n, "second orbital index")):
        bad = (col < 1) | (col > nw)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(f"{label} {col[i]} is out of range 1..num_wann={nw}", path=path, line=int(linenos[i]))
    flat = (iR * nw + (m - 1)) * nw + (n - 1)
    counts = np.bincount(flat, minlength=nR * nw * nw)
    if (counts > 1).any():
        order = np.argsort(flat, kind="stable")
        sf = flat[order]
        k = int(order[np.flatnonzero(sf[1:] == sf[:-1])[0] + 1])
        raise InputError(f"duplicate {what} entry for R = {tuple(R[iR[k]].tolist())}, (m, n) = ({m[k]}, {n[k]})",
                         path=path, line=int(linenos[k]))
    if (counts == 0).any():
        e = int(np.flatnonzero(counts == 0)[0])
        jR, mm, nn = np.unravel_index(e, (nR, nw, nw))
        later = np.flatnonzero(flat > e)
        line = int(linenos[later[np.argmin(flat[later])]]) if later.size else missing_line
        raise InputError(f"no {what} entry for R = {tuple(R[jR].tolist())}, (m, n) = ({mm + 1}, {nn + 1})",
                         path=path, line=line)
    out = np.zeros((nR * nw * nw,) + values.shape[1:], dtype=values.dtype)
    out[flat] = values
    linemap = np.zeros(nR * nw * nw, dtype=np.int64)
    linemap[flat] = linenos
    return out.reshape((nR, nw, nw) + values.shape[1:]), linemap.reshape(nR, nw, nw)


# --------------------------------------------------------------------------- raw parsers
@dataclass(frozen=True)
class _Raw:
    """Arrays as read from file(s), divided by ndegen but not symmetrised or MDRS-expanded."""

    lattice: np.ndarray
    R: np.ndarray
    ndegen: np.ndarray
    H: np.ndarray
    r: np.ndarray | None
    H_lines: np.ndarray  # (nR, nw, nw) line numbers of the H entries
    path: str


def _parse_tb(tb_file: str | Path) -> _Raw:
    """Parse ``SEED_tb.dat`` (see module docstring for the layout)."""
    path = str(tb_file)
    lines = _read_lines(path, comment_line=True, limit=_TB_LIMIT)
    toks = [line.split() for line in lines]
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
    body, linenos = _nonblank(toks, start)
    block = 1 + nw * nw
    need = nrpts * block
    hint = f" (the file declares num_wann = {nw} at line 5 and nrpts = {nrpts} at line 6)"
    # layout check first, so that a wrong num_wann/nrpts is reported where it shows
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
                         f"num_wann = {nw}, nrpts = {nrpts}, found {len(body)}", path=path, line=_last_line(toks))
    if len(body) == need:
        has_r = False
        logger.warning("%s has no position block; r(R) is unknown (Berry connection taken as zero)", path)
    elif len(body) < 2 * need:
        raise InputError(f"file is truncated inside the position section: expected {2 * need} non-blank data "
                         f"lines for num_wann = {nw}, nrpts = {nrpts}, found {len(body)}",
                         path=path, line=_last_line(toks))
    elif len(body) > 2 * need:
        raise InputError(f"unexpected extra content after the position section{hint}",
                         path=path, line=int(linenos[2 * need]))
    else:
        has_r = True

    def section(offset: int, ncols: int, what: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        r_pos = offset + np.arange(nrpts) * block
        m_pos = (r_pos[:, None] + 1 + np.arange(nw * nw)[None, :]).reshape(-1)
        R = _parse_rows([body[k] for k in r_pos], linenos[r_pos], 3, path=path,
                        what="a lattice vector 'R1 R2 R3'", hint=hint)
        R = _as_int(R, linenos[r_pos], path=path, what="lattice vector component", bound=R_MAX, why=_R_RANGE_WHY)
        M = _parse_rows([body[k] for k in m_pos], linenos[m_pos], ncols, path=path, what=what, hint=hint)
        return R, linenos[r_pos], M, linenos[m_pos]

    R, R_lines, M, M_lines = section(0, 4, "'m n Re Im' of H")
    _check_distinct(R, R_lines, path=path)
    iR = np.repeat(np.arange(nrpts), nw * nw)
    m = _as_int(M[:, 0], M_lines, path=path, what="orbital index")
    n = _as_int(M[:, 1], M_lines, path=path, what="orbital index")
    _check_magnitude(M[:, 2:], M_lines, path=path, **_H_BOUND)
    H, H_lines = _scatter(iR, m, n, M[:, 2] + 1j * M[:, 3], R, nw, M_lines, path=path, what="Hamiltonian")
    H = H / ndegen[:, None, None]
    r = None
    if has_r:
        R2, R2_lines, A, A_lines = section(need, 8, "'m n Re x Im x Re y Im y Re z Im z' of r")
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


def _parse_win(win_file: str | Path) -> tuple[np.ndarray, int | None, int | None]:
    """Lattice (rows, Angstrom) from the ``unit_cell_cart`` block of a ``.win``; num_wann and its line if given."""
    path = str(win_file)
    lines = _read_lines(path, lenient_encoding=True)
    clean = [re.split(r"[!#]", line, maxsplit=1)[0].strip() for line in lines]
    begin = end = None
    num_wann = num_wann_line = None
    for i, c in enumerate(clean):
        low = c.lower()
        if begin is None and re.fullmatch(r"begin\s+unit_cell_cart", low):
            begin = i
        elif begin is not None and end is None and re.fullmatch(r"end\s+unit_cell_cart", low):
            end = i
        mw = re.match(r"num_wann\s*(?:[=:]\s*|\s+)(\S+)", low)
        if mw:
            try:
                num_wann, num_wann_line = int(mw.group(1)), i + 1
            except ValueError:
                raise InputError(f"num_wann must be an integer, found {mw.group(1)!r}", path=path, line=i + 1) from None
    if begin is None:
        raise InputError("no 'begin unit_cell_cart' block: the lattice vectors are required", path=path)
    if end is None:
        raise InputError("'begin unit_cell_cart' is not closed by 'end unit_cell_cart'", path=path, line=begin + 1)
    entries = [(i, clean[i].split()) for i in range(begin + 1, end) if clean[i]]
    scale = 1.0
    if entries and entries[0][1][0][:1].isalpha():
        i, t = entries[0]
        unit = t[0].lower()
        if len(t) == 1 and unit.startswith("bohr"):
            scale = W90_BOHR_ANGSTROM
        elif len(t) == 1 and unit.startswith("ang"):
            scale = 1.0
        else:
            raise InputError(f"unknown unit {' '.join(t)!r} in unit_cell_cart (expected 'ang' or 'bohr')",
                             path=path, line=i + 1)
        entries = entries[1:]
    if len(entries) != 3:
        raise InputError(f"unit_cell_cart must contain 3 lattice vectors, found {len(entries)}",
                         path=path, line=begin + 1)
    rows = np.array([i + 1 for i, _ in entries])
    lattice = _parse_rows([t for _, t in entries], rows, 3, path=path, what="a lattice vector") * scale
    _check_lattice(lattice, rows, path=path)
    if abs(np.linalg.det(lattice)) < 1e-8 * max(np.prod(np.linalg.norm(lattice, axis=1)), 1e-300):
        raise InputError("lattice vectors in unit_cell_cart are linearly dependent: the cell volume is zero",
                         path=path, line=begin + 1)
    return lattice, num_wann, num_wann_line


def read_win_lattice(*, win_file: str | Path) -> np.ndarray:
    """Real-space lattice from the ``unit_cell_cart`` block of a Wannier90 ``.win`` file.

    Parameters
    ----------
    win_file : str or Path
        ``SEED.win``; keywords are case-insensitive, ``!`` and ``#`` start comments, an
        optional first line ``bohr`` or ``ang`` gives the unit (default Angstrom).

    Returns
    -------
    (3, 3) float array
        Lattice vectors as rows, in Angstrom.
    """
    return _parse_win(win_file)[0]


def read_win_spinors(*, win_file: str | Path) -> tuple[bool | None, int | None]:
    """The ``spinors`` keyword of a Wannier90 ``.win`` file.

    Parameters
    ----------
    win_file : str or Path
        ``SEED.win``; keywords are case-insensitive, ``=``, ``:`` or blanks separate a keyword
        from its value, ``!`` and ``#`` start comments.  Fortran logicals: ``T``, ``.true.``,
        ``true`` (any word starting with ``t`` or ``.t``) and likewise ``F``, ``.false.``.

    Returns
    -------
    (value, line)
        True or False and its 1-based line number; ``(None, None)`` if the keyword is absent
        (Wannier90's default is ``.false.``).
    """
    path = str(win_file)
    for i, line in enumerate(_read_lines(path, lenient_encoding=True)):
        clean = re.split(r"[!#]", line, maxsplit=1)[0].strip().lower()
        if re.fullmatch(r"spinors\s*[=:]?", clean):
            raise InputError("spinors has no value (expected .true. or .false.)", path=path, line=i + 1)
        m = re.fullmatch(r"spinors\s*(?:[=:]\s*|\s+)(\S+)", clean)
        if m is None:
            continue
        word = m.group(1).removeprefix(".")
        if word[:1] in ("t", "f"):
            return word[0] == "t", i + 1
        raise InputError(f"spinors must be .true. or .false., found {m.group(1)!r}", path=path, line=i + 1)
    return None, None


# --------------------------------------------------------------------------- MDRS
@dataclass(frozen=True, eq=False)
class WSVec:
    """Minimal-distance replica (MDRS) data of a ``SEED_wsvec.dat`` file.

    Element ``X_mn(R_i)`` is replaced by ``X_mn(R_i) / ndeg[i, m, n]`` at each
    ``R_i + T`` for the ``ndeg[i, m, n]`` shifts T listed for it.

    Parameters
    ----------
    R : (nR, 3) int array
        The lattice vectors the data refer to (order of the Hamiltonian file).
    ndeg : (nR, nw, nw) int array
        Number of images of each element (>= 1).
    owner : (nshift,) int array
        Flat index ``(i * nw + m) * nw + n`` of the element each shift belongs to.
    shifts : (nshift, 3) int array
        The shifts T (reduced coordinates), additive: the image sits at R + T.
    use_ws_distance : bool or None
        Flag read from the header (None if the header does not say).
    header : str
        The file's first line.
    path : str
        Source file ("" if built in memory).
    block_lines : (nR, nw, nw) int array, optional
        Line of the block header of each element in ``path`` (for error messages).
    """

    R: np.ndarray
    ndeg: np.ndarray
    owner: np.ndarray
    shifts: np.ndarray
    use_ws_distance: bool | None = None
    header: str = ""
    path: str = ""
    block_lines: np.ndarray | None = None  # (nR, nw, nw) line of each block header in ``path``

    @property
    def num_wann(self) -> int:
        """Number of Wannier functions."""
        return self.ndeg.shape[1]

    @property
    def is_trivial(self) -> bool:
        """True if every element has the single shift T = 0 (MDRS does nothing)."""
        return bool(np.all(self.ndeg == 1) and not np.any(self.shifts))


def read_wsvec(*, wsvec_file: str | Path, num_wann: int, R: np.ndarray) -> WSVec:
    """Read ``SEED_wsvec.dat`` and align it with the R list of the Hamiltonian file.

    Parameters
    ----------
    wsvec_file : str or Path
        File written by Wannier90's ``ws_write_vec``: a header line, then for every
        (R, m, n) a line ``R1 R2 R3 m n`` (1-based, row m, column n), a line with the
        number of images and that many lines ``T1 T2 T3``.
    num_wann : int
        Number of Wannier functions of the Hamiltonian file.
    R : (nR, 3) int array
        Lattice vectors of the Hamiltonian file; every (R, m, n) must be present.

    Returns
    -------
    WSVec
    """
    path = str(wsvec_file)
    R = np.asarray(R, dtype=np.int64).reshape(-1, 3)
    nw = int(num_wann)
    nR = len(R)
    lines = _read_lines(path, comment_line=True, limit=Limit(
        max_bytes=nR * nw * nw * _WSVEC_BLOCK_BYTES + SLACK_BYTES, what=f"num_wann = {nw} and the {nR} lattice vectors",
        source="of the Hamiltonian file", hint="the _wsvec.dat of another model, or a damaged file?"))
    toks = [line.split() for line in lines]
    first = toks[0]
    header = lines[0].strip()
    start = 1
    if len(first) == 5 and all(re.fullmatch(r"[+-]?\d+", x) for x in first):
        header, start = "", 0  # no header line
    flag = re.search(r"use_ws_distance\s*=\s*\.?(true|false|t|f)\b", header, flags=re.IGNORECASE)
    use_ws = None if flag is None else flag.group(1).lower().startswith("t")
    body, linenos = _nonblank(toks, start)
    if not body:
        raise InputError("no data after the header line", path=path, line=_last_line(toks))
    lens = np.fromiter((len(t) for t in body), dtype=np.int64, count=len(body))
    bad = np.flatnonzero((lens != 1) & (lens != 3) & (lens != 5))
    if bad.size:
        i = int(bad[0])
        raise InputError(f"expected 'R1 R2 R3 m n', a count or 'T1 T2 T3' (5, 1 or 3 integers), found "
                         f"{lens[i]} columns", path=path, line=int(linenos[i]))
    flat = list(itertools.chain.from_iterable(body))
    try:
        values = np.array(flat, dtype=np.int64)
    except (ValueError, OverflowError):
        for t, ln in zip(body, linenos):
            for x in t:
                if not re.fullmatch(r"[+-]?\d+", x) or abs(int(x)) >= 2**62:
                    raise InputError(f"expected an integer, found {x!r}", path=path, line=int(ln)) from None
        raise InputError("unreadable content", path=path) from None  # not reached: some token failed above
    nl = len(body)
    table = np.zeros((nl, 5), dtype=np.int64)
    offsets = np.cumsum(lens) - lens
    rows = np.repeat(np.arange(nl), lens)
    cols = np.arange(values.size) - np.repeat(offsets, lens)
    table[rows, cols] = values

    # ---- structure: [5-int header, 1-int count, count x 3-int shift] repeated (vectorised check)
    hdr = np.flatnonzero(lens == 5)
    if hdr.size == 0 or hdr[0] != 0:
        raise InputError("expected a block header 'R1 R2 R3 m n'", path=path, line=int(linenos[0]))
    cnt = hdr + 1
    if cnt[-1] >= nl:
        raise InputError("file is truncated after the last block header", path=path, line=int(linenos[-1]))
    bad = np.flatnonzero(lens[cnt] != 1)
    if bad.size:
        i = int(cnt[bad[0]])
        raise InputError("expected the number of images (one integer) after the block header",
                         path=path, line=int(linenos[i]))
    nT = table[cnt, 0]
    bad = np.flatnonzero(nT < 1)
    if bad.size:
        i = int(cnt[bad[0]])
        raise InputError(f"number of images must be positive, found {nT[bad[0]]}", path=path, line=int(linenos[i]))
    ends = hdr + 2 + nT
    nxt = np.append(hdr[1:], nl)
    bad = np.flatnonzero(ends != nxt)
    if bad.size:
        j = int(bad[0])
        if ends[j] > nxt[j] and j == len(hdr) - 1:
            raise InputError(f"file is truncated inside the block starting at line {linenos[hdr[j]]}",
                             path=path, line=int(linenos[-1]))
        if ends[j] > nxt[j]:
            raise InputError(f"the block starting at line {linenos[hdr[j]]} announces {nT[j]} images "
                             f"but only {nxt[j] - hdr[j] - 2} follow", path=path, line=int(linenos[nxt[j]]))
        raise InputError("expected a block header 'R1 R2 R3 m n'", path=path, line=int(linenos[ends[j]]))
    is_shift = np.ones(nl, dtype=bool)
    is_shift[hdr] = False
    is_shift[cnt] = False
    bad = np.flatnonzero(is_shift & (lens != 3))
    if bad.size:
        i = int(bad[0])
        raise InputError("expected an image shift 'T1 T2 T3'", path=path, line=int(linenos[i]))

    # ---- contents
    Rb, mb, nb = table[hdr, :3], table[hdr, 3], table[hdr, 4]
    hdr_lines = linenos[hdr]
    top = max(int(mb.max()), int(nb.max()))
    if top > nw:
        i = int(np.flatnonzero((mb > nw) | (nb > nw))[0])
        raise InputError(f"orbital index {max(mb[i], nb[i])} exceeds num_wann = {nw} of the Hamiltonian file "
                         f"(files do not belong together)", path=path, line=int(hdr_lines[i]))
    if top < nw:
        raise InputError(f"the file describes {top} Wannier functions but the Hamiltonian file has "
                         f"num_wann = {nw} (files do not belong together)", path=path, line=int(hdr_lines[-1]))
    iR = _row_lookup(R, Rb)
    if (iR < 0).any():
        i = int(np.flatnonzero(iR < 0)[0])
        raise InputError(f"R = {tuple(Rb[i].tolist())} is not among the {nR} lattice vectors of the Hamiltonian "
                         f"file (nrpts inconsistent?)", path=path, line=int(hdr_lines[i]))
    nblk = len(hdr)
    ndeg, block_lines = _scatter(iR, mb, nb, nT, R, nw, hdr_lines, path=path, what="wsvec",
                                 missing_line=_last_line(toks))
    flat_index = (iR * nw + (mb - 1)) * nw + (nb - 1)
    owner = np.repeat(flat_index, nT)
    shifts = table[is_shift, :3]
    _as_int(shifts, linenos[is_shift], path=path, what="image shift component", bound=R_MAX,
            why=_R_RANGE_WHY.replace("|R|", "|T|"))
    logger.debug("read %s: %d blocks, %d shifts, use_ws_distance=%s", path, nblk, len(shifts), use_ws)
    return WSVec(R=R.copy(), ndeg=ndeg, owner=owner, shifts=shifts, use_ws_distance=use_ws, header=header,
                 path=path, block_lines=block_lines)


def apply_mdrs(*, R: np.ndarray, mats: list, wsvec: WSVec) -> tuple[np.ndarray, list]:
    """Expand real-space matrices onto their minimal-distance images.

    For every element X_mn(R) with images T_1..T_d (``d = wsvec.ndeg``), X_mn(R)/d is
    added at R + T_k for each k; so ``sum_R exp(2 pi i k.R) X(R)`` after expansion is
    postw90's MDRS Fourier sum.  Vectorised: one ``np.add.at`` per matrix.

    Parameters
    ----------
    R : (nR, 3) int array
        Lattice vectors; must equal ``wsvec.R``.
    mats : list of arrays (nR, nw, nw, ...) or None
        Matrices to expand (e.g. H and r); None entries are passed through.
    wsvec : WSVec
        From :func:`read_wsvec`.

    Returns
    -------
    R_new : (nR', 3) int array
        The original R (same order) followed by the new ones, in order of first appearance.
    mats_new : list
        Expanded arrays (nR', nw, nw, ...), zero where no element lands.
    """
    R = np.asarray(R, dtype=np.int64).reshape(-1, 3)
    if R.shape != wsvec.R.shape or np.any(R != wsvec.R):
        raise InputError("the wsvec data refer to a different list of lattice vectors", path=wsvec.path or None)
    nR, nw = len(R), wsvec.num_wann
    e = wsvec.owner
    iR = e // (nw * nw)
    m = (e // nw) % nw
    n = e % nw
    R_new, rank = _unique_rows_in_order(np.concatenate([R, R[iR] + wsvec.shifts]))
    target = (rank[nR:] * nw + m) * nw + n
    weight = 1.0 / wsvec.ndeg.reshape(-1)[e]
    out = []
    for X in mats:
        if X is None:
            out.append(None)
            continue
        X = np.asarray(X)
        if X.shape[:3] != (nR, nw, nw):
            raise InputError(f"matrix of shape {X.shape} does not match nR = {nR}, num_wann = {nw}",
                             path=wsvec.path or None)
        extra = X.shape[3:]
        src = X.reshape(nR * nw * nw, -1)[e] * weight[:, None]
        acc = np.zeros((len(R_new) * nw * nw, src.shape[1]), dtype=np.result_type(X.dtype, float))
        np.add.at(acc, target, src)
        out.append(acc.reshape((len(R_new), nw, nw) + extra))
    return R_new, out


def _check_mdrs_hermitian(R: np.ndarray, H: np.ndarray, ws: WSVec, *, tol: float) -> None:
    """H(R) after the MDRS expansion must stay Hermitian, else the shifts belong to another model.

    The images of (R, m, n) and of (-R, n, m) are opposite in a consistent ``_wsvec.dat``;
    an element whose partner is absent counts against a partner of zero.  The error names the
    first block (lowest line) whose images land on the offending element or on its partner.
    """
    nw = H.shape[1]
    minus = _minus_index(R)
    partner = np.zeros_like(H)
    has = minus >= 0
    partner[has] = np.conj(np.swapaxes(H[minus[has]], 1, 2))
    dev = np.abs(H - partner)
    err = float(dev.max())
    if err <= tol:
        return
    i, m, n = np.unravel_index(int(np.argmax(dev)), dev.shape)
    bad = {(i * nw + m) * nw + n}
    if minus[i] >= 0:
        bad.add((minus[i] * nw + n) * nw + m)
    e = ws.owner
    image = _row_lookup(R, ws.R[e // (nw * nw)] + ws.shifts)
    target = (image * nw + (e // nw) % nw) * nw + e % nw
    owners = e[np.isin(target, list(bad))]
    line = None
    if ws.block_lines is not None and owners.size:
        line = int(ws.block_lines.reshape(-1)[owners].min())
    raise InputError(f"the image shifts do not belong to this model: after the MDRS expansion H(R) is not "
                     f"Hermitian (|H_mn(R) - H_nm(-R)^*| = {err:.3e} eV > {tol:g} eV at R = {tuple(R[i].tolist())}, "
                     f"(m, n) = ({m + 1}, {n + 1})); the blocks of (R, m, n) and (-R, n, m) must list opposite "
                     f"shifts. Is this _wsvec.dat from another Wannier90 run?", path=ws.path or None, line=line)


def write_wsvec(*, wsvec: WSVec, path: str | Path) -> None:
    """Write MDRS data in Wannier90's ``SEED_wsvec.dat`` format (loops R, m, n; n fastest)."""
    nR, nw = len(wsvec.R), wsvec.num_wann
    order = np.argsort(wsvec.owner, kind="stable")
    starts = np.searchsorted(wsvec.owner[order], np.arange(nR * nw * nw))
    flag = ".false." if wsvec.is_trivial else ".true."
    out = [f"## written by wbentropy with use_ws_distance={flag}"]
    for e in range(nR * nw * nw):
        i, m, n = np.unravel_index(e, (nR, nw, nw))
        out.append("".join(f" {x:4d}" for x in (*wsvec.R[i], m + 1, n + 1)))
        d = int(wsvec.ndeg[i, m, n])
        out.append(f" {d:4d}")
        for T in wsvec.shifts[order[starts[e]:starts[e] + d]]:
            out.append("".join(f" {x:4d}" for x in T))
    Path(path).write_text("\n".join(out) + "\n")


# --------------------------------------------------------------------------- public readers
def _seed(path: str | Path, suffix: str) -> str:
    name = Path(path).name.removesuffix(".gz")
    return name[: -len(suffix)] if name.endswith(suffix) and len(name) > len(suffix) else Path(path).stem


def _warn_missing_wsvec(path: str | Path, suffix: str) -> None:
    p = Path(path)
    gz = p.name.endswith(".gz")
    base = p.name.removesuffix(".gz")
    if not base.endswith(suffix):
        return
    candidate = p.with_name(base[: -len(suffix)] + "_wsvec.dat" + (".gz" if gz else ""))
    if candidate.exists():
        from ..errors import InputWarning

        msg = (f"{candidate} exists but was not given: the MDRS (use_ws_distance) correction is NOT applied to "
               f"{p.name}; on coarse ab-initio k grids interpolated quantities can then be very wrong. Give it "
               f"with --wsvec {candidate} (Python: load_model(..., wsvec=...)) to apply it.")
        logger.warning(msg)
        warnings.warn(msg, InputWarning, stacklevel=3)


def _finish(raw: _Raw, *, r: np.ndarray | None, wsvec_file: str | Path | None, name: str,
            hermiticity_tol: float, sources: dict) -> TBModel:
    """Common tail of the readers: Hermiticity, hermitisation of r, MDRS, TBModel."""
    R, H = raw.R, raw.H
    nw = H.shape[1]
    minus = _minus_index(R)
    if (minus < 0).any():
        i = int(np.flatnonzero(minus < 0)[0])
        raise InputError(f"the lattice vectors contain R = {tuple(R[i].tolist())} but not -R; cannot check or "
                         f"impose Hermiticity", path=raw.path)
    dev = np.abs(H - np.conj(np.swapaxes(H[minus], 1, 2)))
    err = float(dev.max())
    if err > hermiticity_tol:
        i, m, n = np.unravel_index(int(np.argmax(dev)), dev.shape)
        raise InputError(f"the Hamiltonian is not Hermitian: |H_mn(R) - H_nm(-R)^*| = {err:.3e} eV > "
                         f"hermiticity_tol = {hermiticity_tol:g} eV at R = {tuple(R[i].tolist())}, "
                         f"(m, n) = ({m + 1}, {n + 1})", path=raw.path, line=int(raw.H_lines[i, m, n]))
    H = 0.5 * (H + np.conj(np.swapaxes(H[minus], 1, 2)))
    logger.debug("%s: symmetrised H(R) (max deviation from Hermiticity was %.3e eV)", raw.path, err)
    sources["H_hermiticity_error"] = f"{err:.3e}"
    if r is not None:
        # Hermitise r on the original R set, before the MDRS expansion (Wannier90's
        # finite-difference r(R) is Hermitian only to O(b^2)).
        r_h = hermitize_position(R, r)
        change = float(np.max(np.abs(r_h - r)))
        logger.debug("%s: hermitised r(R); max change %.3e Angstrom", raw.path, change)
        sources["r_hermitization_change"] = f"{change:.3e}"
        r = r_h
    sources["mdrs"] = "no"
    if wsvec_file is not None:
        ws = read_wsvec(wsvec_file=wsvec_file, num_wann=nw, R=R)
        if ws.is_trivial:
            logger.info("%s lists no image shifts (use_ws_distance=%s): MDRS changes nothing",
                        wsvec_file, ws.use_ws_distance)
        else:
            R, (H, r) = apply_mdrs(R=R, mats=[H, r], wsvec=ws)
            sources["mdrs"] = "yes"
            logger.debug("%s: MDRS expansion %d -> %d lattice vectors", raw.path, len(raw.R), len(R))
            _check_mdrs_hermitian(R, H, ws, tol=hermiticity_tol)
    model = TBModel(lattice=raw.lattice, R=R, H=H, r=r, name=name, sources=sources)
    logger.info("read %s: num_wann = %d, %d lattice vectors, r: %s, MDRS: %s", raw.path, nw, len(model.R),
                "yes" if r is not None else "no", sources["mdrs"])
    return model


def _abs(path: str | Path | None) -> str:
    return "" if path is None else str(Path(path).resolve())


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


# --------------------------------------------------------------------------- writers
def _ndegen_for(model: TBModel, ndegen: np.ndarray | None) -> np.ndarray:
    nR = len(model.R)
    if ndegen is None:
        return np.ones(nR, dtype=np.int64)
    ndegen = np.asarray(ndegen, dtype=np.int64).reshape(-1)
    if ndegen.shape != (nR,) or np.any(ndegen <= 0):
        raise InputError(f"ndegen must be {nR} positive integers, got shape {ndegen.shape}")
    return ndegen


def _ndegen_lines(ndegen: np.ndarray) -> list[str]:
    return ["".join(f" {d:4d}" for d in ndegen[i:i + 15]) for i in range(0, len(ndegen), 15)]


def _matrix_lines(X: np.ndarray, prefix: str = "") -> list[str]:
    """Lines 'm n Re Im ...' of one (nw, nw[, 3]) matrix in Wannier90 order (row m fastest)."""
    nw = X.shape[0]
    Xc = X.reshape(nw, nw, -1)
    out = []
    for n in range(nw):
        for m in range(nw):
            nums = " ".join(f"{v.real: .16e} {v.imag: .16e}" for v in Xc[m, n])
            out.append(f"{prefix} {m + 1:4d} {n + 1:4d}   {nums}")
    return out


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
        rows = ["".join(f" {x: .16e}" for x in row) for row in model.lattice]
        spinors = ".true." if model.spin_degeneracy == 1 else ".false."
        text = ["! written by wbentropy (lattice and spinors only)", f"num_wann = {nw}", f"spinors = {spinors}", "",
                "begin unit_cell_cart", "ang",
                *rows, "end unit_cell_cart"]
        Path(win_path).write_text("\n".join(text) + "\n")


def _win_block(clean: list[str], name: str, *, path: str) -> tuple[int, list[tuple[int, list[str]]]] | None:
    """(line of 'begin NAME', [(line, tokens)] of its non-blank lines) or None if the block is absent."""
    begin = next((i for i, c in enumerate(clean) if re.fullmatch(rf"begin\s+{name}", c.lower())), None)
    if begin is None:
        return None
    end = next((i for i in range(begin + 1, len(clean)) if re.fullmatch(rf"end\s+{name}", clean[i].lower())), None)
    if end is None:
        raise InputError(f"'begin {name}' is not closed by 'end {name}'", path=path, line=begin + 1)
    return begin + 1, [(i + 1, clean[i].split()) for i in range(begin + 1, end) if clean[i]]


def read_win_structure(*, win_file: str | Path) -> dict:
    """Crystal structure and projections of a Wannier90 ``.win`` file, for symmetrization.

    Parameters
    ----------
    win_file : str or Path
        ``SEED.win`` with ``unit_cell_cart``, ``atoms_frac`` or ``atoms_cart`` and ``projections``.

    Returns
    -------
    dict
        ``lattice`` (3, 3) rows in Angstrom; ``atom_names`` list of str; ``positions`` (n_atoms, 3)
        reduced coordinates; ``projections`` list of str (one per line of the block, e.g.
        ``"Fe:sp3d2;t2g"``); ``spinors`` bool.

    Raises
    ------
    InputError
        Naming the file when a block is missing or malformed.
    """
    path = str(win_file)
    lattice = _parse_win(path)[0]
    clean = [re.split(r"[!#]", line, maxsplit=1)[0].strip() for line in _read_lines(path, lenient_encoding=True)]
    frac, cart = _win_block(clean, "atoms_frac", path=path), _win_block(clean, "atoms_cart", path=path)
    if frac is None and cart is None:
        raise InputError("no 'begin atoms_frac' or 'begin atoms_cart' block: the atoms are required to "
                         "symmetrize the model", path=path)
    begin, entries = frac if frac is not None else cart
    scale = 1.0
    if cart is not None and frac is None and entries and len(entries[0][1]) == 1:
        scale = W90_BOHR_ANGSTROM if entries[0][1][0].lower().startswith("bohr") else 1.0
        entries = entries[1:]
    if not entries:
        raise InputError("the atoms block lists no atom", path=path, line=begin)
    bad = next(((i, t) for i, t in entries if len(t) != 4 or not all(_is_number(x) for x in t[1:])), None)
    if bad is not None:
        raise InputError(f"an atom line must be 'NAME x y z', found {' '.join(bad[1])!r}", path=path, line=bad[0])
    names = [t[0] for _, t in entries]
    xyz = np.array([[_to_float(x) for x in t[1:]] for _, t in entries])
    positions = xyz if frac is not None else (xyz * scale) @ np.linalg.inv(lattice)
    proj = _win_block(clean, "projections", path=path)
    if proj is None or not proj[1]:
        raise InputError("no 'begin projections' block: the orbital character of the Wannier functions is "
                         "required to symmetrize the model", path=path)
    projections = []
    for i, t in proj[1]:
        text = "".join(t)
        if ":" not in text or text.split(":")[0] not in names:
            raise InputError(f"cannot use projection {text!r}: give 'ATOM:orbitals' for an atom of the atoms block "
                             "(random or bond-centred projections cannot be symmetrized)", path=path, line=i)
        projections.append(":".join(text.split(":")[:2]))
    spinors, _ = read_win_spinors(win_file=path)
    return {"lattice": lattice, "atom_names": names, "positions": positions, "projections": projections,
            "spinors": bool(spinors)}
