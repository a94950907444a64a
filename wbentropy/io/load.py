"""One entry point for every supported input: Wannier90 chk/eig/mmn, _tb.dat, _hr.dat(+_r.dat)."""
from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from ..model import TBModel

__all__ = ["load_model", "input_digests", "INPUT_ROLES"]

#: the roles of input files in :attr:`TBModel.sources <wbentropy.model.TBModel.sources>` whose contents
#: determine a model
INPUT_ROLES = ("tb", "hr", "r", "wsvec", "win", "chk", "eig", "mmn", "nnkp")


def load_model(*, w90: str | Path | None = None, tb: str | Path | None = None, hr: str | Path | None = None,
               r: str | Path | None = None, wsvec: str | Path | None = None,
               win: str | Path | None = None) -> TBModel:
    """Load a Wannier tight-binding model from exactly one kind of Wannier90 output.

    Parameters
    ----------
    w90 : path, optional
        Seed (path without extension) of ``SEED.chk`` + ``SEED.eig`` + ``SEED.mmn``,
        read with WannierBerri (MDRS applied as WannierBerri does).
    tb : path, optional
        ``SEED_tb.dat`` (Hamiltonian and position matrix elements).
    hr : path, optional
        ``SEED_hr.dat``; with ``r`` (``SEED_r.dat``) and ``win`` (``SEED.win``, lattice).
    wsvec : path, optional
        ``SEED_wsvec.dat`` for the minimal-distance (MDRS) correction of tb/hr input.

    Returns
    -------
    TBModel
    """
    given = [name for name, v in (("--w90", w90), ("--tb", tb), ("--hr", hr)) if v is not None]
    if len(given) != 1:
        raise InputError("give exactly one input: --w90 SEED, --tb FILE or --hr FILE"
                         + (f" (got {', '.join(given)})" if given else ""))
    if w90 is not None:
        if any(x is not None for x in (r, wsvec, win)):
            raise InputError("--r/--wsvec/--win apply to --tb/--hr input, not to --w90")
        from .w90chk import read_chk

        return read_chk(seed=w90)
    if tb is not None:
        if r is not None or win is not None:
            raise InputError("--r and --win apply to --hr input; a _tb.dat file holds both H and r")
        from .w90text import read_tb

        return read_tb(tb_file=tb, wsvec_file=wsvec)
    from .w90text import read_hr

    return read_hr(hr_file=hr, r_file=r, wsvec_file=wsvec, win_file=win)


def input_digests(sources: dict) -> dict[str, dict[str, str]]:
    """sha256 of the contents of every input file named in a model's ``sources``.

    Parameters
    ----------
    sources : dict
        :attr:`TBModel.sources <wbentropy.model.TBModel.sources>`: role (``"tb"``, ``"win"``, ...) -> path.

    Returns
    -------
    dict
        role -> ``{"file": file name, "sha256": hex digest}`` for the roles of :data:`INPUT_ROLES`
        that name an existing regular file (a model built in Python has none).
    """
    import hashlib

    out = {}
    for role in INPUT_ROLES:
        path = sources.get(role)
        if not path or not Path(path).is_file():
            continue
        h = hashlib.sha256()
        try:
            with open(path, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
        except OSError as exc:
            raise InputError(f"cannot read the input file again to fingerprint it for the checkpoint ({exc.strerror})",
                             path=path) from None
        out[role] = {"file": Path(path).name, "sha256": h.hexdigest()}
    return out
