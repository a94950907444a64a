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
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..model import TBModel, hermitize_position

__all__ = ["read_chk"]

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
    for ext in ("chk", "eig", "mmn"):
        if not paths[ext].is_file():
            raise InputError(f"Wannier90 {ext} file not found (needed with the .chk reader)", path=paths[ext])

    wandata = _read_wannier_data(seed, paths)
    system = _build_system(wandata, paths)
    R, H, r = _convert(system)
    logger.debug("read %s through WannierBerri: %d Wannier functions, %d R vectors, mp_grid %s",
                 paths["chk"], H.shape[1], R.shape[0], tuple(wandata.mp_grid))
    from wannierberri import __version__ as wb_version

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
    import wannierberri as wb
    from wannierberri.w90files.bkvectors import BKVectors
    from wannierberri.w90files.eig import EIG
    from wannierberri.w90files.mmn import MMN

    prefix = str(seed)
    use_nnkp = paths["nnkp"].is_file()
    try:
        wandata = wb.w90files.WannierData.from_w90_files(seedname=prefix, files=("chk",), readnnkp=False)
    except Exception as err:  # fortio / numpy / assertion errors from a damaged file
        raise InputError(f"cannot read the Wannier90 checkpoint: {_describe(err)}", path=paths["chk"]) from err
    chk = wandata.chk
    if not getattr(chk, "wannierised", True) or getattr(chk, "v_matrix", None) is None:
        raise InputError("the checkpoint holds no Wannier gauge (was wannier90 run?)", path=paths["chk"])

    if use_nnkp:
        try:
            bkvec = BKVectors.from_nnkp(str(paths["nnkp"]), kmesh_tol=1e-5, bk_complete_tol=1e-5,
                                        real_lattice=chk.real_lattice)
        except Exception as err:
            raise InputError(f"cannot read the b-vectors: {_describe(err)}", path=paths["nnkp"]) from err
        wandata.unset_file("bkvec")  # replace the b-vectors rebuilt from the chk k-mesh
        wandata.set_file("bkvec", bkvec)

    try:
        eig = EIG.from_w90_file(prefix)
    except Exception as err:
        raise InputError(f"cannot read band energies: {_describe(err)}", path=paths["eig"]) from err
    if (eig.NK, eig.NB) != (chk.num_kpts, chk.num_bands):
        raise InputError(f"the .eig file has {eig.NB} bands at {eig.NK} k-points, but the checkpoint "
                         f"{paths['chk'].name} has {chk.num_bands} bands at {chk.num_kpts} k-points",
                         path=paths["eig"])
    _set_file(wandata, "eig", eig, paths["eig"])

    try:
        mmn = MMN.from_w90_file(prefix, bkvec=wandata.bkvec, npar=1)
    except Exception as err:
        raise InputError(f"cannot read overlap matrices: {_describe(err)}", path=paths["mmn"]) from err
    if mmn.NK != chk.num_kpts or mmn.NB != chk.num_bands:
        raise InputError(f"the .mmn file has {mmn.NB} bands at {mmn.NK} k-points, but the checkpoint "
                         f"{paths['chk'].name} has {chk.num_bands} bands at {chk.num_kpts} k-points",
                         path=paths["mmn"])
    _set_file(wandata, "mmn", mmn, paths["mmn"])
    return wandata


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
