"""Magnetic symmetry of a Wannier model: the group, its breaking, and a checked symmetrization.

The group theory is not ours: the magnetic space group comes from ``irrep`` (spglib underneath),
its action on the Wannier functions (atom maps, lattice shifts, orbital matrices) from WannierBerri's
:class:`wannierberri.symmetry.sawf.SymmetrizerSAWF`; the average of the real-space operators over the
group is :mod:`wbentropy.symmetrize_lean` (equal to WannierBerri's ``System_R.symmetrize`` to
round-off, in a third of its memory).  This module converts a :class:`~wbentropy.model.TBModel` to a
WannierBerri ``System_R`` and back, measures how far the band energies break the group, and refuses a
symmetrization that changes the physics:

* **breaking**: ``max |E_n(k) - E_n(g k)|`` over the point-group images ``g k`` (time reversal
  sends k to -k), for bands within +-1 eV of a reference energy, on random k;
* **check**: the symmetrized bands must lie within the raw orbit spread (plus
  :data:`CHECK_TOL_EV`) of the orbit average of the raw bands, and the mean number of bands
  below each mu must not change by more than :data:`FILLING_TOL`.  WannierBerri's symmetrizer
  assumes the Wannier functions have the character of the ``.win`` projections; a maximally
  localised model whose functions moved (e.g. to bond centres) fails this check.

Conventions: wbentropy stores Wannier90's convention II (no centre phase, centres on the diagonal
of r(R=0)); WannierBerri's ``System_R`` uses convention I (Fourier phase with the centres, ``AA``
without them).  Both have the same H(R); the Bloch Hamiltonians differ by the diagonal gauge
``exp(i k.t_n)``, so bands and Berry curvatures are equal.
"""
from __future__ import annotations

import contextlib
import io
import logging
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import InputError
from .model import OPERATORS, OperatorSpec, TBModel

__all__ = ["to_system_r", "from_system_r", "SymmetryGroup", "magnetic_group", "symmetrized_group", "band_breaking",
           "symmetrize_model", "measure_breaking", "prepare_symmetry", "parse_magmom", "CHECK_TOL_EV", "FILLING_TOL",
           "BREAKING_WINDOW_EV"]

logger = logging.getLogger(__name__)

#: extra room (eV) beyond the raw orbit spread allowed for a symmetrized band
CHECK_TOL_EV = 0.005
#: allowed change of the mean number of bands below a mu per k-point
FILLING_TOL = 0.05
#: bands within this distance (eV) of the reference energy enter the breaking measure
BREAKING_WINDOW_EV = 1.0
#: k-points per batch of the band checks
BAND_BATCH = 256
_LATTICE_LETTERS = "PIFCABR"


# ------------------------------------------------------------------ conversion
def _wannierberri_key(name: str) -> str:
    """WannierBerri's ``System_R`` key of the store's operator ``name`` ("H" -> "Ham", "AA" -> "AA", ...)."""
    spec = OPERATORS.get(name)
    return spec.wannierberri if spec is not None else name


def _convertible(name: str) -> OperatorSpec | None:
    """The operator's spec; raises for an origin-dependent operator other than the position (no conversion)."""
    spec = OPERATORS.get(name)
    if spec is not None and spec.origin_dependent and not spec.position:
        raise InputError(f"the operator {name} depends on the position origin: its conversion between "
                         "convention II (wbentropy) and I (WannierBerri) is not implemented")
    return spec


def to_system_r(model: TBModel, *, symmetrize: bool = False, win: str | Path | None = None, magmom=None,
                projections: list[str] | None = None, mus=()):
    """A WannierBerri ``System_R`` holding every operator of ``model``'s store under WannierBerri's names
    (H -> ``Ham``, AA -> ``AA``, SS -> ``SS``, ...; :data:`wbentropy.model.OPERATORS`).

    Convention II -> I: centres = diag r(R=0), ``AA = r - centres`` on the R = 0 diagonal.

    Parameters
    ----------
    model : TBModel
    symmetrize : bool
        Symmetrize every operator under the magnetic space group (:func:`symmetrize_model`, the average
        WannierBerri's ``System_R.symmetrize`` computes), after its check (refused with
        :class:`~wbentropy.errors.InputError` if the symmetrized bands leave the raw orbit spread or the
        band count below a mu changes).  The returned system carries its point group
        (``system.pointgroup``), as ``wannierberri.run(..., use_irred_kpt=True, symmetrize=True)`` needs.
    win, magmom, projections, mus
        As :func:`symmetrize_model` (only with ``symmetrize``); ``win`` defaults to the model's
        ``sources["win"]``.

    Returns
    -------
    wannierberri.system.System_R
    """
    if not symmetrize:
        if win is not None or magmom is not None or projections is not None or np.size(mus):
            raise InputError("to_system_r: win, magmom, projections and mus apply with symmetrize=True only")
        return _system_r(model)
    win = win if win is not None else model.sources.get("win")
    if win is None or not Path(win).is_file():
        raise InputError("to_system_r(symmetrize=True): needs the crystal structure and projections from a .win "
                         "(win=..., or a model read with its SEED.win)")
    group, sym, _ = _checked_symmetrization(model, win=win, magmom=magmom, mus=mus, projections=projections)
    return _system_r_of_symmetrized(sym, group)


def _system_r(model: TBModel):
    """The conversion of :func:`to_system_r`, without symmetrization."""
    from wannierberri.fourier.rvectors import Rvectors
    from wannierberri.system import System_R

    system = System_R(silent=True)
    system.real_lattice = np.array(model.lattice, dtype=float)
    system.num_wann = model.num_wann
    centres = model.centres
    for name, X in model.operators.items():
        spec = _convertible(name)
        X = np.array(X, dtype=complex)
        if spec is not None and spec.position:
            i0 = model.index_of_R((0, 0, 0))
            X[i0, np.arange(model.num_wann), np.arange(model.num_wann), :] -= centres
        system.set_R_mat(_wannierberri_key(name), X)
    system.wannier_centers_cart = np.array(centres, dtype=float)
    system.clear_cached_wcc()
    system.rvec = Rvectors(lattice=system.real_lattice, iRvec=np.array(model.R, dtype=int),
                           shifts_left_red=system.wannier_centers_red)
    system.do_at_end_of_init()
    return system


def from_system_r(system, *, like: TBModel, note: str | None = None) -> TBModel:
    """The :class:`TBModel` of a WannierBerri ``System_R`` (inverse of :func:`to_system_r`).

    The store gets the operators of ``like``'s store that ``system`` holds; ``like`` also supplies
    the name, provenance and spin degeneracy; ``note`` is added to the sources.
    """
    R = np.array(system.rvec.iRvec, dtype=int)
    i0 = int(np.flatnonzero(np.all(R == 0, axis=1))[0])
    operators = {}
    for name in like.operators:
        key = _wannierberri_key(name)
        if not system.has_R_mat(key):
            continue
        spec = _convertible(name)
        X = np.array(system.get_R_mat(key), dtype=complex)
        if spec is not None and spec.position:
            nw = X.shape[1]
            X[i0, np.arange(nw), np.arange(nw), :] += np.asarray(system.wannier_centers_cart)
        operators[name] = X
    sources = dict(like.sources)
    if note:
        sources["symmetrized"] = note
    return TBModel(lattice=np.array(system.real_lattice), R=R, operators=operators, name=like.name, sources=sources,
                   spin_degeneracy=like.spin_degeneracy, spin_degeneracy_source=like.spin_degeneracy_source)


# ------------------------------------------------------------------ the group
@dataclass(frozen=True)
class SymmetryGroup:
    """The magnetic point group acting on k.

    Attributes
    ----------
    name : str
        Magnetic point group (Hermann-Mauguin, primes for operations with time reversal).
    space_group : str
        Magnetic space group as named by irrep.
    k_ops : (n_ops, 3, 3) float array
        ``k' = k_ops[g] @ k`` in reduced coordinates (time reversal included as a sign).
    spacegroup : object
        The ``irrep.spacegroup.SpaceGroup`` (for WannierBerri's symmetrizer).
    rotations : (n, 3, 3) float array
        Cartesian rotation matrices (proper or improper) of the magnetic point group, every
        (rotation, time reversal) pair once: what tensors transform with
        (:mod:`wbentropy.physics.tensor_symmetry`).  ``n`` may exceed :attr:`order` when two
        operations act alike on k (a non-magnetic centrosymmetric group: inversion and time reversal).
    antiunitary : (n,) bool array
        Which of :attr:`rotations` include time reversal.
    """

    name: str
    space_group: str
    k_ops: np.ndarray
    spacegroup: object
    rotations: np.ndarray | None = None
    antiunitary: np.ndarray | None = None

    @property
    def order(self) -> int:
        """Number of distinct operations on k (the images g k of :func:`band_breaking`)."""
        return len(self.k_ops)

    def projector(self, *, rank: int, parity: str, time_reversal: str) -> np.ndarray:
        """Neumann's projector of a tensor of this rank, parity and time-reversal parity
        (:func:`wbentropy.physics.tensor_symmetry.projector`), a (3^rank, 3^rank) matrix."""
        from .physics.tensor_symmetry import projector

        if self.rotations is None or self.antiunitary is None:
            raise ValueError(f"the group {self.name} carries no Cartesian rotations")
        return projector(self.rotations, self.antiunitary, rank=rank, parity=parity, time_reversal=time_reversal)


def parse_magmom(magmom, *, n_atoms: int, atom_names: list[str]) -> np.ndarray | None:
    """Magnetic moments per atom (n_atoms, 3) from 3 numbers (every atom) or 3 * n_atoms; None if not given."""
    if magmom is None:
        return None
    values = np.asarray(magmom, dtype=float).ravel()
    if values.size == 3:
        return np.tile(values, (n_atoms, 1))
    if values.size == 3 * n_atoms:
        return values.reshape(n_atoms, 3)
    raise InputError(f"--magmom: give 3 numbers (one moment for every atom) or 3 x {n_atoms} numbers "
                     f"(one per atom of the .win: {', '.join(atom_names)}), got {values.size}")


def magnetic_group(*, structure: dict, magmom: np.ndarray | None) -> SymmetryGroup:
    """The magnetic space and point group of ``structure`` (:func:`~wbentropy.io.win.read_win_structure`).

    ``magmom`` None: non-magnetic, time reversal kept.
    """
    try:
        from irrep.spacegroup import SpaceGroup
    except (ImportError, SyntaxError) as exc:
        raise InputError("--symmetrize/--magmom need the package irrep: pip install 'wbentropy[symmetry]' "
                         f"(irrep<3.3 on Python 3.11): {exc.__class__.__name__}: {exc}") from None

    kinds = {name: i for i, name in enumerate(dict.fromkeys(structure["atom_names"]))}
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # spglib's note on its own error handling
        sg = SpaceGroup.from_cell(real_lattice=structure["lattice"], positions=structure["positions"],
                                  typat=[kinds[a] for a in structure["atom_names"]],
                                  magmom=None if magmom is None else np.asarray(magmom, dtype=float),
                                  include_TR=True, spinor=structure["spinors"])
    ops, cartesian = [], []
    for s in sg.symmetries:
        # k transforms with the inverse transpose of the reduced real-space rotation; time reversal: k -> -k
        op = np.linalg.inv(np.asarray(s.rotation, dtype=float)).T * (-1.0 if s.time_reversal else 1.0)
        if not any(np.allclose(op, o) for o in ops):
            ops.append(op)
        pair = (np.asarray(s.rotation_cart, dtype=float), bool(s.time_reversal))
        if not any(a == pair[1] and np.allclose(r, pair[0], atol=1e-6) for r, a in cartesian):
            cartesian.append(pair)  # point group: operations differing by a translation count once
    name = str(sg.name)
    point = name[1:] if name[:1] in _LATTICE_LETTERS else name
    return SymmetryGroup(name=point, space_group=name, k_ops=np.array(ops), spacegroup=sg,
                         rotations=np.array([r for r, _ in cartesian]),
                         antiunitary=np.array([a for _, a in cartesian], dtype=bool))


# ------------------------------------------------------------------ bands
def _bands(model: TBModel, k: np.ndarray) -> np.ndarray:
    """Band energies (nk, nw) at reduced k (nk, 3), from the interpolator every integral uses, in batches of
    :data:`BAND_BATCH` k-points (the Fourier sum's temporaries stay small beside the model).  H(k) alone is
    built (no k-derivatives): its operator array is a quarter of the model's H and r."""
    from .kspace.interpolation import Interpolator

    interpolate = Interpolator(model=model, position=False, derivatives=False)
    k = np.atleast_2d(k)
    E = np.empty((len(k), model.num_wann))
    for s in range(0, len(k), BAND_BATCH):
        E[s:s + BAND_BATCH] = np.linalg.eigvalsh(interpolate(k[s:s + BAND_BATCH]).H)
    return E


def _orbit_bands(model: TBModel, group: SymmetryGroup, k: np.ndarray) -> np.ndarray:
    """E_n(g k) for every operation g: (n_ops, nk, nw), in one batch."""
    gk = np.einsum("gab,kb->gka", group.k_ops, k).reshape(-1, 3)
    return _bands(model, gk).reshape(len(group.k_ops), len(k), -1)


def band_breaking(model: TBModel, group: SymmetryGroup, *, energy: float, nk: int = 100,
                  seed: int = 0) -> float:
    """max |E_n(k) - E_n(g k)| (eV) over the group, bands with |E_n(k) - energy| <= 1 eV, ``nk`` random k."""
    k = np.random.default_rng(seed).random((nk, 3))
    E = _orbit_bands(model, group, k)
    near = np.abs(E[0] - energy) <= BREAKING_WINDOW_EV
    if not np.any(near):
        return 0.0
    return float(np.max(np.abs(E - E[0])[:, near]))


# ------------------------------------------------------------------ symmetrize
@contextlib.contextmanager
def _quiet_wannierberri():
    """Silence WannierBerri and irrep while they symmetrize: their notes (e.g. the advice on ';' in
    projections, the printed space group) are not the user's business here."""
    wb_logger = logging.getLogger("wannierberri")
    level = wb_logger.level
    wb_logger.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            yield
    finally:
        wb_logger.setLevel(level)


_SYMMETRIZER_ERRORS = (AssertionError, ValueError, KeyError, RuntimeError, IndexError)


def _symmetrize_system(model: TBModel, *, structure: dict, projections: list[str], magmom: np.ndarray | None):
    """WannierBerri's own symmetrization (``System_R.symmetrize``) of ``model`` converted to a ``System_R``:
    the reference :func:`_symmetrize` is tested against (it needs about 4x the model's memory)."""
    system = _system_r(model)
    moments = None if magmom is None else np.asarray(magmom, dtype=float)
    try:
        with _quiet_wannierberri():
            system.symmetrize(proj=projections, positions=np.asarray(structure["positions"]),
                              atom_name=list(structure["atom_names"]), soc=structure["spinors"],
                              magmom=moments, silent=True, reorder_back=True)
    except _SYMMETRIZER_ERRORS as exc:
        raise InputError(f"WannierBerri cannot symmetrize the model with projections {projections}: {exc}") from None
    return system


def _symmetrize(model: TBModel, *, group: SymmetryGroup, structure: dict, projections: list[str]) -> TBModel:
    """Every operator of ``model`` averaged over ``group`` with WannierBerri's group action
    (:mod:`wbentropy.symmetrize_lean`: equal to :func:`_symmetrize_system` to round-off, in the memory of the
    result plus small slices)."""
    from .symmetrize_lean import group_action, symmetrize_operators

    try:
        with _quiet_wannierberri():
            action = group_action(spacegroup=group.spacegroup, structure=structure, projections=projections)
    except _SYMMETRIZER_ERRORS as exc:
        raise InputError(f"WannierBerri cannot symmetrize the model with projections {projections}: {exc}") from None
    return symmetrize_operators(model, action)


def _system_r_of_symmetrized(sym: TBModel, group: SymmetryGroup):
    """The ``System_R`` of a symmetrized model, carrying its point group as ``System_R.symmetrize`` leaves it
    (what ``wannierberri.run(..., use_irred_kpt=True, symmetrize=True)`` needs)."""
    system = _system_r(sym)
    with _quiet_wannierberri():
        system.set_pointgroup(spacegroup=group.spacegroup)
        system.set_structure_from_sg(group.spacegroup)
    system.symmetrized = True
    return system


def _check(raw: TBModel, sym: TBModel, group: SymmetryGroup, *, mus: np.ndarray, nk: int, seed: int) -> dict:
    """Compare the symmetrized bands with the orbit average of the raw bands; return the figures."""
    k = np.random.default_rng(seed + 1).random((nk, 3))
    E_raw = _orbit_bands(raw, group, k)
    mean = E_raw.mean(axis=0)
    spread = np.max(np.abs(E_raw - mean), axis=0)
    E_sym = _bands(sym, k)
    excess = float(np.max(np.abs(E_sym - mean) - spread))
    filling_raw = np.array([(E_raw <= mu).sum(axis=-1).mean() for mu in mus])
    filling_sym = np.array([(E_sym <= mu).sum(axis=-1).mean() for mu in mus])
    return {"excess": excess, "shift": float(np.max(np.abs(E_sym - mean))),
            "filling_raw": filling_raw, "filling_sym": filling_sym}


def symmetrize_model(model: TBModel, *, win: str | Path, magmom=None, mus=(), projections: list[str] | None = None,
                     nk_check: int = 300, nk_breaking: int = 100, seed: int = 0) -> tuple[TBModel, dict]:
    """Symmetrize every operator (H(R), r(R), ...) under the magnetic space group, after checking it.

    The group action is WannierBerri's, the average :mod:`wbentropy.symmetrize_lean` (its memory: the
    result plus small slices).

    Parameters
    ----------
    model : TBModel
    win : path
        ``SEED.win`` with the structure, projections and spinors (:func:`read_win_structure`).
    magmom : 3 or 3 * n_atoms numbers, optional
        Magnetic moments (one vector for all atoms, or one per atom in the ``.win``'s order);
        None: non-magnetic, time reversal kept.
    mus : sequence of float
        Chemical potentials (eV); the first is the centre of the breaking window and the band
        count below each must not change.
    projections : list of str, optional
        Override the ``.win`` projections in WannierBerri's notation (e.g. ``["Fe:sp3d2;t2g"]``).

    Returns
    -------
    (TBModel, dict)
        The symmetrized model and the record: ``symmetry_group``, ``symmetry_group_order``,
        ``symmetry_magmom`` (the moments per atom or "none"; with the ``.win`` it rebuilds the group:
        :func:`symmetrized_group`), ``symmetry_breaking_before_eV``, ``symmetry_breaking_after_eV``,
        ``symmetrize_seconds``.

    Raises
    ------
    InputError
        When the ``.win`` lacks what is needed, or the symmetrized bands leave the raw orbit spread
        or change the band filling (the Wannier functions lost the projections' character).
    """
    _, sym, record = _checked_symmetrization(model, win=win, magmom=magmom, mus=mus, projections=projections,
                                             nk_check=nk_check, nk_breaking=nk_breaking, seed=seed)
    return sym, record


def _checked_symmetrization(model: TBModel, *, win: str | Path, magmom=None, mus=(),
                            projections: list[str] | None = None, nk_check: int = 300, nk_breaking: int = 100,
                            seed: int = 0) -> tuple[SymmetryGroup, TBModel, dict]:
    """:func:`symmetrize_model`, also returning the group."""
    from .io.win import read_win_structure

    t0 = time.perf_counter()
    structure = read_win_structure(win_file=win)
    moments = parse_magmom(magmom, n_atoms=len(structure["atom_names"]), atom_names=structure["atom_names"])
    group = magnetic_group(structure=structure, magmom=moments)
    mus = np.atleast_1d(np.asarray(mus, dtype=float))
    reference = float(mus[0]) if mus.size else float(np.median(_bands(model, np.zeros((1, 3)))))
    before = band_breaking(model, group, energy=reference, nk=nk_breaking, seed=seed)
    sym = _symmetrize(model, group=group, structure=structure, projections=projections or structure["projections"])
    sym = _with_sources(sym, {"symmetrized": f"{group.name} ({group.order} operations) from {win}"})
    check = _check(model, sym, group, mus=mus, nk=nk_check, seed=seed)
    filling_moved = np.abs(check["filling_sym"] - check["filling_raw"]) > FILLING_TOL
    if check["excess"] > CHECK_TOL_EV or np.any(filling_moved):
        raise InputError(_refusal(check, group, filling_moved, magnetic=moments is not None), path=win)
    after = band_breaking(sym, group, energy=reference, nk=nk_breaking, seed=seed)
    record = {"symmetry_group": group.name, "symmetry_space_group": group.space_group,
              "symmetry_group_order": group.order, "symmetry_magmom": _magmom_text(moments),
              "symmetry_breaking_before_eV": before,
              "symmetry_breaking_after_eV": after, "symmetrize_seconds": time.perf_counter() - t0}
    logger.info("symmetrized under %s (%d operations): band breaking %.3g eV -> %.3g eV (%.1f s)",
                group.name, group.order, before, after, record["symmetrize_seconds"])
    return group, sym, record


def _refusal(check: dict, group: SymmetryGroup, filling_moved: np.ndarray, *, magnetic: bool) -> str:
    """The one line of a refused symmetrization: what moved, and why it may have (without moments first the
    non-magnetic group, which a magnetic model cannot keep its bands under)."""
    filling = ", ".join(f"{a:.2f} -> {b:.2f}" for a, b, bad in
                        zip(check["filling_raw"], check["filling_sym"], filling_moved) if bad)
    reason = ("; the Wannier functions" if magnetic else
              "; without --magmom the crystal is taken as non-magnetic, and a magnetic model (exchange splitting, "
              "spin-orbit coupling) cannot keep its bands under that group's time reversal: give the moments with "
              "--magmom MX MY MZ. For a non-magnetic crystal: the Wannier functions")
    return (f"symmetrization refused: the symmetrized bands move up to {check['shift']:.3g} eV, "
            f"{max(check['excess'], 0.0):.3g} eV beyond the spread of the raw bands over the {group.order} "
            f"images g k of {group.name}"
            + (f", and the bands below mu per k-point change ({filling})" if filling else "")
            + f"{reason} no longer have the character of the projections in the .win. "
            "Wannierise symmetry-adapted functions (Wannier90's site_symmetry, or projection-like functions "
            "whose bands survive this check) or run without --symmetrize")


def measure_breaking(model: TBModel, *, win: str | Path | None, magmom=None, mus=(), temperatures=(),
                     nk: int = 100, seed: int = 0) -> dict | None:
    """The raw model's band breaking of its magnetic group; warn when it exceeds k_B T or 1 meV.

    Returns None (silently) when no ``.win`` with atoms is known.
    """
    from .constants import KB_EV
    from .io.win import read_win_structure

    if win is None or not Path(win).is_file():
        return None
    try:
        structure = read_win_structure(win_file=win)
        import irrep  # noqa: F401  (the measure is optional: skip it where irrep cannot be imported)
    except (InputError, ImportError, SyntaxError):
        return None
    moments = parse_magmom(magmom, n_atoms=len(structure["atom_names"]), atom_names=structure["atom_names"])
    group = magnetic_group(structure=structure, magmom=moments)
    mus = np.atleast_1d(np.asarray(mus, dtype=float))
    reference = float(mus[0]) if mus.size else float(np.median(_bands(model, np.zeros((1, 3)))))
    breaking = band_breaking(model, group, energy=reference, nk=nk, seed=seed)
    temps = np.atleast_1d(np.asarray(temperatures, dtype=float))
    threshold = min([1e-3] + [KB_EV * t for t in temps if t > 0])
    if breaking > threshold and _reporting_process():
        logger.warning(_breaking_message(group, magnetic=moments is not None, reference=reference, breaking=breaking,
                                         threshold="1 meV" if threshold == 1e-3 else "k_B T"))
    return {"symmetry_group": group.name, "symmetry_group_order": group.order,
            "symmetry_breaking_before_eV": breaking}


def _breaking_message(group: SymmetryGroup, *, magnetic: bool, reference: float, breaking: float,
                      threshold: str) -> str:
    """The warning of :func:`measure_breaking`.  Without moments the group is the structure's non-magnetic one
    (time reversal kept), which a magnetic model with spin-orbit coupling breaks by nature: then the advice
    is --magmom, and --symmetrize only for a model that really is non-magnetic (it would remove the magnetism)."""
    figures = (f"bands within 1 eV of mu = {reference:g} eV differ by up to {breaking * 1e3:.3g} meV between "
               f"symmetry-related k-points (more than {threshold})")
    if magnetic:
        return (f"the model breaks its magnetic point group {group.name} ({group.order} operations): {figures}; "
                "symmetry-forbidden tensor components will be finite; consider --symmetrize")
    return (f"without --magmom the crystal is taken as non-magnetic, and the model breaks the point group "
            f"{group.name} ({group.order} operations, time reversal included) of its structure: {figures}. "
            "A magnetic model (magnetisation with spin-orbit coupling) does so by nature: give its moments with "
            "--magmom MX MY MZ to measure (and --symmetrize) under its magnetic group. A non-magnetic model with "
            "this breaking gets finite symmetry-forbidden tensor components: consider --symmetrize")


def _reporting_process() -> bool:
    """False on the MPI ranks other than 0 of COMM_WORLD, when MPI is running (a warning is printed once);
    MPI is never started here (mpi4py is only looked at when already imported and initialised)."""
    import sys

    mpi = sys.modules.get("mpi4py.MPI")
    if mpi is None or not mpi.Is_initialized() or mpi.Is_finalized():
        return True
    return mpi.COMM_WORLD.Get_rank() == 0


def _magmom_text(moments: np.ndarray | None) -> str:
    """The moments per atom as stored in the record (``symmetry_magmom``): numbers, or "none" (non-magnetic)."""
    return "none" if moments is None else " ".join(repr(float(x)) for x in np.ravel(moments))


def symmetrized_group(model: TBModel) -> SymmetryGroup | None:
    """The magnetic group a symmetrized model (:func:`symmetrize_model` via :func:`prepare_symmetry`) was made
    symmetric under, rebuilt from its record (the ``.win`` and ``symmetry_magmom`` in ``model.sources``);
    None for a model that was not symmetrized."""
    from .io.win import read_win_structure

    sources = model.sources
    if "symmetrized" not in sources or "symmetry_magmom" not in sources or not sources.get("win"):
        return None
    structure = read_win_structure(win_file=sources["win"])
    text = str(sources["symmetry_magmom"])
    moments = None if text == "none" else np.array(text.split(), dtype=float).reshape(-1, 3)
    return magnetic_group(structure=structure, magmom=moments)


def _with_sources(model: TBModel, record: dict) -> TBModel:
    """``model`` with the symmetry record in its sources (stored as ``input_<key>`` root attributes)."""
    import dataclasses

    return dataclasses.replace(model, sources=dict(model.sources, **{k: str(v) for k, v in record.items()}))


def prepare_symmetry(model: TBModel, *, symmetrize: bool = False, magmom=None, projections=None, mus=(),
                     temperatures=()) -> TBModel:
    """The model a run integrates: symmetrized (``symmetrize``) or measured for its symmetry breaking.

    With ``symmetrize`` the ``.win`` of the model (``sources["win"]``) must exist and hold the structure;
    without it the breaking is measured and warned about when a ``.win`` with atoms is known, else
    nothing happens.  The record (group, order, breaking before/after) is added to the model's sources.
    """
    win = model.sources.get("win")
    if not symmetrize:
        if magmom is not None and win is None:
            raise InputError("{magmom}: needs the structure from a .win (--win, or SEED.win beside the input)",
                             param="magmom")
        record = measure_breaking(model, win=win, magmom=magmom, mus=mus, temperatures=temperatures)
        return model if record is None else _with_sources(model, record)
    if win is None or not Path(win).is_file():
        raise InputError("{symmetrize}: needs the crystal structure and projections from a .win "
                         "(--win with --hr, or SEED.win beside SEED_tb.dat / SEED.chk)", param="symmetrize")
    sym, record = symmetrize_model(model, win=win, magmom=magmom, mus=mus, projections=projections)
    return _with_sources(sym, record)
