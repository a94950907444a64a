"""Minimal-distance replicas (MDRS): read, apply and write Wannier90's ``SEED_wsvec.dat``.

``ws_write_vec`` (src/ws_distance.F90) loops ``do irpt; do iw; do jw`` and writes
``irvec(:, irpt), iw, jw``, then ``ndeg(iw, jw, irpt)``, then the shifts ``irdist(:, ideg, iw,
jw, irpt) - irvec(:, irpt)``.  ``irdist`` is the image of WF ``jw`` in cell R nearest to WF
``iw`` in cell 0 (``R_wz_sc(-c_iw + R + c_jw)``), and postw90 (``pw90common_fourier_R_to_k``)
uses it as ``OO(i, j) += exp(2 pi i k.irdist(:, ideg, i, j, ir)) / (ndegen(ir) * ndeg(i, j,
ir)) * OO_R(i, j, ir)``.  So the pair is (row, column), the shift T is additive (R -> R + T)
and the element is split equally over the images.  The same ``_wsvec.dat`` serves ``_hr.dat``
and ``_tb.dat`` (plot.F90 writes it once for ``write_hr .or. write_tb``); its header records
``use_ws_distance=.true./.false.`` (with ``.false.`` every shift is zero).  A ``_wsvec.dat``
must cover exactly the model's (R, m, n) and keep H(R) Hermitian after the expansion.
"""
from __future__ import annotations

import itertools
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError
from ._files import LINE_BYTES, SLACK_BYTES, Limit
from ._rvectors import _minus_index, _row_lookup, _unique_rows_in_order
from ._text import _R_RANGE_WHY, R_MAX, _as_int, _last_line, _nonblank, _read_lines, _scatter

__all__ = ["WSVec", "apply_mdrs", "read_wsvec", "write_wsvec"]

logger = logging.getLogger(__name__)

#: Bytes allowed per (R, m, n) block of a _wsvec.dat (a header, a count and typically 1-8 shifts).
_WSVEC_BLOCK_BYTES = 8 * LINE_BYTES


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
    header, start = _wsvec_header(lines, toks)
    flag = re.search(r"use_ws_distance\s*=\s*\.?(true|false|t|f)\b", header, flags=re.IGNORECASE)
    use_ws = None if flag is None else flag.group(1).lower().startswith("t")
    body, linenos = _nonblank(toks, start)
    if not body:
        raise InputError("no data after the header line", path=path, line=_last_line(toks))
    lens, table = _wsvec_table(body, linenos, path=path)
    hdr, nT, is_shift = _wsvec_blocks(lens, table, linenos, path=path)
    Rb, mb, nb = table[hdr, :3], table[hdr, 3], table[hdr, 4]
    hdr_lines = linenos[hdr]
    iR = _wsvec_blocks_in_model(Rb, mb, nb, hdr_lines, R=R, nw=nw, path=path)
    ndeg, block_lines = _scatter(iR, mb, nb, nT, R, nw, hdr_lines, path=path, what="wsvec",
                                 missing_line=_last_line(toks))
    flat_index = (iR * nw + (mb - 1)) * nw + (nb - 1)
    owner = np.repeat(flat_index, nT)
    shifts = table[is_shift, :3]
    _as_int(shifts, linenos[is_shift], path=path, what="image shift component", bound=R_MAX,
            why=_R_RANGE_WHY.replace("|R|", "|T|"))
    logger.debug("read %s: %d blocks, %d shifts, use_ws_distance=%s", path, len(hdr), len(shifts), use_ws)
    return WSVec(R=R.copy(), ndeg=ndeg, owner=owner, shifts=shifts, use_ws_distance=use_ws, header=header,
                 path=path, block_lines=block_lines)


def _wsvec_header(lines: list[str], toks: list[list[str]]) -> tuple[str, int]:
    """The header line ("" if the file starts with a block header) and the index of the first data line."""
    first = toks[0]
    if len(first) == 5 and all(re.fullmatch(r"[+-]?\d+", x) for x in first):
        return "", 0  # no header line
    return lines[0].strip(), 1


def _wsvec_table(body: list[list[str]], linenos: np.ndarray, *, path: str) -> tuple[np.ndarray, np.ndarray]:
    """Number of integers on each line (5, 1 or 3) and the integers as an (nlines, 5) table (zero-padded)."""
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
    return lens, table


def _wsvec_blocks(lens: np.ndarray, table: np.ndarray, linenos: np.ndarray, *,
                  path: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Check the structure [5-int header, 1-int count, count x 3-int shift] repeated (vectorised).

    Returns the index of each block header, each block's number of images and the mask of shift lines.
    """
    nl = len(lens)
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
    return hdr, nT, is_shift


def _wsvec_blocks_in_model(Rb: np.ndarray, mb: np.ndarray, nb: np.ndarray, hdr_lines: np.ndarray, *,
                           R: np.ndarray, nw: int, path: str) -> np.ndarray:
    """Index into ``R`` of each block's lattice vector, after checking that the blocks fit the model."""
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
        raise InputError(f"R = {tuple(Rb[i].tolist())} is not among the {len(R)} lattice vectors of the "
                         f"Hamiltonian file (nrpts inconsistent?)", path=path, line=int(hdr_lines[i]))
    return iR


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
