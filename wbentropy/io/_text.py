"""Shared pieces of the Wannier90 text formats: reading lines, parsing and checking numbers.

Every file is opened through :mod:`wbentropy.io._files` (regular files only, reads bounded by
what the header announces) and every number is checked where it is read: |R| <= ``R_MAX``
cells, lattice vectors within ``LATTICE_RANGE`` Angstrom, |H| <= ``H_MAX`` eV, |r| <=
``R_ELEMENT_MAX`` Angstrom.  Errors name the file and line.  The writers' shared layout
(the ``'(15I5)'`` degeneracy list, ``m n Re Im`` matrix lines) is here too.
"""
from __future__ import annotations

import itertools
import re
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..model import TBModel
from ._files import LINE_BYTES, SLACK_BYTES, Limit, read_input_bytes


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
