"""Read a Wannier90 checkpoint (``SEED.chk`` + ``.eig`` + ``.mmn``) through WannierBerri.

WannierBerri does the physics here: it rotates the ab-initio energies and
overlaps into the Wannier gauge, Fourier transforms them to R and applies the
minimal-distance (MDRS) replica method, exactly as postw90 does with
``use_ws_distance = true`` and ``ws_distance_tol = 1e-5``.  This module only
converts WannierBerri's real-space arrays to :class:`~wbentropy.model.TBModel`.

How WannierBerri lays out its data (version 26.x, ``System_R``)
---------------------------------------------------------------
* ``system.rvec.iRvec`` (nR, 3) is ONE common list of lattice vectors: the
  union over all Wannier pairs (m, n) of the MDRS images of the shift
  ``t_n - t_m`` (``Rvectors.set_Rvec``; ``t`` are the Wannier centres of the
  ``.chk`` in reduced coordinates).  Entries of pair (m, n) at an R that is not
  one of its images are zero, and entries at an image carry the 1/degeneracy
  weight already (``remap_XX_from_grid_to_list_R``).
* ``get_R_mat('Ham')[iR, m, n]`` (eV) and ``get_R_mat('AA')[iR, m, n, a]``
  (Angstrom, Cartesian a) are indexed like our arrays.  WannierBerri's "phase
  convention I" puts the centres into the Bloch phase,
  ``X^I_mn(k) = sum_R exp(i k.(R + t_n - t_m)) X_mn(R)``; since
  ``exp(i k.(R + t_n - t_m)) = exp(-i k.t_m) exp(i k.R) exp(i k.t_n)`` the very
  same arrays give our convention II by dropping the centre phases, and
  ``H^I(k) = e^{-ik.t_m} H^II(k) e^{ik.t_n}`` (same eigenvalues).  (WannierBerri's
  FFT itself also omits the phase and only uses ``R + t_n - t_m`` in k-derivatives.)
* The Berry connection differs by the centre itself,
  ``A^I_mn(k) = e^{ik.(t_n - t_m)} [A^II_mn(k) - t_n delta_mn]``, hence
  ``r^II_mn(R) = AA_mn(R) + t_n delta_mn delta_{R,0}``.  WannierBerri's
  ``AA_nn(R=0)`` is NOT zero (up to 0.011 Angstrom for Fe: its convention-I
  finite-difference formula differs from the Marzari-Vanderbilt centres in the
  ``.chk``), so :attr:`TBModel.centres` equals WannierBerri's
  ``wannier_centers_cart + diag AA(R=0)``, not the ``.chk`` centres.
* WannierBerri hermitises ``AA`` in R space when it builds it
  (``set_R_mat(..., Hermitian=True)``) and again in k space; the raw
  finite-difference ``AA`` for Fe is non-Hermitian by up to 0.18 Angstrom
  (rms 0.008).  The arrays read here are therefore already Hermitian; we still
  apply :func:`~wbentropy.model.hermitize_position` (idempotent) so that the
  invariant does not depend on the WannierBerri version.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..model import TBModel, hermitize_position
from ._files import LINE_BYTES, SLACK_BYTES, Limit, check_regular, read_input_bytes

__all__ = ["import_wannierberri", "read_chk", "read_eig"]

logger = logging.getLogger(__name__)

#: Wigner-Seitz distance tolerance, Angstrom (WannierBerri's and postw90's default).
WS_DISTANCE_TOL = 1e-5


def read_chk(*, seed: str | Path, name: str | None = None) -> TBModel:
    """Build a :class:`TBModel` from ``SEED.chk``, ``SEED.eig`` and ``SEED.mmn``.

    Parameters
    ----------
    seed : str or Path
        Path prefix of the Wannier90 files, e.g. ``"run/Fe"`` for ``run/Fe.chk``.
        ``SEED.nnkp`` is used for the b-vectors when present; otherwise they are
        rebuilt from the k-mesh in the checkpoint (identical for Fe).
    name : str, optional
        Label of the model; default: the seed's file name.

    Returns
    -------
    TBModel
        H(R) and r(R) in convention II, on WannierBerri's MDRS list of R vectors,
        without symmetrisation.

    Raises
    ------
    InputError
        If a file is missing or unreadable, or the files are inconsistent.
    """
    seed = Path(seed)
    paths = {ext: seed.with_name(f"{seed.name}.{ext}") for ext in ("chk", "eig", "mmn", "nnkp")}
    needed = {"chk": "the Wannier gauge", "eig": "the band energies (Hamiltonian)",
              "mmn": "the Berry connection (position matrix elements)"}
    for ext, why in needed.items():
        if not os.path.lexists(paths[ext]):
            raise InputError(f"Wannier90 .{ext} file not found; it is needed for {why} with --w90 SEED",
                             path=paths[ext])
    for ext in paths:  # WannierBerri opens them: a FIFO would block it, a device never end
        if ext in needed or os.path.lexists(paths[ext]):
            check_regular(paths[ext])

    wandata = _read_wannier_data(seed, paths)
    system = _build_system(wandata, paths)
    R, H, r = _convert(system)
    logger.debug("read %s through WannierBerri: %d Wannier functions, %d R vectors, mp_grid %s",
                 paths["chk"], H.shape[1], R.shape[0], tuple(wandata.mp_grid))
    wb_version = import_wannierberri().__version__

    sources = {
        "primary": str(paths["chk"]),
        "chk": str(paths["chk"]),
        "eig": str(paths["eig"]),
        "mmn": str(paths["mmn"]),
        "nnkp": str(paths["nnkp"]) if paths["nnkp"].is_file() else None,
        "reader": f"wannierberri {wb_version} System_R.from_wannierdata",
        "mdrs": "yes",
        "ws_distance_tol": WS_DISTANCE_TOL,
        "symmetrized": False,
        "hermitized_r": True,
        "mp_grid": [int(x) for x in wandata.mp_grid],
    }
    return TBModel(lattice=np.array(system.real_lattice, dtype=float), R=R, H=H, r=r,
                   name=seed.name if name is None else name, sources=sources)


def _read_wannier_data(seed: Path, paths: dict):
    """WannierBerri's ``WannierData`` with chk, eig and mmn, read file by file.

    This is what ``WannierData.from_w90_files(files=("chk", "eig", "mmn"))``
    does, split up so that every failure names the file responsible.
    """
    wb = import_wannierberri()
    from wannierberri.w90files.bkvectors import BKVectors
    from wannierberri.w90files.eig import EIG
    from wannierberri.w90files.mmn import MMN

    prefix = str(seed)
    use_nnkp = paths["nnkp"].is_file()
    for ext in ("chk", "eig", "mmn"):
        if paths[ext].stat().st_size == 0:
            raise InputError("the file is empty", path=paths[ext])
    try:
        wandata = wb.w90files.WannierData.from_w90_files(seedname=prefix, files=("chk",), readnnkp=False)
    except Exception as err:  # fortio / numpy / assertion errors from a damaged file
        raise InputError(f"cannot read the Wannier90 checkpoint (truncated, or not a Fortran unformatted .chk "
                         f"written by wannier90): {_describe(err)}", path=paths["chk"]) from err
    chk = wandata.chk
    if not getattr(chk, "wannierised", True) or getattr(chk, "v_matrix", None) is None:
        raise InputError("the checkpoint holds no Wannier gauge (was wannier90 run?)", path=paths["chk"])

    if use_nnkp:
        _check_nnkp_matches_chk(paths["nnkp"], chk, paths["chk"])
        try:
            bkvec = BKVectors.from_nnkp(str(paths["nnkp"]), kmesh_tol=1e-5, bk_complete_tol=1e-5,
                                        real_lattice=chk.real_lattice)
        except Exception as err:
            raise InputError(f"cannot read the b-vectors: {_describe(err)}", path=paths["nnkp"]) from err
        wandata.unset_file("bkvec")  # replace the b-vectors rebuilt from the chk k-mesh
        wandata.set_file("bkvec", bkvec)

    energies = read_eig(path=paths["eig"], num_bands=chk.num_bands, num_kpts=chk.num_kpts, chk_name=paths["chk"].name)
    _set_file(wandata, "eig", EIG(data={ik: energies[ik] for ik in range(chk.num_kpts)}, NK=chk.num_kpts),
              paths["eig"])

    try:
        mmn = MMN.from_w90_file(prefix, bkvec=wandata.bkvec, npar=1)
    except Exception as err:
        raise InputError(f"cannot read overlap matrices (truncated or damaged .mmn?): {_describe(err)}",
                         path=paths["mmn"]) from err
    if mmn.NK != chk.num_kpts or mmn.NB != chk.num_bands:
        raise InputError(f"the .mmn file has {mmn.NB} bands at {mmn.NK} k-points, but the checkpoint "
                         f"{paths['chk'].name} has {chk.num_bands} bands at {chk.num_kpts} k-points",
                         path=paths["mmn"])
    if not all(np.all(np.isfinite(block)) for block in mmn.data.values()):
        raise InputError("the overlap matrices contain NaN or Inf", path=paths["mmn"])
    _set_file(wandata, "mmn", mmn, paths["mmn"])
    return wandata


def read_eig(*, path: Path, num_bands: int, num_kpts: int, chk_name: str = "the checkpoint") -> np.ndarray:
    """Band energies (num_kpts, num_bands) in eV from a Wannier90 ``SEED.eig`` file, checked line by line.

    Every line must read ``band k-point energy`` with bands running fastest, exactly
    ``num_bands`` x ``num_kpts`` lines (the checkpoint's counts), finite energies.

    Raises
    ------
    InputError
        Naming the file and line of the first problem.
    """
    path = Path(path)
    limit = Limit(max_bytes=num_bands * num_kpts * LINE_BYTES + SLACK_BYTES,
                  what=f"{num_bands} bands x {num_kpts} k-points", source=f"in {chk_name}")
    try:
        text = read_input_bytes(path, limit=limit).decode("ascii")
    except UnicodeDecodeError:
        raise InputError("not a text file (binary data); expected lines 'band k-point energy'", path=path) from None
    lines = [(i + 1, ln) for i, ln in enumerate(text.splitlines()) if ln.strip()]
    if not lines:
        raise InputError("the file is empty", path=path)
    expected = num_bands * num_kpts
    energies = np.empty(expected)
    for j, (lineno, ln) in enumerate(lines):
        if j >= expected:
            raise InputError(f"more lines than the {num_bands} bands x {num_kpts} k-points of {chk_name} "
                             "(is the .eig from another calculation?)", path=path, line=lineno)
        parts = ln.split()
        try:
            band, kpt, e = int(parts[0]), int(parts[1]), float(parts[2].replace("D", "E").replace("d", "e"))
            if len(parts) != 3:
                raise ValueError
        except (ValueError, IndexError):
            raise InputError(f"expected 'band k-point energy', got {ln.strip()[:60]!r}", path=path,
                             line=lineno) from None
        want_band, want_k = j % num_bands + 1, j // num_bands + 1
        if (band, kpt) != (want_band, want_k):
            raise InputError(f"expected band {want_band} at k-point {want_k}, found band {band} at k-point {kpt} "
                             f"({chk_name} has {num_bands} bands at {num_kpts} k-points; is the .eig from "
                             "another calculation?)", path=path, line=lineno)
        if not np.isfinite(e):
            raise InputError(f"band energy is {parts[2]}", path=path, line=lineno)
        energies[j] = e
    if len(lines) < expected:
        raise InputError(f"the file ends after {len(lines)} lines, but {chk_name} has {num_bands} bands x "
                         f"{num_kpts} k-points = {expected} energies (truncated, or from another calculation)",
                         path=path, line=lines[-1][0])
    return energies.reshape(num_kpts, num_bands)


def _check_nnkp_matches_chk(nnkp: Path, chk, chk_path: Path) -> None:
    """The lattice in ``SEED.nnkp`` must be the checkpoint's (catches a .chk from another seed)."""
    text = read_input_bytes(nnkp).decode("utf-8", errors="replace").lower().splitlines()
    try:
        i = next(i for i, ln in enumerate(text) if ln.strip().startswith("begin real_lattice"))
        lat = np.array([[float(x) for x in text[i + j].split()[:3]] for j in (1, 2, 3)])
    except (StopIteration, ValueError, IndexError):
        return  # malformed nnkp: WannierBerri's reader reports it
    chk_lat = np.asarray(chk.real_lattice, dtype=float)
    if lat.shape != (3, 3) or not np.allclose(lat, chk_lat, atol=1e-4):
        raise InputError(f"{chk_path.name} and {nnkp.name} belong to different calculations (a .chk from another "
                         f"seed?): lattice {np.round(chk_lat, 5).tolist()} in {chk_path.name}, {lat.tolist()} in "
                         f"{nnkp.name}", path=chk_path)


class _DropPyfftwWarning(logging.Filter):
    """Drops WannierBerri's 'error importing `pyfftw`' warning (emitted once, at import), remembering it."""

    seen = False

    def filter(self, record: logging.LogRecord) -> bool:
        if "pyfftw" in record.getMessage():
            self.seen = True
            return False
        return True


def import_wannierberri():
    """Import and return the ``wannierberri`` module without its 2-line pyfftw warning.

    WannierBerri warns at import when the optional ``pyfftw`` is missing and then uses
    numpy's FFT.  wbentropy asks WannierBerri for numpy's FFT anyway (``fftlib="numpy"``),
    so the warning is noise: it is dropped and explained once at INFO level.
    """
    fft_logger = logging.getLogger("wannierberri.fourier.fft")
    drop = _DropPyfftwWarning()
    fft_logger.addFilter(drop)
    try:
        import wannierberri
    finally:
        fft_logger.removeFilter(drop)
    if drop.seen:
        logger.info("pyfftw is not installed; WannierBerri uses numpy's FFT, as wbentropy asks it to anyway "
                    "(no effect on results)")
    return wannierberri


def _set_file(wandata, key: str, value, path: Path) -> None:
    try:
        wandata.set_file(key, value)
    except (AssertionError, RuntimeError, ValueError) as err:
        raise InputError(f"inconsistent with the checkpoint: {_describe(err)}", path=path) from err


def _build_system(wandata, paths: dict):
    """WannierBerri's real-space system: Ham and AA, MDRS, no symmetrisation."""
    from wannierberri.system import System_R

    try:
        return System_R.from_wannierdata(wandata, berry=True, symmetrize=False, fftlib="numpy",
                                         ws_dist_tol=WS_DISTANCE_TOL, silent=True)
    except Exception as err:
        raise InputError(f"WannierBerri could not build the real-space model from {paths['eig'].name} and "
                         f"{paths['mmn'].name}: {_describe(err)}", path=paths["chk"]) from err


def _convert(system) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """WannierBerri's convention-I arrays -> (R, H, r) in convention II, R sorted."""
    R = np.array(system.rvec.iRvec, dtype=int)
    H = np.array(system.get_R_mat("Ham"), dtype=complex)
    r = np.array(system.get_R_mat("AA"), dtype=complex)
    nw = H.shape[1]
    i0 = int(np.flatnonzero(np.all(R == 0, axis=1))[0])
    r[i0, np.arange(nw), np.arange(nw), :] += np.asarray(system.wannier_centers_cart, dtype=float)
    order = np.lexsort(R.T[::-1])
    R, H, r = R[order], H[order], r[order]
    return R, H, hermitize_position(R, r)


def _describe(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0]}" if text else type(err).__name__
