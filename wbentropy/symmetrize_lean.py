"""The symmetrization average of the real-space operators, written to use little memory.

WannierBerri's ``System_R.symmetrize`` turns every operator into nested dictionaries of small blocks
(one per R vector and atom pair) and averages those; on an 18-function model that peaks at about
4x the model's arrays.  This module computes the same average from the same group theory
(WannierBerri's :class:`~wannierberri.symmetry.sawf.SymmetrizerSAWF`: the atom maps, the lattice
shifts and the orbital representation matrices of each operation) straight from the model's arrays
into one output array per operator, a slice of R vectors at a time.

For every operation g = {S|t} of the magnetic space group (N operations), atom pair (a, b) and lattice
vector R of the result

    X_sym(R)_{ab} = (1/N) sum_g  D_a(g)^dagger  [S_cart . X(S R + T_a(g) - T_b(g))_{g(a) g(b)}]  D_b(g),

complex-conjugated (times the operator's time-reversal parity) for an antiunitary g, times the
operator's inversion parity (WannierBerri's ``parity_I``, ``parity_TR``) for an improper g; blocks
outside the model's R vectors count as zero, and the result has the R vectors of all the orbits.
The position operator is averaged in convention I (the R = 0 diagonal without the Wannier centres)
and gets the averaged centres (``SymmetrizerSAWF.symmetrize_WCC``) back, as WannierBerri does.
The result equals WannierBerri's ``System_R.symmetrize(..., reorder_back=True)`` to round-off
(``tests/test_symmetrize.py``); the R vectors keep the model's order, new ones follow sorted.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import InputError
from .model import OPERATORS, TBModel

__all__ = ["GroupAction", "group_action", "symmetrize_operators"]

#: bytes of one gathered slice of an operator (bounds the temporaries of the average): at most this, and at
#: most 1/16 of the operator (a few temporaries of a slice stay small beside a small model too)
SLICE_BYTES = 1 << 20
SLICE_FRACTION = 16


@dataclass(frozen=True)
class GroupAction:
    """How the magnetic space group acts on the Wannier functions of a model.

    Attributes
    ----------
    symmetries : list
        irrep's symmetry operations (``rotation`` reduced, ``rotation_cart``, ``inversion``,
        ``time_reversal``).
    blocks : list of dict
        One per block of WannierBerri's symmetrizer: ``start`` (first function, symmetrizer order),
        ``norb``, ``T`` (points, N, 3) lattice shifts, ``atommap`` (points, N), ``D`` (points, N, norb,
        norb) orbital matrices.
    order : (nw,) int array
        The model's index of each function in the symmetrizer's order.
    symmetrizer : SymmetrizerSAWF
        For the Wannier centres (``symmetrize_WCC``).
    """

    symmetries: list
    blocks: list
    order: np.ndarray
    symmetrizer: object


def group_action(*, spacegroup, structure: dict, projections: list[str]) -> GroupAction:
    """The :class:`GroupAction` of WannierBerri's symmetrizer for ``projections`` on ``structure``'s atoms,
    the Wannier functions ordered as ``System_R.symmetrize`` orders them (atoms of one Wyckoff orbit grouped)."""
    from wannierberri.symmetry.projections import Projection
    from wannierberri.symmetry.sawf import SymmetrizerSAWF
    from wannierberri.symmetry.wyckoff_position import split_into_orbits

    positions = np.asarray(structure["positions"], dtype=float)
    names = list(structure["atom_names"])
    projection_list, order = [], []
    for text in projections:
        atom, orbital = (s.strip() for s in text.split(":"))
        pos = np.array([positions[i] for i, name in enumerate(names) if name == atom])
        start = len(order)
        for suborbit in split_into_orbits(pos, spacegroup=spacegroup):
            proj = Projection(position_num=pos[suborbit], orbital=orbital, spacegroup=spacegroup,
                              do_not_split_projections=True, rotate_basis=False)
            projection_list.append(proj)
            n = proj.num_wann_per_site
            order += [start + i * n + j for i in suborbit for j in range(n)]
    symmetrizer = SymmetrizerSAWF.from_spacegroup_and_projections(spacegroup=spacegroup, projections=projection_list)
    blocks = [{"start": int(ws), "norb": int(D.shape[-1]), "T": np.asarray(T, dtype=int),
               "atommap": np.asarray(amap, dtype=int), "D": np.asarray(D)}
              for (ws, _), T, amap, D in zip(symmetrizer.D_wann_block_indices, symmetrizer.T_list,
                                             symmetrizer.atommap_list, symmetrizer.rot_orb_list)]
    return GroupAction(symmetries=list(spacegroup.symmetries), blocks=blocks, order=np.array(order, dtype=int),
                       symmetrizer=symmetrizer)


class _RTable:
    """Index of integer lattice vectors in a list (-1 where absent), by a dense table over their box."""

    def __init__(self, R: np.ndarray):
        self.lo = R.min(axis=0)
        self.table = np.full(tuple(R.max(axis=0) - self.lo + 1), -1, dtype=np.int64)
        self.table[tuple((R - self.lo).T)] = np.arange(len(R))

    def __call__(self, vectors: np.ndarray) -> np.ndarray:
        shifted = vectors - self.lo
        inside = np.all((shifted >= 0) & (shifted < self.table.shape), axis=1)
        out = np.full(len(vectors), -1, dtype=np.int64)
        out[inside] = self.table[tuple(shifted[inside].T)]
        return out


def _shifts(action: GroupAction, isym: int) -> np.ndarray:
    """The distinct T_a(g) - T_b(g) of operation ``isym`` over all atom pairs of all block pairs."""
    T = np.concatenate([b["T"][:, isym] for b in action.blocks])
    return np.unique((T[:, None, :] - T[None, :, :]).reshape(-1, 3), axis=0)


def orbit_vectors(R: np.ndarray, action: GroupAction) -> np.ndarray:
    """The model's R vectors followed (sorted) by the new ones their images S R + T_a - T_b reach."""
    known, table, extra = R, _RTable(R), []
    for isym, symop in enumerate(action.symmetries):
        SR = R @ np.rint(symop.rotation).astype(int).T
        for shift in _shifts(action, isym):
            images = SR + shift
            new = images[table(images) < 0]
            if len(new):
                extra.append(np.unique(new, axis=0))
                known = np.concatenate([R, np.unique(np.concatenate(extra), axis=0)])
                table = _RTable(known)
    return known


def _parities(key: str) -> tuple[int, int, int]:
    """(number of Cartesian indices, inversion parity, time-reversal parity) of WannierBerri's matrix ``key``."""
    from wannierberri.symmetry.sym_wann_2 import parity_I, parity_TR
    from wannierberri.system.system import num_cart_dim

    if key not in parity_I or key not in parity_TR:
        raise InputError(f"the symmetrization of the operator {key} is not implemented (WannierBerri knows "
                         f"{', '.join(sorted(parity_I))})")
    return num_cart_dim(key), parity_I[key], parity_TR[key]


def _rotated(G: np.ndarray, symop, parities: tuple[int, int, int], left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """One term of the average: ``left . (S_cart X) . right`` on a gathered slice G (n, n1, n2, 3...)."""
    n_cart, p_inv, p_tr = parities
    rotation = np.asarray(symop.rotation_cart, dtype=complex)
    for _ in range(n_cart):  # each product rotates the first Cartesian index and moves it last (as tensordot)
        G = np.moveaxis(G, 3, -1) @ rotation
    if symop.inversion and p_inv * (-1) ** n_cart != 1:
        G = -G
    G = np.moveaxis(left @ np.moveaxis(G, (1, 2), (-2, -1)) @ right, (-2, -1), (1, 2))
    if symop.time_reversal:
        np.conjugate(G, out=G)
        if p_tr != 1:
            G *= p_tr
    return G


def _terms(action: GroupAction):
    """Every (operation, block pair, atom pair) of the average: (symop, S, target rows, target columns, source rows,
    source columns, D_a^dagger, D_b, T_a - T_b, same atom and block), the rows and columns as the model's indices."""
    p = action.order
    for isym, symop in enumerate(action.symmetries):
        S = np.rint(symop.rotation).astype(int)
        for b1 in action.blocks:
            for b2 in action.blocks:
                n1, n2 = b1["norb"], b2["norb"]
                for a, b in np.ndindex(len(b1["T"]), len(b2["T"])):
                    ga, gb = b1["atommap"][a, isym], b2["atommap"][b, isym]
                    yield (symop, S, p[b1["start"] + a * n1 + np.arange(n1)], p[b2["start"] + b * n2 + np.arange(n2)],
                           p[b1["start"] + ga * n1 + np.arange(n1)], p[b2["start"] + gb * n2 + np.arange(n2)],
                           b1["D"][a, isym].conj().T, b2["D"][b, isym], b1["T"][a, isym] - b2["T"][b, isym],
                           b1 is b2 and ga == gb)


def _accumulate(out: np.ndarray, X: np.ndarray, *, key: str, R_out: np.ndarray, table: _RTable,
                action: GroupAction, centres: np.ndarray | None, i0: int) -> None:
    """out += the sum over operations, block and atom pairs of the rotated blocks of X (not yet divided by N),
    a slice of R vectors (at most :data:`SLICE_BYTES` of X) at a time."""
    parities = _parities(key)
    budget = min(SLICE_BYTES, X.nbytes // SLICE_FRACTION)
    for symop, S, rows, cols, src_rows, src_cols, left, right, shift, same in _terms(action):
        step = max(1, budget // (len(rows) * len(cols) * X[0, 0, 0].size * 16))
        for lo in range(0, len(R_out), step):
            target = np.arange(lo, min(lo + step, len(R_out)))
            source = table(R_out[target] @ S.T + shift)
            target, source = target[source >= 0], source[source >= 0]
            G = X[np.ix_(source, src_rows, src_cols)]
            if centres is not None and same and np.any(source == i0):  # convention I: no centres on R = 0
                k = int(np.flatnonzero(source == i0)[0])
                G[k, np.arange(len(rows)), np.arange(len(rows))] -= centres[src_rows]
            out[np.ix_(target, rows, cols)] += _rotated(G, symop, parities, left, right)


def symmetrize_operators(model: TBModel, action: GroupAction) -> TBModel:
    """Every operator of ``model``'s store averaged over the group (module docstring); a new model.

    Memory: the result's arrays plus slices of :data:`SLICE_BYTES`; the model's arrays are read, never
    copied.
    """
    if len(action.order) != model.num_wann:
        raise InputError(f"the projections give {len(action.order)} Wannier functions, the model has "
                         f"{model.num_wann}")
    R = np.asarray(model.R, dtype=int)
    R_out = orbit_vectors(R, action)
    table, i0 = _RTable(R), model.index_of_R((0, 0, 0))
    n_ops = len(action.symmetries)
    operators = {}
    for name, X in model.operators.items():
        spec = OPERATORS.get(name)
        if spec is not None and spec.origin_dependent and not spec.position:
            raise InputError(f"the operator {name} depends on the position origin: its symmetrization is not "
                             "implemented")
        position = spec is not None and spec.position
        out = np.zeros((len(R_out),) + X.shape[1:], dtype=complex)
        key = spec.wannierberri if spec is not None else name
        _accumulate(out, X, key=key, R_out=R_out, table=table, action=action,
                    centres=model.centres if position else None, i0=i0)
        out /= n_ops
        if position:
            p = action.order
            wcc = action.symmetrizer.symmetrize_WCC(model.centres[p])
            j0 = int(np.flatnonzero(np.all(R_out == 0, axis=1))[0])
            out[j0, p, p, :] += wcc
        operators[name] = out
    return TBModel(lattice=model.lattice, R=R_out, operators=operators, name=model.name, sources=dict(model.sources),
                   spin_degeneracy=model.spin_degeneracy, spin_degeneracy_source=model.spin_degeneracy_source)
