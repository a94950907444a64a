"""From arrays as read to a :class:`~wbentropy.model.TBModel`: the common tail of the readers.

H(R) is divided by the Wigner-Seitz degeneracies by the parsers, then checked and made exactly
Hermitian here, r(R) hermitised and, if a ``SEED_wsvec.dat`` is given, both expanded onto the
minimal-distance (MDRS) images (:mod:`wbentropy.io.wsvec`).
"""
from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..model import TBModel, hermitize_position
from ._rvectors import _minus_index
from .wsvec import _check_mdrs_hermitian, apply_mdrs, read_wsvec

logger = logging.getLogger(__name__)

_DEFAULT_HERMITICITY_TOL = 1e-6  # eV, absolute


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
