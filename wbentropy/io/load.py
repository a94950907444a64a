"""One entry point for every supported input: Wannier90 chk/eig/mmn, _tb.dat, _hr.dat(+_r.dat)."""
from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from ..errors import InputError
from ..model import TBModel

__all__ = ["load_model", "load_collinear_pair", "input_digests", "INPUT_ROLES", "resolve_spin_degeneracy",
           "spin_warning"]

logger = logging.getLogger(__name__)

#: the roles of input files in :attr:`TBModel.sources <wbentropy.model.TBModel.sources>` whose contents
#: determine a model
INPUT_ROLES = ("tb", "hr", "r", "wsvec", "win", "chk", "eig", "mmn", "nnkp")


def load_model(*, w90: str | Path | None = None, tb: str | Path | None = None, hr: str | Path | None = None,
               r: str | Path | None = None, wsvec: str | Path | None = None,
               win: str | Path | None = None, spin_degeneracy: int | None = None) -> TBModel:
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
    spin_degeneracy : {1, 2}, optional
        Electrons per band; overrides what :func:`resolve_spin_degeneracy` reads from the
        ``.win`` (``--win``, or ``SEED.win`` beside ``SEED_tb.dat`` / ``SEED.chk``).

    Returns
    -------
    TBModel
        With :attr:`~wbentropy.model.TBModel.spin_degeneracy` set (see :func:`resolve_spin_degeneracy`).
    """
    given = [name for name, v in (("--w90", w90), ("--tb", tb), ("--hr", hr)) if v is not None]
    if len(given) != 1:
        raise InputError("give exactly one input: --w90 SEED, --tb FILE or --hr FILE"
                         + (f" (got {', '.join(given)})" if given else ""))
    if w90 is not None:
        if any(x is not None for x in (r, wsvec, win)):
            raise InputError("--r/--wsvec/--win apply to --tb/--hr input, not to --w90")
        from .w90chk import read_chk

        model = read_chk(seed=w90)
        win = _beside(Path(w90).with_name(Path(w90).name + ".win"))
    elif tb is not None:
        if r is not None or win is not None:
            raise InputError("--r and --win apply to --hr input; a _tb.dat file holds both H and r")
        from .tb import read_tb

        model = read_tb(tb_file=tb, wsvec_file=wsvec)
        win = win_beside_tb(tb)
    else:
        from .hr import read_hr

        model = read_hr(hr_file=hr, r_file=r, wsvec_file=wsvec, win_file=win)
    return resolve_spin_degeneracy(model, win=win, given=spin_degeneracy)


def load_collinear_pair(*, tb_up: str | Path, tb_down: str | Path, wsvec_up: str | Path | None = None,
                        wsvec_down: str | Path | None = None) -> tuple[TBModel, TBModel]:
    """The two channels of a collinear spin-polarised run: ``SEED_up_tb.dat`` and ``SEED_dn_tb.dat``.

    Wannier90 is run once per spin channel; each channel's Wannier functions hold one electron
    per band, whatever the ``.win`` says (its ``spinors`` is ``.false.``: no spinor projections).

    Returns
    -------
    (up, down) : TBModel
        Each with ``spin_degeneracy == 1``; integrate them with :func:`wbentropy.api.compute_collinear`.
    """
    models = []
    for name, tb, wsvec in (("up", tb_up, wsvec_up), ("down", tb_down, wsvec_down)):
        model = load_model(tb=tb, wsvec=wsvec, spin_degeneracy=1)
        models.append(model.with_spin_degeneracy(
            1, source=f"spin-{name} channel of a collinear spin-polarised pair (one electron per band)"))
    return models[0], models[1]


def win_beside_tb(tb: str | Path) -> Path | None:
    """The ``SEED.win`` beside ``SEED_tb.dat`` (or ``SEED_tb.dat.gz``), if it exists (read for ``spinors``)."""
    name = Path(tb).name.removesuffix(".gz")
    return _beside(Path(tb).with_name(name.removesuffix("_tb.dat") + ".win")) if name.endswith("_tb.dat") else None


def win_for(*, w90: str | Path | None = None, tb: str | Path | None = None, hr: str | Path | None = None,
            win: str | Path | None = None) -> Path | None:
    """The ``SEED.win`` of a model's files: ``win`` if given, else the one beside ``SEED.chk`` (``w90``),
    ``SEED_tb.dat`` or ``SEED_hr.dat``, if it exists; None otherwise."""
    if win is not None:
        return Path(win)
    if w90 is not None:
        return _beside(Path(str(w90) + ".win"))
    if tb is not None:
        return win_beside_tb(tb)
    if hr is not None:
        name = Path(hr).name.removesuffix(".gz")
        return _beside(Path(hr).with_name(name.removesuffix("_hr.dat") + ".win")) if name.endswith("_hr.dat") else None
    return None


def _beside(path: Path) -> Path | None:
    """``path`` if it is an existing regular file (the ``SEED.win`` of the run), else None."""
    return path if path.is_file() else None


#: how :attr:`TBModel.spin_degeneracy_source` begins when nothing stated the degeneracy
ASSUMED = "assumed: "


def resolve_spin_degeneracy(model: TBModel, *, win: str | Path | None, given: int | None) -> TBModel:
    """Set the model's electrons per band: ``given``, else ``spinors`` in ``win``, else 1 (assumed).

    Parameters
    ----------
    model : TBModel
    win : path or None
        The run's ``SEED.win``.  ``spinors = .true.`` gives 1 electron per band,
        ``spinors = .false.`` 2; without the keyword Wannier90's default ``.false.`` is taken (2).
        Recorded as the model's ``win`` source (its contents then fingerprint restarts).
    given : {1, 2} or None
        ``--spin-degeneracy``: overrides the ``.win``.

    Returns
    -------
    TBModel
        ``spin_degeneracy_source`` says which rule applied; it begins with ``"assumed: "``
        when no file or option stated it (see :func:`spin_warning`).
    """
    from .win import read_win_spinors

    sources = dict(model.sources)
    if win is not None:
        sources["win"] = str(Path(win).resolve())
    if given is not None:
        if given not in (1, 2) or isinstance(given, bool):
            raise InputError(f"--spin-degeneracy: must be 1 (spinor Wannier functions) or 2 (spinless), "
                             f"got {given!r}")
        g, source = int(given), f"given: --spin-degeneracy {int(given)}"
    elif win is None:
        g, source = 1, ASSUMED + ("spinor Wannier functions (no .win file: give --spin-degeneracy 2 for a "
                                  "spinless model)")
    else:
        spinors, line = read_win_spinors(win_file=win)
        if spinors is None:
            g, source = 2, (ASSUMED + f"spinless Wannier functions ({Path(win).name} does not set spinors; Wannier90's "
                            "default is .false.)")
        else:
            value = ".true." if spinors else ".false."
            g, source = (1 if spinors else 2), f"{Path(win).name}, line {line}: spinors = {value}"
    logger.info("spin degeneracy %d (%s)", g, source)
    return dataclasses.replace(model, sources=sources, spin_degeneracy=g, spin_degeneracy_source=source)


def spin_warning(model: TBModel) -> str | None:
    """The one warning line of a run whose spin degeneracy was assumed, or None if it was stated."""
    if not model.spin_degeneracy_source.startswith(ASSUMED):
        return None
    if model.spin_degeneracy == 1:
        return "assumed spinor Wannier functions (one electron per band): give --spin-degeneracy 2 for a spinless model"
    win = Path(model.sources.get("win") or "SEED.win").name
    return (f"assumed spinless Wannier functions (two electrons per band): {win} does not set spinors "
            "(Wannier90's default .false.); give --spin-degeneracy 1 for spinor Wannier functions")


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
