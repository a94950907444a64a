"""Read Wannier90's ``SEED.win`` input: the lattice (``unit_cell_cart``), ``spinors``, the structure.

Keywords are case-insensitive, ``!`` and ``#`` start comments.  Lattices given in ``bohr`` are
converted with Wannier90's own Bohr radius (``bohr_angstrom_internal``, CODATA 2006 in
constants.F90), so that :func:`~wbentropy.io.hr.read_hr` reproduces the lattice Wannier90
writes into ``_tb.dat``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..model import TBModel
from ._text import _check_lattice, _is_number, _parse_rows, _read_lines, _to_float

__all__ = ["W90_BOHR_ANGSTROM", "read_win_lattice", "read_win_spinors", "read_win_structure", "read_win_settings",
           "WinSettings"]

#: Bohr radius in Angstrom as used by Wannier90 3.x to convert ``unit_cell_cart``
#: given in ``bohr`` (constants.F90, default CODATA 2006 block).  Deliberately not
#: taken from scipy.constants (CODATA 2022: 0.529177210544): this is a file-format
#: convention, and matching it reproduces Wannier90's own ``_tb.dat`` lattice.
W90_BOHR_ANGSTROM = 0.52917720859


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


def _write_win(*, model: TBModel, path: str | Path) -> None:
    """A minimal ``.win``: ``num_wann``, ``spinors`` (``.true.`` for a spin degeneracy of 1) and ``unit_cell_cart``."""
    rows = ["".join(f" {x: .16e}" for x in row) for row in model.lattice]
    spinors = ".true." if model.spin_degeneracy == 1 else ".false."
    text = ["! written by wbentropy (lattice and spinors only)", f"num_wann = {model.num_wann}",
            f"spinors = {spinors}", "", "begin unit_cell_cart", "ang", *rows, "end unit_cell_cart"]
    Path(path).write_text("\n".join(text) + "\n")


# ------------------------------------------------------------------ postw90 settings as defaults
@dataclass(frozen=True)
class WinSettings:
    """The postw90 settings of a ``.win`` that map onto wbentropy options (None where absent).

    Attributes
    ----------
    fermi_energy : float or None
        ``fermi_energy`` (eV): the default chemical potential, and E_F for ``--mu-relative``.
    mu_range : (start, stop, step) or None
        ``fermi_energy_min``, ``fermi_energy_max``, ``fermi_energy_step`` (eV).
    kmesh : (N1, N2, N3) or None
        ``berry_kmesh``, else ``berry_kmesh_spacing``, else ``kmesh``, else ``kmesh_spacing``
        (a spacing s in 1/Angstrom gives N_i = max(1, ceil(|b_i|/s)), as postw90).
    omega_range : (start, stop, step) or None
        ``kubo_freq_min``, ``kubo_freq_max``, ``kubo_freq_step`` (eV); postw90's defaults
        (0, the energy window, 0.01) where only some are given.
    smearing : (shape, width) or None
        ``kubo_smr_fixed_en_width`` (eV) with the shape of ``kubo_smr_type`` or ``smr_type``
        (``gauss`` -> "gaussian", ``lorentzian``; other postw90 shapes are refused).
    kmesh_keyword : str or None
        The keyword ``kmesh`` came from.
    lines : dict
        Keyword -> 1-based line, for messages.
    """

    path: str
    fermi_energy: float | None = None
    mu_range: tuple[float, float, float] | None = None
    kmesh: tuple[int, int, int] | None = None
    omega_range: tuple[float, float, float] | None = None
    smearing: tuple[str, float] | None = None
    kmesh_keyword: str | None = None
    lines: dict = field(default_factory=dict)

    def source(self, keyword: str) -> str:
        """``FILE, line N (keyword)`` for provenance and messages."""
        return f"{self.path}, line {self.lines[keyword]} ({keyword})"


_SETTINGS_KEYS = ("fermi_energy", "fermi_energy_min", "fermi_energy_max", "fermi_energy_step", "berry_kmesh",
                  "berry_kmesh_spacing", "kmesh", "kmesh_spacing", "kubo_freq_min", "kubo_freq_max",
                  "kubo_freq_step", "kubo_smr_fixed_en_width", "kubo_smr_type", "smr_type")
_SMEARINGS = {"gauss": "gaussian", "gaussian": "gaussian", "0": "gaussian", "lorentzian": "lorentzian",
              "lorentz": "lorentzian"}


def _keyword_values(win_file: str | Path) -> dict[str, tuple[list[str], int]]:
    """keyword -> (value tokens, line) for the keywords of :data:`_SETTINGS_KEYS` (first occurrence)."""
    path = str(win_file)
    found: dict[str, tuple[list[str], int]] = {}
    for i, line in enumerate(_read_lines(path, lenient_encoding=True)):
        clean = re.split(r"[!#]", line, maxsplit=1)[0].strip()
        m = re.fullmatch(r"([A-Za-z_]+)\s*(?:[=:]\s*|\s+)(.*)", clean)
        if m is None or m.group(1).lower() not in _SETTINGS_KEYS:
            continue
        key = m.group(1).lower()
        if key in found:
            raise InputError(f"{key} is given twice (lines {found[key][1]} and {i + 1})", path=path, line=i + 1)
        found[key] = (m.group(2).replace(",", " ").split(), i + 1)
    return found


def _numbers(found: dict, key: str, *, count: int, path: str, kind=float, positive: bool = False) -> list:
    tokens, line = found[key]
    if len(tokens) not in ((1, count) if count == 3 and kind is int else (count,)):
        raise InputError(f"{key} needs {count} value{'s' if count > 1 else ''}, found {' '.join(tokens) or 'none'}",
                         path=path, line=line)
    try:
        values = [_to_float(t) if kind is float else int(t) for t in tokens]
    except ValueError:
        raise InputError(f"{key} must be {'an integer' if kind is int else 'a number'}, found {' '.join(tokens)}",
                         path=path, line=line) from None
    if any(not np.isfinite(v) for v in values) or (positive and any(v <= 0 for v in values)):
        raise InputError(f"{key} must be {'> 0' if positive else 'finite'}, found {' '.join(tokens)}",
                         path=path, line=line)
    return values * (count if len(values) == 1 else 1)


def _mesh(found: dict, *, path: str, lattice) -> tuple[str, tuple[int, int, int]] | None:
    for key in ("berry_kmesh", "berry_kmesh_spacing", "kmesh", "kmesh_spacing"):
        if key not in found:
            continue
        if key.endswith("_spacing"):
            (spacing,) = _numbers(found, key, count=1, path=path, positive=True)
            b = 2 * np.pi * np.linalg.inv(np.asarray(lattice, dtype=float)).T
            mesh = [max(1, int(np.ceil(np.linalg.norm(bi) / spacing))) for bi in b]
        else:
            mesh = _numbers(found, key, count=3, path=path, kind=int, positive=True)
        return key, tuple(int(n) for n in mesh)
    return None


def read_win_settings(*, win_file: str | Path) -> WinSettings:
    """The postw90 settings of ``SEED.win`` that wbentropy reads as defaults (:class:`WinSettings`).

    Command-line options and API arguments override them.  Keywords are case-insensitive;
    ``=``, ``:`` or blanks separate a keyword from its value; ``!`` and ``#`` start comments.
    Energies are in eV as in Wannier90 (it has no unit choice for them).
    """
    path = str(win_file)
    found = _keyword_values(path)
    lines = {k: v[1] for k, v in found.items()}
    fields: dict = {}
    if "fermi_energy" in found:
        fields["fermi_energy"] = _numbers(found, "fermi_energy", count=1, path=path)[0]
    scan = ("fermi_energy_min", "fermi_energy_max", "fermi_energy_step")
    if any(k in found for k in scan):
        missing = [k for k in scan if k not in found]
        if missing:
            key = next(k for k in scan if k in found)
            raise InputError(f"{key} is given without {' and '.join(missing)}", path=path, line=lines[key])
        lo, hi, step = (_numbers(found, k, count=1, path=path)[0] for k in scan)
        fields["mu_range"] = (lo, hi, step)
    if any(k in found for k in ("berry_kmesh", "berry_kmesh_spacing", "kmesh", "kmesh_spacing")):
        key, mesh = _mesh(found, path=path, lattice=read_win_lattice(win_file=path))
        fields["kmesh"], fields["kmesh_keyword"] = mesh, key
    freq = ("kubo_freq_min", "kubo_freq_max", "kubo_freq_step")
    if any(k in found for k in freq):
        if "kubo_freq_max" not in found:
            key = next(k for k in freq if k in found)
            raise InputError(f"{key} is given without kubo_freq_max (postw90's default depends on the "
                             "disentanglement window, which wbentropy does not read)", path=path, line=lines[key])
        lo = _numbers(found, "kubo_freq_min", count=1, path=path)[0] if "kubo_freq_min" in found else 0.0
        step = _numbers(found, "kubo_freq_step", count=1, path=path, positive=True)[0] \
            if "kubo_freq_step" in found else 0.01
        fields["omega_range"] = (lo, _numbers(found, "kubo_freq_max", count=1, path=path)[0], step)
    if "kubo_smr_fixed_en_width" in found:
        (width,) = _numbers(found, "kubo_smr_fixed_en_width", count=1, path=path, positive=True)
        key = "kubo_smr_type" if "kubo_smr_type" in found else "smr_type" if "smr_type" in found else None
        shape = "gaussian" if key is None else found[key][0][0].lower() if found[key][0] else ""
        if shape not in _SMEARINGS and key is not None:
            raise InputError(f"{key} = {shape} has no wbentropy equivalent (gauss or lorentzian; "
                             "give --smearing)", path=path, line=lines[key])
        fields["smearing"] = (_SMEARINGS.get(shape, shape), width)
    return WinSettings(path=path, lines=lines, **fields)
